//! Man pages and the generated commands reference, from the command tree.
//!
//! Both walk the same fully built clap tree ([`full_tree`]), so every command
//! that `ant --help` knows (API operations and any extra commands) gets a man
//! page and a reference entry, with the help text the tree gives it.

mod man;
mod markdown;

use std::path::{Path, PathBuf};

use clap::Command;

use super::tree;
use crate::error::{Error, Result};

/// Builds the subcommands along `path` (`[group]` or `[group, verb]`) the way
/// a real parse does, so deferred commands get their flags and bin names.
pub fn build_path(root: &mut Command, path: &[&str]) {
    let mut argv = vec!["ant"];
    argv.extend_from_slice(path);
    // The parse fails (missing verb or required flags) after building.
    let _ = root.try_get_matches_from_mut(argv);
}

/// The root command with one group and (optionally) one verb built.
pub fn built_path(path: &[&str]) -> Command {
    let mut root = tree::root();
    build_path(&mut root, path);
    root
}

/// The root command with every group and verb built.
pub fn full_tree() -> Command {
    let mut root = tree::root();
    let groups: Vec<String> = visible_subcommands(&root)
        .map(|c| c.get_name().to_string())
        .collect();
    for g in &groups {
        build_path(&mut root, &[g]);
        let verbs: Vec<String> = root
            .find_subcommand(g)
            .map(|gc| {
                visible_subcommands(gc)
                    .map(|c| c.get_name().to_string())
                    .collect()
            })
            .unwrap_or_default();
        for v in &verbs {
            build_path(&mut root, &[g, v]);
        }
    }
    root
}

/// Subcommands that are not hidden (nor clap's own `help`).
pub fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

/// The groups of the tree in alphabetical order, for the docs.
pub fn sorted_groups(root: &Command) -> Vec<&Command> {
    let mut groups: Vec<&Command> = visible_subcommands(root).collect();
    groups.sort_by_key(|g| g.get_name());
    groups
}

/// A file-name-safe form of a command path: `ant beta:agents create` ->
/// `ant-beta-agents-create`.
pub fn page_name(words: &[&str]) -> String {
    words.join("-").replace(':', "-")
}

/// What one flag (or positional) of a command takes, for the docs.
pub struct FlagDoc {
    /// `--name <STRING>`, `-r, --raw-output`, `[AGENT_ID]`.
    pub usage: String,
    /// `string`, `one of: asc, desc`, `file path`, `flag`...
    pub takes: String,
    pub required: bool,
    pub repeatable: bool,
    pub help: String,
    pub inner: bool,
    pub global: bool,
    pub positional: bool,
    /// A required ID flag that the positional argument can fill instead.
    pub or_positional: bool,
}

/// The operation behind a built verb command (`ant <group> <verb>`).
pub fn operation_of(group: &str, verb: &str) -> Option<&'static crate::api::Operation> {
    crate::api::Operation::find(group, verb)
}

/// Docs for the visible arguments of `cmd`, in declaration order. `op`
/// supplies types, allowed values and required marks for API parameters.
pub fn flag_docs(cmd: &Command, op: Option<&'static crate::api::Operation>) -> Vec<FlagDoc> {
    use crate::api::types;
    let mut out = Vec::new();
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let id = a.get_id().as_str();
        if id == "help" || id == "version" {
            continue;
        }
        let value_name = a
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string())
            .unwrap_or_else(|| "VALUE".into());
        let takes_values = a.get_action().takes_values();
        let bool_like = takes_values && a.is_require_equals_set();
        let usage = if a.is_positional() && a.is_required_set() {
            value_name.clone()
        } else if a.is_positional() {
            format!("[{value_name}]")
        } else {
            let mut u = String::new();
            if let Some(s) = a.get_short() {
                u.push_str(&format!("-{s}, "));
            }
            u.push_str(&format!("--{}", a.get_long().unwrap_or(id)));
            if bool_like {
                u.push_str("[=true|false]");
            } else if takes_values {
                u.push_str(&format!(" <{value_name}>"));
            }
            u
        };
        let param = op.and_then(|o| o.params.iter().find(|p| p.flag == id));
        let inner = op.and_then(|o| {
            let (outer, field) = id.split_once('.')?;
            let p = o.params.iter().find(|p| p.flag == outer)?;
            p.inner.iter().find(|i| i.flag == field)
        });
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        let (takes, required, repeatable) = if let Some(p) = param {
            let t = if p.repeated { p.item_types } else { p.types };
            let mut takes = if p.file {
                "file path".to_string()
            } else if !p.enum_values.is_empty() {
                format!("one of: {}", p.enum_values.join(", "))
            } else {
                types::describe(t & !types::NULL)
            };
            if !p.file && t & (types::OBJECT | types::ARRAY) != 0 {
                takes.push_str(" (YAML/JSON)");
            }
            if p.types & types::NULL != 0 && !p.repeated {
                takes.push_str(", or null");
            }
            (takes, p.required, p.repeated)
        } else if let Some(i) = inner {
            let takes = if i.enum_values.is_empty() {
                types::describe(i.types & !types::NULL)
            } else {
                format!("one of: {}", i.enum_values.join(", "))
            };
            (takes, false, false)
        } else {
            let pv: Vec<String> = a
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            let takes = if !takes_values {
                "flag".to_string()
            } else if bool_like {
                "boolean".to_string()
            } else if !pv.is_empty() {
                format!("one of: {}", pv.join(", "))
            } else {
                match (id, value_name.as_str()) {
                    ("format" | "format-error", _) => {
                        "one of: auto, json, jsonl, yaml, pretty, raw".to_string()
                    }
                    ("timeout", _) => "number (seconds)".to_string(),
                    (_, "N") => "integer".to_string(),
                    (_, "PATH") if !a.is_positional() => "file path".to_string(),
                    (_, "YAML") => "YAML/JSON value".to_string(),
                    (_, v) if v.ends_with("_ID") => v.to_lowercase().replace('_', " "),
                    _ => "string".to_string(),
                }
            };
            let repeatable = matches!(a.get_action(), clap::ArgAction::Append);
            (takes, a.is_required_set(), repeatable && !a.is_positional())
        };
        out.push(FlagDoc {
            usage,
            takes,
            required,
            repeatable,
            help,
            inner: inner.is_some() || a.get_help_heading() == Some("Inner flags"),
            global: a.is_global_set(),
            positional: a.is_positional(),
            or_positional: param.is_some_and(|p| {
                op.and_then(|o| o.last_path_param())
                    .is_some_and(|last| std::ptr::eq(last, p))
            }),
        });
    }
    out
}

/// The request an operation sends, for the docs: `POST /v1/agents?beta=true`.
pub fn wire_line(op: &crate::api::Operation) -> String {
    let mut s = format!("{} {}", op.method, op.path);
    if op.beta {
        s.push_str("?beta=true");
    }
    s
}

/// Environment variables `ant` reads, with what they do.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("ANTHROPIC_API_KEY", "API key (same as --api-key)"),
    (
        "ANTHROPIC_AUTH_TOKEN",
        "Bearer token (same as --auth-token)",
    ),
    ("ANTHROPIC_BASE_URL", "API base URL (same as --base-url)"),
    (
        "ANTHROPIC_WORKSPACE_ID",
        "workspace sent as anthropic-workspace-id (same as --workspace-id)",
    ),
    ("ANTHROPIC_PROFILE", "profile to use (same as --profile)"),
    (
        "ANTHROPIC_CONFIG_DIR",
        "config directory (default $XDG_CONFIG_HOME/anthropic or ~/.config/anthropic)",
    ),
    (
        "NO_COLOR, FORCE_COLOR",
        "turn colour off, or force it on when not on a terminal",
    ),
    (
        "XDG_CACHE_HOME",
        "where shell completion caches listed IDs for a few seconds (ant/ under it; default ~/.cache)",
    ),
];

/// Parses `[-o DIR]` (also `--output DIR`, `-oDIR`, `--output=DIR`).
fn out_dir(args: &[String], default: &str, what: &str) -> Result<PathBuf> {
    let mut dir = PathBuf::from(default);
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "-o" || a == "--output" {
            let v = args
                .get(i + 1)
                .ok_or_else(|| Error::usage(format!("{a} needs a directory")))?;
            dir = PathBuf::from(v);
            i += 2;
            continue;
        }
        if let Some(v) = a.strip_prefix("--output=").or_else(|| a.strip_prefix("-o")) {
            dir = PathBuf::from(v);
        } else if a == "-h" || a == "--help" {
            println!("Usage: ant {what} [-o DIR]   (default DIR: {default})");
            std::process::exit(0);
        } else {
            return Err(Error::usage(format!(
                "unexpected argument '{a}'; usage: ant {what} [-o DIR]"
            )));
        }
        i += 1;
    }
    Ok(dir)
}

/// Writes `files` (name, content) into `dir`, and removes files there that
/// `is_ours` claims but that are no longer generated (a command went away).
/// Whether the file at `path` was written by `ant @manpages` / `ant @docs`
/// (its first line carries the "Generated by `ant @" banner).
fn generated_by_ant(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.lines().next().map(|l| l.contains("Generated by `ant @")))
        .unwrap_or(false)
}

/// Writes the generated files into `dir` and removes earlier generated
/// files that are gone from the tree. Files ant did not generate are never
/// removed or overwritten.
fn write_all(dir: &Path, files: &[(String, String)], is_ours: impl Fn(&str) -> bool) -> Result<()> {
    let io = |e: std::io::Error, p: &Path| Error::Io(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(e, dir))?;
    for (name, _) in files {
        let path = dir.join(name);
        if path.exists() && !generated_by_ant(&path) {
            return Err(Error::usage(format!(
                "refusing to overwrite {}: it was not generated by ant (choose another -o directory)",
                path.display()
            )));
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_ours(&name)
                && !files.iter().any(|(n, _)| *n == name)
                && generated_by_ant(&entry.path())
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    for (name, text) in files {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).map_err(|e| io(e, &path))?;
        }
    }
    Ok(())
}

/// `ant @manpages [-o DIR]`: writes man pages for ant and every command
/// into `DIR/man1` (default `DIR`: `man`).
pub fn manpages(args: &[String]) -> Result<()> {
    let dir = out_dir(args, "man", "@manpages")?.join("man1");
    let pages = man::pages(&full_tree());
    write_all(&dir, &pages, |n| {
        (n == "ant.1" || n.starts_with("ant-")) && n.ends_with(".1")
    })?;
    eprintln!("wrote {} man pages to {}", pages.len(), dir.display());
    Ok(())
}

/// `ant @docs [-o DIR]`: writes the commands reference, one markdown page
/// per resource group plus an index (default `DIR`: `docs/commands`).
pub fn reference(args: &[String]) -> Result<()> {
    let dir = out_dir(args, "docs/commands", "@docs")?;
    let pages = markdown::pages(&full_tree());
    write_all(&dir, &pages, |n| n.ends_with(".md"))?;
    eprintln!("wrote {} pages to {}", pages.len(), dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Arg;

    fn check_arg(path: &str, a: &Arg, missing: &mut Vec<String>) {
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        if help.trim().is_empty() {
            missing.push(format!("{path}: {} has no help", a.get_id()));
        }
        let takes = a.get_action().takes_values();
        if takes && a.get_value_names().is_none_or(|v| v.is_empty()) && !a.is_positional() {
            missing.push(format!("{path}: --{} does not name its value", a.get_id()));
        }
    }

    /// Every command and every flag of the whole tree says what it is for
    /// and what it takes.
    #[test]
    fn every_command_and_flag_has_help() {
        let tree = full_tree();
        let mut missing = Vec::new();
        let mut verbs = 0;
        fn walk(cmd: &Command, path: &str, missing: &mut Vec<String>, verbs: &mut usize) {
            let about = cmd.get_about().map(|h| h.to_string()).unwrap_or_default();
            if about.trim().is_empty() {
                missing.push(format!("{path}: command has no description"));
            }
            for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                check_arg(path, a, missing);
            }
            if cmd.get_subcommands().next().is_none() {
                *verbs += 1;
            }
            for sub in visible_subcommands(cmd) {
                walk(sub, &format!("{path} {}", sub.get_name()), missing, verbs);
            }
        }
        walk(&tree, "ant", &mut missing, &mut verbs);
        assert!(missing.is_empty(), "help missing:\n{}", missing.join("\n"));
        assert!(
            verbs >= crate::api::OPERATIONS.len(),
            "only {verbs} verbs built"
        );
    }

    /// The tree built for docs has the flags of every operation.
    #[test]
    fn full_tree_builds_every_verb() {
        let tree = full_tree();
        for op in crate::api::OPERATIONS {
            let verb = tree
                .find_subcommand(op.group)
                .and_then(|g| g.find_subcommand(op.verb))
                .unwrap_or_else(|| panic!("{} missing", op.name()));
            for p in op.params {
                assert!(
                    verb.get_arguments().any(|a| a.get_id() == p.flag),
                    "{} --{} missing",
                    op.name(),
                    p.flag
                );
            }
        }
    }

    #[test]
    fn page_names_are_unique() {
        let tree = full_tree();
        let mut names = std::collections::HashSet::new();
        for g in visible_subcommands(&tree) {
            assert!(names.insert(page_name(&["ant", g.get_name()])));
            for v in visible_subcommands(g) {
                assert!(names.insert(page_name(&["ant", g.get_name(), v.get_name()])));
            }
        }
    }
}

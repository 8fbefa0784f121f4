//! Shell completion: scripts for each shell and the `__complete` back-end.
//!
//! The protocol is the official CLI's: a script runs
//! `COMPLETION_STYLE=<shell> ant __complete <words...>` with the words of the
//! command line after `ant`, the last being the word under the cursor (maybe
//! empty). `ant` prints one candidate per line and exits with
//! - 0: the candidates (`value` for bash, `value:description` with `:`
//!   escaped for zsh, `value<TAB>description` for the others);
//! - 10: complete file paths; the one line printed is a prefix to keep (`@`,
//!   `@file://`, `--output=`...) in front of the path being completed;
//! - 11: nothing to complete (a free-form value).
//!
//! The binary is the single source of truth: groups, verbs, flags with their
//! help, `--format` values, every enum of the endpoint table, booleans, and
//! IDs listed from the API ([`dynamic`]) all come from here.

mod dynamic;
mod line;
mod scripts;

use clap::Command;

use super::docs;
use crate::api::{Operation, Param, types};

use line::{Line, dequote, find_arg, parse_line};
pub use scripts::{SHELLS, Shell, script_text};

/// Exit code: complete file paths.
pub const FILES: i32 = 10;
/// Exit code: nothing to complete.
pub const NOTHING: i32 = 11;

/// How candidates are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Bash,
    Zsh,
    Fish,
    Pwsh,
    Elvish,
    Nushell,
}

impl Style {
    fn from_env() -> Option<Style> {
        Some(match std::env::var("COMPLETION_STYLE").ok()?.as_str() {
            "bash" => Style::Bash,
            "zsh" => Style::Zsh,
            "fish" => Style::Fish,
            "pwsh" | "powershell" => Style::Pwsh,
            "elvish" => Style::Elvish,
            "nushell" | "nu" => Style::Nushell,
            _ => return None,
        })
    }
}

/// One completion candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cand {
    pub value: String,
    pub desc: String,
}

impl Cand {
    fn new(value: impl Into<String>, desc: impl Into<String>) -> Cand {
        Cand {
            value: value.into(),
            desc: desc.into(),
        }
    }
}

/// What to offer for the word under the cursor.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Cands(Vec<Cand>),
    /// File paths, after this literal prefix of the word.
    Files(String),
    Nothing,
}

/// `ant __complete <words...>`: candidates for the last word.
pub fn complete(words: &[String]) -> crate::error::Result<()> {
    use std::io::Write;
    let style = Style::from_env().unwrap_or(Style::Fish);
    let outcome = outcome(words, style);
    let mut text = String::new();
    let code = match outcome {
        Outcome::Cands(c) if !c.is_empty() => {
            for cand in c {
                text.push_str(&format_cand(&cand, style));
                text.push('\n');
            }
            0
        }
        Outcome::Files(prefix) if style == Style::Nushell => {
            let cur = words.last().map(String::as_str).unwrap_or("");
            for cand in list_files(&prefix, cur.strip_prefix(&*prefix).unwrap_or("")) {
                text.push_str(&format_cand(&cand, style));
                text.push('\n');
            }
            0
        }
        Outcome::Files(prefix) => {
            text.push_str(&prefix);
            text.push('\n');
            FILES
        }
        _ => NOTHING,
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    std::process::exit(code);
}

/// `ant @completion <shell>`: prints the completion script.
pub fn script(args: &[String]) -> crate::error::Result<()> {
    let names: Vec<&str> = SHELLS.iter().map(|s| s.name).collect();
    let usage = || {
        crate::error::Error::usage(format!(
            "usage: ant @completion <shell>, one of: {}",
            names.join(", ")
        ))
    };
    let [shell] = args else {
        return Err(usage());
    };
    let Some(text) = script_text(shell) else {
        return Err(usage());
    };
    print!("{text}");
    Ok(())
}

/// One line of output for a candidate.
fn format_cand(c: &Cand, style: Style) -> String {
    let desc = one_line(&c.desc);
    match style {
        Style::Zsh => {
            let v = c.value.replace('\\', "\\\\").replace(':', "\\:");
            if desc.is_empty() {
                v
            } else {
                format!("{v}:{desc}")
            }
        }
        _ if desc.is_empty() => c.value.clone(),
        _ => format!("{}\t{desc}", c.value),
    }
}

/// A description on one short line.
fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 100 {
        let cut: String = s.chars().take(99).collect();
        format!("{}…", cut.trim_end())
    } else {
        s
    }
}

/// Candidates for the last of `words` (the words after `ant`).
pub fn outcome(words: &[String], style: Style) -> Outcome {
    let (cur, prev) = match words.split_last() {
        Some((c, p)) => (dequote(c), p),
        None => (String::new(), &[][..]),
    };
    if matches!(
        prev.first().map(String::as_str),
        Some("@completion" | "completion")
    ) {
        if prev.len() > 1 {
            return Outcome::Nothing;
        }
        let c = SHELLS
            .iter()
            .map(|s| Cand::new(s.name, format!("print the {} completion script", s.title)));
        return filter(c.collect(), &cur, style);
    }
    if matches!(
        prev.first().map(String::as_str),
        Some("@manpages" | "@docs")
    ) {
        return Outcome::Files(String::new());
    }
    let mut line = parse_line(prev);
    if cur.starts_with('-') && line.group.is_none() {
        // The root's flags include those clap adds when building it.
        docs::build_path(&mut line.root, &[]);
    }
    let ctx = Ctx { line: &line, style };
    if let Some(flag) = &line.pending {
        return ctx.flag_value(flag, "", &cur);
    }
    if !line.after_dashes {
        if let Some(body) = cur.strip_prefix("--")
            && let Some((name, value)) = body.split_once('=')
        {
            return ctx.flag_value(name, &format!("--{name}="), value);
        }
        if cur.starts_with('-') {
            return filter(ctx.flags(&cur), &cur, style);
        }
    }
    ctx.word(&cur)
}

fn filter(cands: Vec<Cand>, cur: &str, style: Style) -> Outcome {
    let lower = cur.to_lowercase();
    let keep: Vec<Cand> = cands
        .into_iter()
        .filter(|c| {
            if style == Style::Bash {
                c.value.starts_with(cur)
            } else {
                c.value.to_lowercase().starts_with(&lower)
            }
        })
        .collect();
    if keep.is_empty() {
        Outcome::Nothing
    } else {
        Outcome::Cands(keep)
    }
}

/// What kind of value a flag takes.
enum Kind {
    Files,
    Values(Vec<Cand>),
    Id(String),
    Free,
}

struct Ctx<'a> {
    line: &'a Line,
    style: Style,
}

impl Ctx<'_> {
    /// The API parameter behind flag `name` of the current operation.
    fn param(&self, name: &str) -> Option<&'static Param> {
        self.line.op()?.params.iter().find(|p| p.flag == name)
    }

    fn kind(&self, name: &str) -> Kind {
        let bool_cands = || Kind::Values(vec![Cand::new("true", "yes"), Cand::new("false", "no")]);
        let enum_cands =
            |vals: &[&str]| Kind::Values(vals.iter().map(|v| Cand::new(*v, "")).collect());
        if let Some(p) = self.param(name) {
            let t = if p.repeated { p.item_types } else { p.types };
            if p.file {
                return Kind::Files;
            }
            if t & !types::NULL == types::BOOLEAN {
                return bool_cands();
            }
            if !p.enum_values.is_empty() {
                return enum_cands(p.enum_values);
            }
            return match id_key(p.flag) {
                Some(k) => Kind::Id(k),
                None => Kind::Free,
            };
        }
        if let Some((outer, field)) = name.split_once('.')
            && let Some(i) = self
                .param(outer)
                .and_then(|p| p.inner.iter().find(|i| i.flag == field))
        {
            if i.types & !types::NULL == types::BOOLEAN {
                return bool_cands();
            }
            if !i.enum_values.is_empty() {
                return enum_cands(i.enum_values);
            }
            return Kind::Free;
        }
        match name {
            "format" | "format-error" => {
                return Kind::Values(FORMATS.iter().map(|(v, d)| Cand::new(*v, *d)).collect());
            }
            "profile" => return Kind::Values(profiles()),
            _ => {}
        }
        let Some(arg) = find_arg(self.line.cmd(), Some(name), None) else {
            return Kind::Free;
        };
        if matches!(
            arg.get_value_hint(),
            clap::ValueHint::FilePath | clap::ValueHint::AnyPath | clap::ValueHint::DirPath
        ) || name.ends_with("-file")
        {
            return Kind::Files;
        }
        if arg.is_require_equals_set() {
            return bool_cands();
        }
        let pv: Vec<Cand> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| {
                Cand::new(
                    v.get_name(),
                    v.get_help().map(|h| h.to_string()).unwrap_or_default(),
                )
            })
            .collect();
        if !pv.is_empty() {
            return Kind::Values(pv);
        }
        match id_key(name) {
            Some(k) => Kind::Id(k),
            None => Kind::Free,
        }
    }

    /// The value of flag `name`; `prefix` goes in front of every candidate.
    fn flag_value(&self, name: &str, prefix: &str, value: &str) -> Outcome {
        if let Some(at) = at_file_prefix(value) {
            return Outcome::Files(format!("{prefix}{at}"));
        }
        let cands = match self.kind(name) {
            Kind::Files => return Outcome::Files(prefix.to_string()),
            Kind::Values(c) => c,
            Kind::Id(key) => self.ids(&key),
            Kind::Free => return Outcome::Nothing,
        };
        let cands = cands
            .into_iter()
            .map(|c| Cand::new(format!("{prefix}{}", c.value), c.desc))
            .collect();
        filter(cands, &format!("{prefix}{value}"), self.style)
    }

    /// IDs from the API for `key` (`agent_id`...), filled in from the line.
    fn ids(&self, key: &str) -> Vec<Cand> {
        let beta = self
            .line
            .group
            .as_deref()
            .is_none_or(|g| g.starts_with("beta:"));
        let Some(list) = dynamic::list_op_for(key, beta) else {
            return Vec::new();
        };
        // The list's own path parameters (a session for its threads...).
        let mut path = Vec::new();
        for p in list.path_params() {
            let from_positional = self
                .line
                .op()
                .and_then(Operation::last_path_param)
                .filter(|lp| lp.name == p.name)
                .and_then(|_| self.line.positionals.first().cloned());
            match self
                .line
                .value_of(p.flag)
                .map(String::from)
                .or(from_positional)
            {
                Some(v) => path.push((p, v)),
                None => return Vec::new(),
            }
        }
        dynamic::ids(list, key, &path, &self.globals())
    }

    /// Credentials, base URL, profile and workspace named on the line.
    fn globals(&self) -> Vec<(String, String)> {
        [
            "api-key",
            "admin-key",
            "auth-token",
            "base-url",
            "profile",
            "workspace-id",
        ]
        .iter()
        .filter_map(|n| {
            self.line
                .value_of(n)
                .map(|v| (n.to_string(), v.to_string()))
        })
        .collect()
    }

    /// Flag names of the current command, with their help.
    fn flags(&self, cur: &str) -> Vec<Cand> {
        let cmd = self.line.cmd();
        let op = self.line.op();
        let show_inner = cur.contains('.');
        let mut own = Vec::new();
        let mut global = Vec::new();
        for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let Some(long) = a.get_long() else { continue };
            let is_inner = long.contains('.');
            if is_inner != show_inner {
                continue;
            }
            let used = self.line.flags.iter().any(|f| f.name == long);
            let repeatable = match op.and_then(|o| o.params.iter().find(|p| p.flag == long)) {
                Some(p) => p.repeated || !p.inner.is_empty(),
                None => matches!(a.get_action(), clap::ArgAction::Append) || is_inner,
            };
            if used && !repeatable {
                continue;
            }
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            let cand = Cand::new(format!("--{long}"), help);
            if a.is_global_set() {
                global.push(cand);
            } else {
                own.push(cand);
            }
        }
        own.extend(global);
        own
    }

    /// A word that is not a flag: group, verb or positional ID.
    fn word(&self, cur: &str) -> Outcome {
        let line = self.line;
        let style = self.style;
        let about = |c: &Command| c.get_about().map(|a| a.to_string()).unwrap_or_default();
        if line.unknown || (line.after_dashes && line.verb.is_none()) {
            return Outcome::Nothing;
        }
        let Some(group) = line
            .group
            .as_deref()
            .and_then(|g| line.root.find_subcommand(g))
        else {
            let mut groups: Vec<Cand> = docs::visible_subcommands(&line.root)
                .map(|g| Cand::new(g.get_name(), about(g)))
                .collect();
            // Shell completion and man pages, beside the groups.
            for (_, c) in super::help::extra_commands() {
                groups.push(Cand::new(c.get_name(), about(&c)));
            }
            groups.sort_by(|a, b| a.value.cmp(&b.value));
            return filter(groups, cur, style);
        };
        if group.get_name() == super::api::NAME {
            if !line.positionals.is_empty() {
                return Outcome::Nothing;
            }
            let paths = crate::api_cmd::paths::candidates(cur)
                .into_iter()
                .map(|(p, d)| Cand::new(p, d))
                .collect();
            return filter(paths, cur, style);
        }
        let Some(verb) = line.verb.as_deref().and_then(|v| group.find_subcommand(v)) else {
            let verbs = docs::visible_subcommands(group)
                .map(|v| Cand::new(v.get_name(), about(v)))
                .collect();
            return filter(verbs, cur, style);
        };
        // The positional ID, when the command takes one and it is not set.
        let positional = verb.get_arguments().find(|a| a.is_positional());
        if let Some(pos) = positional
            && line.positionals.is_empty()
        {
            let key = pos
                .get_value_names()
                .and_then(|v| v.first())
                .map(|v| v.to_lowercase())
                .unwrap_or_default();
            let flag_set = line
                .op()
                .and_then(Operation::last_path_param)
                .is_some_and(|p| line.value_of(p.flag).is_some());
            if !flag_set && dynamic::list_op_for(&key, true).is_some() {
                let ids = self.ids(&key);
                if !ids.is_empty() {
                    return filter(ids, cur, style);
                }
            }
        }
        if cur.is_empty() && !line.after_dashes {
            return filter(self.flags(cur), cur, style);
        }
        Outcome::Nothing
    }
}

/// The `@`, `@file://` or `@data://` start of a value naming a file (also
/// inside a longer value, `'text @file://x'`), up to where the path begins.
fn at_file_prefix(value: &str) -> Option<String> {
    let at = value.rfind('@')?;
    if at > 0 && value.as_bytes()[at - 1] == b'\\' {
        return None;
    }
    let rest = &value[at + 1..];
    if rest.contains(char::is_whitespace) {
        return None;
    }
    for scheme in ["file://", "data://"] {
        if rest.starts_with(scheme) {
            return Some(value[..at + 1 + scheme.len()].to_string());
        }
    }
    Some(value[..=at].to_string())
}

/// The API name of the ID a flag takes: `--agent-id`/`--agent` ->
/// `agent_id`, `--model` -> `model_id`.
fn id_key(flag: &str) -> Option<String> {
    match flag {
        "agent" => return Some("agent_id".into()),
        "model" => return Some("model_id".into()),
        _ => {}
    }
    flag.ends_with("-id").then(|| flag.replace('-', "_"))
}

/// `--format` values and what they print.
const FORMATS: &[(&str, &str)] = &[
    (
        "auto",
        "json, or a readable transcript for session streams on a terminal",
    ),
    ("json", "indented JSON, one value per item"),
    ("jsonl", "one compact JSON line per item"),
    ("yaml", "YAML documents separated by ---"),
    (
        "pretty",
        "readable rendering (session streams as a transcript)",
    ),
    ("raw", "the response body as received"),
    (
        "explore",
        "the interactive explorer on a terminal (json when piped)",
    ),
];

/// Profile names under the config directory.
fn profiles() -> Vec<Cand> {
    let Some(dir) = crate::auth::store::config_dir() else {
        return Vec::new();
    };
    let active = std::fs::read_to_string(dir.join("active_config"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mut names: Vec<String> = std::fs::read_dir(dir.join("configs"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(String::from)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let d = if n == active {
                "active profile"
            } else {
                "profile"
            };
            Cand::new(n, d)
        })
        .collect()
}

/// File candidates for shells that cannot complete paths after a prefix.
fn list_files(prefix: &str, partial: &str) -> Vec<Cand> {
    let (dir, base) = match partial.rfind('/') {
        Some(i) => (&partial[..=i], &partial[i + 1..]),
        None => ("", partial),
    };
    let real_dir = if let Some(rest) = dir.strip_prefix("~/") {
        std::env::var("HOME")
            .map(|h| format!("{h}/{rest}"))
            .unwrap_or_default()
    } else if dir.is_empty() {
        ".".to_string()
    } else {
        dir.to_string()
    };
    let mut out: Vec<Cand> = std::fs::read_dir(&real_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            if !name.starts_with(base) || (name.starts_with('.') && !base.starts_with('.')) {
                return None;
            }
            let slash = if e.path().is_dir() { "/" } else { "" };
            Some(Cand::new(format!("{prefix}{dir}{name}{slash}"), ""))
        })
        .collect();
    out.sort_by(|a, b| a.value.cmp(&b.value));
    out
}

#[cfg(test)]
mod tests;

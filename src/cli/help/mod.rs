//! Help that teaches. `ant --help` lists every group with what it is for,
//! plus the commands outside the API (completion, man pages); a group's or
//! a verb's `--help` shows its own flags, a one-line pointer to the global
//! options (as gh's "inherited flags"), examples of real use and only the
//! exit codes that command can give. Typo suggestions and a newcomer's
//! first guesses live in [`hints`]; the examples in [`examples`].

pub mod examples;
pub mod hints;

use clap::{Arg, Command};

use crate::api::{self, Operation};

/// The line that stands for the global options under a group or verb.
pub const INHERITED: &str = "Global options (--format, --transform, -r, --base-url, --api-key, \
     --profile, --debug, ...) work with every command: see 'ant --help'.";

/// Exit codes in a few words each, for a verb's help (the README and
/// `ant --help` have the full table).
const EXIT_SHORT: &[(i32, &str)] = &[
    (0, "success"),
    (1, "unexpected error"),
    (2, "bad input, nothing sent"),
    (3, "authentication (401, 403)"),
    (4, "not found (404)"),
    (5, "other client error (4xx)"),
    (6, "rate limited (429)"),
    (7, "server error (5xx)"),
    (8, "network error or timeout"),
    (9, "--transform matched nothing"),
    (10, "waiting for you (requires_action)"),
    (11, "session terminated or deleted"),
    (12, "the turn failed"),
    (13, "budget reached"),
    (14, "the agent refused"),
    (130, "interrupted (Ctrl-C)"),
];

/// The exit codes `ant <group> <verb>` can give.
pub fn exit_codes(group: &str, verb: &str) -> Vec<i32> {
    const API: &[i32] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const TURN: &[i32] = &[10, 11, 12, 13, 14];
    let mut codes: Vec<i32> = match (group, verb) {
        ("profile", _) => vec![0, 1, 2],
        ("auth", "status") => vec![0, 1, 2, 3],
        ("auth", "logout") => vec![0, 1, 2],
        ("auth", "login") => vec![0, 1, 2, 3, 5, 7, 8],
        ("auth", _) => vec![0, 1, 2, 3, 5, 7, 8],
        (super::worker::GROUP, "poll") => vec![0, 1, 2, 3, 5, 8],
        (super::worker::GROUP, _) => vec![0, 1, 2],
        ("beta:sessions", super::session_run::VERB) => [API, TURN].concat(),
        _ => match Operation::find(group, verb) {
            Some(op) if op.is_session_stream() => [API, TURN].concat(),
            _ => API.to_vec(),
        },
    };
    codes.push(130);
    codes
}

/// The width help text wraps to: the terminal's (`COLUMNS` first), else
/// 100, at most 110 (as clap does for the flags).
pub fn width() -> usize {
    let from_env = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    let from_tty = || terminal_size::terminal_size().map(|(w, _)| usize::from(w.0));
    from_env.or_else(from_tty).unwrap_or(100).clamp(40, 110)
}

/// Rows of (name, text) as two columns: names padded to a common width
/// (at most `max_name`; longer names put their text on the next line), the
/// text wrapped to `width` under itself.
pub fn two_columns(rows: &[(String, String)], max_name: usize, width: usize) -> String {
    let name_w = rows
        .iter()
        .map(|(n, _)| n.chars().count())
        .filter(|&w| w <= max_name)
        .max()
        .unwrap_or(0);
    let indent = 2 + name_w + 2;
    let mut out = String::new();
    for (name, text) in rows {
        let lines = wrap(text, width.saturating_sub(indent).max(20));
        let pad = " ".repeat(indent);
        if name.chars().count() > name_w {
            out.push_str(&format!("  {name}\n"));
            for l in &lines {
                out.push_str(&format!("{pad}{l}\n"));
            }
            continue;
        }
        let mut first = true;
        for l in lines
            .iter()
            .chain(lines.is_empty().then_some(&String::new()))
        {
            if first {
                out.push_str(&format!("  {name:name_w$}  {l}\n"));
                first = false;
            } else {
                out.push_str(&format!("{pad}{l}\n"));
            }
        }
    }
    out
}

/// `text` broken into lines of at most `width` columns at spaces.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The exit codes of a verb, two to a row when they fit.
fn exit_codes_text(codes: &[i32], width: usize) -> String {
    let cells: Vec<String> = codes
        .iter()
        .filter_map(|c| EXIT_SHORT.iter().find(|(k, _)| k == c))
        .map(|(c, t)| format!("{c:<4} {t}"))
        .collect();
    let cell_w = cells.iter().map(|c| c.chars().count()).max().unwrap_or(0);
    let mut out = String::from("Exit codes:\n");
    if 2 + 2 * cell_w + 3 > width {
        for c in &cells {
            out.push_str(&format!("  {c}\n"));
        }
        return out;
    }
    let rows = cells.len().div_ceil(2);
    for i in 0..rows {
        match cells.get(i + rows) {
            Some(right) => out.push_str(&format!("  {:cell_w$}   {right}\n", cells[i])),
            None => out.push_str(&format!("  {}\n", cells[i])),
        }
    }
    out
}

/// Examples as `# note` and `$ command` lines, long commands continued
/// with `\` between words (a flag stays with its value).
pub fn examples_text(list: &[examples::Example], width: usize) -> String {
    let mut out = String::from("Examples:\n");
    for (i, ex) in list.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("  # {}\n", ex.note));
        let mut parts: Vec<String> = vec!["ant".into()];
        let mut words = ex.argv.iter().peekable();
        while let Some(w) = words.next() {
            let mut part = examples::quote(w);
            let next_is_value = words.peek().is_some_and(|n| !n.starts_with('-'));
            if w.starts_with("--") && !w.contains('=') && next_is_value {
                part = format!("{part} {}", examples::quote(words.next().expect("peeked")));
            }
            parts.push(part);
        }
        out.push_str(&flow(&parts, "  $", " \\", width.saturating_sub(2)));
    }
    out
}

/// `pieces` after `start`, one space apart, on lines of at most `width`
/// columns; a line that goes on ends with `cont` and the next is indented.
fn flow(pieces: &[String], start: &str, cont: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = start.to_string();
    let mut placed = 0;
    for p in pieces {
        if placed > 0 && line.chars().count() + 1 + p.chars().count() > width {
            out.push_str(&line);
            out.push_str(cont);
            out.push('\n');
            line = String::from("     ");
            placed = 0;
        }
        line.push(' ');
        line.push_str(p);
        placed += 1;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The inner flags of an operation in a few lines: `--outer.field` names
/// with their allowed values (the man page lists each one in full).
fn inner_flags_text(op: &Operation, width: usize) -> Option<String> {
    let mut out = String::new();
    for p in op.params.iter().filter(|p| !p.inner.is_empty()) {
        let names: Vec<String> = p
            .inner
            .iter()
            .map(|i| {
                let mut s = format!("--{}.{}", p.flag, i.flag);
                if !i.enum_values.is_empty() {
                    s.push_str(&format!(" ({})", i.enum_values.join("|")));
                }
                s
            })
            .collect();
        let last = names.len() - 1;
        let pieces: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| if i < last { format!("{n},") } else { n.clone() })
            .collect();
        out.push_str(&flow(&pieces, " ", "", width));
    }
    (!out.is_empty()).then(|| {
        format!("Inner flags set one field of an object flag (--model.id claude-opus-4-7):\n{out}")
    })
}

/// Hides the global options (and, shown compactly instead, inner flags).
fn hide_inherited(cmd: Command) -> Command {
    cmd.mut_args(|a: Arg| {
        let inner = a.get_help_heading() == Some("Inner flags");
        if a.is_global_set() || inner {
            a.hide(true)
        } else {
            a
        }
    })
}

/// A verb's help page: its own flags, then its note, inner flags,
/// examples, the global-options pointer and its exit codes.
fn verb_view(cmd: &Command, group: &str) -> Command {
    let verb = cmd.get_name().to_string();
    let width = width();
    let mut sections: Vec<String> = Vec::new();
    if let Some(note) = cmd.get_after_help() {
        sections.push(note.to_string().trim_end().to_string());
    }
    if let Some(inner) = Operation::find(group, &verb).and_then(|op| inner_flags_text(op, width)) {
        sections.push(inner.trim_end().to_string());
    }
    let list = examples::for_verb(group, &verb);
    if !list.is_empty() {
        sections.push(examples_text(&list, width).trim_end().to_string());
    }
    sections.push(wrap(INHERITED, width).join("\n"));
    sections.push(
        exit_codes_text(&exit_codes(group, &verb), width)
            .trim_end()
            .to_string(),
    );
    let text = sections.join("\n\n");
    hide_inherited(cmd.clone()).after_help(text)
}

/// A group's help page: what it is for, its verbs, and the pointer.
fn group_view(cmd: &Command) -> Command {
    let width = width();
    let name = cmd.get_name();
    let first = cmd
        .get_subcommands()
        .find(|c| !c.is_hide_set())
        .map_or("", |c| c.get_name());
    let how = format!(
        "'ant {name} <command> --help' shows a command's flags and examples, e.g. 'ant {name} {first} --help'."
    );
    let more = format!(
        "{}\n\n{}",
        wrap(&how, width).join("\n"),
        wrap(INHERITED, width).join("\n")
    );
    hide_inherited(cmd.clone()).after_help(more)
}

/// The command words before any `-h`/`--help` (flags and their values
/// skipped): `[]`, `[group]` or `[group, verb]`.
pub fn command_words(argv: &[String]) -> Vec<String> {
    let root = super::tree::root();
    let mut out: Vec<String> = Vec::new();
    for w in argv.iter().skip(1) {
        if w == "-h" || w == "--help" {
            break;
        }
        if w.starts_with('-') {
            continue;
        }
        match out.len() {
            0 if root.find_subcommand(w).is_some() => out.push(w.clone()),
            1 if super::docs::built_path(&[&out[0]])
                .find_subcommand(&out[0])
                .is_some_and(|g| g.find_subcommand(w).is_some()) =>
            {
                out.push(w.clone());
                break;
            }
            _ => {}
        }
    }
    out
}

/// `ant --help`: what `ant` is, its groups and what each is for, the
/// commands outside the API, the global options, the quickstart as examples
/// and every exit code.
pub fn root_help() -> String {
    let cmd = super::tree::root();
    let commands = root_commands(&cmd);
    let examples = examples_text(&examples::quickstart(), width());
    let mut cmd = cmd
        .help_template(format!(
            "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{commands}\nGlobal options:\n{{options}}{{after-help}}"
        ))
        .after_help(format!("{examples}\n{}", crate::error::EXIT_CODES_HELP));
    cmd.render_help().to_string()
}

/// The help page of the top (`[]`), a group or a verb; `long` for
/// `--help`: a command's long description, where it has one.
pub fn render(words: &[String], long: bool) -> Option<String> {
    if words.is_empty() {
        return Some(root_help());
    }
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let root = super::docs::built_path(&refs);
    let group = root.find_subcommand(refs.first()?)?;
    let mut view = match refs.get(1) {
        Some(verb) => verb_view(group.find_subcommand(verb)?, group.get_name()),
        None => group_view(group),
    };
    let text = if long && view.get_long_about().is_some() {
        view.render_long_help()
    } else {
        view.render_help()
    };
    Some(text.to_string())
}

/// The sections of `ant --help` after the usage line: every group with what
/// it is for, and the commands outside the API.
pub fn root_commands(root: &Command) -> String {
    let width = width();
    let rows: Vec<(String, String)> = root
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| {
            let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
            (c.get_name().to_string(), about)
        })
        .collect();
    let extras: Vec<(String, String)> = extra_commands()
        .iter()
        .map(|(usage, c)| {
            let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
            (usage.to_string(), about)
        })
        .collect();
    format!(
        "Commands (ant <group> --help lists a group's commands):\n{}\nShell completion and manual pages:\n{}",
        two_columns(&rows, 26, width),
        two_columns(&extras, 26, width)
    )
}

/// The commands outside the endpoint table and the tree: shell completion
/// and man pages, each with how `ant --help` writes it.
pub fn extra_commands() -> Vec<(&'static str, Command)> {
    let shells: Vec<&str> = super::complete::SHELLS.iter().map(|s| s.name).collect();
    vec![
        (
            "completion <SHELL>",
            Command::new("completion")
                .bin_name("ant completion")
                .about(format!(
                    "Print the shell completion script: {} (also: ant @completion)",
                    shells.join(", ")
                ))
                .after_help(
                    "Install for bash: echo 'source <(ant completion bash)' >> ~/.bashrc\n\
                 Other shells: see docs/completions.md, or 'man ant'.",
                )
                .arg(
                    Arg::new("shell")
                        .value_name("SHELL")
                        .required(true)
                        .value_parser(shells)
                        .help("The shell to print the script for"),
                ),
        ),
        (
            "@manpages [-o DIR]",
            Command::new("@manpages")
                .bin_name("ant @manpages")
                .about("Write man pages for ant and every command into DIR/man1 (default DIR: man)")
                .after_help(
                    "Then: man -M DIR ant, or put DIR on MANPATH (e.g. -o ~/.local/share/man).",
                )
                .arg(
                    Arg::new("output")
                        .short('o')
                        .long("output")
                        .value_name("DIR")
                        .help("Directory to write man1/ into"),
                ),
        ),
    ]
}

/// `--help` of an extra command (`completion`, `@manpages`).
pub fn extra_help(name: &str) -> Option<String> {
    let name = if name == "@completion" {
        "completion"
    } else {
        name
    };
    let (_, mut cmd) = extra_commands()
        .into_iter()
        .find(|(_, c)| c.get_name() == name)?;
    Some(cmd.render_help().to_string())
}

/// Exit codes of a verb for its man page: (code, meaning).
pub fn exit_code_rows(group: &str, verb: &str) -> Vec<(i32, &'static str)> {
    exit_codes(group, verb)
        .into_iter()
        .filter_map(|c| EXIT_SHORT.iter().find(|(k, _)| *k == c).copied())
        .collect()
}

/// A group's description (`ant --help`, the group's own help and man page).
pub fn group_about(group: &str) -> String {
    api::group_help(group).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_code_has_a_short_meaning() {
        for line in crate::error::EXIT_CODES_HELP.lines().skip(1) {
            let code: i32 = line.split_whitespace().next().unwrap().parse().unwrap();
            assert!(EXIT_SHORT.iter().any(|(c, _)| *c == code), "{code}");
        }
        assert_eq!(
            EXIT_SHORT.len(),
            crate::error::EXIT_CODES_HELP.lines().count() - 1
        );
    }

    #[test]
    fn session_codes_only_where_a_turn_is_watched() {
        assert!(!exit_codes("beta:agents", "create").contains(&10));
        assert!(exit_codes("beta:sessions:events", "stream").contains(&14));
        assert!(exit_codes("beta:sessions", "run").contains(&10));
        assert_eq!(exit_codes("profile", "set"), [0, 1, 2, 130]);
    }

    /// Every verb of the whole tree, in the table or not, has an example.
    #[test]
    fn every_verb_has_an_example() {
        let tree = super::super::docs::full_tree();
        let mut missing = Vec::new();
        for g in super::super::docs::visible_subcommands(&tree) {
            for v in super::super::docs::visible_subcommands(g) {
                if examples::for_verb(g.get_name(), v.get_name()).is_empty() {
                    missing.push(format!("{} {}", g.get_name(), v.get_name()));
                }
            }
        }
        assert!(missing.is_empty(), "no example: {missing:?}");
    }

    #[test]
    fn every_group_has_a_description() {
        for g in api::groups() {
            assert!(!group_about(g).is_empty(), "{g}");
        }
    }

    #[test]
    fn two_columns_wrap_text_under_itself() {
        let rows = vec![
            (
                "a".to_string(),
                "one two three four five six seven".to_string(),
            ),
            ("very-long-name".to_string(), "x".to_string()),
        ];
        assert_eq!(
            two_columns(&rows, 5, 30),
            "  a  one two three four five\n     six seven\n  very-long-name\n     x\n"
        );
    }
}

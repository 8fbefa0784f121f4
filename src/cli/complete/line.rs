//! The command line being completed, parsed as far as completion needs:
//! group, verb, flags with their values, positionals, and whether the word
//! under the cursor is the value of the previous flag.

use clap::{Arg, Command};

use crate::api::Operation;
use crate::cli::docs;

/// Removes the shell quoting a word may still carry (`'x'`, `"x`, `a\ b`).
pub fn dequote(w: &str) -> String {
    let mut out = String::with_capacity(w.len());
    let mut quote: Option<char> = None;
    let mut chars = w.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None | Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// A flag of the command line being completed.
pub struct Seen {
    /// Long name without dashes (or the arg id for short flags).
    pub name: String,
    pub value: Option<String>,
}

/// The command line parsed as far as completion needs.
pub struct Line {
    pub root: Command,
    pub group: Option<String>,
    pub verb: Option<String>,
    pub flags: Vec<Seen>,
    pub positionals: Vec<String>,
    /// The previous word was a flag still waiting for its value.
    pub pending: Option<String>,
    pub after_dashes: bool,
    /// A word where a group or verb belongs named none.
    pub unknown: bool,
}

impl Line {
    pub fn cmd(&self) -> &Command {
        let g = self
            .group
            .as_deref()
            .and_then(|g| self.root.find_subcommand(g));
        match (g, self.verb.as_deref()) {
            (Some(g), Some(v)) => g.find_subcommand(v).unwrap_or(g),
            (Some(g), None) => g,
            _ => &self.root,
        }
    }

    /// The group is a command of its own with no verbs (`ant api`).
    pub fn leaf_group(&self) -> bool {
        self.group
            .as_deref()
            .and_then(|g| self.root.find_subcommand(g))
            .is_some_and(|g| !g.has_subcommands())
    }

    pub fn op(&self) -> Option<&'static Operation> {
        Operation::find(self.group.as_deref()?, self.verb.as_deref()?)
    }

    pub fn value_of(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|f| f.name == name)
            .and_then(|f| f.value.as_deref())
    }
}

/// Finds a flag of `cmd` by long name, or by short letter.
pub fn find_arg<'a>(cmd: &'a Command, long: Option<&str>, short: Option<char>) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| match (long, short) {
        (Some(l), _) => {
            a.get_long() == Some(l) || a.get_all_aliases().is_some_and(|al| al.contains(&l))
        }
        (None, Some(s)) => a.get_short() == Some(s),
        _ => false,
    })
}

/// True when the flag takes its value from the next word.
pub fn takes_next_word(a: &Arg) -> bool {
    a.get_action().takes_values() && !a.is_require_equals_set()
}

pub fn parse_line(prev: &[String]) -> Line {
    let words: Vec<String> = prev.iter().map(|w| dequote(w)).collect();
    // Built (with its global flags given to every group) only when needed:
    // group names and their descriptions need no build.
    let root = crate::cli::tree::root_for(&words);
    let mut line = Line {
        root,
        group: None,
        verb: None,
        flags: Vec::new(),
        positionals: Vec::new(),
        pending: None,
        after_dashes: false,
        unknown: false,
    };
    let mut i = 0;
    while i < prev.len() {
        let w = dequote(&prev[i]);
        i += 1;
        if line.after_dashes || !w.starts_with('-') || w == "-" {
            if line.group.is_none() && !line.after_dashes {
                if line.root.find_subcommand(&w).is_some() {
                    // Build the group now, so its verbs are known.
                    docs::build_path(&mut line.root, &[&w]);
                    line.group = Some(w);
                } else {
                    line.unknown = true;
                }
            } else if line.verb.is_none() && !line.after_dashes && !line.leaf_group() {
                let is_verb = line
                    .group
                    .as_deref()
                    .and_then(|g| line.root.find_subcommand(g))
                    .is_some_and(|g| g.find_subcommand(&w).is_some());
                if is_verb {
                    let g = line.group.clone().unwrap_or_default();
                    docs::build_path(&mut line.root, &[&g, &w]);
                    line.verb = Some(w);
                } else {
                    line.unknown = true;
                }
            } else {
                line.positionals.push(w);
            }
            continue;
        }
        if w == "--" {
            line.after_dashes = true;
            continue;
        }
        let cmd = line.cmd();
        let (arg, inline) = if let Some(long) = w.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            (find_arg(cmd, Some(name), None), value)
        } else {
            // -r, -o PATH, -oPATH
            let mut chars = w[1..].chars();
            let c = chars.next().unwrap_or('-');
            let rest: String = chars.collect();
            (
                find_arg(cmd, None, Some(c)),
                (!rest.is_empty()).then_some(rest),
            )
        };
        let Some(arg) = arg else { continue };
        let name = arg.get_long().unwrap_or(arg.get_id().as_str()).to_string();
        let needs_next = inline.is_none() && takes_next_word(arg);
        if needs_next {
            match prev.get(i) {
                Some(v) => {
                    line.flags.push(Seen {
                        name,
                        value: Some(dequote(v)),
                    });
                    i += 1;
                }
                None => line.pending = Some(name),
            }
        } else {
            line.flags.push(Seen {
                name,
                value: inline,
            });
        }
    }
    line
}

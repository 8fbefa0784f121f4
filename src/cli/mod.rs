//! From argv to a finished command: parse with the table-built clap tree,
//! gather flag occurrences in order, read piped stdin, then hand off to
//! [`run`].
//!
//! CLI conventions (keep them when adding commands):
//! - `ant <group> <verb> [flags]`; groups use `:` for nesting (`beta:sessions:events`).
//! - Flags are the API's snake_case names in kebab-case; list fields take a
//!   singular, repeatable flag; `--outer.field` sets one field of an object.
//! - Usage errors are one line on stderr and exit 2, before any request.
//! - Data goes to stdout, everything else (errors, notes, progress) to stderr.

pub mod account;
pub mod api;
pub mod complete;
pub mod config;
pub mod docs;
pub mod global;
pub mod help;
pub mod run;
pub mod session_run;
pub mod tree;
pub mod worker;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgMatches, FromArgMatches};

use crate::api::{Operation, Param};
use crate::error::{Error, Result};
use crate::request::{Flag, Input};
use global::GlobalArgs;

/// What `main` needs to report a failure.
pub struct Failure {
    pub error: Error,
    /// The API error body rendered per `--format-error`, when asked for.
    pub detail: Option<String>,
}

impl Failure {
    /// The error line. When the API error body is shown below it (the
    /// detail), the line leaves out the message the body already holds.
    pub fn headline(&self) -> String {
        match (&self.error, &self.detail) {
            (Error::Api(api), Some(_)) => match &api.request_id {
                Some(r) => format!("{} [request-id: {r}]", api.status_line()),
                None => api.status_line(),
            },
            (error, _) => error.to_string(),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            error,
            detail: None,
        }
    }
}

/// Runs `ant` with these arguments.
pub fn main_with(args: Vec<std::ffi::OsString>) -> std::result::Result<(), Failure> {
    // Hidden commands outside the API tree: shell completion and man pages.
    let words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let asks_help = words.iter().skip(2).any(|w| w == "-h" || w == "--help");
    match words.get(1).map(String::as_str) {
        Some("__complete") => return complete::complete(&words[2..]).map_err(Failure::from),
        Some(w @ ("completion" | "@completion" | "@manpages")) if asks_help => {
            print!("{}", help::extra_help(w).unwrap_or_default());
            return Ok(());
        }
        Some("completion" | "@completion") => {
            return complete::script(&words[2..]).map_err(Failure::from);
        }
        Some("@manpages") => return docs::manpages(&words[2..]).map_err(Failure::from),
        Some("@docs") => return docs::reference(&words[2..]).map_err(Failure::from),
        _ => {}
    }
    let matches = match tree::root_for(&words[1..]).try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => return clap_failure(e),
    };
    let mut globals =
        GlobalArgs::from_arg_matches(&matches).map_err(|e| Error::usage(one_line(&e)))?;
    globals.take_late(&matches);
    let Some((group, group_m)) = matches.subcommand() else {
        return Err(Error::usage("missing command; see 'ant --help'").into());
    };
    if group == api::NAME {
        return api::run(&globals, group_m);
    }
    let Some((verb, verb_m)) = group_m.subcommand() else {
        return Err(Error::usage(format!(
            "missing verb for {group}; see 'ant {group} --help'"
        ))
        .into());
    };
    if group == "auth" || group == "profile" {
        return account::run(group, verb, verb_m, &globals).map_err(Failure::from);
    }
    if group == worker::GROUP {
        return worker::run(verb, verb_m, &globals).map_err(Failure::from);
    }
    if group == "beta:sessions" && verb == session_run::VERB {
        return session_run::run(&globals, verb_m);
    }
    let op = Operation::find(group, verb)
        .ok_or_else(|| Error::usage(format!("unknown command {group} {verb}")))?;
    let mut input = gather(op, verb_m);
    let max_items = verb_m
        .try_get_one::<i64>(tree::MAX_ITEMS)
        .ok()
        .flatten()
        .copied();
    let output = verb_m
        .try_get_one::<String>(tree::OUTPUT)
        .ok()
        .flatten()
        .cloned();
    let flag = |id: &str| verb_m.try_get_one::<bool>(id).ok().flatten() == Some(&true);
    let (until_idle, no_reconnect) = (flag(tree::UNTIL_IDLE), flag(tree::NO_RECONNECT));
    if wants_stdin(op, &input) && !reads_stdin_elsewhere(&input) {
        input.stdin = read_piped_stdin()?;
    }
    run::run(
        op,
        input,
        &globals,
        run::Extras {
            max_items,
            output,
            until_idle,
            no_reconnect,
        },
    )
}

/// The operation and input (flags and positionals; no stdin) that an API
/// command line names, without running it.
pub fn parse_input(args: &[String]) -> Result<(&'static Operation, Input)> {
    let matches = tree::root()
        .try_get_matches_from(args)
        .map_err(|e| Error::usage(one_line(&e)))?;
    let missing = || Error::usage("missing command");
    let (group, group_m) = matches.subcommand().ok_or_else(missing)?;
    let (verb, verb_m) = group_m.subcommand().ok_or_else(missing)?;
    let op = Operation::find(group, verb)
        .ok_or_else(|| Error::usage(format!("{group} {verb} is not an API command")))?;
    Ok((op, gather(op, verb_m)))
}

/// Flag occurrences in command-line order, plus positionals and betas.
fn gather(op: &'static Operation, m: &ArgMatches) -> Input {
    let mut flags: Vec<(usize, Flag)> = Vec::new();
    let mut add = |id: &str, make: &dyn Fn(String) -> Flag| {
        if let (Some(idx), Some(vals)) = (m.indices_of(id), m.get_many::<String>(id)) {
            for (i, v) in idx.zip(vals) {
                flags.push((i, make(v.clone())));
            }
        }
    };
    for p in op.params {
        let p: &'static Param = p;
        add(p.flag, &|v| Flag::Param(p, v));
        for inner in p.inner {
            let id = format!("{}.{}", p.flag, inner.flag);
            add(&id, &|v| Flag::Inner(p, inner, v));
        }
    }
    flags.sort_by_key(|(i, _)| *i);
    let strings = |id: &str| -> Vec<String> {
        m.try_get_many::<String>(id)
            .ok()
            .flatten()
            .map(|v| v.cloned().collect())
            .unwrap_or_default()
    };
    Input {
        flags: flags.into_iter().map(|(_, f)| f).collect(),
        positional: [strings(tree::POSITIONAL), strings(tree::EXTRA_POSITIONAL)].concat(),
        stdin: None,
        betas: strings(tree::BETA),
    }
}

/// Whether a piped body can add anything: not when the command sends no
/// body and every path parameter is given already, so that in
/// `while read id; do ant beta:sessions delete "$id"; done < ids` each
/// command leaves stdin to the loop.
fn wants_stdin(op: &Operation, input: &Input) -> bool {
    if op.body != crate::api::Body::None || op.path_params().next().is_none() {
        return true;
    }
    let last = op.last_path_param();
    let given = |p: &'static Param| {
        input
            .flags
            .iter()
            .any(|f| matches!(f, Flag::Param(q, _) if std::ptr::eq(*q, p)))
            || (last.is_some_and(|l| std::ptr::eq(l, p)) && !input.positional.is_empty())
    };
    !op.path_params().all(given)
}

/// True when a flag reads stdin itself (`@-`, `--file -`), so stdin is no body.
fn reads_stdin_elsewhere(input: &Input) -> bool {
    let is_ref = |t: &str| t == "@-" || t == "@/dev/stdin";
    let delimiters = |c: char| c.is_whitespace() || "\"',{}[]:".contains(c);
    input.flags.iter().any(|f| {
        let (p, v) = match f {
            Flag::Param(p, v) => (*p, v),
            Flag::Inner(p, _, v) => (*p, v),
            Flag::Value(..) => return false,
        };
        (p.file && v == "-") || v.split(delimiters).any(is_ref)
    })
}

/// Stdin counts as piped when it is a non-empty regular file, or a pipe or
/// socket with data within 10 ms (IDE terminals leave an idle pipe). More
/// than the API takes in a request body is an error (`FileTooLarge`).
pub fn piped_stdin_bytes() -> std::io::Result<Option<Vec<u8>>> {
    // SAFETY: fstat and poll on fd 0 with properly sized, zeroed structs.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(0, &mut st) } != 0 {
        return Ok(None);
    }
    let kind = st.st_mode & libc::S_IFMT;
    let ready = match kind {
        libc::S_IFREG => st.st_size > 0,
        libc::S_IFIFO | libc::S_IFSOCK => {
            let mut fds = libc::pollfd {
                fd: 0,
                events: libc::POLLIN,
                revents: 0,
            };
            unsafe { libc::poll(&mut fds, 1, 10) > 0 }
        }
        _ => false,
    };
    if !ready {
        return Ok(None);
    }
    let buf = crate::request::files::read_capped(
        std::io::stdin().lock(),
        crate::request::files::MAX_INLINE_BYTES,
    )?;
    Ok(if buf.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(buf)
    })
}

/// A failure reading piped input: too much of it is bad input.
pub fn stdin_error(e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::FileTooLarge => Error::usage(format!("piped input: {e}")),
        _ => Error::Io(format!("reading stdin: {e}")),
    }
}

fn read_piped_stdin() -> Result<Option<serde_json::Value>> {
    let Some(bytes) = piped_stdin_bytes().map_err(stdin_error)? else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::usage("Failed to parse piped data as YAML/JSON: not UTF-8 text"))?;
    crate::request::value::parse_yaml(&text)
        .map(Some)
        .map_err(|e| Error::usage(format!("Failed to parse piped data as YAML/JSON: {e}")))
}

/// True when the word before `arg` on the command line is a boolean flag.
fn follows_boolean_flag(arg: &str) -> bool {
    let argv: Vec<String> = std::env::args().collect();
    let Some(prev) = argv
        .iter()
        .position(|a| a == arg)
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| argv[i].strip_prefix("--"))
    else {
        return false;
    };
    let boolean = |t: u8| t & !crate::api::types::NULL == crate::api::types::BOOLEAN;
    crate::api::OPERATIONS
        .iter()
        .flat_map(|o| o.params)
        .any(|p| {
            (p.flag == prev && boolean(p.types))
                || p.inner
                    .iter()
                    .any(|i| format!("{}.{}", p.flag, i.flag) == prev && boolean(i.types))
        })
}

fn one_line(e: &clap::Error) -> String {
    e.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string()
}

/// Help and version go to stdout with exit 0 (a group's or verb's help is
/// [`help::render`]'s); every other clap error becomes one usage line, with
/// a "did you mean" when something close exists ([`help::hints`]).
fn clap_failure(e: clap::Error) -> std::result::Result<(), Failure> {
    let argv: Vec<String> = std::env::args().collect();
    match e.kind() {
        ErrorKind::DisplayHelp => {
            let long = argv.iter().any(|a| a == "--help");
            match help::render(&help::command_words(&argv), long) {
                Some(text) => print!("{text}"),
                None => {
                    let _ = e.print();
                }
            }
            return Ok(());
        }
        ErrorKind::DisplayVersion => {
            let _ = e.print();
            return Ok(());
        }
        // The second kind when global flags come from the environment
        // (`ANTHROPIC_API_KEY`): clap then counts them as arguments given.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            let words = help::command_words(&argv);
            let group = words.first();
            let level = if group.is_some() {
                &words[..1]
            } else {
                &[][..]
            };
            eprint!("{}", help::render(level, false).unwrap_or_default());
            let hint = match group {
                Some(g) => format!("a command is required: 'ant {g} <command>' (one of those above; add --help to one for its flags)"),
                None => "a command is required: 'ant <group> <command>' (groups above; 'ant <group> --help' lists a group's commands)".to_string(),
            };
            return Err(Error::usage(hint).into());
        }
        _ => {}
    }
    let ctx = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    let suggestion = match e.kind() {
        ErrorKind::InvalidSubcommand => ctx(ContextKind::InvalidSubcommand).and_then(|bad| {
            let words = help::command_words(&argv);
            let at = argv.iter().position(|a| *a == bad);
            let next = at.and_then(|i| argv.get(i + 1)).map(String::as_str);
            help::hints::command(&bad, words.first().map(String::as_str), next)
        }),
        ErrorKind::UnknownArgument => ctx(ContextKind::InvalidArg)
            .filter(|a| a.starts_with('-'))
            .and_then(|bad| {
                let words = help::command_words(&argv);
                let refs: Vec<&str> = words.iter().map(String::as_str).collect();
                let root = docs::built_path(&refs);
                let cmd = refs.iter().try_fold(&root, |c, w| c.find_subcommand(w))?;
                help::hints::flag(cmd, &bad).map(|f| format!("'{f}'"))
            }),
        _ => ctx(ContextKind::SuggestedValue).map(|v| format!("'{v}'")),
    };
    let mut msg = match e.kind() {
        ErrorKind::InvalidSubcommand => format!(
            "unknown command '{}'",
            ctx(ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        ErrorKind::UnknownArgument => {
            let arg = ctx(ContextKind::InvalidArg).unwrap_or_default();
            if arg.starts_with('-') {
                format!("unknown flag '{arg}'")
            } else if follows_boolean_flag(&arg) {
                format!(
                    "unexpected argument '{arg}' (a boolean flag takes its value as --flag=true or --flag=false)"
                )
            } else {
                format!("unexpected argument '{arg}'")
            }
        }
        ErrorKind::MissingRequiredArgument => {
            let missing = match e.get(ContextKind::InvalidArg) {
                Some(ContextValue::Strings(v)) => v.join(", "),
                _ => String::new(),
            };
            format!("missing required argument: {missing}")
        }
        ErrorKind::InvalidValue if ctx(ContextKind::InvalidValue).is_some_and(|v| v.is_empty()) => {
            format!(
                "a value is required for {}",
                ctx(ContextKind::InvalidArg).unwrap_or_default()
            )
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let mut msg = format!(
                "invalid value '{}' for {}",
                ctx(ContextKind::InvalidValue).unwrap_or_default(),
                ctx(ContextKind::InvalidArg).unwrap_or_default()
            );
            // The value parser's reason, when it gave one.
            if let Some(reason) = std::error::Error::source(&e) {
                msg.push_str(&format!(": {reason}"));
            }
            msg
        }
        _ => one_line(&e),
    };
    if let Some(s) = suggestion {
        msg.push_str(&format!("; did you mean {s}?"));
    }
    Err(Error::usage(msg).into())
}

//! The clap command tree, built from the endpoint table. Groups and verbs are
//! deferred (`Command::defer`), so `ant --version` or one command's `--help`
//! never pays for building all ~375 commands' flags.

use clap::{Arg, ArgAction, Args, Command, ValueHint};

use super::global::GlobalArgs;
use crate::api::{self, Inner, Operation, Param, types};

/// Client-side flag ids (never sent to the API).
pub const MAX_ITEMS: &str = "max-items";
pub const OUTPUT: &str = "output";
pub const BETA: &str = "beta";
pub const POSITIONAL: &str = "ID";
/// Words after the ID: collected (hidden) only to be refused by name, with
/// the official CLI's `Unexpected extra arguments` message.
pub const EXTRA_POSITIONAL: &str = "EXTRA";
pub const UNTIL_IDLE: &str = "until-idle";
pub const NO_RECONNECT: &str = "no-reconnect";

/// Said by every Admin API command's help (see `Operation::is_admin`).
pub const ADMIN_AUTH_HELP: &str = "\
Admin API: authenticate with an admin API key (sk-ant-admin..., created in the Console by an
organization admin), sent as x-api-key. --admin-key or ANTHROPIC_ADMIN_KEY wins over the other
credentials for these commands (and is ignored by the others); without it the usual credentials
are sent. These commands send no anthropic-workspace-id header (admin keys act for the whole
organization); where one has a --workspace-id flag, that is its own parameter. See docs/admin.md.";

/// `ant --version`: `0.1.0 (abc1234, 2026-12-06)`, the commit and build
/// date from `build.rs` (the date alone when built without git).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), env!("ANT_BUILD_INFO"));

pub fn root() -> Command {
    root_with(|_| true)
}

/// The root command for a command line: with only the groups its words name
/// when it names some (building the root gives every group a copy of each
/// global flag, which for all ~150 groups costs a millisecond at start-up),
/// else with every group (for `--help`, group suggestions, completion of
/// group names); `--version` needs none.
pub fn root_for(words: &[String]) -> Command {
    let named = |g: &str| words.iter().any(|w| w == g);
    let any = words.iter().any(|w| {
        api::groups().contains(&w.as_str())
            || matches!(w.as_str(), "auth" | "profile" | super::api::NAME)
            || w == super::worker::GROUP
    });
    let version = words.iter().any(|w| w == "--version" || w == "-V");
    match (any, version) {
        (true, _) => root_with(named),
        (false, true) => root_with(|_| false),
        (false, false) => root(),
    }
}

fn root_with(wanted: impl Fn(&str) -> bool) -> Command {
    let mut cmd = Command::new("ant")
        .version(VERSION)
        .about("A fast, scriptable command-line client for the Claude Platform API")
        .long_about(
            "A fast, scriptable command-line client for the Claude Platform API.\n\n\
             Commands take the form `ant <group> <verb> [flags]`, e.g. `ant beta:agents create`; \
             every command's --help ends with examples.",
        )
        .override_usage("ant <group> <command> [flags]   (e.g. ant beta:agents create --help)")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .disable_help_subcommand(true)
        .max_term_width(110);
    cmd = GlobalArgs::augment_args(cmd);
    // Stable groups first, then beta ones; each alphabetical, parents before children.
    let mut groups = api::groups();
    groups.sort_by_key(|g| (g.starts_with("beta:"), *g));
    if wanted(super::api::NAME) {
        cmd = cmd.subcommand(super::global::with_late_globals(super::api::command()));
    }
    if wanted("auth") {
        cmd = cmd.subcommand(super::account::auth_command());
    }
    if wanted("profile") {
        cmd = cmd.subcommand(super::account::profile_command());
    }
    for group in groups.into_iter().filter(|g| wanted(g)) {
        cmd = cmd.subcommand(
            Command::new(group)
                .about(super::help::group_about(group))
                .disable_help_subcommand(true)
                .subcommand_required(true)
                .arg_required_else_help(true)
                .defer(build_group),
        );
    }
    // `beta:worker` is not an API group; it sorts last among the beta ones.
    // `beta:worker` comes last; the help page is `help::root_help`'s, made only when asked for.
    if wanted(super::worker::GROUP) {
        cmd = cmd.subcommand(super::worker::command());
    }
    cmd
}

fn build_group(cmd: Command) -> Command {
    let group = cmd.get_name().to_string();
    let mut cmd = cmd;
    for op in api::group_ops(&group) {
        let mut verb = Command::new(op.verb).about(op.summary).defer(build_verb);
        if op.is_admin() {
            verb = verb.after_help(ADMIN_AUTH_HELP);
        }
        cmd = cmd.subcommand(verb);
    }
    if group == "beta:sessions" {
        cmd = cmd.subcommand(super::global::with_late_globals(
            super::session_run::command(),
        ));
    }
    cmd
}

fn build_verb(cmd: Command) -> Command {
    let verb = cmd.get_name().to_string();
    // clap sets the bin name ("ant <group> <verb>") before building a
    // deferred command; the group is the word naming an operation with this verb.
    let bin = cmd.get_bin_name().unwrap_or_default().to_string();
    let op = bin
        .split_whitespace()
        .find_map(|g| Operation::find(g, &verb));
    match op {
        Some(op) => verb_args(cmd, op),
        None => cmd,
    }
}

/// Adds the flags of one operation to its command.
pub fn verb_args(mut cmd: Command, op: &'static Operation) -> Command {
    if let Some(last) = op.last_path_param() {
        cmd = cmd
            .arg(
                Arg::new(POSITIONAL)
                    .value_name(last.name.to_uppercase())
                    .help(format!("Same as --{}", last.flag))
                    .action(ArgAction::Set),
            )
            .arg(
                Arg::new(EXTRA_POSITIONAL)
                    .num_args(1..)
                    .action(ArgAction::Append)
                    .hide(true),
            );
    }
    for p in op.params {
        // An Admin API parameter named like a global flag (`--workspace-id`,
        // `--organization-id`) takes its place on this command.
        let arg = param_arg(p, op);
        if cmd.get_arguments().any(|a| a.get_id() == p.flag) {
            cmd = cmd.mut_arg(p.flag, |_| arg);
        } else {
            cmd = cmd.arg(arg);
        }
        for inner in p.inner {
            cmd = cmd.arg(inner_arg(p, inner));
        }
    }
    if op.beta_flag {
        cmd = cmd.arg(
            Arg::new(BETA)
                .long(BETA)
                .value_name("BETA")
                .action(ArgAction::Append)
                .help("Extra anthropic-beta value, appended to the command's default (repeatable)"),
        );
    }
    if op.yields_items() {
        cmd = cmd.arg(
            Arg::new(MAX_ITEMS)
                .long(MAX_ITEMS)
                .value_name("N")
                .allow_negative_numbers(true)
                .value_parser(parse_max_items)
                .help("Stop after N items (-1: no limit)"),
        );
    }
    if op.is_session_stream() {
        cmd = cmd.arg(
            Arg::new(UNTIL_IDLE)
                .long(UNTIL_IDLE)
                .action(ArgAction::SetTrue)
                .help("Stop when the watched turn ends (the session's state when the stream opens decides which turn): exit 0 on end_turn, 10 when it waits for the client (requires_action), 11 when terminated or deleted, 12 when the turn failed, 13 on budget_reached, 14 on refusal"),
        )
        .arg(
            Arg::new(NO_RECONNECT)
                .long(NO_RECONNECT)
                .action(ArgAction::SetTrue)
                .help("Do not reconnect (and backfill missed events) when the connection drops; with --until-idle, a stream that ends before the turn does exits 8"),
        );
    }
    if op.is_download() {
        cmd = cmd.arg(
            Arg::new(OUTPUT)
                .long(OUTPUT)
                .short('o')
                .value_name("PATH")
                .value_hint(ValueHint::FilePath)
                .help("Write the content to PATH ('-' for stdout); default: stdout when piped or text, else a file named by the server"),
        );
    }
    super::global::with_late_globals(cmd)
}

/// `--max-items`: a count of items, or -1 for no limit (as in the official
/// CLI); any other negative number is refused rather than read as no limit.
fn parse_max_items(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n >= -1 => Ok(n),
        Ok(_) => Err("a count of items (0 or more), or -1 for no limit".into()),
        Err(_) => Err("expected a whole number of items, or -1 for no limit".into()),
    }
}

fn is_bool(t: u8) -> bool {
    t & !types::NULL == types::BOOLEAN
}

fn value_name(p: &Param) -> &'static str {
    if p.file {
        return "PATH";
    }
    if p.timestamp().is_some() {
        return "TIMESTAMP";
    }
    type_name(if p.repeated { p.item_types } else { p.types })
}

/// The placeholder shown for a value of these types.
fn type_name(t: u8) -> &'static str {
    let t = t & !types::NULL;
    match t {
        types::STRING => "STRING",
        types::INTEGER => "INT",
        types::BOOLEAN => "BOOL",
        _ if t != 0 && t & !(types::INTEGER | types::NUMBER) == 0 => "NUMBER",
        _ => "YAML",
    }
}

/// Help text saying what a flag takes: type, allowed values, required.
/// `'null' to clear` only where it means something: on an update.
pub fn param_help(p: &Param, op: &Operation) -> String {
    let mut parts: Vec<String> = Vec::new();
    let what = match p.loc {
        api::Loc::Path => "path",
        api::Loc::Query => "query",
        api::Loc::Header => "header",
        api::Loc::Body => "body",
    };
    let t = if p.repeated { p.item_types } else { p.types };
    let timestamp = p.timestamp();
    let mut kind = if p.file && p.repeated {
        "file path, or a directory: its files, named under the directory's name".to_string()
    } else if p.file {
        "file path ('-' for stdin)".to_string()
    } else if timestamp.is_some() {
        "RFC 3339 timestamp, e.g. 2026-01-31T09:30:00Z".to_string()
    } else {
        types::describe(t)
    };
    if t & (types::OBJECT | types::ARRAY) != 0 && !p.file && timestamp.is_none() {
        kind.push_str(" (YAML or JSON)");
    }
    parts.push(format!("{} [{what}: {}]: {kind}", p.help, p.wire));
    if !p.enum_values.is_empty() {
        parts.push(format!("one of: {}", p.enum_values.join(", ")));
    }
    let nullable = timestamp.unwrap_or(p.types & types::NULL != 0);
    if nullable && !p.repeated && op.verb == "update" {
        parts.push("'null' to clear".into());
    }
    if p.repeated {
        parts.push("repeatable, one element each".into());
    } else if p.types & !types::NULL == types::ARRAY && !p.file {
        parts.push("the whole list in one value, e.g. '[a, b]' (repeating replaces it)".into());
    }
    if p.required {
        parts.push("required".into());
    }
    parts.join("; ")
}

fn param_arg(p: &'static Param, op: &Operation) -> Arg {
    let mut arg = Arg::new(p.flag)
        .long(p.flag)
        .value_name(value_name(p))
        .help(param_help(p, op))
        .action(ArgAction::Append);
    arg = value_syntax(arg, p.types);
    if p.file {
        arg = arg.value_hint(ValueHint::FilePath);
    }
    arg
}

fn inner_arg(p: &'static Param, inner: &'static Inner) -> Arg {
    let long = format!("{}.{}", p.flag, inner.flag);
    let mut help = format!(
        "Sets {} of --{}: {}",
        inner.name,
        p.flag,
        types::describe(inner.types)
    );
    if !inner.enum_values.is_empty() {
        help.push_str(&format!("; one of: {}", inner.enum_values.join(", ")));
    }
    let arg = Arg::new(long.clone())
        .long(long)
        .value_name(type_name(inner.types))
        .help(help)
        .help_heading("Inner flags")
        .action(ArgAction::Append);
    value_syntax(arg, inner.types)
}

/// Booleans take `--flag` or `--flag=false` (never a separate word, as in
/// the official CLI); other values may start with `-`.
fn value_syntax(arg: Arg, types_: u8) -> Arg {
    if is_bool(types_) {
        arg.num_args(0..=1)
            .require_equals(true)
            .default_missing_value("true")
    } else {
        arg.allow_hyphen_values(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_builds_a_valid_command() {
        for group in api::groups() {
            let mut cmd = Command::new(group.to_string()).bin_name(format!("ant {group}"));
            cmd = build_group(cmd);
            for op in api::group_ops(group) {
                let c = verb_args(
                    Command::new(op.verb).bin_name(format!("ant {group} {}", op.verb)),
                    op,
                );
                let c = GlobalArgs::augment_args(Command::new("ant")).subcommand(c);
                c.debug_assert();
            }
            assert!(cmd.get_subcommands().count() > 0);
        }
    }

    #[test]
    fn timestamps_say_rfc_3339_and_offer_null_only_when_allowed() {
        let op = Operation::find("beta:sessions", "list").unwrap();
        let p = op.param("created_at[lt]").unwrap();
        let help = param_help(p, op);
        assert!(help.contains("RFC 3339 timestamp"), "{help}");
        assert!(
            !help.contains("any value") && !help.contains("null"),
            "{help}"
        );
        assert_eq!(value_name(p), "TIMESTAMP");
    }

    #[test]
    fn null_clears_only_on_updates() {
        let create = Operation::find("beta:agents", "create").unwrap();
        let update = Operation::find("beta:agents", "update").unwrap();
        let system = |op: &Operation| param_help(op.param("system").unwrap(), op);
        assert!(!system(create).contains("null"), "{}", system(create));
        assert!(
            system(update).contains("'null' to clear"),
            "{}",
            system(update)
        );
    }

    #[test]
    fn max_items_takes_a_count_or_minus_one() {
        assert_eq!(parse_max_items("10"), Ok(10));
        assert_eq!(parse_max_items("0"), Ok(0));
        assert_eq!(parse_max_items("-1"), Ok(-1));
        for bad in ["-5", "-2", "abc", "1.5", ""] {
            assert!(parse_max_items(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_flag_says_what_it_takes() {
        for op in api::OPERATIONS {
            for p in op.params {
                let h = param_help(p, op);
                assert!(h.contains(':'), "{} --{}: {h}", op.name(), p.flag);
            }
        }
    }
}

//! `ant beta:worker poll|run`: the official worker's flags (same names,
//! variables and defaults) plus `--confine` and `--max-sessions`, parsed
//! into [`crate::worker::Options`]; the worker itself lives in `src/worker/`.

use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command, ValueHint};

use super::global::GlobalArgs;
use crate::error::{Error, Result};
use crate::http;
use crate::worker::{self, ConfineMode, Options, log};

pub const GROUP: &str = "beta:worker";

const ABOUT_POLL: &str =
    "Claim work items of a self-hosted environment and run their sessions' tool calls here";
const ABOUT_RUN: &str =
    "Run one already-claimed work item (the entrypoint of an --on-work container)";

fn bool_flag(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .value_name("BOOL")
        .num_args(0..=1)
        .require_equals(true)
        .default_missing_value("true")
        .value_parser(clap::value_parser!(bool))
        .help(help)
}

fn value(name: &'static str, value_name: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .value_name(value_name)
        .action(ArgAction::Set)
        .help(help)
}

fn required_env(
    name: &'static str,
    env: &'static str,
    value_name: &'static str,
    help: &'static str,
) -> Arg {
    value(name, value_name, help)
        .env(env)
        .hide_env_values(true)
        .required(true)
}

/// Flags both verbs take.
fn common(cmd: Command) -> Command {
    cmd.arg(required_env(
        "environment-id",
        "ANTHROPIC_ENVIRONMENT_ID",
        "ID",
        "The self-hosted environment (env_...), required",
    ))
    .arg(required_env(
        "environment-key",
        "ANTHROPIC_ENVIRONMENT_KEY",
        "KEY",
        "The environment's key, sent as Authorization: Bearer (never x-api-key), required",
    ))
    .arg(
        value("workdir", "DIR", "Directory the tools work in (relative to the current directory)")
            .default_value(".")
            .value_hint(ValueHint::DirPath),
    )
    .arg(bool_flag(
        "unrestricted-paths",
        "Let the file tools reach any path and run tools without Landlock confinement",
    ))
    .arg(
        value(
            "max-idle",
            "DURATION",
            "Stop a session this long after the agent ends its turn (Go duration: 60s, 1m30s; 0 = never)",
        )
        .default_value("1m0s"),
    )
    .arg(
        value(
            "log-format",
            "FORMAT",
            "Log format on stderr: text or json (any other value: text, with a warning)",
        )
        .default_value("text")
        .value_parser(LogFormat),
    )
    .arg(
        value(
            "confine",
            "MODE",
            "Landlock confinement of the tools: auto (warn and run unconfined where the kernel lacks it) or required (refuse to start)",
        )
        .default_value("auto")
        .value_parser(["auto", "required"]),
    )
    .after_help(
        "Tools may write only in the workdir and a private TMPDIR, and may not read your home directory \
         outside the workdir (Linux Landlock); see docs/self-hosted-worker.md.",
    )
}

pub fn command() -> Command {
    Command::new(GROUP)
        .about("The self-hosted worker: run the tool calls of a self_hosted environment's sessions on this machine")
        .disable_help_subcommand(true)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .defer(|cmd| {
            cmd.subcommand(
                common(Command::new("poll").about(ABOUT_POLL))
                    .arg(value(
                        "worker-id",
                        "ID",
                        "This worker's id, sent as Anthropic-Worker-ID (default: <hostname>-<16 hex>)",
                    )
                    .env("ANTHROPIC_WORKER_ID")
                    .hide_env_values(true))
                    .arg(
                        value(
                            "on-work",
                            "SCRIPT",
                            "Run SCRIPT for each claimed session instead of running it here ('in-process' or empty: here)",
                        )
                        .value_hint(ValueHint::CommandName),
                    )
                    .arg(
                        value("max-sessions", "N", "Run up to N sessions at once, each in <workdir>/<session id>/ when N > 1")
                            .default_value("1")
                            .value_parser(clap::value_parser!(u32).range(1..=256)),
                    ),
            )
            .subcommand(
                common(Command::new("run").about(ABOUT_RUN))
                    .arg(required_env(
                        "session-id",
                        "ANTHROPIC_SESSION_ID",
                        "ID",
                        "The session of the claimed item (sesn_...), required",
                    ))
                    .arg(required_env(
                        "work-id",
                        "ANTHROPIC_WORK_ID",
                        "ID",
                        "The claimed work item (work_...), required",
                    )),
            )
        })
}

/// `--log-format`: `text` or `json` (offered in help and completion); as
/// in the official worker, any other value means text.
#[derive(Clone)]
struct LogFormat;

impl clap::builder::TypedValueParser for LogFormat {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &Command,
        _arg: Option<&Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<String, clap::Error> {
        Ok(value.to_string_lossy().into_owned())
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            ["text", "json"]
                .into_iter()
                .map(clap::builder::PossibleValue::new),
        ))
    }
}

fn string(m: &ArgMatches, id: &str) -> Option<String> {
    m.try_get_one::<String>(id).ok().flatten().cloned()
}

/// Flags to [`Options`]; every error is a usage error (nothing was sent).
fn options(m: &ArgMatches, g: &GlobalArgs, poll: bool) -> Result<Options> {
    let nonempty = |id: &str| -> Result<String> {
        string(m, id)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Error::usage(format!("--{id} must not be empty")))
    };
    let max_idle_text = string(m, "max-idle").unwrap_or_default();
    let max_idle = worker::duration::parse_max_idle(&max_idle_text)
        .map_err(|e| Error::usage(format!("invalid value for --max-idle: {e}")))?;
    let base_url = g
        .base_url
        .clone()
        .or_else(|| std::env::var("ANTHROPIC_BASE_URL").ok())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "https://api.anthropic.com".into());
    let base_url = http::validate_base_url(&base_url)?;
    let log_format_text = string(m, "log-format").unwrap_or_default();
    let json = log_format_text == "json";
    let stderr_color = crate::output::Terminal::detect().for_stderr().color;
    let log_format = match (json, stderr_color) {
        (true, _) => log::Format::Json,
        (false, true) => log::Format::Pretty,
        (false, false) => log::Format::Text,
    };
    let on_work = if poll {
        string(m, "on-work").filter(|s| !s.is_empty() && s != "in-process")
    } else {
        None
    };
    let environment_key = nonempty("environment-key")?;
    http::check_header_value(
        "--environment-key (or ANTHROPIC_ENVIRONMENT_KEY)",
        &environment_key,
    )?;
    let worker_id = if poll {
        string(m, "worker-id").filter(|s| !s.is_empty())
    } else {
        None
    };
    if let Some(id) = &worker_id {
        http::check_header_value("--worker-id (or ANTHROPIC_WORKER_ID)", id)?;
    }
    let unrestricted_paths =
        m.try_get_one::<bool>("unrestricted-paths").ok().flatten() == Some(&true);
    let confine = if string(m, "confine").as_deref() == Some("required") {
        ConfineMode::Required
    } else {
        ConfineMode::Auto
    };
    if confine == ConfineMode::Required && unrestricted_paths {
        return Err(Error::usage(
            "--confine required cannot be combined with --unrestricted-paths, which lifts the confinement",
        ));
    }
    Ok(Options {
        environment_id: nonempty("environment-id")?,
        environment_key,
        worker_id,
        session_id: if poll {
            None
        } else {
            Some(nonempty("session-id")?)
        },
        work_id: if poll {
            None
        } else {
            Some(nonempty("work-id")?)
        },
        base_url,
        workspace_id: g
            .workspace_id
            .clone()
            .or_else(|| std::env::var("ANTHROPIC_WORKSPACE_ID").ok())
            .filter(|w| !w.is_empty()),
        on_work,
        workdir: PathBuf::from(string(m, "workdir").unwrap_or_else(|| ".".into())),
        unrestricted_paths,
        max_idle,
        log_format,
        unknown_log_format: (!matches!(log_format_text.as_str(), "text" | "json"))
            .then_some(log_format_text),
        confine,
        max_sessions: if poll {
            m.try_get_one::<u32>("max-sessions")
                .ok()
                .flatten()
                .copied()
                .unwrap_or(1) as usize
        } else {
            1
        },
        debug: g.debug,
        max_retries: g.max_retries,
    })
}

pub fn run(verb: &str, m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    match verb {
        "poll" => worker::poll(options(m, g, true)?),
        "run" => worker::run(options(m, g, false)?),
        _ => Err(Error::usage(format!("unknown command {GROUP} {verb}"))),
    }
}

//! `ant beta:sessions run`: the quickstart in one command. Create (or
//! continue) a session, open its stream first, send the user message, render
//! until idle, answer tool confirmations, and say how to continue. Without
//! `-m` at a terminal it opens a chat instead ([`crate::chat`]).

use std::io::IsTerminal;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::json;

use super::Failure;
use super::global::GlobalArgs;
use super::run::Context;
use crate::api::Operation;
use crate::chat::Chat;
use crate::error::{Error, Result};
use crate::request::direct::{build_with, send_event};
use crate::stream::confirm::Approve;
use crate::stream::sink::{event_sink, readable};
use crate::stream::turn::{Session, Turn, user_message};

pub const VERB: &str = "run";

pub fn command() -> Command {
    Command::new(VERB)
        .about("Create (or continue) a session, send a message and show the agent's work until it is idle")
        .after_help(
            "It waits for the turn of its own message, also on a busy session; on a session \
             that waits for a tool confirmation or a custom tool result it sends nothing (exit \
             10). Its exit code says how the turn ended (10 to 14 below). Ctrl-C interrupts the \
             turn: one user.interrupt, then up to 5 s for the session to stop, exit 130; Ctrl-C \
             again quits at once. Without --message, with stdin and stdout at a terminal, a \
             chat opens: each entry is one turn (/help lists the prompt's commands, Ctrl-D \
             leaves).",
        )
        .arg(
            Arg::new("agent")
                .long("agent")
                .value_name("YAML")
                .help("Agent to run: its ID, or {id: ..., version: N} (required without --session-id)"),
        )
        .arg(
            Arg::new("environment-id")
                .long("environment-id")
                .value_name("ID")
                .help("Environment the session runs in (required without --session-id)"),
        )
        .arg(
            Arg::new("session-id")
                .long("session-id")
                .value_name("ID")
                .help("Continue this session instead of creating one"),
        )
        .arg(Arg::new("title").long("title").value_name("STRING").help("Title of a new session: string"))
        .arg(
            Arg::new("message")
                .long("message")
                .short('m')
                .value_name("TEXT")
                .allow_hyphen_values(true)
                .help("The user message: text (default: read from stdin when piped; at a terminal, a chat opens)"),
        )
        .arg(
            Arg::new("approve")
                .long("approve")
                .value_name("WHICH")
                .value_parser(["all", "none"])
                .help("Answer tool confirmations without asking: all (allow) or none (deny); default: ask on a terminal"),
        )
        .arg(
            Arg::new("no-reconnect")
                .long("no-reconnect")
                .action(ArgAction::SetTrue)
                .help("Do not reconnect (and backfill missed events) when the connection drops"),
        )
}

fn message_text(m: &ArgMatches) -> Result<String> {
    let text = match m.get_one::<String>("message") {
        Some(t) => t.clone(),
        None => {
            let piped = super::piped_stdin_bytes().map_err(super::stdin_error)?;
            match piped {
                Some(bytes) => String::from_utf8(bytes)
                    .map(|s| s.trim_end().to_string())
                    .map_err(|_| Error::usage("the message on stdin is not UTF-8 text"))?,
                None => {
                    return Err(Error::usage(
                        "Required flag \"--message\" not set (or pipe the message on stdin)",
                    ));
                }
            }
        }
    };
    if text.trim().is_empty() {
        return Err(Error::usage("--message: the message is empty"));
    }
    Ok(text)
}

pub fn run(g: &GlobalArgs, m: &ArgMatches) -> std::result::Result<(), Failure> {
    let get = |k: &str| m.get_one::<String>(k).cloned();
    // The flags of `keys` given (`given`) or not, as `--name`s.
    let flags = |keys: &[&'static str], given: bool| -> Vec<String> {
        keys.iter()
            .filter(|k| get(k).is_some() == given)
            .map(|k| format!("--{k}"))
            .collect()
    };
    let session = match get("session-id") {
        Some(id) => {
            // A session keeps the agent, environment and title it was created with.
            let ignored = flags(&["agent", "environment-id", "title"], true);
            if !ignored.is_empty() {
                return Err(Error::usage(format!(
                    "{} cannot be used with --session-id: they set up a new session, and {id} keeps its own (drop {}, or drop --session-id to start a new session)",
                    ignored.join(" and "),
                    if ignored.len() > 1 { "them" } else { "it" }
                ))
                .into());
            }
            Session::Existing(id)
        }
        None => {
            let missing = flags(&["agent", "environment-id"], false);
            if !missing.is_empty() {
                return Err(Error::usage(format!(
                    "Required flag{} \"{}\" not set (or give --session-id to continue a session)",
                    if missing.len() > 1 { "s" } else { "" },
                    missing.join(", ")
                ))
                .into());
            }
            let mut values = vec![
                ("agent", json!(get("agent"))),
                ("environment-id", json!(get("environment-id"))),
            ];
            if let Some(t) = get("title") {
                values.push(("title", json!(t)));
            }
            Session::Create(build_with("beta:sessions", "create", &values)?)
        }
    };
    let approve = match get("approve").as_deref() {
        Some("all") => Approve::All,
        Some("none") => Approve::None,
        _ => Approve::Ask,
    };
    let stream_op = Operation::find("beta:sessions:events", "stream")
        .ok_or_else(|| Error::Other("no stream operation in the table".into()))?;
    if get("message").is_none() && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
    {
        let ctx = Context::new(g, format!("beta:sessions {VERB}"))?;
        let chat = Chat {
            client: &ctx.client,
            opts: &ctx.opts,
            stream_op,
            session,
            approve,
            reconnect: !m.get_flag("no-reconnect"),
            verbose: g.verbose,
        };
        return chat.run().map_err(|e| ctx.failure(e));
    }
    let text = message_text(m)?;
    // The message goes in as a value (never read as YAML or @file); check
    // it before anything is created.
    send_event("sesn_check", &user_message(&text))?;
    let ctx = Context::new(g, format!("beta:sessions {VERB}"))?;
    let turn = Turn {
        client: &ctx.client,
        session,
        text,
        reconnect: !m.get_flag("no-reconnect"),
        approve,
        deltas: readable(&ctx.opts) && ctx.opts.term.stdout_tty,
        chat: false,
    };
    // The turn handles Ctrl-C itself (it interrupts the session).
    ctx.block_on_handling_signals(async {
        let mut sink = event_sink(stream_op, &ctx.opts, g.verbose);
        turn.run(&mut *sink).await
    })
}

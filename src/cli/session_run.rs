//! `ant beta:sessions run`: the quickstart in one command. Create (or
//! continue) a session, open its stream first, send the user message, render
//! until idle, answer tool confirmations, and say how to continue.

use std::io::{BufRead, Write};

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{Value, json};

use super::Failure;
use super::global::GlobalArgs;
use super::run::Context;
use crate::stream::sink::{event_sink, readable};
use crate::api::Operation;
use crate::error::{Error, Result};
use crate::request::{self, Flag, Input, Request, files::DiskFiles};
use crate::stream::follow::{Follow, Outcome, StopRule};

pub const VERB: &str = "run";

pub fn command() -> Command {
    Command::new(VERB)
        .about("Create (or continue) a session, send a message and show the agent's work until it is idle")
        .after_help(
            "Exit codes: 0 when the agent finished its turn, 10 when it waits for a custom tool \
             result or a tool confirmation, 11 when the session was terminated (see 'ant --help').",
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
                .help("The user message: text (default: read from stdin when piped)"),
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

fn op(group: &str, verb: &str) -> &'static Operation {
    Operation::find(group, verb).expect("operation in the table")
}

/// Builds a table operation's request from `(flag, value)` pairs: strings
/// as typed on a command line, other JSON values used as they are (so a
/// message starting with `@` is sent as text, not read as a file).
fn build(group: &str, verb: &str, flags: &[(&str, Value)]) -> Result<Request> {
    let o = op(group, verb);
    let flags = flags
        .iter()
        .map(|(name, v)| {
            let p = o
                .params
                .iter()
                .find(|p| p.flag == *name)
                .expect("known flag");
            match v {
                Value::String(s) => Flag::Param(p, s.clone()),
                other => Flag::Value(p, other.clone()),
            }
        })
        .collect();
    request::build(
        o,
        Input {
            flags,
            ..Default::default()
        },
        &mut DiskFiles::default(),
    )
}

fn message_text(m: &ArgMatches) -> Result<String> {
    if let Some(t) = m.get_one::<String>("message") {
        return Ok(t.clone());
    }
    let piped = super::piped_stdin_bytes().map_err(|e| Error::Io(format!("reading stdin: {e}")))?;
    match piped {
        Some(bytes) => String::from_utf8(bytes)
            .map(|s| s.trim_end().to_string())
            .map_err(|_| Error::usage("the message on stdin is not UTF-8 text")),
        None => Err(Error::usage(
            "Required flag \"--message\" not set (or pipe the message on stdin)",
        )),
    }
}

pub fn run(g: &GlobalArgs, m: &ArgMatches) -> std::result::Result<(), Failure> {
    let get = |k: &str| m.get_one::<String>(k).cloned();
    let text = message_text(m)?;
    let session_id = get("session-id");
    let create = match &session_id {
        Some(_) => None,
        None => {
            let (Some(agent), Some(env)) = (get("agent"), get("environment-id")) else {
                return Err(Error::usage(
                    "Required flags \"--agent, --environment-id\" not set (or give --session-id to continue a session)",
                )
                .into());
            };
            let mut flags = vec![("agent", json!(agent)), ("environment-id", json!(env))];
            if let Some(t) = get("title") {
                flags.push(("title", json!(t)));
            }
            Some(build("beta:sessions", "create", &flags)?)
        }
    };
    // The message goes in as a value (never read as YAML or @file); check it
    // before anything is created.
    let message = json!({"type": "user.message", "content": [{"type": "text", "text": text}]});
    let send_with = |sid: &str, event: &Value| {
        build(
            "beta:sessions:events",
            "send",
            &[("session-id", json!(sid)), ("event", event.clone())],
        )
    };
    send_with("sesn_check", &message)?;
    let approve = get("approve");
    let ctx = Context::new(g, format!("beta:sessions {VERB}"))?;
    let reconnect = !m.get_flag("no-reconnect");
    ctx.block_on(async {
        let sid = match (session_id, create) {
            (Some(id), _) => id,
            (None, Some(req)) => {
                let resp = ctx.client.send(&req, "application/json").await?;
                let body = ctx.client.read_body(resp, "creating the session").await?;
                let session: Value = serde_json::from_slice(&body).map_err(|e| {
                    Error::Other(format!("creating the session: response is not JSON: {e}"))
                })?;
                session["id"]
                    .as_str()
                    .ok_or_else(|| {
                        Error::Other("creating the session: no id in the response".into())
                    })?
                    .to_string()
            }
            (None, None) => unreachable!("checked above"),
        };
        eprintln!("Session ID: {sid}");
        let send = send_with(&sid, &message)?;
        let mut stream_flags = vec![("session-id", json!(sid))];
        let stream_op = op("beta:sessions:events", "stream");
        if readable(&ctx.opts) && ctx.opts.term.stdout_tty {
            stream_flags.push(("event-delta", json!("agent.message")));
        }
        let stream = build("beta:sessions:events", "stream", &stream_flags)?;
        let mut follow = Follow {
            client: &ctx.client,
            stream,
            reconnect,
            max_items: -1,
            rule: StopRule::new(true),
            after_connect: Some(send),
        };
        let mut sink = event_sink(stream_op, &ctx.opts, g.verbose);
        let mut custom: Vec<Value> = Vec::new();
        let outcome = follow
            .run(&mut |ev, rule| {
                sink.item(ev)?;
                let id = ev["id"].as_str().unwrap_or_default();
                match ev["type"].as_str().unwrap_or_default() {
                    "agent.tool_use" | "agent.mcp_tool_use"
                        if ev["evaluated_permission"] == "ask" =>
                    {
                        let Some(allow) = decide(approve.as_deref(), ev) else {
                            return Ok(vec![]);
                        };
                        rule.answered(id);
                        let mut answer = json!({"type": "user.tool_confirmation", "tool_use_id": id,
                                                "result": if allow { "allow" } else { "deny" }});
                        if let Some(thread) = ev.get("session_thread_id").filter(|t| t.is_string())
                        {
                            answer["session_thread_id"] = thread.clone();
                        }
                        Ok(vec![send_with(&sid, &answer)?])
                    }
                    "agent.custom_tool_use" => {
                        custom.push(ev.clone());
                        Ok(vec![])
                    }
                    _ => Ok(vec![]),
                }
            })
            .await;
        sink.finish()?;
        let outcome = outcome?;
        if let Outcome::RequiresAction(ids) = &outcome {
            explain_pending(&sid, ids, &custom);
        }
        if outcome == Outcome::Idle {
            eprintln!("Continue with: ant beta:sessions run --session-id {sid} --message '...'");
        }
        outcome.into_result()
    })
}

/// Allow or deny a tool use: from `--approve`, else by asking on the
/// terminal; `None` when nobody can answer.
fn decide(approve: Option<&str>, ev: &Value) -> Option<bool> {
    match approve {
        Some("all") => return Some(true),
        Some("none") => return Some(false),
        _ => {}
    }
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let mut out = tty.try_clone().ok()?;
    let name = ev["name"].as_str().unwrap_or("tool");
    let input = ev["input"].to_string();
    let input: String = input.chars().take(120).collect();
    write!(out, "Allow {name} {input}? [y/N] ").ok()?;
    out.flush().ok()?;
    let mut line = String::new();
    std::io::BufReader::new(tty).read_line(&mut line).ok()?;
    Some(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// On stderr: what the client must send back for each pending event.
fn explain_pending(sid: &str, ids: &[String], custom: &[Value]) {
    eprintln!("The session is waiting for you ({}).", ids.join(", "));
    for id in ids {
        match custom.iter().find(|c| c["id"].as_str() == Some(id)) {
            Some(c) => eprintln!(
                "Custom tool {} was called with {}. Send its result with:\n  ant beta:sessions:events send {sid} --event '{{type: user.custom_tool_result, custom_tool_use_id: {id}, content: [{{type: text, text: \"RESULT\"}}]}}'",
                c["name"].as_str().unwrap_or("?"),
                c["input"]
            ),
            None => eprintln!(
                "Tool use {id} needs a confirmation. Answer with:\n  ant beta:sessions:events send {sid} --event '{{type: user.tool_confirmation, tool_use_id: {id}, result: allow}}'"
            ),
        }
    }
}

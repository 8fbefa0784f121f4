//! One turn of `beta:sessions run`: create (or continue) the session, open
//! its stream, send the user message, show the agent's work, answer tool
//! confirmations, and stop at the idle that ends *this message's* turn.
//! Ctrl-C interrupts the turn it started: one `user.interrupt`, up to 5 s
//! for the idle, then exit 130; a second Ctrl-C quits at once. While its
//! message is still queued behind another turn, Ctrl-C interrupts nothing.

use std::cell::Cell;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::confirm::{self, Approve};
use super::follow::{Follow, first_message};
use super::spinner::note;
use super::stop::{Outcome, StopReason, Watch};
use crate::error::{Error, Result};
use crate::http::Client;
use crate::output::Printer;
use crate::request::Request;
use crate::request::direct::{build_with, send_event};

/// How long an interrupted turn may take to reach its idle.
const INTERRUPT_WAIT: Duration = Duration::from_secs(5);

/// The session a turn runs in.
pub enum Session {
    Existing(String),
    /// `beta:sessions create`, sent first.
    Create(Request),
}

pub struct Turn<'a> {
    pub client: &'a Client,
    pub session: Session,
    /// The user message's text, sent exactly as given.
    pub text: String,
    pub reconnect: bool,
    pub approve: Approve,
    /// Ask the stream for live `agent.message` previews (a terminal transcript).
    pub deltas: bool,
    /// One turn of an interactive chat: the chat names the session and how
    /// to continue it, and a second Ctrl-C returns to its prompt.
    pub chat: bool,
}

/// The `user.message` event carrying `text`.
pub fn user_message(text: &str) -> Value {
    json!({"type": "user.message", "content": [{"type": "text", "text": text}]})
}

impl Turn<'_> {
    /// Runs the turn, printing its events to `sink`; the result says how it ended.
    pub async fn run(self, sink: &mut dyn Printer) -> Result<()> {
        let mut sigint = signal(SignalKind::interrupt())
            .map_err(|e| Error::Other(format!("cannot watch for Ctrl-C: {e}")))?;
        let sid = tokio::select! {
            biased;
            _ = sigint.recv() => return Err(Error::Interrupted),
            sid = session_id(self.client, &self.session) => sid?,
        };
        if !self.chat {
            note!("Session ID: {sid}");
        }
        let mut flags = vec![("session-id", json!(sid))];
        if self.deltas {
            flags.push(("event-delta", json!("agent.message")));
        }
        let stream = build_with("beta:sessions:events", "stream", &flags)?;
        let message = send_event(&sid, &user_message(&self.text))?;
        let mut follow = Follow {
            client: self.client,
            watch: Watch::for_stream(&stream.path, true),
            stream,
            reconnect: self.reconnect,
            max_items: -1,
        };
        let mut opened = tokio::select! {
            biased;
            _ = sigint.recv() => return Err(Error::Interrupted),
            opened = follow.open(true) => opened?,
        };
        // A session waiting for the client, or gone, cannot take the message.
        match opened.at_rest() {
            Some(Outcome::Idle(StopReason::RequiresAction(ids))) => {
                explain_pending(&sid, ids, None);
                note!("Your message was not sent: answer first, then run again.");
                return Outcome::Idle(StopReason::RequiresAction(ids.clone())).into_result();
            }
            Some(gone @ Outcome::Terminated(_)) => return gone.clone().into_result(),
            _ => opened.follow_next_turn(),
        }
        // Once sent, the message is in the session: Ctrl-C interrupts from here.
        let sent = tokio::select! {
            biased;
            _ = sigint.recv() => {
                note!("Not waiting for the message to be sent: it may have reached the session; {}", stop_hint(&sid));
                return Err(Error::Interrupted);
            }
            sent = follow.send(&message) => sent?,
        };
        let own = first_message(&sent);
        let own_id = own.and_then(|m| m.get("id")).and_then(Value::as_str);
        follow.watch.expect_own(own_id, &self.text);
        // Queued behind another turn (`processed_at: null`) until its echo.
        let queued = Cell::new(own.is_some_and(|m| m.get("processed_at") == Some(&Value::Null)));
        let mut custom: Vec<Value> = Vec::new();
        let outcome = {
            let approve = self.approve;
            let sid = sid.as_str();
            let custom = &mut custom;
            let sink = &mut *sink;
            let queued = &queued;
            let mut emit = |ev: &Value, json: &str, watch: &mut Watch| -> Result<Vec<Request>> {
                if watch.is_own_echo(ev) {
                    queued.set(false);
                }
                sink.event(json, ev)?;
                respond(ev, watch, approve, sid, custom)
            };
            let run = follow.run(opened, &mut emit);
            tokio::pin!(run);
            tokio::select! {
                biased;
                outcome = &mut run => outcome,
                _ = sigint.recv() => {
                    if queued.get() {
                        // Its turn has not started: interrupt no other.
                        note!("Your message is still queued behind the session's current turn: nothing was interrupted, and it runs when that turn ends; {}", stop_hint(sid));
                    } else {
                        self.interrupt(sid, run, &mut sigint).await;
                    }
                    Err(Error::Interrupted)
                }
            }
        };
        // How the turn ended says more than a --transform that matched nothing.
        let finished = sink.finish();
        let outcome = outcome?;
        match &outcome {
            Outcome::Idle(StopReason::RequiresAction(ids)) => {
                explain_pending(&sid, ids, Some(&custom))
            }
            Outcome::Idle(StopReason::EndTurn) if !self.chat => {
                note!("Continue with: ant beta:sessions run --session-id {sid} --message '...'")
            }
            _ => {}
        }
        outcome.into_result().and(finished)
    }

    /// Sends one `user.interrupt` and lets the stream run up to
    /// [`INTERRUPT_WAIT`] for the idle; a second Ctrl-C cuts both short.
    async fn interrupt(
        &self,
        sid: &str,
        run: std::pin::Pin<&mut impl std::future::Future<Output = Result<Outcome>>>,
        sigint: &mut Signal,
    ) {
        let hint = stop_hint(sid);
        let again = if self.chat {
            "return to the prompt at once"
        } else {
            "quit at once"
        };
        note!("Interrupting the turn (user.interrupt); Ctrl-C again to {again}.");
        let sent = async {
            let req = send_event(sid, &json!({"type": "user.interrupt"}))?;
            let resp = self.client.send(&req, "application/json").await?;
            self.client
                .read_body(resp, "interrupting the session")
                .await
        };
        tokio::select! {
            biased;
            _ = sigint.recv() => {
                note!("Not waiting: the session may still be running; {hint}");
                return;
            }
            sent = sent => if let Err(e) = sent {
                note!("Could not interrupt the session ({e}); it may still be running; {hint}");
                return;
            }
        }
        tokio::select! {
            biased;
            _ = sigint.recv() => note!("Not waiting for the session to stop; {hint}"),
            _ = run => {}
            _ = tokio::time::sleep(INTERRUPT_WAIT) => note!(
                "The session did not go idle within {} s; it may still be running; {hint}",
                INTERRUPT_WAIT.as_secs()
            ),
        }
    }
}

/// The session's ID: the one given, or the one `beta:sessions create`
/// answers with (sent now).
pub async fn session_id(client: &Client, session: &Session) -> Result<String> {
    let req = match session {
        Session::Existing(id) => return Ok(id.clone()),
        Session::Create(req) => req,
    };
    let resp = client.send(req, "application/json").await?;
    let body = client.read_body(resp, "creating the session").await?;
    let session: Value = serde_json::from_slice(&body)
        .map_err(|e| Error::Other(format!("creating the session: response is not JSON: {e}")))?;
    session["id"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| Error::Other("creating the session: no id in the response".into()))
}

/// How to stop the session by hand.
fn stop_hint(sid: &str) -> String {
    format!("to stop it: ant beta:sessions:events send {sid} --event '{{type: user.interrupt}}'")
}

/// What to send back after an event: a confirmation for a tool use that
/// asks for one (when someone can answer); custom tool calls are noted.
fn respond(
    ev: &Value,
    watch: &mut Watch,
    approve: Approve,
    sid: &str,
    custom: &mut Vec<Value>,
) -> Result<Vec<Request>> {
    let id = ev["id"].as_str().unwrap_or_default();
    match ev["type"].as_str().unwrap_or_default() {
        "agent.tool_use" | "agent.mcp_tool_use" if ev["evaluated_permission"] == "ask" => {
            let Some(allow) = confirm::decide(approve, ev)? else {
                return Ok(vec![]);
            };
            watch.answered(id);
            let mut answer = json!({"type": "user.tool_confirmation", "tool_use_id": id,
                                    "result": if allow { "allow" } else { "deny" }});
            if let Some(thread) = ev.get("session_thread_id").filter(|t| t.is_string()) {
                answer["session_thread_id"] = thread.clone();
            }
            Ok(vec![send_event(sid, &answer)?])
        }
        "agent.custom_tool_use" => {
            custom.push(ev.clone());
            Ok(vec![])
        }
        _ => Ok(vec![]),
    }
}

/// On stderr: what the client must send back for each pending event.
/// `custom` holds the custom tool calls seen, when the turn was watched.
fn explain_pending(sid: &str, ids: &[String], custom: Option<&[Value]>) {
    note!("The session is waiting for you ({}).", ids.join(", "));
    let result = |id: &str| {
        format!(
            "ant beta:sessions:events send {sid} --event '{{type: user.custom_tool_result, custom_tool_use_id: {id}, content: [{{type: text, text: \"RESULT\"}}]}}'"
        )
    };
    let confirm = |id: &str| {
        format!(
            "ant beta:sessions:events send {sid} --event '{{type: user.tool_confirmation, tool_use_id: {id}, result: allow}}'"
        )
    };
    for id in ids {
        match custom.map(|c| c.iter().find(|c| c["id"].as_str() == Some(id))) {
            Some(Some(c)) => note!(
                "Custom tool {} was called with {}. Send its result with:\n  {}",
                c["name"].as_str().unwrap_or("?"),
                c["input"],
                result(id)
            ),
            Some(None) => note!(
                "Tool use {id} needs a confirmation. Answer with:\n  {}",
                confirm(id)
            ),
            None => note!(
                "Event {id} needs a confirmation or a custom tool result:\n  {}\n  {}",
                confirm(id),
                result(id)
            ),
        }
    }
}

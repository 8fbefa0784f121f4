//! When a watched session stream stops, and with which exit code: the rules
//! of `--until-idle` and `beta:sessions run` as a pure state machine (events
//! in, decision out), so every rule is unit-tested without a server.
//!
//! - At attach, the session's recent history decides ([`Watch::attach`]):
//!   pending user input, a running session or one that never ran means wait
//!   for the next idle; an idle session stops at once with its stop reason;
//!   a terminated one stops with 11. New user input or a new running status
//!   arriving after that means wait for the next idle too.
//! - `run` waits for its own turn ([`Watch::expect_own`]): only an idle after
//!   its own message's echo (known by id, else by text), and after the
//!   session ran again, counts.
//! - Session streams follow the session's statuses, thread streams their
//!   thread's (the primary thread's are the session's; a sub-agent thread
//!   also stops when the whole session is at rest); an idle waiting only on
//!   events the client answered does not stop.

use std::collections::HashSet;

use serde_json::Value;

use crate::error::Error;

/// Why a session went idle.
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    EndTurn,
    /// Waiting for the client: these events need an answer.
    RequiresAction(Vec<String>),
    RetriesExhausted,
    /// The turn ended (e.g. `end_turn`) right after a `session.error` that was not retried.
    Failed(String),
    BudgetReached,
    /// The model refused; the idle event's `stop_details`, when it had some.
    Refusal(Option<Value>),
    /// A stop reason this version of `ant` does not know.
    Unknown(String),
}

impl StopReason {
    /// The stop reason as the API writes it (`end_turn`).
    pub fn wire_name(&self) -> &str {
        match self {
            StopReason::EndTurn => "end_turn",
            StopReason::RequiresAction(_) => "requires_action",
            StopReason::RetriesExhausted => "retries_exhausted",
            StopReason::Failed(_) => "end_turn after a session.error",
            StopReason::BudgetReached => "budget_reached",
            StopReason::Refusal(_) => "refusal",
            StopReason::Unknown(r) => r,
        }
    }
}

/// How a followed stream ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The server closed the stream (only without `--until-idle`) or `--max-items` was reached.
    Ended,
    /// The watched turn ended.
    Idle(StopReason),
    /// The session is gone: `"terminated"` or `"deleted"`.
    Terminated(&'static str),
}

impl Outcome {
    /// The exit status: `Ok` for success, else the error whose code says how the turn ended.
    pub fn into_result(self) -> Result<(), Error> {
        let reason = match self {
            Outcome::Ended | Outcome::Idle(StopReason::EndTurn) => return Ok(()),
            Outcome::Terminated(what) => return Err(Error::Terminated(format!("session {what}"))),
            Outcome::Idle(r) => r,
        };
        Err(match reason {
            StopReason::EndTurn => unreachable!("handled above"),
            StopReason::RequiresAction(ids) => Error::RequiresAction(format!(
                "session is waiting for the client (requires_action): {}",
                ids.join(", ")
            )),
            StopReason::RetriesExhausted => {
                Error::TurnFailed("the turn failed: retries exhausted (retries_exhausted)".into())
            }
            StopReason::Failed(message) => {
                Error::TurnFailed(format!("the turn ended with an error: {message}"))
            }
            StopReason::BudgetReached => {
                Error::BudgetReached("the session reached its budget (budget_reached)".into())
            }
            StopReason::Refusal(details) => Error::Refused(refusal_text(details.as_ref())),
            StopReason::Unknown(r) => Error::TurnFailed(format!(
                "the session stopped for a reason ant does not know: {r}"
            )),
        })
    }
}

/// One line: the category, the explanation and the whole `stop_details`.
fn refusal_text(details: Option<&Value>) -> String {
    let mut s = "the agent refused (refusal)".to_string();
    let field = |k: &str| details.and_then(|d| d.get(k)).and_then(Value::as_str);
    if let Some(c) = field("category") {
        s.push_str(&format!("; category: {c}"));
    }
    if let Some(e) = field("explanation") {
        s.push_str(&format!("; explanation: {e}"));
    }
    if let Some(d) = details.filter(|d| !d.is_null()) {
        s.push_str(&format!("; stop_details: {d}"));
    }
    s
}

/// What the session's history says at attach time.
#[derive(Debug, Clone, PartialEq)]
pub enum Attach {
    /// Wait for the next idle.
    Wait,
    /// The session is at rest: stop after the buffered events, at the event
    /// with this id if the stream replays it.
    Stop(Option<String>, Outcome),
}

/// The user events that start (or resume) a turn.
const USER_INPUT: &[&str] = &[
    "user.message",
    "user.tool_confirmation",
    "user.custom_tool_result",
    "user.interrupt",
];

/// The statuses of threads, in the session's history (for thread streams).
pub const THREAD_STATUS_TYPES: &[&str] = &[
    "session.thread_status_running",
    "session.thread_status_idle",
    "session.thread_status_rescheduled",
    "session.thread_status_terminated",
];

/// The event types the attach-time history needs (the `types[]` filter).
pub const HISTORY_TYPES: &[&str] = &[
    "session.status_running",
    "session.status_idle",
    "session.status_rescheduled",
    "session.status_terminated",
    "session.error",
    "user.message",
    "user.tool_confirmation",
    "user.custom_tool_result",
    "user.interrupt",
];

/// `run`'s own message: its id (else its text, to know its echo by),
/// whether its echo was seen, and whether the session ran after it.
#[derive(Debug, Default)]
struct Own {
    id: Option<String>,
    text: String,
    echoed: bool,
    ran: bool,
}

impl Own {
    fn is_echo(&self, ev: &Value) -> bool {
        ty(ev) == "user.message"
            && match &self.id {
                Some(own) => id(ev) == Some(own.as_str()),
                None => text_of(ev) == self.text,
            }
    }
}

/// The text blocks of a message, one per line.
fn text_of(ev: &Value) -> String {
    let blocks = ev.get("content").and_then(Value::as_array);
    let texts: Vec<&str> = blocks
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    texts.join("\n")
}

/// The state of one watched stream.
#[derive(Debug, Default)]
pub struct Watch {
    until_idle: bool,
    /// On a thread stream: the thread whose statuses count.
    thread: Option<String>,
    /// An idle now ends the watched turn.
    armed: bool,
    /// Ids of events that were history at attach (a replayed old idle must not count).
    history: HashSet<String>,
    /// `processed_at` of the newest status in that history.
    history_time: Option<String>,
    own: Option<Own>,
    /// Events the client answered (tool confirmations sent).
    answered: HashSet<String>,
    /// A `session.error` of the current turn that was not going to be retried.
    turn_error: Option<String>,
}

/// The session and (for thread streams) thread a stream path names.
pub fn stream_ids(path: &str) -> (Option<&str>, Option<&str>) {
    let parts: Vec<&str> = path.split('/').collect();
    let after = |key: &str| {
        parts
            .iter()
            .position(|p| *p == key)
            .and_then(|i| parts.get(i + 1))
            .copied()
    };
    (after("sessions"), after("threads"))
}

/// An event's type (`""` when it has none).
pub fn ty(ev: &Value) -> &str {
    ev.get("type").and_then(Value::as_str).unwrap_or("")
}

fn id(ev: &Value) -> Option<&str> {
    ev.get("id").and_then(Value::as_str)
}

impl Watch {
    /// A watch for the stream at `path` (`.../threads/{id}/stream` follows one thread).
    pub fn for_stream(path: &str, until_idle: bool) -> Self {
        Watch {
            until_idle,
            thread: stream_ids(path).1.map(String::from),
            // Without a history read (e.g. a thread), the first idle counts.
            armed: true,
            ..Default::default()
        }
    }

    pub fn until_idle(&self) -> bool {
        self.until_idle
    }

    /// Whether the next idle ends the watched turn.
    pub fn is_armed(&self) -> bool {
        self.armed
    }

    /// Decides from the session's recent history (newest first, filtered to
    /// [`HISTORY_TYPES`]) whether to wait for the next idle or stop at once.
    pub fn attach(&mut self, newest_first: &[Value]) -> Attach {
        let newest_status = newest_first
            .iter()
            .position(|e| self.status_of(e).is_some());
        self.history = newest_first
            .iter()
            .filter_map(|e| id(e).map(String::from))
            .collect();
        let Some(i) = newest_status else {
            // Never ran (or ran long ago beyond this page): wait for an idle.
            self.armed = true;
            return Attach::Wait;
        };
        let status_ev = &newest_first[i];
        self.history_time = status_ev
            .get("processed_at")
            .and_then(Value::as_str)
            .map(String::from);
        let pending_input = newest_first[..i].iter().any(|e| self.is_input(e));
        match self.status_of(status_ev).unwrap_or_default() {
            "terminated" => Attach::Stop(id(status_ev).map(String::from), self.end("terminated")),
            "idle" if !pending_input => {
                // A session.error between this idle and the status before it failed the turn.
                let older = &newest_first[i + 1..];
                let error = older
                    .iter()
                    .take_while(|e| self.status_of(e).is_none())
                    .find_map(fatal_error);
                self.armed = false;
                Attach::Stop(
                    id(status_ev).map(String::from),
                    Outcome::Idle(stop_reason(status_ev, error)),
                )
            }
            _ => {
                self.armed = true;
                Attach::Wait
            }
        }
    }

    /// The watched thread is the session's primary thread: its statuses
    /// are the session's.
    pub fn primary_thread(&mut self) {
        self.thread = None;
    }

    /// Wait for the next idle, whatever the history said.
    pub fn wait(&mut self) {
        self.armed = true;
    }

    /// `run`: only the turn that handles this message (sent by us) counts.
    /// Its echo is known by the id the send returned, or else by its text.
    pub fn expect_own(&mut self, message_id: Option<&str>, text: &str) {
        self.own = Some(Own {
            id: message_id.map(String::from),
            text: text.to_string(),
            ..Default::default()
        });
        self.armed = false;
    }

    /// Whether `ev` is the echo of `run`'s own message.
    pub fn is_own_echo(&self, ev: &Value) -> bool {
        self.own.as_ref().is_some_and(|o| o.is_echo(ev))
    }

    /// The client answered this event; an idle waiting only on answered
    /// events does not stop the stream.
    pub fn answered(&mut self, event_id: &str) {
        self.answered.insert(event_id.to_string());
    }

    /// Whether an event was already history when the stream attached.
    fn is_old(&self, ev: &Value) -> bool {
        if id(ev).is_some_and(|i| self.history.contains(i)) {
            return true;
        }
        match (
            &self.history_time,
            ev.get("processed_at").and_then(Value::as_str),
        ) {
            // RFC 3339 UTC timestamps of one server compare as text.
            (Some(h), Some(t)) => t < h.as_str(),
            _ => false,
        }
    }

    /// Whether an event surely happened after the attach-time history: not
    /// in it, and processed after its newest status.
    fn is_new(&self, ev: &Value) -> bool {
        let at = ev.get("processed_at").and_then(Value::as_str);
        !self.is_old(ev) && at.is_some_and(|t| self.history_time.as_deref().is_none_or(|h| t > h))
    }

    /// The status an event reports for the watched session or thread.
    fn status_of<'v>(&self, ev: &'v Value) -> Option<&'v str> {
        let t = ty(ev);
        match &self.thread {
            None => t.strip_prefix("session.status_"),
            Some(tid) => {
                let own = ev
                    .get("session_thread_id")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t == tid);
                // The thread's own statuses; the session at rest too, since
                // then every thread is (the session running may be another
                // thread's work).
                t.strip_prefix("session.thread_status_")
                    .filter(|_| own)
                    .or_else(|| {
                        t.strip_prefix("session.status_")
                            .filter(|s| matches!(*s, "idle" | "terminated"))
                    })
            }
        }
    }

    /// The session was deleted (e.g. while the stream was away).
    pub fn deleted(&self) -> Outcome {
        self.end("deleted")
    }

    /// The session is gone: an error for `--until-idle`, else a normal end.
    fn end(&self, what: &'static str) -> Outcome {
        if self.until_idle {
            Outcome::Terminated(what)
        } else {
            Outcome::Ended
        }
    }

    /// Feeds one event (in stream order); `Some` when the stream should stop.
    pub fn check(&mut self, ev: &Value) -> Option<Outcome> {
        let t = ty(ev);
        if t == "session.deleted" {
            return Some(self.end("deleted"));
        }
        if t == "session.status_terminated" {
            return Some(self.end("terminated"));
        }
        if let Some(own) = &mut self.own
            && !own.echoed
            && own.is_echo(ev)
        {
            own.echoed = true;
        }
        if self.in_scope(ev)
            && let Some(message) = fatal_error(ev)
        {
            self.turn_error = Some(message);
        }
        // New input for a session at rest: as at attach, wait for the next
        // idle (the running status may take a while to come).
        if self.own.is_none() && self.is_input(ev) && self.is_new(ev) {
            self.armed = true;
        }
        match self.status_of(ev)? {
            "running" | "rescheduled" => {
                if let Some(own) = &mut self.own {
                    own.ran |= own.echoed;
                    self.armed = own.ran;
                } else if !self.is_old(ev) {
                    self.armed = true;
                }
                None
            }
            "idle" => {
                let counts = self.until_idle && self.armed && !self.is_old(ev);
                let error = self.turn_error.take();
                if !counts {
                    return None;
                }
                match stop_reason(ev, error) {
                    StopReason::RequiresAction(ids)
                        if ids.iter().all(|i| self.answered.contains(i)) =>
                    {
                        // Already answered: the session will run again.
                        None
                    }
                    reason => Some(Outcome::Idle(reason)),
                }
            }
            "terminated" => Some(self.end("terminated")),
            _ => None,
        }
    }

    /// User input for the watched session, or thread (addressed to it).
    fn is_input(&self, ev: &Value) -> bool {
        USER_INPUT.contains(&ty(ev))
            && self
                .thread
                .as_deref()
                .is_none_or(|tid| ev.get("session_thread_id").and_then(Value::as_str) == Some(tid))
    }

    fn in_scope(&self, ev: &Value) -> bool {
        match (
            &self.thread,
            ev.get("session_thread_id").and_then(Value::as_str),
        ) {
            (Some(tid), Some(t)) => t == tid,
            _ => true,
        }
    }
}

/// The message of a `session.error` that will not be retried.
fn fatal_error(ev: &Value) -> Option<String> {
    if ty(ev) != "session.error" {
        return None;
    }
    let err = ev.get("error").unwrap_or(&Value::Null);
    let retry = err
        .pointer("/retry_status/type")
        .and_then(Value::as_str)
        .unwrap_or("exhausted");
    if retry == "retrying" {
        return None;
    }
    let kind = err.get("type").and_then(Value::as_str).unwrap_or("error");
    let message = err.get("message").and_then(Value::as_str).unwrap_or("");
    Some(format!("{kind}: {message}"))
}

/// The stop reason of an idle status event; `error` is a fatal
/// `session.error` of the same turn.
pub fn stop_reason(ev: &Value, error: Option<String>) -> StopReason {
    let reason = ev.get("stop_reason");
    match reason.and_then(|r| r.get("type")).and_then(Value::as_str) {
        Some("requires_action") => StopReason::RequiresAction(
            reason
                .and_then(|r| r.get("event_ids"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        Some("retries_exhausted") => match error {
            Some(e) => StopReason::Failed(format!("{e} (retries_exhausted)")),
            None => StopReason::RetriesExhausted,
        },
        Some("budget_reached") => StopReason::BudgetReached,
        Some("refusal") => {
            StopReason::Refusal(ev.get("stop_details").filter(|d| !d.is_null()).cloned())
        }
        Some("end_turn") | None => match error {
            Some(e) => StopReason::Failed(e),
            None => StopReason::EndTurn,
        },
        Some(other) => StopReason::Unknown(other.to_string()),
    }
}

#[cfg(test)]
#[path = "stop_tests.rs"]
mod tests;

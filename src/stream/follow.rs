//! Following a session (or thread) event stream so that no event is lost or
//! repeated: when the connection drops or the server fails, reconnect with
//! capped, jittered backoff, backfill what was missed from the events list,
//! and drop events already printed. Also the stop rules of `--until-idle`.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::{Client, sse};
use crate::request::Request;

/// How a followed stream ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The server closed the stream (only without reconnection) or `--max-items` was reached.
    Ended,
    /// The session went idle with `end_turn` (or another non-blocking reason).
    Idle,
    /// The session waits for the client: these events need an answer.
    RequiresAction(Vec<String>),
    Terminated(&'static str),
}

impl Outcome {
    pub fn into_result(self) -> Result<()> {
        match self {
            Outcome::Ended | Outcome::Idle => Ok(()),
            Outcome::RequiresAction(ids) => Err(Error::RequiresAction(format!(
                "session is waiting for the client (requires_action): {}",
                ids.join(", ")
            ))),
            Outcome::Terminated(what) => Err(Error::Terminated(format!("session {what}"))),
        }
    }
}

/// The `--until-idle` rule: stop at the first idle status after the session
/// (or, on a thread stream, that thread) ran; terminated or deleted always
/// end the stream.
#[derive(Default)]
pub struct StopRule {
    pub until_idle: bool,
    /// On a thread stream: the thread whose statuses count.
    thread: Option<String>,
    seen_running: bool,
    /// Events the client already answered (tool confirmations sent).
    answered: HashSet<String>,
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

impl StopRule {
    /// A rule for the stream at `path` (`.../threads/{id}/stream` follows one thread).
    pub fn for_stream(path: &str, until_idle: bool) -> Self {
        StopRule {
            until_idle,
            thread: stream_ids(path).1.map(String::from),
            ..Default::default()
        }
    }

    pub fn new(until_idle: bool) -> Self {
        StopRule {
            until_idle,
            ..Default::default()
        }
    }

    /// The status event types that count: the session's own, or the thread's.
    fn status_of<'v>(&self, ev: &'v Value) -> Option<&'v str> {
        let ty = ev.get("type").and_then(Value::as_str)?;
        match &self.thread {
            None => ty.strip_prefix("session.status_"),
            Some(tid) => {
                let own = ev
                    .get("session_thread_id")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t == tid);
                // The thread's own statuses; the session's too, since a
                // session at rest has every thread at rest.
                ty.strip_prefix("session.thread_status_")
                    .filter(|_| own)
                    .or_else(|| ty.strip_prefix("session.status_"))
            }
        }
    }

    /// Treats the session as already running (the caller just sent it work).
    pub fn expect_run(&mut self) {
        self.seen_running = true;
    }

    /// The client answered this event; an idle waiting only on answered
    /// events does not stop the stream.
    pub fn answered(&mut self, event_id: &str) {
        self.answered.insert(event_id.to_string());
    }

    /// The session is gone: an error for `--until-idle`, else a normal end.
    fn end(&self, what: &'static str) -> Outcome {
        if self.until_idle {
            Outcome::Terminated(what)
        } else {
            Outcome::Ended
        }
    }

    pub fn check(&mut self, ev: &Value) -> Option<Outcome> {
        let ty = ev.get("type").and_then(Value::as_str)?;
        if ty == "session.deleted" {
            return Some(self.end("deleted"));
        }
        if ty == "session.status_terminated" {
            return Some(self.end("terminated"));
        }
        match self.status_of(ev)? {
            "running" => {
                self.seen_running = true;
                None
            }
            "idle" if self.until_idle && self.seen_running => {
                match idle_outcome(ev) {
                    Outcome::RequiresAction(ids)
                        if ids.iter().all(|id| self.answered.contains(id)) =>
                    {
                        // Already answered: the session will run again.
                        self.seen_running = false;
                        None
                    }
                    other => Some(other),
                }
            }
            "terminated" => Some(self.end("terminated")),
            _ => None,
        }
    }
}

/// The outcome an idle status event stands for.
pub fn idle_outcome(ev: &Value) -> Outcome {
    let reason = ev.get("stop_reason");
    if reason.and_then(|r| r.get("type")).and_then(Value::as_str) == Some("requires_action") {
        let ids = reason
            .and_then(|r| r.get("event_ids"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        Outcome::RequiresAction(ids)
    } else {
        Outcome::Idle
    }
}

/// Remembers the ids of recent events (bounded, so memory stays flat).
pub struct Seen {
    order: VecDeque<String>,
    set: HashSet<String>,
    cap: usize,
    last: Option<String>,
}

impl Seen {
    pub fn new(cap: usize) -> Self {
        Seen {
            order: VecDeque::new(),
            set: HashSet::new(),
            cap,
            last: None,
        }
    }

    /// Records `id`; false when it was seen already.
    pub fn insert(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == self.cap
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(id.to_string());
        self.set.insert(id.to_string());
        self.last = Some(id.to_string());
        true
    }

    pub fn last(&self) -> Option<&str> {
        self.last.as_deref()
    }
}

/// Consecutive failed connection attempts before giving up.
const MAX_RECONNECTS: u32 = 10;
const BACKOFF_MIN: f64 = 0.1;
const BACKOFF_MAX: f64 = 8.0;
/// How long a stream may stay silent before an already idle session counts
/// as having nothing pending.
const IDLE_GRACE: Duration = Duration::from_millis(1500);
/// A connection that delivered events for this long resets the backoff.
const HEALTHY: Duration = Duration::from_secs(5);

pub struct Follow<'a> {
    pub client: &'a Client,
    /// The live stream request (`.../events/stream` or `.../threads/{id}/stream`).
    pub stream: Request,
    pub reconnect: bool,
    pub max_items: i64,
    pub rule: StopRule,
    /// Sent once the first stream connection is open (e.g. the user message).
    pub after_connect: Option<Request>,
}

/// What a consumer of events asks for after seeing one.
pub type Emit<'e> = dyn FnMut(&Value, &mut StopRule) -> Result<Vec<Request>> + 'e;

/// The events-list request matching a stream request, for backfill.
pub fn list_request(stream: &Request) -> Request {
    let path = stream
        .path
        .strip_suffix("/events/stream")
        .map(|p| format!("{p}/events"))
        .or_else(|| {
            stream
                .path
                .strip_suffix("/stream")
                .map(|p| format!("{p}/events"))
        })
        .unwrap_or_else(|| stream.path.clone());
    let mut query: Vec<(String, String)> = stream
        .query
        .iter()
        .filter(|(k, _)| k == "beta")
        .cloned()
        .collect();
    query.push(("limit".into(), "1000".into()));
    if stream_ids(&stream.path).1.is_none() {
        // Thread event lists take no order (they are oldest first).
        query.push(("order".into(), "asc".into()));
    }
    Request {
        method: "GET",
        path,
        query,
        headers: stream.headers.clone(),
        body: crate::request::Body::None,
    }
}

impl Follow<'_> {
    /// Follows the stream, handing each new event to `emit` in order.
    pub async fn run(&mut self, emit: &mut Emit<'_>) -> Result<Outcome> {
        let mut seen = Seen::new(4096);
        let mut printed = 0i64;
        let mut failures = 0u32;
        let mut first = true;
        loop {
            let connected = Instant::now();
            let attempt = self.client.send(&self.stream, "text/event-stream").await;
            let mut resp = match attempt {
                Ok(r) => r,
                Err(e) if self.reconnect && retryable(&e) && failures < MAX_RECONNECTS => {
                    failures += 1;
                    self.pause(failures, &e).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let before = printed;
            if !first {
                // Backfill what happened while disconnected, after the live
                // stream is open so nothing falls between the two.
                let missed = self.backfill(&seen).await;
                match missed {
                    Ok(events) => {
                        for ev in events {
                            if let Some(done) =
                                self.deliver(&ev, &mut seen, &mut printed, emit).await?
                            {
                                return Ok(done);
                            }
                        }
                    }
                    Err(e) if self.reconnect && retryable(&e) && failures < MAX_RECONNECTS => {
                        failures += 1;
                        self.pause(failures, &e).await;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            // With --until-idle on a session that is already idle: stop at that
            // idle event if the stream replays it (events buffered for us),
            // or at once when the stream stays silent.
            let mut idle_hint: Option<(Option<String>, Outcome)> = None;
            if first {
                if let Some(send) = self.after_connect.take() {
                    self.send(&send).await?;
                } else if self.rule.until_idle {
                    idle_hint = self.latest_idle().await?;
                }
            }
            let mut silent_until = idle_hint.as_ref().map(|_| Instant::now() + IDLE_GRACE);
            first = false;
            let mut decoder = sse::SseDecoder::new();
            let mut events = Vec::new();
            let dropped = loop {
                let next = crate::http::body::next_chunk(&mut resp, self.client.cfg.debug);
                let read = match silent_until {
                    Some(deadline) => match tokio::time::timeout_at(deadline.into(), next).await {
                        Ok(r) => r,
                        Err(_) => {
                            let (_, outcome) = idle_hint.take().expect("hint");
                            return Ok(outcome);
                        }
                    },
                    None => next.await,
                };
                let chunk = match read {
                    Ok(Some(c)) => c,
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                };
                if let Err(e) = decoder.feed(&chunk, &mut events) {
                    return Err(Error::Network(format!("event stream: {e}")));
                }
                for ev in events.drain(..) {
                    if ev.event == "ping" {
                        continue;
                    }
                    let value: Value =
                        serde_json::from_str(&ev.data).unwrap_or(Value::String(ev.data));
                    if ev.event == "error" {
                        return Err(crate::http::body::stream_error(
                            &self.stream,
                            self.client,
                            &value,
                        ));
                    }
                    silent_until = None;
                    let hinted = idle_hint.as_ref().is_some_and(|(id, _)| {
                        id.is_some() && value.get("id").and_then(Value::as_str) == id.as_deref()
                    });
                    if hinted {
                        // The idle event the session was already in: stop here.
                        self.rule.expect_run();
                    }
                    if let Some(done) = self.deliver(&value, &mut seen, &mut printed, emit).await? {
                        return Ok(done);
                    }
                }
            };
            if silent_until.is_some()
                && let Some((_, outcome)) = idle_hint.take()
            {
                // Idle, and the stream ended without replaying anything.
                return Ok(outcome);
            }
            if !self.reconnect {
                return match dropped {
                    Some(e) => Err(e),
                    None => Ok(Outcome::Ended),
                };
            }
            if printed > before || connected.elapsed() >= HEALTHY {
                // The connection made progress: start the backoff afresh.
                failures = 0;
            }
            failures += 1;
            if failures > MAX_RECONNECTS {
                return Err(dropped.unwrap_or_else(|| {
                    Error::Network("event stream keeps closing; giving up".into())
                }));
            }
            let why =
                dropped.unwrap_or_else(|| Error::Network("the server closed the stream".into()));
            self.pause(failures, &why).await;
        }
    }

    /// Prints one event unless it was printed before; `Some` when the stream should stop.
    async fn deliver(
        &mut self,
        ev: &Value,
        seen: &mut Seen,
        printed: &mut i64,
        emit: &mut Emit<'_>,
    ) -> Result<Option<Outcome>> {
        if self.max_items >= 0 && *printed >= self.max_items {
            return Ok(Some(Outcome::Ended));
        }
        if let Some(id) = ev.get("id").and_then(Value::as_str)
            && !is_preview(ev)
            && !seen.insert(id)
        {
            return Ok(None);
        }
        for answer in emit(ev, &mut self.rule)? {
            self.send(&answer).await?;
        }
        *printed += 1;
        if let Some(done) = self.rule.check(ev) {
            return Ok(Some(done));
        }
        if self.max_items >= 0 && *printed >= self.max_items {
            return Ok(Some(Outcome::Ended));
        }
        Ok(None)
    }

    /// Whether the session (or thread) is idle already: the idle status
    /// event's id (when known) and its outcome. Sessions look at their last
    /// status event, then at the session itself; threads at the thread.
    async fn latest_idle(&self) -> Result<Option<(Option<String>, Outcome)>> {
        let (Some(sid), thread) = stream_ids(&self.stream.path) else {
            return Ok(None);
        };
        let base = self.stream.path.split("/sessions/").next().unwrap_or("");
        if thread.is_none() {
            let mut req = list_request(&self.stream);
            req.set_query("order", "desc");
            req.set_query("limit", "1");
            for t in ["idle", "running", "rescheduled", "terminated"] {
                req.query
                    .push(("types[]".into(), format!("session.status_{t}")));
            }
            let page = self.get_json(&req).await?;
            if let Some(ev) = page
                .get("data")
                .and_then(Value::as_array)
                .and_then(|d| d.first())
            {
                return Ok(
                    (ev.get("type").and_then(Value::as_str) == Some("session.status_idle")).then(
                        || {
                            let id = ev.get("id").and_then(Value::as_str).map(String::from);
                            (id, idle_outcome(ev))
                        },
                    ),
                );
            }
        }
        // No status event yet (or a thread): ask the object itself.
        let path = match thread {
            Some(tid) => format!("{base}/sessions/{sid}/threads/{tid}"),
            None => format!("{base}/sessions/{sid}"),
        };
        let mut req = list_request(&self.stream);
        req.path = path;
        req.query.retain(|(k, _)| k == "beta");
        let object = self.get_json(&req).await?;
        Ok(
            (object.get("status").and_then(Value::as_str) == Some("idle"))
                .then_some((None, Outcome::Idle)),
        )
    }

    async fn get_json(&self, req: &Request) -> Result<Value> {
        let resp = self.client.send(req, "application/json").await?;
        let body = self
            .client
            .read_body(resp, "checking the session status")
            .await?;
        Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Events after the last one seen, from the events list (ascending).
    async fn backfill(&self, seen: &Seen) -> Result<Vec<Value>> {
        let mut req = list_request(&self.stream);
        let last = seen.last().map(String::from);
        let mut after_last = last.is_none();
        let mut out = Vec::new();
        let mut unseen_before_last = Vec::new();
        loop {
            let resp = self.client.send(&req, "application/json").await?;
            let body = self.client.read_body(resp, "backfill").await?;
            let page: Value = serde_json::from_slice(&body)
                .map_err(|e| Error::Network(format!("backfill: response is not JSON: {e}")))?;
            for ev in page
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let id = ev.get("id").and_then(Value::as_str);
                if after_last {
                    out.push(ev.clone());
                } else if id.is_some() && id == last.as_deref() {
                    after_last = true;
                } else {
                    unseen_before_last.push(ev.clone());
                }
            }
            match page.get("next_page").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => req.set_query("page", next),
                _ => break,
            }
        }
        if !after_last {
            // The last event seen is not in the list (it was not stored):
            // fall back to everything, de-duplicated by id.
            out = unseen_before_last;
        }
        Ok(out)
    }

    async fn send(&self, req: &Request) -> Result<()> {
        let resp = self.client.send(req, "application/json").await?;
        self.client.read_body(resp, "sending events").await?;
        Ok(())
    }

    async fn pause(&self, failures: u32, why: &Error) {
        let base =
            (BACKOFF_MIN * 2f64.powi(failures.saturating_sub(1).min(10) as i32)).min(BACKOFF_MAX);
        let delay = Duration::from_secs_f64(base * (0.5 + fastrand::f64() * 0.5));
        if self.client.cfg.debug {
            crate::http::debug::note(&format!(
                "reconnecting in {:.2}s: {why}",
                delay.as_secs_f64()
            ));
        }
        tokio::time::sleep(delay).await;
    }
}

/// Delta previews share the id of the message they preview.
fn is_preview(ev: &Value) -> bool {
    matches!(
        ev.get("type").and_then(Value::as_str),
        Some("event_start" | "event_delta")
    )
}

/// Errors worth reconnecting after: network trouble, timeouts, 408/409/429 and 5xx.
fn retryable(e: &Error) -> bool {
    match e {
        Error::Network(_) | Error::Timeout(_) => true,
        Error::Api(a) => matches!(a.status, 408 | 409 | 429) || a.status >= 500,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seen_ids_are_bounded_and_deduplicated() {
        let mut s = Seen::new(3);
        assert!(s.insert("a"));
        assert!(!s.insert("a"));
        assert!(s.insert("b") && s.insert("c") && s.insert("d"));
        assert!(s.insert("a"), "the oldest id was forgotten");
        assert_eq!(s.last(), Some("a"));
    }

    #[test]
    fn idle_stops_only_after_running() {
        let mut rule = StopRule::new(true);
        let idle = json!({"type": "session.status_idle", "stop_reason": {"type": "end_turn"}});
        assert_eq!(rule.check(&idle), None);
        rule.check(&json!({"type": "session.status_running"}));
        assert_eq!(rule.check(&idle), Some(Outcome::Idle));
        let waiting = json!({"type": "session.status_idle", "stop_reason": {"type": "requires_action", "event_ids": ["sevt_1"]}});
        assert_eq!(
            rule.check(&waiting),
            Some(Outcome::RequiresAction(vec!["sevt_1".into()]))
        );
        assert_eq!(
            rule.check(&json!({"type": "session.deleted"})),
            Some(Outcome::Terminated("deleted"))
        );
        // Child threads' statuses on the session stream do not count.
        let mut rule = StopRule::for_stream("/v1/sessions/s1/events/stream", true);
        rule.check(&json!({"type": "session.status_running"}));
        let child_idle = json!({"type": "session.thread_status_idle", "session_thread_id": "sthr_2", "stop_reason": {"type": "end_turn"}});
        assert_eq!(rule.check(&child_idle), None);
        assert_eq!(
            rule.check(&json!({"type": "session.thread_status_terminated"})),
            None
        );
        // A thread stream follows its own thread.
        let mut rule = StopRule::for_stream("/v1/sessions/s1/threads/sthr_2/stream", true);
        rule.check(
            &json!({"type": "session.thread_status_running", "session_thread_id": "sthr_2"}),
        );
        let other_idle =
            json!({"type": "session.thread_status_idle", "session_thread_id": "sthr_9"});
        assert_eq!(
            rule.check(&other_idle),
            None,
            "another thread's status does not count"
        );
        assert_eq!(rule.check(&child_idle), Some(Outcome::Idle));
        let mut rule = StopRule::for_stream("/v1/sessions/s1/threads/sthr_2/stream", true);
        rule.check(&json!({"type": "session.status_running"}));
        assert_eq!(
            rule.check(&idle),
            Some(Outcome::Idle),
            "an idle session has idle threads"
        );
        let mut plain = StopRule::new(false);
        plain.expect_run();
        assert_eq!(plain.check(&idle), None);
        assert_eq!(
            plain.check(&json!({"type": "session.status_terminated"})),
            Some(Outcome::Ended)
        );
    }

    #[test]
    fn list_request_mirrors_the_stream_request() {
        let stream = Request {
            method: "GET",
            path: "/v1/sessions/s1/events/stream".into(),
            query: vec![
                ("beta".into(), "true".into()),
                ("event_deltas[]".into(), "agent.message".into()),
            ],
            headers: vec![("anthropic-beta".into(), "managed-agents-2026-04-01".into())],
            body: crate::request::Body::None,
        };
        let list = list_request(&stream);
        assert_eq!(
            list.target(),
            "/v1/sessions/s1/events?beta=true&limit=1000&order=asc"
        );
        assert_eq!(list.headers, stream.headers);
        let thread = Request {
            path: "/v1/sessions/s1/threads/t1/stream".into(),
            ..stream
        };
        assert_eq!(
            list_request(&thread).path,
            "/v1/sessions/s1/threads/t1/events"
        );
    }
}

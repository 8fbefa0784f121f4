//! The session tool runner (the official worker's): follow the session's
//! event stream, reconnecting with backoff and reconciling from the events
//! list on every connect; run each built-in tool call once, serially, after
//! its permission allows it; post `user.tool_result` with retries; leave
//! tools this runner does not own pending; end on termination, deletion,
//! cancellation or `--max-idle` after an `end_turn`.
//!
//! A call is "answered" once a result for it is in the session (posted by
//! us or anyone else): answered calls are never run, which is what lets a
//! second worker finish a session without repeating the first one's tools.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::api::{self, permanent};
use super::host::Host;
use super::log::Logger;
use super::{Cancel, Ctx};
use crate::error::{Error, Result};
use crate::http::body::next_chunk;
use crate::http::sse::SseDecoder;

/// How the runner ended (every end is benign; failures are errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Terminated,
    Idle,
    Cancelled,
}

/// Time a running tool gets to finish (and post) when the session is cancelled.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// The result of a call still queued when the worker stops.
pub const NOT_RUN: &str = "the worker stopped; the tool call was not run";
const BACKOFF_START: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
const HEALTHY: Duration = Duration::from_secs(5);

/// One tool call from `agent.tool_use` or `agent.custom_tool_use`.
#[derive(Debug, Clone)]
pub struct Call {
    pub id: String,
    pub name: String,
    pub input: Value,
    pub permission: Option<String>,
    pub custom: bool,
}

impl Call {
    fn from_event(ev: &Value) -> Option<Call> {
        let custom = match ev["type"].as_str()? {
            "agent.tool_use" => false,
            "agent.custom_tool_use" => true,
            _ => return None,
        };
        Some(Call {
            id: ev["id"].as_str()?.to_string(),
            name: ev["name"].as_str().unwrap_or_default().to_string(),
            input: ev.get("input").cloned().unwrap_or(json!({})),
            permission: if custom {
                None
            } else {
                ev["evaluated_permission"].as_str().map(str::to_string)
            },
            custom,
        })
    }

    /// The result event for this call (never with `session_thread_id`).
    pub fn result_event(&self, text: &str, is_error: bool) -> Value {
        let content = json!([{ "text": text, "type": "text" }]);
        if self.custom {
            json!({ "custom_tool_use_id": self.id, "type": "user.custom_tool_result", "is_error": is_error, "content": content })
        } else {
            json!({ "tool_use_id": self.id, "type": "user.tool_result", "is_error": is_error, "content": content })
        }
    }
}

/// A finished tool call.
struct Done {
    call: Call,
    is_error: bool,
    posted: bool,
    took: Duration,
}

/// What the runner knows about the session's tool calls.
pub struct Book<'a> {
    log: &'a Logger,
    session_id: &'a str,
    owns: fn(&str) -> bool,
    seen: HashSet<String>,
    answered: HashSet<String>,
    verdicts: HashMap<String, String>,
    held: HashMap<String, Call>,
    queue: VecDeque<Call>,
    running: Option<String>,
    /// An `end_turn` idle was seen and nothing has happened since.
    idle_wanted: bool,
    /// When the idle window started (deferred while calls are pending).
    idle_since: Option<Instant>,
}

impl<'a> Book<'a> {
    pub fn new(log: &'a Logger, session_id: &'a str, owns: fn(&str) -> bool) -> Self {
        Book {
            log,
            session_id,
            owns,
            seen: HashSet::new(),
            answered: HashSet::new(),
            verdicts: HashMap::new(),
            held: HashMap::new(),
            queue: VecDeque::new(),
            running: None,
            idle_wanted: false,
            idle_since: None,
        }
    }

    fn info(&self, msg: &str, call: &Call) {
        self.log.info(
            msg,
            &[
                ("session_id", self.session_id.into()),
                ("tool", (&call.name).into()),
                ("tool_use_id", (&call.id).into()),
            ],
        );
    }

    fn disarm(&mut self) {
        self.idle_wanted = false;
        self.idle_since = None;
    }

    fn busy(&self) -> bool {
        self.running.is_some() || !self.queue.is_empty() || !self.held.is_empty()
    }

    /// The idle window starts once nothing is held, queued or running.
    pub fn update_idle(&mut self) {
        if !self.idle_wanted || self.busy() {
            self.idle_since = None;
        } else if self.idle_since.is_none() {
            self.idle_since = Some(Instant::now());
        }
    }

    fn deny(&mut self, call: &Call) {
        self.answered.insert(call.id.clone());
        self.info("tool call denied; not executing", call);
    }

    /// Decides what to do with a call: run, hold, deny or leave it.
    fn route(&mut self, call: Call) {
        let pending = self.running.as_deref() == Some(call.id.as_str())
            || self.held.contains_key(&call.id)
            || self.queue.iter().any(|c| c.id == call.id);
        if self.answered.contains(&call.id) || pending {
            return;
        }
        if !(self.owns)(&call.name) {
            self.info(
                "tool not owned by this runner; leaving the tool_use_id pending for its owner",
                &call,
            );
            return;
        }
        if call.permission.as_deref() == Some("deny") {
            return self.deny(&call);
        }
        match self.verdicts.get(&call.id).map(String::as_str) {
            Some("allow") => {
                self.info("tool call confirmed", &call);
                self.queue.push_back(call);
            }
            Some(_) => self.deny(&call),
            None => match call.permission.as_deref() {
                None | Some("") | Some("allow") => self.queue.push_back(call),
                _ => {
                    self.info("tool call awaiting confirmation; holding", &call);
                    self.held.insert(call.id.clone(), call);
                }
            },
        }
    }

    fn verdict(&mut self, ev: &Value) {
        let (Some(id), Some(result)) = (ev["tool_use_id"].as_str(), ev["result"].as_str()) else {
            return;
        };
        if self.answered.contains(id) {
            return;
        }
        self.verdicts.insert(id.to_string(), result.to_string());
        if let Some(call) = self.held.remove(id) {
            self.route(call);
        }
    }

    fn answer(&mut self, ev: &Value, key: &str) {
        if let Some(id) = ev[key].as_str() {
            self.answered.insert(id.to_string());
        }
    }

    /// One event from the live stream; `Some` ends the runner.
    pub fn on_stream(&mut self, ev: &Value) -> Option<End> {
        let ty = ev["type"].as_str().unwrap_or_default();
        match ty {
            "user.tool_confirmation" => self.verdict(ev),
            "session.status_terminated" | "session.deleted" => {
                self.log.info(
                    "session terminated",
                    &[("session_id", self.session_id.into())],
                );
                return Some(End::Terminated);
            }
            "session.status_idle" if ev["stop_reason"]["type"] == "end_turn" => {
                self.idle_wanted = true;
                self.idle_since = None;
            }
            _ => {
                self.disarm();
                match ty {
                    "agent.tool_use" | "agent.custom_tool_use" => {
                        if let Some(call) = Call::from_event(ev)
                            && self.seen.insert(call.id.clone())
                        {
                            self.route(call);
                        }
                    }
                    "user.tool_result" => self.answer(ev, "tool_use_id"),
                    "user.custom_tool_result" => self.answer(ev, "custom_tool_use_id"),
                    _ => {}
                }
            }
        }
        None
    }

    /// The session's whole history after a (re)connect; `Some` ends the runner.
    pub fn reconcile(&mut self, events: &[Value]) -> Option<End> {
        self.disarm();
        let mut calls = Vec::new();
        let mut verdicts = Vec::new();
        for ev in events {
            match ev["type"].as_str().unwrap_or_default() {
                "agent.tool_use" | "agent.custom_tool_use" => calls.extend(Call::from_event(ev)),
                "user.tool_result" => self.answer(ev, "tool_use_id"),
                "user.custom_tool_result" => self.answer(ev, "custom_tool_use_id"),
                "user.tool_confirmation" => verdicts.push(ev),
                "session.status_terminated" | "session.deleted" => {
                    self.log.info(
                        "reconcile: session already terminated",
                        &[("session_id", self.session_id.into())],
                    );
                    return Some(End::Terminated);
                }
                _ => {}
            }
        }
        for ev in verdicts {
            self.verdict(ev);
        }
        self.queue.retain(|c| !self.answered.contains(&c.id));
        self.held.retain(|id, _| !self.answered.contains(id));
        for call in calls {
            self.seen.insert(call.id.clone());
            self.route(call);
        }
        let last_is_end_turn = events.last().is_some_and(|ev| {
            ev["type"] == "session.status_idle" && ev["stop_reason"]["type"] == "end_turn"
        });
        if last_is_end_turn && !self.busy() {
            self.idle_wanted = true;
        }
        None
    }

    /// The calls queued to run (the worker is stopping: none will be).
    fn drain_queue(&mut self) -> Vec<Call> {
        let queue = std::mem::take(&mut self.queue);
        queue
            .into_iter()
            .filter(|c| !self.answered.contains(&c.id))
            .collect()
    }

    /// The next call to run, skipping answered ones.
    fn next_call(&mut self) -> Option<Call> {
        while let Some(call) = self.queue.pop_front() {
            if !self.answered.contains(&call.id) {
                self.running = Some(call.id.clone());
                return Some(call);
            }
        }
        None
    }

    fn finish(&mut self, done: &Done) {
        self.running = None;
        if done.posted {
            self.answered.insert(done.call.id.clone());
        }
        self.log.info(
            "dispatched tool",
            &[
                ("tool", (&done.call.name).into()),
                ("is_error", done.is_error.into()),
                ("posted", done.posted.into()),
                ("duration", done.took.into()),
                ("session_id", self.session_id.into()),
                ("tool_use_id", (&done.call.id).into()),
            ],
        );
    }
}

/// Runs one call in the session's tool host (within its deadline, or until
/// `interrupt`) and posts its result.
async fn execute(ctx: &Ctx, session_id: &str, host: &Host, call: Call, interrupt: &Cancel) -> Done {
    let start = Instant::now();
    let out = host.call(&call.name, &call.input, interrupt).await;
    let (text, is_error) = (out.text, out.is_error);
    let took = start.elapsed();
    let posted = post(ctx, session_id, &call, &text, is_error).await;
    Done {
        call,
        is_error,
        posted,
        took,
    }
}

/// Up to 3 attempts, 15 s each, 1 s then 2 s apart; a permanent 4xx ends at once.
async fn post(ctx: &Ctx, session_id: &str, call: &Call, text: &str, is_error: bool) -> bool {
    let events = json!([call.result_event(text, is_error)]);
    let key = || ("tool_use_id", call.id.as_str().into());
    for attempt in 0..3u32 {
        match ctx
            .api
            .send_events(session_id, events.clone(), api::POST_TIMEOUT)
            .await
        {
            Ok(()) => return true,
            Err(e) if permanent(&e) => {
                ctx.log.error(
                    "tool result send hit permanent 4xx; not retrying",
                    &[key(), ("error", (&e).into())],
                );
                return false;
            }
            Err(e) => {
                ctx.log.warn(
                    "tool result send failed; retrying",
                    &[key(), ("error", (&e).into())],
                );
                if attempt < 2 {
                    tokio::time::sleep(Duration::from_secs(u64::from(attempt) + 1)).await;
                }
            }
        }
    }
    false
}

/// What the connection produced.
enum Conn {
    /// Connected; the history (None when listing failed).
    Opened(Option<Vec<Value>>),
    Events(Vec<Value>),
}

/// The stream connection with its reconnect backoff.
struct Stream {
    resp: Option<reqwest::Response>,
    decoder: SseDecoder,
    connected_at: Instant,
    backoff: Duration,
    retry_at: tokio::time::Instant,
}

/// Uniform in [d/2, d).
fn jitter(d: Duration) -> Duration {
    d / 2 + d.mul_f64(fastrand::f64() / 2.0)
}

impl Stream {
    fn new() -> Stream {
        Stream {
            resp: None,
            decoder: SseDecoder::new(),
            connected_at: Instant::now(),
            backoff: BACKOFF_START,
            retry_at: tokio::time::Instant::now(),
        }
    }

    fn lost(&mut self, log: &Logger, session_id: &str, why: &str) {
        log.warn(
            "stream disconnected; reconnecting",
            &[("session_id", session_id.into()), ("error", why.into())],
        );
        self.resp = None;
        self.retry_at = tokio::time::Instant::now() + jitter(self.backoff);
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
    }

    /// Connects (and reconciles) or reads the next events. Cancel-safe: a
    /// dropped call at worst costs a reconnect.
    async fn next(&mut self, ctx: &Ctx, session_id: &str) -> Result<Conn> {
        loop {
            let Some(resp) = self.resp.as_mut() else {
                tokio::time::sleep_until(self.retry_at).await;
                match ctx.api.open_stream(session_id).await {
                    Err(e) if permanent(&e) => {
                        ctx.log.error(
                            "permanent stream failure",
                            &[("session_id", session_id.into()), ("error", (&e).into())],
                        );
                        return Err(Error::Other(format!("stream: {e}")));
                    }
                    Err(e) => {
                        self.lost(&ctx.log, session_id, &e.to_string());
                        continue;
                    }
                    Ok(resp) => {
                        let history = match ctx.api.list_events(session_id).await {
                            Ok(list) => Some(list),
                            Err(e) => {
                                ctx.log.warn(
                                    "reconcile list failed",
                                    &[("session_id", session_id.into()), ("error", (&e).into())],
                                );
                                None
                            }
                        };
                        self.resp = Some(resp);
                        self.decoder = SseDecoder::new();
                        self.connected_at = Instant::now();
                        return Ok(Conn::Opened(history));
                    }
                }
            };
            let chunk = match next_chunk(resp, ctx.api.debug).await {
                Ok(Some(c)) => c,
                Ok(None) => {
                    self.lost(&ctx.log, session_id, "the server closed the stream");
                    continue;
                }
                Err(e) => {
                    self.lost(&ctx.log, session_id, &e.to_string());
                    continue;
                }
            };
            let mut raw = Vec::new();
            if let Err(e) = self.decoder.feed(&chunk, &mut raw) {
                self.lost(&ctx.log, session_id, &e.to_string());
                continue;
            }
            let mut events = Vec::new();
            for ev in raw {
                if ev.event == "error" {
                    self.lost(
                        &ctx.log,
                        session_id,
                        &format!("stream error event: {}", ev.data),
                    );
                    break;
                }
                if ev.event == "ping" {
                    continue;
                }
                if let Ok(v) = serde_json::from_str::<Value>(&ev.data)
                    && v.get("type").is_some()
                {
                    events.push(v);
                }
            }
            if !events.is_empty() {
                if self.connected_at.elapsed() > HEALTHY {
                    self.backoff = BACKOFF_START;
                }
                return Ok(Conn::Events(events));
            }
        }
    }
}

type Running<'a> = Pin<Box<dyn Future<Output = Done> + Send + 'a>>;

/// Ends the runner: a running call gets [`SHUTDOWN_GRACE`] to finish. When
/// the worker itself is stopping, a call still running then (or at once,
/// after a second signal) is interrupted, and it and every queued call get
/// an error result, so the turn never waits for a worker that is gone.
async fn wind_down(
    ctx: &Ctx,
    session_id: &str,
    book: &mut Book<'_>,
    running: Option<Running<'_>>,
    interrupt: &Cancel,
) {
    let stopping = ctx.shutdown.is_cancelled();
    if let Some(mut job) = running {
        let finished = tokio::select! {
            done = tokio::time::timeout(SHUTDOWN_GRACE, &mut job) => done.ok(),
            _ = ctx.hurry.cancelled(), if stopping => None,
        };
        match finished {
            Some(done) => book.finish(&done),
            None if stopping => {
                interrupt.cancel();
                let done = job.await;
                ctx.log.warn(
                    "tool call interrupted at shutdown",
                    &[
                        ("session_id", session_id.into()),
                        ("tool_use_id", (&done.call.id).into()),
                    ],
                );
                book.finish(&done);
            }
            None => ctx.log.warn(
                "tool still running at shutdown; abandoned after 30s",
                &[("session_id", session_id.into())],
            ),
        }
    }
    if stopping {
        for call in book.drain_queue() {
            let posted = post(ctx, session_id, &call, NOT_RUN, true).await;
            book.finish(&Done {
                call,
                is_error: true,
                posted,
                took: Duration::ZERO,
            });
        }
    }
}

/// Runs the session's tool calls until it ends.
pub async fn run(ctx: &Ctx, session_id: &str, host: &Host, cancel: &Cancel) -> Result<End> {
    let interrupt = Cancel::new();
    let mut book = Book::new(&ctx.log, session_id, super::tools::owns);
    let mut stream = Stream::new();
    let mut running: Option<Running<'_>> = None;
    loop {
        if running.is_none()
            && let Some(call) = book.next_call()
        {
            running = Some(Box::pin(execute(ctx, session_id, host, call, &interrupt)));
        }
        book.update_idle();
        let idle_at = book
            .idle_since
            .zip(ctx.opts.max_idle)
            .map(|(since, max)| tokio::time::Instant::from_std(since + max));
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                wind_down(ctx, session_id, &mut book, running.take(), &interrupt).await;
                return Ok(End::Cancelled);
            }
            done = async { running.as_mut().expect("checked").await }, if running.is_some() => {
                running = None;
                book.finish(&done);
            }
            _ = async { tokio::time::sleep_until(idle_at.expect("checked")).await }, if idle_at.is_some() => {
                ctx.log.info("session idle after end_turn; stopping", &[("session_id", session_id.into())]);
                return Ok(End::Idle);
            }
            got = stream.next(ctx, session_id) => {
                let end = match got? {
                    Conn::Opened(Some(history)) => book.reconcile(&history),
                    Conn::Opened(None) => None,
                    Conn::Events(events) => events.iter().find_map(|ev| book.on_stream(ev)),
                };
                if let Some(end) = end {
                    return Ok(end);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool_use(id: &str, name: &str, perm: Option<&str>) -> Value {
        let mut v =
            json!({"id": id, "type": "agent.tool_use", "name": name, "input": {"command": "x"}});
        if let Some(p) = perm {
            v["evaluated_permission"] = json!(p);
        }
        v
    }

    fn with_book(f: impl FnOnce(&mut Book)) {
        let log = Logger::new(super::super::log::Format::Text, Box::new(std::io::sink()));
        let mut book = Book::new(&log, "sesn_1", super::super::tools::owns);
        f(&mut book);
    }

    fn queued(b: &Book) -> Vec<String> {
        b.queue.iter().map(|c| c.id.clone()).collect()
    }

    #[test]
    fn stream_calls_run_once_and_unowned_ones_are_left() {
        with_book(|b| {
            b.on_stream(&tool_use("t1", "bash", Some("allow")));
            b.on_stream(&tool_use("t1", "bash", Some("allow")));
            b.on_stream(&json!({"id": "c1", "type": "agent.custom_tool_use", "name": "lookup", "input": {}}));
            b.on_stream(&tool_use("t2", "read", None));
            assert_eq!(queued(b), ["t1", "t2"]);
            assert_eq!(b.next_call().unwrap().id, "t1");
        });
    }

    #[test]
    fn ask_holds_until_a_confirmation_and_deny_posts_nothing() {
        with_book(|b| {
            b.on_stream(&tool_use("t1", "bash", Some("ask")));
            b.on_stream(&tool_use("t2", "bash", Some("ask")));
            b.on_stream(&tool_use("t3", "bash", Some("deny")));
            assert!(queued(b).is_empty());
            assert_eq!(b.held.len(), 2);
            assert!(b.answered.contains("t3"));
            b.on_stream(
                &json!({"type": "user.tool_confirmation", "tool_use_id": "t1", "result": "allow"}),
            );
            b.on_stream(
                &json!({"type": "user.tool_confirmation", "tool_use_id": "t2", "result": "deny"}),
            );
            assert_eq!(queued(b), ["t1"]);
            assert!(b.held.is_empty() && b.answered.contains("t2"));
        });
    }

    #[test]
    fn reconcile_requeues_only_unanswered_calls() {
        with_book(|b| {
            let history = vec![
                tool_use("t1", "bash", Some("allow")),
                json!({"type": "user.tool_result", "tool_use_id": "t1"}),
                tool_use("t2", "write", Some("allow")),
                tool_use("t3", "bash", Some("ask")),
                json!({"type": "user.tool_confirmation", "tool_use_id": "t3", "result": "allow"}),
            ];
            assert_eq!(b.reconcile(&history), None);
            assert_eq!(queued(b), ["t2", "t3"]);
            // A stream replay of an already-listed call is not run again.
            b.on_stream(&tool_use("t2", "write", Some("allow")));
            assert_eq!(queued(b), ["t2", "t3"]);
            let end = b.reconcile(&[json!({"type": "session.deleted"})]);
            assert_eq!(end, Some(End::Terminated));
        });
    }

    #[test]
    fn idle_is_armed_by_end_turn_and_deferred_while_calls_are_pending() {
        with_book(|b| {
            b.on_stream(&tool_use("t1", "bash", None));
            b.on_stream(
                &json!({"type": "session.status_idle", "stop_reason": {"type": "end_turn"}}),
            );
            b.update_idle();
            assert!(b.idle_since.is_none(), "t1 is queued");
            let call = b.next_call().unwrap();
            b.finish(&Done {
                call,
                is_error: false,
                posted: true,
                took: Duration::ZERO,
            });
            b.update_idle();
            assert!(b.idle_since.is_some());
            b.on_stream(
                &json!({"type": "user.tool_confirmation", "tool_use_id": "x", "result": "allow"}),
            );
            assert!(b.idle_since.is_some(), "confirmations do not disarm");
            b.on_stream(&json!({"type": "session.status_running"}));
            assert!(b.idle_since.is_none() && !b.idle_wanted);
            let history =
                [json!({"type": "session.status_idle", "stop_reason": {"type": "end_turn"}})];
            b.reconcile(&history);
            assert!(b.idle_wanted);
        });
    }

    #[test]
    fn at_shutdown_the_queued_calls_without_a_result_are_the_ones_to_answer() {
        with_book(|b| {
            b.on_stream(&tool_use("t1", "bash", None));
            b.on_stream(&tool_use("t2", "read", None));
            b.on_stream(&tool_use("t3", "bash", Some("ask")));
            b.on_stream(&json!({"type": "user.tool_result", "tool_use_id": "t2"}));
            let left: Vec<String> = b.drain_queue().into_iter().map(|c| c.id).collect();
            assert_eq!(left, ["t1"], "answered and held calls are not");
            assert!(b.queue.is_empty() && b.held.contains_key("t3"));
        });
    }

    #[test]
    fn result_events_have_the_official_shape() {
        let call = Call {
            id: "tu_1".into(),
            name: "bash".into(),
            input: json!({}),
            permission: None,
            custom: false,
        };
        assert_eq!(
            call.result_event("hi", false),
            json!({"tool_use_id": "tu_1", "type": "user.tool_result", "is_error": false, "content": [{"text": "hi", "type": "text"}]})
        );
        let custom = Call {
            custom: true,
            ..call
        };
        assert_eq!(
            custom.result_event("x", true)["type"],
            "user.custom_tool_result"
        );
        assert_eq!(custom.result_event("x", true)["custom_tool_use_id"], "tu_1");
    }
}

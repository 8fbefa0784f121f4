//! Following a session (or thread) event stream so that no event is lost or
//! repeated: when an open stream drops or the server closes it, reconnect
//! with capped, jittered backoff, backfill what was missed from the events
//! list (starting at the last event seen, so a long session costs one or two
//! requests), and drop events already printed. When to stop is decided by
//! [`super::stop::Watch`].

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::spinner::note;
use super::stop::{Attach, HISTORY_TYPES, Outcome, THREAD_STATUS_TYPES, Watch, stream_ids, ty};
use crate::error::{Error, Result};
use crate::http::body::{next_chunk, stream_error};
use crate::http::{Client, sse};
use crate::json::Doc;
use crate::request::{Body, Request};

/// Remembers the ids of recent events (bounded, so memory stays flat).
pub struct Seen {
    order: VecDeque<String>,
    set: HashSet<String>,
    cap: usize,
}

impl Seen {
    pub fn new(cap: usize) -> Self {
        Seen {
            order: VecDeque::new(),
            set: HashSet::new(),
            cap,
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
        true
    }

    pub fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    pub fn last(&self) -> Option<&str> {
        self.order.back().map(String::as_str)
    }
}

/// Consecutive failed attempts to reopen a stream (or connections ended by
/// an error event) before giving up.
const MAX_REOPEN_FAILURES: u32 = 10;
/// The first reconnection delay, unless the server set one with `retry:`.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// The longest pause between two reconnections.
const BACKOFF_MAX: Duration = Duration::from_secs(8);
/// How long a stream may stay silent, after attaching to an idle session,
/// before the buffered events count as all delivered.
const IDLE_GRACE: Duration = Duration::from_millis(1500);
/// A connection that stayed open this long resets the backoff.
const HEALTHY: Duration = Duration::from_secs(5);
/// Events of history read at attach time.
const HISTORY_PAGE: &str = "100";

pub struct Follow<'a> {
    pub client: &'a Client,
    /// The live stream request (`.../events/stream` or `.../threads/{id}/stream`).
    pub stream: Request,
    pub reconnect: bool,
    pub max_items: i64,
    pub watch: Watch,
}

/// What a consumer of events asks for after seeing one (parsed, and as its
/// JSON text as received): events to send.
pub type Emit<'e> = dyn FnMut(&Value, &str, &mut Watch) -> Result<Vec<Request>> + 'e;

/// Where the stream is: what was printed, and the time to backfill from.
pub struct Cursor {
    seen: Seen,
    printed: i64,
    /// `processed_at` of the newest event delivered, else of the attach.
    since: Option<String>,
    /// The server's reconnection time (`retry:`), in milliseconds.
    retry_ms: Option<u64>,
    /// Set while the session is at rest as it was at attach.
    at_rest: Option<AtRest>,
}

/// The session was at rest at attach: stop after the buffered events (at
/// the event with this id if the stream replays it, or when the stream goes
/// quiet), with the outcome its history gave, unless a new turn starts.
struct AtRest {
    id: Option<String>,
    outcome: Outcome,
}

impl AtRest {
    /// Its outcome, said on stderr: the stream may have shown nothing, and
    /// stops although no turn ended while it was open.
    fn ended(self) -> Outcome {
        let state = match &self.outcome {
            Outcome::Idle(r) => format!("already idle ({})", r.wire_name()),
            Outcome::Terminated(what) => format!("already {what}"),
            Outcome::Ended => "at rest".to_string(),
        };
        note!(
            "note: the session was {state} when the stream opened, so --until-idle stopped there"
        );
        self.outcome
    }
}

/// A stream whose first connection is open.
pub struct Opened {
    resp: reqwest::Response,
    cur: Cursor,
}

impl Opened {
    /// How the session's last turn ended, when it was at rest at attach.
    pub fn at_rest(&self) -> Option<&Outcome> {
        self.cur.at_rest.as_ref().map(|r| &r.outcome)
    }

    /// Follow the next turn rather than stop at the state found at attach.
    pub fn follow_next_turn(&mut self) {
        self.cur.at_rest = None;
    }
}

/// How reading one connection ended.
enum Read {
    Done(Outcome),
    /// The connection closed (cleanly: `None`) or failed.
    Closed(Option<Error>),
}

/// The events-list request matching a stream request, for backfill.
pub fn list_request(stream: &Request) -> Request {
    let path = stream
        .path
        .strip_suffix("/events/stream")
        .or_else(|| stream.path.strip_suffix("/stream"))
        .map(|p| format!("{p}/events"))
        .unwrap_or_else(|| stream.path.clone());
    let mut query: Vec<(String, String)> = stream
        .query
        .iter()
        .filter(|(k, _)| k == "beta")
        .cloned()
        .collect();
    query.push(("limit".into(), "1000".into()));
    if is_session_list(&stream.path) {
        // Thread event lists take no order (they are oldest first).
        query.push(("order".into(), "asc".into()));
    }
    Request {
        method: "GET",
        path,
        query,
        headers: stream.headers.clone(),
        body: Body::None,
    }
}

fn id_of(ev: &Value) -> Option<&str> {
    ev.get("id").and_then(Value::as_str)
}

/// Whether RFC 3339 UTC time `a` is later than `b` (`false` when either is
/// not in the API's `2026-01-31T09:30:00.123Z` form).
fn later(a: &str, b: &str) -> bool {
    let utc = |t: &str| t.len() >= 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T';
    if !(utc(a) && utc(b)) {
        return false;
    }
    // Same form, fraction padded: plain text order is time order.
    let pad = |t: &str| {
        let (main, frac) = t
            .trim_end_matches('Z')
            .split_once('.')
            .unwrap_or((t.trim_end_matches('Z'), ""));
        format!("{main}.{frac:0<9}")
    };
    pad(a) > pad(b)
}

/// Session event lists filter by type and time; thread event lists do not.
fn is_session_list(stream_path: &str) -> bool {
    stream_ids(stream_path).1.is_none()
}

impl Follow<'_> {
    /// Opens the first connection like any request (`--max-retries` and
    /// `--timeout` apply, and failing is an error at once). With
    /// `read_state` and `--until-idle`, the session's recent history then
    /// decides whether to wait for the next idle or stop at once.
    pub async fn open(&mut self, read_state: bool) -> Result<Opened> {
        let resp = self.client.send(&self.stream, "text/event-stream").await?;
        let mut cur = Cursor {
            seen: Seen::new(4096),
            printed: 0,
            since: attach_time(&resp),
            retry_ms: None,
            at_rest: None,
        };
        if read_state && self.watch.until_idle() {
            match self.attach(&mut cur).await? {
                Attach::Wait => {}
                Attach::Stop(id, outcome) => cur.at_rest = Some(AtRest { id, outcome }),
            }
        }
        Ok(Opened { resp, cur })
    }

    /// Follows the opened stream, handing each new event to `emit` in order.
    pub async fn run(&mut self, opened: Opened, emit: &mut Emit<'_>) -> Result<Outcome> {
        let Opened { mut resp, mut cur } = opened;
        if self.max_items == 0 {
            return Ok(Outcome::Ended);
        }
        let mut backoff = 0u32;
        // Failed attempts in a row: reconnections that failed, and
        // connections that ended with an error event before any progress.
        let mut failures = 0u32;
        // Events printed up to the last reconnection (backfill counts as progress).
        let mut before = 0;
        loop {
            let opened = Instant::now();
            let why = match self.read(resp, &mut cur, emit).await? {
                Read::Done(outcome) => return Ok(outcome),
                Read::Closed(why) => why,
            };
            // Idle at attach, and no buffered events to finish (or no
            // reconnecting to finish them): how the turn ended is known.
            let replaying = self.reconnect && cur.printed > 0;
            if let Some(rest) = cur.at_rest.take_if(|_| !replaying) {
                return Ok(rest.ended());
            }
            if !self.reconnect {
                if self.watch.until_idle() {
                    let how = why.map(|e| format!(": {e}")).unwrap_or_default();
                    return Err(Error::Network(format!(
                        "the event stream ended before the session went idle (--no-reconnect){how}"
                    )));
                }
                return why.map_or(Ok(Outcome::Ended), Err);
            }
            let progress = cur.printed > before || opened.elapsed() >= HEALTHY;
            if progress {
                backoff = 0;
            }
            failures = match &why {
                Some(Error::Api(_)) if !progress => failures + 1,
                _ => 0,
            };
            before = cur.printed;
            let why = why.unwrap_or_else(|| Error::Network("the server closed the stream".into()));
            if failures >= MAX_REOPEN_FAILURES {
                return Err(why);
            }
            resp = match self
                .reopen(&mut cur, why, &mut backoff, &mut failures, emit)
                .await?
            {
                Ok(r) => r,
                Err(done) => return Ok(done),
            };
        }
    }

    /// Reads one connection until it ends or the stream should stop.
    async fn read(
        &mut self,
        mut resp: reqwest::Response,
        cur: &mut Cursor,
        emit: &mut Emit<'_>,
    ) -> Result<Read> {
        let mut decoder = sse::SseDecoder::new();
        let mut events = Vec::new();
        // While at rest, a stream quiet this long has delivered its buffered events.
        let grace = |cur: &Cursor| cur.at_rest.as_ref().map(|_| Instant::now() + IDLE_GRACE);
        let mut deadline = grace(cur);
        loop {
            let next = next_chunk(&mut resp, self.client.cfg.debug);
            let read = match deadline {
                Some(d) => match tokio::time::timeout_at(d.into(), next).await {
                    Ok(r) => r,
                    Err(_) => {
                        let rest = cur.at_rest.take().expect("at rest");
                        return Ok(Read::Done(rest.ended()));
                    }
                },
                None => next.await,
            };
            let chunk = match read {
                Ok(Some(c)) => c,
                Ok(None) => return Ok(Read::Closed(None)),
                Err(e) => return Ok(Read::Closed(Some(e))),
            };
            let fed = decoder.feed(&chunk, &mut events);
            cur.retry_ms = decoder.reconnection_time().or(cur.retry_ms);
            fed.map_err(|e| Error::Network(format!("event stream: {e}")))?;
            for ev in events.drain(..) {
                if ev.event == "ping" {
                    continue;
                }
                if ev.event == "error" {
                    // Overloaded or failing: like a dropped connection.
                    let e = stream_error(&self.stream, self.client, &ev.data);
                    if self.reconnect && retryable(&e) {
                        return Ok(Read::Closed(Some(e)));
                    }
                    return Err(e);
                }
                let (value, json) = ev.into_json(&self.client.cfg.command)?;
                if let Some(done) = self.deliver(&value, &json, cur, emit).await? {
                    return Ok(Read::Done(done));
                }
                deadline = grace(cur);
            }
        }
    }

    /// Reconnects after a pause, then backfills what was missed. `Err` holds
    /// the outcome when a backfilled event ends the stream.
    async fn reopen(
        &mut self,
        cur: &mut Cursor,
        mut why: Error,
        backoff: &mut u32,
        failures: &mut u32,
        emit: &mut Emit<'_>,
    ) -> Result<std::result::Result<reqwest::Response, Outcome>> {
        loop {
            *backoff += 1;
            self.pause(*backoff, cur.retry_ms, &why).await;
            let attempt = match self.client.send(&self.stream, "text/event-stream").await {
                Ok(resp) => self.backfill(cur).await.map(|events| (resp, events)),
                Err(e) => Err(e),
            };
            match attempt {
                Ok((resp, events)) => {
                    for (ev, json) in events {
                        if let Some(done) = self.deliver(&ev, &json, cur, emit).await? {
                            return Ok(Err(done));
                        }
                    }
                    return Ok(Ok(resp));
                }
                // The session (or thread) was there a moment ago: it was deleted.
                Err(Error::Api(a)) if a.status == 404 => return Ok(Err(self.watch.deleted())),
                Err(e) if retryable(&e) && *failures + 1 < MAX_REOPEN_FAILURES => {
                    *failures += 1;
                    why = e;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Prints one event unless it was printed before; `Some` when the stream should stop.
    async fn deliver(
        &mut self,
        ev: &Value,
        json: &str,
        cur: &mut Cursor,
        emit: &mut Emit<'_>,
    ) -> Result<Option<Outcome>> {
        if self.max_items >= 0 && cur.printed >= self.max_items {
            return Ok(Some(Outcome::Ended));
        }
        let id = ev.get("id").and_then(Value::as_str);
        if let Some(id) = id
            && !is_preview(ev)
            && !cur.seen.insert(id)
        {
            return Ok(None);
        }
        if let Some(at) = ev.get("processed_at").and_then(Value::as_str) {
            cur.since = Some(at.to_string());
        }
        for answer in emit(ev, json, &mut self.watch)? {
            if let Err(e) = self.send(&answer).await {
                self.answered_elsewhere(&answer, e).await?;
            }
        }
        cur.printed += 1;
        if let Some(done) = self.watch.check(ev) {
            return Ok(Some(done));
        }
        if let Some(rest) = &cur.at_rest {
            if rest.id.is_some() && rest.id.as_deref() == id {
                // The idle the session was in at attach: the buffered events are out.
                return Ok(cur.at_rest.take().map(AtRest::ended));
            }
            if self.watch.is_armed() {
                // A new turn started since: follow it to its idle.
                cur.at_rest = None;
            }
        }
        if self.max_items >= 0 && cur.printed >= self.max_items {
            return Ok(Some(Outcome::Ended));
        }
        Ok(None)
    }

    /// Reads the session's (or thread's) state once, for the stop rules:
    /// one page of the session's recent history (newest first, statuses,
    /// errors and user events). For a thread, its object first says whether
    /// it is the primary thread and whether it runs; the session's history
    /// (which has thread statuses, where thread lists cannot be filtered)
    /// then says how its last turn ended.
    async fn attach(&mut self, cur: &mut Cursor) -> Result<Attach> {
        let (Some(sid), thread) = stream_ids(&self.stream.path) else {
            return Ok(Attach::Wait);
        };
        let base = self.stream.path.split("/sessions/").next().unwrap_or("");
        let mut req = list_request(&self.stream);
        req.query.retain(|(k, _)| k == "beta");
        // The thread runs, as of this time (its `updated_at`).
        let mut running: Option<String> = None;
        let mut types = HISTORY_TYPES.to_vec();
        if let Some(tid) = thread {
            req.path = format!("{base}/sessions/{sid}/threads/{tid}");
            let thread = self.get_json(&req, "reading the thread").await?;
            // No parent: the primary thread, whose statuses are the session's.
            if thread.get("parent_thread_id").is_none_or(Value::is_null) {
                self.watch.primary_thread();
            }
            if matches!(
                thread.get("status").and_then(Value::as_str),
                Some("running" | "rescheduling")
            ) {
                let since = thread.get("updated_at").and_then(Value::as_str);
                running = Some(since.unwrap_or_default().to_string());
            }
            types.extend(THREAD_STATUS_TYPES);
        }
        req.path = format!("{base}/sessions/{sid}/events");
        req.set_query("order", "desc");
        req.set_query("limit", HISTORY_PAGE);
        for t in types {
            req.query.push(("types[]".into(), t.into()));
        }
        let page = self
            .get_json(&req, "reading the session's recent events")
            .await?;
        let history = page.get("data").and_then(Value::as_array);
        let history = history.map(Vec::as_slice).unwrap_or_default();
        if cur.since.is_none() {
            cur.since = history
                .first()
                .and_then(|e| e.get("processed_at"))
                .and_then(Value::as_str)
                .map(String::from);
        }
        Ok(match self.watch.attach(history) {
            // The thread was running when read: an idle older than that is
            // an earlier turn's. One newer (the history is read after the
            // thread) ended the turn that was running then.
            Attach::Stop(Some(idle), outcome) if running.is_some() => {
                let at = history
                    .iter()
                    .find(|e| id_of(e) == Some(idle.as_str()))
                    .and_then(|e| e.get("processed_at"))
                    .and_then(Value::as_str);
                let since = running.as_deref().unwrap_or_default();
                if at.is_some_and(|at| later(at, since)) {
                    Attach::Stop(Some(idle), outcome)
                } else {
                    self.watch.wait();
                    Attach::Wait
                }
            }
            Attach::Stop(..) if running.is_some() => {
                self.watch.wait();
                Attach::Wait
            }
            decided => decided,
        })
    }

    async fn get_json(&self, req: &Request, what: &str) -> Result<Value> {
        let resp = self.client.send(req, "application/json").await?;
        let body = self.client.read_body(resp, what).await?;
        serde_json::from_slice(&body)
            .map_err(|e| Error::Network(format!("{what}: response is not JSON: {e}")))
    }

    /// Events missed while disconnected (parsed, and as received): session
    /// lists start at the last event seen (`created_at[gte]`); thread lists
    /// are paged from the start, keeping what follows the last event seen.
    async fn backfill(&self, cur: &Cursor) -> Result<Vec<(Value, String)>> {
        let mut req = list_request(&self.stream);
        let by_time = is_session_list(&self.stream.path);
        if by_time && let Some(since) = &cur.since {
            req.set_query("created_at[gte]", since);
        }
        let last = cur.seen.last().map(String::from);
        let mut after_last = by_time || last.is_none();
        let mut out = Vec::new();
        let mut before_last = Vec::new();
        let mut cursors = crate::http::cursors::Cursors::default();
        loop {
            let resp = self.client.send(&req, "application/json").await?;
            let body = self.client.read_body(resp, "backfill").await?;
            let page = Doc::new(body)
                .map_err(|e| Error::Network(format!("backfill: the response is not JSON: {e}")))?;
            for text in page.items("data").unwrap_or_default() {
                let ev = crate::json::value(text);
                let id = ev.get("id").and_then(Value::as_str);
                if id.is_some_and(|i| cur.seen.contains(i)) {
                    after_last |= id == last.as_deref();
                    continue;
                }
                let older = match (&cur.since, ev.get("processed_at").and_then(Value::as_str)) {
                    (Some(s), Some(t)) => by_time && t < s.as_str(),
                    _ => false,
                };
                if older {
                    continue;
                }
                let text = text.to_string();
                if after_last {
                    out.push((ev, text));
                } else {
                    before_last.push((ev, text));
                }
            }
            match page.field("next_page").and_then(crate::json::string) {
                Some(next) if !next.is_empty() => {
                    cursors.next("backfill", &next)?;
                    req.set_query("page", &next);
                }
                _ => break,
            }
        }
        if !after_last {
            // The last event seen is not in the thread's list: every unseen event.
            out = before_last;
        }
        Ok(out)
    }

    /// A tool confirmation the server refused is no error when another
    /// client answered that tool use first: the session's events show it.
    async fn answered_elsewhere(&self, answer: &Request, e: Error) -> Result<()> {
        let tool_use = answer
            .json_body()
            .and_then(|b| b.pointer("/events/0"))
            .filter(|ev| ty(ev) == "user.tool_confirmation")
            .and_then(|ev| ev.get("tool_use_id"))
            .and_then(Value::as_str);
        let refused = matches!(&e, Error::Api(a) if (400..500).contains(&a.status));
        let Some(id) = tool_use.filter(|_| refused && is_session_list(&self.stream.path)) else {
            return Err(e);
        };
        let mut req = list_request(&self.stream);
        req.set_query("order", "desc");
        req.set_query("limit", HISTORY_PAGE);
        req.query
            .push(("types[]".into(), "user.tool_confirmation".into()));
        let page = self
            .get_json(&req, "checking the tool confirmation")
            .await?;
        let answered = page
            .get("data")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|c| c["tool_use_id"] == id));
        if !answered {
            return Err(e);
        }
        note!("Tool use {id} was already answered by another client.");
        Ok(())
    }

    /// Sends events; returns the response body (the stored events).
    pub async fn send(&self, req: &Request) -> Result<Value> {
        let resp = self.client.send(req, "application/json").await?;
        let body = self.client.read_body(resp, "sending events").await?;
        Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Waits before reconnection attempt `n` (1-based), saying so on stderr.
    async fn pause(&self, n: u32, retry_ms: Option<u64>, why: &Error) {
        let delay = reconnect_delay(n, retry_ms, fastrand::f64());
        let shown = if delay < Duration::from_secs(1) {
            format!("{} ms", delay.as_millis())
        } else {
            format!("{:.1} s", delay.as_secs_f64())
        };
        note!("reconnecting in {shown}: {why}");
        tokio::time::sleep(delay).await;
    }
}

/// The delay before reconnection attempt `n` (1-based): the server's
/// `retry:` time (1 ms at least, so that it can grow) or 100 ms, doubled per
/// attempt, at most 8 s, with up to half of it taken off at random (`jitter`
/// in 0..1).
pub fn reconnect_delay(n: u32, retry_ms: Option<u64>, jitter: f64) -> Duration {
    let base = retry_ms.map_or(BACKOFF_MIN, |ms| Duration::from_millis(ms.max(1)));
    let grown = base.saturating_mul(1u32 << n.saturating_sub(1).min(16));
    grown
        .min(BACKOFF_MAX)
        .mul_f64(1.0 - jitter.clamp(0.0, 1.0) * 0.5)
}

/// The first `user.message` in a send response (the stored event).
pub fn first_message(sent: &Value) -> Option<&Value> {
    sent.get("data")?
        .as_array()?
        .iter()
        .find(|e| ty(e) == "user.message")
}

/// When the stream opened, by the server's clock (its `Date` header, a
/// second early since the header has whole seconds).
fn attach_time(resp: &reqwest::Response) -> Option<String> {
    since_date(resp.headers().get("date")?.to_str().ok()?)
}

/// An HTTP date less one second, as RFC 3339 with milliseconds like
/// `processed_at`, so that the two compare as text.
fn since_date(date: &str) -> Option<String> {
    let secs = crate::http::date::httpdate_secs(date)?.checked_sub(1)?;
    let ms = i64::try_from(secs).ok()?.checked_mul(1000)?;
    Some(crate::http::date::rfc3339_ms(ms))
}

/// Delta previews share the id of the message they preview.
fn is_preview(ev: &Value) -> bool {
    matches!(ty(ev), "event_start" | "event_delta")
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

    #[test]
    fn later_compares_api_times() {
        assert!(later(
            "2026-12-06T05:47:13.099Z",
            "2026-12-06T05:47:13.073Z"
        ));
        assert!(later("2026-12-06T05:47:13.1Z", "2026-12-06T05:47:13.073Z"));
        assert!(later("2026-12-06T05:47:14Z", "2026-12-06T05:47:13.999Z"));
        assert!(!later(
            "2026-12-06T05:47:13.073Z",
            "2026-12-06T05:47:13.073Z"
        ));
        assert!(!later("2026-12-06T05:47:13Z", "not a time"));
    }

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
    fn reconnect_delays_double_up_to_the_cap_and_honour_retry() {
        let d = |n, retry, jitter| reconnect_delay(n, retry, jitter).as_millis();
        assert_eq!(d(1, None, 0.0), 100);
        assert_eq!(d(2, None, 0.0), 200);
        assert_eq!(d(5, None, 0.0), 1600);
        assert_eq!(d(9, None, 0.0), 8000, "capped");
        assert_eq!(d(40, None, 0.0), 8000, "no overflow");
        assert_eq!(d(1, None, 1.0), 50, "jitter takes off at most half");
        assert_eq!(d(1, Some(5), 0.0), 5, "retry: sets the base");
        assert_eq!(d(3, Some(5), 0.0), 20);
        assert_eq!(d(3, Some(u64::MAX), 0.0), 8000);
        // `retry: 0` must not make a server that closes empty streams a tight loop.
        assert!(d(1, Some(0), 0.0) >= 1, "{}", d(1, Some(0), 0.0));
        assert_eq!(d(14, Some(0), 0.0), 8000, "it still grows to the cap");
    }

    #[test]
    fn the_attach_time_compares_as_text_with_processed_at() {
        let since = since_date("Sun, 06 Nov 1994 08:49:38 GMT").unwrap();
        assert_eq!(since, "1994-11-06T08:49:37.000Z");
        assert!("1994-11-06T08:49:37.250Z" > since.as_str());
        assert!("1994-11-06T08:49:36.999Z" < since.as_str());
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
            body: Body::None,
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

    #[test]
    fn the_own_message_comes_from_the_send_response() {
        let sent = serde_json::json!({"data": [
            {"id": "sevt_0", "type": "user.interrupt"},
            {"id": "sevt_1", "type": "user.message"}
        ]});
        assert_eq!(first_message(&sent).unwrap()["id"], "sevt_1");
        assert_eq!(first_message(&Value::Null), None);
    }
}

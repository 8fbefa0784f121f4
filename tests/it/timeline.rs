//! Session streams against a server that behaves like the real API: a
//! stream carries only events emitted after it opened (plus, for the first
//! stream ever, the events buffered for it); the events list shows only what
//! has happened and honours `types[]`, `order`, `created_at[...]`, `limit`
//! and `page`; connections drop mid-turn while events go on. Each case
//! checks the exit code, that every event is printed exactly once and in
//! order, and that `ant` ends within its timeout.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ant::http::date::rfc3339_ms;
use serde_json::{Value, json};

use crate::{End, Recorded, Reply, Server, ant, ant_at, home, stderr, stdout};

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Events of a session: `kinds` in order, with ids (times are given as
/// they happen).
pub fn events(kinds: &[Value]) -> Vec<Value> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let mut e = k.clone();
            e["id"] = json!(format!("sevt_{i:06}"));
            e
        })
        .collect()
}

fn ev(ty: &str) -> Value {
    json!({"type": ty})
}

fn idle(reason: Value) -> Value {
    json!({"type": "session.status_idle", "stop_reason": reason})
}

/// One turn: the user message, running, `n` agent messages, then idle.
fn turn(n: usize, reason: &str) -> Vec<Value> {
    let mut t = vec![ev("user.message"), ev("session.status_running")];
    t.extend((0..n).map(|i| {
        json!({"type": "agent.message", "content": [{"type": "text", "text": format!("part {i}")}]})
    }));
    t.push(idle(json!({"type": reason})));
    t
}

/// What one stream connection does.
#[derive(Clone)]
pub struct Conn {
    /// Events that happen while the client is away, before this connection opens.
    pub away: usize,
    /// A pause before the live events: they happen (and are listed) only then.
    pub delay: Duration,
    /// Events emitted live on this connection.
    pub live: usize,
    /// The connection ends after sending this many events (of the buffered
    /// and live ones); the rest of the live events happen all the same.
    pub cut: Option<usize>,
    pub end: End,
}

pub fn conn(away: usize, live: usize, end: End) -> Conn {
    Conn {
        away,
        delay: Duration::ZERO,
        live,
        cut: None,
        end,
    }
}

const HOLD: End = End::Hold(Duration::from_secs(30));

struct State {
    events: Vec<Value>,
    /// Events given their time so far (they are listed once that time has come).
    happened: usize,
    /// When each of those happens and is listed (Unix ms).
    at_ms: Vec<u64>,
    /// For each attach-time history read (`order=desc`): the events listed then.
    history_reads: Vec<usize>,
    /// Trailing events of the history never sent to a stream (buffered for the first).
    buffered: usize,
    conns: Vec<Conn>,
    opened: usize,
    /// `retry:` sent on every stream, in milliseconds.
    retry_ms: Option<u64>,
    /// The last `processed_at` handed out (Unix ms).
    last_ms: u64,
}

impl State {
    /// Events up to `to` happen now: they get their `processed_at`.
    fn happen(&mut self, to: usize) {
        self.happen_at(to, now_ms());
    }

    /// Events up to `to` happen at `ms` (Unix ms): they are listed from
    /// then on, and their `processed_at` are one ms apart at least.
    fn happen_at(&mut self, to: usize, ms: u64) {
        let to = to.min(self.events.len());
        for i in self.happened..to {
            self.last_ms = ms.max(self.last_ms + 1);
            self.events[i]["processed_at"] = json!(rfc3339_ms(self.last_ms as i64));
            self.at_ms.push(ms);
        }
        self.happened = self.happened.max(to);
    }

    /// How many events have happened by now.
    fn listed(&self) -> usize {
        let now = now_ms();
        self.at_ms.iter().take_while(|t| **t <= now).count()
    }
}

/// A session whose first `history` events happened before the client
/// attaches (the last `buffered` of them never streamed), then `conns`.
pub struct Timeline {
    pub server: Server,
    state: Arc<Mutex<State>>,
}

impl Timeline {
    pub fn new(events: Vec<Value>, history: usize, buffered: usize, conns: Vec<Conn>) -> Self {
        Self::with_retry(events, history, buffered, conns, None)
    }

    fn with_retry(
        events: Vec<Value>,
        history: usize,
        buffered: usize,
        conns: Vec<Conn>,
        retry_ms: Option<u64>,
    ) -> Self {
        let mut state = State {
            events,
            happened: 0,
            at_ms: Vec::new(),
            history_reads: Vec::new(),
            buffered,
            conns,
            opened: 0,
            retry_ms,
            last_ms: 0,
        };
        // The history happened just before: one millisecond apart.
        state.happen_at(history, now_ms() - history as u64 - 1);
        let state = Arc::new(Mutex::new(state));
        let st = state.clone();
        let server = Server::start(move |r, _| {
            let mut s = st.lock().unwrap();
            if r.path.ends_with("/stream") {
                stream(&mut s)
            } else if r.path.ends_with("/events") {
                list(&mut s, r)
            } else {
                Reply::error(404, "not_found_error", "unexpected path")
            }
        });
        Timeline { server, state }
    }

    /// Event list requests made so far.
    pub fn list_requests(&self) -> Vec<Recorded> {
        self.server
            .recorded()
            .into_iter()
            .filter(|r| r.path.ends_with("/events"))
            .collect()
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().opened
    }

    /// How many events had happened at each attach-time history read.
    pub fn history_reads(&self) -> Vec<usize> {
        self.state.lock().unwrap().history_reads.clone()
    }

    /// The ids of events `from..to`, one per line.
    pub fn ids(&self, from: usize, to: usize) -> String {
        let s = self.state.lock().unwrap();
        s.events[from..to]
            .iter()
            .map(|e| format!("{}\n", e["id"].as_str().unwrap()))
            .collect()
    }
}

fn sse(e: &Value) -> Vec<u8> {
    format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()).into_bytes()
}

fn stream(s: &mut State) -> Reply {
    let Some(c) = s.conns.get(s.opened).cloned() else {
        return Reply::Stream(vec![], HOLD);
    };
    let first = s.opened == 0;
    s.opened += 1;
    let away = s.happened + c.away;
    s.happen(away);
    let live_from = s.happened;
    let from = if first {
        live_from - s.buffered
    } else {
        live_from
    };
    // Emitted after the delay: the list shows them from then on.
    s.happen_at(live_from + c.live, now_ms() + c.delay.as_millis() as u64);
    let mut chunks: Vec<(Duration, Vec<u8>)> = Vec::new();
    if let Some(ms) = s.retry_ms {
        chunks.push((Duration::ZERO, format!("retry: {ms}\n\n").into_bytes()));
    }
    let to = c.cut.map_or(s.happened, |n| (from + n).min(s.happened));
    for (i, e) in s.events[from..to].iter().enumerate() {
        let pause = if from + i == live_from {
            c.delay
        } else {
            Duration::ZERO
        };
        chunks.push((pause, sse(e)));
    }
    // A reset comes after what was sent has reached the client.
    if let End::Reset = c.end {
        chunks.push((Duration::from_millis(100), Vec::new()));
    }
    Reply::Stream(chunks, c.end)
}

fn list(s: &mut State, r: &Recorded) -> Reply {
    let q = |k: &str| r.query_param(k);
    let types: Vec<String> = r
        .query
        .split('&')
        .filter_map(|kv| kv.strip_prefix("types[]="))
        .map(String::from)
        .collect();
    let time = |e: &Value| e["processed_at"].as_str().unwrap().to_string();
    let bound = |k: &str| q(&format!("created_at[{k}]"));
    let listed = s.listed();
    if q("order").as_deref() == Some("desc") {
        s.history_reads.push(listed);
    }
    let mut items: Vec<&Value> = s.events[..listed]
        .iter()
        .filter(|e| types.is_empty() || types.iter().any(|t| e["type"] == t.as_str()))
        .filter(|e| bound("gte").is_none_or(|b| time(e) >= b))
        .filter(|e| bound("gt").is_none_or(|b| time(e) > b))
        .filter(|e| bound("lte").is_none_or(|b| time(e) <= b))
        .filter(|e| bound("lt").is_none_or(|b| time(e) < b))
        .collect();
    if q("order").as_deref() == Some("desc") {
        items.reverse();
    }
    let limit: usize = q("limit").map_or(20, |l| l.parse().unwrap());
    let from: usize = q("page").map_or(0, |p| p.parse().unwrap());
    let to = (from + limit).min(items.len());
    let next = (to < items.len()).then(|| to.to_string());
    Reply::ok(json!({"data": items[from..to], "next_page": next}))
}

/// `stream sesn_1 --until-idle` (plus `extra`), one event id per line.
fn watch(t: &Timeline, extra: &[&str]) -> (std::process::Output, Duration) {
    let h = home();
    let started = Instant::now();
    let out = ant_at(&t.server, h.path())
        .args(["beta:sessions:events", "stream", "sesn_1", "--until-idle"])
        .args(["--format", "jsonl", "--transform", "id", "-r"])
        .args(extra)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    (out, started.elapsed())
}

#[test]
fn attaching_mid_turn_waits_for_the_idle() {
    // The turns end differently, so stopping at the earlier one shows.
    let mut kinds = turn(2, "end_turn");
    kinds.extend(turn(5, "budget_reached"));
    let evs = events(&kinds);
    // Attach after the second turn's running status and one message; the
    // rest of the turn happens after the history read, later than the 1.5 s
    // an idle session's stream may stay quiet.
    let mut live = conn(0, 6, HOLD);
    live.delay = Duration::from_millis(2000);
    let t = Timeline::new(evs, 7, 0, vec![live]);
    let (out, took) = watch(&t, &[]);
    assert_eq!(out.status.code(), Some(13), "{}", stderr(&out));
    assert_eq!(stdout(&out), t.ids(7, 13));
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(
        t.history_reads(),
        [7],
        "the history read saw the turn running"
    );
}

#[test]
fn a_turn_that_ends_between_the_stream_opening_and_the_history_read_stops_there() {
    let mut kinds = turn(2, "end_turn");
    kinds.extend(turn(5, "refusal"));
    // The rest of the turn happens as the stream opens: the history read
    // already sees its idle, and the stream delivers it live.
    let t = Timeline::new(events(&kinds), 7, 0, vec![conn(0, 6, HOLD)]);
    let (out, took) = watch(&t, &[]);
    assert_eq!(out.status.code(), Some(14), "{}", stderr(&out));
    assert_eq!(stdout(&out), t.ids(7, 13));
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(t.history_reads(), [13], "the history read saw the idle");
}

#[test]
fn max_items_before_the_turn_ends_says_so() {
    let t = Timeline::new(events(&turn(5, "end_turn")), 0, 0, vec![conn(0, 8, HOLD)]);
    let (out, _) = watch(&t, &["--max-items", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), t.ids(0, 3));
    assert!(
        stderr(&out).contains("--max-items 3 reached before the turn ended"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn attaching_to_a_session_waiting_for_the_client_exits_10_at_once() {
    let kinds = turn(1, "requires_action");
    let mut evs = events(&kinds);
    evs[3]["stop_reason"]["event_ids"] = json!(["sevt_000002"]);
    let t = Timeline::new(evs, 4, 0, vec![conn(0, 0, HOLD)]);
    let (out, took) = watch(&t, &[]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    assert!(stderr(&out).contains("sevt_000002"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn attaching_to_an_idle_session_prints_the_buffered_events_then_stops() {
    // Nobody streamed this session yet: its whole turn is buffered.
    let t = Timeline::new(
        events(&turn(3, "budget_reached")),
        6,
        6,
        vec![conn(0, 0, HOLD)],
    );
    let (out, took) = watch(&t, &[]);
    assert_eq!(out.status.code(), Some(13), "{}", stderr(&out));
    assert_eq!(stdout(&out), t.ids(0, 6));
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_drop_while_replaying_an_idle_sessions_buffered_events_loses_none() {
    let mut first = conn(0, 0, End::Reset);
    first.cut = Some(3);
    let t = Timeline::new(
        events(&turn(3, "budget_reached")),
        6,
        6,
        vec![first, conn(0, 0, HOLD)],
    );
    let (out, took) = watch(&t, &[]);
    assert_eq!(out.status.code(), Some(13), "{}", stderr(&out));
    assert_eq!(stdout(&out), t.ids(0, 6));
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn attaching_to_a_session_that_never_ran_waits_for_its_first_turn() {
    let mut first = conn(0, 5, HOLD);
    first.delay = Duration::from_millis(500); // the message is sent later
    let t = Timeline::new(events(&turn(2, "end_turn")), 0, 0, vec![first]);
    let (out, _) = watch(&t, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), t.ids(0, 5));
    assert_eq!(t.history_reads(), [0], "the history read saw no turn yet");
}

#[test]
fn attaching_to_a_terminated_session_exits_11() {
    let mut kinds = turn(1, "end_turn");
    kinds.push(ev("session.status_terminated"));
    let t = Timeline::new(events(&kinds), 5, 0, vec![conn(0, 0, HOLD)]);
    let (out, took) = watch(&t, &[]);
    assert_eq!(out.status.code(), Some(11), "{}", stderr(&out));
    assert!(stderr(&out).contains("terminated"), "{}", stderr(&out));
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_drop_right_before_the_idle_ends_at_the_backfilled_idle() {
    let evs = events(&turn(4, "end_turn"));
    // The idle happens while the client is away.
    let t = Timeline::new(evs, 0, 0, vec![conn(0, 6, End::Reset), conn(1, 0, HOLD)]);
    let (out, _) = watch(&t, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), t.ids(0, 7));
    assert!(stderr(&out).contains("reconnecting in"), "{}", stderr(&out));
}

#[test]
fn a_drop_right_after_the_first_event_loses_and_repeats_nothing() {
    let evs = events(&turn(6, "end_turn"));
    let t = Timeline::new(
        evs,
        0,
        0,
        vec![
            conn(0, 1, End::Reset),
            conn(3, 2, End::Close),
            conn(0, 3, HOLD),
        ],
    );
    let (out, _) = watch(&t, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), t.ids(0, 9));
    assert_eq!(t.connections(), 3);
}

#[test]
fn a_drop_before_any_event_prints_nothing_old_and_misses_nothing() {
    // The session had a turn before; the stream drops at once, and the next
    // turn happens while the client is away.
    let mut kinds = turn(1, "end_turn");
    kinds.extend(turn(2, "budget_reached"));
    let t = Timeline::new(
        events(&kinds),
        4,
        0,
        vec![conn(0, 0, End::Reset), conn(5, 0, HOLD)],
    );
    let (out, _) = watch(&t, &[]);
    // At attach the session was idle: it stops at once, printing nothing old.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let never_ran = Timeline::new(
        events(&turn(2, "budget_reached")),
        0,
        0,
        vec![conn(0, 0, End::Reset), conn(5, 0, HOLD)],
    );
    let (out, _) = watch(&never_ran, &[]);
    assert_eq!(out.status.code(), Some(13), "{}", stderr(&out));
    assert_eq!(stdout(&out), never_ran.ids(0, 5));
}

#[test]
fn a_gap_of_many_events_is_backfilled_in_order() {
    let evs = events(&turn(1200, "end_turn"));
    let t = Timeline::new(
        evs,
        0,
        0,
        vec![conn(0, 3, End::Reset), conn(1150, 50, HOLD)],
    );
    let (out, _) = watch(&t, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), t.ids(0, 1203));
}

#[test]
fn reconnecting_a_long_session_starts_the_list_at_the_last_event_seen() {
    let mut kinds = turn(100_000, "end_turn");
    kinds.truncate(100_000); // user message, running, messages...
    kinds.extend(vec![json!({"type": "agent.message", "content": []}); 20]);
    kinds.push(idle(json!({"type": "end_turn"})));
    let total = kinds.len();
    let evs = events(&kinds);
    // Attach mid-turn after 100,000 events; the stream drops; ten more happen away.
    let t = Timeline::new(
        evs,
        100_000,
        0,
        vec![conn(0, 5, End::Reset), conn(10, 6, HOLD)],
    );
    let (out, _) = watch(&t, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), t.ids(100_000, total));
    let lists = t.list_requests();
    // One history read at attach, then the reconnect's backfill.
    let backfill: Vec<&Recorded> = lists
        .iter()
        .filter(|r| r.query_param("order").as_deref() != Some("desc"))
        .collect();
    assert!(
        (1..=2).contains(&backfill.len()),
        "the reconnect made {} list requests: {backfill:#?}",
        backfill.len()
    );
    assert!(
        backfill[0].query_param("created_at[gte]").is_some(),
        "{:?}",
        backfill[0].query
    );
}

/// The delays `ant` announced, in seconds.
fn delays(err: &str) -> Vec<f64> {
    err.lines()
        .filter_map(|l| l.strip_prefix("reconnecting in "))
        .map(|l| {
            let (n, rest) = l.split_once(' ').unwrap();
            let n: f64 = n.parse().unwrap();
            if rest.starts_with("ms") {
                n / 1000.0
            } else {
                n
            }
        })
        .collect()
}

#[test]
fn an_empty_stream_closed_ten_times_backs_off_and_keeps_following() {
    let evs = events(&turn(2, "end_turn"));
    let mut conns = vec![conn(0, 0, End::Close); 10];
    conns.push(conn(0, 5, HOLD));
    // The server asks for 5 ms between reconnections (`retry:`).
    let t = Timeline::with_retry(evs, 0, 0, conns, Some(5));
    let h = home();
    let out = ant_at(&t.server, h.path())
        .args([
            "beta:sessions:events",
            "stream",
            "sesn_1",
            "--max-items",
            "5",
        ])
        .args(["--format", "jsonl", "--transform", "id", "-r"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), t.ids(0, 5));
    let d = delays(&stderr(&out));
    assert_eq!(d.len(), 10, "one line per reconnection: {}", stderr(&out));
    // Doubling from 5 ms (minus up to half for jitter): no spinning.
    assert!(d[9] >= 0.005 * 512.0 * 0.5, "{d:?}");
    assert!(d.windows(2).filter(|w| w[1] < w[0]).count() <= 3, "{d:?}");
}

#[test]
fn no_reconnect_with_until_idle_fails_when_the_stream_ends_early() {
    let t = Timeline::new(
        events(&turn(3, "end_turn")),
        0,
        0,
        vec![conn(0, 3, End::Close)],
    );
    let (out, _) = watch(&t, &["--no-reconnect"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("before the session went idle"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), t.ids(0, 3));
}

#[test]
fn no_server_at_all_fails_fast_with_8() {
    let h = home();
    for retries in ["0", "2"] {
        let started = Instant::now();
        let out = ant(h.path())
            .env("ANTHROPIC_API_KEY", "k")
            .args(["--base-url", "http://127.0.0.1:1", "--max-retries", retries])
            .args(["beta:sessions:events", "stream", "sesn_x", "--until-idle"])
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
        assert!(stderr(&out).contains("connect"), "{}", stderr(&out));
        assert!(!stderr(&out).contains("reconnecting"), "{}", stderr(&out));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "--max-retries {retries}: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_transform_that_matches_nothing_does_not_hide_how_the_turn_ended() {
    let t = Timeline::new(
        events(&turn(2, "retries_exhausted")),
        5,
        5,
        vec![conn(0, 0, HOLD)],
    );
    let h = home();
    let out = ant_at(&t.server, h.path())
        .args(["beta:sessions:events", "stream", "sesn_1", "--until-idle"])
        .args(["--format", "jsonl", "--transform", "no.such.field"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(12), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("retries_exhausted"),
        "{}",
        stderr(&out)
    );
}

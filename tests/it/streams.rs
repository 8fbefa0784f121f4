//! Session streams that survive dropped connections: every event exactly
//! once, in order, whatever the server cuts.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::{Reply, Server, ant_at, home, stderr, stdout};

/// A tiny deterministic generator (no extra dependencies).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

struct Flaky {
    events: Vec<Value>,
    rng: Lcg,
    /// Events up to here have happened (are listed by the events endpoint).
    happened: usize,
    /// Where the previous connection was cut.
    cut: usize,
    connections: usize,
}

fn session_events(n: usize) -> Vec<Value> {
    let mut out = vec![json!({"id": "sevt_0000", "type": "session.status_running"})];
    for i in 1..n - 1 {
        out.push(
            json!({"id": format!("sevt_{i:04}"), "type": "agent.message",
                        "content": [{"type": "text", "text": format!("message {i}")}]}),
        );
    }
    out.push(
        json!({"id": format!("sevt_{:04}", n - 1), "type": "session.status_idle",
                    "stop_reason": {"type": "end_turn"}}),
    );
    out
}

/// Each stream connection starts live at a random point at or past where the
/// last one was cut (a gap of missed events, sometimes an overlap), serves a
/// few events and drops; the events list serves what has happened so far.
fn flaky_server(seed: u64, n: usize) -> (Server, Arc<Mutex<Flaky>>) {
    let state = Arc::new(Mutex::new(Flaky {
        events: session_events(n),
        rng: Lcg(seed),
        happened: 0,
        cut: 0,
        connections: 0,
    }));
    let st = state.clone();
    let server = Server::start(move |r, _| {
        let mut s = st.lock().unwrap();
        if r.path.ends_with("/events/stream") {
            let start = if s.connections == 0 {
                0
            } else {
                let gap = s.rng.next(6);
                let back = s.rng.next(3);
                (s.cut + gap).saturating_sub(back).min(s.events.len())
            };
            s.connections += 1;
            let len = 1 + s.rng.next(8);
            let end = (start + len).min(s.events.len());
            s.happened = s.happened.max(start);
            s.cut = end;
            let ping = s.rng.next(3) == 0;
            s.happened = s.happened.max(end);
            let types: Vec<String> = s.events[start..end]
                .iter()
                .map(|e| e["type"].as_str().unwrap().to_string())
                .collect();
            let mut chunks: Vec<(&str, Value)> = types
                .iter()
                .zip(&s.events[start..end])
                .map(|(t, e)| (t.as_str(), e.clone()))
                .collect();
            if ping {
                chunks.push(("ping", json!({})));
            }
            Reply::sse(&chunks)
        } else if r.path.ends_with("/events") {
            if r.query_param("order").as_deref() == Some("desc") {
                // The --until-idle check for an already idle session.
                let latest: Vec<Value> = s.events[..s.happened]
                    .iter()
                    .rev()
                    .take(1)
                    .cloned()
                    .collect();
                return Reply::ok(json!({"data": latest, "next_page": null}));
            }
            let limit: usize = r.query_param("limit").unwrap().parse().unwrap();
            let limit = limit.min(4); // force several pages
            let from: usize = r
                .query_param("page")
                .map(|p| p.parse().unwrap())
                .unwrap_or(0);
            let to = (from + limit).min(s.happened);
            let next = if to < s.happened {
                json!(to.to_string())
            } else {
                json!(null)
            };
            Reply::ok(json!({"data": s.events[from..to].to_vec(), "next_page": next}))
        } else {
            Reply::error(404, "not_found_error", "unexpected path")
        }
    });
    (server, state)
}

/// `stream sesn_1 FLAG`, printing one event id per line.
fn stream_ids(server: &Server, home: &std::path::Path, flag: &str) -> std::process::Output {
    ant_at(server, home)
        .args([
            "beta:sessions:events",
            "stream",
            "sesn_1",
            flag,
            "--format",
            "jsonl",
            "--transform",
            "id",
            "-r",
        ])
        // A regression that hangs fails here instead of holding the suite.
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap()
}

#[test]
fn dropped_streams_reconnect_and_backfill_without_loss_or_repeats() {
    let n = 40;
    let expected: Vec<String> = (0..n).map(|i| format!("sevt_{i:04}")).collect();
    for seed in 1..=12u64 {
        let (server, state) = flaky_server(seed, n);
        let h = home();
        let out = stream_ids(&server, h.path(), "--until-idle");
        assert!(out.status.success(), "seed {seed}: {}", stderr(&out));
        let got: Vec<String> = stdout(&out).lines().map(String::from).collect();
        assert_eq!(got, expected, "seed {seed}");
        assert!(
            state.lock().unwrap().connections > 3,
            "seed {seed}: the stream was really cut"
        );
    }
}

#[test]
fn no_reconnect_ends_with_the_first_connection() {
    let (server, _) = flaky_server(7, 40);
    let h = home();
    let out = stream_ids(&server, h.path(), "--no-reconnect");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).lines().count() < 40);
    assert_eq!(server.recorded().len(), 1);
}

#[test]
fn already_idle_session_with_nothing_pending_stops_at_once() {
    let server = Server::start(|r, _| {
        if r.path.ends_with("/events") {
            Reply::ok(
                json!({"data": [{"id": "sevt_9", "type": "session.status_idle",
                                       "stop_reason": {"type": "requires_action", "event_ids": ["sevt_8"]}}],
                             "next_page": null}),
            )
        } else {
            Reply::sse(&[])
        }
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:sessions:events", "stream", "sesn_1", "--until-idle"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    assert!(stderr(&out).contains("sevt_8"));
    let reqs = server.recorded();
    assert_eq!(
        reqs.len(),
        2,
        "the stream, then the status check: {reqs:#?}"
    );
    assert!(
        reqs.iter()
            .any(|r| r.query_param("order").as_deref() == Some("desc"))
    );
}

#[test]
fn already_idle_session_replaying_buffered_events_stops_at_that_idle() {
    let idle =
        json!({"id": "sevt_3", "type": "session.status_idle", "stop_reason": {"type": "end_turn"}});
    let idle2 = idle.clone();
    let server = Server::start(move |r, _| {
        if r.path.ends_with("/events") {
            Reply::ok(json!({"data": [idle2.clone()], "next_page": null}))
        } else {
            Reply::sse(&[
                (
                    "user.message",
                    json!({"id": "sevt_1", "type": "user.message"}),
                ),
                (
                    "agent.message",
                    json!({"id": "sevt_2", "type": "agent.message"}),
                ),
                ("session.status_idle", idle2.clone()),
                (
                    "agent.message",
                    json!({"id": "sevt_4", "type": "agent.message"}),
                ),
            ])
        }
    });
    let h = home();
    let out = stream_ids(&server, h.path(), "--until-idle");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "sevt_1\nsevt_2\nsevt_3\n");
}

#[test]
fn ctrl_c_stops_a_stream_with_exit_130() {
    let server = Server::start(|_, _| {
        Reply::Chunks(
            200,
            "text/event-stream",
            vec![
                (std::time::Duration::ZERO, b"event: session.status_running\ndata: {\"id\":\"e1\",\"type\":\"session.status_running\"}\n\n".to_vec()),
                (std::time::Duration::from_secs(30), b": late\n\n".to_vec()),
            ],
        )
    });
    let h = home();
    let bin = assert_cmd::cargo::cargo_bin("ant");
    let mut child = std::process::Command::new(bin)
        .args([
            "beta:sessions:events",
            "stream",
            "sesn_1",
            "--format",
            "jsonl",
        ])
        .env("HOME", h.path())
        .env("ANTHROPIC_CONFIG_DIR", h.path())
        .env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_API_KEY", "k")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first event, then interrupt.
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(first.contains("session.status_running"), "{first}");
    // SAFETY: sending SIGINT to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    // A plain stream never interrupts the session.
    assert!(
        server.recorded().iter().all(|r| r.method == "GET"),
        "{:#?}",
        server.recorded()
    );
}

#[test]
fn max_items_zero_prints_nothing() {
    // A quiet session stream: nothing to wait for.
    let server = Server::start(|_, _| {
        crate::Reply::Stream(vec![], crate::End::Hold(std::time::Duration::from_secs(30)))
    });
    let h = home();
    let started = std::time::Instant::now();
    let out = ant_at(&server, h.path())
        .args([
            "beta:sessions:events",
            "stream",
            "sesn_1",
            "--max-items",
            "0",
        ])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // A message stream and a JSON-lines download print no item either.
    let sse = Server::start(|_, _| {
        Reply::sse(&[
            ("message_start", json!({"type": "message_start"})),
            ("message_stop", json!({"type": "message_stop"})),
        ])
    });
    let out = ant_at(&sse, h.path())
        .args(["messages", "create", "--model", "m", "--max-tokens", "5"])
        .args(["--message", "{role: user, content: hi}", "--stream"])
        .args(["--max-items", "0", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let lines = Server::start(|_, _| {
        crate::Reply::Chunks(
            200,
            "application/binary",
            vec![(
                std::time::Duration::ZERO,
                b"{\"a\":1}\n{\"a\":2}\n".to_vec(),
            )],
        )
    });
    let out = ant_at(&lines, h.path())
        .args([
            "messages:batches",
            "results",
            "msgbatch_1",
            "--max-items",
            "0",
        ])
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_backfill_whose_page_cursor_repeats_stops_instead_of_looping() {
    let server = Server::start(|r, n| {
        if r.path.ends_with("/events") {
            // Always more, always the same cursor.
            let ev = json!({"id": format!("sevt_b{n}"), "type": "agent.message", "content": []});
            Reply::ok(json!({"data": [ev], "next_page": "page_again"}))
        } else {
            Reply::sse(&[(
                "session.status_running",
                json!({"id": "sevt_1", "type": "session.status_running"}),
            )])
        }
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:sessions:events", "stream", "sesn_1", "--until-idle"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("\"page_again\" a second time"), "{err}");
    assert!(server.recorded().len() < 10, "{}", server.recorded().len());
}

#[test]
fn an_overloaded_error_event_reconnects_and_a_client_error_event_ends_the_stream() {
    let running = json!({"id": "sevt_1", "type": "session.status_running",
                         "processed_at": "2026-04-01T12:00:00.000Z"});
    let idle = json!({"id": "sevt_2", "type": "session.status_idle",
                      "stop_reason": {"type": "end_turn"}, "processed_at": "2026-04-01T12:00:01.000Z"});
    let serve = |kind: &'static str| {
        let (running, idle) = (running.clone(), idle.clone());
        let streams = std::sync::atomic::AtomicUsize::new(0);
        Server::start(move |r, _| {
            if !r.path.ends_with("/stream") {
                return Reply::ok(json!({"data": [running.clone()], "next_page": null}));
            }
            let error = json!({"type": "error", "error": {"type": kind, "message": "try later"}});
            match streams.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => Reply::sse(&[
                    ("session.status_running", running.clone()),
                    ("error", error),
                ]),
                _ => Reply::sse(&[("session.status_idle", idle.clone())]),
            }
        })
    };
    let h = home();
    let server = serve("overloaded_error");
    let out = stream_ids(&server, h.path(), "--until-idle");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "sevt_1\nsevt_2\n");
    assert!(stderr(&out).contains("reconnecting in"), "{}", stderr(&out));
    let server = serve("invalid_request_error");
    let out = stream_ids(&server, h.path(), "--until-idle");
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("try later"), "{}", stderr(&out));
}

#[test]
fn a_stream_that_keeps_sending_error_events_is_given_up_after_ten() {
    let server = Server::start(|r, _| {
        if !r.path.ends_with("/stream") {
            return Reply::ok(json!({"data": [], "next_page": null}));
        }
        let error =
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}});
        // `retry: 1` keeps the test quick.
        crate::Reply::Chunks(
            200,
            "text/event-stream",
            vec![(
                std::time::Duration::ZERO,
                format!("retry: 1\n\nevent: error\ndata: {error}\n\n").into_bytes(),
            )],
        )
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:sessions:events", "stream", "sesn_1", "--until-idle"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let streams = server
        .recorded()
        .iter()
        .filter(|r| r.path.ends_with("/stream"))
        .count();
    assert_eq!(streams, 10, "{}", stderr(&out));
}

#[test]
fn a_session_deleted_while_disconnected_ends_like_a_deleted_session() {
    let serve = || {
        let running = json!({"id": "sevt_1", "type": "session.status_running",
                             "processed_at": "2026-04-01T12:00:00.000Z"});
        let streams = std::sync::atomic::AtomicUsize::new(0);
        Server::start(move |r, _| {
            let first = !r.path.ends_with("/stream")
                || streams.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
            if !first {
                Reply::error(404, "not_found_error", "session not found")
            } else if r.path.ends_with("/stream") {
                Reply::sse(&[("session.status_running", running.clone())])
            } else {
                Reply::ok(json!({"data": [running.clone()], "next_page": null}))
            }
        })
    };
    let h = home();
    let server = serve();
    let out = stream_ids(&server, h.path(), "--until-idle");
    assert_eq!(out.status.code(), Some(11), "{}", stderr(&out));
    assert!(stderr(&out).contains("deleted"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "sevt_1\n");
    let server = serve();
    let out = stream_ids(&server, h.path(), "--max-items=-1");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_sub_agent_thread_stream_stops_with_the_threads_own_stop_reason() {
    let server = Server::start(|r, _| {
        if r.path.ends_with("/threads/sthr_2") {
            return Reply::ok(
                json!({"id": "sthr_2", "type": "session_thread", "status": "idle",
                                    "parent_thread_id": "sthr_1"}),
            );
        }
        if r.path.ends_with("/stream") {
            return Reply::Stream(vec![], crate::End::Hold(std::time::Duration::from_secs(30)));
        }
        // The session's history: the coordinator still runs after the
        // sub-agent thread stopped.
        assert!(r.path.ends_with("/sessions/sesn_1/events"), "{}", r.path);
        assert!(
            r.query.contains("types[]=session.thread_status_idle"),
            "{}",
            r.query
        );
        Reply::ok(json!({"data": [
            {"id": "sevt_3", "type": "session.status_running", "processed_at": "2026-04-01T12:00:03Z"},
            {"id": "sevt_2", "type": "session.thread_status_idle", "session_thread_id": "sthr_2",
             "stop_reason": {"type": "refusal"}, "processed_at": "2026-04-01T12:00:02Z"},
            {"id": "sevt_1", "type": "session.thread_status_running", "session_thread_id": "sthr_2",
             "processed_at": "2026-04-01T12:00:01Z"},
        ], "next_page": null}))
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args([
            "beta:sessions:threads:events",
            "stream",
            "--session-id",
            "sesn_1",
            "sthr_2",
        ])
        .args(["--until-idle"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(14), "{}", stderr(&out));
}

/// An SSE body served as sent.
fn sse_text(body: &'static str) -> Server {
    Server::start(move |_, _| {
        Reply::Chunks(
            200,
            "text/event-stream",
            vec![(std::time::Duration::ZERO, body.as_bytes().to_vec())],
        )
    })
}

fn message_stream(server: &Server, format: &str) -> std::process::Output {
    let h = home();
    ant_at(server, h.path())
        .args(["messages", "create", "--model", "m", "--max-tokens", "5"])
        .args(["--message", "{role: user, content: hi}", "--stream"])
        .args(["--format", format])
        .output()
        .unwrap()
}

#[test]
fn stream_events_print_as_sent_even_beyond_what_a_parser_holds() {
    // A number beyond f64 and a lone surrogate are valid JSON: the event is
    // printed as the server sent it, not turned into a string.
    let server = sse_text(
        "event: message_start\ndata: {\"type\":\"message_start\",\"n\":1e400,\"s\":\"\\ud800\",\"big\":123456789012345678901234567890}\n\n\
         event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    let out = message_stream(&server, "jsonl");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "{\"type\":\"message_start\",\"n\":1e400,\"s\":\"\\ud800\",\"big\":123456789012345678901234567890}\n{\"type\":\"message_stop\"}\n"
    );
}

#[test]
fn stream_events_whose_data_is_not_json_are_errors() {
    for (data, why) in [
        ("not json", "unexpected character at byte 0"),
        ("", "empty body where JSON was expected at byte 0"),
        ("  ", "empty body where JSON was expected at byte 2"),
        ("{\"type\":", "unexpected end of input at byte 8"),
    ] {
        let body: &'static str = Box::leak(
            format!(
                "event: message_start\ndata: {{\"type\":\"message_start\"}}\n\n\
                 event: content_block_delta\ndata: {data}\n\n\
                 event: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
            )
            .into_boxed_str(),
        );
        let server = sse_text(body);
        let out = message_stream(&server, "jsonl");
        assert_eq!(out.status.code(), Some(1), "{data:?}");
        // What came before the bad event was printed; nothing after it.
        assert_eq!(stdout(&out), "{\"type\":\"message_start\"}\n", "{data:?}");
        assert_eq!(
            stderr(&out),
            format!(
                "ant: error: messages create: the stream's \"content_block_delta\" event is not the JSON the API documents: {why}\n"
            ),
            "{data:?}"
        );
    }
    // The same on a session stream.
    let server = sse_text("event: agent.message\ndata: <html>\n\n");
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:sessions:events", "stream", "sesn_1", "--no-reconnect"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "ant: error: beta:sessions:events stream: the stream's \"agent.message\" event is not the JSON the API documents: unexpected character at byte 0\n"
    );
}

#[test]
fn an_error_event_that_is_not_json_keeps_its_text_as_the_message() {
    let server = sse_text("event: error\ndata: upstream exploded\n\n");
    let out = message_stream(&server, "jsonl");
    assert_eq!(out.status.code(), Some(7));
    assert!(
        stderr(&out).ends_with(": 500 Internal Server Error: upstream exploded\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_reply_stream_cut_before_its_last_event_is_a_network_error() {
    let server = sse_text(
        "event: message_start\ndata: {\"type\":\"message_start\"}\n\n\
         event: content_block_delta\ndata: {\"type\":\"content_block_delta\"}\n\n",
    );
    let out = message_stream(&server, "jsonl");
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    // What arrived is printed; the error says it is not all.
    assert_eq!(
        stdout(&out),
        "{\"type\":\"message_start\"}\n{\"type\":\"content_block_delta\"}\n"
    );
    assert_eq!(
        stderr(&out),
        "ant: error: messages create: the stream ended before the reply did (no message_stop event)\n"
    );
    // A legacy completion stream ends with the completion that has its stop reason.
    let done = sse_text(
        "event: completion\ndata: {\"type\":\"completion\",\"completion\":\"Hi\",\"stop_reason\":null}\n\n\
         event: completion\ndata: {\"type\":\"completion\",\"completion\":\"\",\"stop_reason\":\"stop_sequence\"}\n\n",
    );
    let h = home();
    let run = |server: &Server| {
        ant_at(server, h.path())
            .args([
                "completions",
                "create",
                "--model",
                "m",
                "--max-tokens-to-sample",
                "5",
            ])
            .args([
                "--prompt",
                "\n\nHuman: hi\n\nAssistant:",
                "--stream",
                "--format",
                "jsonl",
            ])
            .output()
            .unwrap()
    };
    assert_eq!(run(&done).status.code(), Some(0));
    let cut = sse_text(
        "event: completion\ndata: {\"type\":\"completion\",\"completion\":\"Hi\",\"stop_reason\":null}\n\n",
    );
    assert_eq!(run(&cut).status.code(), Some(8));
}

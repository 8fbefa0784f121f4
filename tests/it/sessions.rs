//! Session commands CI can trust, end to end against `ant-mock`: `run` waits
//! for its own turn, every stop reason has its exit code, attaching mid-turn
//! ends at the turn's idle, and Ctrl-C interrupts the turn `run` started.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::explore::{Pane, have_tmux};
use crate::mock::{Mock, user_message};
use crate::{End, Reply, Server, stderr, stdout};

/// The text of every `agent.message` in JSON lines.
fn said(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "agent.message")
        .filter_map(|e| e["content"][0]["text"].as_str().map(String::from))
        .collect()
}

fn send(m: &Mock, session: &str, text: &str) {
    m.ok(&[
        "beta:sessions:events",
        "send",
        session,
        "--event",
        &user_message(text),
    ]);
}

fn events(m: &Mock, session: &str) -> Vec<Value> {
    m.ok(&["beta:sessions:events", "list", session, "--format", "jsonl"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn run_on_a_busy_session_waits_for_its_own_turn() {
    let m = Mock::new();
    let session = m.session();
    send(&m, &session, "/sleep 1\n/say first");
    let out = m
        .cmd()
        .args(["beta:sessions", "run", "--session-id", &session])
        .args(["-m", "/say second", "--format", "jsonl"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(said(&text), ["first", "second"], "{text}");
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "session.status_idle", "{text}");
    // The session's log: our message was processed after the first turn.
    let log = events(&m, &session);
    let pos = |f: &dyn Fn(&Value) -> bool| log.iter().position(f).unwrap();
    let second = pos(&|e| e["type"] == "user.message" && e["content"][0]["text"] == "/say second");
    let first_idle = pos(&|e| e["type"] == "session.status_idle");
    assert!(first_idle < second, "{log:#?}");
}

#[test]
fn run_exits_with_the_code_of_each_stop_reason() {
    let m = Mock::new();
    let agent = m.agent("{type: agent_toolset_20260401}");
    let env = m.environment();
    let cases = [
        ("/say hi", 0, ""),
        ("/say hi\n/fail boom", 12, "boom"),
        ("/budget", 13, "budget_reached"),
        ("/refuse not that", 14, "not that"),
        ("/tool get_weather {}", 10, "custom_tool_result"),
    ];
    for (message, code, needle) in cases {
        let out = m.run_turn(&agent, &env, message, &[]);
        assert_eq!(out.status.code(), Some(code), "{message}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{message}: {}", stderr(&out));
        // The error is one real line: no escaped newline inside it.
        let err = stderr(&out);
        let line = err.lines().find(|l| l.starts_with("ant: error:"));
        assert!(line.is_none_or(|l| !l.contains("\\n")), "{err}");
    }
}

#[test]
fn run_reports_a_failed_turn_even_when_the_transform_matches_nothing() {
    let m = Mock::new();
    let session = m.session();
    let out = m
        .cmd()
        .args(["beta:sessions", "run", "--session-id", &session])
        .args(["-m", "/fail boom", "--format", "jsonl"])
        .args(["--transform", "stop_details.category"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(12), "{}", stderr(&out));
    assert!(stderr(&out).contains("boom"), "{}", stderr(&out));
}

#[test]
fn stream_until_idle_exits_with_the_code_of_each_stop_reason() {
    let m = Mock::new();
    for (message, code) in [
        ("/say hi", 0),
        ("/fail boom", 12),
        ("/budget", 13),
        ("/refuse no", 14),
    ] {
        let session = m.session();
        send(&m, &session, message);
        let out = m
            .cmd()
            .args(["beta:sessions:events", "stream", &session, "--until-idle"])
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{message}: {}", stderr(&out));
    }
}

/// `ant args...` in the background with stdout piped.
fn spawn(m: &Mock, args: &[&str]) -> Child {
    m.cmd_std()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn attaching_mid_turn_ends_at_that_turns_idle() {
    let m = Mock::new();
    let session = m.session();
    // Another watcher takes the buffered events, as in the issue.
    let mut watcher = spawn(
        &m,
        &[
            "beta:sessions:events",
            "stream",
            &session,
            "--format",
            "jsonl",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    send(&m, &session, "/sleep 2\n/say done");
    std::thread::sleep(Duration::from_millis(700));
    let out = m
        .cmd()
        .args(["beta:sessions:events", "stream", &session, "--until-idle"])
        .args(["--format", "jsonl"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(said(&stdout(&out)), ["done"]);
}

/// Reads `child`'s stdout until a line contains `what`.
fn wait_for_line(child: &mut Child, what: &str) -> BufReader<std::process::ChildStdout> {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        if line.contains(what) {
            return out;
        }
        line.clear();
    }
    panic!("ant ended before printing {what:?}");
}

fn interrupt(child: &Child) {
    // SAFETY: sending SIGINT to a child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
}

#[test]
fn ctrl_c_in_run_interrupts_the_turn_it_started() {
    let m = Mock::new();
    let session = m.session();
    let mut run = spawn(
        &m,
        &[
            "beta:sessions",
            "run",
            "--session-id",
            &session,
            "-m",
            "/sleep 30",
            "--format",
            "jsonl",
        ],
    );
    let _stdout = wait_for_line(&mut run, "session.status_running");
    let started = Instant::now();
    interrupt(&run);
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(stderr(&out).contains("user.interrupt"), "{}", stderr(&out));
    let log = events(&m, &session);
    let types: Vec<&str> = log.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types.iter().filter(|t| **t == "user.interrupt").count(),
        1,
        "{types:?}"
    );
    assert_eq!(types.last(), Some(&"session.status_idle"), "{types:?}");
}

#[test]
fn ctrl_c_while_its_message_is_queued_interrupts_no_other_turn() {
    let m = Mock::new();
    let session = m.session();
    send(&m, &session, "/sleep 30");
    let mut run = spawn(
        &m,
        &[
            "beta:sessions",
            "run",
            "--session-id",
            &session,
            "-m",
            "/say mine",
            "--format",
            "jsonl",
        ],
    );
    // `run` prints the busy turn's buffered events once its message is sent.
    let _stdout = wait_for_line(&mut run, "session.status_running");
    interrupt(&run);
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("queued"), "{}", stderr(&out));
    let log = events(&m, &session);
    assert!(
        log.iter().all(|e| e["type"] != "user.interrupt"),
        "the other turn was interrupted: {log:#?}"
    );
    assert_eq!(log.last().unwrap()["type"], "session.status_running");
}

#[test]
fn a_second_ctrl_c_quits_at_once_and_says_how_to_stop_the_session() {
    // A server whose answer to the interrupt never comes.
    let server = Server::start(|r, _| match (r.method.as_str(), r.path.as_str()) {
        ("GET", p) if p.ends_with("/stream") => {
            Reply::Stream(vec![], End::Hold(Duration::from_secs(60)))
        }
        ("POST", _) if r.body_text().contains("user.interrupt") => Reply::Chunks(
            200,
            "application/json",
            vec![(Duration::from_secs(60), b"{}".to_vec())],
        ),
        ("POST", _) => Reply::ok(json!({"data": [{"id": "sevt_1", "type": "user.message"}]})),
        _ => Reply::ok(json!({"data": [], "next_page": null})),
    });
    let h = crate::home();
    let run = spawn_run(&server, h.path());
    let start = Instant::now();
    wait_for_post(&server, "user.message");
    interrupt(&run);
    wait_for_post(&server, "user.interrupt");
    interrupt(&run);
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(start.elapsed() < Duration::from_secs(20));
    let err = stderr(&out);
    assert!(
        err.contains("ant beta:sessions:events send sesn_1 --event '{type: user.interrupt}'"),
        "{err}"
    );
}

/// `ant beta:sessions run --session-id sesn_1 -m hi` against `server`, in
/// the background with stderr piped.
fn spawn_run(server: &Server, home: &std::path::Path) -> Child {
    crate::ant_std(home)
        .env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_API_KEY", "k")
        .args(["beta:sessions", "run", "--session-id", "sesn_1", "-m", "hi"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (20 s at most) until `server` got a POST whose body has `what`.
fn wait_for_post(server: &Server, what: &str) {
    let start = Instant::now();
    while !server
        .recorded()
        .iter()
        .any(|r| r.method == "POST" && r.body_text().contains(what))
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no POST with {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `run` in a terminal (tmux) on an agent whose tools always ask.
fn approval_prompt(m: &Mock) -> (Pane, String) {
    let agent = m.agent(
        "{type: agent_toolset_20260401, default_config: {permission_policy: {type: always_ask}}}",
    );
    let env = m.environment();
    let session = m.id(&[
        "beta:sessions",
        "create",
        "--agent",
        &agent,
        "--environment-id",
        &env,
    ]);
    let pane = Pane::start(
        &[
            ("ANTHROPIC_BASE_URL", m.handle.base_url.as_str()),
            ("ANTHROPIC_API_KEY", "k"),
        ],
        &[
            "beta:sessions",
            "run",
            "--session-id",
            &session,
            "-m",
            "/read notes.txt",
        ],
    );
    pane.wait("the approval prompt", |s| s.contains("Allow read"));
    (pane, session)
}

fn confirmations(m: &Mock, session: &str) -> usize {
    events(m, session)
        .iter()
        .filter(|e| e["type"] == "user.tool_confirmation")
        .count()
}

#[test]
fn ctrl_c_at_the_approval_prompt_exits_130_and_sends_nothing() {
    if !have_tmux() {
        return;
    }
    let m = Mock::new();
    let (pane, session) = approval_prompt(&m);
    pane.keys(&["C-c"]);
    assert_eq!(pane.exit_code(), 130, "{}", pane.stderr());
    assert_eq!(confirmations(&m, &session), 0);
}

#[test]
fn end_of_input_at_the_approval_prompt_is_no_answer() {
    if !have_tmux() {
        return;
    }
    let m = Mock::new();
    let (pane, session) = approval_prompt(&m);
    pane.keys(&["C-d"]);
    assert_eq!(pane.exit_code(), 10, "{}", pane.stderr());
    assert!(
        pane.stderr().contains("needs a confirmation"),
        "{}",
        pane.stderr()
    );
    assert_eq!(confirmations(&m, &session), 0);
}

#[test]
fn run_help_explains_the_turn_it_waits_for_and_the_exit_codes() {
    let h = crate::home();
    let out = crate::ant(h.path())
        .args(["beta:sessions", "run", "--help"])
        .output()
        .unwrap();
    let help = stdout(&out);
    assert!(help.contains("its own message"), "{help}");
    assert!(help.contains("user.interrupt"), "{help}");
    assert!(help.contains("14   the agent refused"), "{help}");
}

#[test]
fn run_names_only_the_missing_flags_and_refuses_an_empty_message() {
    let m = Mock::new();
    let out = m
        .cmd()
        .args([
            "beta:sessions",
            "run",
            "--environment-id",
            "env_1",
            "-m",
            "hi",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("\"--agent\" not set"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("--environment-id\" not set"),
        "{}",
        stderr(&out)
    );
    let out = m
        .cmd()
        .args(["beta:sessions", "run", "--session-id", "sesn_1", "-m", ""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--message: the message is empty"),
        "{}",
        stderr(&out)
    );
}

/// An SSE event for [`Reply::sse`]: `{id, type, ...extra}`.
fn event(id: &str, ty: &'static str, extra: Value) -> (&'static str, Value) {
    let mut e = json!({"id": id, "type": ty});
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    (ty, e)
}

/// A server where another client answers the tool confirmation first: the
/// stream shows its answer, `ant`'s own is refused, and the events list
/// shows the other answer when `answered` (else nothing).
fn answered_elsewhere(answered: bool) -> Server {
    let stream = vec![
        event("sevt_1", "user.message", json!({})),
        event("sevt_2", "session.status_running", json!({})),
        event(
            "tu_1",
            "agent.tool_use",
            json!({"name": "bash", "input": {"command": "ls"},
                                            "evaluated_permission": "ask"}),
        ),
        event(
            "sevt_4",
            "session.status_idle",
            json!({"stop_reason": {"type": "requires_action", "event_ids": ["tu_1"]}}),
        ),
        event(
            "sevt_5",
            "user.tool_confirmation",
            json!({"tool_use_id": "tu_1", "result": "allow"}),
        ),
        event("sevt_6", "session.status_running", json!({})),
        event(
            "sevt_7",
            "session.status_idle",
            json!({"stop_reason": {"type": "end_turn"}}),
        ),
    ];
    Server::start(move |r, _| match (r.method.as_str(), r.path.as_str()) {
        ("GET", p) if p.ends_with("/stream") => Reply::sse(&stream),
        ("POST", _) if r.body_text().contains("user.tool_confirmation") => Reply::error(
            400,
            "invalid_request_error",
            "events[0].tool_use_id: \"tu_1\" was already answered",
        ),
        ("POST", _) => Reply::ok(json!({"data": [{"id": "sevt_1", "type": "user.message"}]})),
        _ if answered => Reply::ok(json!({"data": [stream[4].1.clone()], "next_page": null})),
        _ => Reply::ok(json!({"data": [], "next_page": null})),
    })
}

#[test]
fn a_confirmation_another_client_gave_first_does_not_end_run() {
    let h = crate::home();
    // Refused, and another client's answer is there: the turn goes on; not
    // there: the refusal is the error.
    for (answered, code) in [(true, 0), (false, 5)] {
        let server = answered_elsewhere(answered);
        let out = crate::ant_at(&server, h.path())
            .args(["beta:sessions", "run", "--session-id", "sesn_1", "-m", "hi"])
            .args(["--approve", "all", "--format", "jsonl"])
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        if answered {
            let err = stderr(&out);
            assert!(err.contains("already answered by another client"), "{err}");
            assert_eq!(stdout(&out).lines().count(), 7, "{}", stdout(&out));
        }
    }
}

#[test]
fn run_without_an_id_in_the_send_response_waits_for_its_messages_echo() {
    let text = |t: &str| json!({"content": [{"type": "text", "text": t}]});
    let idle = |reason: &str| json!({"stop_reason": {"type": reason}});
    let events = vec![
        event("sevt_1", "user.message", text("earlier")),
        event("sevt_2", "session.status_running", json!({})),
        event("sevt_3", "session.status_idle", idle("end_turn")),
        event("sevt_4", "user.message", text("hi")),
        event("sevt_5", "session.status_running", json!({})),
        event("sevt_6", "session.status_idle", idle("budget_reached")),
    ];
    let server = Server::start(move |r, _| match r.method.as_str() {
        "GET" if r.path.ends_with("/stream") => Reply::sse(&events),
        "POST" => Reply::ok(json!({})),
        _ => Reply::ok(json!({"data": [], "next_page": null})),
    });
    let h = crate::home();
    let out = crate::ant_at(&server, h.path())
        .args(["beta:sessions", "run", "--session-id", "sesn_1", "-m", "hi"])
        .args(["--format", "jsonl"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(13), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 6, "{}", stdout(&out));
}

#[test]
fn run_on_a_session_waiting_for_the_client_says_so_and_sends_nothing() {
    let m = Mock::new();
    let session = m.session();
    let first = m
        .cmd()
        .args([
            "beta:sessions",
            "run",
            "--session-id",
            &session,
            "-m",
            "/tool get_weather {}",
        ])
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(10), "{}", stderr(&first));
    let out = m
        .cmd()
        .args([
            "beta:sessions",
            "run",
            "--session-id",
            &session,
            "-m",
            "/say hi",
        ])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("user.custom_tool_result") && err.contains("not sent"),
        "{err}"
    );
    let messages = events(&m, &session)
        .iter()
        .filter(|e| e["type"] == "user.message")
        .count();
    assert_eq!(messages, 1, "the second message was not sent");
}

#[test]
fn ctrl_c_while_the_message_is_being_sent_quits_at_once() {
    // A server that never answers the send.
    let server = Server::start(|r, _| match (r.method.as_str(), r.path.as_str()) {
        ("GET", p) if p.ends_with("/stream") => {
            Reply::Stream(vec![], End::Hold(Duration::from_secs(60)))
        }
        ("POST", _) => Reply::Chunks(
            200,
            "application/json",
            vec![(Duration::from_secs(60), b"{}".to_vec())],
        ),
        _ => Reply::ok(json!({"data": [], "next_page": null})),
    });
    let h = crate::home();
    let run = spawn_run(&server, h.path());
    wait_for_post(&server, "user.message");
    interrupt(&run);
    let interrupted = Instant::now();
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(interrupted.elapsed() < Duration::from_secs(10));
    assert!(stderr(&out).contains("user.interrupt"), "{}", stderr(&out));
}

#[test]
fn a_thread_stream_attached_to_an_idle_thread_exits_with_its_stop_reason() {
    let m = Mock::new();
    let session = m.session();
    send(&m, &session, "/say hi\n/budget");
    let thread = m.id(&["beta:sessions:threads", "list", "--session-id", &session]);
    let out = m
        .cmd()
        .args([
            "beta:sessions:threads:events",
            "stream",
            "--session-id",
            &session,
            &thread,
        ])
        .args(["--until-idle", "--format", "jsonl"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(13), "{}", stderr(&out));
    assert_eq!(said(&stdout(&out)), ["hi"]);
}

/// The thread read while it ran, the history read a moment later with the
/// turn's idle in it: the idle is newer than the thread's last change, so
/// the turn has ended and the stream stops with its code rather than
/// waiting forever for another.
#[test]
fn a_thread_that_went_idle_while_ant_attached_ends_the_stream() {
    let ev = |id: &str, ty: &str, at: &str, extra: Value| {
        let mut e = json!({"id": id, "type": ty, "processed_at": at});
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        e
    };
    let idle = ev(
        "sevt_3",
        "session.status_idle",
        "2026-01-01T00:00:02.000Z",
        json!({"stop_reason": {"type": "budget_reached"}}),
    );
    let running = ev(
        "sevt_2",
        "session.status_running",
        "2026-01-01T00:00:01.000Z",
        json!({}),
    );
    let said = ev(
        "sevt_1",
        "user.message",
        "2026-01-01T00:00:00.500Z",
        json!({"content": [{"type": "text", "text": "hi"}]}),
    );
    let replay: Vec<u8> = [&said, &running, &idle]
        .iter()
        .map(|e| format!("event: message\ndata: {e}\n\n"))
        .collect::<String>()
        .into_bytes();
    let (said2, idle2) = (said.clone(), idle.clone());
    let server = Server::start(move |r, _| {
        if r.path.ends_with("/stream") {
            Reply::Stream(
                vec![(Duration::ZERO, replay.clone())],
                End::Hold(Duration::from_secs(60)),
            )
        } else if r.path.ends_with("/threads/sthr_1") {
            Reply::ok(
                json!({"id": "sthr_1", "type": "session_thread", "status": "running",
                "parent_thread_id": null, "updated_at": "2026-01-01T00:00:01.000Z"}),
            )
        } else {
            Reply::ok(json!({"data": [idle2, running, said2], "next_page": null}))
        }
    });
    let h = crate::home();
    let start = Instant::now();
    let out = crate::ant_at(&server, h.path())
        .args([
            "beta:sessions:threads:events",
            "stream",
            "--session-id",
            "sesn_1",
            "sthr_1",
        ])
        .args(["--until-idle", "--format", "jsonl"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(13), "{}", stderr(&out));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

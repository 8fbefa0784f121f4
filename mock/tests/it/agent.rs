//! The scripted agent and event streams of ant-mock over real HTTP:
//! directives, tools and their sandbox, permissions, custom tools,
//! interrupts, buffering, previews and dropped streams.

use crate::support::*;
use serde_json::json;

fn stream_path(sid: &str) -> String {
    format!("/v1/sessions/{sid}/events/stream")
}

#[test]
fn say_think_echo_and_event_log() {
    let (_h, c) = start(Default::default());
    let sid = session(&c);
    let mut s = c.stream(&stream_path(&sid));
    say(&c, &sid, "hello\n/think\n/say world");
    let evs = s.until("session.status_idle");
    assert_eq!(
        types(&evs),
        [
            "user.message",
            "session.status_running",
            "span.model_request_start",
            "agent.message",
            "span.model_request_end",
            "span.model_request_start",
            "agent.thinking",
            "span.model_request_end",
            "span.model_request_start",
            "agent.message",
            "span.model_request_end",
            "session.status_idle",
        ]
    );
    assert_eq!(evs[3].data["content"][0]["text"], "hello");
    assert_eq!(evs[9].data["content"][0]["text"], "world");
    assert_eq!(evs[11].data["stop_reason"]["type"], "end_turn");
    assert_eq!(evs[4].data["model_request_start_id"], evs[2].data["id"]);
    // The SSE id line is the event id, and the log holds the same events.
    assert_eq!(evs[3].id.as_deref(), evs[3].data["id"].as_str());
    let log = c
        .get(&format!("/v1/sessions/{sid}/events?limit=100"))
        .json();
    let ids: Vec<_> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(
        ids,
        evs.iter().map(|e| e.data["id"].clone()).collect::<Vec<_>>()
    );
    let only = c
        .get(&format!(
            "/v1/sessions/{sid}/events?types[]=agent.message&order=desc"
        ))
        .json();
    assert_eq!(only["data"].as_array().unwrap().len(), 2);
    assert_eq!(only["data"][0]["content"][0]["text"], "world");
    let since = evs[5].data["processed_at"].as_str().unwrap();
    let later = c
        .get(&format!(
            "/v1/sessions/{sid}/events?created_at[gte]={since}&limit=100"
        ))
        .json();
    assert_eq!(later["data"].as_array().unwrap().len(), 7);
    // A timestamp with a multi-byte character where the offset goes is a
    // 400, not a handler that panics and drops the connection.
    let bad = c.get(&format!(
        "/v1/sessions/{sid}/events?created_at[gte]=2026-01-01T00:00:00%C3%A91234"
    ));
    assert_eq!(bad.status, 400, "{}", bad.message());
    assert!(bad.message().contains("not an RFC 3339 timestamp"));
    assert_eq!(
        c.get(&format!("/v1/sessions/{sid}")).json()["status"],
        "idle"
    );
}

#[test]
fn fail_emits_session_error_then_idle() {
    let (_h, c) = start(Default::default());
    let sid = session(&c);
    let mut s = c.stream(&stream_path(&sid));
    say(&c, &sid, "/fail boom\n/say never");
    let evs = s.until("session.status_idle");
    let err = evs
        .iter()
        .find(|e| e.event == "session.error")
        .expect("session.error");
    assert_eq!(err.data["error"]["message"], "boom");
    assert!(!types(&evs).contains(&"agent.message"));
}

#[test]
fn write_read_edit_glob_grep_in_the_sandbox() {
    let (_h, c) = start(Default::default());
    let sid = session(&c);
    let mut s = c.stream(&stream_path(&sid));
    say(
        &c,
        &sid,
        "/write src/a.txt\nalpha\nbeta\n/end\n/edit src/a.txt\nbeta\n/with\ngamma\n/end\n/read src/a.txt\n/glob **/*.txt\n/grep gam",
    );
    let evs = s.until("session.status_idle");
    let results: Vec<_> = of_type(&evs, "agent.tool_result");
    assert_eq!(results.len(), 5);
    for r in &results {
        assert_eq!(r.data["is_error"], false, "{}", r.data);
    }
    let uses: Vec<_> = of_type(&evs, "agent.tool_use");
    assert_eq!(uses[0].data["name"], "write");
    assert_eq!(results[0].data["tool_use_id"], uses[0].data["id"]);
    assert_eq!(results[2].data["content"][0]["text"], "alpha\ngamma\n");
    assert_eq!(results[3].data["content"][0]["text"], "src/a.txt");
    assert_eq!(results[4].data["content"][0]["text"], "src/a.txt:2:gamma");
}

#[test]
fn file_tools_refuse_escapes_and_bash_needs_the_flag() {
    let (h, c) = start(Default::default());
    let sid = session(&c);
    std::os::unix::fs::symlink("/etc", h.sandbox_root.join(&sid).join("etc")).unwrap();
    let mut s = c.stream(&stream_path(&sid));
    say(
        &c,
        &sid,
        "/read ../../etc/passwd\n/read /etc/passwd\n/read etc/passwd\n/write etc/evil\nx\n/end\n/bash echo hi",
    );
    let evs = s.until("session.status_idle");
    let results: Vec<_> = of_type(&evs, "agent.tool_result");
    assert_eq!(results.len(), 5);
    for r in &results[..4] {
        assert_eq!(r.data["is_error"], true);
        assert!(
            r.data["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("escapes workdir"),
            "{}",
            r.data
        );
    }
    assert!(
        results[4].data["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("--allow-bash")
    );

    let (_h2, c2) = start(ant_mock::Config {
        allow_bash: true,
        ..Default::default()
    });
    let sid = session(&c2);
    let mut s = c2.stream(&stream_path(&sid));
    say(&c2, &sid, "/bash echo hi; pwd\n/bash exit 3");
    let evs = s.until("session.status_idle");
    let results: Vec<_> = of_type(&evs, "agent.tool_result");
    let out = results[0].data["content"][0]["text"].as_str().unwrap();
    assert!(
        out.starts_with("hi\n") && out.trim_end().ends_with(&sid),
        "{out}"
    );
    assert_eq!(results[1].data["is_error"], true);
    assert!(
        results[1].data["content"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with("exit code: 3")
    );
}

#[test]
fn custom_tool_round_trip() {
    let (_h, c) = start(Default::default());
    let sid = session(&c);
    let mut s = c.stream(&stream_path(&sid));
    say(
        &c,
        &sid,
        "/tool get_weather {\"city\": \"Paris\"}\n/say thanks",
    );
    let evs = s.until("session.status_idle");
    let use_ = evs
        .iter()
        .find(|e| e.event == "agent.custom_tool_use")
        .unwrap();
    assert_eq!(use_.data["name"], "get_weather");
    assert_eq!(use_.data["input"], json!({"city": "Paris"}));
    let idle = evs.last().unwrap();
    assert_eq!(
        idle.data["stop_reason"],
        json!({"type": "requires_action", "event_ids": [use_.data["id"]]})
    );
    assert_eq!(
        c.get(&format!("/v1/sessions/{sid}")).json()["status"],
        "idle"
    );
    // An answer to an unknown tool use is refused.
    let bad = c.post(
        &format!("/v1/sessions/{sid}/events"),
        json!({"events": [{"type": "user.custom_tool_result", "custom_tool_use_id": "sevt_nope"}]}),
    );
    assert_eq!(bad.status, 400);
    let ok = c.post(
        &format!("/v1/sessions/{sid}/events"),
        json!({"events": [{"type": "user.custom_tool_result", "custom_tool_use_id": use_.data["id"], "content": [{"type": "text", "text": "sunny"}]}]}),
    );
    assert_eq!(ok.status, 200);
    let evs = s.until("session.status_idle");
    assert_eq!(
        types(&evs),
        [
            "user.custom_tool_result",
            "session.status_running",
            "span.model_request_start",
            "agent.message",
            "span.model_request_end",
            "session.status_idle"
        ]
    );
    assert_eq!(evs.last().unwrap().data["stop_reason"]["type"], "end_turn");
}

fn ask_session(c: &Client) -> String {
    session_with(
        c,
        json!([{"type": "agent_toolset_20260401", "default_config": {"permission_policy": {"type": "always_ask"}}, "configs": [{"name": "glob", "enabled": false}]}]),
    )
}

#[test]
fn confirmation_allow_and_deny_and_disabled_tools() {
    let (_h, c) = start(Default::default());
    let sid = ask_session(&c);
    let mut s = c.stream(&stream_path(&sid));
    say(&c, &sid, "/write a.txt\nx\n/end\n/read a.txt\n/glob *");
    let evs = s.until("session.status_idle");
    let use_ = evs.iter().find(|e| e.event == "agent.tool_use").unwrap();
    assert_eq!(use_.data["evaluated_permission"], "ask");
    assert_eq!(
        evs.last().unwrap().data["stop_reason"]["event_ids"],
        json!([use_.data["id"]])
    );
    let confirm = |id: &serde_json::Value, result: &str| {
        let r = c.post(
            &format!("/v1/sessions/{sid}/events"),
            json!({"events": [{"type": "user.tool_confirmation", "tool_use_id": id, "result": result, "deny_message": if result == "deny" { json!("not today") } else { json!(null) }}]}),
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    };
    confirm(&use_.data["id"], "allow");
    let evs = s.until("session.status_idle");
    let result = evs.iter().find(|e| e.event == "agent.tool_result").unwrap();
    assert_eq!(result.data["is_error"], false);
    let read_use = evs.iter().find(|e| e.event == "agent.tool_use").unwrap();
    assert_eq!(read_use.data["name"], "read");
    confirm(&read_use.data["id"], "deny");
    let evs = s.until("session.status_idle");
    let results: Vec<_> = of_type(&evs, "agent.tool_result");
    assert_eq!(results[0].data["content"][0]["text"], "not today");
    assert_eq!(results[0].data["is_error"], true);
    // glob is disabled: refused without asking.
    assert!(
        results[1].data["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("disabled")
    );
    assert_eq!(evs.last().unwrap().data["stop_reason"]["type"], "end_turn");
}

#[test]
fn interrupt_stops_a_waiting_turn() {
    let (_h, c) = start(Default::default());
    let sid = session(&c);
    let mut s = c.stream(&stream_path(&sid));
    say(&c, &sid, "/tool wait {}\n/say unreachable");
    s.until("session.status_idle");
    c.post(
        &format!("/v1/sessions/{sid}/events"),
        json!({"events": [{"type": "user.interrupt"}]}),
    );
    let evs = s.until("session.status_idle");
    assert_eq!(types(&evs), ["user.interrupt", "session.status_idle"]);
    assert_eq!(evs[1].data["stop_reason"]["type"], "end_turn");
}

#[test]
fn events_sent_before_a_stream_attaches_are_buffered() {
    let (_h, c) = start(Default::default());
    let sid = session(&c);
    say(&c, &sid, "/say early");
    std::thread::sleep(std::time::Duration::from_millis(300));
    // The quickstart's curl path.
    let mut s = c.stream(&format!("/v1/sessions/{sid}/stream"));
    let evs = s.until("session.status_idle");
    assert_eq!(evs[0].event, "user.message");
    assert!(types(&evs).contains(&"agent.message"));
    // Delivered once: a second stream gets only new events.
    let mut s2 = c.stream(&stream_path(&sid));
    say(&c, &sid, "again");
    let first = s2.next().unwrap();
    assert_eq!(first.event, "user.message");
    assert_eq!(first.data["content"][0]["text"], "again");
    // Both attached streams receive it.
    assert_eq!(s.next().unwrap().data["id"], first.data["id"]);
}

#[test]
fn event_deltas_preview_agent_messages() {
    let (_h, c) = start(Default::default());
    let sid = session(&c);
    let mut plain = c.stream(&stream_path(&sid));
    let mut s = c.stream(&format!(
        "{}?event_deltas[]=agent.message",
        stream_path(&sid)
    ));
    say(&c, &sid, "/say Hello, streaming world");
    let evs = s.until("session.status_idle");
    let start = evs.iter().position(|e| e.event == "event_start").unwrap();
    let msg = evs.iter().position(|e| e.event == "agent.message").unwrap();
    assert!(start < msg);
    assert_eq!(evs[start].data["event"]["type"], "agent.message");
    assert_eq!(evs[start].data["event"]["id"], evs[msg].data["id"]);
    let text: String = evs[start + 1..msg]
        .iter()
        .map(|e| {
            assert_eq!(e.event, "event_delta");
            assert_eq!(e.data["event_id"], evs[msg].data["id"]);
            assert_eq!(e.data["delta"]["type"], "content_delta");
            e.data["delta"]["content"]["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(text, "Hello, streaming world");
    assert!(msg - start > 2);
    // Previews go only to streams that asked, and are not in the log.
    assert!(!types(&plain.until("session.status_idle")).contains(&"event_delta"));
    let log = c.get(&format!("/v1/sessions/{sid}/events")).json();
    assert!(
        log["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["type"] != "event_delta" && e["type"] != "event_start")
    );
}

#[test]
fn drop_streams_after_n_events() {
    let (_h, c) = start(ant_mock::Config {
        drop_streams_after: Some(3),
        ..Default::default()
    });
    let sid = session(&c);
    let mut s = c.stream(&stream_path(&sid));
    say(&c, &sid, "/say one\n/say two");
    let mut got = Vec::new();
    while let Some(e) = s.next() {
        got.push(e);
    }
    assert_eq!(got.len(), 3);
    // The client backfills from the log.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = c.get(&format!("/v1/sessions/{sid}/events")).json();
    let all = log["data"].as_array().unwrap();
    assert_eq!(
        all[..3].iter().map(|e| e["id"].clone()).collect::<Vec<_>>(),
        got.iter().map(|e| e.data["id"].clone()).collect::<Vec<_>>()
    );
    assert_eq!(all.last().unwrap()["type"], "session.status_idle");
}

fn tool_results(evs: &[Event]) -> Vec<&Event> {
    evs.iter()
        .filter(|e| e.event == "agent.tool_result")
        .collect()
}

fn text(e: &Event) -> &str {
    e.data["content"][0]["text"].as_str().unwrap()
}

#[test]
fn write_refuses_the_workdir_and_directories() {
    let (h, c) = start(Default::default());
    let sid = session(&c);
    let sandbox = h.sandbox_root.join(&sid);
    std::fs::create_dir(sandbox.join("sub")).unwrap();
    let mut s = c.stream(&stream_path(&sid));
    say(
        &c,
        &sid,
        "/write .\nx\n/end\n/write sub/..\nx\n/end\n/write sub\nx\n/end\n/write sub/ok.txt\nx\n/end",
    );
    let evs = s.until("session.status_idle");
    let results = tool_results(&evs);
    assert_eq!(results.len(), 4);
    for r in &results[..3] {
        assert_eq!(r.data["is_error"], true, "{}", r.data);
    }
    assert!(
        text(results[0]).contains("workdir itself"),
        "{}",
        text(results[0])
    );
    assert!(
        text(results[2]).contains("is a directory"),
        "{}",
        text(results[2])
    );
    assert_eq!(results[3].data["is_error"], false);
    // No temporary file next to the sandbox or in it.
    let names = |d: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&h.sandbox_root), [sid.as_str()]);
    assert_eq!(names(&sandbox), ["sub"]);
    assert_eq!(names(&sandbox.join("sub")), ["ok.txt"]);
}

#[test]
fn bash_output_is_bounded_and_background_children_do_not_block() {
    let (_h, c) = start(ant_mock::Config {
        allow_bash: true,
        ..Default::default()
    });
    let sid = session(&c);
    let mut s = c.stream(&stream_path(&sid));
    let t = std::time::Instant::now();
    say(
        &c,
        &sid,
        "/bash sleep 8 & echo started\n/bash head -c 20000000 /dev/zero | tr '\\0' a; echo; echo end",
    );
    let evs = s.until("session.status_idle");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(6),
        "{:?}",
        t.elapsed()
    );
    let results = tool_results(&evs);
    assert_eq!(text(results[0]), "started\n");
    let out = text(results[1]);
    assert!(
        out.starts_with("[output truncated]\naaaa"),
        "{}",
        &out[..40]
    );
    assert!(out.ends_with("aaa\nend\n"));
    assert!(out.len() <= 100 * 1024 + 20, "{}", out.len());
}

#[test]
fn interrupt_kills_a_running_bash_command() {
    let (h, c) = start(ant_mock::Config {
        allow_bash: true,
        ..Default::default()
    });
    let sid = session(&c);
    let mut s = c.stream(&stream_path(&sid));
    say(
        &c,
        &sid,
        "/bash (sleep 2; touch late) & sleep 60\n/say unreachable",
    );
    s.until("agent.tool_use");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let t = std::time::Instant::now();
    c.post(
        &format!("/v1/sessions/{sid}/events"),
        json!({"events": [{"type": "user.interrupt"}]}),
    );
    let evs = s.until("session.status_idle");
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(
        types(&evs),
        [
            "span.model_request_end",
            "user.interrupt",
            "agent.tool_result",
            "session.status_idle"
        ]
    );
    assert_eq!(evs[2].data["is_error"], true);
    assert!(text(&evs[2]).contains("Interrupted"));
    assert_eq!(evs[3].data["stop_reason"]["type"], "end_turn");
    // The whole process group was killed, background child included.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(!h.sandbox_root.join(&sid).join("late").exists());
}

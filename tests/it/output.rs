//! Output formats, transforms, pagination and streams.

use serde_json::json;

use crate::{Reply, Server, ant_at, home, stderr, stdout};

fn run(server: &Server, args: &[&str]) -> String {
    let h = home();
    let out = ant_at(server, h.path()).args(args).output().unwrap();
    assert!(out.status.success(), "ant {args:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn json_is_indented_and_uncoloured_when_piped() {
    let server = Server::json(json!({"id": "agent_1", "version": 2}));
    let out = run(&server, &["beta:agents", "retrieve", "agent_1"]);
    assert_eq!(out, "{\n  \"id\": \"agent_1\",\n  \"version\": 2\n}\n");
    assert!(!out.contains('\x1b'));
}

#[test]
fn every_format_prints_one_value() {
    let server = Server::json(json!({"id": "agent_1", "tags": ["a"]}));
    assert_eq!(
        run(
            &server,
            &["beta:agents", "retrieve", "a", "--format", "jsonl"]
        ),
        "{\"id\":\"agent_1\",\"tags\":[\"a\"]}\n"
    );
    let yaml = run(
        &server,
        &["beta:agents", "retrieve", "a", "--format", "yaml"],
    );
    assert!(
        yaml.contains("id: agent_1") && !yaml.starts_with("---"),
        "{yaml}"
    );
    assert_eq!(
        run(
            &server,
            &["beta:agents", "retrieve", "a", "--format", "raw"]
        ),
        "{\"id\":\"agent_1\",\"tags\":[\"a\"]}\n"
    );
    let pretty = run(
        &server,
        &["beta:agents", "retrieve", "a", "--format", "pretty"],
    );
    assert!(
        pretty.contains("id") && pretty.contains("agent_1"),
        "{pretty}"
    );
    assert_eq!(
        run(
            &server,
            &["beta:agents", "retrieve", "a", "--format", "JSONL"]
        )
        .lines()
        .count(),
        1
    );
}

#[test]
fn transform_and_raw_output() {
    let server = Server::json(json!({"id": "agent_1", "model": {"id": "claude-opus-4-7"}}));
    assert_eq!(
        run(
            &server,
            &["beta:agents", "retrieve", "a", "--transform", "model.id"]
        ),
        "\"claude-opus-4-7\"\n"
    );
    assert_eq!(
        run(
            &server,
            &[
                "beta:agents",
                "retrieve",
                "a",
                "--transform",
                "model.id",
                "-r"
            ]
        ),
        "claude-opus-4-7\n"
    );
    let h = home();
    let out = ant_at(&server, h.path())
        .args([
            "beta:agents",
            "retrieve",
            "a",
            "--transform",
            "nope.nothing",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(9),
        "the request was sent and succeeded"
    );
    assert!(stderr(&out).contains("matched nothing"), "{}", stderr(&out));
}

fn paged_server(total: usize, per_page: usize) -> Server {
    Server::start(move |r, _| {
        let start: usize = r
            .query_param("page")
            .map(|p| p.trim_start_matches("p").parse().unwrap())
            .unwrap_or(0);
        let end = (start + per_page).min(total);
        let data: Vec<_> = (start..end)
            .map(|i| json!({"id": format!("agent_{i}")}))
            .collect();
        let next = if end < total {
            json!(format!("p{end}"))
        } else {
            json!(null)
        };
        Reply::ok(json!({"data": data, "next_page": next}))
    })
}

#[test]
fn lists_follow_every_page_one_item_per_value() {
    let server = paged_server(7, 3);
    let out = run(
        &server,
        &[
            "beta:agents",
            "list",
            "--format",
            "jsonl",
            "--transform",
            "id",
            "-r",
        ],
    );
    let expect: Vec<String> = (0..7).map(|i| format!("agent_{i}")).collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), expect);
    let pages: Vec<_> = server
        .recorded()
        .iter()
        .map(|r| r.query_param("page"))
        .collect();
    assert_eq!(pages, vec![None, Some("p3".into()), Some("p6".into())]);
}

#[test]
fn max_items_stops_paging_early() {
    let server = paged_server(100, 10);
    let out = run(
        &server,
        &[
            "beta:agents",
            "list",
            "--format",
            "jsonl",
            "--max-items",
            "15",
        ],
    );
    assert_eq!(out.lines().count(), 15);
    assert_eq!(server.recorded().len(), 2);
}

#[test]
fn yaml_lists_separate_documents() {
    let server = paged_server(3, 2);
    let out = run(&server, &["beta:agents", "list", "--format", "yaml"]);
    assert_eq!(out.matches("---").count(), 2, "{out}");
}

#[test]
fn raw_lists_print_every_page_as_received() {
    let server = paged_server(5, 2);
    let out = run(&server, &["beta:agents", "list", "--format", "raw"]);
    assert_eq!(out.lines().count(), 3);
    assert!(out.lines().all(|l| l.starts_with("{\"data\"")));
}

#[test]
fn cursor_pages_use_after_id_from_last_id() {
    let server = Server::start(|r, _| {
        if r.query_param("after_id").is_none() {
            Reply::ok(
                json!({"data": [{"id": "m1"}, {"id": "m2"}], "has_more": true, "first_id": "m1", "last_id": "m2"}),
            )
        } else {
            Reply::ok(
                json!({"data": [{"id": "m3"}], "has_more": false, "first_id": "m3", "last_id": "m3"}),
            )
        }
    });
    let out = run(&server, &["models", "list", "--format", "jsonl"]);
    assert_eq!(out.lines().count(), 3);
    assert_eq!(
        server.recorded()[1].query_param("after_id").as_deref(),
        Some("m2")
    );
}

#[test]
fn sse_streams_print_each_event_and_skip_pings() {
    let server = Server::start(|_, _| {
        Reply::sse(&[
            (
                "session.status_running",
                json!({"type": "session.status_running", "id": "sevt_1"}),
            ),
            ("ping", json!({})),
            (
                "brand.new_type",
                json!({"type": "brand.new_type", "id": "sevt_2"}),
            ),
        ])
    });
    let out = run(
        &server,
        &[
            "beta:sessions:events",
            "stream",
            "sesn_1",
            "--no-reconnect",
            "--format",
            "jsonl",
            "--transform",
            "type",
            "-r",
        ],
    );
    assert_eq!(out, "session.status_running\nbrand.new_type\n");
}

#[test]
fn stream_error_events_exit_with_the_api_error_code() {
    let server = Server::start(|_, _| {
        Reply::sse(&[
            ("message_start", json!({"type": "message_start"})),
            (
                "error",
                json!({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}),
            ),
        ])
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args([
            "messages",
            "create",
            "--stream",
            "--max-tokens",
            "5",
            "--model",
            "m",
            "--message",
            "{role: user, content: hi}",
            "--format",
            "jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).contains("busy"));
    assert_eq!(stdout(&out).lines().count(), 1);
}

#[test]
fn batch_results_stream_jsonl_lines() {
    let server = Server::start(|_, _| {
        Reply::Status(
            200,
            vec![("content-type".into(), "application/binary".into())],
            b"{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n".to_vec(),
        )
    });
    let out = run(
        &server,
        &[
            "messages:batches",
            "results",
            "mb_1",
            "--transform",
            "custom_id",
            "-r",
        ],
    );
    assert_eq!(out, "a\nb\n");
}

#[test]
fn downloads_follow_the_output_rules() {
    let server = Server::start(|_, _| {
        Reply::Status(
            200,
            vec![
                ("content-type".into(), "application/octet-stream".into()),
                (
                    "content-disposition".into(),
                    "attachment; filename=\"../../report.bin\"".into(),
                ),
            ],
            vec![1, 2, 3],
        )
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:files", "download", "file_1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, vec![1, 2, 3], "piped stdout gets the bytes");
    let out = ant_at(&server, h.path())
        .current_dir(h.path())
        .args(["beta:files", "download", "file_1", "-o", "saved.bin"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(h.path().join("saved.bin")).unwrap(),
        vec![1, 2, 3]
    );
    // As the official CLI: the note is on stdout (scripts read it there).
    assert_eq!(stdout(&out), "Wrote output to: saved.bin\n");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let r = &server.recorded()[0];
    assert_eq!(r.path, "/v1/files/file_1/content");
}

fn session_stream(events: &'static [(&'static str, &'static str)]) -> Server {
    Server::start(move |r, _| {
        let evs: Vec<(&str, serde_json::Value)> = events
            .iter()
            .map(|(t, extra)| {
                let mut v: serde_json::Value = serde_json::from_str(extra).unwrap();
                v["type"] = json!(t);
                (*t, v)
            })
            .collect();
        if !r.path.ends_with("/stream") {
            // The events list: what happened before the stream's first
            // running status is the session's history, newest first.
            let mut history: Vec<serde_json::Value> = evs
                .iter()
                .take_while(|(t, _)| *t != "session.status_running")
                .map(|(_, v)| v.clone())
                .collect();
            history.reverse();
            return Reply::ok(json!({"data": history, "next_page": null}));
        }
        // Events after the stop point prove the stream stops by itself.
        let mut r = evs.clone();
        r.push((
            "agent.message",
            json!({"type": "agent.message", "id": "late"}),
        ));
        Reply::sse(&r)
    })
}

#[test]
fn until_idle_stops_at_idle_with_exit_codes_per_stop_reason() {
    let cases: [(&'static [(&'static str, &'static str)], i32); 10] = [
        (
            &[
                (
                    "session.status_idle",
                    r#"{"stop_reason":{"type":"end_turn"}}"#,
                ),
                ("session.status_running", "{}"),
                ("agent.message", "{}"),
                (
                    "session.status_idle",
                    r#"{"stop_reason":{"type":"end_turn"}}"#,
                ),
            ],
            0,
        ),
        (
            &[
                ("session.status_running", "{}"),
                (
                    "session.status_idle",
                    r#"{"stop_reason":{"type":"requires_action","event_ids":["sevt_9"]}}"#,
                ),
            ],
            10,
        ),
        (
            &[
                ("session.status_running", "{}"),
                ("session.status_terminated", "{}"),
            ],
            11,
        ),
        (
            &[("session.status_running", "{}"), ("session.deleted", "{}")],
            11,
        ),
        (
            &[
                ("session.status_running", "{}"),
                (
                    "session.status_idle",
                    r#"{"stop_reason":{"type":"retries_exhausted"}}"#,
                ),
            ],
            12,
        ),
        (
            &[
                ("session.status_running", "{}"),
                (
                    "session.error",
                    r#"{"error":{"type":"unknown_error","message":"boom","retry_status":{"type":"terminal"}}}"#,
                ),
                (
                    "session.status_idle",
                    r#"{"stop_reason":{"type":"end_turn"}}"#,
                ),
            ],
            12,
        ),
        (
            &[
                ("session.status_running", "{}"),
                (
                    "session.status_idle",
                    r#"{"stop_reason":{"type":"brand_new_reason"}}"#,
                ),
            ],
            12,
        ),
        (
            &[
                ("session.status_running", "{}"),
                (
                    "session.status_idle",
                    r#"{"stop_reason":{"type":"budget_reached"}}"#,
                ),
            ],
            13,
        ),
        (
            &[
                ("session.status_running", "{}"),
                (
                    "session.status_idle",
                    r#"{"stop_reason":{"type":"refusal"},"stop_details":{"type":"refusal","category":"cyber","explanation":"not that"}}"#,
                ),
            ],
            14,
        ),
        (
            &[
                ("session.status_running", "{}"),
                ("session.status_rescheduled", "{}"),
                ("session.status_running", "{}"),
                (
                    "session.status_idle",
                    r#"{"stop_reason":{"type":"end_turn"}}"#,
                ),
            ],
            0,
        ),
    ];
    for (events, code) in cases {
        let server = session_stream(events);
        let h = home();
        let out = ant_at(&server, h.path())
            .args([
                "beta:sessions:events",
                "stream",
                "sesn_1",
                "--until-idle",
                "--format",
                "jsonl",
                "--transform",
                "type",
                "-r",
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{events:?}: {}",
            stderr(&out)
        );
        let printed: Vec<String> = stdout(&out).lines().map(String::from).collect();
        let expect: Vec<String> = events.iter().map(|(t, _)| t.to_string()).collect();
        assert_eq!(printed, expect);
        let err = stderr(&out);
        let names_reason = match code {
            0 => err.is_empty(),
            10 => err.contains("sevt_9") && err.contains("requires_action"),
            11 => err.contains("terminated") || err.contains("deleted"),
            12 => ["retries_exhausted", "boom", "brand_new_reason"]
                .iter()
                .any(|r| err.contains(r)),
            13 => err.contains("budget_reached"),
            14 => {
                err.contains("refusal")
                    && err.contains("category: cyber")
                    && err.contains("not that")
            }
            _ => false,
        };
        assert!(names_reason, "exit {code} must name its reason: {err}");
    }
}

#[test]
fn pretty_session_streams_render_a_transcript() {
    let server = session_stream(&[
        ("session.status_running", "{}"),
        (
            "agent.message",
            r#"{"content":[{"type":"text","text":"Hello **there**"}]}"#,
        ),
        (
            "agent.tool_use",
            r#"{"name":"bash","input":{"command":"ls -la"}}"#,
        ),
        (
            "session.status_idle",
            r#"{"stop_reason":{"type":"end_turn"}}"#,
        ),
    ]);
    let h = home();
    let out = ant_at(&server, h.path())
        .args([
            "beta:sessions:events",
            "stream",
            "sesn_1",
            "--until-idle",
            "--format",
            "pretty",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Hello there"), "{text}");
    assert!(text.contains("bash") && text.contains("ls -la"), "{text}");
    assert!(
        !text.contains('\x1b') && !text.contains("\"type\""),
        "{text}"
    );
}

#[test]
fn a_download_cut_short_leaves_no_file_and_an_existing_one_as_it_was() {
    let server = Server::start(|_, n| {
        // The headers and a first piece arrive before the rest.
        let body = vec![
            (std::time::Duration::ZERO, b"part of ".to_vec()),
            (std::time::Duration::from_millis(300), b"the file".to_vec()),
        ];
        // The first answer breaks mid-body; the second is whole.
        let end = if n == 0 {
            crate::End::Reset
        } else {
            crate::End::Close
        };
        Reply::Stream(body, end)
    });
    let h = home();
    let saved = h.path().join("saved.bin");
    std::fs::write(&saved, "the old contents").unwrap();
    let download = || {
        ant_at(&server, h.path())
            .current_dir(h.path())
            .args([
                "--max-retries",
                "0",
                "beta:files",
                "download",
                "file_1",
                "-o",
                "saved.bin",
            ])
            .output()
            .unwrap()
    };
    let out = download();
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), "the old contents");
    let names = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(h.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("saved"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(), ["saved.bin"], "no partial file is left");
    let out = download();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), "part of the file");
    assert_eq!(names(), ["saved.bin"]);
    // A special file is written to, never replaced.
    let out = ant_at(&server, h.path())
        .args(["beta:files", "download", "file_1", "-o", "/dev/null"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

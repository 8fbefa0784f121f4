//! `ant api`: any request, against ant-mock and against a loopback server
//! that records exactly what was sent.

use serde_json::{Value, json};

use crate::mock::Mock;
use crate::{Reply, Server, ant_at, ant_at_std, home, output_piped, stderr, stdout};

#[test]
fn api_creates_reads_and_paginates_against_ant_mock() {
    let m = Mock::new();
    // An endpoint reached by path: the table's default beta is sent for it.
    let id = m.ok(&[
        "api",
        "/v1/agents",
        "-f",
        "name=Coding Assistant",
        "-F",
        "model.id=claude-opus-4-7",
        "-F",
        "tools[]={type: agent_toolset_20260401}",
        "--jq",
        ".id",
    ]);
    let id = id.trim();
    assert!(id.starts_with("agent_"), "{id}");
    for name in ["two", "three"] {
        m.ok(&[
            "api",
            "/v1/agents",
            "-f",
            &format!("name={name}"),
            "-f",
            "model=claude-opus-4-7",
        ]);
    }
    let got: Value = serde_json::from_str(&m.ok(&["api", &format!("/v1/agents/{id}")])).unwrap();
    assert_eq!(got["name"], "Coding Assistant");
    assert_eq!(got["tools"][0]["type"], "agent_toolset_20260401");
    // Fields of a GET go in the query; --paginate prints every page, --jq runs per page.
    let pages = m.ok(&[
        "api",
        "/v1/agents",
        "-X",
        "GET",
        "-F",
        "limit=1",
        "--paginate",
        "--jq",
        "[.data[].name]",
        "--format",
        "jsonl",
    ]);
    let names: Vec<Value> = pages
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(names.len(), 3, "one line per page: {pages}");
    let mut all: Vec<String> = names
        .iter()
        .flat_map(|p| p.as_array().unwrap().clone())
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    all.sort();
    assert_eq!(all, ["Coding Assistant", "three", "two"]);
    // DELETE (any case), and the exit code of a 404 afterwards.
    let env = m.environment();
    let gone = m.ok(&[
        "api",
        "-X",
        "delete",
        &format!("/v1/environments/{env}"),
        "--jq",
        ".type",
    ]);
    assert_eq!(gone, "environment_deleted\n");
    let out = m
        .cmd()
        .args(["api", &format!("/v1/environments/{env}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}

#[test]
fn api_sends_exactly_what_it_is_told() {
    let server = Server::json(json!({"ok": true}));
    let home = home();
    let dir = home.path();
    std::fs::write(dir.join("prompt.md"), "Be brief.\n").unwrap();
    let out = ant_at(&server, dir)
        .current_dir(dir)
        .args([
            "api",
            "/v1/brand-new?beta=true",
            "-F",
            "n=1.50",
            "-F",
            "flag=true",
            "-F",
            "none=null",
            "-f",
            "text=123",
            "-F",
            "system=@prompt.md",
            "-F",
            "a.b[]=x",
            "-H",
            "X-Trace: t-1",
            "-H",
            "anthropic-version: 2099-01-01",
            "--beta",
            "new-thing-2099",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "{\n  \"ok\": true\n}\n");
    let r = server.only();
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/v1/brand-new")
    );
    assert_eq!(r.query, "beta=true");
    assert_eq!(
        r.json(),
        json!({"n": 1.5, "flag": true, "none": null, "text": "123", "system": "Be brief.\n", "a": {"b": ["x"]}})
    );
    assert_eq!(r.header("x-api-key"), Some("sk-test-key"));
    assert_eq!(r.header("x-trace"), Some("t-1"));
    assert_eq!(r.header("anthropic-version"), Some("2099-01-01"));
    let versions = r
        .headers
        .iter()
        .filter(|(k, _)| k == "anthropic-version")
        .count();
    assert_eq!(versions, 1, "a header given with -H replaces the default");
    assert_eq!(r.header("anthropic-beta"), Some("new-thing-2099"));
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[test]
fn api_input_sends_the_body_byte_for_byte() {
    let server = Server::json(json!({"id": "msg_1"}));
    let home = home();
    let body = "{ \"model\" : \"claude-opus-4-7\", \"n\": 1.50 }\n";
    let out = output_piped(
        ant_at_std(&server, home.path()).args([
            "api",
            "/v1/messages",
            "--input",
            "-",
            "-f",
            "beta=true",
        ]),
        body,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let r = server.only();
    assert_eq!(r.method, "POST");
    assert_eq!(r.body_text(), body);
    assert_eq!(r.query, "beta=true", "fields go in the query with --input");
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[test]
fn api_paginates_by_has_more_and_last_id() {
    let server = Server::start(|r, i| {
        let after = r.query_param("after_id");
        let page = match (i, after.as_deref()) {
            (0, None) => {
                json!({"data": [{"id": "a"}, {"id": "b"}], "has_more": true, "first_id": "a", "last_id": "b"})
            }
            (1, Some("b")) => {
                json!({"data": [{"id": "c"}], "has_more": false, "first_id": "c", "last_id": "c"})
            }
            _ => return Reply::error(400, "invalid_request_error", "unexpected page request"),
        };
        Reply::ok(page)
    });
    let home = home();
    let out = ant_at(&server, home.path())
        .args(["api", "/v1/new-list", "--paginate", "--jq", ".data[].id"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "a\nb\nc\n");
    assert_eq!(server.recorded().len(), 2);
}

#[test]
fn api_prints_an_event_stream_event_by_event() {
    let server = Server::start(|_, _| {
        Reply::sse(&[
            ("message_start", json!({"type": "message_start", "n": 1})),
            ("ping", json!({"type": "ping"})),
            ("message_stop", json!({"type": "message_stop"})),
        ])
    });
    let home = home();
    let out = ant_at(&server, home.path())
        .args([
            "api",
            "/v1/new-stream",
            "-F",
            "stream=true",
            "--format",
            "jsonl",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "{\"type\":\"message_start\",\"n\":1}\n{\"type\":\"message_stop\"}\n"
    );
    let out = ant_at(&server, home.path())
        .args(["api", "/v1/new-stream", "--jq", ".type"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "message_start\nmessage_stop\n");
}

#[test]
fn api_include_shows_status_and_headers_on_stderr_and_errors_keep_their_exit_codes() {
    let server = Server::start(|r, _| match r.path.as_str() {
        "/v1/text" => Reply::Status(
            200,
            vec![
                ("content-type".into(), "text/plain".into()),
                ("x-extra".into(), "yes".into()),
            ],
            b"plain words\n".to_vec(),
        ),
        _ => Reply::error(404, "not_found_error", "no such thing"),
    });
    let home = home();
    let out = ant_at(&server, home.path())
        .args(["api", "/v1/text", "-i"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "plain words\n",
        "a body that is not JSON prints as is"
    );
    let err = stderr(&out);
    assert!(err.starts_with("HTTP/1.1 200 OK\n"), "{err}");
    assert!(err.contains("\nx-extra: yes\n"), "{err}");
    let out = ant_at(&server, home.path())
        .args(["api", "/v1/missing", "--include"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(err.starts_with("HTTP 404 Not Found\n"), "{err}");
    assert!(err.contains("request-id: req_test_1"), "{err}");
    assert!(err.contains("ant: error: GET"), "{err}");
    // --jq on a body that is not JSON is an error, not a silent dump.
    let out = ant_at(&server, home.path())
        .args(["api", "/v1/text", "--jq", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn api_retries_and_redacts_like_every_command() {
    let server = Server::start(|_, i| match i {
        0 => Reply::error(529, "overloaded_error", "busy"),
        _ => Reply::ok(json!({"ok": 1})),
    });
    let home = home();
    let out = ant_at(&server, home.path())
        .args([
            "--debug",
            "api",
            "/v1/anything",
            "-H",
            "Authorization: Bearer sekrit-token",
            "-F",
            "client_secret=hush",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.recorded().len(), 2, "retried once");
    let err = stderr(&out);
    assert!(
        !err.contains("sekrit-token") && !err.contains("sk-test-key"),
        "{err}"
    );
    assert!(!err.contains("hush"), "{err}");
    assert_eq!(
        server.recorded()[1].header("x-stainless-retry-count"),
        Some("1")
    );
}

#[test]
fn api_refuses_bad_input_before_sending() {
    let server = Server::json(json!({}));
    let home = home();
    for args in [
        vec!["api", "/v1/x", "-f", "novalue"],
        vec!["api", "/v1/x", "-F", "a=1", "-F", "a=2"],
        vec!["api", "/v1/x", "-H", "no colon"],
        vec!["api", "/v1/x", "-X", "FETCH"],
        vec!["api", "-X", "POST", "/v1/x", "--paginate"],
        vec!["api", "https://elsewhere.example/v1/x"],
        vec!["api", "/v1/x", "--input", "missing.json"],
        vec!["api", "/v1/x", "--jq", ".a |"],
    ] {
        let out = ant_at(&server, home.path()).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).lines().count(),
            1,
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert!(server.recorded().is_empty(), "nothing was sent");
}

#[test]
fn api_paths_complete_from_the_endpoint_table() {
    let home = home();
    let out = crate::ant(home.path())
        .env("COMPLETION_STYLE", "fish")
        .args(["__complete", "api", "/v1/agents/agent_1/ver"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        "/v1/agents/agent_1/versions\tGET beta:agents:versions list\n"
    );
}

#[test]
fn api_sends_the_admin_key_to_the_admin_api_only() {
    let server = Server::json(json!({"data": [], "has_more": false}));
    let home = home();
    for path in ["/v1/organizations/users", "/v1/agents"] {
        let out = ant_at(&server, home.path())
            .env("ANTHROPIC_ADMIN_KEY", "sk-ant-admin-test")
            .args(["api", path])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let sent = server.recorded();
    assert_eq!(sent[0].header("x-api-key"), Some("sk-ant-admin-test"));
    assert_eq!(sent[1].header("x-api-key"), Some("sk-test-key"));
}

#[test]
fn api_prints_json_lines_one_item_each() {
    let server = Server::start(|_, _| {
        Reply::Status(
            200,
            vec![("content-type".into(), "application/x-ndjson".into())],
            b"{\"custom_id\":\"a\",\"n\":1.50}\n\n{\"custom_id\":\"b\"}\n".to_vec(),
        )
    });
    let home = home();
    let out = ant_at(&server, home.path())
        .args([
            "api",
            "/v1/messages/batches/b/results",
            "--jq",
            ".custom_id",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "a\nb\n");
    let out = ant_at(&server, home.path())
        .args(["api", "/v1/x/results", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        "{\"custom_id\":\"a\",\"n\":1.50}\n{\"custom_id\":\"b\"}\n"
    );
}

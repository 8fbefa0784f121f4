//! Exact requests: method, path, query, headers and body for the official
//! CLI's confirmed mappings (reference section 12) and every input syntax.

use serde_json::json;

use crate::{Recorded, Server, ant_at, home};

/// Runs `ant args...` against a server answering an object with an empty
/// `data` list (so lists end too) and returns the one request.
pub fn send(args: &[&str]) -> Recorded {
    send_stdin(args, None)
}

fn send_stdin(args: &[&str], stdin: Option<&str>) -> Recorded {
    let server = Server::json(json!({"id": "x", "data": []}));
    let h = home();
    let mut cmd = crate::ant_at_std(&server, h.path());
    cmd.args(args);
    let out = match stdin {
        Some(s) => crate::output_piped(&mut cmd, s),
        None => cmd.output().unwrap(),
    };
    assert!(
        out.status.success(),
        "ant {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.only()
}

fn body(r: &Recorded) -> String {
    r.body_text()
}

#[test]
fn beta_requests_carry_beta_query_version_key_and_default_beta() {
    let r = send(&["beta:agents", "retrieve", "--agent-id", "agent_1"]);
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, "/v1/agents/agent_1");
    assert_eq!(r.query, "beta=true");
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.header("x-api-key"), Some("sk-test-key"));
    assert_eq!(
        r.header("anthropic-beta"),
        Some("managed-agents-2026-04-01")
    );
    assert!(r.header("user-agent").unwrap().starts_with("ant/"));
    assert_eq!(r.header("content-type"), None, "no body, no content-type");
    assert!(r.body.is_empty());
}

#[test]
fn non_beta_requests_have_no_beta_query() {
    let r = send(&["models", "retrieve", "claude-opus-4-7"]);
    assert_eq!(r.path, "/v1/models/claude-opus-4-7");
    assert_eq!(r.query, "");
    assert_eq!(r.header("anthropic-beta"), None);
}

#[test]
fn auth_token_becomes_bearer() {
    let server = Server::json(json!({"data": []}));
    let h = home();
    crate::ant(h.path())
        .env("ANTHROPIC_BASE_URL", &server.url)
        .args(["--auth-token", "tok", "beta:agents", "list"])
        .assert()
        .success();
    let r = server.only();
    assert_eq!(r.header("authorization"), Some("Bearer tok"));
    assert_eq!(r.header("x-api-key"), None);
}

#[test]
fn singular_flags_fill_plural_keys_and_repeat() {
    let r = send(&[
        "beta:agents",
        "create",
        "--name",
        "a",
        "--model",
        "{id: claude-opus-4-7}",
        "--mcp-server",
        "{name: m, type: url, url: https://x/sse}",
        "--tool",
        "{type: agent_toolset_20260401}",
        "--tool",
        "{type: mcp_toolset, mcp_server_name: m}",
    ]);
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        body(&r),
        r#"{"mcp_servers":[{"name":"m","type":"url","url":"https://x/sse"}],"model":{"id":"claude-opus-4-7"},"name":"a","tools":[{"type":"agent_toolset_20260401"},{"mcp_server_name":"m","type":"mcp_toolset"}]}"#
    );
}

#[test]
fn quickstart_agent_create_accepts_a_plain_model_string() {
    let r = send(&[
        "beta:agents",
        "create",
        "--name",
        "Coding Assistant",
        "--model",
        "claude-opus-4-7",
        "--system",
        "You are a helpful coding assistant.",
        "--tool",
        "{type: agent_toolset_20260401}",
    ]);
    assert_eq!(r.json()["model"], json!("claude-opus-4-7"));
}

#[test]
fn inner_flags_build_objects_and_lists() {
    let r = send(&[
        "beta:agents",
        "create",
        "--name",
        "a",
        "--model",
        "{id: x}",
        "--multiagent.agents",
        "[agent_1, {type: self}]",
        "--multiagent.type",
        "coordinator",
    ]);
    assert_eq!(
        r.json()["multiagent"],
        json!({"agents": ["agent_1", {"type": "self"}], "type": "coordinator"})
    );
    let r = send(&[
        "beta:agents",
        "create",
        "--name",
        "a",
        "--model",
        "{id: x}",
        "--mcp-server.name",
        "a",
        "--mcp-server.type",
        "url",
        "--mcp-server.url",
        "https://a",
        "--mcp-server.name",
        "b",
        "--mcp-server.type",
        "url",
        "--mcp-server.url",
        "https://b",
    ]);
    assert_eq!(
        r.json()["mcp_servers"],
        json!([{"name": "a", "type": "url", "url": "https://a"}, {"name": "b", "type": "url", "url": "https://b"}])
    );
    let r = send(&[
        "messages",
        "create",
        "--max-tokens",
        "5",
        "--model",
        "m",
        "--message",
        "{role: user, content: hi}",
        "--metadata.user-id",
        "X",
    ]);
    assert_eq!(r.json()["metadata"], json!({"user_id": "X"}));
    let r = send(&[
        "messages:batches",
        "create",
        "--request.custom-id",
        "c1",
        "--request.params",
        "{max_tokens: 1024, model: m, messages: [{role: user, content: hi}]}",
    ]);
    assert_eq!(
        body(&r),
        r#"{"requests":[{"custom_id":"c1","params":{"max_tokens":1024,"messages":[{"content":"hi","role":"user"}],"model":"m"}}]}"#
    );
}

#[test]
fn values_follow_the_schema_types() {
    let r = send(&[
        "beta:agents",
        "create",
        "--name",
        "123",
        "--description",
        "true",
        "--model",
        "{id: x}",
    ]);
    assert_eq!(r.json()["name"], json!("123"));
    assert_eq!(r.json()["description"], json!("true"));
    let r = send(&[
        "beta:agents",
        "create",
        "--name",
        "a",
        "--model",
        "{id: x}",
        "--skill",
        "{type: anthropic, skill_id: xlsx, version: '1'}",
    ]);
    assert_eq!(
        r.json()["skills"],
        json!([{"skill_id": "xlsx", "type": "anthropic", "version": "1"}])
    );
    let r = send(&[
        "beta:agents",
        "update",
        "--agent-id",
        "a1",
        "--version",
        "1",
    ]);
    assert_eq!(body(&r), r#"{"version":1}"#);
    let r = send(&[
        "beta:agents",
        "create",
        "--name",
        "a",
        "--model",
        "{id: x}",
        "--metadata",
        "{foo: '1', bar: yes}",
    ]);
    assert_eq!(r.json()["metadata"], json!({"bar": "yes", "foo": "1"}));
    let r = send(&[
        "messages",
        "create",
        "--max-tokens",
        "5",
        "--model",
        "m",
        "--message",
        "{role: user, content: hi}",
        "--temperature",
        "0.50",
    ]);
    assert_eq!(r.json()["temperature"], json!(0.5));
    let r = send(&[
        "beta:agents",
        "create",
        "--name",
        "a",
        "--model",
        "{id: x}",
        "--description",
        "null",
    ]);
    assert_eq!(r.json()["description"], json!(null));
}

#[test]
fn client_only_flags_are_never_sent_and_bools_take_equals() {
    let r = send(&[
        "messages",
        "create",
        "--max-tokens",
        "5",
        "--model",
        "m",
        "--message",
        "{role: user, content: hi}",
        "--stream=false",
        "--max-items",
        "3",
    ]);
    assert_eq!(r.json()["stream"], json!(false));
    assert!(r.json().get("max_items").is_none());
    let r = send(&[
        "beta:agents",
        "create",
        "--name",
        "line1\nline2",
        "--model",
        "{id: x}",
    ]);
    assert_eq!(r.json()["name"], json!("line1\nline2"));
}

#[test]
fn update_takes_a_whole_list_in_one_value() {
    let r = send(&[
        "beta:agents",
        "update",
        "--agent-id",
        "a1",
        "--version",
        "2",
        "--tool",
        "[{type: agent_toolset_20260401}, {type: mcp_toolset, mcp_server_name: m}]",
    ]);
    assert_eq!(
        r.json()["tools"],
        json!([{"type": "agent_toolset_20260401"}, {"mcp_server_name": "m", "type": "mcp_toolset"}])
    );
    let r = send(&[
        "beta:sessions",
        "create",
        "--agent",
        "agent_1",
        "--environment-id",
        "env_1",
        "--vault-id",
        "x",
    ]);
    assert_eq!(r.json()["vault_ids"], json!(["x"]));
}

#[test]
fn stdin_merges_shallowly_with_flags_winning() {
    // Reference section 12, with a string metadata value: `{b: 2}` is
    // refused before sending (metadata values are strings).
    let r = send_stdin(
        &[
            "beta:agents",
            "create",
            "--name",
            "b",
            "--metadata",
            "{b: '2'}",
            "--model",
            "{id: x}",
        ],
        Some("name: a\ndescription: d\nmetadata: {a: \"1\"}\n"),
    );
    assert_eq!(
        body(&r),
        r#"{"description":"d","metadata":{"b":"2"},"model":{"id":"x"},"name":"b"}"#
    );
    let r = send_stdin(
        &["beta:agents", "update", "--version", "2"],
        Some(r#"{"id":"ag_1","name":"n2"}"#),
    );
    assert_eq!(r.method, "POST", "updates are POST");
    assert_eq!(r.path, "/v1/agents/ag_1");
    assert_eq!(body(&r), r#"{"name":"n2","version":2}"#);
    let r = send_stdin(
        &["beta:sessions:events", "list"],
        Some("session_id: sesn_9\norder: asc\n"),
    );
    assert_eq!(r.path, "/v1/sessions/sesn_9/events");
    assert_eq!(r.query_param("order").as_deref(), Some("asc"));
}

#[test]
fn free_form_maps_keep_yaml_typing() {
    let r = send(&[
        "beta:messages",
        "create",
        "--max-tokens",
        "5",
        "--model",
        "m",
        "--message",
        "{role: user, content: hi}",
        "--output-format",
        "{foo: 1, bar: yes, baz: null}",
    ]);
    assert_eq!(
        r.json()["output_format"],
        json!({"foo": 1, "bar": "yes", "baz": null})
    );
}

#[test]
fn body_less_posts_send_no_body_and_no_content_type() {
    for args in [
        &["beta:agents", "archive", "agent_1"][..],
        &["messages:batches", "cancel", "mb_1"],
        &[
            "beta:environments:work",
            "ack",
            "--environment-id",
            "e",
            "w",
        ],
    ] {
        let r = send(args);
        assert_eq!(r.method, "POST", "{args:?}");
        assert!(r.body.is_empty(), "{args:?}: {}", r.body_text());
        assert_eq!(r.header("content-type"), None, "{args:?}");
    }
}

#[test]
fn thread_streams_use_the_thread_stream_path() {
    let server = Server::start(|_, _| crate::Reply::sse(&[]));
    let h = home();
    ant_at(&server, h.path())
        .args([
            "beta:sessions:threads:events",
            "stream",
            "--session-id",
            "s1",
            "th_1",
            "--no-reconnect",
        ])
        .assert()
        .success();
    let r = server.only();
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("GET", "/v1/sessions/s1/threads/th_1/stream")
    );
}

#[test]
fn query_encoding_uses_brackets() {
    let r = send(&[
        "beta:agents",
        "list",
        "--created-at-gte",
        "'2019-12-27T18:11:19.117Z'",
        "--include-archived=true",
    ]);
    assert_eq!(
        r.query,
        "beta=true&created_at[gte]=2019-12-27T18:11:19.117Z&include_archived=true"
    );
    let server = Server::start(|_, _| crate::Reply::sse(&[]));
    let h = home();
    ant_at(&server, h.path())
        .args([
            "beta:sessions:events",
            "stream",
            "s1",
            "--no-reconnect",
            "--event-delta",
            "agent.message",
            "--event-delta",
            "agent.thinking",
            "--format",
            "jsonl",
        ])
        .assert()
        .success();
    assert_eq!(
        server.only().query,
        "beta=true&event_deltas[]=agent.message&event_deltas[]=agent.thinking"
    );
    let r = send(&[
        "beta:memory-stores:memories",
        "create",
        "--memory-store-id",
        "m1",
        "--path",
        "/a",
        "--content",
        "c",
        "--view",
        "full",
    ]);
    assert_eq!(r.method, "POST");
    assert_eq!(r.query, "beta=true&view=full");
    let r = send(&[
        "beta:environments:work",
        "heartbeat",
        "--environment-id",
        "e",
        "--work-id",
        "w",
        "--desired-ttl-seconds",
        "30",
    ]);
    assert_eq!(r.path, "/v1/environments/e/work/w/heartbeat");
    assert_eq!(r.query_param("desired_ttl_seconds").as_deref(), Some("30"));
}

#[test]
fn one_positional_fills_the_last_path_parameter() {
    let r = send(&[
        "beta:sessions:resources",
        "retrieve",
        "--session-id",
        "S",
        "res_1",
    ]);
    assert_eq!(r.path, "/v1/sessions/S/resources/res_1");
    let r = send(&[
        "beta:sessions:threads:events",
        "list",
        "--session-id",
        "S",
        "th_1",
    ]);
    assert_eq!(r.path, "/v1/sessions/S/threads/th_1/events");
}

#[test]
fn beta_flag_values_are_appended_to_the_default() {
    let r = send(&[
        "beta:agents",
        "list",
        "--beta",
        "foo-2026-01-01",
        "--beta",
        "bar",
    ]);
    assert_eq!(
        r.header("anthropic-beta"),
        Some("managed-agents-2026-04-01,foo-2026-01-01,bar")
    );
    let r = send(&["beta:files", "list"]);
    assert_eq!(r.header("anthropic-beta"), Some("files-api-2025-04-14"));
}

#[test]
fn workspace_id_header_from_flag_or_environment() {
    let r = send(&["beta:agents", "list", "--workspace-id", "wrkspc_1"]);
    assert_eq!(r.header("anthropic-workspace-id"), Some("wrkspc_1"));
    let server = Server::json(json!({"data": []}));
    let h = home();
    ant_at(&server, h.path())
        .env("ANTHROPIC_WORKSPACE_ID", "wrkspc_env")
        .args(["beta:agents", "list"])
        .assert()
        .success();
    assert_eq!(
        server.only().header("anthropic-workspace-id"),
        Some("wrkspc_env")
    );
}

#[test]
fn text_or_structure_fields_take_plain_text_exactly_and_file_references() {
    let h = home();
    std::fs::write(h.path().join("prompt.txt"), "from a file").unwrap();
    let server = Server::json(json!({"id": "x"}));
    ant_at(&server, h.path())
        .current_dir(h.path())
        .args([
            "messages",
            "create",
            "--model",
            "m",
            "--max-tokens",
            "5",
            "--message.role",
            "user",
            "--message.content",
            "What is 2+2? Answer: # 4",
            "--system",
            "@prompt.txt",
        ])
        .assert()
        .success();
    let v = server.only().json();
    assert_eq!(
        v["messages"][0]["content"],
        json!("What is 2+2? Answer: # 4")
    );
    assert_eq!(v["system"], json!("from a file"));
}

#[test]
fn positional_id_wins_over_a_piped_id() {
    let r = send_stdin(
        &["beta:agents", "update", "ag_2", "--version", "2"],
        Some(r#"{"id":"ag_1","name":"n2"}"#),
    );
    assert_eq!(r.path, "/v1/agents/ag_2");
    assert_eq!(body(&r), r#"{"name":"n2","version":2}"#);
}

#[test]
fn official_flag_names_for_fallbacks_and_output_format() {
    let r = send(&[
        "beta:messages",
        "create",
        "--max-tokens",
        "5",
        "--model",
        "m",
        "--message",
        "{role: user, content: hi}",
        "--fallback.model",
        "claude-sonnet-4-5",
        "--fallback.max-tokens",
        "100",
        "--output-format.type",
        "json_schema",
        "--output-format.schema",
        "{type: object}",
    ]);
    let v = r.json();
    assert_eq!(
        v["fallbacks"],
        json!([{"max_tokens": 100, "model": "claude-sonnet-4-5"}])
    );
    assert_eq!(
        v["output_format"],
        json!({"schema": {"type": "object"}, "type": "json_schema"})
    );
}

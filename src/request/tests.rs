//! Unit tests of request building: each input syntax against the real table.

use super::*;
use crate::request::files::MemFiles;
use serde_json::json;

fn op(group: &str, verb: &str) -> &'static Operation {
    Operation::find(group, verb).unwrap_or_else(|| panic!("no {group} {verb}"))
}

fn flag(o: &'static Operation, name: &str, v: &str) -> Flag {
    if let Some((outer, inner)) = name.split_once('.') {
        let p = o.params.iter().find(|p| p.flag == outer).expect(outer);
        let i = p.inner.iter().find(|i| i.flag == inner).expect(inner);
        return Flag::Inner(p, i, v.to_string());
    }
    let p = o
        .params
        .iter()
        .find(|p| p.flag == name)
        .unwrap_or_else(|| panic!("no --{name}"));
    Flag::Param(p, v.to_string())
}

fn build_with(
    o: &'static Operation,
    flags: &[(&str, &str)],
    stdin: Option<Value>,
    pos: &[&str],
) -> Result<Request> {
    let input = Input {
        flags: flags.iter().map(|(n, v)| flag(o, n, v)).collect(),
        positional: pos.iter().map(|s| s.to_string()).collect(),
        stdin,
        betas: vec![],
    };
    build(
        o,
        input,
        &mut MemFiles::default().with("sys.txt", "be brief"),
    )
}

#[test]
fn agents_create_maps_singular_repeated_flags_to_plural_keys() {
    let o = op("beta:agents", "create");
    let r = build_with(
        o,
        &[
            ("name", "a"),
            ("model", "{id: claude-opus-4-7}"),
            ("tool", "{type: a}"),
            ("tool", "{type: b}"),
            ("mcp-server", "{name: m, type: url, url: https://x/sse}"),
        ],
        None,
        &[],
    );
    // tool types a/b are not in the schema's enum: a usage error names the flag.
    let err = r.unwrap_err().to_string();
    assert!(err.starts_with("invalid value for --tool:"), "{err}");
    let r = build_with(
        o,
        &[
            ("name", "a"),
            ("model", "claude-opus-4-7"),
            ("tool", "{type: agent_toolset_20260401}"),
            ("mcp-server", "{name: m, type: url, url: https://x/sse}"),
            ("system", "@sys.txt"),
        ],
        None,
        &[],
    )
    .unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/agents");
    assert_eq!(
        r.headers,
        vec![(
            "anthropic-beta".to_string(),
            "managed-agents-2026-04-01".to_string()
        )]
    );
    assert_eq!(
        r.json_body().unwrap().to_string(),
        json!({"mcp_servers":[{"name":"m","type":"url","url":"https://x/sse"}],"model":"claude-opus-4-7",
               "name":"a","system":"be brief","tools":[{"type":"agent_toolset_20260401"}]}).to_string()
    );
}

#[test]
fn inner_flags_fill_the_last_element_then_start_a_new_one() {
    let o = op("messages", "create");
    let r = build_with(
        o,
        &[
            ("max-tokens", "10"),
            ("model", "m"),
            ("message.role", "user"),
            ("message.content", "[{type: text, text: hi}]"),
            ("message.role", "assistant"),
            ("message.content", "[{type: text, text: yo}]"),
            ("metadata.user-id", "X"),
        ],
        None,
        &[],
    )
    .unwrap();
    assert_eq!(
        r.json_body().unwrap(),
        &json!({"max_tokens":10,"messages":[{"content":[{"text":"hi","type":"text"}],"role":"user"},
               {"content":[{"text":"yo","type":"text"}],"role":"assistant"}],"metadata":{"user_id":"X"},"model":"m"})
    );
}

#[test]
fn stdin_fills_params_and_flags_win_per_top_level_key() {
    let o = op("beta:agents", "update");
    let r = build_with(
        o,
        &[("version", "2")],
        Some(json!({"id": "ag_1", "name": "n2"})),
        &[],
    )
    .unwrap();
    assert_eq!(r.path, "/v1/agents/ag_1");
    assert_eq!(
        r.json_body().unwrap().to_string(),
        r#"{"name":"n2","version":2}"#
    );

    let o = op("beta:agents", "create");
    let r = build_with(
        o,
        &[
            ("name", "b"),
            ("metadata", "{b: '2'}"),
            ("model", "{id: x}"),
        ],
        Some(json!({"name": "a", "description": "d", "metadata": {"a": "1"}})),
        &[],
    )
    .unwrap();
    // The flag's whole map replaces the piped one.
    assert_eq!(
        r.json_body().unwrap().to_string(),
        r#"{"description":"d","metadata":{"b":"2"},"model":{"id":"x"},"name":"b"}"#
    );
    // Map values are checked against the schema too: metadata values are strings.
    let err = build_with(
        o,
        &[("name", "b"), ("metadata", "{b: 2}"), ("model", "m")],
        None,
        &[],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value for --metadata: b: expected string, got integer"
    );
}

#[test]
fn positional_fills_the_last_path_parameter_and_extras_are_errors() {
    let o = op("beta:sessions:resources", "retrieve");
    let r = build_with(o, &[("session-id", "S")], None, &["res_1"]).unwrap();
    assert_eq!(r.path, "/v1/sessions/S/resources/res_1");
    let err = build_with(o, &[("session-id", "S")], None, &["a", "b"]).unwrap_err();
    assert_eq!(err.to_string(), r#"Unexpected extra arguments: ["b"]"#);
}

#[test]
fn missing_required_flags_are_named() {
    let o = op("beta:agents", "create");
    let err = build_with(o, &[], None, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Required flags "--model, --name" not set"#
    );
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn query_uses_brackets_and_client_only_flags_never_travel() {
    let o = op("beta:sessions:events", "stream");
    let r = build_with(
        o,
        &[
            ("session-id", "s1"),
            ("event-delta", "agent.message"),
            ("event-delta", "agent.thinking"),
        ],
        None,
        &[],
    )
    .unwrap();
    assert_eq!(
        r.target(),
        "/v1/sessions/s1/events/stream?beta=true&event_deltas[]=agent.message&event_deltas[]=agent.thinking"
    );
    let o = op("beta:agents", "list");
    let r = build_with(
        o,
        &[
            ("created-at-gte", "'2019-12-27T18:11:19.117Z'"),
            ("include-archived", "true"),
        ],
        None,
        &[],
    )
    .unwrap();
    assert_eq!(
        r.target(),
        "/v1/agents?beta=true&created_at[gte]=2019-12-27T18:11:19.117Z&include_archived=true"
    );
}

#[test]
fn betas_are_appended_to_the_default() {
    let o = op("beta:agents", "list");
    let input = Input {
        betas: vec![
            "x-1".into(),
            "managed-agents-2026-04-01".into(),
            "y-2".into(),
        ],
        ..Default::default()
    };
    let r = build(o, input, &mut MemFiles::default()).unwrap();
    assert_eq!(r.headers[0].1, "managed-agents-2026-04-01,x-1,y-2");
}

#[test]
fn multipart_file_flags_become_named_parts() {
    let o = op("beta:files", "upload");
    let input = Input {
        flags: vec![flag(o, "file", "docs/a.txt")],
        ..Default::default()
    };
    let r = build(o, input, &mut MemFiles::default().with("docs/a.txt", "hi")).unwrap();
    let Body::Multipart(parts) = r.body else {
        panic!("not multipart")
    };
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].name, "file");
    let f = parts[0].file.as_ref().unwrap();
    assert_eq!(
        (
            f.filename.as_str(),
            f.content_type.as_str(),
            f.data.as_slice()
        ),
        ("a.txt", "text/plain", &b"hi"[..])
    );
}

#[test]
fn a_non_map_body_cannot_merge_with_flags() {
    let o = op("beta:agents", "create");
    let err = build_with(o, &[("name", "x")], Some(json!([1, 2])), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot merge flags with a body that is not a map"
    );
}

#[test]
fn a_non_map_body_is_bad_input() {
    let o = op("beta:agents", "create");
    for (piped, got) in [(json!([1, 2]), "array"), (json!(true), "boolean")] {
        let err = build_with(o, &[], Some(piped), &[]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.to_string(),
            format!("piped input: expected a map of fields (a YAML or JSON object), got {got}")
        );
    }
}

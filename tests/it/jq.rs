//! `--jq`: the jq language on lists (per item), single responses, streams
//! and `ant api --paginate` (per page), against ant-mock; checked before
//! anything is sent.

use serde_json::json;

use crate::mock::{Mock, user_message};
use crate::{Server, ant_at, home, stderr, stdout};

#[test]
fn jq_picks_from_each_item_of_a_list_and_from_a_single_response() {
    let m = Mock::new();
    let wanted = m.agent("{type: agent_toolset_20260401}");
    m.ok(&[
        "beta:agents",
        "create",
        "--name",
        "Other",
        "--model",
        "claude-opus-4-7",
    ]);
    let out = m.ok(&[
        "beta:agents",
        "list",
        "--jq",
        r#"select(.name == "Coding Assistant") | .id"#,
    ]);
    assert_eq!(out, format!("{wanted}\n"), "strings print bare");
    // Other values print as JSON in the chosen format.
    let out = m.ok(&[
        "beta:agents",
        "retrieve",
        &wanted,
        "--jq",
        "{name, tools: [.tools[].type]}",
        "--format",
        "yaml",
    ]);
    assert_eq!(
        out,
        "name: Coding Assistant\ntools:\n  - agent_toolset_20260401\n"
    );
    let out = m.ok(&[
        "beta:agents",
        "retrieve",
        &wanted,
        "--jq",
        ".version, .name",
    ]);
    assert_eq!(out, "1\nCoding Assistant\n");
    // Nothing selected is no error (as in jq).
    let out = m.ok(&["beta:agents", "list", "--jq", "select(.name == \"nobody\")"]);
    assert_eq!(out, "");
}

#[test]
fn jq_runs_on_each_event_of_a_list_or_stream() {
    let m = Mock::new();
    let session = m.session();
    m.ok(&[
        "beta:sessions:events",
        "send",
        &session,
        "--event",
        &user_message("/say Hello there\n/say Second"),
    ]);
    let streamed = m.ok(&[
        "beta:sessions:events",
        "stream",
        &session,
        "--until-idle",
        "--jq",
        r#"select(.type == "agent.message") | .content[].text"#,
    ]);
    assert_eq!(streamed, "Hello there\nSecond\n");
    let listed = m.ok(&[
        "beta:sessions:events",
        "list",
        &session,
        "--jq",
        r#"select(.type == "agent.message") | .content[].text"#,
    ]);
    let mut lines: Vec<&str> = listed.lines().collect();
    lines.sort();
    assert_eq!(lines, ["Hello there", "Second"]);
}

#[test]
fn jq_malformed_is_refused_before_sending_and_runtime_errors_name_the_item() {
    let server = Server::json(json!({"data": [{"id": "a_1", "n": "x"}], "next_page": null}));
    let home = home();
    let out = ant_at(&server, home.path())
        .args(["beta:agents", "list", "--jq", ".data | map(.id"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("invalid value for --jq") && err.contains("at "),
        "names the position: {err}"
    );
    let out = ant_at(&server, home.path())
        .args(["beta:agents", "list", "--jq", ".id", "--transform", "id"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--jq and --transform"),
        "{}",
        stderr(&out)
    );
    assert!(server.recorded().is_empty(), "nothing was sent");
    let out = ant_at(&server, home.path())
        .args(["beta:agents", "list", "--jq", ".n + 1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("failed on item 1 (id a_1)") && err.contains("cannot"),
        "{err}"
    );
}

#[test]
fn jq_output_is_re_encoded_unlike_transform() {
    let server = Server::start(|_, _| {
        crate::Reply::Status(
            200,
            vec![("content-type".into(), "application/json".into())],
            br#"{"id":"m_1","price":1.50,"ratio":4}"#.to_vec(),
        )
    });
    let home = home();
    let run = |args: &[&str]| {
        let out = ant_at(&server, home.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(run(&["api", "/v1/x", "--transform", "price"]), "1.50\n");
    assert_eq!(run(&["api", "/v1/x", "--jq", ".price"]), "1.50\n");
    assert_eq!(run(&["api", "/v1/x", "--jq", ".ratio / 2"]), "2\n");
    assert_eq!(run(&["api", "/v1/x", "--jq", ".ratio / 8"]), "0.5\n");
}

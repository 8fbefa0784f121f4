//! What a newcomer meets first: usage errors that say what a flag takes,
//! hints that point the right way, and help that teaches.

use serde_json::json;

use crate::{Server, ant, ant_at, home, stderr, stdout};

/// Runs `ant args` against a server that must see no request; returns the
/// one-line error after checking exit 2.
fn refused(args: &[&str]) -> String {
    let server = Server::json(json!({}));
    let h = home();
    let out = ant_at(&server, h.path()).args(args).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "ant {args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(
        server.recorded().is_empty(),
        "nothing is sent: ant {args:?}"
    );
    err
}

#[test]
fn max_items_takes_a_count_or_minus_one_for_no_limit() {
    let err = refused(&["beta:agents", "list", "--max-items", "-5"]);
    assert!(
        err.contains("'-5' for --max-items <N>: a count of items (0 or more), or -1 for no limit"),
        "{err}"
    );
    let err = refused(&["beta:agents", "list", "--max-items", "abc"]);
    assert!(
        err.contains(
            "'abc' for --max-items <N>: expected a whole number of items, or -1 for no limit"
        ),
        "{err}"
    );
    let page = json!({"data": [{"id": "agent_1"}, {"id": "agent_2"}], "has_more": false});
    let server = Server::json(page);
    let h = home();
    let out = ant_at(&server, h.path())
        .args([
            "beta:agents",
            "list",
            "--max-items",
            "-1",
            "--transform",
            "id",
            "-r",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "agent_1\nagent_2\n", "{}", stderr(&out));
}

#[test]
fn a_base_url_without_a_scheme_gets_a_did_you_mean() {
    for (given, hint) in [
        ("127.0.0.1:39209", "did you mean http://127.0.0.1:39209?"),
        ("localhost:4010", "did you mean http://localhost:4010?"),
        ("[::1]:4010", "did you mean http://[::1]:4010?"),
        ("api.example.com", "did you mean https://api.example.com?"),
    ] {
        let err = refused(&["--base-url", given, "beta:agents", "list"]);
        assert!(
            err.contains(&format!("invalid base URL \"{given}\""))
                && err.ends_with(&format!("{hint}\n")),
            "{given}: {err}"
        );
    }
    // The same from the environment.
    let h = home();
    let out = ant(h.path())
        .env("ANTHROPIC_BASE_URL", "127.0.0.1:1")
        .env("ANTHROPIC_API_KEY", "k")
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean http://127.0.0.1:1?"),
        "{}",
        stderr(&out)
    );
}

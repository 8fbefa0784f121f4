//! Output that never goes quiet: a spinner while a session works (on a
//! terminal only), a word for an empty list and for a session already at
//! rest, `auth status` failing without credentials, `run` refusing flags it
//! would ignore, and the worker's start line.

use std::time::Duration;

use serde_json::json;

use crate::explore::{Pane, have_tmux};
use crate::mock::Mock;
use crate::{Server, ant_at, home, stderr, stdout};

#[test]
fn a_spinner_says_what_a_running_turn_waits_for_on_a_terminal_only() {
    let m = Mock::new();
    let agent = m.agent("{type: agent_toolset_20260401}");
    let env = m.environment();
    let args = [
        "beta:sessions",
        "run",
        "--agent",
        &agent,
        "--environment-id",
        &env,
        "-m",
        "/sleep 4\n/say done",
    ];
    if have_tmux() {
        let pane = Pane::start_stderr_on_terminal(
            &[
                ("ANTHROPIC_BASE_URL", m.handle.base_url.as_str()),
                ("ANTHROPIC_API_KEY", "k"),
            ],
            &args,
        );
        let screen = pane.wait("the spinner", |s| s.contains("the agent is working ("));
        assert!(screen.contains("s)"), "it counts the time: {screen}");
        let end = pane.wait("the end of the turn", |s| s.contains("done"));
        assert_eq!(pane.exit_code(), 0, "{end}");
        let last = pane.screen();
        assert!(
            !last.contains("the agent is working"),
            "cleared at the end: {last}"
        );
    }
    // Piped: no spinner, nothing but the session's notes on stderr.
    let out = m
        .cmd()
        .args(args)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains("working") && !err.contains('\r'), "{err:?}");
}

#[test]
fn an_empty_list_on_a_terminal_says_so() {
    let server =
        Server::json(json!({"data": [], "has_more": false, "first_id": null, "last_id": null}));
    let h = home();
    let out = ant_at(&server, h.path())
        .env("ANT_TEST_FORCE_TTY", "1")
        .args(["beta:agents", "list", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "no agents\n");
    // Piped, an empty list stays empty: scripts read nothing.
    let out = ant_at(&server, h.path())
        .args([
            "beta:memory-stores:memories",
            "list",
            "--memory-store-id",
            "m",
        ])
        .output()
        .unwrap();
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("", ""));
    // The default on a terminal (the explorer) says it too, once the
    // terminal is back.
    if have_tmux() {
        let pane = Pane::start_stderr_on_terminal(
            &[
                ("ANTHROPIC_BASE_URL", server.url.as_str()),
                ("ANTHROPIC_API_KEY", "k"),
            ],
            &[
                "beta:memory-stores:memories",
                "list",
                "--memory-store-id",
                "m",
            ],
        );
        assert_eq!(pane.exit_code(), 0);
        assert!(pane.screen().contains("no memories"), "{}", pane.screen());
    }
}

/// The newest session's ID.
fn newest_session(m: &Mock) -> String {
    let id = m.ok(&[
        "beta:sessions",
        "list",
        "--max-items",
        "1",
        "--transform",
        "id",
        "-r",
    ]);
    id.trim().to_string()
}

/// `stream SESSION --until-idle`: (exit code, stderr).
fn until_idle(m: &Mock, session: &str) -> (Option<i32>, String) {
    let out = m
        .cmd()
        .args(["beta:sessions:events", "stream", session, "--until-idle"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    (out.status.code(), stderr(&out))
}

#[test]
fn until_idle_on_a_session_at_rest_says_why_it_stopped() {
    let m = Mock::new();
    let agent = m.agent("{type: agent_toolset_20260401}");
    let env = m.environment();
    let out = m.run_turn(&agent, &env, "/say hi", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (code, err) = until_idle(&m, &newest_session(&m));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("the session was already idle (end_turn) when the stream opened"),
        "{err}"
    );
    // A session waiting for a custom tool result: the same, with its exit code.
    let out = m.run_turn(&agent, &env, "/tool get_weather {}", &[]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    let (code, err) = until_idle(&m, &newest_session(&m));
    assert_eq!(code, Some(10), "{err}");
    assert!(err.contains("already idle (requires_action)"), "{err}");
}

#[test]
fn run_refuses_flags_a_continued_session_would_ignore() {
    let server = Server::json(json!({}));
    let h = home();
    for (extra, named) in [
        (
            &["--agent", "agent_1", "--environment-id", "env_1"][..],
            "--agent and --environment-id cannot be used with --session-id",
        ),
        (
            &["--title", "t"][..],
            "--title cannot be used with --session-id",
        ),
    ] {
        let out = ant_at(&server, h.path())
            .args(["beta:sessions", "run", "--session-id", "sesn_1", "-m", "hi"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(named), "{}", stderr(&out));
    }
    assert!(server.recorded().is_empty(), "nothing is sent");
}

#[test]
fn the_worker_says_what_it_polls_and_warns_when_root() {
    use crate::worker::{Bench, path_str, workdir};
    let b = Bench::new(30);
    let (_dir, work) = workdir();
    // As this user.
    let mut w = b.worker(&["poll", "--workdir", path_str(&work)]);
    w.wait_log("polling for work", Duration::from_secs(20));
    let first = w.log().lines().next().unwrap_or_default().to_string();
    assert!(first.contains("msg=\"polling for work\""), "{first}");
    for part in [
        format!("environment_id={}", b.env),
        format!("workdir={}", work.display()),
        format!("base_url={}", b.mock.base_url),
    ] {
        assert!(first.contains(&part), "{part} in {first}");
    }
    let root = unsafe { libc::geteuid() } == 0;
    assert_eq!(w.log().contains("running as root"), root, "{}", w.log());
    w.term(Duration::from_secs(20));
    // As an unprivileged user, when this test can become one: no warning.
    let setpriv = std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok();
    if root && setpriv {
        use std::os::unix::fs::PermissionsExt;
        let open = tempfile::tempdir().unwrap();
        std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let out = std::process::Command::new("timeout")
            .args([
                "5",
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
            ])
            .arg(assert_cmd::cargo::cargo_bin("ant"))
            .args(["beta:worker", "poll", "--workdir", path_str(open.path())])
            .env_clear()
            .env("HOME", open.path())
            .env("TMPDIR", open.path())
            .env("ANTHROPIC_BASE_URL", &b.mock.base_url)
            .env("ANTHROPIC_ENVIRONMENT_ID", &b.env)
            .env("ANTHROPIC_ENVIRONMENT_KEY", "k")
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(
            err.contains("polling for work") && !err.contains("running as root"),
            "{err}"
        );
    }
}

#[test]
fn events_list_in_pretty_is_the_transcript() {
    let m = Mock::new();
    let agent = m.agent("{type: agent_toolset_20260401}");
    let env = m.environment();
    let out = m.run_turn(
        &agent,
        &env,
        "/write a.txt\nhello\n/end\n/say Wrote it.",
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let session = newest_session(&m);
    let text = m.ok(&[
        "beta:sessions:events",
        "list",
        &session,
        "--format",
        "pretty",
    ]);
    for part in [
        "> /write a.txt",
        "▸ write  a.txt",
        "Wrote it.",
        "· idle (end_turn)",
    ] {
        assert!(text.contains(part), "{part:?} in:\n{text}");
    }
    assert!(!text.contains("processed_at"), "not a YAML dump:\n{text}");
    // --transform still gets the values.
    let types = m.ok(&[
        "beta:sessions:events",
        "list",
        session.trim(),
        "--format",
        "pretty",
        "--transform",
        "type",
    ]);
    assert!(types.contains("session.status_idle"), "{types}");
}

/// A self-hosted session's tool results (`user.tool_result`, posted by the
/// worker) show as the cloud's do: all their lines with --verbose, and the
/// first ones with a count of the rest without it.
#[test]
fn a_self_hosted_tool_result_shows_every_line_with_verbose() {
    use crate::worker::{Bench, path_str, workdir};
    let b = Bench::new(30);
    let (_dir, work) = workdir();
    let mut w = b.worker(&["poll", "--workdir", path_str(&work), "--max-sessions", "2"]);
    let agent = b.agent(None);
    let run = |extra: &[&str], script: &str| {
        let out = b
            .cmd()
            .args([
                "beta:sessions",
                "run",
                "--agent",
                &agent,
                "--environment-id",
                &b.env,
            ])
            .args(["--format", "pretty", "-m", script])
            .args(extra)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    let text = run(
        &["--verbose"],
        "/bash for i in 1 2 3; do echo L$((i*111)); done",
    );
    assert!(text.contains("  L111\n  L222\n  L333\n"), "{text}");
    let text = run(&[], "/bash seq 1 10");
    assert!(text.contains("  6\n  … (4 more lines)\n"), "{text}");
    w.term(Duration::from_secs(20));
}

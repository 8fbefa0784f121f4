//! Usage errors, API errors and exit codes, retries and timeouts.

use std::time::Duration;

use serde_json::json;

use crate::{Reply, Server, ant, ant_at, home, stderr, stdout};

fn usage_error(args: &[&str], expect: &str) {
    let server = Server::json(json!({}));
    let h = home();
    let out = ant_at(&server, h.path()).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "ant {args:?}: {}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(expect),
        "ant {args:?}: expected {expect:?} in {err:?}"
    );
    assert!(stdout(&out).is_empty());
    assert!(
        server.recorded().is_empty(),
        "bad input must not reach the network"
    );
}

#[test]
fn bad_input_is_a_one_line_usage_error_and_never_sent() {
    usage_error(
        &["beta:agents", "create", "--name", "a"],
        "Required flag \"--model\" not set",
    );
    usage_error(
        &["beta:agents", "create", "--name", "a", "--model", "{id: [x"],
        "--model",
    );
    usage_error(
        &["beta:agents", "craete"],
        "did you mean 'ant beta:agents create'",
    );
    usage_error(&["beta:agent", "list"], "unknown command 'beta:agent'");
    usage_error(
        &["beta:agents", "create", "--nme", "a"],
        "did you mean '--name'",
    );
    usage_error(
        &[
            "beta:agents",
            "create",
            "--name",
            "a",
            "--model",
            "{id: x}",
            "--system",
            "@missing.txt",
        ],
        "cannot read @missing.txt",
    );
    usage_error(
        &[
            "messages",
            "create",
            "--max-tokens",
            "ten",
            "--model",
            "m",
            "--message",
            "{role: user, content: hi}",
        ],
        "--max-tokens: expected integer",
    );
    usage_error(
        &["beta:sessions:events", "list", "s1", "--order", "sideways"],
        "--order",
    );
    usage_error(&["beta:agents", "list", "--format", "xml"], "xml");
    usage_error(
        &["beta:agents", "retrieve", "a", "b"],
        "Unexpected extra arguments",
    );
    usage_error(
        &["--base-url", "ftp://nope", "beta:agents", "list"],
        "invalid base URL",
    );
    usage_error(
        &["beta:agents", "list", "--include-archived", "maybe"],
        "--flag=true or --flag=false",
    );
    usage_error(
        &[
            "beta:agents",
            "create",
            "--name",
            "a",
            "--model",
            "x",
            "--tool",
        ],
        "a value is required for --tool",
    );
    usage_error(
        &[
            "beta:agents",
            "create",
            "--name",
            "a",
            "--model",
            "x",
            "--tool",
            "@missing.yaml",
        ],
        "cannot read @missing.yaml",
    );
}

#[test]
fn malformed_piped_body_is_a_usage_error() {
    let server = Server::json(json!({}));
    let h = home();
    let out = crate::output_piped(
        crate::ant_at_std(&server, h.path()).args(["beta:agents", "create"]),
        "name: [unclosed\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Failed to parse piped data as YAML/JSON"));
    assert!(server.recorded().is_empty());
}

#[test]
fn help_and_version_exit_zero() {
    let h = home();
    let out = ant(h.path()).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("ant "));
    let out = ant(h.path())
        .args(["beta:agents", "create", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = stdout(&out);
    assert!(
        help.contains("--model <YAML>") && help.contains("required"),
        "{help}"
    );
    assert!(help.contains("Exit codes:"));
}

#[test]
fn api_errors_go_to_stderr_with_status_type_message_and_request_id() {
    let cases = [
        (401, "authentication_error", 3),
        (403, "permission_error", 3),
        (404, "not_found_error", 4),
        (400, "invalid_request_error", 5),
    ];
    for (status, kind, code) in cases {
        let server = Server::start(move |_, _| Reply::error(status, kind, "it went wrong"));
        let h = home();
        let out = ant_at(&server, h.path())
            .args(["beta:agents", "retrieve", "a1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "status {status}");
        assert!(stdout(&out).is_empty(), "stdout stays empty");
        let err = stderr(&out);
        assert!(
            err.contains(&status.to_string())
                && err.contains(kind)
                && err.contains("it went wrong")
                && err.contains("req_test_1"),
            "{err}"
        );
        assert_eq!(server.recorded().len(), 1, "4xx are not retried");
    }
}

#[test]
fn format_error_renders_the_error_body_on_stderr() {
    let server = Server::start(|_, _| Reply::error(404, "not_found_error", "nope"));
    let h = home();
    let out = ant_at(&server, h.path())
        .args([
            "beta:agents",
            "retrieve",
            "a1",
            "--format-error",
            "json",
            "--transform-error",
            "error.message",
            "-r",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).lines().any(|l| l == "nope"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn retries_429_with_retry_after_then_succeeds() {
    let server = Server::start(|_, i| {
        if i == 0 {
            Reply::Status(
                429,
                vec![("retry-after-ms".into(), "50".into())],
                b"{}".to_vec(),
            )
        } else {
            Reply::ok(json!({"id": "agent_1"}))
        }
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:agents", "retrieve", "agent_1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let reqs = server.recorded();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("x-stainless-retry-count"), Some("1"));
}

#[test]
fn server_errors_are_retried_then_reported_with_exit_7() {
    let server = Server::start(|_, _| {
        Reply::Status(
            503,
            vec![("retry-after".into(), "0".into())],
            b"{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"down\"}}"
                .to_vec(),
        )
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:agents", "list", "--max-retries", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(server.recorded().len(), 4);
    let server = Server::start(|_, _| {
        Reply::Status(
            429,
            vec![("retry-after".into(), "0".into())],
            b"{}".to_vec(),
        )
    });
    let out = ant_at(&server, h.path())
        .args(["beta:agents", "list", "--max-retries", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(server.recorded().len(), 2);
}

#[test]
fn x_should_retry_false_stops_retries() {
    let server = Server::start(|_, _| {
        Reply::Status(
            500,
            vec![("x-should-retry".into(), "false".into())],
            b"{}".to_vec(),
        )
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(server.recorded().len(), 1);
}

#[test]
fn connection_reset_is_retried() {
    let server = Server::start(|_, i| {
        if i == 0 {
            Reply::Drop
        } else {
            Reply::ok(json!({"id": "a"}))
        }
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:agents", "retrieve", "a"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.recorded().len(), 2);
}

#[test]
fn network_errors_and_timeouts_exit_8() {
    let h = home();
    let out = ant(h.path())
        .env("ANTHROPIC_API_KEY", "k")
        .args([
            "--base-url",
            "http://127.0.0.1:9",
            "--max-retries",
            "0",
            "beta:agents",
            "list",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let server = Server::start(|_, _| {
        Reply::Chunks(
            200,
            "application/json",
            vec![(Duration::from_secs(5), b"{}".to_vec())],
        )
    });
    let out = ant_at(&server, h.path())
        .args([
            "beta:agents",
            "retrieve",
            "a",
            "--timeout",
            "0.3",
            "--max-retries",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
}

#[test]
fn missing_credentials_exit_3_without_a_request() {
    let server = Server::json(json!({}));
    let h = home();
    let out = ant(h.path())
        .env("ANTHROPIC_BASE_URL", &server.url)
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(server.recorded().is_empty());
}

#[test]
fn debug_logs_redact_secrets() {
    let server = Server::json(json!({"id": "tun_1", "token": "very-secret-token"}));
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["--debug", "beta:tunnels", "reveal-token", "tun_1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(err.contains("x-api-key: [redacted]"), "{err}");
    assert!(
        !err.contains("sk-test-key") && !err.contains("very-secret-token"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("very-secret-token"),
        "the output itself is not redacted"
    );
}

#[test]
fn closed_stdout_pipe_exits_zero_quietly() {
    let items: Vec<_> = (0..2000)
        .map(|i| json!({"id": format!("agent_{i}"), "name": "x".repeat(50)}))
        .collect();
    let server = Server::json(json!({"data": items, "next_page": null}));
    let h = home();
    let bin = assert_cmd::cargo::cargo_bin("ant");
    let script = format!(
        "'{}' beta:agents list --format jsonl | head -1",
        bin.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-o", "pipefail", "-c", &script])
        .env("HOME", h.path())
        .env("ANTHROPIC_CONFIG_DIR", h.path())
        .env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_API_KEY", "k")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1);
}

#[test]
fn unexpected_responses_exit_1() {
    let server = Server::start(|_, _| {
        Reply::Status(
            200,
            vec![("content-type".into(), "text/html".into())],
            b"<html>proxy</html>".to_vec(),
        )
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "ant: error: beta:agents list: the response is not the JSON the API documents: unexpected character at byte 0\n"
    );
}

#[test]
fn profiles_supply_token_base_url_and_workspace() {
    let server = Server::json(json!({"data": [], "next_page": null}));
    let h = home();
    let dir = h.path().join("anthropic");
    std::fs::create_dir_all(dir.join("configs")).unwrap();
    std::fs::create_dir_all(dir.join("credentials")).unwrap();
    let config = json!({"version": "1.0", "base_url": server.url, "workspace_id": "wrkspc_p",
                        "authentication": {"type": "user_oauth", "client_id": "c"}});
    std::fs::write(dir.join("configs/work.json"), config.to_string()).unwrap();
    std::fs::write(
        dir.join("credentials/work.json"),
        json!({"version": "1.0", "type": "oauth_token", "access_token": "tok_p"}).to_string(),
    )
    .unwrap();
    std::fs::set_permissions(
        dir.join("credentials/work.json"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    std::fs::write(dir.join("active_config"), "work\n").unwrap();
    // The active profile, no flags or variables.
    let out = ant(h.path())
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let r = server.only();
    assert_eq!(r.header("authorization"), Some("Bearer tok_p"));
    assert_eq!(r.header("anthropic-workspace-id"), Some("wrkspc_p"));
    assert_eq!(
        r.header("anthropic-beta"),
        Some("managed-agents-2026-04-01,oauth-2025-04-20")
    );
    // An explicit key wins over the profile; a missing named profile is an error.
    let out = ant(h.path())
        .args(["--api-key", "k2", "beta:agents", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(server.recorded()[1].header("x-api-key"), Some("k2"));
    let out = ant(h.path())
        .args(["--profile", "nope", "beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("profile \"nope\" not found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn generated_docs_never_touch_hand_written_files() {
    let h = home();
    let out_dir = h.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(out_dir.join("NOTES.md"), "precious").unwrap();
    std::fs::write(out_dir.join("README.md"), "mine").unwrap();
    let out = ant(h.path())
        .args(["@docs", "-o"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refusing to overwrite"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("README.md")).unwrap(),
        "mine"
    );
    std::fs::remove_file(out_dir.join("README.md")).unwrap();
    let out = ant(h.path())
        .args(["@docs", "-o"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(out_dir.join("NOTES.md")).unwrap(),
        "precious"
    );
    assert!(out_dir.join("beta-agents.md").exists());
}

#[test]
fn a_read_loop_deletes_every_listed_session() {
    let server = crate::Server::json(serde_json::json!({"id": "x", "type": "session_deleted"}));
    let h = crate::home();
    let ids = h.path().join("ids");
    std::fs::write(&ids, "sesn_1\nsesn_2\nsesn_3\n").unwrap();
    let bin = assert_cmd::cargo::cargo_bin("ant");
    let status = std::process::Command::new("sh")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("-c")
        .arg(r#"while read id; do "$ANT_BIN" beta:sessions delete "$id" >/dev/null || exit 1; done < "$IDS""#)
        .env("ANT_BIN", &bin)
        .env("IDS", &ids)
        .env("HOME", h.path())
        .env("ANTHROPIC_CONFIG_DIR", h.path())
        .env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_API_KEY", "k")
        .status()
        .unwrap();
    assert!(status.success());
    let paths: Vec<String> = server
        .recorded()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            "/v1/sessions/sesn_1",
            "/v1/sessions/sesn_2",
            "/v1/sessions/sesn_3"
        ]
    );
    // Without the ID on the command line, piped input still names it.
    let out = crate::output_piped(
        crate::ant_at_std(&server, h.path()).args(["beta:sessions", "delete"]),
        "session_id: sesn_9\n",
    );
    assert!(out.status.success(), "{}", crate::stderr(&out));
    assert_eq!(
        server.recorded().last().unwrap().path,
        "/v1/sessions/sesn_9"
    );
}

#[test]
fn a_missing_command_shows_that_levels_commands() {
    let h = crate::home();
    let out = crate::ant(h.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", crate::stdout(&out), crate::stderr(&out));
    assert!(
        all.contains("beta:sessions:events") && all.contains("beta:agents"),
        "{all}"
    );
    assert!(all.contains("'ant <group> --help'"), "{all}");
    let out = crate::ant(h.path()).arg("beta:sessions").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", crate::stdout(&out), crate::stderr(&out));
    for verb in ["create", "delete", "run"] {
        assert!(all.contains(&format!("\n  {verb} ")), "{verb}: {all}");
    }
    assert!(all.contains("'ant beta:sessions <command>'"), "{all}");
    // The same when global flags come from the environment (clap counts
    // them as arguments given), as they do for anyone with a key set.
    for args in [&[][..], &["beta:sessions"][..]] {
        let out = crate::ant(h.path())
            .env("ANTHROPIC_API_KEY", "sk-ant-test")
            .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let all = format!("{}{}", crate::stdout(&out), crate::stderr(&out));
        let listed = if args.is_empty() {
            "beta:agents"
        } else {
            "\n  run "
        };
        assert!(all.contains(listed), "{args:?}: {all}");
        assert!(all.contains("a command is required"), "{args:?}: {all}");
    }
}

//! Hostile input from servers and users: nothing may panic `ant`, local
//! request-building failures are bad input (exit 2, nothing sent), and a
//! password in the base URL never shows.

use serde_json::json;

use crate::{Reply, Server, ant, ant_at, home, stderr, stdout};

#[test]
fn hostile_retry_after_headers_never_crash() {
    for (header, value) in [
        ("retry-after", "inf"),
        ("retry-after", "1e300"),
        ("retry-after", "99999999999999999999"),
        ("retry-after", "NaN"),
        ("retry-after", "Sun, 06 Nov 99999999999999 08:49:37 GMT"),
        ("retry-after-ms", "inf"),
        ("retry-after-ms", "1e300"),
        ("retry-after-ms", "99999999999999999999"),
    ] {
        let server = Server::start(move |_, _| {
            Reply::Status(429, vec![(header.into(), value.into())], b"{}".to_vec())
        });
        let h = home();
        let out = ant_at(&server, h.path())
            .args(["beta:agents", "list", "--max-retries", "0"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(6), "{header}: {value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(server.recorded().len(), 1);
    }
}

#[test]
fn absurd_timeouts_are_usage_errors_naming_the_flag() {
    let server = Server::json(json!({"data": []}));
    let h = home();
    for t in ["2e19", "1e300", "inf", "NaN", "0", "-1", "soon"] {
        let out = ant_at(&server, h.path())
            .args(["beta:agents", "list", "--timeout", t])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "--timeout {t}: {err}");
        assert!(err.contains("--timeout"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(server.recorded().is_empty());
}

#[test]
fn a_panic_is_one_line_and_exit_1_with_a_backtrace_only_on_request() {
    let h = home();
    let out = ant(h.path())
        .env("ANT_TEST_PANIC", "1")
        .env_remove("RUST_BACKTRACE")
        .args(["--version"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("ant: internal error, please report: ANT_TEST_PANIC is set"),
        "{err}"
    );
    assert!(
        !err.contains("panicked at") && !err.contains("backtrace"),
        "{err}"
    );
    let out = ant(h.path())
        .env("ANT_TEST_PANIC", "1")
        .env("RUST_BACKTRACE", "1")
        .args(["--version"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.lines().count() > 1, "a backtrace follows: {err}");
    assert!(err.contains("report_panic"), "{err}");
}

#[test]
fn control_characters_in_headers_are_bad_input_not_network_errors() {
    let server = Server::json(json!({"data": []}));
    let h = home();
    // (flag, environment variable, value): the value goes in one of them.
    let cases = [
        ("--api-key", "", "sk-ant\nx"),
        ("--api-key", "ANTHROPIC_API_KEY", "sk-ant\u{1}x"),
        ("--auth-token", "", "tok\rx"),
        ("--beta", "", "a\nb"),
        ("--workspace-id", "", "ws\u{7f}"),
    ];
    for (flag, var, value) in cases {
        let mut cmd = ant_at(&server, h.path());
        if flag == "--auth-token" {
            cmd.env_remove("ANTHROPIC_API_KEY");
        }
        cmd.args(["beta:agents", "list"]);
        match var {
            "" => cmd.args([flag, value]),
            _ => cmd.env(var, value),
        };
        let out = cmd.output().unwrap();
        let args = (flag, var);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with(&format!("ant: error: {flag}")), "{err}");
        assert!(err.contains("control character"), "{err}");
        assert!(!err.contains("sk-ant"), "never echo the key: {err}");
    }
    assert!(server.recorded().is_empty());
}

#[test]
fn an_overlong_url_is_bad_input_naming_the_flag() {
    let server = Server::json(json!({"data": []}));
    let h = home();
    let long = "a".repeat(70_000);
    for (args, flag) in [
        (vec!["beta:agents", "retrieve", long.as_str()], "--agent-id"),
        (
            vec!["beta:sessions", "list", "--agent-id", long.as_str()],
            "--agent-id",
        ),
        (vec!["beta:files", "list", "--id", long.as_str()], "--id"),
    ] {
        let out = ant_at(&server, h.path()).args(&args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with(&format!("ant: error: {flag}: the request URL would be")),
            "{err}"
        );
    }
    assert!(server.recorded().is_empty());
}

#[test]
fn a_password_in_the_base_url_never_shows() {
    let server = Server::start(|_, _| Reply::error(404, "not_found_error", "no such agent"));
    let h = home();
    let base = server.url.replace("http://", "http://user:S3CRET@");
    for extra in [&[][..], &["--debug"][..], &["--format-error", "yaml"][..]] {
        let out = ant_at(&server, h.path())
            .env("ANTHROPIC_BASE_URL", &base)
            .args(["beta:agents", "retrieve", "agent_1"])
            .args(extra)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(4), "{err}");
        assert!(err.contains("http://user:***@127.0.0.1"), "{err}");
        assert!(!err.contains("S3CRET"), "{extra:?}: {err}");
    }
    // The user info still authenticates the request.
    let auth = server.recorded()[0]
        .header("authorization")
        .map(String::from);
    assert_eq!(auth.as_deref(), Some("Basic dXNlcjpTM0NSRVQ="));
    // Network errors and invalid base URLs too.
    let out = ant(h.path())
        .env("ANTHROPIC_API_KEY", "k")
        .args([
            "--base-url",
            "http://u:S3CRET@127.0.0.1:9",
            "--max-retries",
            "0",
        ])
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8));
    assert!(!stderr(&out).contains("S3CRET"), "{}", stderr(&out));
    let out = ant(h.path())
        .env("ANTHROPIC_API_KEY", "k")
        .args(["--base-url", "ftp://u:S3CRET@host", "beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("S3CRET"), "{}", stderr(&out));
    // Sign-in refusals name the base URL too.
    for extra in [&[][..], &["--console-url", "https://127.0.0.1:9"][..]] {
        let out = ant(h.path())
            .args(["auth", "login", "--no-browser"])
            .args(["--base-url", "http://u:S3CRET@example.com"])
            .args(extra)
            .write_stdin("")
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("http://u:***@example.com"), "{err}");
        assert!(!err.contains("S3CRET"), "{extra:?}: {err}");
    }
}

#[test]
fn a_base_url_the_parser_would_change_is_bad_input() {
    let server = Server::json(json!({"data": []}));
    let h = home();
    for base in [
        format!("{}/\n", server.url),
        format!("{} ", server.url),
        format!("{}/?x=1", server.url),
    ] {
        let out = ant_at(&server, h.path())
            .env("ANTHROPIC_BASE_URL", &base)
            .args(["beta:agents", "list", "--max-retries", "0"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{base:?}: {err}");
        assert!(err.starts_with("ant: error: invalid base URL"), "{err}");
    }
    assert!(server.recorded().is_empty());
}

#[test]
fn redirects_to_another_origin_are_not_followed_with_the_key() {
    // `localhost` is another origin than `127.0.0.1`, though the same host.
    let elsewhere = Server::json(json!({"data": []}));
    let target = elsewhere.url.replace("127.0.0.1", "localhost") + "/collect";
    let server = Server::start(move |r, _| {
        let to = match r.path.as_str() {
            "/v1/agents" => "/v1/moved".to_string(),
            _ => target.clone(),
        };
        Reply::Status(307, vec![("location".into(), to)], b"moved".to_vec())
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("307 Temporary Redirect"), "{err}");
    assert!(
        err.contains("redirected to http://localhost:") && err.contains("not followed"),
        "{err}"
    );
    // The same-origin redirect was followed, once, without a Referer.
    let seen = server.recorded();
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/v1/agents", "/v1/moved"]);
    assert_eq!(seen[1].header("x-api-key"), Some("sk-test-key"));
    assert_eq!(seen[1].header("referer"), None);
    assert!(elsewhere.recorded().is_empty(), "the key went elsewhere");
}

#[test]
fn a_server_repeating_page_cursors_cannot_keep_ant_paging() {
    // The same cursor every time, a cycle, a numeric one, and the cursor
    // the command started from.
    type Cursor = fn(usize) -> serde_json::Value;
    let cases: [(&[&str], Cursor); 4] = [
        (&[], |_| json!("p1")),
        (&[], |n| json!(["p1", "p2"][n % 2])),
        (&[], |_| json!(5)),
        (&["--page", "p0"], |_| json!("p0")),
    ];
    for (extra, cursor) in cases {
        let server = Server::start(move |_, n| {
            Reply::ok(json!({"data": [{"id": format!("agent_{n}")}], "next_page": cursor(n)}))
        });
        let h = home();
        let out = ant_at(&server, h.path())
            .args([
                "beta:agents",
                "list",
                "--format",
                "jsonl",
                "--transform",
                "id",
                "-r",
            ])
            .args(extra)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {err}");
        assert!(err.contains("a second time"), "{err}");
        let pages = server.recorded().len();
        assert!(pages <= 3, "{extra:?}: {pages} pages");
        assert_eq!(stdout(&out).lines().count(), pages);
    }
}

#[test]
fn endless_files_and_input_are_refused_past_the_api_limits() {
    refused(
        &agent_create(&["--system", "@/dev/zero"]),
        None,
        "invalid value for --system: cannot read @/dev/zero: larger than 256 MiB, the most the API takes here",
    );
    refused(
        &["beta:files", "upload", "--file", "/dev/zero"],
        None,
        "invalid value for --file: cannot read /dev/zero: larger than 500 MiB, the most the API takes here",
    );
    // Piped input: a sparse file one byte past the limit.
    let server = Server::json(json!({}));
    let h = home();
    let big = h.path().join("big.yaml");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len((256 << 20) + 1))
        .unwrap();
    let out = crate::ant_std(h.path())
        .env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_API_KEY", "k")
        .args(["beta:agents", "create"])
        .stdin(std::fs::File::open(&big).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "ant: error: piped input: larger than 256 MiB, the most the API takes here\n"
    );
    assert!(server.recorded().is_empty());
}

#[test]
fn a_server_message_cannot_break_the_error_line_or_drive_the_terminal() {
    let server = Server::start(|_, _| {
        Reply::error(
            400,
            "invalid_request_error",
            "bad\u{1b}]0;pwned\u{7}\u{1b}[2J\nsecond line\r\u{202e}txt",
        )
    });
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:agents", "retrieve", "agent_1"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    assert!(
        err.ends_with(
            r"(invalid_request_error): bad\u{1b}]0;pwned\u{7}\u{1b}[2J\nsecond line\r\u{202e}txt [request-id: req_test_1]
"
        ),
        "{err}"
    );
}

#[test]
fn transform_error_with_raw_output_shows_the_message_once() {
    let server = Server::start(|_, _| Reply::error(404, "not_found_error", "no such agent"));
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:agents", "retrieve", "agent_1"])
        .args(["--transform-error", "error.message", "-r"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert_eq!(err.matches("no such agent").count(), 1, "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.contains("404 Not Found (not_found_error)"), "{err}");
    assert!(err.contains("[request-id: req_test_1]"), "{err}");
    assert_eq!(err.lines().nth(1), Some("no such agent"));
    assert!(stdout(&out).is_empty());
}

/// Runs `ant` (with `stdin` piped when given) and checks it stops with exit
/// 2, one line naming `expect`, and nothing sent.
fn refused(args: &[&str], stdin: Option<&str>, expect: &str) {
    let server = Server::json(json!({}));
    let h = home();
    let mut cmd = crate::ant_std(h.path());
    cmd.env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_API_KEY", "sk-test-key")
        .args(args);
    if let Some(text) = stdin {
        // From a file: a pipe written by another thread may miss the
        // 10 ms in which `ant` looks for piped input on a loaded machine.
        let path = h.path().join("stdin");
        std::fs::write(&path, text).unwrap();
        cmd.stdin(std::fs::File::open(&path).unwrap());
    }
    let out = cmd.output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "ant {args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert_eq!(
        err.trim_end(),
        format!("ant: error: {expect}"),
        "ant {args:?}"
    );
    assert!(server.recorded().is_empty(), "bad input must not be sent");
}

/// `beta:agents create --name a --model m` followed by `extra`.
fn agent_create<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["beta:agents", "create", "--name", "a", "--model", "m"];
    args.extend_from_slice(extra);
    args
}

#[test]
fn types_enums_bounds_and_required_fields_are_checked_at_every_depth() {
    let with = agent_create;
    refused(
        &with(&["--metadata", "{a: 1}"]),
        None,
        "invalid value for --metadata: a: expected string, got integer",
    );
    refused(
        &["beta:sessions:events", "send", "sesn_1"],
        None,
        "Required flag \"--event\" not set",
    );
    refused(
        &[
            "beta:sessions:events",
            "send",
            "sesn_1",
            "--event",
            "{type: user.message}",
        ],
        None,
        "invalid value for --event: [0].content: required field missing",
    );
    refused(
        &[
            "beta:sessions:events",
            "send",
            "sesn_1",
            "--event",
            "{type: user.message, content: [{type: text}]}",
        ],
        None,
        "invalid value for --event: [0].content[0].text: required field missing",
    );
    refused(
        &["beta:agents", "list", "--limit", "-5"],
        None,
        "invalid value for --limit: expected at least 1, got -5",
    );
    refused(
        &["beta:agents", "list", "--limit", "0"],
        None,
        "invalid value for --limit: expected at least 1, got 0",
    );
    refused(
        &with(&["--mcp-server.name", "m", "--mcp-server.url", "https://x"]),
        None,
        "invalid value for --mcp-server: [0].type: required field missing",
    );
    refused(
        &["beta:agents", "create"],
        Some("name: a\nmodel: m\nmetadata: {a: 1}\n"),
        "invalid value in piped input for metadata: a: expected string, got integer",
    );
    // A body is a map of fields, never a list or a scalar.
    for (piped, got) in [
        ("[1, 2]\n", "array"),
        ("5\n", "integer"),
        ("text\n", "string"),
    ] {
        refused(
            &["beta:agents", "create"],
            Some(piped),
            &format!("piped input: expected a map of fields (a YAML or JSON object), got {got}"),
        );
    }
    // Unknown fields stay allowed: the API grows faster than the table.
    let server = Server::json(json!({"id": "agent_1"}));
    let h = home();
    let out = ant_at(&server, h.path())
        .args(with(&["--metadata", "{a: '1'}", "--tool"]))
        .arg("{type: agent_toolset_20260401, brand_new_field: 1}")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.only().json()["tools"][0]["brand_new_field"], 1);
}

#[test]
fn value_errors_are_plain_words_naming_the_flag_line_and_column() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    refused(
        &["beta:sessions:events", "send", "sesn_1", "--event", &deep],
        None,
        "invalid value for --event: failed to parse as YAML: nesting deeper than 64 levels at line 1, column 65",
    );
    refused(
        &agent_create(&["--metadata", "{~: x}"]),
        None,
        "invalid value for --metadata: failed to parse as YAML: a key is null; keys must be text (quote \"null\" to mean the word) at line 1, column 2",
    );
    refused(
        &["beta:agents", "create"],
        Some("name: a\n---\nname: b\n"),
        "Failed to parse piped data as YAML/JSON: more than one YAML document (a '---' line starts another); give one at line 3, column 1",
    );
    refused(
        &["beta:agents", "create"],
        Some("name: a\nmodel: [m\ntools: []\n"),
        "Failed to parse piped data as YAML/JSON: illegal placement of ':' indicator at line 3, column 6",
    );
    refused(
        &["beta:agents", "create"],
        Some("name: null\nmodel: m\n"),
        "invalid value in piped input for name: expected string, got null",
    );
    // A key given twice is refused rather than one value dropped.
    refused(
        &["beta:agents", "create"],
        Some("name: a\nmodel: m\nname: b\n"),
        "Failed to parse piped data as YAML/JSON: duplicate key \"name\" at line 3, column 1",
    );
    refused(
        &agent_create(&["--metadata", r#"{"k": "1", "k": "2"}"#]),
        None,
        "invalid value for --metadata: failed to parse as YAML: duplicate key \"k\" at line 1, column 14",
    );
}

#[test]
fn transform_syntax_is_checked_before_sending() {
    refused(
        &["beta:agents", "list", "--transform", "data..id"],
        None,
        "invalid value for --transform \"data..id\": empty path component at character 6",
    );
    refused(
        &["beta:agents", "list", "--transform-error", "{error.message"],
        None,
        "invalid value for --transform-error \"{error.message\": unclosed '{' (no matching '}') at character 1",
    );
    refused(
        &agent_create(&["--transform", "@key"]),
        None,
        "invalid value for --transform \"@key\": @key is not a known modifier (modifiers: @this, @reverse, @pretty, @ugly, @flatten, @join, @valid, @keys, @values, @tostr, @fromstr, @group, @dig; escape a literal @ as \\@) at character 1",
    );
    refused(
        &agent_create(&["--transform", "!yes"]),
        None,
        "invalid value for --transform \"!yes\": !yes is not a literal (use !true, !false, !null, !nan, !inf or ! and a JSON value) at character 1",
    );
}

#[test]
fn a_transform_matching_nothing_after_a_sent_request_exits_9() {
    let server = Server::json(json!({"id": "agent_1", "type": "agent"}));
    let h = home();
    let out = ant_at(&server, h.path())
        .args(["beta:agents", "create", "--name", "a", "--model", "m"])
        .args(["--transform", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "ant: error: --transform \"nope\" matched nothing in the response\n"
    );
    assert_eq!(server.recorded().len(), 1, "the request was sent");
}

#[test]
fn multipath_keys_match_the_official_output() {
    let server = Server::json(json!({"id": "evt_1", "type": "user.message"}));
    let h = home();
    for (path, want) in [
        (r#"{"t":type}"#, r#"{"t":"user.message"}"#),
        (
            r#"{id,"x":{"y":type}}"#,
            r#"{"id":"evt_1","x":{"y":"user.message"}}"#,
        ),
        (r#"{"a,b":id}"#, r#"{"a,b":"evt_1"}"#),
    ] {
        let out = ant_at(&server, h.path())
            .args(["beta:agents", "retrieve", "a", "--format", "jsonl"])
            .args(["--transform", path])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), format!("{want}\n"), "{path}");
    }
}

#[test]
fn help_tells_the_truth_about_ids_and_timestamps() {
    let h = home();
    let help = stdout(
        &ant(h.path())
            .args(["beta:sessions", "retrieve", "--help"])
            .output()
            .unwrap(),
    );
    assert!(
        help.contains("Usage: ant beta:sessions retrieve [OPTIONS] [SESSION_ID]\n"),
        "one optional ID: {help}"
    );
    refused(
        &["beta:sessions", "retrieve", "sesn_1", "sesn_2"],
        None,
        "Unexpected extra arguments: [\"sesn_2\"]",
    );
    let help = stdout(
        &ant(h.path())
            .args(["beta:sessions", "list", "--help"])
            .output()
            .unwrap(),
    );
    let flag = help
        .split("--created-at-lt ")
        .nth(1)
        .and_then(|rest| rest.split("--created-at-lte").next())
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        flag,
        "<TIMESTAMP> Only sessions created before this time [query: created_at[lt]]: RFC 3339 timestamp, e.g. 2026-01-31T09:30:00Z"
    );
}

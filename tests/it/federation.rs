//! Workload identity federation: the flags, variables and profile variant;
//! the exchange on the wire; the cache (two requests, one exchange); the
//! re-exchange after a 401; partial configuration, plain http and oversize
//! tokens refused before any request; `--service-account-id` anywhere on
//! the line; the precedence notice; and `--debug` with secrets redacted
//! (`auth status` is in `status.rs`).

use serde_json::{Value, json};

use crate::signin::{ci_jwt, config_dir, mode, read_json};
use crate::{Recorded, Reply, Server, ant, home, stderr, stdout};

pub const RULE: &str = "fdrl_01ci";
pub const ORG: &str = "5f2c0a8e-1b7d-4c3e-9a6f-0d8e7b6a5c4d";

fn is_exchange(r: &Recorded) -> bool {
    r.path == "/v1/oauth/token"
}

/// A server that exchanges identity tokens for `fed-token-N` (N counts
/// exchanges, each valid for `ttl` seconds) and answers API calls with
/// `api(request, index among API calls)`.
fn fed_server(
    ttl: Option<i64>,
    api: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
) -> Server {
    let counts = std::sync::Mutex::new((0usize, 0usize));
    Server::start(move |r, _| {
        let mut c = counts.lock().unwrap();
        if is_exchange(r) {
            c.0 += 1;
            let mut v =
                json!({"access_token": format!("fed-token-{}", c.0), "token_type": "Bearer"});
            if let Some(t) = ttl {
                v["expires_in"] = json!(t);
            }
            Reply::ok(v)
        } else {
            c.1 += 1;
            api(r, c.1 - 1)
        }
    })
}

fn empty_list(_: &Recorded, _: usize) -> Reply {
    Reply::ok(json!({"data": [], "next_page": null}))
}

fn exchanges(s: &Server) -> Vec<Recorded> {
    s.recorded().into_iter().filter(is_exchange).collect()
}

fn api_calls(s: &Server) -> Vec<Recorded> {
    s.recorded()
        .into_iter()
        .filter(|r| !is_exchange(r))
        .collect()
}

fn fed_flags(jwt: &str) -> Vec<String> {
    [
        "--identity-token",
        jwt,
        "--federation-rule",
        RULE,
        "--organization-id",
        ORG,
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn flags_exchange_the_identity_token_as_the_official_cli_does() {
    let server = fed_server(Some(3600), empty_list);
    let h = home();
    let jwt = ci_jwt();
    let out = ant(h.path())
        .args(["--base-url", &server.url, "--workspace-id", "wrkspc_ci"])
        .args(["--service-account-id", "svac_01bot"])
        .args(fed_flags(&jwt))
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let x = exchanges(&server);
    assert_eq!(x.len(), 1);
    let x = &x[0];
    assert_eq!(x.method, "POST");
    assert_eq!(x.header("content-type"), Some("application/json"));
    assert_eq!(
        x.header("anthropic-beta"),
        Some("oauth-2025-04-20,oidc-federation-2026-04-01")
    );
    assert_eq!(x.header("x-api-key"), None);
    assert_eq!(x.header("authorization"), None);
    // The official key order; the flags never put the workspace in the body.
    assert_eq!(
        x.body_text(),
        format!(
            r#"{{"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer","assertion":"{jwt}","federation_rule_id":"{RULE}","organization_id":"{ORG}","service_account_id":"svac_01bot"}}"#
        )
    );
    let api = api_calls(&server);
    assert_eq!(api.len(), 1);
    assert_eq!(api[0].header("authorization"), Some("Bearer fed-token-1"));
    assert_eq!(
        api[0].header("anthropic-beta"),
        Some("managed-agents-2026-04-01,oauth-2025-04-20")
    );
    assert_eq!(api[0].header("anthropic-workspace-id"), Some("wrkspc_ci"));
    assert_eq!(api[0].header("x-api-key"), None);
}

#[test]
fn service_account_id_works_after_the_command_except_as_the_memory_versions_filter() {
    let server = fed_server(Some(3600), empty_list);
    let h = home();
    let sa_in_body = |args: &[&str], envs: &[(&str, &str)]| {
        let before = exchanges(&server).len();
        let mut cmd = ant(h.path());
        cmd.args(["--base-url", &server.url])
            .args(fed_flags(&ci_jwt()));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let x = exchanges(&server);
        assert_eq!(x.len(), before + 1);
        x[before].json()["service_account_id"].clone()
    };
    // Anywhere on the line, as the official's global flags, and the flag
    // after the command wins over the variable.
    let list = ["beta:agents", "list", "--service-account-id", "svac_after"];
    assert_eq!(sa_in_body(&list, &[]), json!("svac_after"));
    let env = [("ANTHROPIC_SERVICE_ACCOUNT_ID", "svac_env")];
    assert_eq!(sa_in_body(&list, &env), json!("svac_after"));
    let status = ["auth", "status", "--service-account-id", "svac_status"];
    let out = ant(h.path())
        .args(fed_flags(&ci_jwt()))
        .args(status)
        .output()
        .unwrap();
    assert!(
        stdout(&out)
            .contains("--service-account-id     / ANTHROPIC_SERVICE_ACCOUNT_ID     svac_status"),
        "{}",
        stdout(&out)
    );
    // memory-versions list has a filter of that name: after the command it
    // is the filter only; before the group, or from the variable, it is the
    // service account only.
    let versions = [
        "beta:memory-stores:memory-versions",
        "list",
        "--memory-store-id",
        "memstore_1",
    ];
    let mut filtered = versions.to_vec();
    filtered.extend(["--service-account-id", "svac_filter"]);
    assert_eq!(sa_in_body(&filtered, &env), json!("svac_env"));
    let calls = api_calls(&server);
    assert_eq!(
        calls
            .last()
            .unwrap()
            .query_param("service_account_id")
            .as_deref(),
        Some("svac_filter")
    );
    let mut before = vec!["--service-account-id", "svac_before"];
    before.extend(versions);
    assert_eq!(sa_in_body(&before, &[]), json!("svac_before"));
    let calls = api_calls(&server);
    assert_eq!(
        calls.last().unwrap().query_param("service_account_id"),
        None
    );
}

#[test]
fn the_oauth_beta_is_added_once() {
    let server = fed_server(Some(3600), empty_list);
    let h = home();
    let out = ant(h.path())
        .args(["--base-url", &server.url])
        .args(fed_flags(&ci_jwt()))
        .args(["beta:agents", "list", "--beta", "oauth-2025-04-20"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        api_calls(&server)[0].header("anthropic-beta"),
        Some("managed-agents-2026-04-01,oauth-2025-04-20")
    );
}

#[test]
fn variables_and_a_token_file_work_against_ant_mock() {
    let m = crate::checked_mock(ant_mock::Config {
        federation_rule: Some(RULE.into()),
        ..Default::default()
    });
    let h = home();
    let file = h.path().join("id-token");
    std::fs::write(&file, format!("{}\n", ci_jwt())).unwrap();
    let run = |rule: &str| {
        ant(h.path())
            .env("ANTHROPIC_BASE_URL", &m.base_url)
            .env("ANTHROPIC_IDENTITY_TOKEN_FILE", &file)
            .env("ANTHROPIC_FEDERATION_RULE_ID", rule)
            .env("ANTHROPIC_ORGANIZATION_ID", ORG)
            .args([
                "beta:agents",
                "create",
                "--name",
                "ci",
                "--model",
                "claude-opus-4-7",
            ])
            .args(["--transform", "name", "-r"])
            .output()
            .unwrap()
    };
    let out = run(RULE);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ci\n");
    // A rule the server does not have: 401 with the official hint.
    let out = run("fdrl_other");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("failed to get credentials token: oauth token request failed (status 401); request id req_"),
        "{err}"
    );
    assert!(
        err.contains("invalid_grant: no federation rule matches the identity token. Ensure your federation rule matches your identity token. If your federation rule is scoped to multiple workspaces, set the ANTHROPIC_WORKSPACE_ID environment variable"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn two_requests_make_one_exchange() {
    let server = fed_server(Some(3600), |_, i| {
        if i == 0 {
            Reply::ok(json!({"data": [{"id": "agent_1"}], "next_page": "p2"}))
        } else {
            Reply::ok(json!({"data": [{"id": "agent_2"}], "next_page": null}))
        }
    });
    let h = home();
    let out = ant(h.path())
        .args(["--base-url", &server.url])
        .args(fed_flags(&ci_jwt()))
        .args(["beta:agents", "list", "--transform", "id", "-r"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "agent_1\nagent_2\n");
    assert_eq!(api_calls(&server).len(), 2);
    assert_eq!(exchanges(&server).len(), 1);
}

/// Pages of one agent each, `pages` in all; the second answer comes late.
fn paged(pages: usize) -> impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static {
    move |_, i| {
        let next = if i + 1 < pages {
            json!(format!("p{}", i + 2))
        } else {
            Value::Null
        };
        let body = json!({"data": [{"id": format!("agent_{}", i + 1)}], "next_page": next});
        if i == 1 {
            let wait = std::time::Duration::from_millis(300);
            Reply::Chunks(
                200,
                "application/json",
                vec![(wait, body.to_string().into_bytes())],
            )
        } else {
            Reply::ok(body)
        }
    }
}

#[test]
fn a_token_near_its_expiry_is_exchanged_again_early() {
    let h = home();
    let list = |server: &Server| {
        ant(h.path())
            .args(["--base-url", &server.url])
            .args(fed_flags(&ci_jwt()))
            .args(["beta:agents", "list", "--transform", "id", "-r"])
            .output()
            .unwrap()
    };
    // 60 s left: still used, while a new one is fetched in the background.
    let server = fed_server(Some(60), paged(3));
    let out = list(&server);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "agent_1\nagent_2\nagent_3\n");
    // (The new token has 60 s left too, so it starts another one.)
    assert!(exchanges(&server).len() >= 2);
    let used: Vec<_> = api_calls(&server)
        .iter()
        .map(|r| r.header("authorization").unwrap().to_string())
        .collect();
    assert_eq!(
        used,
        [
            "Bearer fed-token-1",
            "Bearer fed-token-1",
            "Bearer fed-token-2"
        ]
    );
    // 20 s left: too close, each request exchanges first.
    let server = fed_server(Some(20), paged(2));
    assert!(list(&server).status.success());
    assert_eq!(exchanges(&server).len(), 2);
    assert_eq!(
        api_calls(&server)[1].header("authorization"),
        Some("Bearer fed-token-2")
    );
}

#[test]
fn a_401_makes_one_re_exchange_and_one_resend() {
    let server = fed_server(Some(3600), |r, _| {
        if r.header("authorization") == Some("Bearer fed-token-1") {
            Reply::error(401, "authentication_error", "token revoked")
        } else {
            Reply::ok(json!({"data": [], "next_page": null}))
        }
    });
    let h = home();
    let out = ant(h.path())
        .args(["--base-url", &server.url])
        .args(fed_flags(&ci_jwt()))
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(exchanges(&server).len(), 2);
    let api = api_calls(&server);
    assert_eq!(api.len(), 2);
    assert_eq!(api[1].header("authorization"), Some("Bearer fed-token-2"));

    // Still 401 after the re-exchange: no loop, the 401 stands (exit 3).
    let server = fed_server(Some(3600), |_, _| {
        Reply::error(401, "authentication_error", "no access")
    });
    let out = ant(h.path())
        .args(["--base-url", &server.url])
        .args(fed_flags(&ci_jwt()))
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("401 Unauthorized"),
        "{}",
        stderr(&out)
    );
    assert_eq!(exchanges(&server).len(), 2);
    assert_eq!(api_calls(&server).len(), 2);
}

#[test]
fn a_failed_exchange_is_attempted_once() {
    let server = Server::start(|_, _| {
        Reply::Status(
            503,
            vec![("request-id".into(), "req_x".into())],
            b"<html>upstream</html>".to_vec(),
        )
    });
    let h = home();
    let out = ant(h.path())
        .args(["--base-url", &server.url])
        .args(fed_flags(&ci_jwt()))
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "ant: error: failed to get credentials token: oauth token request failed (status 503); request id req_x; [redacted; not a JSON error response]\n"
    );
    assert_eq!(server.recorded().len(), 1, "one attempt, not three");
}

/// Complete federation flags with the token in `file`.
fn file_flags(file: &std::path::Path) -> Vec<&str> {
    let path = file.to_str().unwrap();
    vec![
        "--identity-token-file",
        path,
        "--federation-rule",
        RULE,
        "--organization-id",
        ORG,
    ]
}

#[test]
fn bad_federation_setups_are_refused_before_any_request() {
    let server = Server::json(json!({}));
    let h = home();
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let mut cmd = ant(h.path());
        cmd.args(["--base-url", &server.url]);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.args(args)
            .args(["beta:agents", "list"])
            .output()
            .unwrap()
    };
    // Partial: exit 3, naming what is missing, in the official words.
    let out = run(&["--federation-rule", RULE], &[]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "ant: error: oauth: federation partially configured, missing: --identity-token[-file] / ANTHROPIC_IDENTITY_TOKEN[_FILE], --organization-id / ANTHROPIC_ORGANIZATION_ID\n"
    );
    // ANTHROPIC_ORGANIZATION_ID alone selects federation too.
    let out = run(&[], &[("ANTHROPIC_ORGANIZATION_ID", ORG)]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("federation partially configured"));
    // Both token sources.
    let out = run(
        &[
            "--identity-token",
            "a.b.c",
            "--identity-token-file",
            "/x",
            "--federation-rule",
            RULE,
            "--organization-id",
            ORG,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("oauth: --identity-token and --identity-token-file are mutually exclusive")
    );
    // An identity token over 16 KiB, literal or in a file.
    let big = "x".repeat(16 * 1024 + 1);
    let mut flags = fed_flags(&big);
    flags.extend(["beta:agents".into(), "list".into()]);
    let out = ant(h.path())
        .args(["--base-url", &server.url])
        .args(&flags)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("failed to get credentials token: identity token exceeds 16384-byte limit (got 16385 bytes)"),
        "{}",
        stderr(&out)
    );
    let file = h.path().join("big.jwt");
    std::fs::write(&file, &big).unwrap();
    let out = run(&file_flags(&file), &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("identity token exceeds 16384-byte limit"));
    // An empty token file.
    std::fs::write(&file, "\n").unwrap();
    let out = run(&file_flags(&file), &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("failed to get identity token: oauth: identity token file"));
    assert!(server.recorded().is_empty(), "{:?}", server.recorded());

    // Plain http to a host that is not loopback: the token never leaves.
    let mut flags = fed_flags(&ci_jwt());
    flags.extend(["beta:agents".into(), "list".into()]);
    let out = ant(h.path())
        .args(["--base-url", "http://api.example.invalid"])
        .args(&flags)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "ant: error: failed to get credentials token: refusing to send credential over non-https token endpoint \"http://api.example.invalid\"\n"
    );
}

#[test]
fn an_identity_token_stream_that_never_ends_is_cut_at_the_limit() {
    use std::io::Write;
    let server = Server::json(json!({}));
    let h = home();
    let fifo = h.path().join("token.pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // A writer that keeps sending for 30 s unless the reader goes away.
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut w = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(30) {
            if w.write_all(&[b'x'; 16 * 1024]).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    });
    let mut child = crate::ant_std(h.path())
        .args(["--base-url", &server.url])
        .args(file_flags(&fifo))
        .args(["beta:agents", "list"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ant kept reading the identity token stream");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "failed to get credentials token: identity token exceeds 16384-byte limit (got more than 32768 bytes)"
        ),
        "{}",
        stderr(&out)
    );
    assert!(server.recorded().is_empty());
}

pub fn write_fed_profile(
    h: &std::path::Path,
    name: &str,
    base: &str,
    token_file: &std::path::Path,
) {
    let d = config_dir(h).join("configs");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join(format!("{name}.json")),
        json!({"version": "1.0", "base_url": base, "organization_id": ORG, "workspace_id": "wrkspc_prof",
               "authentication": {"type": "oidc_federation", "federation_rule_id": RULE,
                                  "identity_token": {"source": "file", "path": token_file}}})
        .to_string(),
    )
    .unwrap();
}

#[test]
fn a_federation_profile_caches_its_token_on_disk() {
    let server = fed_server(Some(3600), empty_list);
    let h = home();
    let token_file = h.path().join("id.jwt");
    std::fs::write(&token_file, ci_jwt()).unwrap();
    write_fed_profile(h.path(), "ci", &server.url, &token_file);
    std::fs::write(config_dir(h.path()).join("active_config"), "ci\n").unwrap();
    for _ in 0..2 {
        let out = ant(h.path())
            .args(["beta:agents", "list"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let x = exchanges(&server);
    assert_eq!(x.len(), 1, "the second run reuses the cached token");
    // The profile variant sends its workspace in the exchange body.
    assert_eq!(x[0].json()["workspace_id"], "wrkspc_prof");
    let api = api_calls(&server);
    assert_eq!(api.len(), 2);
    assert!(
        api.iter()
            .all(|r| r.header("authorization") == Some("Bearer fed-token-1"))
    );
    let cache = config_dir(h.path()).join("credentials/ci.json");
    let v = read_json(&cache);
    assert_eq!(v["type"], "oauth_token");
    assert_eq!(v["access_token"], "fed-token-1");
    assert!(v["expires_at"].as_i64().is_some());
    assert_eq!(mode(&cache), 0o600);

    // A token without expiry is never written to disk.
    let server = fed_server(None, empty_list);
    write_fed_profile(h.path(), "ci2", &server.url, &token_file);
    let out = ant(h.path())
        .args(["--profile", "ci2", "beta:agents", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!config_dir(h.path()).join("credentials/ci2.json").exists());
}

#[test]
fn several_sources_print_one_precedence_notice() {
    let server = fed_server(Some(3600), empty_list);
    let h = home();
    let token_file = h.path().join("id.jwt");
    std::fs::write(&token_file, ci_jwt()).unwrap();
    write_fed_profile(h.path(), "default", &server.url, &token_file);
    let fed_env = |cmd: &mut assert_cmd::Command| {
        cmd.env("ANTHROPIC_IDENTITY_TOKEN", ci_jwt())
            .env("ANTHROPIC_FEDERATION_RULE_ID", RULE)
            .env("ANTHROPIC_ORGANIZATION_ID", ORG);
    };
    // An API key beats federation and the active profile.
    let mut cmd = ant(h.path());
    fed_env(&mut cmd);
    let out = cmd
        .env("ANTHROPIC_API_KEY", "sk-ant-api03-k")
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "Note: multiple auth sources configured (--api-key / ANTHROPIC_API_KEY, federation env, active profile (active_config)); using --api-key / ANTHROPIC_API_KEY per precedence. Run `ant auth status` for details.\n"
    );
    assert_eq!(
        server.recorded().last().unwrap().header("x-api-key"),
        Some("sk-ant-api03-k")
    );
    // Federation beats the profile found through active_config...
    let mut cmd = ant(h.path());
    fed_env(&mut cmd);
    let out = cmd.args(["beta:agents", "list"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "(federation env, active profile (active_config)); using federation env per precedence"
        ),
        "{}",
        stderr(&out)
    );
    // ...but not one named with --profile.
    let mut cmd = ant(h.path());
    fed_env(&mut cmd);
    let out = cmd
        .args(["--profile", "default", "beta:agents", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("using profile from --profile / ANTHROPIC_PROFILE per precedence"),
        "{}",
        stderr(&out)
    );
    // One source: no notice.
    let out = ant(h.path())
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn debug_shows_the_exchange_with_the_assertion_and_tokens_redacted() {
    let server = fed_server(Some(3600), empty_list);
    let h = home();
    let jwt = ci_jwt();
    let out = ant(h.path())
        .args(["--base-url", &server.url, "--debug"])
        .args(fed_flags(&jwt))
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("[debug] > POST {}/v1/oauth/token", server.url)),
        "{err}"
    );
    assert!(err.contains("\"assertion\":\"[redacted]\""), "{err}");
    assert!(
        err.contains(&format!("\"federation_rule_id\":\"{RULE}\"")),
        "{err}"
    );
    assert!(err.contains("[debug] < 200 OK"), "{err}");
    assert!(err.contains("\"access_token\":\"[redacted]\""), "{err}");
    assert!(err.contains("authorization: Bearer [redacted]"), "{err}");
    assert!(!err.contains(&jwt) && !err.contains("fed-token-1"), "{err}");
}

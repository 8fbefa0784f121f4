//! `ant auth login` against ant-mock's OAuth server: the three modes, the
//! failures (each leaving no files), bootstrap versus re-login, activation,
//! and the refresh of a login's token on a normal command.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::signin::{
    Running, authorize_url, browser, code_on_page, config_dir, fetch, files_in, mode,
    oauth_profile, read_json, state_of,
};
use crate::{Reply, Server, ant, ant_std, home, stderr, stdout};

fn mock(config: ant_mock::Config) -> crate::CheckedMock {
    crate::checked_mock(config)
}

/// `ant auth login` at the emulator, with `args`.
fn login_cmd(home: &Path, m: &ant_mock::MockHandle, args: &[&str]) -> std::process::Command {
    let mut cmd = ant_std(home);
    cmd.args([
        "auth",
        "login",
        "--console-url",
        &m.base_url,
        "--base-url",
        &m.base_url,
    ])
    .args(args);
    cmd
}

/// `ant beta:agents list` with whatever credential the home holds.
fn list_agents(home: &Path) -> std::process::Output {
    ant(home).args(["beta:agents", "list"]).output().unwrap()
}

/// Logs in through `$BROWSER`; returns the exit code and stderr.
fn browser_login(home: &Path, m: &ant_mock::MockHandle, args: &[&str]) -> (i32, String) {
    let out = login_cmd(home, m, args)
        .env("BROWSER", browser(home))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), stderr(&out))
}

/// Starts a headless login and returns it with the `code#state` the
/// console's page shows for its authorize URL.
fn headless(home: &Path, m: &ant_mock::MockHandle, args: &[&str]) -> (Running, String) {
    let mut all = vec!["--no-browser"];
    all.extend_from_slice(args);
    let run = Running::spawn(login_cmd(home, m, &all));
    let err = run.wait_for("Code: ");
    let page = fetch(home, &authorize_url(&err));
    (run, code_on_page(&page))
}

#[test]
fn a_browser_login_bootstraps_the_profile_and_its_token_works() {
    let m = mock(ant_mock::Config::default());
    let h = home();
    let (code, err) = browser_login(h.path(), &m, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.starts_with("Creating profile \"default\".\n"), "{err}");
    assert!(
        err.contains("Opening your browser to authenticate..."),
        "{err}"
    );
    assert!(
        err.contains("✓ Logged in to ant-mock as developer@ant-mock.local (profile \"default\").\n  organization: ant-mock (00000000-0000-4000-8000-00000000a17e)\n  → set as active profile\n"),
        "{err}"
    );
    let dir = config_dir(h.path());
    let config = read_json(&dir.join("configs/default.json"));
    assert_eq!(
        config,
        json!({"version": "1.0",
               "authentication": {"type": "user_oauth", "client_id": "41077d10-94b8-4194-be48-d251e9eb21b4",
                                  "console_url": m.base_url},
               "base_url": m.base_url,
               "organization_id": "00000000-0000-4000-8000-00000000a17e",
               "workspace_id": "wrkspc_01antmockdefault0000000"})
    );
    let creds_path = dir.join("credentials/default.json");
    let creds = read_json(&creds_path);
    assert!(
        creds["access_token"]
            .as_str()
            .unwrap()
            .starts_with("sk-ant-oat01-antmock-")
    );
    assert!(
        creds["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("sk-ant-ort01-antmock-")
    );
    assert_eq!(creds["account_email"], "developer@ant-mock.local");
    assert_eq!(creds["workspace_name"], "Default");
    assert_eq!(mode(&creds_path), 0o600);
    assert_eq!(mode(&dir.join("credentials")), 0o700);
    assert_eq!(mode(&dir.join("configs/default.json")), 0o644);
    assert_eq!(
        std::fs::read_to_string(dir.join("active_config")).unwrap(),
        "default\n"
    );

    // The issued token is accepted; one the server never issued is not.
    let out = ant(h.path())
        .args([
            "beta:agents",
            "create",
            "--name",
            "a",
            "--model",
            "claude-opus-4-7",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut forged = creds.clone();
    forged["access_token"] = json!("sk-ant-oat01-antmock-forged");
    std::fs::write(&creds_path, forged.to_string()).unwrap();
    let out = list_agents(h.path());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn ssh_forward_mode_takes_the_callback_through_the_port() {
    let m = mock(ant_mock::Config::default());
    let h = home();
    let run = Running::spawn(login_cmd(
        h.path(),
        &m,
        &["--no-browser", "--callback-port", "0", "--profile", "ssh"],
    ));
    let err = run.wait_for("Waiting for callback on http://localhost:");
    assert!(
        err.contains(
            "Authorization URL (open on the machine where your SSH session originates):\n\n  "
        ),
        "{err}"
    );
    let url = authorize_url(&err);
    assert!(
        url.contains("redirect_uri=http%3A%2F%2Flocalhost%3A"),
        "{url}"
    );
    // "The laptop" opens the URL; the callback comes back to the port.
    let page = fetch(h.path(), &url);
    assert!(page.contains("✓ Authorized"), "{page}");
    let (code, err) = run.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(profile \"ssh\")"), "{err}");
    assert!(config_dir(h.path()).join("credentials/ssh.json").exists());
}

#[test]
fn headless_mode_takes_a_pasted_code_and_nothing_else() {
    let m = mock(ant_mock::Config::default());
    let h = home();
    let (mut run, pasted) = headless(h.path(), &m, &[]);
    let err = run.wait_for("Code: ");
    assert!(err.contains("Open this URL to authorize:\n\n  "), "{err}");
    assert!(
        err.contains("After authorizing, the page will display a code. Paste it here:\nCode: "),
        "{err}"
    );
    assert!(
        authorize_url(&err).contains("oauth%2Fcode%2Fcallback%3Fapp%3Danthropic-cli"),
        "{err}"
    );
    assert!(pasted.contains('#'), "{pasted}");
    run.paste(&pasted);
    let (code, err) = run.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("✓ Logged in to ant-mock"), "{err}");
    let out = list_agents(h.path());
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_wrong_state_is_refused_and_nothing_is_written() {
    let m = mock(ant_mock::Config::default());
    let h = home();
    let (mut run, pasted) = headless(h.path(), &m, &[]);
    let code_only = pasted.split('#').next().unwrap();
    run.paste(&format!("{code_only}#not-the-state"));
    let (code, err) = run.finish();
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("pasted state does not match — code may be from a different login attempt"),
        "{err}"
    );
    assert!(files_in(h.path()).is_empty(), "{:?}", files_in(h.path()));
}

#[test]
fn a_denied_authorization_fails_and_nothing_is_written() {
    let m = mock(ant_mock::Config {
        oauth_deny: true,
        ..Default::default()
    });
    let h = home();
    let (code, err) = browser_login(h.path(), &m, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("authorization denied: access_denied: The user denied the request (ant-mock --oauth-deny)"),
        "{err}"
    );
    assert!(files_in(h.path()).is_empty(), "{:?}", files_in(h.path()));
}

#[test]
fn a_login_that_times_out_writes_nothing() {
    let m = mock(ant_mock::Config::default());
    let h = home();
    let out = login_cmd(h.path(), &m, &["--timeout", "1"])
        .env("BROWSER", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("timed out waiting for authorization"),
        "{}",
        stderr(&out)
    );
    assert!(files_in(h.path()).is_empty(), "{:?}", files_in(h.path()));
}

#[test]
fn an_exchange_error_shows_the_token_endpoint_answer_and_writes_nothing() {
    let m = mock(ant_mock::Config::default());
    let h = home();
    let (mut run, pasted) = headless(h.path(), &m, &["--debug"]);
    let state = pasted.split('#').nth(1).unwrap();
    run.paste(&format!("antmock-code-forged#{state}"));
    let (code, err) = run.finish();
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(
            "exchange code for token: token endpoint returned 400 Bad Request (request_id=req_"
        ),
        "{err}"
    );
    assert!(err.contains("\"error\":\"invalid_grant\""), "{err}");
    assert!(
        err.contains(&format!(
            "[debug] token exchange POST {}/v1/oauth/token -> 400 Bad Request",
            m.base_url
        )),
        "{err}"
    );
    assert!(files_in(h.path()).is_empty(), "{:?}", files_in(h.path()));
}

#[test]
fn ctrl_c_during_the_code_exchange_ends_the_login_and_writes_nothing() {
    // A token endpoint that would issue a token, 5 s late.
    let slow = Server::start(|_, _| {
        let token = json!({"access_token": "sk-ant-oat01-late", "expires_in": 3600,
                           "workspace": {"id": "wrkspc_1", "name": "W"}});
        Reply::Chunks(
            200,
            "application/json",
            vec![(Duration::from_secs(5), token.to_string().into_bytes())],
        )
    });
    let h = home();
    let mut cmd = ant_std(h.path());
    cmd.args(["auth", "login", "--no-browser"]).args([
        "--console-url",
        &slow.url,
        "--base-url",
        &slow.url,
    ]);
    let mut run = Running::spawn(cmd);
    let url = authorize_url(&run.wait_for("Code: "));
    let state = state_of(&url);
    run.paste(&format!("some-code#{state}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while slow.recorded().is_empty() {
        assert!(Instant::now() < deadline, "no token exchange");
        std::thread::sleep(Duration::from_millis(20));
    }
    run.interrupt();
    let (code, err) = run.finish();
    assert_eq!(code, 130, "{err}");
    assert!(files_in(h.path()).is_empty(), "{:?}", files_in(h.path()));
}

#[test]
fn a_public_console_code_is_never_sent_to_another_api_host() {
    let h = home();
    let out = ant(h.path())
        .env("ANTHROPIC_BASE_URL", "https://gateway.example.test")
        .args(["auth", "login", "--no-browser"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "ant: error: refusing to send OAuth credentials to https://gateway.example.test while \
         signing in at https://platform.claude.com: its codes are exchanged at \
         https://api.anthropic.com only (pass --console-url for another sign-in server, or \
         --base-url https://api.anthropic.com when ANTHROPIC_BASE_URL or the profile's base_url \
         points elsewhere)\n"
    );
    assert!(files_in(h.path()).is_empty(), "{:?}", files_in(h.path()));
}

/// Logs in headless at a `server` that is both console and token endpoint,
/// pasting a made-up code with the right state.
fn paste_login(home: &Path, server: &Server, args: &[&str]) -> (i32, String) {
    let mut cmd = ant_std(home);
    cmd.args(["auth", "login", "--no-browser"])
        .args(["--console-url", &server.url, "--base-url", &server.url])
        .args(args);
    let mut run = Running::spawn(cmd);
    let url = authorize_url(&run.wait_for("Code: "));
    run.paste(&format!("some-code#{}", state_of(&url)));
    run.finish()
}

#[test]
fn a_token_without_a_workspace_is_refused_and_another_org_is_flagged() {
    let server = Server::start(|_, i| {
        let mut t = json!({"access_token": "sk-ant-oat01-t", "expires_in": 3600,
                           "organization": {"uuid": "org-b", "name": "Other"}});
        if i > 0 {
            t["workspace"] = json!({"id": "wrkspc_b", "name": "B"});
        }
        Reply::ok(t)
    });
    let h = home();
    let (code, err) = paste_login(h.path(), &server, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("no workspace bound to the issued token. Pass --workspace-id, set workspace_id on the profile, or pick a workspace in the Console consent page."),
        "{err}"
    );
    assert!(files_in(h.path()).is_empty(), "{:?}", files_in(h.path()));
    // The org asked for is not the one authorized: a warning, and the
    // login goes on with the token's.
    let (code, err) = paste_login(h.path(), &server, &["--organization-id", "org-a"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("⚠  Authorized into organization org-b (Other), but profile \"default\" has organization_id=org-a."),
        "{err}"
    );
    let config = read_json(&config_dir(h.path()).join("configs/default.json"));
    assert_eq!(config["organization_id"], "org-b");
    assert_eq!(config["workspace_id"], "wrkspc_b");
}

#[test]
fn a_relogin_keeps_the_config_and_only_the_named_profile_is_activated() {
    let m = mock(ant_mock::Config::default());
    let h = home();
    let dir = config_dir(h.path());
    assert_eq!(browser_login(h.path(), &m, &[]).0, 0);
    // The user edits the profile; a re-login must not touch it.
    let config_path = dir.join("configs/default.json");
    let mut config = read_json(&config_path);
    config["workspace_id"] = json!("wrkspc_mine");
    config["custom"] = json!("kept");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let before = std::fs::read(&config_path).unwrap();
    let old_token = read_json(&dir.join("credentials/default.json"))["access_token"].clone();

    let (code, err) = browser_login(h.path(), &m, &["--workspace-id", "wrkspc_other"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("Creating profile"), "{err}");
    assert!(
        err.contains(
            "Using organization 00000000-0000-4000-8000-00000000a17e from profile \"default\".\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("⚠ Token bound to workspace \"Default\" (wrkspc_other), but profile \"default\" targets wrkspc_mine."),
        "{err}"
    );
    assert!(
        !err.contains("set as active profile"),
        "already active: {err}"
    );
    assert_eq!(
        std::fs::read(&config_path).unwrap(),
        before,
        "config untouched"
    );
    let creds = read_json(&dir.join("credentials/default.json"));
    assert_ne!(creds["access_token"], old_token);
    assert_eq!(creds["workspace_id"], "wrkspc_other");

    // A profile found through active_config is not re-activated; one named
    // with --profile is, saying what was active before.
    let (code, err) = browser_login(h.path(), &m, &["--profile", "work"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("  → set as active profile (was \"default\")\n"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("active_config")).unwrap(),
        "work\n"
    );
    let (code, err) = browser_login(h.path(), &m, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(profile \"work\")"), "{err}");
    assert!(!err.contains("set as active"), "{err}");
}

#[test]
fn an_expiring_token_is_refreshed_on_a_normal_command_keeping_every_field() {
    // Tokens that live 20 s are always within the 30 s refresh window.
    let m = mock(ant_mock::Config {
        token_ttl: 20,
        ..Default::default()
    });
    let h = home();
    assert_eq!(browser_login(h.path(), &m, &[]).0, 0);
    let path = config_dir(h.path()).join("credentials/default.json");
    let mut before = read_json(&path);
    before["note"] = json!("a field ant does not know");
    std::fs::write(&path, before.to_string()).unwrap();

    let out = list_agents(h.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let after = read_json(&path);
    assert_ne!(after["access_token"], before["access_token"]);
    assert_ne!(after["refresh_token"], before["refresh_token"], "rotated");
    for key in [
        "scope",
        "organization_uuid",
        "organization_name",
        "account_email",
        "workspace_id",
        "workspace_name",
        "note",
    ] {
        assert_eq!(after[key], before[key], "{key}: {after}");
    }
    assert_eq!(mode(&path), 0o600);

    // The spent refresh token no longer works: the emulator rotated it.
    let mut stale = after.clone();
    stale["refresh_token"] = before["refresh_token"].clone();
    stale["expires_at"] = json!(0);
    std::fs::write(&path, stale.to_string()).unwrap();
    let out = list_agents(h.path());
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("expired at 1970-01-01T00:00:00Z and refresh failed: token endpoint returned 400 Bad Request"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_expired_token_without_a_refresh_token_gets_401() {
    let m = mock(ant_mock::Config {
        token_ttl: 1,
        ..Default::default()
    });
    let h = home();
    assert_eq!(browser_login(h.path(), &m, &[]).0, 0);
    let path = config_dir(h.path()).join("credentials/default.json");
    let mut creds = read_json(&path);
    creds.as_object_mut().unwrap().remove("refresh_token");
    std::fs::write(&path, creds.to_string()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let out = list_agents(h.path());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("OAuth token has expired"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn credentials_readable_by_others_are_refused_before_any_request() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::json(json!({"data": [], "has_more": false}));
    let h = home();
    let creds = oauth_profile(
        h.path(),
        &server.url,
        json!({"access_token": "tok", "expires_at": 1}),
    );
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = list_agents(h.path());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "credentials file {:?} has unsafe permissions 0644; refusing to read (must not be accessible by group or other; chmod 600 {})",
            creds.display().to_string(),
            creds.display()
        )),
        "{}",
        stderr(&out)
    );
    assert!(server.recorded().is_empty());
}

//! The Admin API commands (`organization:*`, `beta:organization:*`): an admin
//! key from `--admin-key` / `ANTHROPIC_ADMIN_KEY` goes in `x-api-key` and wins
//! over the other credentials there only; no workspace header is sent; and a
//! parameter named like a global flag (`--workspace-id`) is the command's own.

use serde_json::json;

use crate::{Recorded, Server, ant_at_std, home};

fn send(env: &[(&str, &str)], args: &[&str]) -> Recorded {
    let server =
        Server::json(json!({"data": [], "has_more": false, "first_id": null, "last_id": null}));
    let h = home();
    let mut cmd = ant_at_std(&server, h.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ant {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.only()
}

#[test]
fn admin_commands_send_the_admin_key_and_no_workspace_header() {
    let env = [
        ("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-test"),
        ("ANTHROPIC_WORKSPACE_ID", "wrkspc_env"),
    ];
    let r = send(&env, &["organization:workspaces", "list"]);
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("GET", "/v1/organizations/workspaces")
    );
    assert_eq!(r.header("x-api-key"), Some("sk-ant-admin01-test"));
    assert_eq!(r.header("anthropic-workspace-id"), None);
    // The flag wins over the environment, and the rest keep the API key.
    let r = send(
        &env,
        &[
            "--admin-key",
            "sk-ant-admin01-flag",
            "beta:organization:api-keys",
            "list",
        ],
    );
    assert_eq!(r.header("x-api-key"), Some("sk-ant-admin01-flag"));
    assert_eq!(r.query_param("beta").as_deref(), Some("true"));
    let r = send(&env, &["beta:agents", "list"]);
    assert_eq!(r.header("x-api-key"), Some("sk-test-key"));
    assert_eq!(r.header("anthropic-workspace-id"), Some("wrkspc_env"));
}

#[test]
fn without_an_admin_key_admin_commands_use_the_usual_credential() {
    let r = send(&[], &["organization:users", "list", "--limit", "5"]);
    assert_eq!(r.header("x-api-key"), Some("sk-test-key"));
    assert_eq!(r.query_param("limit").as_deref(), Some("5"));
}

#[test]
fn workspace_id_is_the_admin_commands_own_parameter() {
    let env = [("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-test")];
    let r = send(
        &env,
        &[
            "organization:api-keys",
            "list",
            "--workspace-id",
            "wrkspc_1",
        ],
    );
    assert_eq!(r.query_param("workspace_id").as_deref(), Some("wrkspc_1"));
    assert_eq!(r.header("anthropic-workspace-id"), None);
    let r = send(
        &env,
        &[
            "organization:workspaces:members",
            "retrieve",
            "--workspace-id",
            "wrkspc_1",
            "user_1",
        ],
    );
    assert_eq!(
        r.path,
        "/v1/organizations/workspaces/wrkspc_1/members/user_1"
    );
    // Before the group it is still the global flag, which admin commands do not send.
    let r = send(
        &env,
        &[
            "--workspace-id",
            "wrkspc_2",
            "organization:workspaces",
            "list",
        ],
    );
    assert_eq!(r.header("anthropic-workspace-id"), None);
}

#[test]
fn admin_help_says_how_they_authenticate() {
    let h = home();
    let out = crate::ant(h.path())
        .args(["organization:workspaces", "list", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Admin API: authenticate with an admin API key (sk-ant-admin"),
        "{text}"
    );
    assert!(
        text.contains("x-api-key") && text.contains("ANTHROPIC_ADMIN_KEY"),
        "{text}"
    );
    let out = crate::ant(h.path())
        .args(["beta:agents", "list", "--help"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Admin API:"));
}

#[test]
fn an_api_key_on_an_admin_command_is_refused_with_a_hint_at_the_admin_key() {
    let mock = crate::checked_mock(ant_mock::Config::default());
    let h = home();
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = mock.ant(h.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.args(args).output().unwrap()
    };
    let api_key = [("ANTHROPIC_API_KEY", "sk-ant-api03-ordinary")];
    let out = run(&api_key, &["organization:workspaces", "list"]);
    assert_eq!(out.status.code(), Some(3));
    let err = crate::stderr(&out);
    assert!(
        err.contains(
            ": 401 Unauthorized (authentication_error): invalid x-api-key: the Admin API \
             (/v1/organizations/...) takes an admin API key (sk-ant-admin...), not an API key \
             (Admin API commands take an admin API key (sk-ant-admin...): pass --admin-key or \
             set ANTHROPIC_ADMIN_KEY) [request-id: "
        ),
        "{err}"
    );
    // With an admin key, the same command works, and the API key still
    // works for the rest.
    let both = [
        ("ANTHROPIC_API_KEY", "sk-ant-api03-ordinary"),
        ("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-admin"),
    ];
    for args in [
        &["organization:workspaces", "list"][..],
        &["models", "list"],
    ] {
        let out = run(&both, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            crate::stderr(&out)
        );
    }
    // A refused admin key gets no hint: it was the admin key.
    let server =
        Server::start(|_, _| crate::Reply::error(401, "authentication_error", "invalid x-api-key"));
    let out = ant_at_std(&server, h.path())
        .env("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-revoked")
        .args(["organization:workspaces", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        crate::stderr(&out)
            .ends_with(": 401 Unauthorized (authentication_error): invalid x-api-key [request-id: req_test_1]\n"),
        "{}",
        crate::stderr(&out)
    );
}

#[test]
fn auth_status_shows_the_admin_key_masked_and_debug_redacts_it() {
    let h = home();
    let key = "sk-ant-admin01-0123456789abcdefSECRETwxyz";
    let status = |cmd: &mut std::process::Command| {
        let out = cmd.args(["auth", "status"]).output().unwrap();
        assert!(out.status.success(), "{}", crate::stderr(&out));
        crate::stdout(&out)
    };
    let out = status(
        crate::ant_std(h.path())
            .env("ANTHROPIC_API_KEY", "sk-ant-api03-0123456789abcdefXYZ")
            .env("ANTHROPIC_ADMIN_KEY", key),
    );
    assert!(
        out.contains(
            "\nAdmin API (organization:*, beta:organization:* in place of the above)\n  \
             (active) * ANTHROPIC_ADMIN_KEY env (x-api-key)            sk-ant-admin01-…wxyz\n"
        ),
        "{out}"
    );
    assert!(!out.contains("SECRET"), "{out}");
    // An admin key alone authenticates the Admin API commands: a success.
    let out = status(crate::ant_std(h.path()).args(["--admin-key", key]));
    assert!(out.contains("--admin-key flag (x-api-key)"), "{out}");
    // Without one, no such section.
    let out = status(crate::ant_std(h.path()).env("ANTHROPIC_API_KEY", "sk-ant-api03-k"));
    assert!(!out.contains("Admin API"), "{out}");
    // --debug masks it as every credential.
    let server = Server::json(json!({"data": [], "has_more": false}));
    let out = ant_at_std(&server, h.path())
        .env("ANTHROPIC_ADMIN_KEY", key)
        .args(["--debug", "organization:workspaces", "list"])
        .output()
        .unwrap();
    let err = crate::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("x-api-key: [redacted]") && !err.contains("SECRET"),
        "{err}"
    );
}

#[test]
fn an_admin_key_that_cannot_be_a_header_is_bad_input_naming_its_flag() {
    let server = Server::json(json!({"data": [], "has_more": false}));
    let h = home();
    for (env, flag) in [(Some("sk-ant-admin01-x\ny"), None), (None, Some("k\u{1}"))] {
        let mut cmd = ant_at_std(&server, h.path());
        if let Some(v) = env {
            cmd.env("ANTHROPIC_ADMIN_KEY", v);
        }
        if let Some(v) = flag {
            cmd.args(["--admin-key", v]);
        }
        let out = cmd
            .args(["organization:workspaces", "list"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = crate::stderr(&out);
        assert!(
            err.starts_with("ant: error: --admin-key (or ANTHROPIC_ADMIN_KEY): character "),
            "{err}"
        );
    }
    assert!(server.recorded().is_empty(), "nothing is sent");
}

#[test]
fn an_admin_command_without_any_credential_says_how_to_give_an_admin_key() {
    let h = home();
    let out = crate::ant_std(h.path())
        .env("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
        .args(["organization:workspaces", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        crate::stderr(&out),
        "ant: error: no credentials: Admin API commands take an admin API key (sk-ant-admin...): \
         pass --admin-key or set ANTHROPIC_ADMIN_KEY\n"
    );
}

//! `ant auth` and `ant profile`: the config directory layout (files, modes,
//! active_config), status output, logout, print-credentials and the token
//! refresh against a loopback server.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{Value, json};

use crate::{Reply, Server, ant, home, stderr, stdout};

fn dir(home: &Path) -> std::path::PathBuf {
    home.join("anthropic")
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn read(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn write_config(home: &Path, name: &str, v: Value) {
    let d = dir(home).join("configs");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(format!("{name}.json")), v.to_string()).unwrap();
}

fn write_creds(home: &Path, name: &str, v: Value) {
    let d = dir(home).join("credentials");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(format!("{name}.json"));
    std::fs::write(&p, v.to_string()).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn oauth_config(extra: Value) -> Value {
    let mut c = json!({"version": "1.0",
                       "authentication": {"type": "user_oauth", "client_id": "client-1"}});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const TOKEN: &str = "sk-ant-oat01-ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const REFRESH: &str = "sk-ant-ort01-abcdefghijklmnopqrstuvwxyz";

fn creds(expires_at: i64) -> Value {
    json!({"version": "1.0", "type": "oauth_token", "access_token": TOKEN,
           "refresh_token": REFRESH, "expires_at": expires_at, "scope": "user:inference",
           "organization_uuid": "org-uuid-1", "organization_name": "Acme",
           "account_email": "dev@acme.test", "workspace_id": "wrkspc_tok", "workspace_name": "Main"})
}

/// Runs `ant args` and asserts the exit code; returns (stdout, stderr).
fn run(home: &Path, args: &[&str], code: i32) -> (String, String) {
    let out = ant(home).args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "ant {args:?}\nstdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    (stdout(&out), stderr(&out))
}

#[test]
fn set_creates_the_config_and_get_reads_it_back() {
    let h = home();
    let (_, err) = run(h.path(), &["profile", "set", "workspace_id", "wrkspc_1"], 0);
    assert!(err.contains("Created profile \"default\""), "{err}");
    let path = dir(h.path()).join("configs/default.json");
    assert_eq!(
        read(&path),
        json!({"version": "1.0", "workspace_id": "wrkspc_1"})
    );
    assert_eq!(mode(&path), 0o644);
    assert_eq!(mode(&dir(h.path()).join("configs")), 0o755);
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir(h.path()).join("configs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    let (out, _) = run(h.path(), &["profile", "get", "workspace_id"], 0);
    assert_eq!(out, "wrkspc_1\n");
    let (out, _) = run(h.path(), &["profile", "get"], 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["workspace_id"], "wrkspc_1");
    let (_, err) = run(h.path(), &["profile", "get", "base_url"], 2);
    assert!(err.contains("\"base_url\" is not set"), "{err}");
}

/// `null` (or an empty value) removes a key rather than storing the
/// string, so no request ever sends `anthropic-workspace-id: null`;
/// `profile unset` does the same.
#[test]
fn set_null_and_unset_remove_the_key() {
    let server = Server::json(json!({"data": [], "has_more": false}));
    let h = home();
    let path = dir(h.path()).join("configs/default.json");
    run(h.path(), &["profile", "set", "workspace_id", "wrkspc_1"], 0);
    let (_, err) = run(h.path(), &["profile", "set", "workspace_id", "null"], 0);
    assert!(err.contains("Removed workspace_id"), "{err}");
    assert_eq!(read(&path), json!({"version": "1.0"}));
    run(h.path(), &["profile", "set", "workspace_id", "wrkspc_2"], 0);
    run(h.path(), &["profile", "set", "base_url", &server.url], 0);
    let (_, err) = run(h.path(), &["profile", "unset", "workspace_id"], 0);
    assert!(
        err.contains("Removed workspace_id from profile \"default\""),
        "{err}"
    );
    assert_eq!(
        read(&path),
        json!({"version": "1.0", "base_url": server.url})
    );
    let (_, err) = run(h.path(), &["profile", "unset", "workspace_id"], 0);
    assert!(err.contains("workspace_id is not set"), "{err}");
    let (_, err) = run(h.path(), &["profile", "unset", "nope"], 2);
    assert!(err.contains("unknown profile key \"nope\""), "{err}");
    let out = ant(h.path())
        .args(["beta:agents", "list", "--api-key", "k"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.only().header("anthropic-workspace-id"), None);
}

#[test]
fn get_reads_keys_under_authentication() {
    let h = home();
    write_config(h.path(), "default", oauth_config(json!({})));
    let (out, _) = run(h.path(), &["profile", "get", "client_id"], 0);
    assert_eq!(out, "client-1\n");
    let (out, _) = run(h.path(), &["profile", "get", "authentication.type"], 0);
    assert_eq!(out, "user_oauth\n");
    let (_, err) = run(h.path(), &["--profile", "other", "profile", "get"], 2);
    assert!(err.contains("profile \"other\" not found"), "{err}");
}

#[test]
fn list_marks_the_profile_in_effect_and_activate_switches_it() {
    let h = home();
    write_config(h.path(), "default", json!({"version": "1.0"}));
    write_config(h.path(), "work", json!({"version": "1.0"}));
    let (out, _) = run(h.path(), &["profile", "list"], 0);
    assert_eq!(out, "* default\n  work\n");

    run(h.path(), &["profile", "activate", "work"], 0);
    assert_eq!(
        std::fs::read_to_string(dir(h.path()).join("active_config"))
            .unwrap()
            .trim(),
        "work"
    );
    let (out, _) = run(h.path(), &["profile", "list"], 0);
    assert_eq!(out, "  default\n* work\n");
    // ANTHROPIC_PROFILE names the profile in effect.
    let out = ant(h.path())
        .env("ANTHROPIC_PROFILE", "default")
        .args(["profile", "list"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "* default\n  work\n");

    // A profile must exist to be activated; names are checked.
    let (_, err) = run(h.path(), &["profile", "activate", "nope"], 2);
    assert!(err.contains("profile \"nope\" not found"), "{err}");
    let (_, err) = run(h.path(), &["profile", "activate", "../evil"], 2);
    assert!(err.contains("invalid profile name \"../evil\""), "{err}");
    let (_, err) = run(h.path(), &["profile", "activate"], 2);
    assert!(err.contains("missing profile name"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn set_acts_on_the_named_profile_and_checks_keys_and_values() {
    let h = home();
    let (_, err) = run(
        h.path(),
        &[
            "--profile",
            "bad name",
            "profile",
            "set",
            "workspace_id",
            "w",
        ],
        2,
    );
    assert!(err.contains("invalid profile name \"bad name\""), "{err}");
    let (_, err) = run(h.path(), &["profile", "set", "color", "blue"], 2);
    assert!(err.contains("unknown profile key \"color\""), "{err}");
    assert!(
        err.contains("workspace_id, base_url, organization_id"),
        "{err}"
    );
    let (_, err) = run(h.path(), &["profile", "set", "base_url", "ftp://x"], 2);
    assert!(err.contains("invalid base URL"), "{err}");
    let (_, err) = run(h.path(), &["profile", "set", "workspace_id"], 2);
    assert!(err.contains("missing value"), "{err}");
    assert!(!dir(h.path()).join("configs").exists(), "nothing written");

    // Not a user_oauth profile: client_id, scope and console_url are refused.
    write_config(h.path(), "plain", json!({"version": "1.0"}));
    for key in ["client_id", "scope", "console_url"] {
        let (_, err) = run(
            h.path(),
            &[
                "--profile",
                "plain",
                "profile",
                "set",
                key,
                "https://x.test",
            ],
            2,
        );
        assert!(
            err.contains(&format!("{key} can only be set on a user_oauth profile")),
            "{err}"
        );
    }
    let out = ant(h.path())
        .env("ANTHROPIC_PROFILE", "plain")
        .args(["profile", "set", "base_url", "http://127.0.0.1:4010/"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        read(&dir(h.path()).join("configs/plain.json"))["base_url"],
        "http://127.0.0.1:4010"
    );
}

#[test]
fn oauth_keys_go_under_authentication_and_an_org_change_clears_the_workspace() {
    let h = home();
    write_config(
        h.path(),
        "default",
        oauth_config(json!({"organization_id": "org-a", "workspace_id": "wrkspc_a"})),
    );
    run(h.path(), &["profile", "set", "client_id", "client-2"], 0);
    run(h.path(), &["profile", "set", "scope", "user:inference"], 0);
    let path = dir(h.path()).join("configs/default.json");
    let c = read(&path);
    assert_eq!(c["authentication"]["client_id"], "client-2");
    assert_eq!(c["authentication"]["scope"], "user:inference");
    assert_eq!(c["workspace_id"], "wrkspc_a");

    // The same organization keeps the workspace; another clears it.
    run(h.path(), &["profile", "set", "organization_id", "org-a"], 0);
    assert_eq!(read(&path)["workspace_id"], "wrkspc_a");
    let (_, err) = run(h.path(), &["profile", "set", "organization_id", "org-b"], 0);
    assert!(err.contains("Cleared workspace_id (wrkspc_a)"), "{err}");
    let c = read(&path);
    assert_eq!(c["organization_id"], "org-b");
    assert!(c.get("workspace_id").is_none(), "{c}");
    assert_eq!(c["authentication"]["type"], "user_oauth");
}

#[test]
fn status_names_the_profile_paths_sources_and_cuts_secrets() {
    let h = home();
    write_config(
        h.path(),
        "default",
        oauth_config(json!({"base_url": "https://api.example.test"})),
    );
    write_creds(h.path(), "default", creds(now() + 3600));
    let (out, err) = run(h.path(), &["auth", "status"], 0);
    assert!(err.is_empty(), "{err}");
    assert!(
        out.contains("Active profile:  default (default: no active_config)"),
        "{out}"
    );
    let d = dir(h.path());
    assert!(
        out.contains(&d.join("configs/default.json").display().to_string()),
        "{out}"
    );
    assert!(
        out.contains(&d.join("credentials/default.json").display().to_string()),
        "{out}"
    );
    for section in [
        "\nCredentials\n",
        "\nBase URL\n",
        "\nOrganization\n",
        "\nWorkspace\n",
    ] {
        assert!(out.contains(section), "{section:?} missing:\n{out}");
    }
    assert!(out.contains("Logged in to Acme as dev@acme.test"), "{out}");
    let active = |needle: &str| {
        out.lines()
            .any(|l| l.starts_with("  (active) * ") && l.contains(needle))
    };
    assert!(active("sk-ant-oat01-…WXYZ"), "{out}");
    assert!(active("Profile (user_oauth) [via active_config]"), "{out}");
    assert!(
        !out.contains("Federation"),
        "no federation inputs, no section:\n{out}"
    );
    assert!(active("https://api.example.test"), "{out}");
    assert!(active("wrkspc_tok"), "{out}");
    assert!(
        !out.contains(TOKEN) && !out.contains(REFRESH),
        "secret leaked:\n{out}"
    );

    // An API key in the environment wins and shadows the profile: warned on stderr.
    let out = ant(h.path())
        .env("ANTHROPIC_API_KEY", "sk-ant-api03-0123456789abcdefXYZ")
        .env("ANTHROPIC_PROFILE", "default")
        .args(["--auth-token", "bearer-token-0123456789", "auth", "status"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(
        o.contains("Active profile:  default (from ANTHROPIC_PROFILE)"),
        "{o}"
    );
    let line = |needle: &str| {
        o.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("ANTHROPIC_API_KEY").starts_with("  (active) * "),
        "{o}"
    );
    // Only the kind and the last four characters of a secret show.
    assert!(
        line("ANTHROPIC_API_KEY env").ends_with(" sk-ant-api03-…fXYZ"),
        "{o}"
    );
    assert!(line("--auth-token flag").ends_with(" …6789"), "{o}");
    assert!(!line("--auth-token flag").contains("(active)"), "{o}");
    assert!(!line("Profile (user_oauth)").contains("(active)"), "{o}");
    assert!(
        line("Profile (user_oauth)").contains("[via --profile/ANTHROPIC_PROFILE]"),
        "{o}"
    );
    assert!(
        !o.contains("0123456789ab") && !o.contains("bearer-token"),
        "{o}"
    );
    assert!(e.is_empty(), "{e}");
    assert!(
        o.contains(
            "⚠  ANTHROPIC_API_KEY is set in your environment and overrides the logged-in profile.\n   Unset it to use the profile:  unset ANTHROPIC_API_KEY"
        ),
        "{o}"
    );

    // The flag source of --profile, and a profile with nothing configured.
    let (o, _) = run(h.path(), &["--profile", "empty", "auth", "status"], 3);
    assert!(
        o.contains("Active profile:  empty (from the --profile flag)"),
        "{o}"
    );
    assert!(
        o.contains("(profile \"empty\" not configured — run `ant auth login` to set it up)"),
        "{o}"
    );
}

#[test]
fn credentials_are_written_0600_in_a_0700_directory() {
    let server = Server::start(|_, _| {
        Reply::ok(json!({"access_token": "sk-ant-oat01-NEW", "expires_in": 3600}))
    });
    let h = home();
    write_config(h.path(), "default", oauth_config(json!({})));
    write_creds(h.path(), "default", creds(now() - 10));
    let creds_dir = dir(h.path()).join("credentials");
    std::fs::set_permissions(&creds_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = ant(h.path())
        .env("ANTHROPIC_BASE_URL", &server.url)
        .args(["auth", "print-credentials", "--access-token"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&creds_dir.join("default.json")), 0o600);
    assert_eq!(mode(&creds_dir), 0o700);
}

#[test]
fn logout_removes_only_the_credentials_and_all_removes_everything_ant_owns() {
    let h = home();
    write_config(h.path(), "default", oauth_config(json!({})));
    write_creds(h.path(), "default", creds(now() + 3600));
    let (_, err) = run(h.path(), &["auth", "logout"], 0);
    assert!(err.contains("Logged out of profile \"default\""), "{err}");
    let d = dir(h.path());
    assert!(!d.join("credentials/default.json").exists());
    assert!(d.join("configs/default.json").exists());
    let (_, err) = run(h.path(), &["auth", "logout"], 0);
    assert!(err.contains("Not logged in (profile \"default\")"), "{err}");

    write_creds(h.path(), "default", creds(now() + 3600));
    std::fs::write(d.join("active_config"), "default").unwrap();
    std::fs::write(d.join("keep.txt"), "mine").unwrap();
    let (_, err) = run(h.path(), &["auth", "logout", "--all"], 0);
    assert!(
        err.contains("Removed all profiles and credentials"),
        "{err}"
    );
    assert!(err.contains("active_config"), "{err}");
    assert!(!d.join("configs").exists());
    assert!(!d.join("credentials").exists());
    assert!(!d.join("active_config").exists());
    assert!(d.join("keep.txt").exists(), "the directory itself stays");
}

#[test]
fn print_credentials_prints_json_the_token_or_env_lines() {
    let h = home();
    write_config(
        h.path(),
        "default",
        oauth_config(json!({"base_url": "https://api.example.test"})),
    );
    let stored = creds(now() + 3600);
    write_creds(h.path(), "default", stored.clone());
    let (out, _) = run(h.path(), &["auth", "print-credentials"], 0);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), stored);
    let (out, _) = run(
        h.path(),
        &["auth", "print-credentials", "--access-token"],
        0,
    );
    assert_eq!(out, format!("{TOKEN}\n"));
    let (out, _) = run(h.path(), &["auth", "print-credentials", "--env"], 0);
    assert_eq!(
        out,
        format!("ANTHROPIC_AUTH_TOKEN={TOKEN}\nANTHROPIC_BASE_URL=https://api.example.test\n")
    );
    let (_, err) = run(
        h.path(),
        &["auth", "print-credentials", "--env", "--access-token"],
        2,
    );
    assert!(
        err.contains("--access-token") || err.contains("--env"),
        "{err}"
    );

    // Without a base_url in the profile, only the token line.
    write_config(h.path(), "default", oauth_config(json!({})));
    let (out, _) = run(h.path(), &["auth", "print-credentials", "--env"], 0);
    assert_eq!(out, format!("ANTHROPIC_AUTH_TOKEN={TOKEN}\n"));

    // Not logged in: exit 3, naming the profile.
    let (_, err) = run(
        h.path(),
        &["--profile", "ghost", "auth", "print-credentials"],
        3,
    );
    assert!(err.contains("not logged in (profile \"ghost\")"), "{err}");
}

#[test]
fn an_expiring_token_is_refreshed_and_the_file_rewritten() {
    let server = Server::start(|_, _| {
        Reply::ok(
            json!({"access_token": "sk-ant-oat01-FRESH", "refresh_token": "sk-ant-ort01-NEXT",
                         "expires_in": 3600, "token_type": "Bearer"}),
        )
    });
    let h = home();
    write_config(
        h.path(),
        "default",
        oauth_config(json!({"base_url": server.url.clone()})),
    );
    write_creds(h.path(), "default", creds(now() + 60));
    let (out, err) = run(
        h.path(),
        &["auth", "print-credentials", "--access-token"],
        0,
    );
    assert_eq!(out, "sk-ant-oat01-FRESH\n");
    assert!(err.is_empty(), "{err}");

    let r = server.only();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/oauth/token");
    assert_eq!(r.header("anthropic-beta"), Some("oauth-2025-04-20"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({"grant_type": "refresh_token", "refresh_token": REFRESH, "client_id": "client-1"})
    );

    let path = dir(h.path()).join("credentials/default.json");
    let c = read(&path);
    assert_eq!(c["access_token"], "sk-ant-oat01-FRESH");
    assert_eq!(c["refresh_token"], "sk-ant-ort01-NEXT");
    let exp = c["expires_at"].as_i64().unwrap();
    assert!((now() + 3590..=now() + 3610).contains(&exp), "{exp}");
    assert_eq!(c["account_email"], "dev@acme.test", "other fields kept");
    assert_eq!(mode(&path), 0o600);

    // Fresh now: no second refresh.
    run(
        h.path(),
        &["auth", "print-credentials", "--access-token"],
        0,
    );
    assert_eq!(server.recorded().len(), 1);
}

#[test]
fn a_failed_refresh_warns_and_prints_the_old_token() {
    let server = Server::start(|_, _| Reply::error(400, "invalid_grant", "refresh token revoked"));
    let h = home();
    write_config(h.path(), "default", oauth_config(json!({})));
    let stored = creds(now() - 5);
    write_creds(h.path(), "default", stored.clone());
    let out = ant(h.path())
        .args([
            "--base-url",
            &server.url,
            "auth",
            "print-credentials",
            "--access-token",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{TOKEN}\n"));
    let err = stderr(&out);
    assert!(
        err.contains("warning:") && err.contains("refresh failed"),
        "{err}"
    );
    assert!(err.contains("400"), "{err}");
    assert_eq!(server.recorded().len(), 1);
    assert_eq!(
        read(&dir(h.path()).join("credentials/default.json")),
        stored
    );

    // No refresh token: a warning, no request.
    let mut no_refresh = creds(now() - 5);
    no_refresh.as_object_mut().unwrap().remove("refresh_token");
    write_creds(h.path(), "default", no_refresh);
    let out = ant(h.path())
        .args([
            "--base-url",
            &server.url,
            "auth",
            "print-credentials",
            "--access-token",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("no refresh_token is stored"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.recorded().len(), 1);
}

#[test]
fn a_profile_base_url_sends_commands_to_that_server_with_the_stored_token() {
    let server = Server::json(json!({"data": [], "has_more": false}));
    let h = home();
    write_creds(h.path(), "default", creds(now() + 3600));
    run(h.path(), &["profile", "set", "base_url", &server.url], 0);
    run(
        h.path(),
        &["profile", "set", "workspace_id", "wrkspc_prof"],
        0,
    );
    let out = ant(h.path())
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let r = server.only();
    assert_eq!(r.path, "/v1/agents");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(r.header("x-api-key"), None);
    // The OAuth beta is appended to the command's own; the profile's
    // workspace goes in its header.
    assert_eq!(
        r.header("anthropic-beta"),
        Some("managed-agents-2026-04-01,oauth-2025-04-20")
    );
    assert_eq!(r.header("anthropic-workspace-id"), Some("wrkspc_prof"));
}

#[test]
fn a_custom_credentials_path_is_refreshed_in_place_and_logged_out() {
    let server = Server::start(|_, _| {
        Reply::ok(json!({"access_token": "sk-ant-oat01-FRESH", "expires_in": 3600}))
    });
    let h = home();
    let shared = h.path().join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let custom = shared.join("work-creds.json");
    std::fs::write(&custom, creds(now() + 30).to_string()).unwrap();
    let mut config = oauth_config(json!({"base_url": server.url.clone()}));
    config["authentication"]["credentials_path"] = json!(custom.to_string_lossy());
    write_config(h.path(), "work", config);
    let (out, _) = run(
        h.path(),
        &[
            "--profile",
            "work",
            "auth",
            "print-credentials",
            "--access-token",
        ],
        0,
    );
    assert_eq!(out, "sk-ant-oat01-FRESH\n");
    assert_eq!(read(&custom)["access_token"], "sk-ant-oat01-FRESH");
    assert_eq!(mode(&custom), 0o600);
    assert_eq!(
        mode(&shared),
        0o755,
        "a directory ant did not create keeps its mode"
    );
    run(h.path(), &["--profile", "work", "auth", "logout"], 0);
    assert!(
        !custom.exists(),
        "logout removes the credentials the profile uses"
    );
    assert!(dir(h.path()).join("configs/work.json").exists());
}

#[test]
fn a_broken_profile_config_is_an_error_not_the_default_host() {
    // With an API key the profile gives no credential, but its base URL
    // and workspace still count: a config that cannot be parsed must not
    // turn into requests to the default API host.
    let server = Server::json(json!({"data": []}));
    let h = home();
    let d = dir(h.path()).join("configs");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("default.json"), "{\"base_url\": ").unwrap();
    let out = ant(h.path())
        .env("ANTHROPIC_API_KEY", "sk-test")
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("ant: error: profile \"default\": cannot parse ")
            && err.contains("configs/default.json")
            && err.contains("(it would give the base_url)"),
        "{err}"
    );
    // Given by flag or environment, the settings need no profile.
    let out = ant(h.path())
        .env("ANTHROPIC_API_KEY", "sk-test")
        .env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_WORKSPACE_ID", "wrkspc_1")
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.recorded().len(), 1);
}

#[test]
fn any_stored_expiry_is_shown_and_used_without_overflow() {
    let server = Server::json(json!({"data": []}));
    for expires_at in [i64::MIN, i64::MAX] {
        let h = home();
        write_config(h.path(), "default", oauth_config(json!({})));
        write_creds(
            h.path(),
            "default",
            json!({"type": "oauth_token", "access_token": "sk-ant-oat01-0123456789abcdefghij",
                   "expires_at": expires_at}),
        );
        let out = ant(h.path()).args(["auth", "status"]).output().unwrap();
        assert!(out.status.success(), "{expires_at}: {}", stderr(&out));
        let out = ant(h.path())
            .env("ANTHROPIC_BASE_URL", &server.url)
            .args(["beta:agents", "list", "--max-retries", "0"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(!err.contains("internal error"), "{expires_at}: {err}");
    }
}

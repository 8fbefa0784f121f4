//! `auth status` for each credential source: an API key, a bearer token,
//! federation (complete, partial, and blocking the profile), a federation
//! profile before and after its token is cached; secrets masked.

use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};

use crate::federation::{ORG, RULE, write_fed_profile};
use crate::signin::{ci_jwt, config_dir, oauth_profile, read_json};
use crate::{Server, ant, home, stderr, stdout};

fn status(h: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let mut cmd = ant(h);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.args(args).args(["auth", "status"]).output().unwrap();
    // Exit 3 when no credential would authenticate, as `gh auth status`.
    let text = stdout(&out);
    let credentials = text.split("\nCredentials\n").nth(1).unwrap_or_default();
    let credentials = credentials.split("\n\n").next().unwrap_or_default();
    if credentials.contains("  (active) * ") {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    } else {
        assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
        assert_eq!(
            stderr(&out),
            "ant: error: no credentials: commands would not authenticate (see above)\n"
        );
    }
    stdout(&out)
}

fn active_line(out: &str) -> String {
    out.lines()
        .find(|l| l.starts_with("  (active) * "))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn status_shows_each_source_with_secrets_masked() {
    let h = home();
    // Nothing configured.
    let out = status(h.path(), &[], &[]);
    assert!(
        out.contains("(profile \"default\" not configured — run `ant auth login` to set it up)"),
        "{out}"
    );
    // A bearer token.
    let out = status(
        h.path(),
        &["--auth-token", "bearer-0123456789abcdefWXYZ"],
        &[],
    );
    assert!(
        active_line(&out).contains("--auth-token flag (Bearer)"),
        "{out}"
    );
    assert!(active_line(&out).ends_with(" …WXYZ"), "{out}");
    // Full federation, the identity token masked.
    let jwt = ci_jwt();
    let out = status(
        h.path(),
        &[],
        &[
            ("ANTHROPIC_IDENTITY_TOKEN", jwt.as_str()),
            ("ANTHROPIC_FEDERATION_RULE_ID", RULE),
            ("ANTHROPIC_ORGANIZATION_ID", ORG),
            ("ANTHROPIC_SERVICE_ACCOUNT_ID", "svac_01bot"),
        ],
    );
    let active = active_line(&out);
    assert!(active.contains("Federation (jwt-bearer)"), "{out}");
    assert!(active.ends_with("see 'Federation inputs' below"), "{out}");
    let tail: String = jwt
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(
        out.contains(&format!("\nFederation inputs\n  --identity-token         / ANTHROPIC_IDENTITY_TOKEN         …{tail}\n")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  --federation-rule        / ANTHROPIC_FEDERATION_RULE_ID     {RULE}\n"
        )),
        "{out}"
    );
    assert!(
        out.contains("  --service-account-id     / ANTHROPIC_SERVICE_ACCOUNT_ID     svac_01bot\n"),
        "{out}"
    );
    assert!(!out.contains(&jwt[..20]), "{out}");
    // Partial federation.
    let out = status(h.path(), &["--federation-rule", RULE], &[]);
    assert!(
        out.contains(
            "Federation (jwt-bearer)                        partial — missing required inputs"
        ),
        "{out}"
    );
    assert!(
        out.contains("⚠  Federation is partially configured and will not be used until fully set.\n   Missing:\n     - --identity-token[-file] / ANTHROPIC_IDENTITY_TOKEN[_FILE]\n     - --organization-id / ANTHROPIC_ORGANIZATION_ID\n"),
        "{out}"
    );
    // A federation profile, before and after its token is cached.
    let token_file = h.path().join("id.jwt");
    std::fs::write(&token_file, &jwt).unwrap();
    write_fed_profile(h.path(), "ci", "https://api.example.test", &token_file);
    let out = status(h.path(), &["--profile", "ci"], &[]);
    let active = active_line(&out);
    assert!(
        active.contains("Profile (oidc_federation) [via --profile/ANTHROPIC_PROFILE]"),
        "{out}"
    );
    assert!(active.ends_with("(exchanged when a command runs)"), "{out}");
    assert!(
        out.contains(&format!("federation_rule_id: {RULE}")),
        "{out}"
    );
    let cache = config_dir(h.path()).join("credentials/ci.json");
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    std::fs::write(&cache, json!({"access_token": "sk-ant-oat01-cachedtokencachedtoken", "expires_at": 4_000_000_000i64}).to_string()).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = status(h.path(), &["--profile", "ci"], &[]);
    assert!(active_line(&out).ends_with(" sk-ant-oat01-…oken"), "{out}");
    let v: Value = read_json(&cache);
    assert_eq!(v["expires_at"], 4_000_000_000i64, "status never writes");
}

#[test]
fn status_marks_no_credential_active_while_partial_federation_blocks_the_profile() {
    let server = Server::json(json!({"data": [], "next_page": null}));
    let h = home();
    oauth_profile(
        h.path(),
        &server.url,
        json!({"access_token": "sk-ant-oat01-0123456789abcdefWXYZ"}),
    );
    let org = [("ANTHROPIC_ORGANIZATION_ID", ORG)];
    // Commands fail: federation is selected and incomplete.
    let out = ant(h.path())
        .env(org[0].0, org[0].1)
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(server.recorded().is_empty());
    // So status marks nothing active, and says why.
    let out = status(h.path(), &[], &org);
    let credentials = out.split("\nBase URL").next().unwrap();
    assert_eq!(active_line(credentials), "", "{out}");
    assert!(
        credentials.contains("  (federation partially configured — commands fail until it is complete or unset; see below)\n"),
        "{out}"
    );
    assert!(
        credentials.contains("           * Profile (user_oauth) [via active_config]"),
        "{out}"
    );
    // Without the stray variable the profile is the credential again.
    let out = status(h.path(), &[], &[]);
    assert!(
        active_line(&out).contains("Profile (user_oauth) [via active_config]"),
        "{out}"
    );
}

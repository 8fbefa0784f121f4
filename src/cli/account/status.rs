//! `ant auth status`: which profile, credential, base URL, organization and
//! workspace a command would use, and where each came from. Secrets are cut
//! to their first 16 characters.

use std::fmt::Write as _;
use std::io::Write as _;

use clap::ArgMatches;
use serde_json::Value;

use super::files::{self, Layout, from_env};
use crate::cli::config::DEFAULT_BASE_URL;
use crate::cli::global::GlobalArgs;
use crate::error::{Error, Result};

const ACTIVE: &str = "  (active) * ";
const PASSIVE: &str = "             ";

fn row(out: &mut String, active: bool, label: &str, value: &str) {
    let marker = if active { ACTIVE } else { PASSIVE };
    let _ = writeln!(out, "{marker}{label:<44} {value}");
}

fn detail(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "{PASSIVE}  {:<14} {value}", format!("{key}:"));
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn text(v: Option<&Value>, pointer: &str) -> Option<String> {
    v.and_then(|v| v.pointer(pointer))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn named(id: &str, name: Option<String>) -> String {
    match name {
        Some(n) => format!("{id} ({n:?})"),
        None => id.to_string(),
    }
}

pub fn status(m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    let layout = Layout::find()?;
    let (profile, source) = files::target(&layout, m, g)?;
    let config_path = layout.config(&profile);
    let (config, config_err) = match files::read_json(&config_path) {
        Ok(c) => (c, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let creds_path = layout.credentials_for(&profile, config.as_ref());
    let (creds, creds_err) = match files::read_json(&creds_path) {
        Ok(c) => (c, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let cfg = config.as_ref();
    let cr = creds.as_ref();
    let token = text(cr, "/access_token");

    let mut out = String::new();
    let _ = writeln!(out, "Profile:         {profile} ({})", source.describe());
    let _ = writeln!(out, "Config dir:      {}", layout.dir.display());
    let _ = writeln!(out, "Profile config:  {}", config_path.display());
    let _ = writeln!(out, "Credentials:     {}", creds_path.display());

    // Credentials: --api-key, then --auth-token, then the profile's token
    // (the order config::resolve uses).
    let api_key = g.api_key.clone().filter(|k| !k.is_empty());
    let auth_token = g.auth_token.clone().filter(|t| !t.is_empty());
    let winner = if api_key.is_some() {
        1
    } else if auth_token.is_some() {
        2
    } else if token.is_some() {
        3
    } else {
        0
    };
    out.push_str("\nCredentials\n");
    if winner == 3 {
        let org = text(cr, "/organization_name");
        let email = text(cr, "/account_email");
        let who = match (org, email) {
            (Some(o), Some(e)) => Some(format!("to {o} as {e}")),
            (None, Some(e)) => Some(format!("as {e}")),
            (Some(o), None) => Some(format!("to {o}")),
            (None, None) => None,
        };
        if let Some(who) = who {
            let _ = writeln!(out, "  Logged in {who}");
        }
    }
    if winner == 0 {
        let why = if let Some(e) = &config_err {
            format!("profile config unreadable: {e}")
        } else if let Some(e) = &creds_err {
            format!("credentials unreadable: {e}")
        } else if cfg.is_some() {
            format!("profile {profile:?} is configured but holds no credentials")
        } else {
            format!("profile {profile:?} is not configured")
        };
        let _ = writeln!(
            out,
            "  (no credentials: {why}; set ANTHROPIC_API_KEY or pass --api-key or --auth-token)"
        );
    }
    if let Some(k) = &api_key {
        let label = if from_env(m, "api-key") {
            "ANTHROPIC_API_KEY env (x-api-key)"
        } else {
            "--api-key flag (x-api-key)"
        };
        row(&mut out, winner == 1, label, &files::mask(k));
    }
    if let Some(t) = &auth_token {
        let label = if from_env(m, "auth-token") {
            "ANTHROPIC_AUTH_TOKEN env (Bearer)"
        } else {
            "--auth-token flag (Bearer)"
        };
        row(&mut out, winner == 2, label, &files::mask(t));
    }
    if let Some(t) = &token {
        let kind = text(cfg, "/authentication/type").unwrap_or_else(|| "oauth_token".into());
        let label = format!("Profile {profile} ({kind})");
        row(&mut out, winner == 3, &label, &files::mask(t));
        if let Some(exp) = cr.and_then(|c| c.get("expires_at")).and_then(Value::as_i64) {
            detail(
                &mut out,
                "expires",
                &format!("{} ({})", files::rfc3339(exp), files::remaining(exp)),
            );
        }
        if let Some(r) = text(cr, "/refresh_token") {
            detail(&mut out, "refresh_token", &files::mask(&r));
        }
        if let Some(s) = text(cr, "/scope").or_else(|| text(cfg, "/authentication/scope")) {
            detail(&mut out, "scope", &s);
        }
        if let Some(c) = text(cfg, "/authentication/client_id") {
            detail(&mut out, "client_id", &c);
        }
    }

    // Base URL: --base-url, ANTHROPIC_BASE_URL, the profile, the default.
    out.push_str("\nBase URL\n");
    let profile_base = text(cfg, "/base_url");
    let env_base = env("ANTHROPIC_BASE_URL");
    let sources = [
        ("--base-url flag", g.base_url.clone()),
        ("ANTHROPIC_BASE_URL env", env_base),
        ("Profile base_url", profile_base),
    ];
    let mut won = false;
    for (label, v) in sources {
        if let Some(v) = v {
            row(&mut out, !won, label, &crate::http::mask_password(&v));
            won = true;
        }
    }
    if !won {
        row(&mut out, true, "Default", DEFAULT_BASE_URL);
    }

    // Organization.
    out.push_str("\nOrganization\n");
    let flag_org = g.organization_id.clone().filter(|o| !o.is_empty());
    let profile_org = text(cfg, "/organization_id");
    let token_org = text(cr, "/organization_uuid");
    if let Some(o) = &flag_org {
        let label = if from_env(m, "organization-id") {
            "ANTHROPIC_ORGANIZATION_ID env"
        } else {
            "--organization-id flag"
        };
        row(&mut out, true, label, o);
    }
    if let Some(o) = &profile_org {
        row(&mut out, flag_org.is_none(), "Profile organization_id", o);
    }
    if let Some(o) = &token_org {
        let active = flag_org.is_none() && profile_org.is_none();
        row(
            &mut out,
            active,
            "Token organization",
            &named(o, text(cr, "/organization_name")),
        );
    }
    if flag_org.is_none() && profile_org.is_none() && token_org.is_none() {
        row(
            &mut out,
            true,
            "From the credential",
            "(decided by the server)",
        );
    }

    // Workspace: the anthropic-workspace-id header comes from --workspace-id,
    // ANTHROPIC_WORKSPACE_ID or the profile; otherwise the token's own.
    out.push_str("\nWorkspace\n");
    let header_sources = [
        (
            "--workspace-id flag",
            g.workspace_id.clone().filter(|w| !w.is_empty()),
        ),
        ("ANTHROPIC_WORKSPACE_ID env", env("ANTHROPIC_WORKSPACE_ID")),
        ("Profile workspace_id", text(cfg, "/workspace_id")),
    ];
    let mut won = false;
    for (label, v) in header_sources {
        if let Some(v) = v {
            row(&mut out, !won, label, &v);
            won = true;
        }
    }
    if let Some(w) = text(cr, "/workspace_id") {
        let value = named(&w, text(cr, "/workspace_name"));
        row(&mut out, !won && winner == 3, "Token workspace", &value);
        won = won || winner == 3;
    }
    if !won {
        row(
            &mut out,
            true,
            "Server-side default",
            "(decided by the server)",
        );
    }

    // Federation inputs (flags/variables and an oidc_federation profile).
    out.push_str("\nFederation\n");
    let fed_inputs = [
        (
            "--identity-token / ANTHROPIC_IDENTITY_TOKEN",
            g.identity_token.as_deref().map(files::mask),
        ),
        (
            "--identity-token-file / ANTHROPIC_IDENTITY_TOKEN_FILE",
            g.identity_token_file.clone(),
        ),
        (
            "--federation-rule / ANTHROPIC_FEDERATION_RULE_ID",
            g.federation_rule.clone(),
        ),
        (
            "--service-account-id / ANTHROPIC_SERVICE_ACCOUNT_ID",
            std::env::var("ANTHROPIC_SERVICE_ACCOUNT_ID").ok(),
        ),
    ];
    let mut any_fed = false;
    for (label, v) in &fed_inputs {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            row(&mut out, false, label, v);
            any_fed = true;
        }
    }
    if text(cfg, "/authentication/type").as_deref() == Some("oidc_federation") {
        any_fed = true;
        row(&mut out, false, "Profile (oidc_federation)", &profile);
        for (key, ptr) in [
            ("rule", "/authentication/federation_rule_id"),
            ("service_acct", "/authentication/service_account_id"),
            ("token_file", "/authentication/identity_token/path"),
            ("scope", "/authentication/scope"),
        ] {
            if let Some(v) = text(cfg, ptr) {
                detail(&mut out, key, &v);
            }
        }
    }
    if any_fed {
        let _ = writeln!(
            out,
            "  (this ant does not exchange identity tokens; these inputs are not used)"
        );
    } else {
        let _ = writeln!(out, "  (not configured)");
    }

    {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(out.as_bytes())
            .and_then(|_| stdout.flush())
            .map_err(Error::from_write)?;
    }

    // Warnings on stderr.
    if token.is_some() {
        let shadow = if api_key.is_some() && from_env(m, "api-key") {
            Some("ANTHROPIC_API_KEY")
        } else if api_key.is_none() && auth_token.is_some() && from_env(m, "auth-token") {
            Some("ANTHROPIC_AUTH_TOKEN")
        } else {
            None
        };
        if let Some(var) = shadow {
            eprintln!(
                "warning: {var} is set in the environment and overrides the logged-in profile \
                 {profile:?}; unset {var} to use the profile"
            );
        }
    }
    let has_token = g.identity_token.as_deref().is_some_and(|t| !t.is_empty())
        || g.identity_token_file
            .as_deref()
            .is_some_and(|t| !t.is_empty());
    let has_rule = g.federation_rule.as_deref().is_some_and(|t| !t.is_empty());
    let has_org = flag_org.is_some();
    if has_token || has_rule {
        let mut missing = Vec::new();
        if !has_token {
            missing.push("--identity-token or --identity-token-file");
        }
        if !has_rule {
            missing.push("--federation-rule");
        }
        if !has_org {
            missing.push("--organization-id");
        }
        if !missing.is_empty() {
            eprintln!(
                "warning: federation is partially configured (missing: {})",
                missing.join(", ")
            );
        }
    }
    Ok(())
}

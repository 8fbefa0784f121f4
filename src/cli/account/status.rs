//! `ant auth status`: which profile, credential, base URL, organization and
//! workspace a command would use, and where each came from; federation
//! inputs and what a partial federation setup lacks. Secrets show only
//! their kind and last four characters.

use std::fmt::Write as _;
use std::io::Write as _;

use clap::ArgMatches;
use serde_json::Value;

use super::files::{self, Source, from_env};
use crate::auth::store::{self, Layout, mask};
use crate::auth::{DEFAULT_BASE_URL, Profile, Tier, configured_tiers, text};
use crate::cli::config;
use crate::cli::global::GlobalArgs;
use crate::error::{Error, Result};

const ACTIVE: &str = "  (active) * ";
const PASSIVE: &str = "           * ";

fn row(out: &mut String, active: bool, label: &str, value: &str) {
    let marker = if active { ACTIVE } else { PASSIVE };
    let _ = writeln!(out, "{marker}{label:<46} {value}");
}

fn detail(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "               {:<15} {value}", format!("{key}:"));
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn named(id: &str, name: Option<String>) -> String {
    match name {
        Some(n) => format!("{id} ({n:?})"),
        None => id.to_string(),
    }
}

/// Which credential commands use, as `auth::resolve` decides (none while an
/// incomplete federation setup wins: commands fail then).
#[derive(PartialEq, Clone, Copy)]
enum Winner {
    None,
    ApiKey,
    AuthToken,
    Profile,
    Federation,
}

pub fn status(m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    let layout = Layout::find()?;
    let (name, source) = files::target(&layout, m, g)?;
    let explicit = matches!(source, Source::Flag | Source::Env);
    let profile = Profile::find(layout.clone(), explicit.then_some(name.as_str()))?;
    let cfg = profile.config.as_ref();
    let (creds, creds_err) = match store::read_json(&profile.creds_path) {
        Ok(c) => (c, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let cr = creds.as_ref();
    let federation_profile = profile.kind() == "oidc_federation" && cfg.is_some();
    let token = text(cr, "/access_token");
    let profile_present = federation_profile || token.is_some();

    let inputs = config::inputs(g);
    let api_key = inputs.api_key.clone().filter(|k| !k.is_empty());
    let auth_token = inputs.auth_token.clone().filter(|t| !t.is_empty());
    let fed = &inputs.federation;
    let fed_missing = if fed.any_set() {
        fed.missing()
    } else {
        Vec::new()
    };
    let fed_ready = fed.any_set() && fed_missing.is_empty();
    // The tier commands would use; an incomplete federation setup that
    // wins makes them fail, so then no credential is active.
    let winner = match configured_tiers(&inputs, Some(&profile)).first() {
        Some(Tier::ApiKey) => Winner::ApiKey,
        Some(Tier::AuthToken) => Winner::AuthToken,
        Some(Tier::Federation) if fed_ready => Winner::Federation,
        Some(Tier::ExplicitProfile | Tier::ImplicitProfile) if profile_present => Winner::Profile,
        _ => Winner::None,
    };

    let mut out = String::new();
    let _ = writeln!(out, "Active profile:  {name} ({})", source.describe());
    let _ = writeln!(out, "Config dir:      {}", layout.dir.display());
    let _ = writeln!(out, "Profile config:  {}", layout.config(&name).display());
    let _ = writeln!(out, "Credentials:     {}", profile.creds_path.display());

    out.push_str("\nCredentials\n");
    if winner == Winner::Profile {
        let who = match (text(cr, "/organization_name"), text(cr, "/account_email")) {
            (Some(o), Some(e)) => Some(format!("to {o} as {e}")),
            (None, Some(e)) => Some(format!("as {e}")),
            (Some(o), None) => Some(format!("to {o}")),
            (None, None) => None,
        };
        if let Some(who) = who {
            let _ = writeln!(out, "  Logged in {who}");
        }
    }
    if winner == Winner::None {
        let why = if fed.any_set() && !fed_ready {
            "federation partially configured — commands fail until it is complete or unset; see below"
                .to_string()
        } else if cfg.is_none() && profile.config_error.is_none() && cr.is_none() {
            format!("profile {name:?} not configured — run `ant auth login` to set it up")
        } else if let Some(e) = &profile.config_error {
            format!("profile config unreadable: {e}")
        } else if let Some(e) = &creds_err {
            format!("credentials unreadable: {e}")
        } else if cr.is_none() {
            format!("profile {name:?} configured but not logged in — run `ant auth login`")
        } else {
            "no credential configured — set ANTHROPIC_API_KEY or run `ant auth login`".to_string()
        };
        let _ = writeln!(out, "  ({why})");
    }
    if let Some(k) = &api_key {
        let label = if from_env(m, "api-key") {
            "ANTHROPIC_API_KEY env (x-api-key)"
        } else {
            "--api-key flag (x-api-key)"
        };
        row(&mut out, winner == Winner::ApiKey, label, &mask(k));
    }
    if let Some(t) = &auth_token {
        let label = if from_env(m, "auth-token") {
            "ANTHROPIC_AUTH_TOKEN env (Bearer)"
        } else {
            "--auth-token flag (Bearer)"
        };
        row(&mut out, winner == Winner::AuthToken, label, &mask(t));
    }
    if profile_present {
        let via = if explicit {
            "[via --profile/ANTHROPIC_PROFILE]"
        } else {
            "[via active_config]"
        };
        let label = format!("Profile ({}) {via}", profile.kind());
        let value = match &token {
            Some(t) => mask(t),
            None => "(exchanged when a command runs)".to_string(),
        };
        row(&mut out, winner == Winner::Profile, &label, &value);
        profile_details(&mut out, cfg, cr);
    }
    if fed_ready {
        row(
            &mut out,
            winner == Winner::Federation,
            "Federation (jwt-bearer)",
            "see 'Federation inputs' below",
        );
    } else if fed.any_set() {
        row(
            &mut out,
            false,
            "Federation (jwt-bearer)",
            "partial — missing required inputs",
        );
    }
    let shadow = if api_key.is_some() && from_env(m, "api-key") {
        Some("ANTHROPIC_API_KEY")
    } else if api_key.is_none() && auth_token.is_some() && from_env(m, "auth-token") {
        Some("ANTHROPIC_AUTH_TOKEN")
    } else {
        None
    };
    if let (true, Some(var)) = (token.is_some(), shadow) {
        let _ = writeln!(
            out,
            "\n⚠  {var} is set in your environment and overrides the logged-in profile.\n   \
             Unset it to use the profile:  unset {var}"
        );
    }
    if !fed_missing.is_empty() {
        out.push_str(
            "\n⚠  Federation is partially configured and will not be used until fully set.\n   Missing:\n",
        );
        for item in &fed_missing {
            let _ = writeln!(out, "     - {item}");
        }
    }

    let admin_key = g.admin_key.as_deref().filter(|k| !k.is_empty());
    if let Some(k) = admin_key {
        out.push_str("\nAdmin API (organization:*, beta:organization:* in place of the above)\n");
        let label = if from_env(m, "admin-key") {
            "ANTHROPIC_ADMIN_KEY env (x-api-key)"
        } else {
            "--admin-key flag (x-api-key)"
        };
        row(&mut out, true, label, &mask(k));
    }

    sources(&mut out, g, &profile, cr, winner);

    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
        .map_err(Error::from_write)?;
    // As `gh auth status`: nothing that would authenticate is a failure
    // (an admin key alone authenticates the Admin API commands).
    if winner == Winner::None && admin_key.is_none() {
        return Err(Error::Auth(
            "no credentials: commands would not authenticate (see above)".into(),
        ));
    }
    Ok(())
}

/// The detail lines under a profile's credential row.
fn profile_details(out: &mut String, cfg: Option<&Value>, cr: Option<&Value>) {
    if let Some(exp) = cr.and_then(|c| c.get("expires_at")).and_then(Value::as_i64) {
        detail(
            out,
            "expires",
            &format!("{} ({})", store::rfc3339(exp), store::remaining(exp)),
        );
    }
    if let Some(r) = text(cr, "/refresh_token") {
        detail(out, "refresh_token", &mask(&r));
    }
    if let Some(s) = text(cr, "/scope").or_else(|| text(cfg, "/authentication/scope")) {
        detail(out, "scope", &s);
    }
    if let Some(o) = text(cr, "/organization_uuid") {
        detail(
            out,
            "organization",
            &named(&o, text(cr, "/organization_name")),
        );
    }
    for (key, pointer) in [
        ("client_id", "/authentication/client_id"),
        ("federation_rule_id", "/authentication/federation_rule_id"),
        ("service_account_id", "/authentication/service_account_id"),
        ("identity_token", "/authentication/identity_token/path"),
    ] {
        if let Some(v) = text(cfg, pointer) {
            detail(out, key, &v);
        }
    }
}

/// The Base URL, Organization, Workspace and Federation inputs sections.
fn sources(
    out: &mut String,
    g: &GlobalArgs,
    profile: &Profile,
    cr: Option<&Value>,
    winner: Winner,
) {
    let cfg = profile.config.as_ref();
    out.push_str("\nBase URL\n");
    let mut won = false;
    for (label, v) in [
        ("--base-url flag", g.base_url.clone()),
        ("ANTHROPIC_BASE_URL env", env("ANTHROPIC_BASE_URL")),
        ("Profile base_url", text(cfg, "/base_url")),
    ] {
        if let Some(v) = v {
            row(out, !won, label, &crate::http::mask_password(&v));
            won = true;
        }
    }
    if !won {
        row(out, true, "Default", DEFAULT_BASE_URL);
    }

    out.push_str("\nOrganization\n");
    let flag_org = g.organization_id.clone().filter(|o| !o.is_empty());
    let profile_org = text(cfg, "/organization_id");
    let token_org = text(cr, "/organization_uuid");
    if let Some(o) = &flag_org {
        row(
            out,
            true,
            "--organization-id / ANTHROPIC_ORGANIZATION_ID",
            o,
        );
    }
    if let Some(o) = &profile_org {
        row(out, flag_org.is_none(), "Profile organization_id", o);
    }
    if let Some(o) = &token_org {
        let active = flag_org.is_none() && profile_org.is_none();
        let value = named(o, text(cr, "/organization_name"));
        row(out, active, "Token organization", &value);
    }
    if flag_org.is_none() && profile_org.is_none() && token_org.is_none() {
        row(out, true, "From the credential", "(decided by the server)");
    }

    // The anthropic-workspace-id header comes from --workspace-id,
    // ANTHROPIC_WORKSPACE_ID or the profile; otherwise the token's own.
    out.push_str("\nWorkspace\n");
    let mut won = false;
    for (label, v) in [
        (
            "--workspace-id flag",
            g.workspace_id.clone().filter(|w| !w.is_empty()),
        ),
        ("ANTHROPIC_WORKSPACE_ID env", env("ANTHROPIC_WORKSPACE_ID")),
        ("Profile workspace_id", text(cfg, "/workspace_id")),
    ] {
        if let Some(v) = v {
            row(out, !won, label, &v);
            won = true;
        }
    }
    if let Some(w) = text(cr, "/workspace_id") {
        let value = named(&w, text(cr, "/workspace_name"));
        let drift = text(cfg, "/workspace_id").is_some_and(|p| p != w);
        let value = if drift {
            format!("{value} — drift, re-login to reconcile")
        } else {
            value
        };
        let active = !won && winner == Winner::Profile;
        row(out, active, "Token workspace", &value);
        won = won || active;
    }
    if !won {
        row(out, true, "Server-side default", "(decided by the server)");
    }

    // Federation inputs, only those set; the identity token masked.
    let inputs: [(&str, &str, Option<String>); 5] = [
        (
            "identity-token",
            "ANTHROPIC_IDENTITY_TOKEN",
            g.identity_token.as_deref().map(mask),
        ),
        (
            "identity-token-file",
            "ANTHROPIC_IDENTITY_TOKEN_FILE",
            g.identity_token_file.clone(),
        ),
        (
            "federation-rule",
            "ANTHROPIC_FEDERATION_RULE_ID",
            g.federation_rule.clone(),
        ),
        (
            "organization-id",
            "ANTHROPIC_ORGANIZATION_ID",
            g.organization_id.clone(),
        ),
        (
            "service-account-id",
            "ANTHROPIC_SERVICE_ACCOUNT_ID",
            g.service_account_id.clone(),
        ),
    ];
    let set: Vec<_> = inputs
        .iter()
        .filter_map(|(f, e, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (f, e, v)))
        .collect();
    if !set.is_empty() {
        out.push_str("\nFederation inputs\n");
        for (flag, var, value) in set {
            let _ = writeln!(out, "  --{flag:<22} / {var:<32} {value}");
        }
    }
}

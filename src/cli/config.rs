//! Where credentials, base URL and workspace come from: flags, environment
//! variables and profiles in the official CLI's config directory layout
//! (`configs/<profile>.json`, `credentials/<profile>.json`, `active_config`).

use std::path::PathBuf;

use serde_json::Value;

use super::global::GlobalArgs;
use crate::error::{Error, Result};
use crate::http::{self, Auth};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
const OAUTH_BETA: &str = "oauth-2025-04-20";

/// Settings resolved from flags, environment and profile.
#[derive(Debug)]
pub struct Resolved {
    pub base_url: String,
    pub auth: Auth,
    pub workspace_id: Option<String>,
    pub extra_betas: Vec<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `$ANTHROPIC_CONFIG_DIR`, else `$XDG_CONFIG_HOME/anthropic`, else `~/.config/anthropic`.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(d) = env("ANTHROPIC_CONFIG_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = env("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(d).join("anthropic"));
    }
    env("HOME").map(|h| PathBuf::from(h).join(".config").join("anthropic"))
}

fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && name != "."
        && name != ".."
}

fn read_json(path: &PathBuf) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// A profile's config and credentials files, if present.
struct Profile {
    config: Option<Value>,
    access_token: Option<String>,
}

fn load_profile(name: &str, explicit: bool) -> Result<Option<Profile>> {
    if !valid_profile_name(name) {
        return Err(Error::usage(format!(
            "invalid profile name {name:?}: use letters, digits, '_', '.' and '-'"
        )));
    }
    let Some(dir) = config_dir() else {
        return Ok(None);
    };
    let config = read_json(&dir.join("configs").join(format!("{name}.json")));
    let creds_path = config
        .as_ref()
        .and_then(|c| c.pointer("/authentication/credentials_path"))
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("credentials").join(format!("{name}.json")));
    let access_token = read_json(&creds_path).and_then(|c| {
        c.get("access_token")
            .and_then(Value::as_str)
            .map(String::from)
    });
    if config.is_none() && access_token.is_none() {
        if explicit {
            return Err(Error::usage(format!(
                "profile {name:?} not found under {}",
                dir.display()
            )));
        }
        return Ok(None);
    }
    Ok(Some(Profile {
        config,
        access_token,
    }))
}

fn active_profile_name() -> String {
    config_dir()
        .and_then(|d| std::fs::read_to_string(d.join("active_config")).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

/// Resolves auth, base URL and workspace. Precedence for credentials:
/// `--api-key`, `--auth-token`, a named profile, the active profile.
pub fn resolve(g: &GlobalArgs) -> Result<Resolved> {
    let explicit_profile = g.profile.clone().filter(|p| !p.is_empty());
    let profile_name = explicit_profile.clone().unwrap_or_else(active_profile_name);
    let profile = load_profile(&profile_name, explicit_profile.is_some())?;
    let profile_str = |key: &str| {
        profile
            .as_ref()
            .and_then(|p| p.config.as_ref())
            .and_then(|c| c.get(key))
            .and_then(Value::as_str)
            .map(String::from)
    };

    let mut extra_betas = Vec::new();
    let auth = if let Some(k) = g.api_key.clone().filter(|k| !k.is_empty()) {
        Auth::ApiKey(k)
    } else if let Some(t) = g.auth_token.clone().filter(|t| !t.is_empty()) {
        Auth::Bearer(t)
    } else if let Some(t) = profile.as_ref().and_then(|p| p.access_token.clone()) {
        extra_betas.push(OAUTH_BETA.to_string());
        Auth::Bearer(t)
    } else {
        Auth::None
    };

    let base = g
        .base_url
        .clone()
        .or_else(|| env("ANTHROPIC_BASE_URL"))
        .or_else(|| profile_str("base_url"))
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    let base_url = http::validate_base_url(&base)?;
    let workspace_id = g
        .workspace_id
        .clone()
        .or_else(|| env("ANTHROPIC_WORKSPACE_ID"))
        .or_else(|| profile_str("workspace_id"));
    Ok(Resolved {
        base_url,
        auth,
        workspace_id,
        extra_betas,
    })
}

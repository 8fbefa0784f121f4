//! `ant auth logout` and `ant auth print-credentials`, with the refresh of
//! an access token that is about to expire.

use std::io::Write;
use std::time::Duration;

use clap::ArgMatches;
use serde_json::{Value, json};

use super::files::{self, Layout};
use crate::cli::config::DEFAULT_BASE_URL;
use crate::cli::global::GlobalArgs;
use crate::error::{Error, Result};
use crate::http;

/// Refresh when this many seconds or fewer remain.
const REFRESH_WITHIN: i64 = 120;
const OAUTH_BETA: &str = "oauth-2025-04-20";
/// The official CLI's OAuth client, used when a profile names none.
const DEFAULT_CLIENT_ID: &str = "41077d10-94b8-4194-be48-d251e9eb21b4";
const REFRESH_TIMEOUT: Duration = Duration::from_secs(30);

/// `ant auth logout [--all]`.
pub fn logout(m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    let layout = Layout::find()?;
    if m.get_flag("all") {
        // Only what ant owns; never the directory itself.
        let mut removed = Vec::new();
        for p in [
            layout.configs(),
            layout.credentials_dir(),
            layout.active_config(),
        ] {
            let result = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            match result {
                Ok(()) => removed.push(p.display().to_string()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::Io(format!("cannot remove {}: {e}", p.display())));
                }
            }
        }
        if removed.is_empty() {
            eprintln!(
                "Nothing to remove: no profiles or credentials in {}.",
                layout.dir.display()
            );
        } else {
            eprintln!(
                "Removed all profiles and credentials: {}.",
                removed.join(", ")
            );
        }
        return Ok(());
    }
    let (profile, _) = files::target(&layout, m, g)?;
    let config = files::read_json(&layout.config(&profile))?;
    let path = layout.credentials_for(&profile, config.as_ref());
    match std::fs::remove_file(&path) {
        Ok(()) => {
            eprintln!(
                "Logged out of profile {profile:?}: removed {} (the profile config stays).",
                path.display()
            );
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "Not logged in (profile {profile:?}): no {}.",
                path.display()
            );
            Ok(())
        }
        Err(e) => Err(Error::Io(format!("cannot remove {}: {e}", path.display()))),
    }
}

/// `ant auth print-credentials [--access-token | --env]`.
pub fn print_credentials(m: &ArgMatches, g: &GlobalArgs) -> Result<()> {
    let layout = Layout::find()?;
    let (profile, _) = files::target(&layout, m, g)?;
    let config = files::read_json(&layout.config(&profile))?;
    let creds_path = layout.credentials_for(&profile, config.as_ref());
    let mut creds = files::read_json(&creds_path)?.ok_or_else(|| {
        Error::Auth(format!(
            "not logged in (profile {profile:?}): no {}",
            creds_path.display()
        ))
    })?;
    let token = |c: &Value| {
        c.get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(String::from)
    };
    if token(&creds).is_none() {
        return Err(Error::Auth(format!(
            "no access_token in {} (profile {profile:?})",
            creds_path.display()
        )));
    }

    if let Some(expires_at) = creds.get("expires_at").and_then(Value::as_i64)
        && expires_at - files::now() <= REFRESH_WITHIN
    {
        let expiry = if expires_at <= files::now() {
            format!("expired at {}", files::rfc3339(expires_at))
        } else {
            format!("expires at {}", files::rfc3339(expires_at))
        };
        let refresh_token = creds
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(String::from);
        match refresh_token {
            None => eprintln!(
                "warning: the token of profile {profile:?} {expiry} and no refresh_token is stored"
            ),
            Some(rt) => {
                let base = refresh_base(g, config.as_ref());
                let client_id = config
                    .as_ref()
                    .and_then(|c| c.pointer("/authentication/client_id"))
                    .and_then(Value::as_str)
                    .filter(|c| !c.is_empty())
                    .unwrap_or(DEFAULT_CLIENT_ID)
                    .to_string();
                match base.and_then(|b| refresh(&b, &client_id, &rt)) {
                    Ok(answer) => {
                        apply_refresh(&mut creds, &answer);
                        // The old refresh token may be spent: print the new
                        // token even when it cannot be stored.
                        if let Err(e) = files::write_credentials(&layout, &creds_path, &creds) {
                            eprintln!(
                                "warning: refreshed the token of profile {profile:?} but could not store it: {e}"
                            );
                        }
                    }
                    Err(why) => eprintln!(
                        "warning: the token of profile {profile:?} {expiry} and the refresh failed: {why}"
                    ),
                }
            }
        }
    }

    let access = token(&creds).unwrap_or_default();
    let text = if m.get_flag("access-token") {
        format!("{access}\n")
    } else if m.get_flag("env") {
        let mut s = format!("ANTHROPIC_AUTH_TOKEN={access}\n");
        if let Some(b) = config
            .as_ref()
            .and_then(|c| c.get("base_url"))
            .and_then(Value::as_str)
            .filter(|b| !b.is_empty())
        {
            s.push_str(&format!("ANTHROPIC_BASE_URL={b}\n"));
        }
        s
    } else {
        String::from_utf8(files::json_bytes(&creds)).expect("utf-8")
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(Error::from_write)
}

/// The base URL the refresh goes to (as `config::resolve` picks it). A
/// refresh token only travels over https, or plain http to a loopback host.
fn refresh_base(g: &GlobalArgs, config: Option<&Value>) -> std::result::Result<String, String> {
    let raw = g
        .base_url
        .clone()
        .or_else(|| {
            std::env::var("ANTHROPIC_BASE_URL")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .or_else(|| {
            config
                .and_then(|c| c.get("base_url"))
                .and_then(Value::as_str)
                .filter(|b| !b.is_empty())
                .map(String::from)
        })
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    let base = http::validate_base_url(&raw).map_err(|e| e.to_string())?;
    let url = reqwest::Url::parse(&base).map_err(|e| e.to_string())?;
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if url.scheme() == "https" || loopback {
        Ok(base)
    } else {
        Err(format!(
            "not sending a refresh token over plain http to {base} (use https, or http on loopback)"
        ))
    }
}

/// POSTs the refresh_token grant to `{base}/v1/oauth/token`.
fn refresh(base: &str, client_id: &str, refresh_token: &str) -> std::result::Result<Value, String> {
    let body = json!({
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
    });
    let url = format!("{base}/v1/oauth/token");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .user_agent(http::user_agent())
            .timeout(REFRESH_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot set up HTTP client: {e}"))?;
        let resp = client
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("anthropic-beta", OAUTH_BETA)
            .body(serde_json::to_vec(&body).expect("json"))
            .send()
            .await
            .map_err(|e| format!("POST {url}: {}", http::describe_reqwest(&e)))?;
        let status = resp.status();
        let request_id = resp
            .headers()
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .map(|r| format!(" [request-id: {r}]"))
            .unwrap_or_default();
        let bytes = resp.bytes().await.map_err(|e| {
            format!(
                "POST {url}: reading the response: {}",
                http::describe_reqwest(&e)
            )
        })?;
        if !status.is_success() {
            let mut text = String::from_utf8_lossy(&bytes).trim().to_string();
            if text.len() > 300 {
                let mut cut = 300;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push('…');
            }
            return Err(format!("POST {url}: {status}{request_id}: {text}"));
        }
        let answer: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("POST {url}: the response is not JSON: {e}"))?;
        if answer
            .get("access_token")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(format!(
                "POST {url}: the response holds no access_token{request_id}"
            ));
        }
        Ok(answer)
    })
}

/// Folds a token response into stored credentials.
fn apply_refresh(creds: &mut Value, answer: &Value) {
    let Some(c) = creds.as_object_mut() else {
        return;
    };
    let s = |k: &str| {
        answer
            .get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(|v| Value::String(v.to_string()))
    };
    if let Some(v) = s("access_token") {
        c.insert("access_token".into(), v);
    }
    if let Some(v) = s("refresh_token") {
        c.insert("refresh_token".into(), v);
    }
    if let Some(secs) = answer.get("expires_in").and_then(Value::as_i64) {
        c.insert("expires_at".into(), json!(files::now() + secs));
    }
    if let Some(v) = s("scope") {
        c.insert("scope".into(), v);
    }
    if let Some(v) = answer.pointer("/organization/uuid").and_then(Value::as_str)
        && !v.is_empty()
    {
        c.insert("organization_uuid".into(), json!(v));
        if let Some(n) = answer.pointer("/organization/name").and_then(Value::as_str) {
            c.insert("organization_name".into(), json!(n));
        }
    }
    if let Some(v) = answer
        .pointer("/account/email_address")
        .and_then(Value::as_str)
        && !v.is_empty()
    {
        c.insert("account_email".into(), json!(v));
    }
}

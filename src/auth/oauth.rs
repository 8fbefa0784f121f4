//! The OAuth token endpoint as a client sees it (`POST {base}/v1/oauth/token`):
//! the authorization-code exchange of `auth login` (form-encoded) and the
//! refresh-token grant (JSON), with the official CLI's error texts, and the
//! rule that a credential only travels over https (or http to loopback).

use std::time::Duration;

use serde_json::{Value, json};

use super::{store, text};
use crate::error::{Error, Result};
use crate::http::{self, debug};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const DEFAULT_CONSOLE_URL: &str = "https://platform.claude.com";
/// The official CLI's OAuth client.
pub const DEFAULT_CLIENT_ID: &str = "41077d10-94b8-4194-be48-d251e9eb21b4";
pub const DEFAULT_SCOPE: &str = "user:profile user:inference user:developer";
/// The beta every request with an OAuth token carries.
pub const OAUTH_BETA: &str = "oauth-2025-04-20";
/// Token requests give up after this long.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// Largest token endpoint answer read; a longer one is refused unread.
pub const MAX_ANSWER: usize = 1 << 20;

/// Whether `host` (from a URL) is a loopback name or address.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a credential may be sent to `base`: https, or http to a
/// loopback host.
pub fn is_secure(base: &str) -> bool {
    reqwest::Url::parse(base).is_ok_and(|u| {
        u.scheme() == "https" || (u.scheme() == "http" && u.host_str().is_some_and(is_loopback))
    })
}

/// The base that may receive an authorization code or a refresh token
/// from a login at `console`: signing in at the public console only talks
/// to the public API; another console names its own token host, which must
/// be https (or http on loopback).
pub fn token_base(console: &str, requested: &str) -> Result<String> {
    let shown = http::mask_password(requested);
    if console == DEFAULT_CONSOLE_URL && requested != DEFAULT_BASE_URL {
        return Err(Error::usage(format!(
            "refusing to send OAuth credentials to {shown} while signing in at {console}: \
             its codes are exchanged at {DEFAULT_BASE_URL} only (pass --console-url for another \
             sign-in server, or --base-url {DEFAULT_BASE_URL} when ANTHROPIC_BASE_URL or the \
             profile's base_url points elsewhere)"
        )));
    }
    if !is_secure(requested) {
        return Err(Error::usage(format!(
            "OAuth token URL must be https, or http on loopback, got {shown:?}"
        )));
    }
    Ok(requested.to_string())
}

/// What the token endpoint answered.
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub request_id: String,
    pub body: Vec<u8>,
}

/// POSTs `body` to `url` on a client of its own (30 s timeout, no retries).
/// `headers` are added to `content-type`. An answer over [`MAX_ANSWER`]
/// bytes is an error, and is not read further.
pub async fn post(
    url: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Answer> {
    let mut builder = reqwest::Client::builder()
        .user_agent(http::user_agent())
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    if url.starts_with("http://") {
        builder = builder.tls_certs_only(std::iter::empty());
    }
    let client = builder
        .build()
        .map_err(|e| Error::Other(format!("cannot set up HTTP client: {e}")))?;
    let mut req = client
        .post(url)
        .header("content-type", content_type)
        .header("accept", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    // Messages name the URL without a password it may carry.
    let shown = http::mask_password(url);
    let transport = |e: reqwest::Error| {
        let what = format!("POST {shown}: {}", http::describe_reqwest(&e));
        if e.is_timeout() {
            Error::Timeout(what)
        } else {
            Error::Network(what)
        }
    };
    let mut resp = req.body(body).send().await.map_err(transport)?;
    let status = resp.status();
    let request_id = resp
        .headers()
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(Error::Auth(format!(
                "POST {shown}: the token endpoint answered {status} with more than {} KiB; refusing to read it",
                MAX_ANSWER / 1024
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        request_id,
        body,
    })
}

/// A successful (200) token response with an access token, else the
/// official error text (`token endpoint returned 400 Bad Request
/// (request_id=...): <body>`).
fn token_from(answer: Answer) -> Result<Value> {
    if answer.status != reqwest::StatusCode::OK {
        // What the server said, with any secret it echoed (a token, the
        // code verifier) masked, and at most 2000 characters of it.
        let body = debug::redact_body(&answer.body);
        let body = body.trim();
        let shown: String = body.chars().take(2000).collect();
        let cut = if shown.len() < body.len() { "…" } else { "" };
        return Err(Error::Auth(format!(
            "token endpoint returned {} (request_id={}): {shown}{cut}",
            answer.status, answer.request_id
        )));
    }
    let v: Value = serde_json::from_slice(&answer.body).map_err(|e| {
        Error::Auth(format!(
            "parse token response: {e} (request_id={})",
            answer.request_id
        ))
    })?;
    if v.get("access_token")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(Error::Auth(format!(
            "token endpoint returned 200 with empty access_token (request_id={})",
            answer.request_id
        )));
    }
    Ok(v)
}

/// The `--debug` line for a token request: its status and request id, never
/// its body (it holds codes and tokens).
fn debug_line(what: &str, url: &str, answer: &Answer) {
    debug::note(&format!(
        "{what} POST {} -> {} (request_id={})",
        http::mask_password(url),
        answer.status,
        answer.request_id
    ));
}

/// The fields of one authorization-code exchange.
pub struct CodeGrant<'a> {
    pub client_id: &'a str,
    pub code: &'a str,
    pub verifier: &'a str,
    pub redirect_uri: &'a str,
    pub state: &'a str,
}

/// Exchanges an authorization code (form-encoded, fields in key order, no
/// beta header), as `auth login` does.
pub async fn exchange_code(base: &str, grant: &CodeGrant<'_>, debug: bool) -> Result<Value> {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", grant.client_id)
        .append_pair("code", grant.code)
        .append_pair("code_verifier", grant.verifier)
        .append_pair("grant_type", "authorization_code")
        .append_pair("redirect_uri", grant.redirect_uri)
        .append_pair("state", grant.state)
        .finish();
    let url = format!("{base}/v1/oauth/token");
    let answer = post(
        &url,
        "application/x-www-form-urlencoded",
        &[],
        form.into_bytes(),
    )
    .await?;
    if debug {
        debug_line("token exchange", &url, &answer);
    }
    token_from(answer)
}

/// Redeems a refresh token (a JSON body with the OAuth beta).
pub async fn refresh(
    base: &str,
    client_id: &str,
    refresh_token: &str,
    debug: bool,
) -> Result<Value> {
    let body = json!({
        "client_id": client_id,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    });
    let url = format!("{base}/v1/oauth/token");
    let answer = post(
        &url,
        "application/json",
        &[("anthropic-beta", OAUTH_BETA)],
        serde_json::to_vec(&body).expect("json"),
    )
    .await?;
    if debug {
        debug_line("token refresh", &url, &answer);
    }
    token_from(answer)
}

/// The credentials file for a fresh login: every field of the token
/// response, `expires_at` = now + `expires_in`.
pub fn credentials_from(token: &Value) -> Value {
    let mut c = serde_json::Map::new();
    c.insert("version".into(), json!("1.0"));
    c.insert("type".into(), json!("oauth_token"));
    // The official order of the fields.
    let expires_at = token
        .get("expires_in")
        .and_then(Value::as_i64)
        .map(|s| json!(store::now().saturating_add(s)));
    for (key, pointer) in [
        ("access_token", "/access_token"),
        ("expires_at", ""),
        ("refresh_token", "/refresh_token"),
        ("scope", "/scope"),
        ("organization_uuid", "/organization/uuid"),
        ("organization_name", "/organization/name"),
        ("account_email", "/account/email_address"),
        ("workspace_id", "/workspace/id"),
        ("workspace_name", "/workspace/name"),
    ] {
        let value = match key {
            "expires_at" => expires_at.clone(),
            _ => text(Some(token), pointer).map(|v| json!(v)),
        };
        if let Some(v) = value {
            c.insert(key.into(), v);
        }
    }
    Value::Object(c)
}

/// Folds a token response into stored credentials: the access token and
/// its expiry, and the refresh token, scope, organization and account when
/// returned. Every other field stays (the official SDK drops some).
pub fn apply(creds: &mut Value, token: &Value) {
    let Some(c) = creds.as_object_mut() else {
        return;
    };
    for (key, pointer) in [
        ("access_token", "/access_token"),
        ("refresh_token", "/refresh_token"),
        ("scope", "/scope"),
        ("account_email", "/account/email_address"),
    ] {
        if let Some(v) = text(Some(token), pointer) {
            c.insert(key.into(), json!(v));
        }
    }
    if let Some(secs) = token.get("expires_in").and_then(Value::as_i64) {
        c.insert(
            "expires_at".into(),
            json!(store::now().saturating_add(secs)),
        );
    }
    if let Some(org) = text(Some(token), "/organization/uuid") {
        c.insert("organization_uuid".into(), json!(org));
        if let Some(n) = text(Some(token), "/organization/name") {
            c.insert("organization_name".into(), json!(n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_travel_over_https_or_to_loopback_only() {
        for ok in [
            "https://api.anthropic.com",
            "http://127.0.0.1:4010",
            "http://localhost:8080/x",
            "http://[::1]:9",
        ] {
            assert!(is_secure(ok), "{ok}");
        }
        for bad in [
            "http://api.example.com",
            "http://10.0.0.1",
            "ftp://x",
            "nope",
        ] {
            assert!(!is_secure(bad), "{bad}");
        }
    }

    #[test]
    fn the_public_console_only_exchanges_with_the_public_api() {
        assert_eq!(
            token_base(DEFAULT_CONSOLE_URL, DEFAULT_BASE_URL).unwrap(),
            DEFAULT_BASE_URL
        );
        assert!(token_base(DEFAULT_CONSOLE_URL, "http://127.0.0.1:1").is_err());
        assert!(token_base("http://127.0.0.1:1", "http://127.0.0.1:1").is_ok());
        assert!(token_base("https://console.example", "http://api.example").is_err());
    }

    #[test]
    fn a_refresh_keeps_every_field_it_does_not_replace() {
        let mut c = json!({"version": "1.0", "type": "oauth_token", "access_token": "old",
                           "refresh_token": "r1", "organization_uuid": "o", "organization_name": "Acme",
                           "account_email": "a@b", "workspace_id": "wrkspc_1", "workspace_name": "W",
                           "custom": 1});
        apply(
            &mut c,
            &json!({"access_token": "new", "expires_in": 60, "token_type": "Bearer"}),
        );
        assert_eq!(c["access_token"], "new");
        assert_eq!(c["refresh_token"], "r1");
        for k in [
            "organization_uuid",
            "organization_name",
            "account_email",
            "workspace_id",
            "workspace_name",
            "custom",
        ] {
            assert!(c.get(k).is_some(), "{k} lost: {c}");
        }
        let exp = c["expires_at"].as_i64().unwrap();
        assert!((store::now() + 55..=store::now() + 65).contains(&exp));
    }

    #[test]
    fn any_expires_in_a_server_sends_is_taken_without_overflow() {
        for (secs, want) in [(i64::MAX, i64::MAX), (i64::MIN, i64::MIN + store::now())] {
            let token = json!({"access_token": "a", "expires_in": secs});
            assert_eq!(credentials_from(&token)["expires_at"], want);
            let mut c = json!({});
            apply(&mut c, &token);
            assert_eq!(c["expires_at"], want);
        }
    }

    #[test]
    fn a_login_stores_every_token_field() {
        let c = credentials_from(&json!({
            "access_token": "a", "refresh_token": "r", "expires_in": 3600, "token_type": "Bearer",
            "scope": "user:inference", "organization": {"uuid": "o", "name": "Acme"},
            "account": {"uuid": "u", "email_address": "dev@acme.test"},
            "workspace": {"id": "wrkspc_1", "name": "Main"}}));
        assert_eq!(c["type"], "oauth_token");
        assert_eq!(c["organization_name"], "Acme");
        assert_eq!(c["account_email"], "dev@acme.test");
        assert_eq!(c["workspace_id"], "wrkspc_1");
        assert_eq!(c["workspace_name"], "Main");
        assert_eq!(c["scope"], "user:inference");
    }
}

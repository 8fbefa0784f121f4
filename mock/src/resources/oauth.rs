//! A real OAuth 2.0 authorization server, so sign-in can be tested offline
//! with `ant` or the official clients: `GET /oauth/authorize` (PKCE S256,
//! approving at once or, with `--oauth-deny`, refusing), the console's
//! code page `GET /oauth/code/callback`, and `POST /v1/oauth/token` for the
//! `authorization_code`, `refresh_token` and jwt-bearer (workload identity
//! federation) grants. Errors follow RFC 6749. Issued access tokens are
//! accepted as `Authorization: Bearer` on every API route until they expire.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde_json::{Value, json};

use super::Reply;
use crate::form::parse_query;
use crate::store::oauth::{Grant, Pending};
use crate::store::{ApiError, Shared};

/// Issued access tokens start with this (other bearer values are accepted
/// as they are, like API keys).
pub const ACCESS_PREFIX: &str = "sk-ant-oat01-antmock-";
const REFRESH_PREFIX: &str = "sk-ant-ort01-antmock-";
const CODE_TTL: Duration = Duration::from_secs(600);
/// The path of the console's code page (the manual redirect).
pub const CODE_PAGE: &str = "/oauth/code/callback";
const OAUTH_BETA: &str = "oauth-2025-04-20";
const ORG_NAME: &str = "ant-mock";
const ORG_UUID: &str = "00000000-0000-4000-8000-00000000a17e";
const EMAIL: &str = "developer@ant-mock.local";
const WORKSPACE: &str = "wrkspc_01antmockdefault0000000";

/// Whether a request is one of the OAuth routes (they need no API key).
pub fn is_oauth_route(method: &str, path: &str) -> bool {
    matches!(
        (method, path),
        ("GET", "/oauth/authorize") | ("GET", CODE_PAGE) | ("POST", "/v1/oauth/token")
    )
}

/// What an OAuth route needs from the request.
pub struct OAuthRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub host: &'a str,
    pub content_type: &'a str,
    pub body: &'a Bytes,
}

pub fn handle(shared: &Shared, r: &OAuthRequest<'_>) -> Reply {
    match (r.method, r.path) {
        ("GET", "/oauth/authorize") => authorize(shared, r),
        ("GET", CODE_PAGE) => code_page(r.query),
        _ => token(shared, r),
    }
}

fn html(status: u16, title: &str, body: &str) -> Reply {
    Reply::Raw {
        status,
        content_type: "text/html; charset=utf-8".into(),
        body: Bytes::from(format!(
            "<!doctype html><html><head><title>{t}</title></head>\
             <body style=\"font-family:system-ui;text-align:center;padding:4em\">\
             <h2>{t}</h2>{body}</body></html>",
            t = escape(title)
        )),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An RFC 6749 error response.
fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::Json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// Adds `pairs` to a redirect URI's query.
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut q = String::new();
    for (k, v) in pairs {
        let enc = |s: &str| {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        };
        q.push(if q.is_empty() && !uri.contains('?') {
            '?'
        } else {
            '&'
        });
        q.push_str(&format!("{}={}", enc(k), enc(v)));
    }
    format!("{uri}{q}")
}

/// A loopback redirect (`http://localhost|127.0.0.1|[::1]:<port>/...`), or
/// this server's own code page (`/oauth/code/callback?app=anthropic-cli`).
fn redirect_allowed(uri: &str, host: &str) -> Result<(), String> {
    if uri
        .chars()
        .any(|c| c.is_control() || c == ' ' || !c.is_ascii())
    {
        return Err("redirect_uri must be an ASCII URL without spaces".into());
    }
    let Some(rest) = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
    else {
        return Err("redirect_uri must be an http(s) URL".into());
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let name = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if authority.eq_ignore_ascii_case(host) {
        if path == format!("{CODE_PAGE}?app=anthropic-cli") {
            return Ok(());
        }
        return Err(format!(
            "redirect_uri on this server must be {CODE_PAGE}?app=anthropic-cli"
        ));
    }
    if loopback && uri.starts_with("http://") {
        return Ok(());
    }
    Err(format!(
        "redirect_uri {uri:?} is not registered: use a loopback http:// URL or {CODE_PAGE}?app=anthropic-cli on this server"
    ))
}

fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `GET /oauth/authorize`.
fn authorize(shared: &Shared, r: &OAuthRequest<'_>) -> Reply {
    let q: HashMap<String, String> = parse_query(r.query).into_iter().collect();
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    // Until the client and redirect are known to be good, errors are shown
    // here, never sent to the redirect (RFC 6749 4.1.2.1).
    let Some(client_id) = get("client_id") else {
        return html(400, "Invalid request", "<p>client_id is required.</p>");
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return html(400, "Invalid request", "<p>redirect_uri is required.</p>");
    };
    if let Err(e) = redirect_allowed(redirect_uri, r.host) {
        return html(
            400,
            "Invalid redirect_uri",
            &format!("<p>{}</p>", escape(&e)),
        );
    }
    let state = get("state").unwrap_or_default();
    let fail = |error: &str, desc: &str| {
        let mut pairs = vec![("error", error), ("error_description", desc)];
        if !state.is_empty() {
            pairs.push(("state", state));
        }
        Reply::Redirect(with_query(redirect_uri, &pairs))
    };
    if get("response_type") != Some("code") {
        return fail("unsupported_response_type", "response_type must be code");
    }
    if state.is_empty() {
        return fail("invalid_request", "state is required");
    }
    let Some(challenge) = get("code_challenge").filter(|c| is_pkce_value(c)) else {
        return fail(
            "invalid_request",
            "code_challenge is required: 43 to 128 characters of [A-Za-z0-9-._~]",
        );
    };
    if get("code_challenge_method") != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256");
    }
    if shared.config.oauth_deny {
        return fail(
            "access_denied",
            "The user denied the request (ant-mock --oauth-deny)",
        );
    }
    let grant = Grant {
        client_id: client_id.to_string(),
        scope: get("scope")
            .unwrap_or("user:profile user:inference")
            .to_string(),
        org: get("orgUUID").unwrap_or(ORG_UUID).to_string(),
        workspace: get("workspace_id").unwrap_or(WORKSPACE).to_string(),
    };
    let code = format!("antmock-code-{}", random());
    shared.oauth.lock().codes.insert(
        code.clone(),
        Pending {
            grant,
            redirect_uri: redirect_uri.to_string(),
            challenge: challenge.to_string(),
            state: state.to_string(),
            issued: Instant::now(),
            used: false,
        },
    );
    Reply::Redirect(with_query(
        redirect_uri,
        &[("code", &code), ("state", state)],
    ))
}

/// `GET /oauth/code/callback`: the page that shows `code#state` to paste.
fn code_page(query: &str) -> Reply {
    let q: HashMap<String, String> = parse_query(query).into_iter().collect();
    if let Some(e) = q.get("error") {
        let desc = q.get("error_description").cloned().unwrap_or_default();
        return html(
            400,
            "Authorization failed",
            &format!("<p>{}: {}</p>", escape(e), escape(&desc)),
        );
    }
    match (q.get("code"), q.get("state")) {
        (Some(code), Some(state)) => html(
            200,
            "Authorization code",
            &format!(
                "<p>Paste this code into your terminal:</p><pre><code id=\"code\">{}#{}</code></pre>",
                escape(code),
                escape(state)
            ),
        ),
        _ => html(
            400,
            "Invalid request",
            "<p>code and state are required.</p>",
        ),
    }
}

fn random() -> String {
    (0..32)
        .map(|_| {
            let i = fastrand::usize(..62);
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[i] as char
        })
        .collect()
}

/// A token request's fields.
struct Fields(HashMap<String, String>);

impl Fields {
    /// A field, when present and not empty.
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The request fields, from a form or a JSON body.
fn fields(r: &OAuthRequest<'_>) -> Result<Fields, Reply> {
    let ct = r.content_type.split(';').next().unwrap_or("").trim();
    if ct.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        let text = std::str::from_utf8(r.body)
            .map_err(|_| oauth_error(400, "invalid_request", "the form is not UTF-8"))?;
        return Ok(Fields(parse_query(text).into_iter().collect()));
    }
    if ct.eq_ignore_ascii_case("application/json") {
        let v: Value = serde_json::from_slice(r.body)
            .map_err(|e| oauth_error(400, "invalid_request", &format!("invalid JSON: {e}")))?;
        let Some(o) = v.as_object() else {
            return Err(oauth_error(
                400,
                "invalid_request",
                "the body must be a JSON object",
            ));
        };
        return Ok(Fields(
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect(),
        ));
    }
    Err(oauth_error(
        400,
        "invalid_request",
        "Content-Type must be application/x-www-form-urlencoded or application/json",
    ))
}

/// `POST /v1/oauth/token`.
fn token(shared: &Shared, r: &OAuthRequest<'_>) -> Reply {
    let f = match fields(r) {
        Ok(f) => f,
        Err(reply) => return reply,
    };
    match f.get("grant_type") {
        Some("authorization_code") => authorization_code(shared, &f),
        Some("refresh_token") => refresh(shared, &f),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => jwt_bearer(shared, &f),
        Some(other) => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("grant_type {other:?} is not supported"),
        ),
        None => oauth_error(400, "invalid_request", "grant_type is required"),
    }
}

/// Issues an access token (and a refresh token when `refreshable`).
fn issue(shared: &Shared, g: &Grant, refreshable: bool) -> Value {
    let ttl = shared.config.token_ttl;
    let access = format!("{ACCESS_PREFIX}{}", random());
    let mut tokens = shared.oauth.lock();
    tokens.access.insert(access.clone(), {
        // Saturating: `Config::token_ttl` may be any number.
        let now = Instant::now();
        (now.checked_add(Duration::from_secs(ttl)))
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
    });
    let mut v = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": g.scope,
        "organization": {"uuid": g.org, "name": ORG_NAME},
        "account": {"uuid": "00000000-0000-4000-8000-0000000acc01", "email_address": EMAIL},
        "workspace": {"id": g.workspace, "name": "Default"},
    });
    if refreshable {
        let rt = format!("{REFRESH_PREFIX}{}", random());
        tokens.refresh.insert(rt.clone(), g.clone());
        v["refresh_token"] = json!(rt);
    }
    v
}

fn authorization_code(shared: &Shared, f: &Fields) -> Reply {
    for k in ["code", "client_id", "redirect_uri", "code_verifier"] {
        if f.get(k).is_none() {
            return oauth_error(400, "invalid_request", &format!("{k} is required"));
        }
    }
    let code = f.get("code").unwrap_or_default();
    let grant = {
        let mut tokens = shared.oauth.lock();
        let Some(p) = tokens.codes.get_mut(code) else {
            return oauth_error(400, "invalid_grant", "unknown authorization code");
        };
        if p.used {
            return oauth_error(400, "invalid_grant", "authorization code was already used");
        }
        if p.issued.elapsed() > CODE_TTL {
            return oauth_error(400, "invalid_grant", "authorization code expired");
        }
        if f.get("client_id") != Some(p.grant.client_id.as_str()) {
            return oauth_error(
                400,
                "invalid_grant",
                "client_id does not match the authorization",
            );
        }
        if f.get("redirect_uri") != Some(p.redirect_uri.as_str()) {
            return oauth_error(
                400,
                "invalid_grant",
                "redirect_uri does not match the authorization",
            );
        }
        if f.get("state").is_some_and(|s| s != p.state) {
            return oauth_error(
                400,
                "invalid_grant",
                "state does not match the authorization",
            );
        }
        let verifier = f.get("code_verifier").unwrap_or_default();
        if !is_pkce_value(verifier) || ant::auth::pkce::challenge_s256(verifier) != p.challenge {
            return oauth_error(
                400,
                "invalid_grant",
                "code_verifier does not match the code_challenge",
            );
        }
        p.used = true;
        p.grant.clone()
    };
    Reply::ok(issue(shared, &grant, true))
}

fn refresh(shared: &Shared, f: &Fields) -> Reply {
    let (Some(rt), Some(client_id)) = (f.get("refresh_token"), f.get("client_id")) else {
        return oauth_error(
            400,
            "invalid_request",
            "refresh_token and client_id are required",
        );
    };
    let grant = {
        let mut tokens = shared.oauth.lock();
        match tokens.refresh.get(rt) {
            None => {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "unknown or already used refresh token",
                );
            }
            Some(g) if g.client_id != client_id => {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "client_id does not match the refresh token",
                );
            }
            Some(_) => tokens.refresh.remove(rt).expect("present"),
        }
    };
    Reply::ok(issue(shared, &grant, true))
}

/// The claims of a well-formed JWT (three base64url parts, JSON header
/// with `alg`, JSON payload); signatures are not checked.
fn jwt_claims(assertion: &str) -> Result<Value, String> {
    let parts: Vec<&str> = assertion.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err("assertion is not a JWT (header.payload.signature)".into());
    }
    let decode = |p: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .map_err(|_| "assertion is not base64url".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "assertion part is not JSON".to_string())
    };
    let header = decode(parts[0])?;
    if header.get("alg").and_then(Value::as_str).is_none() {
        return Err("assertion header has no alg".into());
    }
    let claims = decode(parts[1])?;
    if let Some(exp) = claims.get("exp").and_then(Value::as_f64) {
        let now = crate::store::now_ms() as f64 / 1000.0;
        if exp < now {
            return Err("assertion expired".into());
        }
    }
    Ok(claims)
}

fn jwt_bearer(shared: &Shared, f: &Fields) -> Reply {
    let Some(assertion) = f.get("assertion") else {
        return oauth_error(400, "invalid_request", "assertion is required");
    };
    let (Some(rule), Some(org)) = (f.get("federation_rule_id"), f.get("organization_id")) else {
        return oauth_error(
            400,
            "invalid_request",
            "federation_rule_id and organization_id are required",
        );
    };
    let rule_ok = match &shared.config.federation_rule {
        Some(want) => rule == want,
        None => rule.starts_with("fdrl_"),
    };
    if !rule_ok {
        return oauth_error(
            401,
            "invalid_grant",
            "no federation rule matches the identity token",
        );
    }
    if let Err(e) = jwt_claims(assertion) {
        return oauth_error(401, "invalid_grant", &e);
    }
    let grant = Grant {
        client_id: String::new(),
        scope: "user:inference".into(),
        org: org.to_string(),
        workspace: f.get("workspace_id").unwrap_or(WORKSPACE).to_string(),
    };
    let mut v = issue(shared, &grant, false);
    if let Some(o) = v.as_object_mut() {
        o.remove("account");
        if let Some(sa) = f.get("service_account_id") {
            o.insert("service_account".into(), json!({"id": sa}));
        }
    }
    Reply::ok(v)
}

/// Checks a bearer token on an API route: tokens this server issued must be
/// known and unexpired, and come with the `oauth-2025-04-20` beta.
pub fn check_bearer(shared: &Shared, token: &str, betas: &str) -> Result<(), ApiError> {
    if !token.starts_with(ACCESS_PREFIX) {
        return Ok(());
    }
    let expires = shared.oauth.lock().access.get(token).copied();
    match expires {
        None => Err(ApiError::new(
            401,
            "authentication_error",
            "Invalid bearer token",
        )),
        Some(t) if Instant::now() >= t => Err(ApiError::new(
            401,
            "authentication_error",
            "OAuth token has expired",
        )),
        Some(_) if !betas.split(',').any(|b| b.trim() == OAUTH_BETA) => Err(ApiError::new(
            401,
            "authentication_error",
            "OAuth authentication requires the anthropic-beta header oauth-2025-04-20",
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_must_be_loopback_or_the_code_page() {
        let host = "127.0.0.1:4010";
        assert!(redirect_allowed("http://localhost:5555/callback", host).is_ok());
        assert!(redirect_allowed("http://127.0.0.1:5555/callback", host).is_ok());
        assert!(redirect_allowed("http://[::1]:5555/callback", host).is_ok());
        assert!(
            redirect_allowed(
                "http://127.0.0.1:4010/oauth/code/callback?app=anthropic-cli",
                host
            )
            .is_ok()
        );
        assert!(redirect_allowed("http://127.0.0.1:4010/elsewhere", host).is_err());
        assert!(redirect_allowed("http://evil.example/callback", host).is_err());
        assert!(redirect_allowed("https://localhost:5555/callback", host).is_err());
        assert!(redirect_allowed("http://localhost:5555/x\r\nset-cookie: a", host).is_err());
    }

    #[test]
    fn jwts_must_be_well_formed_and_unexpired() {
        let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let jwt = |claims: Value| format!("{}.{}.sig", part(json!({"alg": "RS256"})), part(claims));
        assert!(jwt_claims(&jwt(json!({"sub": "repo:x"}))).is_ok());
        assert!(jwt_claims(&jwt(json!({"exp": 1}))).is_err());
        assert!(jwt_claims("a.b").is_err());
        assert!(jwt_claims("x.y.z").is_err());
        let no_alg = format!("{}.{}.s", part(json!({})), part(json!({})));
        assert!(jwt_claims(&no_alg).is_err());
    }

    #[test]
    fn redirect_queries_are_appended_and_encoded() {
        assert_eq!(
            with_query(
                "http://localhost:1/callback",
                &[("code", "a b"), ("state", "s")]
            ),
            "http://localhost:1/callback?code=a%20b&state=s"
        );
        assert_eq!(
            with_query(
                "http://h/oauth/code/callback?app=anthropic-cli",
                &[("code", "c")]
            ),
            "http://h/oauth/code/callback?app=anthropic-cli&code=c"
        );
    }
}

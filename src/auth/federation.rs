//! Workload identity federation (RFC 7523 jwt-bearer): which inputs it
//! needs, reading the identity token, and exchanging it for an access token
//! at `POST <scheme>://<host>/v1/oauth/token`, with the official error texts.
//! One attempt per exchange: a failed exchange is reported, not retried.

use std::io::Read;
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::oauth;
use super::store;
use crate::error::{Error, Result};
use crate::http::debug;

/// Largest identity token accepted, in bytes.
pub const MAX_IDENTITY_TOKEN: usize = 16 * 1024;
/// The betas of the exchange request.
pub const EXCHANGE_BETAS: &str = "oauth-2025-04-20,oidc-federation-2026-04-01";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub const MISSING_TOKEN: &str = "--identity-token[-file] / ANTHROPIC_IDENTITY_TOKEN[_FILE]";
pub const MISSING_RULE: &str = "--federation-rule / ANTHROPIC_FEDERATION_RULE_ID";
pub const MISSING_ORG: &str = "--organization-id / ANTHROPIC_ORGANIZATION_ID";

/// The federation flags and their variables, as given (empty means unset).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub identity_token: Option<String>,
    pub identity_token_file: Option<String>,
    pub federation_rule: Option<String>,
    pub organization_id: Option<String>,
    pub service_account_id: Option<String>,
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Inputs {
    /// Any input set, `--organization-id` or `--service-account-id` alone
    /// included: then federation is the credential (unless a higher tier wins).
    pub fn any_set(&self) -> bool {
        [
            &self.identity_token,
            &self.identity_token_file,
            &self.federation_rule,
            &self.organization_id,
            &self.service_account_id,
        ]
        .into_iter()
        .any(|v| set(v).is_some())
    }

    /// The required inputs that are missing, in the official order and words.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut m = Vec::new();
        if set(&self.identity_token).is_none() && set(&self.identity_token_file).is_none() {
            m.push(MISSING_TOKEN);
        }
        if set(&self.federation_rule).is_none() {
            m.push(MISSING_RULE);
        }
        if set(&self.organization_id).is_none() {
            m.push(MISSING_ORG);
        }
        m
    }

    /// The exchange these inputs describe, or why there is none: the
    /// partial-configuration error (exit 3), two token sources (exit 2), a
    /// literal token over the size limit (exit 3). Nothing is sent.
    pub fn exchange(&self) -> Result<Exchange> {
        let missing = self.missing();
        if !missing.is_empty() {
            return Err(Error::Auth(format!(
                "oauth: federation partially configured, missing: {}",
                missing.join(", ")
            )));
        }
        let identity = match (set(&self.identity_token), set(&self.identity_token_file)) {
            (Some(_), Some(_)) => {
                return Err(Error::usage(
                    "oauth: --identity-token and --identity-token-file are mutually exclusive",
                ));
            }
            (Some(t), None) => {
                check_size(t)?;
                Identity::Literal(t.to_string())
            }
            (None, Some(f)) => Identity::File(PathBuf::from(f)),
            (None, None) => unreachable!("checked by missing()"),
        };
        Ok(Exchange {
            identity,
            rule: set(&self.federation_rule).unwrap_or_default().to_string(),
            organization_id: set(&self.organization_id).unwrap_or_default().to_string(),
            service_account_id: set(&self.service_account_id).map(String::from),
            workspace_id: None,
            base: None,
        })
    }
}

/// `failed to get credentials token: <msg>`, as an auth failure (exit 3).
pub fn failed(msg: impl std::fmt::Display) -> Error {
    Error::Auth(format!("failed to get credentials token: {msg}"))
}

fn check_size(token: &str) -> Result<()> {
    if token.len() > MAX_IDENTITY_TOKEN {
        return Err(failed(format!(
            "identity token exceeds {MAX_IDENTITY_TOKEN}-byte limit (got {} bytes)",
            token.len()
        )));
    }
    Ok(())
}

/// Where the identity token (the JWT assertion) comes from.
#[derive(Debug, Clone)]
pub enum Identity {
    Literal(String),
    /// Re-read and trimmed at every exchange (CI systems rotate it).
    File(PathBuf),
}

impl Identity {
    pub fn read(&self) -> Result<String> {
        let token = match self {
            Identity::Literal(t) => t.clone(),
            Identity::File(path) => {
                let p = path.display();
                let fail = |msg: String| failed(format!("failed to get identity token: {msg}"));
                let read_error =
                    |e: std::io::Error| fail(format!("oauth: read identity token file {p}: {e}"));
                let file = std::fs::File::open(path).map_err(read_error)?;
                let size = file.metadata().map_err(read_error)?.len();
                // Never read a huge file, a device or an endless pipe whole
                // just to refuse it: at most twice the limit (a token may
                // come with whitespace around it).
                let cap = (MAX_IDENTITY_TOKEN as u64) * 2;
                if size > cap {
                    return Err(failed(format!(
                        "identity token exceeds {MAX_IDENTITY_TOKEN}-byte limit (got {size} bytes)"
                    )));
                }
                let mut text = String::new();
                file.take(cap + 1)
                    .read_to_string(&mut text)
                    .map_err(read_error)?;
                if text.len() as u64 > cap {
                    return Err(failed(format!(
                        "identity token exceeds {MAX_IDENTITY_TOKEN}-byte limit (got more than {cap} bytes)"
                    )));
                }
                let t = text.trim();
                if t.is_empty() {
                    return Err(fail(format!("oauth: identity token file {p} is empty")));
                }
                t.to_string()
            }
        };
        check_size(&token)?;
        Ok(token)
    }
}

/// One federation configuration: what is exchanged, and where.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub identity: Identity,
    pub rule: String,
    pub organization_id: String,
    pub service_account_id: Option<String>,
    /// Sent in the body (profile variant only; the flags send the
    /// workspace as a header on API requests instead).
    pub workspace_id: Option<String>,
    /// A fixed token endpoint base (a profile's `base_url`); else the
    /// origin of the API request.
    pub base: Option<String>,
}

/// An access token and when it expires (Unix seconds; `None` = never).
#[derive(Debug, Clone)]
pub struct Token {
    pub access_token: String,
    pub expires_at: Option<i64>,
}

impl Exchange {
    /// The exchange request body, keys in the official order.
    fn body(&self, assertion: &str) -> Value {
        let mut b = Map::new();
        b.insert("grant_type".into(), json!(JWT_BEARER));
        b.insert("assertion".into(), json!(assertion));
        b.insert("federation_rule_id".into(), json!(self.rule));
        b.insert("organization_id".into(), json!(self.organization_id));
        if let Some(s) = &self.service_account_id {
            b.insert("service_account_id".into(), json!(s));
        }
        if let Some(w) = &self.workspace_id {
            b.insert("workspace_id".into(), json!(w));
        }
        Value::Object(b)
    }

    /// Exchanges the identity token for an access token. `origin` is the
    /// API request's `scheme://host[:port]`.
    pub async fn run(&self, origin: &str, debug: bool) -> Result<Token> {
        let base = match &self.base {
            Some(b) => crate::http::origin(b),
            None => origin.to_string(),
        };
        if !oauth::is_secure(&base) {
            return Err(failed(format!(
                "refusing to send credential over non-https token endpoint {base:?}"
            )));
        }
        let assertion = self.identity.read()?;
        let url = format!("{base}/v1/oauth/token");
        let body = self.body(&assertion);
        if debug {
            let mut shown = body.clone();
            shown["assertion"] = json!("[redacted]");
            let shown = crate::request::Request {
                method: "POST",
                path: "/v1/oauth/token".into(),
                query: vec![],
                headers: vec![],
                body: crate::request::Body::Json(shown),
            };
            debug::request(
                &shown,
                &url,
                &[
                    ("content-type".into(), "application/json".into()),
                    ("anthropic-beta".into(), EXCHANGE_BETAS.into()),
                ],
            );
        }
        let answer = oauth::post(
            &url,
            "application/json",
            &[("anthropic-beta", EXCHANGE_BETAS)],
            serde_json::to_vec(&body).expect("json"),
        )
        .await
        .map_err(|e| match e {
            Error::Network(m) => Error::Network(format!("failed to get credentials token: {m}")),
            Error::Timeout(m) => Error::Timeout(format!("failed to get credentials token: {m}")),
            Error::Auth(m) => failed(m),
            other => other,
        })?;
        if debug {
            debug::note(&format!(
                "< {} (request_id={})",
                answer.status, answer.request_id
            ));
            debug::body(&answer.body);
        }
        if answer.status != reqwest::StatusCode::OK {
            return Err(failed(self.error_text(&answer)));
        }
        let v: Value = serde_json::from_slice(&answer.body)
            .map_err(|e| failed(format!("token exchange response is not JSON: {e}")))?;
        let access_token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| failed("token exchange response missing access_token"))?;
        if let Some(t) = v.get("token_type").and_then(Value::as_str)
            && !t.eq_ignore_ascii_case("bearer")
        {
            return Err(failed(format!(
                "token exchange response has unsupported token_type {t:?}"
            )));
        }
        let expires_at = v
            .get("expires_in")
            .and_then(Value::as_i64)
            .map(|s| store::now().saturating_add(s));
        Ok(Token {
            access_token: access_token.to_string(),
            expires_at,
        })
    }

    /// `oauth token request failed (status N); request id R; <error>: <desc>`,
    /// plus the official hint on a 401.
    fn error_text(&self, answer: &oauth::Answer) -> String {
        let mut s = format!(
            "oauth token request failed (status {})",
            answer.status.as_u16()
        );
        if !answer.request_id.is_empty() {
            s.push_str(&format!("; request id {}", answer.request_id));
        }
        s.push_str("; ");
        s.push_str(&describe_error_body(&answer.body));
        if answer.status == reqwest::StatusCode::UNAUTHORIZED {
            s.push_str(". Ensure your federation rule matches your identity token.");
            if self.workspace_id.is_none() {
                s.push_str(
                    " If your federation rule is scoped to multiple workspaces, set the \
                     ANTHROPIC_WORKSPACE_ID environment variable, the 'workspace_id' config key, \
                     or the WorkspaceID field on option.FederationOptions.",
                );
            }
            s.push_str(
                " View your authentication events in the Workload identity page of Claude \
                 Console for more details.",
            );
        }
        s
    }
}

/// An OAuth error body for a message: `error: error_description` (RFC
/// 6749), else only its `error*` keys, never other content (it could echo
/// the assertion). At most 2000 characters.
fn describe_error_body(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => match (o.get("error"), o.get("error_description")) {
            (Some(Value::String(e)), Some(Value::String(d))) if !d.is_empty() => {
                format!("{e}: {d}")
            }
            (Some(Value::String(e)), _) => e.clone(),
            _ => {
                let kept: Map<String, Value> = o
                    .into_iter()
                    .filter(|(k, _)| {
                        matches!(k.as_str(), "error" | "error_description" | "error_uri")
                    })
                    .collect();
                Value::Object(kept).to_string()
            }
        },
        _ => "[redacted; not a JSON error response]".to_string(),
    };
    if text.chars().count() > 2000 {
        text.chars().take(2000).collect::<String>() + "…"
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(token: &str, file: &str, rule: &str, org: &str) -> Inputs {
        let s = |v: &str| (!v.is_empty()).then(|| v.to_string());
        Inputs {
            identity_token: s(token),
            identity_token_file: s(file),
            federation_rule: s(rule),
            organization_id: s(org),
            service_account_id: None,
        }
    }

    #[test]
    fn partial_configuration_names_what_is_missing_in_order() {
        let only_org = inputs("", "", "", "org-1");
        assert!(only_org.any_set());
        let e = only_org.exchange().unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert_eq!(
            e.to_string(),
            "oauth: federation partially configured, missing: \
             --identity-token[-file] / ANTHROPIC_IDENTITY_TOKEN[_FILE], \
             --federation-rule / ANTHROPIC_FEDERATION_RULE_ID"
        );
        assert!(!inputs("", "", "", "").any_set());
        let both = inputs("jwt", "/tmp/x", "fdrl_1", "org");
        assert_eq!(both.exchange().unwrap_err().exit_code(), 2);
        assert!(inputs("jwt", "", "fdrl_1", "org").exchange().is_ok());
    }

    #[test]
    fn identity_tokens_over_16_kib_are_refused() {
        let big = "a".repeat(MAX_IDENTITY_TOKEN + 1);
        let e = inputs(&big, "", "fdrl_1", "org").exchange().unwrap_err();
        assert_eq!(
            e.to_string(),
            "failed to get credentials token: identity token exceeds 16384-byte limit (got 16385 bytes)"
        );
        assert!(inputs(&big[1..], "", "fdrl_1", "org").exchange().is_ok());
    }

    #[test]
    fn identity_token_files_are_trimmed_and_must_not_be_empty() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("id.jwt");
        std::fs::write(&f, "  a.b.c\n").unwrap();
        assert_eq!(Identity::File(f.clone()).read().unwrap(), "a.b.c");
        std::fs::write(&f, "\n").unwrap();
        let e = Identity::File(f.clone()).read().unwrap_err().to_string();
        assert!(e.starts_with("failed to get credentials token: failed to get identity token: oauth: identity token file"), "{e}");
        assert!(e.ends_with("is empty"), "{e}");
        let e = Identity::File(d.path().join("nope"))
            .read()
            .unwrap_err()
            .to_string();
        assert!(e.contains("oauth: read identity token file"), "{e}");
    }

    #[test]
    fn the_body_keeps_the_official_key_order() {
        let mut x = inputs("jwt", "", "fdrl_1", "org-1").exchange().unwrap();
        x.service_account_id = Some("svac_1".into());
        assert_eq!(
            x.body("jwt").to_string(),
            r#"{"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer","assertion":"jwt","federation_rule_id":"fdrl_1","organization_id":"org-1","service_account_id":"svac_1"}"#
        );
    }

    #[test]
    fn error_bodies_never_echo_more_than_their_error_fields() {
        assert_eq!(
            describe_error_body(br#"{"error":"invalid_grant","error_description":"bad rule"}"#),
            "invalid_grant: bad rule"
        );
        assert_eq!(
            describe_error_body(br#"{"error":"invalid_grant"}"#),
            "invalid_grant"
        );
        assert_eq!(
            describe_error_body(br#"{"type":"error","error":{"type":"x"},"assertion":"secret"}"#),
            r#"{"error":{"type":"x"}}"#
        );
        assert_eq!(
            describe_error_body(b"<html>secret</html>"),
            "[redacted; not a JSON error response]"
        );
    }
}

//! The `--debug` log: each request and response on stderr as it happens,
//! with keys, tokens and cookies redacted, and every field the API
//! documents as a secret masked in bodies, query strings and form fields
//! (the knowledge lives in [`crate::api::secrets`]).

use std::io::Write;

use serde_json::Value;

use crate::api::Operation;
use crate::api::secrets::{self, Action, MASK};
use crate::request::{Body, Request};

const SECRET_HEADERS: &[&str] = &[
    "x-api-key",
    "api-key",
    "cookie",
    "set-cookie",
    "anthropic-environment-key",
];

pub fn redact_header(name: &str, value: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower == "authorization" {
        let scheme = value.split_whitespace().next().unwrap_or("");
        return format!("{scheme} [redacted]");
    }
    if SECRET_HEADERS.contains(&lower.as_str()) {
        return "[redacted]".into();
    }
    value.to_string()
}

/// Redacts the values of secret fields in JSON text (by name: responses
/// carry no schema here); other text is scanned for `"key": "value"` pairs.
pub fn redact_body(bytes: &[u8]) -> String {
    if let Ok(mut v) = serde_json::from_slice::<Value>(bytes) {
        secrets::scrub(&mut v, None, Action::Mask);
        return v.to_string();
    }
    redact_text(&String::from_utf8_lossy(bytes))
}

/// Redacts `"secret_key": "value"` pairs inside arbitrary text (SSE lines).
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(q) = rest.find('"') {
        out.push_str(&rest[..=q]);
        rest = &rest[q + 1..];
        let Some(end) = rest.find('"') else { break };
        let key = &rest[..end];
        out.push_str(&rest[..=end]);
        rest = &rest[end + 1..];
        if !secrets::is_secret_name(key) {
            continue;
        }
        let after = rest.trim_start();
        let Some(after_colon) = after.strip_prefix(':') else {
            continue;
        };
        let value = after_colon.trim_start();
        if let Some(v) = value.strip_prefix('"') {
            let mut i = 0;
            let bytes = v.as_bytes();
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            let consumed = rest.len() - value.len();
            out.push_str(&rest[..consumed]);
            out.push_str(&format!("\"{MASK}\""));
            rest = &v[(i + 1).min(v.len())..];
        }
    }
    out.push_str(rest);
    out
}

fn emit(line: &str) {
    let stderr = std::io::stderr();
    let mut e = stderr.lock();
    let _ = writeln!(e, "{line}");
}

pub fn note(msg: &str) {
    emit(&format!("[debug] {msg}"));
}

/// Logs a request: the URL (secret query values masked), headers and body,
/// its secrets found through the schemas of the operation it was built for.
pub fn request(req: &Request, url: &str, headers: &[(String, String)]) {
    emit(request_text(req, url, headers).trim_end());
}

fn request_text(req: &Request, url: &str, headers: &[(String, String)]) -> String {
    let beta = req.query.iter().any(|(k, v)| k == "beta" && v == "true");
    let op = Operation::for_request(req.method, &req.path, beta);
    let mut s = format!("[debug] > {} {}\n", req.method, redact_query(op, req, url));
    for (k, v) in headers {
        s.push_str(&format!("[debug] > {k}: {}\n", redact_header(k, v)));
    }
    match &req.body {
        Body::None => {}
        Body::Json(v) => {
            let mut v = v.clone();
            secrets::scrub_body(op, &mut v, Action::Mask);
            s.push_str(&format!("[debug] > {v}\n"));
        }
        Body::Raw { bytes, .. } => {
            s.push_str(&format!("[debug] > {}\n", redact_body(bytes)));
        }
        Body::Multipart(parts) => {
            for p in parts {
                let shown = match &p.file {
                    Some(f) => format!(
                        "(file {:?}, {}, {} bytes)",
                        f.filename,
                        f.content_type,
                        f.data.len()
                    ),
                    None if secrets::is_secret_param(op, &p.name) => MASK.to_string(),
                    None => match serde_json::from_str::<Value>(&p.text) {
                        Ok(mut v @ (Value::Object(_) | Value::Array(_))) => {
                            let mut wrapped =
                                serde_json::json!({ p.name.trim_end_matches("[]"): v.take() });
                            secrets::scrub_body(op, &mut wrapped, Action::Mask);
                            wrapped[p.name.trim_end_matches("[]")].to_string()
                        }
                        _ => p.text.clone(),
                    },
                };
                s.push_str(&format!("[debug] > form field {:?}: {shown}\n", p.name));
            }
        }
    }
    s
}

/// `url` (which ends with the request's target) with the values of secret
/// query parameters masked.
fn redact_query(op: Option<&Operation>, req: &Request, url: &str) -> String {
    if !req
        .query
        .iter()
        .any(|(k, _)| secrets::is_secret_param(op, k))
    {
        return url.to_string();
    }
    let mut masked = req.clone();
    for (k, v) in &mut masked.query {
        if secrets::is_secret_param(op, k) {
            *v = MASK.to_string();
        }
    }
    let target = req.target();
    match url.strip_suffix(&target) {
        Some(base) => format!("{base}{}", masked.target()),
        None => masked.target(),
    }
}

pub fn response(resp: &reqwest::Response) {
    let mut s = format!("[debug] < {:?} {}\n", resp.version(), resp.status());
    for (k, v) in resp.headers() {
        let v = v.to_str().unwrap_or("(binary)");
        s.push_str(&format!(
            "[debug] < {k}: {}\n",
            redact_header(k.as_str(), v)
        ));
    }
    emit(s.trim_end());
}

pub fn body(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    emit(&format!("[debug] < {}", redact_body(bytes)));
}

/// One chunk of a streamed body, logged as it arrives.
pub fn chunk(bytes: &[u8]) {
    for line in String::from_utf8_lossy(bytes).lines() {
        emit(&format!("[debug] < {}", redact_text(line)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_headers_are_redacted_keeping_the_scheme() {
        assert_eq!(
            redact_header("Authorization", "Bearer abc"),
            "Bearer [redacted]"
        );
        assert_eq!(redact_header("x-api-key", "sk-ant-123"), "[redacted]");
        assert_eq!(redact_header("Set-Cookie", "a=b"), "[redacted]");
        assert_eq!(redact_header("anthropic-beta", "x"), "x");
    }

    #[test]
    fn secret_body_fields_are_redacted_at_any_depth() {
        let b = br#"{"id":"t1","tunnel_token":"s3cret","nested":{"access_token":"a","name":"n"}}"#;
        let out = redact_body(b);
        assert!(!out.contains("s3cret") && !out.contains("\"a\""), "{out}");
        assert!(out.contains("\"name\":\"n\""));
    }

    #[test]
    fn token_counts_and_ordinary_fields_are_kept() {
        let b = br#"{"max_tokens":10,"usage":{"input_tokens":5},"api_key":"sk-1","client_secret":"s","name":"n"}"#;
        let out = redact_body(b);
        assert!(
            out.contains(r#""max_tokens":10"#) && out.contains(r#""input_tokens":5"#),
            "{out}"
        );
        assert!(!out.contains("sk-1") && !out.contains(r#""s""#), "{out}");
    }

    fn request(method: &'static str, path: &str, query: &[(&str, &str)], body: Body) -> Request {
        Request {
            method,
            path: path.into(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            headers: vec![],
            body,
        }
    }

    #[test]
    fn request_bodies_are_redacted_by_the_operation_schema() {
        let body = serde_json::json!({
            "display_name": "d",
            "auth": {"type": "environment_variable", "secret_name": "GH", "secret_value": "S3CRET"},
        });
        let req = request(
            "POST",
            "/v1/vaults/vlt_1/credentials",
            &[("beta", "true")],
            Body::Json(body),
        );
        let text = request_text(&req, "http://h/v1/vaults/vlt_1/credentials?beta=true", &[]);
        assert!(!text.contains("S3CRET"), "{text}");
        assert!(text.contains(r#""secret_value":"[redacted]""#), "{text}");
        assert!(text.contains(r#""secret_name":"GH""#), "{text}");
    }

    #[test]
    fn query_values_and_form_fields_are_redacted() {
        let req = request(
            "GET",
            "/v1/things",
            &[("access_token", "QS3CRET"), ("limit", "5")],
            Body::None,
        );
        let text = request_text(&req, &format!("http://h{}", req.target()), &[]);
        assert!(
            !text.contains("QS3CRET") && text.contains("limit=5"),
            "{text}"
        );
        assert!(text.contains("access_token=[redacted]"), "{text}");
        let parts = vec![
            crate::request::Part {
                name: "password".into(),
                file: None,
                text: "FS3CRET".into(),
            },
            crate::request::Part {
                name: "config".into(),
                file: None,
                text: r#"{"nested":{"client_secret":"NS3CRET"},"n":1}"#.into(),
            },
            crate::request::Part {
                name: "title".into(),
                file: None,
                text: "hello".into(),
            },
        ];
        let req = request("POST", "/v1/skills", &[], Body::Multipart(parts));
        let text = request_text(&req, "http://h/v1/skills", &[]);
        assert!(!text.contains("S3CRET"), "{text}");
        assert!(text.contains(r#"form field "title": hello"#), "{text}");
        assert!(
            text.contains(r#"form field "password": [redacted]"#),
            "{text}"
        );
    }

    #[test]
    fn secrets_in_sse_text_are_redacted() {
        let line = r#"data: {"type":"x","token": "abc\"def","ok":"fine"}"#;
        let out = redact_text(line);
        assert_eq!(
            out,
            r#"data: {"type":"x","token": "[redacted]","ok":"fine"}"#
        );
    }
}

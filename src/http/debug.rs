//! The `--debug` log: each request and response on stderr as it happens,
//! with keys, tokens, cookies and secret-looking body fields redacted.

use std::io::Write;

const SECRET_HEADERS: &[&str] = &[
    "x-api-key",
    "api-key",
    "cookie",
    "set-cookie",
    "anthropic-environment-key",
];

/// Body fields whose (string) values are never logged: tokens, secrets,
/// passwords, keys and certificates, but not counts like `max_tokens`.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let word = |w: &str| k == w || k.ends_with(&format!("_{w}"));
    word("token")
        || word("secret")
        || word("password")
        || word("key") && !k.ends_with("idempotency_key")
        || word("authorization")
        || k.ends_with("certificate_pem")
        || k == "code_verifier"
}

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

/// Redacts the values of secret-looking fields in JSON text; other text is
/// scanned for `"key": "value"` pairs.
pub fn redact_body(bytes: &[u8]) -> String {
    if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        redact_value(&mut v);
        return v.to_string();
    }
    redact_text(&String::from_utf8_lossy(bytes))
}

fn redact_value(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                if is_secret_key(k) && item.is_string() {
                    *item = serde_json::Value::String("[redacted]".into());
                } else {
                    redact_value(item);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
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
        if !is_secret_key(key) {
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
            out.push_str("\"[redacted]\"");
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

pub fn request(method: &str, url: &str, headers: &[(String, String)], body: Option<&[u8]>) {
    let mut s = format!("[debug] > {method} {url}\n");
    for (k, v) in headers {
        s.push_str(&format!("[debug] > {k}: {}\n", redact_header(k, v)));
    }
    if let Some(b) = body {
        if headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("multipart/"))
        {
            s.push_str(&format!(
                "[debug] > ({} bytes of multipart form data)\n",
                b.len()
            ));
        } else {
            s.push_str(&format!("[debug] > {}\n", redact_body(b)));
        }
    }
    emit(s.trim_end());
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

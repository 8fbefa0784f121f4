//! Request routing driven by the project's endpoint table: matches the method
//! and path against `ant::api::OPERATIONS`, validates path, query and body
//! parameters against each operation's schemas, then dispatches to the
//! emulated resource handlers (anything else is a clear 404).

use std::collections::HashMap;
use std::sync::Arc;

use ant::api::schema::{Options, validate};
use ant::api::{Body, Loc, OPERATIONS, Operation, Param};
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::server::Reply;
use crate::store::{ApiError, Shared};

/// The request as it came off the wire.
pub struct RawRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Who is calling: an id derived from the API key (or token) presented.
    pub api_key_id: String,
}

/// One part of a multipart body.
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// A validated request for one table operation.
pub struct Req {
    pub op: &'static Operation,
    pub path: HashMap<&'static str, String>,
    /// Query parameters by API name, typed per their schema.
    pub query: Map<String, Value>,
    /// JSON body (an object; empty when there is none).
    pub body: Map<String, Value>,
    /// Multipart parts (file uploads).
    pub parts: Vec<Part>,
    /// The caller, as `RawRequest::api_key_id`.
    pub api_key_id: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Req {
    /// A path parameter (always present once matched).
    pub fn p(&self, name: &str) -> &str {
        self.path.get(name).map(String::as_str).unwrap_or("")
    }
    /// A body field, if present and not null.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.body.get(name).filter(|v| !v.is_null())
    }
    /// A request header (name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub async fn route(shared: &Arc<Shared>, raw: RawRequest) -> Result<Reply, ApiError> {
    let pairs = parse_query(&raw.query);
    let beta = pairs.iter().any(|(k, v)| k == "beta" && v == "true");
    let mut path = raw.path.clone();
    // The quickstart's curl example streams from `/v1/sessions/{id}/stream`.
    if raw.method == "GET" {
        let segs: Vec<&str> = path.split('/').collect();
        if segs.len() == 5 && segs[1] == "v1" && segs[2] == "sessions" && segs[4] == "stream" {
            path = format!("/v1/sessions/{}/events/stream", segs[3]);
        }
    }
    let (op, path_params) = match_operation(&raw.method, &path, beta)?;
    let query = typed_query(op, pairs)?;
    let (body, parts) = parse_body(op, &raw)?;
    let req = Req {
        op,
        path: path_params,
        query,
        body,
        parts,
        api_key_id: raw.api_key_id,
        headers: raw.headers,
    };
    let group = op.group.strip_prefix("beta:").unwrap_or(op.group);
    match crate::resources::dispatch(shared, group, op.verb, &req).await {
        Some(r) if shared.config.check_responses => crate::check::answer(shared, op, r),
        Some(r) => r,
        None => Err(ApiError::new(
            404,
            "not_found_error",
            format!(
                "endpoint `{} {}` ({} {}) is not emulated by ant-mock",
                op.group, op.verb, op.method, op.path
            ),
        )),
    }
}

/// Finds the table operation for a method and path. Literal segments beat
/// parameters; `?beta=true` prefers the beta group when both share a path.
fn match_operation(
    method: &str,
    path: &str,
    beta: bool,
) -> Result<(&'static Operation, HashMap<&'static str, String>), ApiError> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Option<(usize, &'static Operation, HashMap<&'static str, String>)> = None;
    let mut path_known = false;
    for op in OPERATIONS {
        let tsegs: Vec<&str> = op.path.split('/').collect();
        if tsegs.len() != segs.len() {
            continue;
        }
        let mut params = HashMap::new();
        let mut literals = 0;
        let ok = tsegs.iter().zip(&segs).all(|(t, s)| {
            if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                let name = op
                    .params
                    .iter()
                    .find(|p| p.loc == Loc::Path && p.wire == name)
                    .map(|p| p.name)
                    .unwrap_or("");
                params.insert(name, percent_decode(s));
                !s.is_empty()
            } else {
                literals += 1;
                t == s
            }
        });
        if !ok {
            continue;
        }
        path_known = true;
        if op.method != method {
            continue;
        }
        let score = literals * 2 + usize::from(op.beta == beta);
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, op, params));
        }
    }
    match best {
        Some((_, op, params)) => Ok((op, params)),
        None if path_known => Err(ApiError::new(
            405,
            "invalid_request_error",
            format!("method {method} is not allowed on {path}"),
        )),
        None => Err(ApiError::new(
            404,
            "not_found_error",
            format!("no endpoint matches {method} {path}"),
        )),
    }
}

/// Decodes `a=1&b=x%20y` into pairs, in order.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (form_decode(k), form_decode(v)),
            None => (form_decode(kv), String::new()),
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Checks query keys against the operation's query parameters and types
/// their values; unknown keys are an error (`beta` is always accepted).
fn typed_query(
    op: &Operation,
    pairs: Vec<(String, String)>,
) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    for (key, value) in pairs {
        if key == "beta" {
            continue;
        }
        let bare = key.strip_suffix("[]").unwrap_or(&key);
        let param = op
            .params
            .iter()
            .filter(|p| p.loc == Loc::Query)
            .find(|p| p.wire == key || p.wire.strip_suffix("[]") == Some(bare) || p.wire == bare)
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "{key}: unknown query parameter for {} {}",
                    op.method, op.path
                ))
            })?;
        if is_array(param) {
            match out
                .entry(param.name.to_string())
                .or_insert_with(|| Value::Array(vec![]))
            {
                Value::Array(a) => a.push(Value::String(value)),
                _ => unreachable!(),
            }
        } else {
            out.insert(param.name.to_string(), typed_scalar(param, &value));
        }
    }
    for param in op.params.iter().filter(|p| p.loc == Loc::Query) {
        match out.get(param.name) {
            None if param.required => {
                return Err(ApiError::invalid(format!(
                    "{}: query parameter is required",
                    param.wire
                )));
            }
            None => {}
            Some(v) => check(param, v)?,
        }
    }
    Ok(out)
}

/// Whether a parameter's schema is an array (query keys may repeat).
fn is_array(param: &Param) -> bool {
    param.repeated
        || serde_json::from_str::<Value>(param.schema).is_ok_and(|s| s["type"] == "array")
}

/// Types one query or form value: the first reading (string, integer,
/// number, boolean) the schema accepts; else the first of the parameter's
/// type, so that the check names what is wrong (`limit=0` is out of
/// range, not "a string"); else the string.
fn typed_scalar(param: &Param, s: &str) -> Value {
    use ant::api::types::{BOOLEAN, INTEGER, NUMBER, STRING};
    let mut candidates = vec![(STRING, Value::String(s.to_string()))];
    if let Ok(i) = s.parse::<i64>() {
        candidates.push((INTEGER | NUMBER, Value::from(i)));
    }
    if let Ok(f) = s.parse::<f64>()
        && f.is_finite()
    {
        candidates.push((NUMBER, Value::from(f)));
    }
    if s == "true" || s == "false" {
        candidates.push((BOOLEAN, Value::Bool(s == "true")));
    }
    let valid = candidates
        .iter()
        .find(|(_, v)| validate(v, param.schema, Options::STRICT).is_ok());
    let of_type = || candidates.iter().find(|(t, _)| t & param.types != 0);
    valid.or_else(of_type).unwrap_or(&candidates[0]).1.clone()
}

/// Validates one parameter value against its schema.
fn check(param: &Param, v: &Value) -> Result<(), ApiError> {
    validate(v, param.schema, Options::STRICT).map_err(|e| {
        let e = e.prefixed(param.wire.trim_end_matches("[]"));
        ApiError::invalid(format!("{}: {}", e.path, e.message))
    })
}

fn parse_body(
    op: &Operation,
    raw: &RawRequest,
) -> Result<(Map<String, Value>, Vec<Part>), ApiError> {
    match op.body {
        Body::None => Ok((Map::new(), vec![])),
        Body::Json => {
            let body = if raw.body.iter().all(u8::is_ascii_whitespace) {
                Map::new()
            } else {
                match serde_json::from_slice::<Value>(&raw.body) {
                    Ok(Value::Object(m)) => m,
                    Ok(_) => return Err(ApiError::invalid("request body must be a JSON object")),
                    Err(e) => {
                        return Err(ApiError::invalid(format!(
                            "request body is not valid JSON: {e}"
                        )));
                    }
                }
            };
            check_fields(op, &body)?;
            Ok((body, vec![]))
        }
        Body::Multipart => {
            let parts = parse_multipart(&raw.content_type, &raw.body)?;
            let mut fields = Map::new();
            for part in &parts {
                // A list field's parts are named `name[]`, one part per element.
                let (name, element) = match part.name.strip_suffix("[]") {
                    Some(base) => (base, true),
                    None => (part.name.as_str(), false),
                };
                let param = op
                    .params
                    .iter()
                    .find(|p| p.loc == Loc::Body && p.wire == name && p.repeated == element)
                    .ok_or_else(|| ApiError::invalid(format!("{}: unknown field", part.name)))?;
                if param.file {
                    let file = Value::String(part.filename.clone().unwrap_or_default());
                    if element {
                        let list = fields.entry(name).or_insert_with(|| Value::Array(vec![]));
                        if let Value::Array(items) = list {
                            items.push(file);
                        }
                    } else {
                        fields.insert(part.name.clone(), file);
                    }
                } else {
                    let text = String::from_utf8_lossy(&part.data).into_owned();
                    let v = typed_scalar(param, &text);
                    check(param, &v)?;
                    fields.insert(part.name.clone(), v);
                }
            }
            for p in op
                .params
                .iter()
                .filter(|p| p.loc == Loc::Body && p.required)
            {
                if !fields.contains_key(p.wire) {
                    return Err(ApiError::invalid(format!("{}: field required", p.wire)));
                }
            }
            Ok((fields, parts))
        }
    }
}

/// Unknown top-level keys, missing required keys, then each value's schema.
fn check_fields(op: &Operation, body: &Map<String, Value>) -> Result<(), ApiError> {
    let body_params = || op.params.iter().filter(|p| p.loc == Loc::Body);
    for key in body.keys() {
        if !body_params().any(|p| p.wire == key) {
            return Err(ApiError::invalid(format!(
                "{key}: Extra inputs are not permitted"
            )));
        }
    }
    for p in body_params() {
        match body.get(p.wire) {
            None if p.required => {
                return Err(ApiError::invalid(format!("{}: Field required", p.wire)));
            }
            None => {}
            Some(v) => check(p, v)?,
        }
    }
    Ok(())
}

/// A small `multipart/form-data` parser (enough for file uploads).
fn parse_multipart(content_type: &str, body: &[u8]) -> Result<Vec<Part>, ApiError> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .ok_or_else(|| ApiError::invalid("expected a multipart/form-data body with a boundary"))?;
    if boundary.is_empty() || boundary.len() > 200 {
        return Err(ApiError::invalid("invalid multipart boundary"));
    }
    let delim = format!("--{boundary}").into_bytes();
    // Every delimiter after the first is preceded by CRLF (RFC 2046), which
    // is not part of the data before it.
    let crlf_delim = [&b"\r\n"[..], &delim].concat();
    let malformed = || ApiError::invalid("malformed multipart body");
    let mut parts = Vec::new();
    // Indices only move forward and every slice is checked against them, so
    // no input can make the parser slice out of range.
    let mut pos = find(body, &delim, 0).ok_or_else(malformed)?;
    loop {
        pos += delim.len();
        let rest = body.get(pos..).ok_or_else(malformed)?;
        if rest.starts_with(b"--") {
            break;
        }
        // Transport padding, then the CRLF ending the delimiter line.
        let pad = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if !rest[pad..].starts_with(b"\r\n") {
            return Err(malformed());
        }
        pos += pad + 2;
        let (head_end, data_start) = if body[pos..].starts_with(b"\r\n") {
            (pos, pos + 2)
        } else {
            let end = find(body, b"\r\n\r\n", pos)
                .ok_or_else(|| ApiError::invalid("malformed multipart part"))?;
            (end, end + 4)
        };
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let data_end = find(body, &crlf_delim, data_start)
            .ok_or_else(|| ApiError::invalid("unterminated multipart body"))?;
        let next = data_end + 2;
        let mut part = Part {
            name: String::new(),
            filename: None,
            content_type: None,
            data: Bytes::copy_from_slice(&body[data_start..data_end]),
        };
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    for (k, v) in disposition_params(v) {
                        match k.as_str() {
                            "name" => part.name = v,
                            "filename" => part.filename = Some(v),
                            _ => {}
                        }
                    }
                }
                "content-type" => part.content_type = Some(v.trim().to_string()),
                _ => {}
            }
        }
        parts.push(part);
        pos = next;
    }
    Ok(parts)
}

/// The `key=value` parameters of a `Content-Disposition` header; quoted
/// values may hold `;` (quotes themselves arrive percent-encoded).
fn disposition_params(header: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = header;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq]
            .rsplit(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let after = &rest[eq + 1..];
        let (value, next) = match after.strip_prefix('"') {
            Some(q) => match q.find('"') {
                Some(end) => (&q[..end], &q[end + 1..]),
                None => (q, ""),
            },
            None => {
                let end = after.find(';').unwrap_or(after.len());
                (after[..end].trim(), &after[end..])
            }
        };
        out.push((key, value.to_string()));
        rest = next;
    }
    out
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() || needle.is_empty() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::parse_multipart;

    const CT: &str = "multipart/form-data; boundary=B";

    #[test]
    fn multipart_parses_parts() {
        let body = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n--B--\r\n";
        let parts = parse_multipart(CT, body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "file");
        assert_eq!(parts[0].filename.as_deref(), Some("a.txt"));
        assert_eq!(parts[0].content_type.as_deref(), Some("text/plain"));
        assert_eq!(&parts[0].data[..], b"hi");
        assert_eq!(parts[1].name, "x");
        assert_eq!(&parts[1].data[..], b"");
    }

    #[test]
    fn malformed_multipart_is_an_error_not_a_panic() {
        // The review's repro: no CRLF between the part's head and the
        // closing delimiter.
        let repro = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n--B--\r\n";
        let e = parse_multipart(CT, repro).err().expect("rejected");
        assert_eq!((e.status, e.kind), (400, "invalid_request_error"));
        for bad in [
            &b""[..],
            b"--B",
            b"--B\r\n",
            b"--Bx",
            b"--B\r\n\r\n",
            b"--B\r\n\r\n--B",
        ] {
            assert!(
                parse_multipart(CT, bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse_multipart("multipart/form-data; boundary=", b"----\r\n").is_err());
        // Every truncation and every one-byte deletion of a valid body
        // parses or fails cleanly.
        let good = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nxy\r\n--B\r\n\r\n\r\n--B--\r\n";
        for n in 0..=good.len() {
            let _ = parse_multipart(CT, &good[..n]);
            let mut cut = good.to_vec();
            if n < good.len() {
                cut.remove(n);
                let _ = parse_multipart(CT, &cut);
            }
        }
    }

    mod props {
        use super::parse_multipart;
        use ant::request::{Part, files::FileData};
        use proptest::prelude::*;

        fn part() -> impl Strategy<Value = Part> {
            let name = "[a-z_]{1,12}(\\[\\])?";
            // Tricky characters on purpose: quotes, `;`, CR/LF, dashes.
            let tricky = "[a-z;=\"\\r\\n %.-]{0,16}";
            let filename = prop_oneof![any::<String>(), tricky];
            let data = prop_oneof![any::<Vec<u8>>(), tricky.prop_map(String::into_bytes),];
            let file = (filename, "[a-z]{1,8}/[a-z0-9.+-]{1,12}", data).prop_map(
                |(filename, content_type, data)| FileData {
                    filename,
                    content_type,
                    data,
                },
            );
            let text = prop_oneof![any::<String>(), tricky];
            (name, prop::option::of(file), text).prop_map(|(name, file, text)| {
                let text = if file.is_some() { String::new() } else { text };
                Part { name, file, text }
            })
        }

        proptest! {
            #![proptest_config(proptest::test_runner::Config {
                cases: std::env::var("ANT_PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
                failure_persistence: None,
                ..Default::default()
            })]

            #[test]
            fn prop_multipart_bodies_round_trip(parts in prop::collection::vec(part(), 0..6)) {
                let boundary = "ant-boundary-0123456789abcdef";
                let body = ant::http::multipart_bytes(&parts, boundary);
                let ct = format!("multipart/form-data; boundary={boundary}");
                let parsed = parse_multipart(&ct, &body)
                    .map_err(|e| TestCaseError::fail(e.message))?;
                prop_assert_eq!(parsed.len(), parts.len());
                for (got, sent) in parsed.iter().zip(&parts) {
                    prop_assert_eq!(&got.name, &sent.name);
                    match &sent.file {
                        Some(f) => {
                            prop_assert_eq!(got.filename.clone(), Some(ant::http::form_quote(&f.filename)));
                            prop_assert_eq!(got.content_type.as_deref(), Some(f.content_type.as_str()));
                            prop_assert_eq!(&got.data[..], &f.data[..]);
                        }
                        None => {
                            prop_assert_eq!(got.filename.clone(), None);
                            prop_assert_eq!(&got.data[..], sent.text.as_bytes());
                        }
                    }
                }
            }
        }
    }
}

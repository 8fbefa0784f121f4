//! The router, above the resources: matches a request's method and path
//! against the project's endpoint table (`ant::api::OPERATIONS`), validates
//! path, query and body parameters against each operation's schemas, then
//! dispatches it to its resource handler (`dispatch.rs`) and checks the
//! answer against the operation's response schema (`check.rs`).

mod check;
mod dispatch;

use std::collections::HashMap;
use std::sync::Arc;

use ant::api::schema::{Options, validate};
use ant::api::{Body, Loc, OPERATIONS, Operation, Param};
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::form::{Part, parse_multipart, parse_query, percent_decode};
use crate::resources::{Reply, Req};
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
    let answer = dispatch::dispatch(shared, group, op.verb, &req).await;
    if shared.config.check_responses {
        check::answer(shared, op, answer)
    } else {
        answer
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

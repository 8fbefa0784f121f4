//! Reading response bodies chunk by chunk, and the `error` events a stream
//! may carry instead of data: shared by every command that streams (lists of
//! lines, SSE, downloads, followed session streams).

use serde_json::Value;

use super::{Client, debug, describe_reqwest};
use crate::error::{ApiError, Error, Result};
use crate::request::Request;

/// The next body chunk; transport errors mid-body are network errors.
pub async fn next_chunk(resp: &mut reqwest::Response, log: bool) -> Result<Option<bytes::Bytes>> {
    let chunk = resp
        .chunk()
        .await
        .map_err(|e| Error::Network(format!("reading the response: {}", describe_reqwest(&e))))?;
    if let (true, Some(c)) = (log, &chunk) {
        debug::chunk(c);
    }
    Ok(chunk)
}

/// An `error` event inside a stream, as an API error with a fitting status.
pub fn stream_error(req: &Request, client: &Client, v: &Value) -> Error {
    let err = v.get("error").unwrap_or(v);
    let kind = err.get("type").and_then(Value::as_str).map(String::from);
    let status = match kind.as_deref() {
        Some("invalid_request_error") => 400,
        Some("authentication_error") => 401,
        Some("permission_error") => 403,
        Some("not_found_error") => 404,
        Some("rate_limit_error") => 429,
        Some("overloaded_error") => 529,
        _ => 500,
    };
    Error::Api(Box::new(ApiError {
        status,
        method: req.method.to_string(),
        url: client.url(req),
        kind,
        message: err.get("message").and_then(Value::as_str).map(String::from),
        request_id: v
            .get("request_id")
            .and_then(Value::as_str)
            .map(String::from),
        body: serde_json::to_vec(v).unwrap_or_default(),
    }))
}

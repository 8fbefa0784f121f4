//! Reading response bodies chunk by chunk (up to a cap when they are read
//! into memory), and the `error` events a stream may carry instead of data:
//! shared by every command that reads a body (lists of lines, SSE,
//! downloads, followed session streams).

use serde_json::Value;

use super::{Client, debug, describe_reqwest};
use crate::error::{ApiError, Error, Result};
use crate::request::Request;

/// The next body chunk; transport errors mid-body are network errors.
/// With `log`, the `--debug` log shows each line once it is complete, so a
/// secret split across two chunks is still seen (and masked) whole.
pub async fn next_chunk(resp: &mut reqwest::Response, log: bool) -> Result<Option<bytes::Bytes>> {
    let chunk = resp
        .chunk()
        .await
        .map_err(|e| Error::Network(format!("reading the response: {}", describe_reqwest(&e))))?;
    if log {
        // The unfinished last line travels with the response.
        let mut pending = resp
            .extensions_mut()
            .remove::<PendingLine>()
            .unwrap_or_default();
        match &chunk {
            Some(c) => {
                pending.0.extend_from_slice(c);
                if let Some(end) = pending.0.iter().rposition(|b| *b == b'\n') {
                    let rest = pending.0.split_off(end + 1);
                    debug::chunk(&pending.0);
                    pending.0 = rest;
                }
                if pending.0.len() > MAX_PENDING {
                    debug::chunk(&std::mem::take(&mut pending.0));
                }
                resp.extensions_mut().insert(pending);
            }
            None if !pending.0.is_empty() => debug::chunk(&pending.0),
            None => {}
        }
    }
    Ok(chunk)
}

/// A body read up to a cap.
#[derive(Debug)]
pub enum Capped {
    Whole(Vec<u8>),
    /// Longer than the cap: its first `cap` bytes (the rest was not read).
    Over(Vec<u8>),
}

/// Reads a body of at most `cap` bytes into memory; reading stops as soon
/// as the cap is passed (the connection is dropped with the rest).
pub async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> std::result::Result<Capped, reqwest::Error> {
    let declared = resp.content_length().unwrap_or(0).min(cap as u64);
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > cap {
            let room = cap - body.len();
            body.extend_from_slice(&chunk[..room]);
            return Ok(Capped::Over(body));
        }
        if body.capacity() < body.len() + chunk.len() {
            // Grow by doubling, but never past the cap.
            let want = (body.len() + chunk.len()).max(body.capacity() * 2).min(cap);
            body.reserve_exact(want - body.len());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Capped::Whole(body))
}

/// Longest unfinished line held back from the log (a body without line
/// ends is logged in pieces of this size).
const MAX_PENDING: usize = 1 << 20;

/// Bytes of a streamed body's line not yet logged.
#[derive(Clone, Default)]
struct PendingLine(Vec<u8>);

/// An `error` event inside a stream (its data), as an API error with a
/// fitting status. Data that is not JSON still makes the error, kept whole.
pub fn stream_error(req: &Request, client: &Client, data: &str) -> Error {
    let v = match crate::json::validate(data.as_bytes()) {
        Ok(()) => crate::json::value(data),
        Err(_) => Value::String(data.to_string()),
    };
    let v = &v;
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
        message: (err.get("message").or(Some(err)))
            .and_then(Value::as_str)
            .map(String::from),
        request_id: v
            .get("request_id")
            .and_then(Value::as_str)
            .map(String::from),
        body: data.as_bytes().to_vec(),
        headers: vec![],
    }))
}

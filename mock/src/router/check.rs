//! The response check (`Config::check_responses`, on in tests): every JSON
//! success response, and every event of a stream, is validated against its
//! operation's response schema from the endpoint table (required fields,
//! types and enums at every depth), so the emulator cannot drift from what
//! the official clients expect without a test noticing.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ant::api::Operation;
use ant::api::schema::{Options, validate};
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use serde_json::Value;

use crate::resources::{Answer, Reply, RespBody};
use crate::store::{ApiError, Shared};

/// Checks a handler's answer. A JSON body that does not match becomes a
/// `500` naming the mismatch (and is recorded); a stream is wrapped so that
/// each event is checked as it goes out (and recorded when it fails, since
/// the status is already sent).
pub fn answer(shared: &Arc<Shared>, op: &'static Operation, answer: Answer) -> Answer {
    match answer {
        Ok(Reply::Json(status, v)) if (200..300).contains(&status) => {
            let Some(schema) = op.response_schema else {
                return Ok(Reply::Json(status, v));
            };
            shared.checked(op.name());
            match validate(&v, schema, Options::STRICT) {
                Ok(()) => Ok(Reply::Json(status, v)),
                Err(e) => Err(mismatch(shared, op, format!("{e}"))),
            }
        }
        Ok(Reply::Sse(body)) => {
            let Some(schema) = op.stream_schema.or(op.response_schema) else {
                return Ok(Reply::Sse(body));
            };
            shared.checked(op.name());
            Ok(Reply::Stream(RespBody::new(CheckedStream {
                inner: http_body_util::BodyExt::boxed(body),
                pending: Vec::new(),
                op,
                schema,
                shared: shared.clone(),
            })))
        }
        // JSON lines (batch results): each line against the item schema.
        Ok(Reply::Raw {
            status,
            content_type,
            body,
        }) if op.response == ant::api::Response::Jsonl && (200..300).contains(&status) => {
            if let Some(schema) = op.response_schema {
                shared.checked(op.name());
                for (i, line) in body.split(|b| *b == b'\n').enumerate() {
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let v: Value = serde_json::from_slice(line).map_err(|e| {
                        mismatch(shared, op, format!("line {}: not JSON: {e}", i + 1))
                    })?;
                    validate(&v, schema, Options::STRICT)
                        .map_err(|e| mismatch(shared, op, format!("line {}: {e}", i + 1)))?;
                }
            }
            Ok(Reply::Raw {
                status,
                content_type,
                body,
            })
        }
        other => other,
    }
}

/// Records a response that does not match its schema; the `500` it becomes.
fn mismatch(shared: &Shared, op: &Operation, what: String) -> ApiError {
    let what = format!(
        "response of `{} {}` does not match its schema: {what}",
        op.group, op.verb
    );
    shared.violation(what.clone());
    ApiError::new(500, "api_error", format!("ant-mock bug: {what}"))
}

/// An SSE body passed through unchanged while its events are checked.
struct CheckedStream {
    inner: RespBody,
    /// Bytes of the event not yet complete.
    pending: Vec<u8>,
    op: &'static Operation,
    schema: &'static str,
    shared: Arc<Shared>,
}

impl CheckedStream {
    fn feed(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
        while let Some(end) = find(&self.pending, b"\n\n") {
            let block: Vec<u8> = self.pending.drain(..end + 2).collect();
            if let Err(what) = check_event(&String::from_utf8_lossy(&block), self.schema) {
                self.shared.violation(format!(
                    "event streamed by `{} {}` does not match its schema: {what}",
                    self.op.group, self.op.verb
                ));
            }
        }
    }
}

/// Checks one SSE message: its `data` against the schema, and its `event`
/// name against the data's `type` (clients dispatch on the name).
fn check_event(block: &str, schema: &str) -> Result<(), String> {
    let mut name = None;
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        let field = |prefix: &str| {
            line.strip_prefix(prefix)
                .map(|v| v.strip_prefix(' ').unwrap_or(v))
        };
        if let Some(v) = field("event:") {
            name = Some(v);
        } else if let Some(v) = field("data:") {
            data.push(v);
        }
    }
    if data.is_empty() {
        return Ok(()); // a comment (`: ping`)
    }
    let value: Value = serde_json::from_str(&data.join("\n"))
        .map_err(|e| format!("data is not JSON ({e}): {}", data.join("\n")))?;
    validate(&value, schema, Options::STRICT)
        .map_err(|e| format!("{e} (type {})", value["type"]))?;
    match (name, value["type"].as_str()) {
        (Some(n), Some(t)) if n != t => Err(format!("`event: {n}` carries data of type {t}")),
        (None, _) => Err(format!(
            "no `event:` line before data of type {}",
            value["type"]
        )),
        _ => Ok(()),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Body for CheckedStream {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            this.feed(data);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_not_matching_its_schema_becomes_a_500_and_is_recorded() {
        let shared = Arc::new(Shared::new(Default::default(), std::env::temp_dir()));
        let op = Operation::find("beta:vaults", "create").unwrap();
        let bad = Ok(Reply::Json(
            200,
            serde_json::json!({"id": 1, "type": "vault"}),
        ));
        let e = answer(&shared, op, bad).err().expect("refused");
        assert_eq!((e.status, e.kind), (500, "api_error"));
        assert!(e.message.contains("`beta:vaults create`"), "{}", e.message);
        assert_eq!(shared.violations().len(), 1);
        // Errors are passed through unchecked.
        let err = Err(ApiError::invalid("x"));
        assert_eq!(answer(&shared, op, err).err().unwrap().status, 400);
        assert_eq!(shared.violations().len(), 1);
        assert_eq!(shared.checked_operations(), ["beta:vaults create"]);
    }

    const SCHEMA: &str = r#"{"type":"object","properties":{"type":{"type":"string"},"n":{"type":"integer"}},"required":["type","n"]}"#;

    #[test]
    fn events_are_checked_by_data_and_name() {
        assert!(check_event("event: a\ndata: {\"type\":\"a\",\"n\":1}\n\n", SCHEMA).is_ok());
        assert!(check_event(": ping\n\n", SCHEMA).is_ok());
        let missing = check_event("event: a\ndata: {\"type\":\"a\"}\n\n", SCHEMA).unwrap_err();
        assert!(missing.contains("n: required field missing"), "{missing}");
        let renamed = check_event("event: b\ndata: {\"type\":\"a\",\"n\":1}\n\n", SCHEMA);
        assert!(renamed.unwrap_err().contains("`event: b`"));
        assert!(check_event("data: {\"type\":\"a\",\"n\":1}\n\n", SCHEMA).is_err());
        assert!(check_event("event: a\ndata: {nope\n\n", SCHEMA).is_err());
    }
}

//! `messages` and `beta:messages` (create, with or without `stream: true`;
//! count-tokens) and the legacy `completions create`, answered by the
//! scripted model (`crate::model`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Answer, Reply, Req};
use crate::model;
use crate::store::{ApiError, Shared, new_id};
use crate::stream::{Item, sse_body};

/// The `model` of a request: a string (or `{id}`).
pub fn model_name(req: &Req) -> String {
    match req.field("model") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v["id"].as_str().unwrap_or("").to_string(),
        None => String::new(),
    }
}

/// An SSE body that sends `events` (`pause` apart) and ends.
fn stream_of(events: Vec<(String, Value)>, pause: Duration) -> Reply {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let items = events.into_iter().map(|(name, data)| {
        Arc::new(Item {
            event_type: name,
            id: None,
            data: data.to_string(),
            preview_of: None,
        })
    });
    if pause.is_zero() {
        for item in items {
            let _ = tx.send(item);
        }
    } else {
        let items: Vec<_> = items.collect();
        tokio::spawn(async move {
            for (i, item) in items.into_iter().enumerate() {
                if i > 0 {
                    tokio::time::sleep(pause).await;
                }
                if tx.send(item).is_err() {
                    return;
                }
            }
        });
    }
    Reply::Sse(sse_body(rx, None))
}

fn overloaded() -> ApiError {
    ApiError {
        retry_after: Some(0),
        ..ApiError::new(
            529,
            "overloaded_error",
            "Overloaded (injected by /overload)",
        )
    }
}

pub fn create(_s: &Arc<Shared>, req: &Req) -> Answer {
    let reply = model::reply(&req.body).map_err(ApiError::invalid)?;
    let id = new_id("msg");
    let name = model_name(req);
    if req.field("stream").and_then(Value::as_bool) == Some(true) {
        let pause = Duration::from_millis(reply.slow_ms);
        return Ok(stream_of(model::events(&reply, &id, &name), pause));
    }
    if reply.overload_after.is_some() {
        return Err(overloaded());
    }
    Ok(Reply::ok(model::message(&reply, &id, &name)))
}

pub fn count_tokens(_s: &Arc<Shared>, req: &Req) -> Answer {
    Ok(Reply::ok(
        json!({"input_tokens": model::input_tokens(&req.body)}),
    ))
}

/// The legacy text completion: the prompt's last `Human:` turn, echoed.
pub fn complete(_s: &Arc<Shared>, req: &Req) -> Answer {
    let prompt = req.field("prompt").and_then(Value::as_str).unwrap_or("");
    let turn = prompt.rsplit("Human:").next().unwrap_or(prompt);
    let text = turn.split("Assistant:").next().unwrap_or(turn).trim();
    let id = new_id("compl");
    let name = model_name(req);
    let done = json!({"type": "completion", "id": id, "completion": format!(" {text}"),
                      "stop_reason": "stop_sequence", "model": name});
    if req.field("stream").and_then(Value::as_bool) != Some(true) {
        return Ok(Reply::ok(done));
    }
    let mut events = vec![];
    for piece in [" ", text] {
        let d = json!({"type": "completion", "id": id, "completion": piece, "stop_reason": null, "model": name});
        events.push(("completion".to_string(), d));
    }
    let mut last = done;
    last["completion"] = json!("");
    events.push(("completion".into(), last));
    Ok(stream_of(events, Duration::ZERO))
}

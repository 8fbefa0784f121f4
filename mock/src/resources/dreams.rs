//! `beta:dreams`: a dream reads memory stores and sessions and writes a
//! memory store. It is `pending` for the first half of `--batch-delay`,
//! `running` for the second, then `completed` (its output store named in
//! `outputs`, usage by the scripted model's rule) or, when its
//! `instructions` hold `/fail`, `failed` with an error. The inputs, the
//! model and the store to update are checked when it is created; cancel
//! stops a dream that has not ended and leaves an ended one as it is. Stored and listed by the generic
//! emulation, which this module brings up to date first.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{Answer, Reply, Req, generic, memory};
use crate::model;
use crate::store::{ApiError, Shared, State, find, now_ms, parse_rfc3339, rfc3339};

const DREAMS: &str = "/v1/dreams";

fn ended(dream: &Value) -> bool {
    matches!(
        dream["status"].as_str(),
        Some("completed" | "failed" | "canceled")
    )
}

/// Moves a dream on as its time goes by (see the module's comment).
fn advance(st: &mut State, dream: &mut Value, delay_ms: u64, now: u64) {
    if ended(dream) {
        return;
    }
    let created = dream["created_at"]
        .as_str()
        .and_then(parse_rfc3339)
        .map_or(0, |ms| ms.max(0) as u64);
    let ends = created.saturating_add(delay_ms);
    if now < ends {
        if now >= created.saturating_add(delay_ms / 2) {
            dream["status"] = json!("running");
        }
        return;
    }
    dream["ended_at"] = json!(rfc3339(ends));
    let instructions = dream["instructions"].as_str().unwrap_or("").to_string();
    let read = dream["inputs"].to_string().len() + instructions.len();
    dream["usage"]["input_tokens"] = json!(model::tokens(read));
    if instructions.contains("/fail") {
        dream["status"] = json!("failed");
        dream["error"] = json!({"type": "dream_error", "message": "the dream failed, as its instructions asked with /fail"});
        return;
    }
    let id = dream["id"].as_str().unwrap_or("").to_string();
    let store = match dream["output_behavior"]["memory_store_id"].as_str() {
        Some(existing) => existing.to_string(),
        None => {
            let name = json!(format!("Dream {id}"));
            let description = json!(format!("Memories written by dream {id}"));
            memory::new_store(st, &name, &description)["id"]
                .as_str()
                .unwrap_or("")
                .to_string()
        }
    };
    dream["outputs"] = json!([{"type": "memory_store", "memory_store_id": store}]);
    dream["usage"]["output_tokens"] = json!(model::tokens(store.len()));
    dream["status"] = json!("completed");
}

/// Brings every stored dream up to date.
fn advance_all(s: &Arc<Shared>, st: &mut State) {
    let delay = u64::try_from(s.config.batch_delay.as_millis()).unwrap_or(u64::MAX);
    let now = now_ms();
    let ids: Vec<String> = st
        .generic
        .items(DREAMS)
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    for id in ids {
        let Some(mut dream) = st.generic.get(DREAMS, &id).cloned() else {
            continue;
        };
        advance(st, &mut dream, delay, now);
        st.generic.put(DREAMS, &id, dream);
    }
}

/// The request's inputs, model and output behaviour, checked: every store
/// and session they name must exist.
fn checked(st: &State, body: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    let inputs = body
        .get("inputs")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| ApiError::invalid("inputs: must hold at least one input"))?;
    for (i, input) in inputs.iter().enumerate() {
        match input["type"].as_str() {
            Some("memory_store") => {
                let id = input["memory_store_id"].as_str().unwrap_or("");
                find(&st.memory_stores, "memory store", id)?;
            }
            Some("sessions") => {
                let ids = input["session_ids"].as_array().cloned().unwrap_or_default();
                if ids.is_empty() {
                    return Err(ApiError::invalid(format!(
                        "inputs[{i}].session_ids: must name at least one session"
                    )));
                }
                for sid in &ids {
                    st.session(sid.as_str().unwrap_or(""))?;
                }
            }
            _ => {}
        }
    }
    let mut out = body.clone();
    // `model` is an ID or `{id, speed}`; a dream shows the object.
    if let Some(Value::String(id)) = body.get("model") {
        out.insert("model".into(), json!({"id": id}));
    }
    match body.get("output_behavior").filter(|b| !b.is_null()) {
        None => {
            out.insert("output_behavior".into(), json!({"type": "create_new"}));
        }
        Some(b) => {
            if let Some(id) = b["memory_store_id"].as_str() {
                find(&st.memory_stores, "memory store", id)?;
            }
        }
    }
    Ok(out)
}

pub fn create(s: &Arc<Shared>, req: &Req) -> Answer {
    let body = checked(&s.lock(), &req.body)?;
    let Reply::Json(status, mut dream) = generic::handle(s, req)? else {
        unreachable!("the generic create answers JSON")
    };
    let id = dream["id"].as_str().unwrap_or("").to_string();
    // What the schema's example values would leave otherwise.
    for (k, v) in [
        ("status", json!("pending")),
        ("outputs", json!([])),
        ("ended_at", Value::Null),
        ("error", Value::Null),
        ("archived_at", Value::Null),
        ("session_id", Value::Null),
        ("model", body["model"].clone()),
        ("output_behavior", body["output_behavior"].clone()),
    ] {
        dream[k] = v;
    }
    dream["usage"] = json!({"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0});
    let mut st = s.lock();
    st.generic.put(DREAMS, &id, dream);
    advance_all(s, &mut st);
    let dream = st.generic.get(DREAMS, &id).cloned().unwrap_or_default();
    Ok(Reply::Json(status, dream))
}

/// `retrieve`, `list` and `archive`: the generic emulation's, on dreams
/// brought up to date.
pub fn read(s: &Arc<Shared>, req: &Req) -> Answer {
    advance_all(s, &mut s.lock());
    generic::handle(s, req)
}

/// A dream that has not ended is `canceled` (and ended) at once; one that
/// has ended is left as it is (as a batch is), and answered.
pub fn cancel(s: &Arc<Shared>, req: &Req) -> Answer {
    let id = req.p("dream_id").to_string();
    let mut st = s.lock();
    advance_all(s, &mut st);
    let now = st.now();
    let dream = st
        .generic
        .get_mut(DREAMS, &id)
        .ok_or_else(|| ApiError::not_found("dream", &id))?;
    if !ended(dream) {
        dream["status"] = json!("canceled");
        dream["ended_at"] = json!(now);
    }
    Ok(Reply::ok(dream.clone()))
}

//! `messages:batches` and `beta:messages:batches`: a batch is `in_progress`
//! for `--batch-delay`, then `ended`; each request runs through the scripted
//! model when the batch is created, and its result (`succeeded`, `errored`,
//! `canceled`, `expired`) is served as JSON lines once the batch ends.
//! Cancel, delete, list and retrieve as the API does.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Answer, Reply, Req};
use crate::model;
use crate::store::{ApiError, BatchRec, Shared, State, new_id, now_ms, paginate_both, rfc3339};

/// A batch lives 29 days after it is created.
const EXPIRES_MS: u64 = 29 * 24 * 3600 * 1000;

/// The result of one request of a batch.
fn result(params: &Value, model_name: &str) -> Value {
    let Some(body) = params.as_object() else {
        return errored("invalid_request_error", "params: must be an object");
    };
    match model::reply(body) {
        Err(why) => errored("invalid_request_error", &why),
        Ok(r) if r.expire => json!({"type": "expired"}),
        Ok(r) if r.overload_after.is_some() => {
            errored("overloaded_error", "Overloaded (injected by /overload)")
        }
        Ok(r) => {
            json!({"type": "succeeded", "message": model::message(&r, &new_id("msg"), model_name)})
        }
    }
}

fn errored(kind: &str, message: &str) -> Value {
    json!({"type": "errored", "error": {"type": "error", "error": {"type": kind, "message": message}}})
}

/// Ends the batch when its time has come, with the counts of its results.
fn refresh(b: &mut BatchRec, now: u64) {
    if b.json["processing_status"] == "ended" || now < b.ends_at_ms {
        return;
    }
    let count = |t: &str| {
        b.results
            .iter()
            .filter(|r| r["result"]["type"] == t)
            .count()
    };
    b.json["request_counts"] = json!({
        "processing": 0,
        "succeeded": count("succeeded"),
        "errored": count("errored"),
        "canceled": count("canceled"),
        "expired": count("expired"),
    });
    b.json["processing_status"] = json!("ended");
    b.json["ended_at"] = json!(rfc3339(b.ends_at_ms));
    let id = b.json["id"].as_str().unwrap_or("").to_string();
    b.json["results_url"] = json!(format!("/v1/messages/batches/{id}/results"));
}

fn batch<'a>(st: &'a mut State, id: &str) -> Result<&'a mut BatchRec, ApiError> {
    let now = now_ms();
    let b = st
        .batches
        .iter_mut()
        .find(|b| b.json["id"] == id)
        .ok_or_else(|| ApiError::not_found("message batch", id))?;
    refresh(b, now);
    Ok(b)
}

pub fn create(s: &Arc<Shared>, req: &Req) -> Answer {
    let requests = req
        .field("requests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if requests.is_empty() {
        return Err(ApiError::invalid(
            "requests: must contain at least one request",
        ));
    }
    let mut results = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let custom_id = r["custom_id"].as_str().unwrap_or("");
        if requests[..i].iter().any(|o| o["custom_id"] == custom_id) {
            return Err(ApiError::invalid(format!(
                "requests[{i}].custom_id: {custom_id:?} is used by an earlier request"
            )));
        }
        let model_name = r["params"]["model"].as_str().unwrap_or("");
        results.push(json!({"custom_id": custom_id, "result": result(&r["params"], model_name)}));
    }
    let mut st = s.lock();
    let now = st.now();
    let start = now_ms();
    let json = json!({
        "id": new_id("msgbatch"),
        "type": "message_batch",
        "processing_status": "in_progress",
        "request_counts": {"processing": requests.len(), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
        "created_at": now,
        "expires_at": rfc3339(start + EXPIRES_MS),
        "ended_at": null,
        "cancel_initiated_at": null,
        "archived_at": null,
        "results_url": null,
    });
    let delay = u64::try_from(s.config.batch_delay.as_millis()).unwrap_or(u64::MAX);
    let mut rec = BatchRec {
        json,
        results,
        ends_at_ms: start.saturating_add(delay),
    };
    refresh(&mut rec, start);
    let out = rec.json.clone();
    st.batches.push(rec);
    Ok(Reply::ok(out))
}

pub fn retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    Ok(Reply::ok(
        batch(&mut st, req.p("message_batch_id"))?.json.clone(),
    ))
}

pub fn list(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = now_ms();
    for b in st.batches.iter_mut() {
        refresh(b, now);
    }
    let items: Vec<Value> = st.batches.iter().rev().map(|b| b.json.clone()).collect();
    let ids: Vec<String> = items
        .iter()
        .map(|b| b["id"].as_str().unwrap_or("").to_string())
        .collect();
    let rank = |id: &str| ids.iter().position(|i| i == id);
    Ok(Reply::ok(paginate_both(
        items.clone(),
        &req.query,
        "message batch",
        rank,
    )?))
}

/// Requests not yet processed are canceled: the batch is `canceling`, and
/// ended (every result `canceled`) from the next read on.
pub fn cancel(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let b = batch(&mut st, req.p("message_batch_id"))?;
    if b.json["processing_status"] == "in_progress" {
        for r in b.results.iter_mut() {
            r["result"] = json!({"type": "canceled"});
        }
        b.json["processing_status"] = json!("canceling");
        b.json["cancel_initiated_at"] = json!(now);
        b.ends_at_ms = now_ms();
    }
    Ok(Reply::ok(b.json.clone()))
}

pub fn delete(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let id = req.p("message_batch_id").to_string();
    if batch(&mut st, &id)?.json["processing_status"] != "ended" {
        return Err(ApiError::invalid(format!(
            "message batch {id:?} is still processing; cancel it, or wait until it has ended, before deleting it"
        )));
    }
    st.batches.retain(|b| b.json["id"] != id.as_str());
    Ok(Reply::ok(
        json!({"id": id, "type": "message_batch_deleted"}),
    ))
}

pub fn results(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let id = req.p("message_batch_id").to_string();
    let b = batch(&mut st, &id)?;
    if b.json["processing_status"] != "ended" {
        return Err(ApiError::invalid(format!(
            "message batch {id:?} has not ended yet; its results are available once processing_status is ended"
        )));
    }
    let mut body = String::new();
    for r in &b.results {
        body.push_str(&r.to_string());
        body.push('\n');
    }
    Ok(Reply::Raw {
        status: 200,
        content_type: "application/x-jsonl".into(),
        body: body.into(),
    })
}

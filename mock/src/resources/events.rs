//! `beta:sessions:events` (and the primary thread's events): the event log,
//! sending user events to the scripted agent, and SSE streams. `emit` is the
//! one place where events get ids, are stored, and reach attached streams.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Answer;
use crate::routes::Req;
use crate::server::Reply;
use crate::store::{ApiError, Shared, State, created_at_filter, new_id, paginate};
use crate::stream::{Item, sse_body};

/// An event with its id (kept, or a new one) and `processed_at`, in the
/// field order the API prints: id, type, the rest, processed_at.
fn stamped(ev: Value, processed_at: Value) -> Value {
    let id = ev
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| new_id("sevt"));
    let mut ordered = serde_json::Map::new();
    ordered.insert("id".into(), json!(id));
    ordered.insert("type".into(), ev["type"].clone());
    if let Some(o) = ev.as_object() {
        for (k, v) in o {
            if !matches!(k.as_str(), "id" | "type" | "processed_at") {
                ordered.insert(k.clone(), v.clone());
            }
        }
    }
    ordered.insert("processed_at".into(), processed_at);
    Value::Object(ordered)
}

/// Gives an event its id and `processed_at`, stores it in the session's log,
/// tracks status changes and publishes it to the streams. Returns the stored
/// event, or `None` when the session is gone.
pub fn emit(st: &mut State, sid: &str, ev: Value) -> Option<Value> {
    let now = st.now();
    let sess = st.session_mut(sid).ok()?;
    let ev = stamped(ev, json!(now));
    let ty = ev["type"].as_str().unwrap_or("").to_string();
    let status = match ty.as_str() {
        "session.status_running" => Some("running"),
        "session.status_idle" => Some("idle"),
        "session.status_rescheduled" => Some("rescheduling"),
        "session.status_terminated" => Some("terminated"),
        _ => None,
    };
    if let Some(status) = status {
        sess.json["status"] = json!(status);
        sess.json["updated_at"] = json!(now);
    }
    sess.events.push(ev.clone());
    sess.hub.publish(Item {
        event_type: ty,
        id: ev["id"].as_str().map(str::to_string),
        data: ev.to_string(),
        preview_of: None,
    });
    Some(ev)
}

/// Publishes a preview (`event_start`/`event_delta`) to streams that asked
/// for previews of `kind`; previews are neither stored nor buffered.
pub fn preview(st: &mut State, sid: &str, kind: &str, data: Value) {
    if let Ok(sess) = st.session_mut(sid) {
        sess.hub.publish(Item {
            event_type: data["type"].as_str().unwrap_or("").to_string(),
            id: None,
            data: data.to_string(),
            preview_of: Some(kind.to_string()),
        });
    }
}

/// Whether any stream of the session wants previews of `kind`.
pub fn wants_previews(st: &mut State, sid: &str, kind: &str) -> bool {
    st.session_mut(sid)
        .map(|s| s.hub.wants_previews(kind))
        .unwrap_or(false)
}

fn check_thread(st: &State, req: &Req) -> Result<(), ApiError> {
    let sess = st.session(req.p("session_id"))?;
    if let Some(t) = req.path.get("thread_id")
        && *t != sess.thread_id
    {
        return Err(ApiError::not_found("thread", t));
    }
    Ok(())
}

pub fn list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    check_thread(&st, req)?;
    let sess = st.session(req.p("session_id"))?;
    let types: Option<Vec<&str>> = req
        .query
        .get("types")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let mut items = Vec::new();
    for ev in &sess.events {
        if types
            .as_ref()
            .is_some_and(|t| !t.contains(&ev["type"].as_str().unwrap_or("")))
        {
            continue;
        }
        if created_at_filter(&req.query, "processed_at", ev)? {
            items.push(ev.clone());
        }
    }
    if req.query.get("order").and_then(Value::as_str) == Some("desc") {
        items.reverse();
    }
    Ok(Reply::ok(paginate(items, &req.query, false)?))
}

/// Checks one user event against the session's log before accepting it.
fn check_event(sess: &crate::store::SessionRec, ev: &Value, i: usize) -> Result<(), ApiError> {
    // A result answers a call; a confirmation only lets it run (in a
    // self-hosted environment the worker's result follows it).
    let answered = |key: &str, id: &str| {
        let kinds: &[&str] = match ev["type"].as_str() {
            Some("user.tool_confirmation") => &["user.tool_confirmation", "user.tool_result"],
            _ => &["user.custom_tool_result", "user.tool_result"],
        };
        sess.events
            .iter()
            .any(|e| e[key] == id && kinds.contains(&e["type"].as_str().unwrap_or("")))
    };
    let refers = |key: &str, id_key: &str, want: &[&str]| -> Result<(), ApiError> {
        let id = ev[key].as_str().unwrap_or("");
        let exists = sess
            .events
            .iter()
            .any(|e| e["id"] == id && want.contains(&e["type"].as_str().unwrap_or("")));
        if !exists {
            return Err(ApiError::invalid(format!(
                "events[{i}].{key}: no {} event {id:?} in this session",
                want[0]
            )));
        }
        if answered(id_key, id) {
            return Err(ApiError::invalid(format!(
                "events[{i}].{key}: {id:?} was already answered"
            )));
        }
        Ok(())
    };
    match ev["type"].as_str() {
        Some("user.tool_confirmation") => refers(
            "tool_use_id",
            "tool_use_id",
            &["agent.tool_use", "agent.mcp_tool_use"],
        ),
        Some("user.tool_result") => refers("tool_use_id", "tool_use_id", &["agent.tool_use"]),
        Some("user.custom_tool_result") => refers(
            "custom_tool_use_id",
            "custom_tool_use_id",
            &["agent.custom_tool_use"],
        ),
        _ => Ok(()),
    }
}

pub fn send(s: &Arc<Shared>, req: &Req) -> Answer {
    let events = req
        .field("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if events.is_empty() {
        return Err(ApiError::invalid("events: must contain at least one event"));
    }
    let mut st = s.lock();
    let sid = req.p("session_id").to_string();
    {
        let sess = st.session(&sid)?;
        if sess.json["status"] == "terminated" {
            return Err(ApiError::invalid(format!("session {sid:?} is terminated")));
        }
        if !sess.json["archived_at"].is_null() {
            return Err(ApiError::invalid(format!("session {sid:?} is archived")));
        }
        for (i, ev) in events.iter().enumerate() {
            check_event(sess, ev, i)?;
        }
    }
    super::work::wake_session(&mut st, &sid, &events);
    Ok(Reply::ok(json!({ "data": deliver(&mut st, &sid, events) })))
}

/// Stores user events, publishes them and hands them to the session's agent.
/// A `user.message` sent while the agent still has a turn to finish is
/// queued: it gets its id now and `processed_at: null`, and is stored and
/// streamed when its turn starts (see `agent::run`).
pub fn deliver(st: &mut State, sid: &str, events: Vec<Value>) -> Vec<Value> {
    let mut stored = Vec::new();
    for ev in events {
        let Ok(sess) = st.session_mut(sid) else {
            break;
        };
        let queued = ev["type"] == "user.message" && sess.unprocessed > 0;
        if ev["type"] == "user.message" {
            sess.unprocessed += 1;
        }
        let ev = if queued {
            stamped(ev, Value::Null)
        } else {
            match emit(st, sid, ev) {
                Some(ev) => ev,
                None => break,
            }
        };
        if let Ok(sess) = st.session(sid) {
            let _ = sess.inbox.send(ev.clone());
        }
        stored.push(ev);
    }
    stored
}

pub fn stream(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    check_thread(&st, req)?;
    let previews: Vec<String> = req
        .query
        .get("event_deltas")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let sess = st.session_mut(req.p("session_id"))?;
    let rx = sess.hub.subscribe(previews);
    Ok(Reply::Sse(sse_body(rx, s.config.drop_streams_after)))
}

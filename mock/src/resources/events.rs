//! `beta:sessions:events` (and the primary thread's events): listing the
//! event log, sending user events to the scripted agent, and SSE streams
//! (the log itself is `store::events`).

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Answer, Reply, Req};
use crate::store::events::deliver;
use crate::store::{ApiError, Shared, State, created_at_filter, paginate};
use crate::stream::sse_body;

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

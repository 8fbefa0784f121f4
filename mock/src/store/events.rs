//! The event log of sessions: `emit` is the one place where events get ids,
//! are stored, and reach attached streams; `deliver` hands user events to a
//! session's scripted agent.

use serde_json::{Value, json};

use super::{State, new_id};
use crate::stream::Item;

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

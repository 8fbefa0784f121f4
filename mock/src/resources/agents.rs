//! `beta:agents` and `beta:agents:versions`: versioned agent definitions with
//! optimistic concurrency on update.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{Answer, Reply, Req, newest_first};
use crate::store::{
    AgentRec, ApiError, Shared, created_at_filter, merge_metadata, new_id, paginate, visible,
};

/// The agent model field in response form: always an object.
fn model(v: &Value) -> Value {
    match v {
        Value::String(s) => json!({ "id": s }),
        other => other.clone(),
    }
}

fn policy_or(v: Option<&Value>, default: &Value) -> Value {
    match v {
        Some(p) if !p.is_null() => p.clone(),
        _ => default.clone(),
    }
}

/// A tool definition in response form: toolsets get explicit configs and a
/// default config (enabled, always_allow unless said otherwise).
pub fn normalize_tool(t: &Value) -> Value {
    match t["type"].as_str() {
        Some("agent_toolset_20260401") => {
            let dc = t.get("default_config").filter(|v| !v.is_null());
            let enabled = dc.and_then(|d| d["enabled"].as_bool()).unwrap_or(true);
            let policy = policy_or(
                dc.and_then(|d| d.get("permission_policy")),
                &json!({"type": "always_allow"}),
            );
            let configs: Vec<Value> = t["configs"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .map(|c| {
                            let name = c["name"].as_str().or(c["type"].as_str()).unwrap_or("");
                            json!({
                                "name": name,
                                "type": name,
                                "enabled": c["enabled"].as_bool().unwrap_or(enabled),
                                "permission_policy": policy_or(c.get("permission_policy"), &policy),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "type": "agent_toolset_20260401",
                "configs": configs,
                "default_config": { "enabled": enabled, "permission_policy": policy },
            })
        }
        Some("mcp_toolset") => {
            let mut out = t.clone();
            if out.get("default_config").is_none_or(Value::is_null) {
                out["default_config"] =
                    json!({"enabled": true, "permission_policy": {"type": "always_ask"}});
            }
            if out.get("configs").is_none_or(Value::is_null) {
                out["configs"] = json!([]);
            }
            out
        }
        _ => t.clone(),
    }
}

fn arr(v: Option<&Value>) -> Value {
    v.filter(|v| !v.is_null())
        .cloned()
        .unwrap_or_else(|| json!([]))
}

/// Applies the body fields of create/update onto an agent object.
fn apply(agent: &mut Value, body: &Map<String, Value>) {
    for (k, v) in body {
        match k.as_str() {
            "version" => {}
            "model" => agent["model"] = model(v),
            "tools" => {
                agent["tools"] = Value::Array(
                    v.as_array()
                        .map(|a| a.iter().map(normalize_tool).collect())
                        .unwrap_or_default(),
                )
            }
            "metadata" => merge_metadata(&mut agent["metadata"], v),
            "mcp_servers" | "skills" => agent[k] = arr(Some(v)),
            "execution_identity" if v.is_null() => agent[k] = json!({"type": "service_account"}),
            _ => agent[k.as_str()] = v.clone(),
        }
    }
}

pub fn create(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let mut agent = json!({
        "id": new_id("agent"),
        "type": "agent",
        "name": "",
        "description": null,
        "model": {},
        "system": null,
        "tools": [],
        "mcp_servers": [],
        "skills": [],
        "metadata": {},
        "multiagent": null,
        "execution_identity": {"type": "service_account"},
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "archived_at": null,
    });
    apply(&mut agent, &req.body);
    st.agents.push(AgentRec {
        versions: vec![agent.clone()],
    });
    Ok(Reply::ok(agent))
}

fn get<'a>(st: &'a crate::store::State, id: &str) -> Result<&'a AgentRec, ApiError> {
    st.agent(id).ok_or_else(|| ApiError::not_found("agent", id))
}

pub fn retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let rec = get(&st, req.p("agent_id"))?;
    match req.query.get("version").and_then(Value::as_i64) {
        None => Ok(Reply::ok(rec.current().clone())),
        Some(v) => rec
            .versions
            .iter()
            .find(|a| a["version"] == v)
            .map(|a| Reply::ok(a.clone()))
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "not_found_error",
                    format!("agent {:?} has no version {v}", req.p("agent_id")),
                )
            }),
    }
}

pub fn update(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let id = req.p("agent_id").to_string();
    let rec = st
        .agent_mut(&id)
        .ok_or_else(|| ApiError::not_found("agent", &id))?;
    let current = rec.current().clone();
    if !current["archived_at"].is_null() {
        return Err(ApiError::invalid(format!(
            "agent {id:?} is archived and cannot be updated"
        )));
    }
    if let Some(v) = req.field("version")
        && *v != current["version"]
    {
        return Err(ApiError::conflict(format!(
            "version: agent {id:?} is at version {}, not {v}; retrieve it and retry",
            current["version"]
        )));
    }
    let mut next = current.clone();
    apply(&mut next, &req.body);
    let strip = |a: &Value| {
        let mut a = a.clone();
        for k in ["version", "updated_at"] {
            a.as_object_mut().map(|o| o.remove(k));
        }
        a
    };
    if strip(&next) == strip(&current) {
        return Ok(Reply::ok(current));
    }
    next["version"] = json!(current["version"].as_i64().unwrap_or(1) + 1);
    next["updated_at"] = json!(now);
    rec.versions.push(next.clone());
    Ok(Reply::ok(next))
}

pub fn list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let mut items = Vec::new();
    for a in st.agents.iter().map(AgentRec::current) {
        if visible(&req.query, a) && created_at_filter(&req.query, "created_at", a)? {
            items.push(a.clone());
        }
    }
    Ok(Reply::ok(paginate(newest_first(items), &req.query, false)?))
}

pub fn archive(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let id = req.p("agent_id").to_string();
    let rec = st
        .agent_mut(&id)
        .ok_or_else(|| ApiError::not_found("agent", &id))?;
    let cur = rec.versions.last_mut().expect("a version");
    if cur["archived_at"].is_null() {
        cur["archived_at"] = json!(now);
        cur["updated_at"] = json!(now);
    }
    Ok(Reply::ok(cur.clone()))
}

pub fn versions(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let rec = get(&st, req.p("agent_id"))?;
    Ok(Reply::ok(paginate(
        newest_first(rec.versions.clone()),
        &req.query,
        false,
    )?))
}

/// The agent snapshot a session carries (no timestamps or metadata).
pub fn session_snapshot(agent: &Value) -> Value {
    let mut a = agent.clone();
    if let Some(o) = a.as_object_mut() {
        for k in ["created_at", "updated_at", "archived_at", "metadata"] {
            o.remove(k);
        }
    }
    a
}

/// Resolves a session's `agent` parameter: an id string, or
/// `{type: "agent", id, version?}`.
pub fn resolve(st: &crate::store::State, v: &Value) -> Result<Value, ApiError> {
    let (id, version) = match v {
        Value::String(s) => (s.as_str(), None),
        Value::Object(o) => (
            o.get("id").and_then(Value::as_str).unwrap_or(""),
            o.get("version").and_then(Value::as_i64),
        ),
        _ => {
            return Err(ApiError::invalid(
                "agent: expected an agent id or {type, id, version}",
            ));
        }
    };
    let rec = st
        .agent(id)
        .ok_or_else(|| ApiError::not_found("agent", id))?;
    let a = match version {
        None => rec.current(),
        Some(n) => rec
            .versions
            .iter()
            .find(|a| a["version"] == n)
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "not_found_error",
                    format!("agent {id:?} has no version {n}"),
                )
            })?,
    };
    Ok(a.clone())
}

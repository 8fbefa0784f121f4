//! `beta:environments`: where sessions run. A `cloud` environment gives each
//! session a sandbox directory; `self_hosted` leaves tool execution to a worker.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Answer, Reply, Req, newest_first};
use crate::store::{Shared, find, find_mut, merge_metadata, new_id, paginate, visible};

/// A config in response form (cloud configs get networking and packages).
fn normalize_config(c: Option<&Value>) -> Value {
    let c = c
        .filter(|v| !v.is_null())
        .cloned()
        .unwrap_or_else(|| json!({"type": "cloud"}));
    if c["type"] != "cloud" {
        return c;
    }
    let mut out = c.clone();
    if out.get("networking").is_none_or(Value::is_null) {
        out["networking"] = json!({"type": "unrestricted"});
    }
    if out["networking"]["type"] == "limited" {
        // Limited networking allows nothing beyond `allowed_hosts` unless told.
        let net = &mut out["networking"];
        for (key, default) in [
            ("allowed_hosts", json!([])),
            ("allow_mcp_servers", json!(false)),
            ("allow_package_managers", json!(false)),
        ] {
            if net.get(key).is_none_or(Value::is_null) {
                net[key] = default;
            }
        }
    }
    let mut packages = json!({"type": "packages", "apt": [], "cargo": [], "gem": [], "go": [], "npm": [], "pip": []});
    if let Some(p) = c.get("packages").and_then(Value::as_object) {
        for (k, v) in p {
            if !v.is_null() {
                packages[k.as_str()] = v.clone();
            }
        }
    }
    out["packages"] = packages;
    out
}

pub fn create(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let mut env = json!({
        "id": new_id("env"),
        "type": "environment",
        "name": req.field("name").cloned().unwrap_or(json!("")),
        "description": req.field("description").cloned().unwrap_or(Value::Null),
        "config": normalize_config(req.field("config")),
        "metadata": {},
        "scope": req.field("scope").cloned().unwrap_or(Value::Null),
        "created_at": now,
        "updated_at": now,
        "archived_at": null,
    });
    if let Some(m) = req.field("metadata") {
        merge_metadata(&mut env["metadata"], m);
    }
    st.environments.push(env.clone());
    Ok(Reply::ok(env))
}

pub fn retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    Ok(Reply::ok(
        find(&st.environments, "environment", req.p("environment_id"))?.clone(),
    ))
}

pub fn update(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let env = find_mut(&mut st.environments, "environment", req.p("environment_id"))?;
    for (k, v) in &req.body {
        match k.as_str() {
            "metadata" => merge_metadata(&mut env["metadata"], v),
            "config" => env["config"] = normalize_config(Some(v)),
            _ => env[k.as_str()] = v.clone(),
        }
    }
    env["updated_at"] = json!(now);
    Ok(Reply::ok(env.clone()))
}

pub fn list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let items = st
        .environments
        .iter()
        .filter(|e| visible(&req.query, e))
        .cloned()
        .collect();
    Ok(Reply::ok(paginate(newest_first(items), &req.query, false)?))
}

pub fn delete(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let id = req.p("environment_id").to_string();
    find(&st.environments, "environment", &id)?;
    st.environments.retain(|e| e["id"] != id.as_str());
    Ok(Reply::ok(json!({"id": id, "type": "environment_deleted"})))
}

pub fn archive(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let env = find_mut(&mut st.environments, "environment", req.p("environment_id"))?;
    if env["archived_at"].is_null() {
        env["archived_at"] = json!(now);
        env["updated_at"] = json!(now);
    }
    Ok(Reply::ok(env.clone()))
}

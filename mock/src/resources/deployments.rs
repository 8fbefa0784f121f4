//! `beta:deployments` and `beta:deployment-runs`: stored by the generic
//! emulation, with two hand-written steps: a deployment's `agent` must name
//! an agent (kept as a reference with its version) and its environment must
//! exist; and `run` starts a real session from the deployment (its agent,
//! environment, vaults and initial events), recorded as a deployment run
//! (`trigger_context: manual`) that names the session.

use std::collections::HashMap;
use std::sync::Arc;

use ant::api::Operation;
use serde_json::{Map, Value, json};

use super::{Answer, Reply, Req, agents, events, generic, sessions};
use crate::store::{ApiError, Shared, find, new_id};

const DEPLOYMENTS: &str = "/v1/deployments";
const RUNS: &str = "/v1/deployment_runs";

/// A request to another operation, made on behalf of `req`.
fn inner(
    req: &Req,
    op: (&str, &str),
    path: &[(&'static str, &str)],
    body: Map<String, Value>,
) -> Req {
    Req {
        op: Operation::find(op.0, op.1).expect("a table operation"),
        path: path
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .collect::<HashMap<_, _>>(),
        query: Map::new(),
        body,
        parts: Vec::new(),
        api_key_id: req.api_key_id.clone(),
        headers: Vec::new(),
    }
}

/// Create and update: the generic emulation, after checking the agent and
/// environment named; the stored `agent` is the reference to that agent.
pub fn store(s: &Arc<Shared>, req: &Req) -> Answer {
    let agent = {
        let st = s.lock();
        if let Some(env) = req.field("environment_id").and_then(Value::as_str) {
            find(&st.environments, "environment", env).map_err(|e| ApiError {
                message: format!("environment_id: {}", e.message),
                ..e
            })?;
        }
        match req.field("agent") {
            Some(a) => Some(agents::resolve(&st, a)?),
            None => None,
        }
    };
    let answer = generic::handle(s, req)?;
    let Reply::Json(status, mut v) = answer else {
        return Ok(answer);
    };
    if let Some(a) = agent {
        let reference = json!({"type": "agent", "id": a["id"], "version": a["version"]});
        v["agent"] = reference;
        let mut st = s.lock();
        let id = v["id"].as_str().unwrap_or("").to_string();
        if let Some(stored) = st.generic.get_mut(DEPLOYMENTS, &id) {
            stored["agent"] = v["agent"].clone();
        }
    }
    Ok(Reply::Json(status, v))
}

/// Starts a session from the deployment and records the run.
pub fn run(s: &Arc<Shared>, req: &Req) -> Answer {
    let id = req.p("deployment_id");
    let dep = s
        .lock()
        .generic
        .get(DEPLOYMENTS, id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("deployment", id))?;
    if !dep["archived_at"].is_null() {
        return Err(ApiError::invalid(format!("deployment {id:?} is archived")));
    }
    if dep["status"] == "paused" {
        return Err(ApiError::invalid(format!(
            "deployment {id:?} is paused; unpause it to run it"
        )));
    }
    let mut body = Map::new();
    body.insert("agent".into(), dep["agent"].clone());
    body.insert("environment_id".into(), dep["environment_id"].clone());
    if let Some(v) = dep["vault_ids"].as_array().filter(|v| !v.is_empty()) {
        body.insert("vault_ids".into(), json!(v));
    }
    let create = inner(req, ("beta:sessions", "create"), &[], body);
    let Reply::Json(_, session) = sessions::create(s, &create)? else {
        unreachable!("sessions create answers JSON")
    };
    let sid = session["id"].as_str().unwrap_or("").to_string();
    let initial: Vec<Value> = dep["initial_events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "user.message")
        .cloned()
        .collect();
    if !initial.is_empty() {
        let mut body = Map::new();
        body.insert("events".into(), Value::Array(initial));
        let send = inner(
            req,
            ("beta:sessions:events", "send"),
            &[("session_id", &sid)],
            body,
        );
        events::send(s, &send)?;
    }
    let mut st = s.lock();
    let now = st.now();
    let run = json!({
        "id": new_id("deprun"),
        "type": "deployment_run",
        "deployment_id": id,
        "agent": dep["agent"],
        "session_id": sid,
        "trigger_context": {"type": "manual"},
        "error": null,
        "created_at": now,
    });
    let run_id = run["id"].as_str().unwrap_or("").to_string();
    st.generic.put(RUNS, &run_id, run.clone());
    Ok(Reply::ok(run))
}

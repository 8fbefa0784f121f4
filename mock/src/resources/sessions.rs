//! `beta:sessions`, their resources and their (single, primary) thread.
//! Creating a session starts its scripted agent and, in a cloud environment,
//! its sandbox directory.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Answer, Reply, Req, agents, newest_first};
use crate::store::{
    ApiError, SessionRec, Shared, State, created_at_filter, find, merge_metadata, new_id, paginate,
    visible,
};
use crate::stream::Hub;

/// Adds a file resource: its content is copied into the session sandbox at
/// its mount path (re-rooted under the sandbox, by default
/// `/mnt/session/uploads/<file_id>`) through the file tools' path guard, so
/// a mount cannot follow a symlink out of the sandbox; a failed copy is an
/// error and adds nothing.
fn file_resource(st: &mut State, r: &Value, sandbox: &std::path::Path) -> Result<Value, ApiError> {
    let file_id = r["file_id"].as_str().unwrap_or("").to_string();
    let data = st
        .files
        .iter()
        .find(|f| f.meta["id"] == file_id.as_str())
        .map(|f| f.data.clone())
        .ok_or_else(|| ApiError::not_found("file", &file_id))?;
    let mount = r["mount_path"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("/mnt/session/uploads/{file_id}"));
    crate::tools::write_file(sandbox, mount.trim_start_matches('/'), &data)
        .map_err(|e| ApiError::invalid(format!("mount_path: cannot mount at {mount:?}: {e}")))?;
    let now = st.now();
    Ok(json!({
        "id": new_id("sesrsc"),
        "type": "file",
        "file_id": file_id,
        "mount_path": mount,
        "created_at": now,
        "updated_at": now,
    }))
}

pub fn create(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let agent = agents::resolve(&st, req.field("agent").unwrap_or(&Value::Null))?;
    if !agent["archived_at"].is_null() {
        return Err(ApiError::invalid(format!(
            "agent: agent {} is archived",
            agent["id"]
        )));
    }
    let env_id = req
        .field("environment_id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let env = find(&st.environments, "environment", &env_id)
        .map_err(|e| ApiError {
            message: format!("environment_id: {}", e.message),
            ..e
        })?
        .clone();
    if !env["archived_at"].is_null() {
        return Err(ApiError::invalid(format!(
            "environment_id: environment {} is archived",
            env["id"]
        )));
    }
    let self_hosted = env["config"]["type"] == "self_hosted";
    let sid = new_id("sesn");
    let sandbox = s.sandbox_root.join(&sid);
    std::fs::create_dir_all(&sandbox)
        .map_err(|e| ApiError::new(500, "api_error", format!("sandbox: {e}")))?;
    let resources = match session_resources(&mut st, req, &sandbox) {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&sandbox);
            return Err(e);
        }
    };
    let now = st.now();
    let mut json = json!({
        "id": sid,
        "type": "session",
        "title": req.field("title").cloned().unwrap_or(Value::Null),
        "agent": agents::session_snapshot(&agent),
        "environment_id": env_id,
        "status": "idle",
        "metadata": {},
        "resources": resources,
        "vault_ids": req.field("vault_ids").cloned().unwrap_or_else(|| json!([])),
        "budget": req.field("budget").cloned().unwrap_or(Value::Null),
        "outcome_evaluations": [],
        "stats": { "active_seconds": 0.0, "duration_seconds": 0.0 },
        "usage": { "input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0 },
        "deployment_id": null,
        "created_at": now,
        "updated_at": now,
        "archived_at": null,
    });
    if let Some(m) = req.field("metadata") {
        merge_metadata(&mut json["metadata"], m);
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let worker = tokio::spawn(crate::agent::run(s.clone(), sid.clone(), rx));
    st.sessions.push(SessionRec {
        json,
        events: Vec::new(),
        hub: Hub::default(),
        inbox: tx,
        worker: Some(worker),
        sandbox,
        thread_id: new_id("sthr"),
        self_hosted,
        unprocessed: 0,
    });
    if self_hosted {
        st.work.enqueue(&env_id, &sid, crate::store::now_ms());
    }
    if let Some(initial) = req.field("initial_events").and_then(Value::as_array) {
        crate::store::events::deliver(&mut st, &sid, initial.clone());
    }
    Ok(Reply::ok(st.session(&sid)?.json.clone()))
}

/// The `resources` of a new session in response form (files mounted).
fn session_resources(
    st: &mut State,
    req: &Req,
    sandbox: &std::path::Path,
) -> Result<Vec<Value>, ApiError> {
    let mut resources = Vec::new();
    for r in req
        .field("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let res = if r["type"] == "file" {
            file_resource(st, r, sandbox)?
        } else {
            let now = st.now();
            let mut res = r.clone();
            res["id"] = json!(new_id("sesrsc"));
            res["created_at"] = json!(now);
            res["updated_at"] = json!(now);
            if let Some(o) = res.as_object_mut() {
                o.remove("authorization_token");
            }
            if res["type"] == "github_repository" && res["mount_path"].is_null() {
                res["mount_path"] = json!(format!("/workspace/{}", repo_name(&res["url"])));
            }
            res
        };
        resources.push(res);
    }
    Ok(resources)
}

/// The name of a repository from its URL (`https://github.com/o/r.git` → `r`).
fn repo_name(url: &Value) -> &str {
    let url = url.as_str().unwrap_or("").trim_end_matches('/');
    let last = url.rsplit('/').next().unwrap_or(url);
    last.strip_suffix(".git").unwrap_or(last)
}

pub fn retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    Ok(Reply::ok(st.session(req.p("session_id"))?.json.clone()))
}

pub fn update(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let agent = match req.field("agent") {
        Some(a) => Some(agents::resolve(&st, a)?),
        None => None,
    };
    let sess = st.session_mut(req.p("session_id"))?;
    for (k, v) in &req.body {
        match k.as_str() {
            "agent" => {}
            "metadata" => merge_metadata(&mut sess.json["metadata"], v),
            _ => sess.json[k.as_str()] = v.clone(),
        }
    }
    if let Some(a) = agent {
        sess.json["agent"] = agents::session_snapshot(&a);
    }
    sess.json["updated_at"] = json!(now);
    Ok(Reply::ok(sess.json.clone()))
}

pub fn list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let q = &req.query;
    let statuses: Option<Vec<Value>> = q.get("statuses").and_then(Value::as_array).cloned();
    let mut items = Vec::new();
    for sess in &st.sessions {
        let j = &sess.json;
        let keep = visible(q, j)
            && q.get("agent_id").is_none_or(|a| j["agent"]["id"] == *a)
            && q.get("agent_version")
                .is_none_or(|v| j["agent"]["version"] == *v)
            && statuses.as_ref().is_none_or(|s| s.contains(&j["status"]))
            && q.get("memory_store_id").is_none_or(|m| {
                j["resources"]
                    .as_array()
                    .is_some_and(|rs| rs.iter().any(|r| r["memory_store_id"] == *m))
            })
            && q.get("deployment_id")
                .is_none_or(|d| j["deployment_id"] == *d)
            && created_at_filter(q, "created_at", j)?;
        if keep {
            items.push(j.clone());
        }
    }
    if q.get("order").and_then(Value::as_str) != Some("asc") {
        items = newest_first(items);
    }
    Ok(Reply::ok(paginate(items, q, true)?))
}

pub fn delete(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let sid = req.p("session_id").to_string();
    st.session(&sid)?;
    crate::store::events::emit(&mut st, &sid, json!({"type": "session.deleted"}));
    st.work.session_gone(&sid, crate::store::now_ms());
    let idx = st
        .sessions
        .iter()
        .position(|x| x.json["id"] == sid.as_str())
        .expect("exists");
    let mut sess = st.sessions.remove(idx);
    sess.hub.close();
    if let Some(w) = sess.worker.take() {
        w.abort();
    }
    let _ = std::fs::remove_dir_all(&sess.sandbox);
    Ok(Reply::ok(json!({"id": sid, "type": "session_deleted"})))
}

pub fn archive(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let sess = st.session_mut(req.p("session_id"))?;
    if sess.json["archived_at"].is_null() {
        sess.json["archived_at"] = json!(now);
        sess.json["updated_at"] = json!(now);
    }
    Ok(Reply::ok(sess.json.clone()))
}

// ---- resources ----

pub fn resource_add(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let sid = req.p("session_id").to_string();
    let sandbox = st.session(&sid)?.sandbox.clone();
    let body = Value::Object(req.body.clone());
    let res = file_resource(&mut st, &body, &sandbox)?;
    let sess = st.session_mut(&sid)?;
    sess.json["resources"]
        .as_array_mut()
        .expect("array")
        .push(res.clone());
    Ok(Reply::ok(res))
}

fn resources_of<'a>(st: &'a State, req: &Req) -> Result<&'a Vec<Value>, ApiError> {
    Ok(st.session(req.p("session_id"))?.json["resources"]
        .as_array()
        .expect("array"))
}

pub fn resource_list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    Ok(Reply::ok(paginate(
        resources_of(&st, req)?.clone(),
        &req.query,
        false,
    )?))
}

pub fn resource_retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    Ok(Reply::ok(
        find(resources_of(&st, req)?, "resource", req.p("resource_id"))?.clone(),
    ))
}

pub fn resource_update(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let rid = req.p("resource_id").to_string();
    let sess = st.session_mut(req.p("session_id"))?;
    let res = sess.json["resources"]
        .as_array_mut()
        .expect("array")
        .iter_mut()
        .find(|r| r["id"] == rid.as_str())
        .ok_or_else(|| ApiError::not_found("resource", &rid))?;
    if res["type"] != "github_repository" {
        return Err(ApiError::invalid(
            "authorization_token: only github_repository resources take a token",
        ));
    }
    res["updated_at"] = json!(now);
    Ok(Reply::ok(res.clone()))
}

pub fn resource_delete(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let rid = req.p("resource_id").to_string();
    let sess = st.session_mut(req.p("session_id"))?;
    let list = sess.json["resources"].as_array_mut().expect("array");
    let before = list.len();
    list.retain(|r| r["id"] != rid.as_str());
    if list.len() == before {
        return Err(ApiError::not_found("resource", &rid));
    }
    Ok(Reply::ok(
        json!({"id": rid, "type": "session_resource_deleted"}),
    ))
}

// ---- threads (only the primary thread exists) ----

fn thread_json(sess: &SessionRec) -> Value {
    let j = &sess.json;
    json!({
        "id": sess.thread_id,
        "type": "session_thread",
        "session_id": j["id"],
        "agent": j["agent"],
        "status": j["status"],
        "parent_thread_id": null,
        "workflow_run_id": null,
        "stats": null,
        "usage": null,
        "created_at": j["created_at"],
        "updated_at": j["updated_at"],
        "archived_at": null,
    })
}

pub fn thread_list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let sess = st.session(req.p("session_id"))?;
    let t = thread_json(sess);
    let keep = req
        .query
        .get("statuses")
        .and_then(Value::as_array)
        .is_none_or(|s| s.contains(&t["status"]));
    let items = if keep { vec![t] } else { vec![] };
    Ok(Reply::ok(paginate(items, &req.query, false)?))
}

pub fn thread_retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let sess = st.session(req.p("session_id"))?;
    if req.p("thread_id") != sess.thread_id {
        return Err(ApiError::not_found("thread", req.p("thread_id")));
    }
    Ok(Reply::ok(thread_json(sess)))
}

pub fn thread_archive(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let sess = st.session(req.p("session_id"))?;
    if req.p("thread_id") != sess.thread_id {
        return Err(ApiError::not_found("thread", req.p("thread_id")));
    }
    Err(ApiError::invalid(
        "thread_id: the primary thread of a session cannot be archived",
    ))
}

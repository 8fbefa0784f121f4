//! `beta:memory-stores`, their memories (path-addressed documents with a
//! content hash and optimistic preconditions) and the memory version log.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{Answer, Reply, Req, newest_first};
use crate::store::{
    ApiError, Shared, State, created_at_filter, find, find_mut, merge_metadata, new_id, paginate,
    visible,
};

pub fn store_create(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let name = req.field("name").cloned().unwrap_or(json!(""));
    let description = req.field("description").cloned().unwrap_or(json!(""));
    new_store(&mut st, &name, &description);
    if let Some(md) = req.field("metadata") {
        let stored = st.memory_stores.last_mut().expect("just added");
        merge_metadata(&mut stored["metadata"], md);
    }
    Ok(Reply::ok(
        st.memory_stores.last().expect("just added").clone(),
    ))
}

/// Adds an empty memory store (also made by a dream) and returns it.
pub fn new_store(st: &mut State, name: &Value, description: &Value) -> Value {
    let now = st.now();
    let m = json!({
        "id": new_id("memstore"),
        "type": "memory_store",
        "name": name,
        "description": description,
        "metadata": {},
        "created_at": now,
        "updated_at": now,
        "archived_at": null,
    });
    st.memory_stores.push(m.clone());
    m
}

pub fn store_retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    Ok(Reply::ok(
        find(&st.memory_stores, "memory store", req.p("memory_store_id"))?.clone(),
    ))
}

pub fn store_update(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let m = find_mut(
        &mut st.memory_stores,
        "memory store",
        req.p("memory_store_id"),
    )?;
    for (k, v) in &req.body {
        match k.as_str() {
            "metadata" => merge_metadata(&mut m["metadata"], v),
            _ if v.is_null() => {}
            _ => m[k.as_str()] = v.clone(),
        }
    }
    m["updated_at"] = json!(now);
    Ok(Reply::ok(m.clone()))
}

pub fn store_list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let mut items = Vec::new();
    for m in &st.memory_stores {
        if visible(&req.query, m) && created_at_filter(&req.query, "created_at", m)? {
            items.push(m.clone());
        }
    }
    Ok(Reply::ok(paginate(newest_first(items), &req.query, false)?))
}

pub fn store_delete(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let id = req.p("memory_store_id").to_string();
    find(&st.memory_stores, "memory store", &id)?;
    st.memory_stores.retain(|m| m["id"] != id.as_str());
    st.memories.retain(|m| m["memory_store_id"] != id.as_str());
    st.memory_versions
        .retain(|m| m["memory_store_id"] != id.as_str());
    Ok(Reply::ok(json!({"id": id, "type": "memory_store_deleted"})))
}

pub fn store_archive(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let m = find_mut(
        &mut st.memory_stores,
        "memory store",
        req.p("memory_store_id"),
    )?;
    if m["archived_at"].is_null() {
        m["archived_at"] = json!(now.clone());
        m["updated_at"] = json!(now);
    }
    Ok(Reply::ok(m.clone()))
}

/// A memory (or version) as the `view` asks: `basic` omits the content.
/// Retrieving one defaults to `full`, as the real API does; creating,
/// updating and listing default to `basic`.
fn view(req: &Req, m: &Value) -> Value {
    let default = if req.op.verb == "retrieve" {
        "full"
    } else {
        "basic"
    };
    let mut m = m.clone();
    if req
        .query
        .get("view")
        .and_then(Value::as_str)
        .unwrap_or(default)
        != "full"
    {
        m["content"] = Value::Null;
    }
    m
}

/// The actor a request acts as: the API key it presented.
fn actor(req: &Req) -> Value {
    json!({ "type": "api_actor", "api_key_id": req.api_key_id })
}

fn store_of(st: &State, req: &Req) -> Result<String, ApiError> {
    Ok(
        find(&st.memory_stores, "memory store", req.p("memory_store_id"))?["id"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

fn record_version(st: &mut State, mem: &Value, op: &str, req: &Req) -> String {
    let now = st.now();
    let id = new_id("memver");
    let deleted = op == "deleted";
    st.memory_versions.push(json!({
        "id": id,
        "type": "memory_version",
        "memory_id": mem["id"],
        "memory_store_id": mem["memory_store_id"],
        "operation": op,
        "path": mem["path"],
        "content": if deleted { Value::Null } else { mem["content"].clone() },
        "content_sha256": if deleted { Value::Null } else { mem["content_sha256"].clone() },
        "content_size_bytes": if deleted { Value::Null } else { mem["content_size_bytes"].clone() },
        "created_by": actor(req),
        "created_at": now,
        "redacted_at": null,
        "redacted_by": null,
    }));
    id
}

fn set_content(m: &mut Value, content: &str) {
    m["content"] = json!(content);
    m["content_sha256"] = json!(crate::sha256::hex(content.as_bytes()));
    m["content_size_bytes"] = json!(content.len());
}

pub fn create(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let store = store_of(&st, req)?;
    let path = req
        .field("path")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if st
        .memories
        .iter()
        .any(|m| m["memory_store_id"] == store.as_str() && m["path"] == path.as_str())
    {
        return Err(ApiError::conflict(format!(
            "path: a memory already exists at {path:?}"
        )));
    }
    let now = st.now();
    let mut m = json!({
        "id": new_id("mem"),
        "type": "memory",
        "memory_store_id": store,
        "path": path,
        "created_at": now,
        "updated_at": now,
    });
    set_content(
        &mut m,
        req.field("content").and_then(Value::as_str).unwrap_or(""),
    );
    m["memory_version_id"] = json!(record_version(&mut st, &m, "created", req));
    st.memories.push(m.clone());
    Ok(Reply::ok(view(req, &m)))
}

fn memory_mut<'a>(st: &'a mut State, req: &Req) -> Result<&'a mut Value, ApiError> {
    let store = store_of(st, req)?;
    let id = req.p("memory_id");
    st.memories
        .iter_mut()
        .find(|m| m["id"] == id && m["memory_store_id"] == store.as_str())
        .ok_or_else(|| ApiError::not_found("memory", id))
}

pub fn retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    Ok(Reply::ok(view(req, memory_mut(&mut st, req)?)))
}

pub fn update(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let mut m = memory_mut(&mut st, req)?.clone();
    if let Some(want) = req
        .field("precondition")
        .and_then(|p| p["content_sha256"].as_str())
        && m["content_sha256"] != want
    {
        return Err(ApiError::new(
            409,
            "conflict_error",
            "precondition: content_sha256 does not match the memory's current content",
        ));
    }
    if let Some(p) = req.field("path") {
        m["path"] = p.clone();
    }
    if let Some(c) = req.field("content").and_then(Value::as_str) {
        set_content(&mut m, c);
    }
    m["updated_at"] = json!(now);
    m["memory_version_id"] = json!(record_version(&mut st, &m, "modified", req));
    *memory_mut(&mut st, req)? = m.clone();
    Ok(Reply::ok(view(req, &m)))
}

pub fn list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let store = store_of(&st, req)?;
    let prefix = req
        .query
        .get("path_prefix")
        .and_then(Value::as_str)
        .unwrap_or("");
    let depth = req.query.get("depth").and_then(Value::as_i64);
    let mut items: Vec<Value> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut mems: Vec<&Value> = st
        .memories
        .iter()
        .filter(|m| m["memory_store_id"] == store.as_str())
        .filter(|m| m["path"].as_str().unwrap_or("").starts_with(prefix))
        .collect();
    mems.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    for m in mems {
        let path = m["path"].as_str().unwrap_or("");
        let rest = &path[prefix.len()..];
        let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        match depth {
            Some(d) if d >= 0 && parts.len() > d as usize + 1 => {
                let keep = parts[..=d as usize].join("/");
                let p = format!(
                    "{prefix}{}{keep}/",
                    if rest.starts_with('/') { "/" } else { "" }
                );
                if !prefixes.contains(&p) {
                    prefixes.push(p.clone());
                    items.push(json!({"type": "memory_prefix", "path": p}));
                }
            }
            _ => items.push(view(req, m)),
        }
    }
    Ok(Reply::ok(paginate(items, &req.query, false)?))
}

pub fn delete(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let m = memory_mut(&mut st, req)?.clone();
    if let Some(want) = req
        .query
        .get("expected_content_sha256")
        .and_then(Value::as_str)
        && m["content_sha256"] != want
    {
        return Err(ApiError::conflict(
            "expected_content_sha256: does not match the memory's current content",
        ));
    }
    record_version(&mut st, &m, "deleted", req);
    st.memories.retain(|x| x["id"] != m["id"]);
    Ok(Reply::ok(json!({"id": m["id"], "type": "memory_deleted"})))
}

/// The filters of the version list: by memory and operation, and by who
/// made the version (`session_id`, `api_key_id`, `service_account_id` name
/// the `created_by` actor).
fn version_matches(q: &Map<String, Value>, v: &Value) -> Result<bool, ApiError> {
    for (key, found) in [
        ("memory_id", &v["memory_id"]),
        ("operation", &v["operation"]),
        ("session_id", &v["created_by"]["session_id"]),
        ("api_key_id", &v["created_by"]["api_key_id"]),
        ("service_account_id", &v["created_by"]["service_account_id"]),
    ] {
        if q.get(key).is_some_and(|want| want != found) {
            return Ok(false);
        }
    }
    created_at_filter(q, "created_at", v)
}

pub fn versions_list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let store = store_of(&st, req)?;
    let mut items = Vec::new();
    for v in st
        .memory_versions
        .iter()
        .filter(|v| v["memory_store_id"] == store.as_str())
    {
        if version_matches(&req.query, v)? {
            items.push(view(req, v));
        }
    }
    Ok(Reply::ok(paginate(newest_first(items), &req.query, false)?))
}

fn version_mut<'a>(st: &'a mut State, req: &Req) -> Result<&'a mut Value, ApiError> {
    let store = store_of(st, req)?;
    let id = req.p("memory_version_id");
    st.memory_versions
        .iter_mut()
        .find(|v| v["id"] == id && v["memory_store_id"] == store.as_str())
        .ok_or_else(|| ApiError::not_found("memory version", id))
}

pub fn version_retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    Ok(Reply::ok(view(req, version_mut(&mut st, req)?)))
}

pub fn version_redact(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let v = version_mut(&mut st, req)?;
    v["content"] = Value::Null;
    v["redacted_at"] = json!(now);
    v["redacted_by"] = actor(req);
    Ok(Reply::ok(v.clone()))
}

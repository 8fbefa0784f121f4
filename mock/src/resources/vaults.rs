//! `beta:vaults` and `beta:vaults:credentials`. Credential secrets are
//! accepted and never echoed back, like the real API (which fields are
//! secret comes from the shared table, `ant::api::secrets`).

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Answer, Reply, Req, newest_first};
use crate::store::{ApiError, Shared, find, find_mut, merge_metadata, new_id, paginate, visible};

pub fn create(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let mut v = json!({
        "id": new_id("vlt"),
        "type": "vault",
        "display_name": req.field("display_name").cloned().unwrap_or(json!("")),
        "metadata": {},
        "created_at": now,
        "updated_at": now,
        "archived_at": null,
    });
    if let Some(m) = req.field("metadata") {
        merge_metadata(&mut v["metadata"], m);
    }
    st.vaults.push(v.clone());
    Ok(Reply::ok(v))
}

pub fn retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    Ok(Reply::ok(
        find(&st.vaults, "vault", req.p("vault_id"))?.clone(),
    ))
}

fn patch(
    target: &mut Value,
    body: &serde_json::Map<String, Value>,
    now: String,
) -> Result<(), ApiError> {
    if let Some(auth) = body.get("auth").filter(|a| !a.is_null()) {
        let (was, asked) = (&target["auth"]["type"], &auth["type"]);
        if was != asked {
            return Err(ApiError::invalid(format!(
                "auth.type: the credential's auth is {was}, not {asked}; its type cannot change"
            )));
        }
        if auth["refresh"].is_object() && !target["auth"]["refresh"].is_object() {
            return Err(ApiError::invalid(
                "auth.refresh: the credential has no refresh settings to update (client_id and \
                 token_endpoint are set when it is created)",
            ));
        }
    }
    for (k, v) in body {
        match k.as_str() {
            "metadata" => merge_metadata(&mut target["metadata"], v),
            "auth" => merge_auth(&mut target["auth"], &redact(v)),
            _ => target[k.as_str()] = v.clone(),
        }
    }
    target["updated_at"] = json!(now);
    Ok(())
}

/// Applies an update's `auth` to the stored one, as the real API does: the
/// fields given replace those stored, the others are kept (`refresh` and
/// `injection_location` merge the same way one level down; `networking` is
/// replaced whole). `null` clears an optional field and leaves the required
/// `networking` as it is.
fn merge_auth(stored: &mut Value, update: &Value) {
    let (Some(stored), Some(update)) = (stored.as_object_mut(), update.as_object()) else {
        return;
    };
    for (k, v) in update {
        match (k.as_str(), stored.get_mut(k)) {
            ("networking", _) if v.is_null() => {}
            ("refresh" | "injection_location", Some(old)) if old.is_object() && v.is_object() => {
                merge_auth(old, v)
            }
            _ => {
                stored.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The stored form of a new credential's `auth`: secrets dropped, and an
/// environment variable's `injection_location` complete (headers by default,
/// as the API documents no other default).
fn new_auth(auth: &Value) -> Value {
    let mut a = redact(auth);
    if a["type"] == "environment_variable" {
        let mut loc = json!({"header": true, "body": false});
        if let Some(given) = a.get("injection_location") {
            merge_auth(&mut loc, given);
        }
        a["injection_location"] = loc;
    }
    a
}

pub fn update(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let v = find_mut(&mut st.vaults, "vault", req.p("vault_id"))?;
    patch(v, &req.body, now)?;
    Ok(Reply::ok(v.clone()))
}

pub fn list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let items = st
        .vaults
        .iter()
        .filter(|v| visible(&req.query, v))
        .cloned()
        .collect();
    Ok(Reply::ok(paginate(newest_first(items), &req.query, false)?))
}

pub fn delete(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let id = req.p("vault_id").to_string();
    find(&st.vaults, "vault", &id)?;
    st.vaults.retain(|v| v["id"] != id.as_str());
    st.credentials.retain(|c| c["vault_id"] != id.as_str());
    Ok(Reply::ok(json!({"id": id, "type": "vault_deleted"})))
}

fn archive_in(v: &mut Value, now: String) {
    if v["archived_at"].is_null() {
        v["archived_at"] = json!(now.clone());
        v["updated_at"] = json!(now);
    }
}

pub fn archive(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let v = find_mut(&mut st.vaults, "vault", req.p("vault_id"))?;
    archive_in(v, now);
    Ok(Reply::ok(v.clone()))
}

/// The response form of a credential's `auth`: every field the API
/// documents as a secret dropped, at any depth (`refresh.token_endpoint_auth
/// .client_secret` too), by the request schema's marks.
fn redact(auth: &Value) -> Value {
    use ant::api::secrets::{Action, scrub};
    let schema = ant::api::Operation::find("beta:vaults:credentials", "create")
        .and_then(|op| op.param("auth"))
        .map(|p| ant::api::schema::parse(p.schema));
    let mut a = auth.clone();
    scrub(&mut a, schema.as_ref(), Action::Remove);
    a
}

fn cred_of<'a>(st: &'a mut crate::store::State, req: &Req) -> Result<&'a mut Value, ApiError> {
    let vid = req.p("vault_id").to_string();
    find(&st.vaults, "vault", &vid)?;
    let cid = req.p("credential_id");
    st.credentials
        .iter_mut()
        .find(|c| c["id"] == cid && c["vault_id"] == vid.as_str())
        .ok_or_else(|| ApiError::not_found("credential", cid))
}

pub fn cred_create(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let vid = req.p("vault_id").to_string();
    find(&st.vaults, "vault", &vid)?;
    let mut c = json!({
        "id": new_id("cred"),
        "type": "vault_credential",
        "vault_id": vid,
        "display_name": req.field("display_name").cloned().unwrap_or(Value::Null),
        "auth": new_auth(req.field("auth").unwrap_or(&Value::Null)),
        "metadata": {},
        "created_at": now,
        "updated_at": now,
        "archived_at": null,
    });
    if let Some(m) = req.field("metadata") {
        merge_metadata(&mut c["metadata"], m);
    }
    st.credentials.push(c.clone());
    Ok(Reply::ok(c))
}

pub fn cred_retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    Ok(Reply::ok(cred_of(&mut st, req)?.clone()))
}

pub fn cred_update(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let c = cred_of(&mut st, req)?;
    patch(c, &req.body, now)?;
    Ok(Reply::ok(c.clone()))
}

pub fn cred_list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let vid = req.p("vault_id");
    find(&st.vaults, "vault", vid)?;
    let items = st
        .credentials
        .iter()
        .filter(|c| c["vault_id"] == vid && visible(&req.query, c))
        .cloned()
        .collect();
    Ok(Reply::ok(paginate(newest_first(items), &req.query, false)?))
}

pub fn cred_delete(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let id = cred_of(&mut st, req)?["id"].clone();
    st.credentials.retain(|c| c["id"] != id);
    Ok(Reply::ok(
        json!({"id": id, "type": "vault_credential_deleted"}),
    ))
}

pub fn cred_archive(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let c = cred_of(&mut st, req)?;
    archive_in(c, now);
    Ok(Reply::ok(c.clone()))
}

/// `mcp-oauth-validate`: an `mcp_oauth` credential that is not archived and
/// has not expired is `valid` (ant-mock cannot probe the server, so there
/// is no `mcp_probe`); any other credential is `invalid`.
pub fn cred_validate(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let now = st.now();
    let c = cred_of(&mut st, req)?;
    let auth = &c["auth"];
    let expired = auth["expires_at"]
        .as_str()
        .and_then(crate::store::parse_rfc3339)
        .is_some_and(|t| t < crate::store::now_ms() as i64);
    let valid = auth["type"] == "mcp_oauth" && c["archived_at"].is_null() && !expired;
    Ok(Reply::ok(json!({
        "type": "vault_credential_validation",
        "credential_id": c["id"],
        "vault_id": req.p("vault_id"),
        "status": if valid { "valid" } else { "invalid" },
        "has_refresh_token": !auth["refresh"].is_null(),
        "validated_at": now,
    })))
}

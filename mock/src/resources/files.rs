//! `beta:files` (and `files`): multipart upload, list, metadata, download
//! and delete, with the content kept in memory.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Answer, Reply, Req, newest_first};
use crate::store::{ApiError, FileRec, Shared, new_id, paginate_both};

pub fn upload(s: &Arc<Shared>, req: &Req) -> Answer {
    let part = req
        .parts
        .iter()
        .find(|p| p.name == "file")
        .ok_or_else(|| ApiError::invalid("file: Field required"))?;
    let mut st = s.lock();
    let now = st.now();
    let filename = part.filename.clone().unwrap_or_else(|| "upload".into());
    let mime = part
        .content_type
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "application/octet-stream".into());
    let expires = req
        .field("expires_in_seconds")
        .and_then(Value::as_i64)
        .map(|secs| {
            // Saturating, and capped at 9999-12-31T23:59:59.999Z: the value
            // is any integer the client sends.
            let ms =
                crate::store::now_ms().saturating_add((secs.max(0) as u64).saturating_mul(1000));
            crate::store::rfc3339(ms.min(253_402_300_799_999))
        });
    let meta = json!({
        "id": new_id("file"),
        "type": "file",
        "filename": filename,
        "mime_type": mime,
        "size_bytes": part.data.len(),
        "created_at": now,
        "downloadable": true,
        "expires_at": expires,
        "scope": null,
    });
    st.files.push(FileRec {
        meta: meta.clone(),
        data: part.data.clone(),
    });
    Ok(Reply::ok(meta))
}

fn get<'a>(st: &'a crate::store::State, id: &str) -> Result<&'a FileRec, ApiError> {
    st.files
        .iter()
        .find(|f| f.meta["id"] == id)
        .ok_or_else(|| ApiError::not_found("file", id))
}

/// Newest first, filtered by `ids[]` and `scope_id`, paged by `page` or by
/// `after_id`/`before_id` (see [`paginate_both`]).
pub fn list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let q = &req.query;
    let ids = q.get("ids").and_then(Value::as_array);
    let scope = q.get("scope_id");
    let items = st
        .files
        .iter()
        .filter(|f| ids.is_none_or(|ids| ids.contains(&f.meta["id"])))
        .filter(|f| scope.is_none_or(|id| f.meta["scope"]["id"] == *id))
        .map(|f| f.meta.clone())
        .collect();
    let newest = st.files.len();
    let rank = |id: &str| {
        let i = st.files.iter().position(|f| f.meta["id"] == id)?;
        Some(newest - 1 - i)
    };
    Ok(Reply::ok(paginate_both(
        newest_first(items),
        q,
        "file",
        rank,
    )?))
}

pub fn retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    Ok(Reply::ok(get(&st, req.p("file_id"))?.meta.clone()))
}

pub fn download(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let f = get(&st, req.p("file_id"))?;
    Ok(Reply::Raw {
        status: 200,
        content_type: f.meta["mime_type"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .to_string(),
        body: f.data.clone(),
    })
}

pub fn delete(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let id = req.p("file_id").to_string();
    get(&st, &id)?;
    st.files.retain(|f| f.meta["id"] != id.as_str());
    Ok(Reply::ok(json!({"id": id, "type": "file_deleted"})))
}

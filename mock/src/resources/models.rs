//! `models` and `beta:models`: a fixed catalog (listed in docs/mock.md),
//! newest first, paged by `after_id`/`before_id`, filtered by `lifecycle`.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Answer, Reply, Req};
use crate::store::{ApiError, Shared, paginate_both};

/// `(id, display name, released, lifecycle, context window, max output)`.
pub const CATALOG: &[(&str, &str, &str, &str, u64, u64)] = &[
    (
        "claude-opus-4-7",
        "Claude Opus 4.7",
        "2026-09-30T00:00:00Z",
        "active",
        1_000_000,
        128_000,
    ),
    (
        "claude-sonnet-4-6",
        "Claude Sonnet 4.6",
        "2026-06-17T00:00:00Z",
        "active",
        1_000_000,
        64_000,
    ),
    (
        "claude-haiku-4-5",
        "Claude Haiku 4.5",
        "2025-10-15T00:00:00Z",
        "active",
        200_000,
        64_000,
    ),
    (
        "claude-opus-4-1",
        "Claude Opus 4.1",
        "2025-08-05T00:00:00Z",
        "deprecated",
        200_000,
        32_000,
    ),
];

fn info(m: &(&str, &str, &str, &str, u64, u64)) -> Value {
    let (id, name, created, lifecycle, context, output) = *m;
    json!({
        "type": "model",
        "id": id,
        "display_name": name,
        "created_at": created,
        "lifecycle": lifecycle,
        "max_input_tokens": context,
        "max_tokens": output,
    })
}

pub fn retrieve(_s: &Arc<Shared>, req: &Req) -> Answer {
    let id = req.p("model_id");
    let m = CATALOG
        .iter()
        .find(|m| m.0 == id)
        .ok_or_else(|| ApiError::not_found("model", id))?;
    Ok(Reply::ok(info(m)))
}

pub fn list(_s: &Arc<Shared>, req: &Req) -> Answer {
    let lifecycle = req.query.get("lifecycle").and_then(Value::as_str);
    let items: Vec<Value> = CATALOG
        .iter()
        .filter(|m| lifecycle.is_none_or(|l| l == m.3))
        .map(info)
        .collect();
    let rank = |id: &str| CATALOG.iter().position(|m| m.0 == id);
    Ok(Reply::ok(paginate_both(items, &req.query, "model", rank)?))
}

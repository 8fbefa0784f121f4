//! The generic emulation: every operation no hand-written resource answers
//! (the Admin API above all) is emulated from the endpoint table, as
//! stripe-mock does from its spec. Items live in collections keyed by the
//! path that lists them and are keyed by the ID their path names; create,
//! retrieve, update, list, delete and actions (`archive`, `validate`, ...)
//! work on them; answers are built from the response schema (`synth`), with
//! the request's fields where the schema accepts them, so they are valid by
//! construction; lists page in the endpoint's own style; an ID never created
//! is a `404`. Collections the API cannot fill (API keys, users, reports)
//! start with two example items.

use std::sync::Arc;

use ant::api::{Loc, OPERATIONS, Operation, Paging, Response};
use serde_json::{Map, Value, json};

use super::{Answer, Reply, Req};
use crate::store::{
    ApiError, Shared, State, created_at_filter, encode_cursor, new_id, page_limit, page_start,
    visible,
};
use crate::synth::{self, Fill};

/// What an operation does to its items, read from its method, path and verb.
enum Shape {
    /// `GET` of a page: the collection at the whole path.
    List,
    /// `POST` `create`/`add` at a collection path.
    Create,
    /// `GET`, `POST` (update), `PUT`/`set`, `DELETE` of `collection/{id}`.
    Retrieve,
    Update,
    Upsert,
    Delete,
    /// A `POST` (or download) under an item: `collection/{id}/archive`.
    Action,
    /// A `GET` or update of one object at a fixed path (`/v1/organizations/me`).
    Singleton,
    SingletonUpdate,
    /// A `POST` with no item: its answer is built from the schema.
    Stateless,
}

fn segments(path: &str) -> Vec<&str> {
    path.trim_matches('/').split('/').collect()
}

fn is_param(seg: &str) -> bool {
    seg.starts_with('{')
}

fn shape(op: &Operation) -> Shape {
    let segs = segments(op.path);
    let last_param = segs.last().is_some_and(|s| is_param(s));
    let has_param = segs.iter().any(|s| is_param(s));
    match (op.method, last_param) {
        _ if matches!(op.response, Response::Page(_)) => Shape::List,
        _ if op.response == Response::Binary => Shape::Action,
        ("GET", true) => Shape::Retrieve,
        ("DELETE", true) => Shape::Delete,
        (_, true) if matches!(op.verb, "set" | "add") => Shape::Upsert,
        (_, true) => Shape::Update,
        ("POST", false) if matches!(op.verb, "create" | "add") => Shape::Create,
        ("GET", false) => Shape::Singleton,
        (_, false) if matches!(op.verb, "update" | "set") => Shape::SingletonUpdate,
        (_, false) if has_param => Shape::Action,
        _ => Shape::Stateless,
    }
}

/// The request's path with its parameters filled in, up to segment `n`.
fn concrete(req: &Req, n: usize) -> String {
    let mut out = String::new();
    for seg in segments(req.op.path).into_iter().take(n) {
        out.push('/');
        match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(wire) => out.push_str(param_value(req, wire)),
            None => out.push_str(seg),
        }
    }
    out
}

fn param_value<'a>(req: &'a Req, wire: &str) -> &'a str {
    let name = req
        .op
        .params
        .iter()
        .find(|p| p.loc == Loc::Path && p.wire == wire)
        .map_or(wire, |p| p.name);
    req.p(name)
}

/// The name of the ID that items of the collection at `template` go by: the
/// parameter after it in another operation's path (`.../members/{user_id}`).
fn id_field(template: &str) -> String {
    let prefix = format!("{}/{{", template.trim_end_matches('/'));
    OPERATIONS
        .iter()
        .find_map(|o| {
            let rest = o.path.strip_prefix(&prefix)?;
            Some(rest.split('}').next()?.to_string())
        })
        .unwrap_or_else(|| "id".into())
}

/// Whether any operation creates items in the collection at `template`.
fn creatable(template: &str) -> bool {
    OPERATIONS.iter().any(|o| {
        o.path == template && o.method == "POST" && matches!(o.verb, "create" | "add")
            || o.path.starts_with(&format!("{template}/{{")) && matches!(shape(o), Shape::Upsert)
    })
}

/// The schema of one item of the collection at `template`: a list's item
/// schema, else a retrieve's answer.
fn item_schema(template: &str) -> Option<Value> {
    let item_path = format!("{template}/{{");
    let list = OPERATIONS
        .iter()
        .find(|o| o.path == template && o.is_list());
    if let Some(schema) = list.and_then(|o| o.response_schema) {
        let page = ant::api::schema::parse(schema);
        if let Some(items) =
            synth::property(&page, "data").and_then(|d| synth::resolve(d).get("items"))
        {
            return Some(items.clone());
        }
    }
    OPERATIONS
        .iter()
        .find(|o| {
            o.method == "GET"
                && o.path.starts_with(&item_path)
                && segments(o.path).len() == segments(template).len() + 1
        })
        .and_then(|o| o.response_schema)
        .map(ant::api::schema::parse)
}

fn response_schema(op: &Operation) -> Value {
    op.response_schema
        .map(ant::api::schema::parse)
        .unwrap_or_else(|| json!({"type": "object"}))
}

/// A new item of `schema`: built from the schema, with its ID, the path's
/// IDs and the request's fields where the schema accepts them.
fn build(
    st: &mut State,
    schema: &Value,
    key: (&str, &str),
    req: &Req,
    body: &Map<String, Value>,
    seeded: bool,
) -> Value {
    let now = st.now();
    let mut fill = Fill {
        now: &now,
        seeded,
        counter: st.generic.singletons.len() as u64 + fastrand::u64(..1000),
    };
    let mut item = synth::value(schema, "", &mut fill);
    let mut ids: Map<String, Value> = req
        .path
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let keyed = synth::property(schema, key.0).is_some_and(|s| synth::fits(&json!(key.1), s));
    ids.insert(key.0.to_string(), json!(key.1));
    if !keyed {
        // Items known by their `id` (a workspace is `{workspace_id}` in paths).
        ids.insert("id".into(), json!(key.1));
    }
    synth::overlay(&mut item, &ids, schema);
    // Links and invitations made now expire later, not now.
    if !seeded && synth::property(schema, "expires_at").is_some() {
        let later = json!(crate::store::rfc3339(crate::store::now_ms() + 3_600_000));
        synth::overlay(
            &mut item,
            &Map::from_iter([("expires_at".to_string(), later)]),
            schema,
        );
    }
    synth::overlay(&mut item, body, schema);
    item
}

/// Fills a collection the API cannot fill with two example items.
fn seed(st: &mut State, coll: &str, template: &str, req: &Req) {
    if creatable(template) || !st.generic.needs_seed(coll) {
        return;
    }
    let Some(schema) = item_schema(template) else {
        return;
    };
    let field = id_field(template);
    for _ in 0..2 {
        let id = new_id(synth::id_prefix(&field));
        let item = build(st, &schema, (&field, &id), req, &Map::new(), true);
        st.generic.put(coll, &id, item);
    }
}

/// The collection an item operation works in (path before segment `at`),
/// its template, and the item's ID.
fn locate(req: &Req, at: usize) -> (String, String, String) {
    let segs = segments(req.op.path);
    let template = format!("/{}", segs[..at].join("/"));
    let wire = segs[at].trim_start_matches('{').trim_end_matches('}');
    (
        concrete(req, at),
        template,
        param_value(req, wire).to_string(),
    )
}

/// The index of the last path parameter.
fn last_param(op: &Operation) -> usize {
    segments(op.path)
        .iter()
        .rposition(|s| is_param(s))
        .unwrap_or(0)
}

fn not_found(req: &Req, id: &str) -> ApiError {
    let segs = segments(req.op.path);
    let at = last_param(req.op);
    let what = segs[at].trim_matches(|c| c == '{' || c == '}');
    ApiError::not_found(synth::id_prefix(what), id)
}

/// Paths whose every collection this emulation keeps, so that the items a
/// path names before its own are checked here (elsewhere a parent may be a
/// hand-written resource's).
const OWNED: &[&str] = &["/v1/organizations/", "/v1/user_profiles/", "/v1/tunnels/"];

/// Checks that the items the path names before segment `upto` exist (a
/// workspace's members need the workspace).
fn check_parents(st: &mut State, req: &Req, upto: usize) -> Result<(), ApiError> {
    if !OWNED.iter().any(|p| req.op.path.starts_with(p)) {
        return Ok(());
    }
    let segs = segments(req.op.path);
    for (at, seg) in segs.iter().enumerate().take(upto) {
        if !is_param(seg) || at == 0 {
            continue;
        }
        let (coll, template, id) = locate(req, at);
        let known = OPERATIONS.iter().any(|o| o.path == template && o.is_list());
        if !known {
            continue;
        }
        seed(st, &coll, &template, req);
        if st.generic.get(&coll, &id).is_none() {
            let what = seg.trim_matches(|c| c == '{' || c == '}');
            return Err(ApiError::not_found(synth::id_prefix(what), &id));
        }
    }
    Ok(())
}

pub fn handle(s: &Arc<Shared>, req: &Req) -> Answer {
    let op = req.op;
    let mut st = s.lock();
    let schema = response_schema(op);
    let segs = segments(op.path);
    let shape = shape(op);
    let item_at = match shape {
        Shape::Retrieve | Shape::Update | Shape::Upsert | Shape::Delete => segs.len() - 1,
        Shape::Action => last_param(op),
        _ => segs.len(),
    };
    check_parents(&mut st, req, item_at)?;
    match shape {
        Shape::List => {
            let coll = concrete(req, segs.len());
            seed(&mut st, &coll, op.path, req);
            let Response::Page(paging) = op.response else {
                unreachable!("a list pages")
            };
            let items: Vec<(String, Value)> = if op.param("starting_at").is_some_and(|p| p.required)
            {
                report(&mut st, req, op.path)?
            } else {
                let mut kept = Vec::new();
                for (k, v) in st.generic.items(&coll).iter().rev() {
                    if visible(&req.query, v)
                        && matches(&req.query, v)
                        && created_at_filter(&req.query, "created_at", v)?
                    {
                        kept.push((k.clone(), v.clone()));
                    }
                }
                kept
            };
            // Items made by the beta or the GA twin of this list take its shape.
            let own =
                synth::property(&schema, paging.items).and_then(|d| synth::resolve(d).get("items"));
            let items = match own.cloned() {
                Some(s) => items
                    .into_iter()
                    .map(|(k, v)| (k, answer_from(&v, &s)))
                    .collect(),
                None => items,
            };
            Ok(Reply::ok(page(items, &req.query, paging, &schema)?))
        }
        Shape::Create => {
            let coll = concrete(req, segs.len());
            let field = id_field(op.path);
            let id = req
                .field(&field)
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| new_id(synth::id_prefix(&field)));
            let item = build(&mut st, &schema, (&field, &id), req, &req.body, false);
            st.generic.put(&coll, &id, item.clone());
            Ok(Reply::ok(item))
        }
        Shape::Retrieve => {
            let (coll, template, id) = locate(req, segs.len() - 1);
            seed(&mut st, &coll, &template, req);
            let item = st
                .generic
                .get(&coll, &id)
                .ok_or_else(|| not_found(req, &id))?;
            Ok(Reply::ok(answer_from(item, &schema)))
        }
        Shape::Update | Shape::Upsert => {
            let (coll, template, id) = locate(req, segs.len() - 1);
            seed(&mut st, &coll, &template, req);
            let now = st.now();
            let item = match st.generic.get_mut(&coll, &id) {
                Some(item) => item,
                None if matches!(shape, Shape::Upsert) => {
                    let field = id_field(&template);
                    let item = build(&mut st, &schema, (&field, &id), req, &req.body, false);
                    st.generic.put(&coll, &id, item);
                    st.generic.get_mut(&coll, &id).expect("just put")
                }
                None => return Err(not_found(req, &id)),
            };
            synth::overlay(item, &req.body, &schema);
            if synth::property(&schema, "updated_at").is_some() {
                item["updated_at"] = json!(now);
            }
            Ok(Reply::ok(answer_from(item, &schema)))
        }
        Shape::Delete => {
            let (coll, template, id) = locate(req, segs.len() - 1);
            seed(&mut st, &coll, &template, req);
            st.generic
                .remove(&coll, &id)
                .ok_or_else(|| not_found(req, &id))?;
            let field = id_field(&template);
            let gone = build(&mut st, &schema, (&field, &id), req, &Map::new(), false);
            Ok(Reply::ok(gone))
        }
        Shape::Action => {
            let at = last_param(op);
            let (coll, template, id) = locate(req, at);
            seed(&mut st, &coll, &template, req);
            let now = st.now();
            let item = st
                .generic
                .get_mut(&coll, &id)
                .ok_or_else(|| not_found(req, &id))?;
            if op.response == Response::Binary {
                return Ok(Reply::Raw {
                    status: 200,
                    content_type: "application/octet-stream".into(),
                    body: bytes::Bytes::from(item.to_string()),
                });
            }
            // Actions that change a state field the schema has.
            let changes: &[(&str, Value)] = match op.verb {
                "archive" => &[("archived_at", json!(now)), ("status", json!("archived"))],
                "pause" => &[("status", json!("paused"))],
                "unpause" => &[("status", json!("active"))],
                "cancel" => &[("status", json!("canceled"))],
                _ => &[],
            };
            for (field, v) in changes {
                if synth::property(&schema, field).is_some_and(|s| synth::fits(v, s)) {
                    item[*field] = v.clone();
                }
            }
            if synth::property(&schema, "id").is_some() && synth::fits(item, &schema) {
                return Ok(Reply::ok(item.clone()));
            }
            let field = id_field(&template);
            Ok(Reply::ok(build(
                &mut st,
                &schema,
                (&field, &id),
                req,
                &req.body,
                false,
            )))
        }
        Shape::Singleton | Shape::SingletonUpdate => {
            let key = concrete(req, segs.len());
            if !st.generic.singletons.contains_key(&key) {
                let one = build(
                    &mut st,
                    &schema,
                    ("id", &new_id("obj")),
                    req,
                    &Map::new(),
                    true,
                );
                st.generic.singletons.insert(key.clone(), one);
            }
            let one = st.generic.singletons.get_mut(&key).expect("just put");
            synth::overlay(one, &req.body, &schema);
            Ok(Reply::ok(answer_from(one, &schema)))
        }
        Shape::Stateless => Ok(Reply::ok(build(
            &mut st,
            &schema,
            ("id", &new_id("obj")),
            req,
            &req.body,
            false,
        ))),
    }
}

/// A stored item as an answer of `schema` (a retrieve may answer a wider
/// or narrower type than the list that showed it): the item when it fits,
/// else a value of the schema with the item's fields that fit.
fn answer_from(item: &Value, schema: &Value) -> Value {
    if synth::fits(item, schema) {
        return item.clone();
    }
    let now = item["created_at"]
        .as_str()
        .unwrap_or("2026-01-01T00:00:00.000Z")
        .to_string();
    let mut fill = Fill {
        now: &now,
        seeded: false,
        counter: 0,
    };
    let mut out = synth::value(schema, "", &mut fill);
    if let Some(fields) = item.as_object() {
        synth::overlay(&mut out, fields, schema);
    }
    out
}

/// The rows of a report (a list whose `starting_at` is required): one per
/// time bucket from `starting_at` to `ending_at` (default: 7 buckets), each
/// bucket `bucket_width` wide (`1d` default, `1h`, `1m`), at most 100, with
/// example figures; the newest last, as reports read.
fn report(st: &mut State, req: &Req, template: &str) -> Result<Vec<(String, Value)>, ApiError> {
    let time = |key: &str| -> Result<Option<i64>, ApiError> {
        match req.query.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(t)) => crate::store::parse_rfc3339(t).map(Some).ok_or_else(|| {
                ApiError::invalid(format!("{key}: not an RFC 3339 timestamp: {t:?}"))
            }),
            Some(other) => Err(ApiError::invalid(format!(
                "{key}: expected an RFC 3339 timestamp, got {other}"
            ))),
        }
    };
    let start = time("starting_at")?.unwrap_or(0);
    let width: i64 = match req.query.get("bucket_width").and_then(Value::as_str) {
        Some("1h") => 3_600_000,
        Some("1m") => 60_000,
        _ => 86_400_000,
    };
    let end = time("ending_at")?.unwrap_or(start + 7 * width);
    if end <= start {
        return Err(ApiError::invalid("ending_at: must be after starting_at"));
    }
    let Some(schema) = item_schema(template) else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    let mut at = start;
    while at < end && rows.len() < 100 {
        let from = crate::store::rfc3339(at.max(0) as u64);
        let to = crate::store::rfc3339((at + width).min(end).max(0) as u64);
        let mut row = build(st, &schema, ("id", &new_id("row")), req, &Map::new(), true);
        for (field, v) in [("starting_at", &from), ("ending_at", &to)] {
            if synth::property(&schema, field).is_some() {
                row[field] = json!(v);
            }
        }
        rows.push((from, row));
        at += width;
    }
    Ok(rows)
}

/// Query filters: a parameter naming a field of the items (or the plural of
/// one: `statuses` for `status`) keeps the items whose field equals its
/// value (or one of its values); paging and other parameters are not filters.
fn matches(query: &Map<String, Value>, item: &Value) -> bool {
    query.iter().all(|(k, want)| {
        if matches!(
            k.as_str(),
            "limit" | "page" | "after_id" | "before_id" | "page_token" | "include_archived"
        ) || k.ends_with("_at")
            || k.contains('[')
        {
            return true;
        }
        let field = [
            k.as_str(),
            k.trim_end_matches('s'),
            k.trim_end_matches("es"),
        ]
        .into_iter()
        .find(|f| item.get(*f).is_some());
        let Some(have) = field.and_then(|f| item.get(f)) else {
            return true;
        };
        match want {
            Value::Array(options) => options.is_empty() || options.iter().any(|o| same(o, have)),
            one => same(one, have),
        }
    })
}

fn same(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::String(w), Value::String(h)) => w == h,
        (Value::String(w), other) => w.as_str() == other.to_string().as_str(),
        (w, h) => w == h,
    }
}

/// One page of `items` (newest first, with their IDs) in the endpoint's
/// style: by `after_id`/`before_id` (`has_more`, `first_id`, `last_id`) or
/// by an opaque cursor (`page` or `page_token` -> `next_page`, and
/// `has_more` where the envelope has it).
fn page(
    items: Vec<(String, Value)>,
    query: &Map<String, Value>,
    paging: Paging,
    schema: &Value,
) -> Result<Value, ApiError> {
    let limit = page_limit(query)?;
    let total = items.len();
    let position = |key: &str| -> Result<Option<usize>, ApiError> {
        match query.get(key).and_then(Value::as_str) {
            None => Ok(None),
            Some(id) => items
                .iter()
                .position(|(k, _)| k == id)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(format!("{key}: no item with id {id:?}"))),
        }
    };
    let (start, end, backward) = if paging.request_param == "after_id" {
        if let Some(at) = position("before_id")? {
            (at.saturating_sub(limit), at, true)
        } else {
            let start = position("after_id")?.map_or(0, |at| at + 1);
            (start, (start + limit).min(total), false)
        }
    } else {
        let mut cursor = Map::new();
        if let Some(v) = query.get(paging.request_param) {
            cursor.insert("page".into(), v.clone());
        }
        let start = page_start(&cursor)?.min(total);
        (start, (start + limit).min(total), false)
    };
    let window = &items[start..end];
    let now = "2026-01-01T00:00:00.000Z";
    let mut fill = Fill {
        now,
        seeded: false,
        counter: 0,
    };
    let mut out = synth::value(schema, "", &mut fill);
    out[paging.items] = Value::Array(window.iter().map(|(_, v)| v.clone()).collect());
    let more = if backward { start > 0 } else { end < total };
    let next = if end < total {
        json!(encode_cursor(end))
    } else {
        Value::Null
    };
    let fields = [
        ("has_more", json!(more)),
        (
            "first_id",
            window.first().map_or(Value::Null, |(k, _)| json!(k)),
        ),
        (
            "last_id",
            window.last().map_or(Value::Null, |(k, _)| json!(k)),
        ),
        ("next_page", next),
    ];
    for (name, v) in fields {
        if synth::property(schema, name).is_some() {
            out[name] = v;
        }
    }
    Ok(out)
}

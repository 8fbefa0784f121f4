//! From parsed flags (and a piped body) to a plain [`Request`]: method, path,
//! query, headers and body. No network and no terminal: file references go
//! through [`files::Files`], so every mapping is unit-testable.

pub mod direct;
pub mod files;
pub mod value;

use serde_json::{Map, Value};

use crate::api::{self, Body as BodyKind, Inner, Loc, Operation, Param, types};
use crate::error::{Error, Result};
use files::{FileData, Files};

/// One flag occurrence, in command-line order.
#[derive(Debug, Clone)]
pub enum Flag {
    Param(&'static Param, String),
    Inner(&'static Param, &'static Inner, String),
    /// A value built by the program itself: used as is (no YAML, no `@file`).
    Value(&'static Param, Value),
}

/// Everything the user said about one operation.
#[derive(Debug, Default)]
pub struct Input {
    pub flags: Vec<Flag>,
    pub positional: Vec<String>,
    /// The piped YAML/JSON body, already parsed.
    pub stdin: Option<Value>,
    /// `--beta` values, appended to the operation's default beta.
    pub betas: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub name: String,
    pub file: Option<FileData>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    None,
    Json(Value),
    Multipart(Vec<Part>),
    /// Bytes sent as they are (`ant api --input`), with their content type.
    Raw {
        bytes: Vec<u8>,
        content_type: String,
    },
}

/// A request ready to send, relative to the base URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: &'static str,
    /// Path with parameters filled in and escaped; no query string.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Request {
    /// Path plus query string.
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let q: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", escape_query(k), escape_query(v)))
            .collect();
        format!("{}?{}", self.path, q.join("&"))
    }

    pub fn json_body(&self) -> Option<&Value> {
        match &self.body {
            Body::Json(v) => Some(v),
            _ => None,
        }
    }

    /// Sets (or replaces) a query parameter, for paging.
    pub fn set_query(&mut self, key: &str, value: &str) {
        self.query.retain(|(k, _)| k != key);
        self.query.push((key.to_string(), value.to_string()));
    }

    pub fn has_query(&self, key: &str) -> bool {
        self.query.iter().any(|(k, _)| k == key)
    }
}

const QUERY_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'[')
    .remove(b']')
    .remove(b':');

fn escape_query(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_SET).to_string()
}

const PATH_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn flag_error(param: &Param, inner: Option<&Inner>, msg: impl std::fmt::Display) -> Error {
    match inner {
        Some(i) => Error::usage(format!(
            "invalid value for --{}.{}: {msg}",
            param.flag, i.flag
        )),
        None => Error::usage(format!("invalid value for --{}: {msg}", param.flag)),
    }
}

/// Parses one value: a whole-value `@file` is read (and parsed as YAML when
/// the field takes no strings), then nested references are resolved.
fn parse_one(
    raw: &str,
    types_: u8,
    files: &mut dyn Files,
    multipart: bool,
) -> std::result::Result<Value, String> {
    if multipart {
        // `@path` in a multipart body becomes a file part, not inline text.
        return value::parse_typed(raw, types_);
    }
    if let Some(v) = whole_file(raw, types_, files)? {
        return Ok(v);
    }
    let mut v = value::parse_typed(raw, types_)?;
    files::resolve_value(&mut v, files)?;
    Ok(v)
}

/// `@file` as the whole value of a field that takes no strings: the file
/// holds YAML or JSON for the value.
fn whole_file(
    raw: &str,
    types_: u8,
    files: &mut dyn Files,
) -> std::result::Result<Option<Value>, String> {
    if types_ & types::STRING != 0 {
        return Ok(None);
    }
    let Some(read) = files::read_reference(raw, files) else {
        return Ok(None);
    };
    let text = String::from_utf8(read?).map_err(|_| format!("{raw} is not UTF-8 text"))?;
    let mut v = value::parse_yaml(&text).map_err(|e| format!("{raw}: {e}"))?;
    files::resolve_value(&mut v, files)?;
    Ok(Some(v))
}

fn parse_elements(
    raw: &str,
    item_types: u8,
    files: &mut dyn Files,
) -> std::result::Result<Vec<Value>, String> {
    if let Some(v) = whole_file(raw, item_types, files)? {
        return Ok(match v {
            Value::Array(items) if item_types & types::ARRAY == 0 => items,
            one => vec![one],
        });
    }
    let mut out = value::parse_elements(raw, item_types)?;
    for v in &mut out {
        files::resolve_value(v, files)?;
    }
    Ok(out)
}

/// The stdin key naming a parameter: its API name, its snake_case flag, or
/// `id` for the path ID of an update.
fn stdin_param(op: &'static Operation, key: &str) -> Option<&'static Param> {
    op.params
        .iter()
        .find(|p| p.name == key || p.flag.replace('-', "_") == key)
        .or_else(|| {
            (key == "id" && op.verb == "update")
                .then(|| op.last_path_param())
                .flatten()
        })
}

/// Builds the request for `op` from `input`.
pub fn build(op: &'static Operation, input: Input, files: &mut dyn Files) -> Result<Request> {
    let multipart = op.body == BodyKind::Multipart;
    let mut values: Map<String, Value> = Map::new();
    let mut multipart_files: Vec<(String, FileData)> = Vec::new();

    for flag in &input.flags {
        match flag {
            Flag::Param(p, raw) if p.file => {
                let parts = if p.repeated {
                    files::read_parts(raw, files)
                } else {
                    files::read_part(raw, files).map(|d| vec![d])
                };
                for data in parts.map_err(|e| flag_error(p, None, e))? {
                    multipart_files.push((p.name.to_string(), data));
                }
                values.insert(p.name.to_string(), Value::Null);
            }
            Flag::Param(p, raw) if p.repeated => {
                let items =
                    parse_elements(raw, p.item_types, files).map_err(|e| flag_error(p, None, e))?;
                let list = values.entry(p.name).or_insert_with(|| Value::Array(vec![]));
                match list {
                    Value::Array(l) => l.extend(items),
                    other => *other = Value::Array(items),
                }
            }
            Flag::Param(p, raw) => {
                let v = parse_one(raw, p.types, files, multipart)
                    .map_err(|e| flag_error(p, None, e))?;
                values.insert(p.name.to_string(), v);
            }
            Flag::Value(p, v) => match (p.repeated, v) {
                (true, Value::Array(_)) | (false, _) => {
                    values.insert(p.name.to_string(), v.clone());
                }
                (true, one) => {
                    let list = values.entry(p.name).or_insert_with(|| Value::Array(vec![]));
                    if let Value::Array(l) = list {
                        l.push(one.clone());
                    }
                }
            },
            Flag::Inner(p, inner, raw) => {
                let v = parse_one(raw, inner.types, files, multipart)
                    .map_err(|e| flag_error(p, Some(inner), e))?;
                set_inner(&mut values, p, inner, v);
            }
        }
    }

    let flag_body_keys: Vec<String> = op
        .params
        .iter()
        .filter(|p| p.loc == Loc::Body && values.contains_key(p.name))
        .map(|p| p.name.to_string())
        .collect();

    // One positional argument fills the last path parameter.
    let mut positional = input.positional.into_iter();
    if let Some(first) = positional.next() {
        match op.last_path_param() {
            Some(p) if !values.contains_key(p.name) => {
                values.insert(p.name.to_string(), Value::String(first));
            }
            _ => {
                let mut extra = vec![first];
                extra.extend(positional.by_ref());
                return Err(Error::usage(format!(
                    "Unexpected extra arguments: {extra:?}"
                )));
            }
        }
    }
    let extra: Vec<String> = positional.collect();
    if !extra.is_empty() {
        return Err(Error::usage(format!(
            "Unexpected extra arguments: {extra:?}"
        )));
    }

    let flagged: std::collections::HashSet<&str> = op
        .params
        .iter()
        .filter(|p| values.contains_key(p.name))
        .map(|p| p.name)
        .collect();

    // Piped body: parameter keys fill unset flags; the rest is the body.
    let mut body_map: Map<String, Value> = Map::new();
    if let Some(mut piped) = input.stdin {
        if !multipart {
            files::resolve_value(&mut piped, files)
                .map_err(|e| Error::usage(format!("piped input: {e}")))?;
        }
        match piped {
            Value::Object(map) => {
                for (k, v) in map {
                    match stdin_param(op, &k) {
                        Some(p) if p.loc != Loc::Body => {
                            values.entry(p.name.to_string()).or_insert(v);
                        }
                        Some(p) if p.file => {
                            if !values.contains_key(p.name) {
                                // A path, or (for a repeatable file flag) a list of paths.
                                let paths: Vec<&str> = match &v {
                                    Value::String(path) => vec![path.as_str()],
                                    Value::Array(items) if p.repeated => items
                                        .iter()
                                        .map(Value::as_str)
                                        .collect::<Option<_>>()
                                        .ok_or_else(|| {
                                            Error::usage(format!(
                                                "piped input: {k} must be a list of file paths"
                                            ))
                                        })?,
                                    _ => {
                                        return Err(Error::usage(format!(
                                            "piped input: {k} must be a file path{}",
                                            if p.repeated { " or a list of them" } else { "" }
                                        )));
                                    }
                                };
                                for path in paths {
                                    let parts = if p.repeated {
                                        files::read_parts(path, files)
                                    } else {
                                        files::read_part(path, files).map(|d| vec![d])
                                    };
                                    for data in parts.map_err(|e| {
                                        Error::usage(format!("piped input: {k}: {e}"))
                                    })? {
                                        multipart_files.push((p.name.to_string(), data));
                                    }
                                }
                                values.insert(p.name.to_string(), Value::Null);
                            }
                        }
                        _ => {
                            if op.body != BodyKind::None {
                                body_map.insert(k, v);
                            }
                        }
                    }
                }
            }
            Value::Null => {}
            other => {
                if !flag_body_keys.is_empty() {
                    return Err(Error::usage(
                        "Cannot merge flags with a body that is not a map",
                    ));
                }
                // Every request body of the API is an object of fields: a
                // list or a scalar would only be refused by the server.
                if op.body != BodyKind::None {
                    return Err(Error::usage(format!(
                        "piped input: expected a map of fields (a YAML or JSON object), got {}",
                        api::schema::type_of(&other)
                    )));
                }
            }
        }
    }

    // Flags win over piped keys, per top-level key.
    for p in op.params.iter().filter(|p| p.loc == Loc::Body && !p.file) {
        if let Some(v) = values.get(p.name) {
            body_map.insert(p.name.to_string(), v.clone());
        }
    }

    let missing: Vec<String> = op
        .params
        .iter()
        .filter(|p| p.required)
        .filter(|p| !values.contains_key(p.name) && !body_map.contains_key(p.name))
        .map(|p| format!("--{}", p.flag))
        .collect();
    match missing.len() {
        0 => {}
        1 => {
            return Err(Error::usage(format!(
                "Required flag \"{}\" not set",
                missing[0]
            )));
        }
        _ => {
            return Err(Error::usage(format!(
                "Required flags \"{}\" not set",
                missing.join(", ")
            )));
        }
    }

    // Check each known value against its schema (types and enums only).
    for p in op.params.iter().filter(|p| !p.file) {
        let (v, from_flags) = match (values.get(p.name), body_map.get(p.name)) {
            (Some(v), _) if flagged.contains(p.name) => (v, true),
            (Some(v), _) | (None, Some(v)) => (v, false),
            (None, None) => continue,
        };
        api::schema::validate(v, p.schema, api::schema::Options::LENIENT).map_err(|e| {
            if from_flags {
                flag_error(p, None, e)
            } else {
                Error::usage(format!("invalid value in piped input for {}: {e}", p.name))
            }
        })?;
    }

    let mut path = String::new();
    let mut rest = op.path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .unwrap_or(rest.len());
        path.push_str(&rest[..start]);
        let name = &rest[start + 1..end];
        let v = values.get(name).map(scalar_text).unwrap_or_default();
        if v.is_empty() {
            return Err(Error::usage(format!(
                "--{} must not be empty",
                name.replace('_', "-")
            )));
        }
        path.push_str(&percent_encoding::utf8_percent_encode(&v, PATH_SET).to_string());
        rest = &rest[(end + 1).min(rest.len())..];
    }
    path.push_str(rest);

    let mut query: Vec<(String, String)> = Vec::new();
    for p in op.params.iter().filter(|p| p.loc == Loc::Query) {
        if let Some(v) = values.get(p.name) {
            push_query(&mut query, p.wire, v);
        }
    }
    if op.beta {
        query.push(("beta".into(), "true".into()));
    }
    query.sort_by(|a, b| a.0.cmp(&b.0));

    check_url_length(op, &values, &path, &query)?;

    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(betas) = beta_header(op.default_beta, &input.betas)? {
        headers.push(("anthropic-beta".into(), betas));
    }
    for p in op.params.iter().filter(|p| p.loc == Loc::Header) {
        if let Some(v) = values.get(p.name) {
            let text = scalar_text(v);
            check_header_value(&format!("--{}", p.flag), &text)?;
            headers.push((p.wire.to_string(), text));
        }
    }

    let body = match op.body {
        BodyKind::None => Body::None,
        BodyKind::Json if body_map.is_empty() => Body::None,
        BodyKind::Json => Body::Json(sorted(Value::Object(body_map))),
        BodyKind::Multipart => {
            Body::Multipart(multipart_parts(op, body_map, multipart_files, files)?)
        }
    };

    Ok(Request {
        method: op.method,
        path,
        query,
        headers,
        body,
    })
}

/// The `anthropic-beta` value: `default` (a comma-separated list, as the
/// table or a header gives it), then each `--beta` value not in it yet.
/// `None` when there is none.
pub fn beta_header(default: Option<&str>, extra: &[String]) -> Result<Option<String>> {
    let mut betas: Vec<String> = Vec::new();
    let given = default.into_iter().map(|d| ("anthropic-beta", d));
    let flags = extra.iter().map(|b| ("--beta", b.as_str()));
    for (what, list) in given.chain(flags) {
        for b in list.split(',').map(str::trim) {
            check_header_value(what, b)?;
            if !b.is_empty() && !betas.iter().any(|x| x == b) {
                betas.push(b.to_string());
            }
        }
    }
    Ok((!betas.is_empty()).then(|| betas.join(",")))
}

/// Longest request target (path and query string, escaped) `ant` sends.
/// Servers refuse far shorter URLs than HTTP libraries can build (64 KiB),
/// so a longer one is bad input, caught before sending.
pub const MAX_TARGET_BYTES: usize = 32 * 1024;

/// Refuses a request whose URL would be too long, naming the flag whose
/// value takes the most room.
fn check_url_length(
    op: &Operation,
    values: &Map<String, Value>,
    path: &str,
    query: &[(String, String)],
) -> Result<()> {
    let encoded = |(k, v): &(String, String)| escape_query(k).len() + escape_query(v).len() + 2;
    let len = path.len() + query.iter().map(encoded).sum::<usize>();
    if len <= MAX_TARGET_BYTES {
        return Ok(());
    }
    let room = |p: &Param| match p.loc {
        Loc::Path => values.get(p.name).map_or(0, |v| {
            percent_encoding::utf8_percent_encode(&scalar_text(v), PATH_SET)
                .to_string()
                .len()
        }),
        Loc::Query => {
            let nested = format!("{}[", p.wire.trim_end_matches("[]"));
            (query.iter())
                .filter(|(k, _)| k == p.wire || k.starts_with(&nested))
                .map(encoded)
                .sum()
        }
        _ => 0,
    };
    let what = (op.params.iter())
        .map(|p| (room(p), p.flag))
        .max()
        .filter(|(n, _)| *n > 0)
        .map_or("the request".to_string(), |(_, f)| format!("--{f}"));
    Err(Error::usage(format!(
        "{what}: the request URL would be {len} bytes, over the {MAX_TARGET_BYTES}-byte limit"
    )))
}

fn set_inner(values: &mut Map<String, Value>, p: &Param, inner: &Inner, v: Value) {
    let as_list = p.types & types::ARRAY != 0 && p.types & types::OBJECT == 0;
    let slot = values.entry(p.name).or_insert_with(|| {
        if as_list {
            Value::Array(vec![])
        } else {
            Value::Object(Map::new())
        }
    });
    if as_list {
        if !slot.is_array() {
            *slot = Value::Array(vec![]);
        }
        let list = slot.as_array_mut().expect("array");
        match list.last_mut() {
            Some(Value::Object(last)) if !last.contains_key(inner.name) => {
                last.insert(inner.name.to_string(), v);
            }
            _ => {
                let mut m = Map::new();
                m.insert(inner.name.to_string(), v);
                list.push(Value::Object(m));
            }
        }
    } else {
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        slot.as_object_mut()
            .expect("object")
            .insert(inner.name.to_string(), v);
    }
}

/// The text of a scalar for a path, query or header.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Bracket-style query encoding: `key[]=a&key[]=b`, `key[sub]=v`.
pub fn push_query(out: &mut Vec<(String, String)>, key: &str, v: &Value) {
    match v {
        Value::Null => {}
        Value::Array(items) => {
            let k = if key.ends_with("[]") {
                key.to_string()
            } else {
                format!("{key}[]")
            };
            for item in items {
                out.push((k.clone(), scalar_text(item)));
            }
        }
        Value::Object(map) => {
            for (sub, item) in map {
                push_query(out, &format!("{key}[{sub}]"), item);
            }
        }
        other => out.push((key.to_string(), scalar_text(other))),
    }
}

/// Objects with keys in sorted order at every depth, as the official CLI sends them.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn multipart_parts(
    op: &Operation,
    body: Map<String, Value>,
    file_parts: Vec<(String, FileData)>,
    files: &mut dyn Files,
) -> Result<Vec<Part>> {
    let mut parts = Vec::new();
    for (name, data) in file_parts {
        let is_list = op.param(&name).is_some_and(|p| p.types & types::ARRAY != 0);
        parts.push(Part {
            name: if is_list { format!("{name}[]") } else { name },
            file: Some(data),
            text: String::new(),
        });
    }
    let body = match sorted(Value::Object(body)) {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    for (name, v) in body {
        match v {
            Value::Array(items) => {
                for item in items {
                    parts.push(text_part(&format!("{name}[]"), &item, files)?);
                }
            }
            other => parts.push(text_part(&name, &other, files)?),
        }
    }
    Ok(parts)
}

fn text_part(name: &str, v: &Value, files: &mut dyn Files) -> Result<Part> {
    if let Some(s) = v.as_str()
        && s.starts_with('@')
        && !s.starts_with("@file://")
        && !s.starts_with("@data://")
    {
        let data = files::read_part(s, files).map_err(|e| Error::usage(format!("{name}: {e}")))?;
        return Ok(Part {
            name: name.to_string(),
            file: Some(data),
            text: String::new(),
        });
    }
    let text = match v {
        Value::Object(_) | Value::Array(_) => v.to_string(),
        // `@file://`, `@data://` and `\@` resolve as in JSON bodies.
        Value::String(s) => files::resolve_str(s, files)
            .map_err(|e| Error::usage(format!("{name}: {e}")))?
            .unwrap_or_else(|| s.clone()),
        other => scalar_text(other),
    };
    Ok(Part {
        name: name.to_string(),
        file: None,
        text,
    })
}

/// Checks that `value` can travel in an HTTP header: no control characters
/// (newlines, NUL, DEL...) but tab. `what` names where the value came from.
pub fn check_header_value(what: &str, value: &str) -> Result<()> {
    let bad = value
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_ascii_control() && *c != '\t');
    match bad {
        None => Ok(()),
        Some((i, c)) => Err(Error::usage(format!(
            "{what}: character {} is a control character (U+{:04X}), which cannot be sent in an HTTP header",
            i + 1,
            c as u32
        ))),
    }
}

#[cfg(test)]
mod tests;

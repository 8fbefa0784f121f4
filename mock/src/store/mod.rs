//! The bottom layer: shared state of the emulator (the in-memory resource
//! tables), ids, timestamps, the error type handlers return, and paging;
//! with the configuration, the session event log, the work queue and the
//! OAuth server's tokens in submodules. It imports only leaf modules.

mod config;
pub mod events;
pub mod generic;
pub mod oauth;
pub mod work;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

pub use config::{Config, DEFAULT_MAX_BODY};

use crate::stream::Hub;

/// Everything a request handler or a session worker can reach.
pub struct Shared {
    pub config: Config,
    pub state: Mutex<State>,
    pub faults: Mutex<fastrand::Rng>,
    pub sandbox_root: PathBuf,
    /// Responses that failed the response-schema check.
    violations: Mutex<Vec<String>>,
    /// Operations (`group verb`) whose responses were checked.
    checked: Mutex<std::collections::BTreeSet<String>>,
    pub oauth: oauth::OAuth,
}

impl Shared {
    pub fn new(config: Config, sandbox_root: PathBuf) -> Self {
        let faults = match config.seed {
            Some(s) => fastrand::Rng::with_seed(s),
            None => fastrand::Rng::new(),
        };
        Shared {
            config,
            state: Mutex::new(State::default()),
            faults: Mutex::new(faults),
            sandbox_root,
            violations: Mutex::new(Vec::new()),
            checked: Mutex::default(),
            oauth: Default::default(),
        }
    }

    /// Notes that a response of `operation` was checked.
    pub fn checked(&self, operation: String) {
        self.checked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(operation);
    }

    pub fn checked_operations(&self) -> Vec<String> {
        let checked = self.checked.lock().unwrap_or_else(|e| e.into_inner());
        checked.iter().cloned().collect()
    }

    /// Records a response that does not match its schema (and says so on
    /// stderr, quiet or not: it is a bug in the emulator).
    pub fn violation(&self, what: String) {
        eprintln!("ant-mock: {what}");
        self.violations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }

    pub fn violations(&self) -> Vec<String> {
        self.violations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops the scripted agents and ends their streams, so their tasks do
    /// not outlive the server.
    pub fn stop_sessions(&self) {
        let mut st = self.lock();
        for s in st.sessions.iter_mut() {
            if let Some(w) = s.worker.take() {
                w.abort();
            }
            s.hub.close();
        }
    }
}

/// One agent: every version, newest last.
pub struct AgentRec {
    pub versions: Vec<Value>,
}

impl AgentRec {
    pub fn current(&self) -> &Value {
        self.versions.last().expect("an agent has a version")
    }
}

/// One session: its resource JSON, its event log, its stream hub and the
/// inbox of its scripted agent.
pub struct SessionRec {
    pub json: Value,
    pub events: Vec<Value>,
    pub hub: Hub,
    pub inbox: tokio::sync::mpsc::UnboundedSender<Value>,
    pub worker: Option<tokio::task::JoinHandle<()>>,
    pub sandbox: PathBuf,
    pub thread_id: String,
    /// Cloud environments run tools in the sandbox; self-hosted ones wait for
    /// `user.tool_result`.
    pub self_hosted: bool,
    /// `user.message`s handed to the agent whose turn has not ended. While
    /// there are any, a new message is queued: it is stored and streamed
    /// (with its `processed_at`) only when its turn starts.
    pub unprocessed: usize,
}

/// A message batch: its object, each request's result (decided when it is
/// created, shown once it ends) and when it ends.
pub struct BatchRec {
    pub json: Value,
    pub results: Vec<Value>,
    pub ends_at_ms: u64,
}

/// A skill and its versions, oldest first.
pub struct SkillRec {
    pub json: Value,
    pub versions: Vec<SkillVersionRec>,
}

/// A skill version and its files (`path`, bytes).
pub struct SkillVersionRec {
    pub json: Value,
    pub files: Vec<(String, bytes::Bytes)>,
}

pub struct FileRec {
    pub meta: Value,
    pub data: bytes::Bytes,
}

/// A user profile's action or enrollment link, valid once until `expires_ms`.
pub struct EnrollmentLink {
    pub profile: String,
    pub expires_ms: u64,
}

#[derive(Default)]
pub struct State {
    pub agents: Vec<AgentRec>,
    pub environments: Vec<Value>,
    pub sessions: Vec<SessionRec>,
    pub files: Vec<FileRec>,
    pub vaults: Vec<Value>,
    pub credentials: Vec<Value>,
    pub memory_stores: Vec<Value>,
    pub memories: Vec<Value>,
    pub memory_versions: Vec<Value>,
    /// The work queue of self-hosted environments.
    pub work: work::Queue,
    pub batches: Vec<BatchRec>,
    pub skills: Vec<SkillRec>,
    /// The connection token of each tunnel, by tunnel id.
    pub tunnel_tokens: std::collections::HashMap<String, String>,
    /// User profile links not yet opened, by their token.
    pub enrollment_links: std::collections::HashMap<String, EnrollmentLink>,
    /// Everything the generic emulation keeps.
    pub generic: generic::Tables,
    /// Last timestamp handed out, so timestamps never go backwards.
    pub last_ms: u64,
}

impl State {
    /// Current time as RFC 3339 with milliseconds, strictly increasing.
    pub fn now(&mut self) -> String {
        let mut ms = now_ms();
        if ms <= self.last_ms {
            ms = self.last_ms + 1;
        }
        self.last_ms = ms;
        rfc3339(ms)
    }

    pub fn agent(&self, id: &str) -> Option<&AgentRec> {
        self.agents.iter().find(|a| a.current()["id"] == id)
    }

    pub fn agent_mut(&mut self, id: &str) -> Option<&mut AgentRec> {
        self.agents.iter_mut().find(|a| a.current()["id"] == id)
    }

    pub fn session(&self, id: &str) -> Result<&SessionRec, ApiError> {
        self.sessions
            .iter()
            .find(|s| s.json["id"] == id)
            .ok_or_else(|| ApiError::not_found("session", id))
    }

    pub fn session_mut(&mut self, id: &str) -> Result<&mut SessionRec, ApiError> {
        self.sessions
            .iter_mut()
            .find(|s| s.json["id"] == id)
            .ok_or_else(|| ApiError::not_found("session", id))
    }
}

/// Finds an object by `id` in a table.
pub fn find<'a>(table: &'a [Value], kind: &str, id: &str) -> Result<&'a Value, ApiError> {
    table
        .iter()
        .find(|v| v["id"] == id)
        .ok_or_else(|| ApiError::not_found(kind, id))
}

pub fn find_mut<'a>(
    table: &'a mut [Value],
    kind: &str,
    id: &str,
) -> Result<&'a mut Value, ApiError> {
    table
        .iter_mut()
        .find(|v| v["id"] == id)
        .ok_or_else(|| ApiError::not_found(kind, id))
}

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// An id shaped like the real ones: `PREFIX_01` and 24 base62 characters.
pub fn new_id(prefix: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + 27);
    s.push_str(prefix);
    s.push_str("_01");
    for _ in 0..24 {
        s.push(ALPHABET[fastrand::usize(..ALPHABET.len())] as char);
    }
    s
}

/// The id of the API key a request presented, as actors report it: the
/// same key always gives the same `apikey_01…` id.
pub fn api_key_id(key: &str) -> String {
    let digest = crate::sha256::hex(key.as_bytes());
    let mut s = String::from("apikey_01");
    for pair in digest.as_bytes().chunks(2).take(24) {
        let byte = u8::from_str_radix(std::str::from_utf8(pair).unwrap_or("0"), 16).unwrap_or(0);
        s.push(ALPHABET[usize::from(byte) % ALPHABET.len()] as char);
    }
    s
}

/// A request id for the `request-id` header and error bodies.
pub fn request_id() -> String {
    new_id("req")
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Parses an RFC 3339 timestamp to milliseconds since the epoch (for the
/// `created_at[...]` filters). Accepts `Z` or `±HH:MM` offsets.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut frac_ms = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        let padded: String = digits.chars().chain("000".chars()).take(3).collect();
        frac_ms = padded.parse().ok()?;
    }
    let offset_min = match s.get(i..)? {
        "Z" | "z" => 0,
        rest if rest.len() == 6 => {
            let sign = match (rest.as_bytes()[0], rest.as_bytes()[3]) {
                (b'+', b':') => 1,
                (b'-', b':') => -1,
                _ => return None,
            };
            let num = |r: std::ops::Range<usize>| rest.get(r)?.parse::<i64>().ok();
            sign * (num(1..3)? * 60 + num(4..6)?)
        }
        _ => return None,
    };
    let (yy, mm) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_min * 60;
    Some(secs * 1000 + frac_ms)
}

/// An API error: HTTP status, error type and message.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub kind: &'static str,
    pub message: String,
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_request_error", message)
    }
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(404, "not_found_error", format!("{kind} {id:?} not found"))
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "conflict_error", message)
    }
}

/// Pages a list the way `PageCursor` lists do: `limit` (default 20, at most
/// 1000) items starting at the opaque `page` cursor. `bidirectional` adds
/// `prev_page` (sessions list).
pub fn paginate(
    items: Vec<Value>,
    query: &Map<String, Value>,
    bidirectional: bool,
) -> Result<Value, ApiError> {
    let limit = page_limit(query)?;
    let start = page_start(query)?;
    let total = items.len();
    let data: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let end = start + data.len();
    let next = if end < total {
        Value::String(encode_cursor(end))
    } else {
        Value::Null
    };
    let mut out = json!({ "data": data, "next_page": next });
    if bidirectional {
        out["prev_page"] = if start > 0 {
            Value::String(encode_cursor(start.saturating_sub(limit)))
        } else {
            Value::Null
        };
    }
    Ok(out)
}

/// The `limit` query parameter (default 20, 1 to 1000).
pub fn page_limit(query: &Map<String, Value>) -> Result<usize, ApiError> {
    let limit = match query.get("limit") {
        None | Some(Value::Null) => 20,
        Some(v) => v.as_i64().unwrap_or(-1),
    };
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit: must be between 1 and 1000"));
    }
    Ok(limit as usize)
}

/// The offset the `page` cursor points at (0 without one).
pub fn page_start(query: &Map<String, Value>) -> Result<usize, ApiError> {
    match query.get("page").and_then(Value::as_str) {
        None => Ok(0),
        Some(p) => decode_cursor(p)
            .ok_or_else(|| ApiError::invalid(format!("page: invalid page cursor {p:?}"))),
    }
}

/// Pages a list the official clients page in two ways: the SDKs by `page`
/// cursor (`next_page`), the official CLI by id (`after_id` / `before_id`,
/// following `last_id` / `first_id` while `has_more`). The answer carries
/// the fields of both. `rank` gives an id's position in the unfiltered list
/// (so a cursor may name an item a filter hides); an id it does not know
/// (no `kind` with that id) is an error, as is combining cursors.
pub fn paginate_both(
    items: Vec<Value>,
    query: &Map<String, Value>,
    kind: &str,
    rank: impl Fn(&str) -> Option<usize>,
) -> Result<Value, ApiError> {
    let limit = page_limit(query)?;
    let cursor = |key: &str| query.get(key).and_then(Value::as_str);
    let given: Vec<&str> = ["page", "after_id", "before_id"]
        .into_iter()
        .filter(|k| cursor(k).is_some())
        .collect();
    if given.len() > 1 {
        return Err(ApiError::invalid(format!(
            "{}: only one of page, after_id and before_id may be given",
            given.join(", ")
        )));
    }
    let anchor = |key: &str| -> Result<Option<usize>, ApiError> {
        cursor(key)
            .map(|id| {
                rank(id)
                    .ok_or_else(|| ApiError::invalid(format!("{key}: no {kind} with id {id:?}")))
            })
            .transpose()
    };
    let rank_of = |v: &Value| v["id"].as_str().and_then(&rank).unwrap_or(0);
    let total = items.len();
    let (start, end) = if let Some(r) = anchor("after_id")? {
        let start = items.iter().take_while(|v| rank_of(v) <= r).count();
        (start, (start + limit).min(total))
    } else if let Some(r) = anchor("before_id")? {
        let end = items.iter().take_while(|v| rank_of(v) < r).count();
        (end.saturating_sub(limit), end)
    } else {
        let start = page_start(query)?.min(total);
        (start, (start + limit).min(total))
    };
    let data = items[start..end].to_vec();
    let backward = cursor("before_id").is_some();
    Ok(json!({
        "data": data,
        "has_more": if backward { start > 0 } else { end < total },
        "first_id": data.first().map_or(Value::Null, |v| v["id"].clone()),
        "last_id": data.last().map_or(Value::Null, |v| v["id"].clone()),
        "next_page": if end < total { Value::String(encode_cursor(end)) } else { Value::Null },
    }))
}

pub fn encode_cursor(offset: usize) -> String {
    format!("page_{:x}", (offset as u64) ^ 0x5bd1_e995)
}

fn decode_cursor(s: &str) -> Option<usize> {
    let hex = s.strip_prefix("page_")?;
    let v = u64::from_str_radix(hex, 16).ok()? ^ 0x5bd1_e995;
    usize::try_from(v).ok().filter(|v| *v <= 1 << 40)
}

/// The `created_at[gt|gte|lt|lte]` filters of list endpoints.
pub fn created_at_filter(
    query: &Map<String, Value>,
    field: &str,
    item: &Value,
) -> Result<bool, ApiError> {
    for (op, key) in [
        ("gt", "created_at[gt]"),
        ("gte", "created_at[gte]"),
        ("lt", "created_at[lt]"),
        ("lte", "created_at[lte]"),
    ] {
        let Some(bound) = query.get(key).and_then(Value::as_str) else {
            continue;
        };
        let b = parse_rfc3339(bound).ok_or_else(|| {
            ApiError::invalid(format!("{key}: not an RFC 3339 timestamp: {bound:?}"))
        })?;
        let t = item[field].as_str().and_then(parse_rfc3339).unwrap_or(0);
        let ok = match op {
            "gt" => t > b,
            "gte" => t >= b,
            "lt" => t < b,
            _ => t <= b,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `include_archived` (default false) filter.
pub fn visible(query: &Map<String, Value>, item: &Value) -> bool {
    query
        .get("include_archived")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || item["archived_at"].is_null()
}

/// Copies `metadata` updates: keys set to `null` or `""` are removed.
pub fn merge_metadata(target: &mut Value, patch: &Value) {
    let Some(patch) = patch.as_object() else {
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let t = target.as_object_mut().expect("object");
    for (k, v) in patch {
        match v {
            Value::Null => {
                t.remove(k);
            }
            Value::String(s) if s.is_empty() => {
                t.remove(k);
            }
            other => {
                t.insert(k.clone(), other.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let ms = 1_767_225_600_123; // 2026-01-01T00:00:00.123Z
        assert_eq!(rfc3339(ms), "2026-01-01T00:00:00.123Z");
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00.123Z"), Some(ms as i64));
        assert_eq!(
            parse_rfc3339("2026-01-01T01:00:00.123+01:00"),
            Some(ms as i64)
        );
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn hostile_timestamps_are_refused_without_panicking() {
        // Query values are the client's: multi-byte characters where the
        // offset's digits go, signs, garbage.
        for bad in [
            "2026-01-01T00:00:00\u{e9}1234",
            "2026-01-01T00:00:00+\u{e9}:00",
            "2026-01-01T00:00:00+01\u{e9}0",
            "2026-01-01T00:00:00x01:00",
            "2026-01-01T00:00:00+01x00",
            "2026-01-01T00:00:00.\u{e9}Z",
            "\u{e9}\u{e9}\u{e9}\u{e9}-01-01T00:00:00Z",
            "2026-01-01T00:00:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(40)), Some(40));
        assert_eq!(decode_cursor("nope"), None);
    }
}

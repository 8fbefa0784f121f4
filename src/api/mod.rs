//! The project's own description of the API: plain data types plus the
//! generated table (`generated.rs`, built by `api/generate.py` from
//! `api/endpoints.json`). Nothing here does I/O; the command tree, request
//! building, completions, docs and the emulator all read the same table.

#[rustfmt::skip]
mod generated;
#[rustfmt::skip]
mod group_help;
pub mod paging;
pub mod schema;
pub mod secrets;

pub use generated::{DEFS, OPERATIONS, SECRET_FIELDS};

/// Bit set of the JSON types a schema accepts.
pub mod types {
    pub const STRING: u8 = 1;
    pub const INTEGER: u8 = 2;
    pub const NUMBER: u8 = 4;
    pub const BOOLEAN: u8 = 8;
    pub const OBJECT: u8 = 16;
    pub const ARRAY: u8 = 32;
    pub const NULL: u8 = 64;
    pub const ANY: u8 = 127;

    /// A short human name for a type set, for help text and errors.
    pub fn describe(t: u8) -> String {
        if t & !NULL == ANY & !NULL {
            return "any value".into();
        }
        let mut parts = Vec::new();
        for (bit, name) in [
            (STRING, "string"),
            (INTEGER, "integer"),
            (NUMBER, "number"),
            (BOOLEAN, "boolean"),
            (OBJECT, "object"),
            (ARRAY, "array"),
        ] {
            if t & bit != 0 && !(bit == INTEGER && t & NUMBER != 0) {
                parts.push(name);
            }
        }
        if parts.is_empty() {
            return "null".into();
        }
        parts.join(" or ")
    }
}

/// Where a parameter travels on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    Path,
    Query,
    Header,
    Body,
}

/// One request parameter (path, query, header or body field) and its flag.
#[derive(Debug)]
pub struct Param {
    /// API name, snake_case (`mcp_servers`); for headers the SDK argument name.
    pub name: &'static str,
    /// Flag name without dashes (`mcp-server`).
    pub flag: &'static str,
    /// A short description for `--help`.
    pub help: &'static str,
    pub loc: Loc,
    /// Query key (`event_deltas[]`), header name or body key.
    pub wire: &'static str,
    pub required: bool,
    /// Accepted JSON types of the whole value (see [`types`]).
    pub types: u8,
    /// An array exposed as a repeatable flag, one element per occurrence.
    pub repeated: bool,
    /// For repeated flags: the accepted types of one element.
    pub item_types: u8,
    /// Allowed string values (of the value, or of each element).
    pub enum_values: &'static [&'static str],
    /// `--flag.field` sub-flags.
    pub inner: &'static [Inner],
    /// A multipart file part: the flag takes a bare path.
    pub file: bool,
    /// JSON Schema of the value; `$ref`s point into [`DEFS`].
    pub schema: &'static str,
}

impl Param {
    /// A timestamp (`format: date-time`): an RFC 3339 value, read as relaxed
    /// YAML like the official CLI does. Returns whether `null` is allowed too.
    pub fn timestamp(&self) -> Option<bool> {
        let s = schema::parse(self.schema);
        let branches = match s.get("anyOf").and_then(|b| b.as_array()) {
            Some(b) => b.iter().collect(),
            None => vec![&s],
        };
        let is =
            |b: &&serde_json::Value, k: &str, v: &str| b.get(k).and_then(|x| x.as_str()) == Some(v);
        branches
            .iter()
            .any(|b| is(b, "format", "date-time"))
            .then(|| branches.iter().any(|b| is(b, "type", "null")))
    }
}

/// A `--outer.field` flag that sets one field of an object (or of the last
/// element of a list of objects).
#[derive(Debug)]
pub struct Inner {
    pub flag: &'static str,
    pub name: &'static str,
    pub types: u8,
    pub enum_values: &'static [&'static str],
    pub schema: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    None,
    Json,
    Multipart,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    Json,
    /// JSON normally, server-sent events when the body has `stream: true`.
    JsonOrSse,
    Page(Paging),
    Sse,
    Binary,
    Jsonl,
}

/// How a list endpoint pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    /// Array field holding the items.
    pub items: &'static str,
    /// Query parameter carrying the cursor to the next page.
    pub request_param: &'static str,
    /// Response field holding that cursor.
    pub response_field: &'static str,
    /// When set, paging stops once `has_more` is false.
    pub has_more: bool,
    /// Backwards paging (`before_id` from `first_id`) when the request has it.
    pub backward: Option<(&'static str, &'static str)>,
    /// `--limit N` also caps the items printed, as in the official command.
    pub limit_caps_items: bool,
}

/// One API operation: a leaf command `ant <group> <verb>`.
#[derive(Debug)]
pub struct Operation {
    pub group: &'static str,
    pub verb: &'static str,
    pub summary: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    /// Beta operations carry `?beta=true`.
    pub beta: bool,
    pub default_beta: Option<&'static str>,
    /// Has the repeatable `--beta` flag.
    pub beta_flag: bool,
    pub params: &'static [Param],
    pub body: Body,
    pub response: Response,
    /// JSON Schema of the response body (a page's whole envelope); for event
    /// streams and JSON lines, of each item. `None` for downloads.
    pub response_schema: Option<&'static str>,
    /// For operations that stream when asked (`stream: true`): JSON Schema of
    /// each event, `ping` and `error` included.
    pub stream_schema: Option<&'static str>,
}

impl Operation {
    pub fn find(group: &str, verb: &str) -> Option<&'static Operation> {
        OPERATIONS
            .iter()
            .find(|o| o.group == group && o.verb == verb)
    }

    pub fn name(&self) -> String {
        format!("{} {}", self.group, self.verb)
    }

    /// The operation a request was built for: same method and beta-ness, a
    /// path matching the template (the most literal segments win).
    pub fn for_request(method: &str, path: &str, beta: bool) -> Option<&'static Operation> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        OPERATIONS
            .iter()
            .filter(|o| o.method == method && o.beta == beta)
            .filter_map(|o| {
                let template: Vec<&str> = o.path.trim_matches('/').split('/').collect();
                let fits = template.len() == segments.len()
                    && (template.iter().zip(&segments)).all(|(t, s)| t.starts_with('{') || t == s);
                fits.then(|| (template.iter().filter(|t| !t.starts_with('{')).count(), o))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, o)| o)
    }

    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }

    pub fn path_params(&self) -> impl Iterator<Item = &'static Param> {
        self.params.iter().filter(|p| p.loc == Loc::Path)
    }

    /// The path parameter a single positional argument fills.
    pub fn last_path_param(&self) -> Option<&'static Param> {
        self.path_params().last()
    }

    pub fn is_list(&self) -> bool {
        matches!(self.response, Response::Page(_))
    }

    /// Operations whose output is a sequence of items (`--max-items`).
    pub fn yields_items(&self) -> bool {
        matches!(
            self.response,
            Response::Page(_) | Response::Sse | Response::JsonOrSse | Response::Jsonl
        )
    }

    /// Session (or thread) event streams, which know when a session went idle.
    pub fn is_session_stream(&self) -> bool {
        self.response == Response::Sse && self.group.starts_with("beta:sessions")
    }

    /// The official CLI's reads, whose default output on a terminal is the explorer.
    pub fn is_read(&self) -> bool {
        matches!(
            self.verb,
            "retrieve" | "list" | "stream" | "poll" | "stats" | "retrieve-metadata"
        )
    }

    /// Admin API operations (`organization:*`, `beta:organization:*`): they
    /// take an admin API key (`sk-ant-admin...`) in `x-api-key`.
    pub fn is_admin(&self) -> bool {
        is_admin_path(self.path)
    }

    pub fn is_download(&self) -> bool {
        self.response == Response::Binary
    }
}

/// Every resource group in table order (each a top-level command word).
/// Whether a request path goes to the Admin API (`/v1/organizations/...`).
pub fn is_admin_path(path: &str) -> bool {
    path.starts_with("/v1/organizations/")
}

pub fn groups() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for op in OPERATIONS {
        if !out.contains(&op.group) {
            out.push(op.group);
        }
    }
    out
}

/// The one-line description of a command group (`beta:agents`), the same
/// for its beta and stable variants.
pub fn group_help(group: &str) -> Option<&'static str> {
    let key = group.strip_prefix("beta:").unwrap_or(group);
    group_help::GROUP_HELP
        .binary_search_by(|(k, _)| (*k).cmp(key))
        .ok()
        .map(|i| group_help::GROUP_HELP[i].1)
}

/// The operations of one group.
pub fn group_ops(group: &str) -> impl Iterator<Item = &'static Operation> + '_ {
    OPERATIONS.iter().filter(move |o| o.group == group)
}

/// Looks up a schema definition by name (`$ref: "#/$defs/NAME"`).
pub fn def(name: &str) -> Option<&'static str> {
    DEFS.binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| DEFS[i].1)
}

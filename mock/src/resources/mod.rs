//! The resources: request handlers over the store, one module per resource
//! group, and what they share: the validated request they take ([`Req`])
//! and the answer they give ([`Reply`]). Handlers never name the router or
//! the server above them; the router's dispatch table names them.

pub mod agents;
pub mod batches;
pub mod deployments;
pub mod dreams;
pub mod environments;
pub mod events;
pub mod files;
pub mod generic;
pub mod memory;
pub mod messages;
pub mod models;
pub mod oauth;
pub mod sessions;
pub mod skills;
pub mod tunnels;
pub mod user_profiles;
pub mod vaults;
pub mod work;

use std::collections::HashMap;
use std::convert::Infallible;

use ant::api::Operation;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use serde_json::{Map, Value};

use crate::form::Part;
use crate::store::ApiError;
use crate::stream::ChannelBody;

pub type Answer = Result<Reply, ApiError>;

pub type RespBody = BoxBody<Bytes, Infallible>;

/// What a handler answers.
pub enum Reply {
    Json(u16, Value),
    Raw {
        status: u16,
        content_type: String,
        body: Bytes,
    },
    Sse(ChannelBody),
    /// An event stream already boxed (e.g. wrapped by the response check).
    Stream(RespBody),
    /// `302 Found` to this location.
    Redirect(String),
}

impl Reply {
    pub fn ok(v: Value) -> Self {
        Reply::Json(200, v)
    }
}

/// A validated request for one table operation.
pub struct Req {
    pub op: &'static Operation,
    pub path: HashMap<&'static str, String>,
    /// Query parameters by API name, typed per their schema.
    pub query: Map<String, Value>,
    /// JSON body (an object; empty when there is none).
    pub body: Map<String, Value>,
    /// Multipart parts (file uploads).
    pub parts: Vec<Part>,
    /// The caller, as `RawRequest::api_key_id`.
    pub api_key_id: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Req {
    /// A path parameter (always present once matched).
    pub fn p(&self, name: &str) -> &str {
        self.path.get(name).map(String::as_str).unwrap_or("")
    }
    /// A body field, if present and not null.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.body.get(name).filter(|v| !v.is_null())
    }
    /// A request header (name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Newest first, as the real list endpoints return resources.
pub fn newest_first(mut items: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    items.reverse();
    items
}

//! `ant api`: any request to the API with everything else handled, like
//! `gh api` — for an endpoint newer than this `ant`, a header to try or a
//! raw body to replay. This module turns the command's words into a plain
//! [`Request`] (no I/O but `@file` and `--input` reads through
//! [`Files`]); [`send`] sends it through the one HTTP client and prints the
//! answer through the printers; [`paths`] offers the endpoint table's paths
//! to shell completion.

pub mod fields;
pub mod paths;
pub mod send;

use serde_json::Value;

use crate::api::Operation;
use crate::error::{Error, Result};
use crate::request::files::{self, Files, MAX_INLINE_BYTES};
use crate::request::{Body, Request, beta_header, push_query};
pub use fields::Field;

/// The methods `-X` takes.
pub const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// What was typed after `ant api`.
#[derive(Debug, Default, Clone)]
pub struct Args {
    /// `-X`; by default GET, or POST when fields or `--input` are given.
    pub method: Option<String>,
    /// The endpoint: `/v1/...` (a leading `/` is added), with a query
    /// string if wanted; or a URL under the base URL.
    pub path: String,
    /// `-f` and `-F`, in command-line order.
    pub fields: Vec<Field>,
    /// `-H 'Name: value'`.
    pub headers: Vec<String>,
    /// `--input FILE` (`-` for stdin): the raw body.
    pub input: Option<String>,
    /// `--beta`: appended to the endpoint's default beta header.
    pub betas: Vec<String>,
    /// `--paginate`.
    pub paginate: bool,
}

/// A request ready to send, and what the table knows about it.
#[derive(Debug)]
pub struct Call {
    pub request: Request,
    /// The table's operation for this method and path, when it has one.
    pub op: Option<&'static Operation>,
}

/// Builds the request `args` describe, for an API at `base_url` (which a
/// full URL given as the path must be under).
pub fn build(args: &Args, base_url: &str, files: &mut dyn Files) -> Result<Call> {
    let given = fields::collect(&args.fields, files).map_err(Error::usage)?;
    let method = method(
        args.method.as_deref(),
        !given.is_empty() || args.input.is_some(),
    )?;
    if args.paginate && method != "GET" {
        return Err(Error::usage(format!(
            "--paginate follows page cursors in the query string, so it works with GET only (not {method})"
        )));
    }
    let (path, mut query) = target(&args.path, base_url)?;
    let beta = query.iter().any(|(k, v)| k == "beta" && v == "true");
    let op = Operation::for_request(method, &path, beta)
        .or_else(|| Operation::for_request(method, &path, !beta));

    let mut headers: Vec<(String, String)> = Vec::new();
    let mut content_type: Option<String> = None;
    let mut beta_given: Option<String> = None;
    for h in &args.headers {
        let (name, value) = header(h)?;
        match name.as_str() {
            "content-type" => content_type = Some(value),
            "anthropic-beta" => beta_given = Some(value),
            _ => headers.push((name, value)),
        }
    }
    let default_beta = beta_given.as_deref().or(op.and_then(|o| o.default_beta));
    if let Some(betas) = beta_header(default_beta, &args.betas)? {
        headers.push(("anthropic-beta".into(), betas));
    }

    let fields_in_query = args.input.is_some() || matches!(method, "GET" | "HEAD");
    if fields_in_query {
        for (k, v) in &given {
            push_query(&mut query, k, v);
        }
    }
    let body = match &args.input {
        Some(src) => Body::Raw {
            bytes: read_input(src, files)?,
            content_type: content_type
                .take()
                .unwrap_or_else(|| "application/json".into()),
        },
        None if fields_in_query || given.is_empty() => Body::None,
        None => {
            let object = Value::Object(given);
            match content_type.take() {
                Some(ct) => Body::Raw {
                    bytes: serde_json::to_vec(&object).expect("JSON"),
                    content_type: ct,
                },
                None => Body::Json(object),
            }
        }
    };
    if let Some(ct) = content_type {
        headers.push(("content-type".into(), ct));
    }
    Ok(Call {
        request: Request {
            method,
            path,
            query,
            headers,
            body,
        },
        op,
    })
}

/// Whether PATH (a path, or a URL) goes to the Admin API, whose
/// credential is the admin key.
pub fn admin_path(text: &str) -> bool {
    let path = match text.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => text,
    };
    let path = path.split('?').next().unwrap_or("");
    crate::api::is_admin_path(&format!("/{}", path.trim_start_matches('/')))
}

/// The method: `-X` (any case) or the default.
fn method(given: Option<&str>, has_body: bool) -> Result<&'static str> {
    let Some(m) = given else {
        return Ok(if has_body { "POST" } else { "GET" });
    };
    METHODS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(m.trim()))
        .copied()
        .ok_or_else(|| {
            Error::usage(format!(
                "invalid value {m:?} for -X/--method: expected one of {}",
                METHODS.join(", ")
            ))
        })
}

/// The path and query of `text`: `/v1/x?a=b`, `v1/x`, or a URL under `base_url`.
fn target(text: &str, base_url: &str) -> Result<(String, Vec<(String, String)>)> {
    let bad = |why: &str| Error::usage(format!("invalid PATH {text:?}: {why}"));
    let mut rest = text;
    if rest.starts_with("http://") || rest.starts_with("https://") {
        let base = base_url.trim_end_matches('/');
        rest = rest
            .strip_prefix(base)
            .filter(|r| r.is_empty() || r.starts_with(['/', '?']))
            .ok_or_else(|| {
                Error::usage(format!(
                    "PATH {text:?} is not under the base URL {}: credentials go only there; give a path such as /v1/models, or set --base-url",
                    crate::http::mask_password(base)
                ))
            })?;
    }
    if rest.is_empty() || rest == "/" {
        return Err(bad("give an endpoint such as /v1/models"));
    }
    if let Some(c) = rest.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(&format!(
            "it holds {:?}, which a URL cannot (write it %-encoded)",
            c
        )));
    }
    if rest.contains('#') {
        return Err(bad("a fragment (#...) is never sent"));
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    let query = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok((path, query))
}

/// `Name: value` of `-H`, the name in lower case.
fn header(text: &str) -> Result<(String, String)> {
    let (name, value) = text.split_once(':').ok_or_else(|| {
        Error::usage(format!(
            "invalid value {text:?} for -H/--header: expected 'Name: value'"
        ))
    })?;
    let name = name.trim().to_ascii_lowercase();
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(Error::usage(format!(
            "invalid value {text:?} for -H/--header: {name:?} is not a header name"
        )));
    }
    let value = value.trim().to_string();
    crate::request::check_header_value(&format!("-H {name}"), &value)?;
    Ok((name, value))
}

/// The bytes of `--input` (`-` for stdin), at most what the API takes.
fn read_input(src: &str, files: &mut dyn Files) -> Result<Vec<u8>> {
    let read = if src == "-" {
        files.read_stdin(MAX_INLINE_BYTES)
    } else {
        files.read(src, MAX_INLINE_BYTES)
    };
    read.map_err(|e| {
        let what = if src == "-" { "stdin" } else { src };
        Error::usage(format!("--input {what}: {}", files::io_reason(&e)))
    })
}

#[cfg(test)]
mod tests;

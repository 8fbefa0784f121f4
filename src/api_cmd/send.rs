//! Sends an `ant api` request and prints the answer: JSON through the
//! printers (so `--format`, `--transform` and `--jq` apply), each page with
//! `--paginate`, an event stream event by event, other bodies as they are;
//! with `-i`, each response's status line and headers on stderr.

use std::io::Write;

use crate::api::{Operation, Paging};
use crate::error::{Error, Result};
use crate::http::cursors::Cursors;
use crate::http::{Client, header_list};
use crate::json::Doc;
use crate::output::{self, OutputOptions, Printer, Shape};
use crate::request::Request;
use crate::stream::sink;

use super::Call;

/// How the answer is shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Show {
    /// `--paginate`: follow `next_page`, or `has_more` with `last_id`.
    pub paginate: bool,
    /// `-i`: status line and headers on stderr.
    pub include: bool,
    /// `--verbose`: details in a session stream's transcript.
    pub verbose: bool,
}

/// Paging of a list the table does not know: a `next_page` token sent back
/// as `page`, else `has_more` with `last_id` as `after_id` (`first_id` as
/// `before_id` when the request pages backwards).
const ANY_LIST: Paging = Paging {
    items: "data",
    request_param: "page",
    response_field: "next_page",
    has_more: false,
    backward: None,
    limit_caps_items: false,
};

/// Sends `call` and prints what comes back.
pub async fn run(client: &Client, opts: &OutputOptions, call: Call, show: Show) -> Result<()> {
    let Call { mut request, op } = call;
    let what = format!("{} {}", request.method, request.path);
    let paging = match op.map(|o| o.response) {
        Some(crate::api::Response::Page(p)) => p,
        _ => ANY_LIST,
    };
    let backward = request.has_query("before_id");
    let mut cursors = Cursors::default();
    let mut printer: Option<Box<dyn Printer>> = None;
    loop {
        let resp = send(client, &request, show.include).await?;
        let kind = content_type(&resp);
        if kind.starts_with("text/event-stream") {
            return events(client, &request, resp, opts, op, show.verbose).await;
        }
        let body = client.read_body(resp, &what).await?;
        if body.trim_ascii().is_empty() {
            break;
        }
        let lines = kind.contains("ndjson")
            || kind.contains("jsonl")
            || op.is_some_and(|o| o.response == crate::api::Response::Jsonl);
        if lines {
            return json_lines(&body, opts, &what);
        }
        let is_json = kind.contains("json") || crate::json::validate(&body).is_ok();
        if !is_json {
            return raw(&body, opts);
        }
        let p = printer.get_or_insert_with(|| {
            output::open(
                opts,
                if show.paginate {
                    Shape::List
                } else {
                    Shape::One
                },
            )
        });
        let page = Doc::new(body)
            .map_err(|e| Error::Other(format!("{what}: the response is not valid JSON: {e}")))?;
        p.item(page.text())?;
        if !show.paginate {
            break;
        }
        let empty = page.items(paging.items).is_some_and(|i| i.is_empty());
        match crate::api::paging::next(&page, &paging, backward, empty) {
            Some((param, cursor)) => {
                cursors.next(&what, &cursor)?;
                request.set_query(param, &cursor);
            }
            None => break,
        }
    }
    match printer {
        Some(mut p) => p.finish(),
        None => Ok(()),
    }
}

/// Sends one request; with `include`, its status and headers go to stderr
/// (also when the API answered with an error).
async fn send(client: &Client, req: &Request, include: bool) -> Result<reqwest::Response> {
    match client.send(req, "application/json").await {
        Ok(resp) => {
            if include {
                let status = resp.status();
                let line = format!(
                    "{:?} {} {}",
                    resp.version(),
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                );
                print_head(&line, &header_list(resp.headers()));
            }
            Ok(resp)
        }
        Err(Error::Api(e)) => {
            if include {
                let reason = reqwest::StatusCode::from_u16(e.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                print_head(&format!("HTTP {} {reason}", e.status), &e.headers);
            }
            Err(Error::Api(e))
        }
        Err(e) => Err(e),
    }
}

/// The status line and headers on stderr, then a blank line; control
/// characters are escaped, so a header cannot drive the terminal.
fn print_head(status: &str, headers: &[(String, String)]) {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| match c.is_control() {
                true => c.escape_unicode().to_string(),
                false => c.to_string(),
            })
            .collect()
    };
    let mut text = format!("{}\n", clean(status.trim_end()));
    for (k, v) in headers {
        text.push_str(&format!("{}: {}\n", clean(k), clean(v)));
    }
    text.push('\n');
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

fn content_type(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// A body that is not JSON: its bytes on stdout, unless a `--transform`
/// or `--jq` asked for parts of JSON.
fn raw(body: &[u8], opts: &OutputOptions) -> Result<()> {
    if opts.transform.is_some() {
        return Err(Error::Other(
            "the response is not JSON, so --transform or --jq cannot apply to it".into(),
        ));
    }
    let mut out = std::io::stdout().lock();
    out.write_all(body)
        .and_then(|()| out.flush())
        .map_err(Error::from_write)
}

/// A JSON Lines body (message batch results): each line an item.
fn json_lines(body: &[u8], opts: &OutputOptions, what: &str) -> Result<()> {
    let mut p = output::open(opts, Shape::Stream);
    for (n, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let doc = Doc::new(line.to_vec()).map_err(|e| {
            Error::Other(format!(
                "{what}: line {} of the response is not JSON: {e}",
                n + 1
            ))
        })?;
        p.item(doc.text())?;
    }
    p.finish()
}

/// An event stream: each event's data printed as it arrives (a session's
/// events as a transcript on a terminal, as its own command shows them).
async fn events(
    client: &Client,
    req: &Request,
    resp: reqwest::Response,
    opts: &OutputOptions,
    op: Option<&'static Operation>,
    verbose: bool,
) -> Result<()> {
    let mut p = match op {
        Some(op) => sink::event_sink(op, opts, verbose),
        None => output::open(opts, Shape::Stream),
    };
    sink::print_events(client, req, resp, &mut *p, -1).await
}

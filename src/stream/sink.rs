//! Where the events of a stream go: session streams render as a readable
//! transcript, message streams as assembled text, everything else through
//! the output printers. Commands pick a sink; they never print events.

use std::io::Write;

use serde_json::Value;

use super::message::MessageText;
use super::render::{RenderOptions, Transcript};
use super::spinner::Spinning;
use crate::api::{Operation, Response};
use crate::error::{Error, Result};
use crate::http::body::{next_chunk, stream_error};
use crate::http::{Client, sse};
use crate::output::{self, Format, OutputOptions, Printer, Shape};
use crate::request::Request;

/// Whether streams print as readable text: `--format pretty`, or the
/// default on a terminal, and no `--transform`.
pub fn readable(opts: &OutputOptions) -> bool {
    (opts.format == Format::Pretty || (opts.format == Format::Auto && opts.term.stdout_tty))
        && opts.transform.is_none()
}

/// Where stream events go: session streams render as a transcript and
/// message streams as assembled text when readable; otherwise the printers.
/// A session stream gets a spinner on stderr when that is a terminal.
pub fn event_sink(op: &Operation, opts: &OutputOptions, verbose: bool) -> Box<dyn Printer> {
    let out = || Box::new(std::io::stdout()) as Box<dyn Write>;
    if readable(opts) && op.response == Response::JsonOrSse {
        return Box::new(MessageText::new(out(), opts.term.color));
    }
    let spinner = op.is_session_stream()
        && opts.term.stderr_tty
        && opts.format != Format::Explore
        && std::env::var("TERM").is_ok_and(|t| t != "dumb");
    let printer: Box<dyn Printer> = if !(readable(opts) && op.is_session_stream()) {
        output::open(opts, Shape::Stream)
    } else {
        transcript(opts, verbose, opts.term.stdout_tty, spinner)
    };
    if spinner {
        Box::new(Spinning::new(printer))
    } else {
        printer
    }
}

/// `--format pretty` on a session's (or thread's) events list: the same
/// transcript as the stream, so a finished session can be read again.
pub fn list_sink(op: &Operation, opts: &OutputOptions, verbose: bool) -> Option<Box<dyn Printer>> {
    let events = op.verb == "list"
        && matches!(
            op.group,
            "beta:sessions:events" | "beta:sessions:threads:events"
        );
    (events && opts.format == Format::Pretty && opts.transform.is_none())
        .then(|| transcript(opts, verbose, false, false))
}

fn transcript(opts: &OutputOptions, verbose: bool, tty: bool, spinner: bool) -> Box<dyn Printer> {
    let render = RenderOptions {
        color: opts.term.color,
        width: opts.term.width,
        verbose,
        tty,
        spinner,
    };
    let out = Box::new(std::io::stdout()) as Box<dyn Write>;
    Box::new(TranscriptPrinter(Transcript::new(render, out)))
}

/// The transcript renderer as a printer of events.
struct TranscriptPrinter(Transcript);

impl Printer for TranscriptPrinter {
    fn item(&mut self, json: &str) -> Result<()> {
        self.0.event(&crate::json::value(json))
    }

    fn event(&mut self, _json: &str, value: &Value) -> Result<()> {
        self.0.event(value)
    }

    fn finish(&mut self) -> Result<()> {
        self.0.finish()
    }
}

/// Prints the events of an event-stream response to `p` as they arrive,
/// at most `max_items` (-1: all); `ping`s are skipped and an `error` event
/// is the API error it carries; an event that is not JSON is an error. A
/// reply stream (Messages, Text Completions) that ends before its last
/// event is a network error once what arrived is printed. Finishes `p`.
pub async fn print_events(
    client: &Client,
    req: &Request,
    mut resp: reqwest::Response,
    p: &mut dyn Printer,
    max_items: i64,
) -> Result<()> {
    let what = &client.cfg.command;
    let limit_reached = |n: i64| max_items >= 0 && n >= max_items;
    let mut decoder = sse::SseDecoder::new();
    let mut events = Vec::new();
    let mut printed = 0i64;
    let mut reply = ReplyEnd::default();
    while let Some(chunk) = next_chunk(&mut resp, client.cfg.debug).await? {
        decoder
            .feed(&chunk, &mut events)
            .map_err(|e| Error::Network(format!("{} {}: {e}", req.method, req.path)))?;
        for ev in events.drain(..) {
            if ev.event == "ping" {
                continue;
            }
            if ev.event == "error" {
                return Err(stream_error(req, client, &ev.data));
            }
            let name = ev.event.clone();
            let (value, json) = ev.into_json(what)?;
            reply.see(&name, &value);
            if limit_reached(printed) {
                return p.finish();
            }
            p.event(&json, &value)?;
            printed += 1;
            if limit_reached(printed) {
                return p.finish();
            }
        }
    }
    let finished = p.finish();
    if reply.started && !reply.ended {
        // The connection closed mid-reply: what was printed is not all.
        return Err(Error::Network(format!(
            "{what}: the stream ended before the reply did (no {} event)",
            reply.last
        )));
    }
    finished
}

/// Whether a reply stream got to its last event: `message_stop` after a
/// `message_start` (Messages), or a `completion` with its `stop_reason`
/// (Text Completions). Other streams have no such end.
#[derive(Default)]
struct ReplyEnd {
    started: bool,
    ended: bool,
    /// The event that ends it, for the message.
    last: &'static str,
}

impl ReplyEnd {
    fn see(&mut self, event: &str, value: &Value) {
        let kind = value.get("type").and_then(Value::as_str).unwrap_or(event);
        match kind {
            "message_start" => (self.started, self.last) = (true, "message_stop"),
            "message_stop" => self.ended = true,
            "completion" => {
                (self.started, self.last) = (true, "completion with a stop_reason");
                self.ended |= value.get("stop_reason").is_some_and(|r| !r.is_null());
            }
            _ => {}
        }
    }
}

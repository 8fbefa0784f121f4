//! Where the events of a stream go: session streams render as a readable
//! transcript, message streams as assembled text, everything else through
//! the output printers. Commands pick a sink; they never print events.

use std::io::Write;

use serde_json::Value;

use super::message::MessageText;
use super::render::{RenderOptions, Transcript};
use super::spinner::Spinning;
use crate::api::{Operation, Response};
use crate::error::Result;
use crate::output::{self, Format, OutputOptions, Printer, Shape};

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
        match serde_json::from_str::<Value>(json) {
            Ok(v) => self.0.event(&v),
            Err(_) => Ok(()),
        }
    }

    fn event(&mut self, _json: &str, value: &Value) -> Result<()> {
        self.0.event(value)
    }

    fn finish(&mut self) -> Result<()> {
        self.0.finish()
    }
}

//! Where the events of a stream go: session streams render as a readable
//! transcript, message streams as assembled text, everything else through
//! the output printers. Commands pick a sink; they never print events.

use std::io::Write;

use serde_json::Value;

use super::message::MessageText;
use super::render::{RenderOptions, Transcript};
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
pub fn event_sink(op: &Operation, opts: &OutputOptions, verbose: bool) -> Box<dyn Printer> {
    let out = || Box::new(std::io::stdout()) as Box<dyn Write>;
    if readable(opts) && op.response == Response::JsonOrSse {
        return Box::new(MessageText::new(out(), opts.term.color));
    }
    if !(readable(opts) && op.is_session_stream()) {
        return output::open(opts, Shape::Stream);
    }
    let render = RenderOptions {
        color: opts.term.color,
        width: opts.term.width,
        verbose,
        tty: opts.term.stdout_tty,
    };
    Box::new(TranscriptPrinter(Transcript::new(render, out())))
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

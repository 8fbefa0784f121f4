//! Printing what the API returns: the `--format` names, `--transform` (GJSON,
//! see [`gjson`]) and `-r`, and one [`Printer`] that writes each item fully and
//! flushes it, so live streams show up as they arrive. Unlike the official
//! CLI, an unmatched `--transform` is an error (exit 9), YAML documents get
//! `---` separators, and error bodies are rendered for stderr
//! ([`render_error_body`]).

pub mod choose;
mod explorer;
pub mod gjson;
mod json;
mod pager;
mod pretty;
mod term;
mod yaml;

pub use crate::explore::Shape;
pub use term::Terminal;

use crate::error::{Error, Result};
use serde_json::Value;
use std::borrow::Cow;
use std::future::Future;
use std::io::{BufWriter, Write};
use std::pin::Pin;

/// An output format, as named by `--format` and `--format-error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The default: JSON.
    Auto,
    Json,
    Jsonl,
    Yaml,
    Pretty,
    Raw,
    /// The interactive explorer ([`open`]); the plain [`printer`] prints JSON.
    Explore,
}

impl Format {
    /// Every accepted name, in the order shown in help and errors.
    pub const NAMES: [&'static str; 7] =
        ["auto", "json", "jsonl", "yaml", "pretty", "raw", "explore"];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Yaml => "yaml",
            Format::Pretty => "pretty",
            Format::Raw => "raw",
            Format::Explore => "explore",
        }
    }

    /// The format actually written: `auto` and `explore` print JSON.
    fn resolved(self) -> Format {
        match self {
            Format::Auto | Format::Explore => Format::Json,
            f => f,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let all = [
            Format::Auto,
            Format::Json,
            Format::Jsonl,
            Format::Yaml,
            Format::Pretty,
            Format::Raw,
            Format::Explore,
        ];
        all.into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "invalid format {s:?} (expected one of: {})",
                    Format::NAMES.join(", ")
                )
            })
    }
}

/// Everything that decides how items are printed.
#[derive(Clone, Debug)]
pub struct OutputOptions {
    pub format: Format,
    /// A GJSON path applied to each item (`--transform`).
    pub transform: Option<String>,
    /// `-r/--raw-output`: print string results without quotes.
    pub raw_output: bool,
    pub term: Terminal,
    /// The command, e.g. `beta:agents list`; `pretty` shows it as a header on a TTY.
    pub title: String,
    /// Where long output is paged ([`open`]); `None` never pages.
    pub pager: Option<choose::Pager>,
}

/// Writes items to the output; every call leaves its output written and flushed.
pub trait Printer {
    /// Prints one value (a response, a list item or a stream event).
    fn item(&mut self, value: &Value) -> Result<()>;
    /// Prints a response body: as received under `raw`, else parsed as JSON and
    /// printed like [`Printer::item`] (non-JSON bodies are written as they are).
    fn raw(&mut self, body: &[u8]) -> Result<()>;
    /// Ends the output; fails if `--transform` matched none of the items seen.
    fn finish(&mut self) -> Result<()>;
    /// Waits until the output wants more items, so a list fetches its next
    /// page only then (the explorer asks as its cursor nears the end);
    /// false when it wants no more. Printers that print all want more at once.
    fn wants_more(&mut self) -> Pin<Box<dyn Future<Output = bool> + '_>> {
        Box::pin(std::future::ready(true))
    }
}

/// The printer for the command's stdout: the explorer for `--format
/// explore`, paged through the pager for long one-off or list output on a
/// terminal, else the plain printer. Streams are never paged.
pub fn open(opts: &OutputOptions, shape: Shape) -> Box<dyn Printer> {
    if opts.format == Format::Explore {
        return Box::new(explorer::ExplorePrinter::new(opts, shape));
    }
    let pageable = matches!(
        opts.format.resolved(),
        Format::Json | Format::Yaml | Format::Pretty
    );
    match &opts.pager {
        Some(p) if pageable && shape != Shape::Stream => {
            pager::paged(opts, &p.command, p.rows, p.cols)
        }
        _ => printer(opts, Box::new(std::io::stdout())),
    }
}

/// Resolves when an explorer this process opened was closed by the user:
/// the command is done even if a stream it shows is still open.
pub async fn closed() -> Result<()> {
    crate::explore::closed().await
}

/// Checks a `--transform`/`--transform-error` path before anything is sent;
/// `flag` names the flag in the error.
pub fn check_transform(flag: &str, path: &str) -> Result<()> {
    gjson::parse(path)
        .map(drop)
        .map_err(|e| Error::usage(format!("invalid value for {flag} {path:?}: {e}")))
}

/// The printer for `opts`, writing to `out`.
pub fn printer(opts: &OutputOptions, out: Box<dyn Write>) -> Box<dyn Printer> {
    Box::new(FormatPrinter {
        out: BufWriter::new(out),
        render: Render::new(
            opts.format.resolved(),
            opts.raw_output,
            opts.term,
            &opts.title,
        ),
        transform: opts
            .transform
            .as_ref()
            .map(|t| (t.clone(), gjson::parse(t))),
        seen: 0,
        matched: 0,
    })
}

/// Renders an API error body for stderr (`--format-error`, `--transform-error`).
/// Pass a terminal describing stderr (see [`Terminal::for_stderr`]). A transform
/// that matches nothing falls back to the whole body, so the error is never
/// hidden. Non-JSON bodies come back as text. No trailing newline.
pub fn render_error_body(
    body: &[u8],
    format: Format,
    transform: Option<&str>,
    raw_output: bool,
    term: &Terminal,
) -> String {
    let text = || String::from_utf8_lossy(body).trim_end().to_string();
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return text();
    };
    let format = format.resolved();
    let value = transform
        .and_then(|path| gjson::get(&gjson::parse(path).ok()?, &value))
        .unwrap_or(value);
    if format == Format::Raw && transform.is_none() && !(raw_output && value.is_string()) {
        return text();
    }
    match Render::new(format, raw_output, *term, "").item(&value) {
        Ok(s) => s.trim_end_matches('\n').to_string(),
        Err(_) => text(),
    }
}

/// Applies a `--transform` path (checked before sending); `None` when it
/// matches nothing.
fn apply_transform(path: &str, value: &Value) -> Option<Value> {
    gjson::get(&gjson::parse(path).ok()?, value)
}

/// The error for a `--transform` that matched none of the items.
fn transform_unmatched(path: &str) -> Error {
    Error::NoMatch(format!(
        "--transform {path:?} matched nothing in the response"
    ))
}

struct FormatPrinter {
    out: BufWriter<Box<dyn Write>>,
    render: Render,
    /// `--transform` as given, and checked.
    transform: Option<(String, std::result::Result<gjson::Path, String>)>,
    /// Items seen and items the transform matched.
    seen: usize,
    matched: usize,
}

impl FormatPrinter {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(Error::from_write)?;
        self.out.flush().map_err(Error::from_write)
    }

    /// Writes a body as it is, plus a newline if it lacks one; nothing for an empty body.
    fn write_verbatim(&mut self, body: &[u8]) -> Result<()> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        self.out.write_all(body).map_err(Error::from_write)?;
        if !body.ends_with(b"\n") {
            self.out.write_all(b"\n").map_err(Error::from_write)?;
        }
        self.out.flush().map_err(Error::from_write)
    }
}

impl Printer for FormatPrinter {
    fn item(&mut self, value: &Value) -> Result<()> {
        self.seen += 1;
        let value = match &self.transform {
            Some((_, Ok(path))) => match gjson::get(path, value) {
                Some(v) => {
                    self.matched += 1;
                    Cow::Owned(v)
                }
                None => return Ok(()),
            },
            Some((text, Err(e))) => {
                return Err(Error::usage(format!(
                    "invalid value for --transform {text:?}: {e}"
                )));
            }
            None => Cow::Borrowed(value),
        };
        let text = self.render.item(&value)?;
        self.write(text.as_bytes())
    }

    fn raw(&mut self, body: &[u8]) -> Result<()> {
        let parsed = serde_json::from_slice::<Value>(body);
        let verbatim = self.render.format == Format::Raw
            && self.transform.is_none()
            && !(self.render.raw_output && matches!(parsed, Ok(Value::String(_))));
        match parsed {
            Ok(v) if !verbatim => self.item(&v),
            _ => self.write_verbatim(body),
        }
    }

    fn finish(&mut self) -> Result<()> {
        self.out.flush().map_err(Error::from_write)?;
        match &self.transform {
            Some((path, _)) if self.seen > 0 && self.matched == 0 => Err(transform_unmatched(path)),
            _ => Ok(()),
        }
    }
}

/// Turns one (already transformed) value into text, keeping the state that
/// separates items (`---` between YAML documents, blank lines in `pretty`).
struct Render {
    format: Format,
    raw_output: bool,
    term: Terminal,
    title: String,
    yaml_docs: usize,
    pretty_items: usize,
}

impl Render {
    /// A renderer for `format` (already resolved); `title` heads `pretty`.
    fn new(format: Format, raw_output: bool, term: Terminal, title: &str) -> Render {
        Render {
            format,
            raw_output,
            term,
            title: title.to_string(),
            yaml_docs: 0,
            pretty_items: 0,
        }
    }

    fn item(&mut self, value: &Value) -> Result<String> {
        if self.raw_output
            && let Value::String(s) = value
        {
            let mut out = s.clone();
            out.push('\n');
            return Ok(out);
        }
        let color = self.term.color;
        let mut out = match self.format {
            Format::Jsonl => json::render(value, None, color),
            Format::Raw => json::render(value, None, false),
            Format::Yaml => {
                let mut out = if self.yaml_docs > 0 {
                    "---\n".to_string()
                } else {
                    String::new()
                };
                out.push_str(&yaml::render(value)?);
                self.yaml_docs += 1;
                return Ok(out);
            }
            Format::Pretty => {
                let mut out = String::new();
                if self.pretty_items > 0 {
                    out.push('\n');
                } else if self.term.stdout_tty && !self.title.is_empty() {
                    out.push_str(&pretty::header(&self.title, &self.term));
                }
                out.push_str(&pretty::render(value, &self.term));
                self.pretty_items += 1;
                return Ok(out);
            }
            Format::Json | Format::Auto | Format::Explore => json::render(value, Some(2), color),
        };
        out.push('\n');
        Ok(out)
    }
}

#[cfg(test)]
mod tests;

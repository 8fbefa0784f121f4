//! Printing what the API returns: the `--format` names, `--transform`
//! and `--jq` ([`Transform`]: GJSON or jq) and `-r`, and one [`Printer`] that writes each
//! item fully and flushes it, so live streams show up as they arrive. Items
//! arrive as the server's JSON text and `json`, `jsonl` and `raw` print
//! those bytes (re-indented as the official CLI does), so numbers and
//! escapes come out as sent. Unlike the official CLI, an unmatched
//! `--transform` is an error (exit 9), YAML documents get `---` separators,
//! and error bodies are rendered for stderr ([`render_error_body`]).

pub mod choose;
mod explorer;
use crate::json::gjson;
mod jq;
mod json;
mod pager;
mod pretty;
mod term;
mod transform;
mod yaml;

pub use crate::explore::Shape;
pub use term::Terminal;
pub use transform::{Pick, Transform};

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
    /// A GJSON path (`--transform`) or jq program (`--jq`) applied to each item.
    pub transform: Option<Pick>,
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
    /// Prints one value (a response, a list item or a stream event), given
    /// as its JSON text as received (valid JSON).
    fn item(&mut self, json: &str) -> Result<()>;
    /// Prints a stream event the caller has parsed already: `value` is
    /// `json` parsed, for printers that work on values.
    fn event(&mut self, json: &str, _value: &Value) -> Result<()> {
        self.item(json)
    }
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
    Transform::new(flag, path).map(drop)
}

/// What `--transform` and `--jq` ask for, checked before anything is
/// sent: one of them (never both), or none.
pub fn check_pick(transform: Option<&str>, jq: Option<&str>) -> Result<Option<Pick>> {
    let pick = match (transform, jq) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(
                "--jq and --transform cannot be used together: use one (jq can do what a GJSON path does)",
            ));
        }
        (Some(t), None) => Pick::Gjson(t.to_string()),
        (None, Some(j)) => Pick::Jq(j.to_string()),
        (None, None) => return Ok(None),
    };
    Transform::from_pick(&pick)?;
    Ok(Some(pick))
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
        transform: opts.transform.as_ref().map(Transform::from_pick),
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
    let Some(json) = std::str::from_utf8(body)
        .ok()
        .filter(|b| crate::json::validate(b.as_bytes()).is_ok())
    else {
        return text();
    };
    let doc = whole(json);
    let selected = transform
        .and_then(|t| Transform::new("--transform-error", t).ok()?.first(doc))
        .unwrap_or(Cow::Borrowed(doc));
    let format = format.resolved();
    let string = gjson::parse_value(selected.as_bytes()).kind == gjson::Kind::String;
    if format == Format::Raw && transform.is_none() && !(raw_output && string) {
        return text();
    }
    match Render::new(format, raw_output, *term, "").value(&selected) {
        Ok(s) => String::from_utf8_lossy(&s)
            .trim_end_matches('\n')
            .to_string(),
        Err(_) => text(),
    }
}

/// The value a body (or item) stands for, as the official CLI takes it
/// (GJSON's `Parse`): an object or array runs from its opening bracket to
/// the end of the text, trailing whitespace included.
fn whole(json: &str) -> &str {
    match gjson::parse_value(json.as_bytes()).raw {
        Cow::Borrowed(raw) => {
            let start = raw.as_ptr() as usize - json.as_ptr() as usize;
            &json[start..start + raw.len()]
        }
        Cow::Owned(_) => json,
    }
}

struct FormatPrinter {
    out: BufWriter<Box<dyn Write>>,
    render: Render,
    /// `--transform` or `--jq`, checked (the command checked it before sending).
    transform: Option<Result<Transform>>,
    /// Items seen and items the transform matched.
    seen: usize,
    matched: usize,
}

impl Printer for FormatPrinter {
    fn item(&mut self, json: &str) -> Result<()> {
        self.seen += 1;
        let doc = whole(json);
        let (selected, bare) = match &self.transform {
            None => (vec![Cow::Borrowed(doc)], false),
            Some(Ok(t)) => (t.apply(doc, self.seen)?, t.bare_strings()),
            Some(Err(e)) => return Err(Error::usage(e.to_string())),
        };
        if self.transform.is_some() && !selected.is_empty() {
            self.matched += 1;
        }
        for value in selected {
            let bytes = self.render.value_as(&value, bare)?;
            self.out.write_all(&bytes).map_err(Error::from_write)?;
            self.out.flush().map_err(Error::from_write)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.out.flush().map_err(Error::from_write)?;
        match &self.transform {
            Some(Ok(t)) if self.seen > 0 && self.matched == 0 => t.unmatched().map_or(Ok(()), Err),
            _ => Ok(()),
        }
    }
}

/// Turns one (already transformed) value into bytes, keeping the state that
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

    /// The output for one value given as JSON text: a string's characters
    /// under `-r`, else the value in the format.
    fn value(&mut self, text: &str) -> Result<Vec<u8>> {
        self.value_as(text, false)
    }

    /// As [`Render::value`]; `bare` prints a string's characters even
    /// without `-r` (`--jq`).
    fn value_as(&mut self, text: &str, bare: bool) -> Result<Vec<u8>> {
        let res = gjson::parse_value(text.as_bytes());
        if (self.raw_output || bare) && res.kind == gjson::Kind::String {
            let mut out = res.text.into_owned();
            out.push(b'\n');
            return Ok(out);
        }
        let dress = json::Dress {
            color: self.term.color,
            tty: self.term.stdout_tty,
        };
        Ok(match self.format {
            Format::Jsonl => json::line(&res.raw, dress),
            Format::Raw => json::raw(&res.raw, dress),
            Format::Yaml => {
                let mut out = if self.yaml_docs > 0 {
                    "---\n".to_string()
                } else {
                    String::new()
                };
                out.push_str(&yaml::render(&res.raw)?);
                self.yaml_docs += 1;
                out.into_bytes()
            }
            Format::Pretty => {
                let mut out = String::new();
                if self.pretty_items > 0 {
                    out.push('\n');
                } else if self.term.stdout_tty && !self.title.is_empty() {
                    out.push_str(&pretty::header(&self.title, &self.term));
                }
                match serde_json::from_slice::<Value>(&res.raw) {
                    Ok(v) => out.push_str(&pretty::render(&v, &self.term)),
                    Err(_) => {
                        out.push_str(String::from_utf8_lossy(&res.raw).trim());
                        out.push('\n');
                    }
                }
                self.pretty_items += 1;
                out.into_bytes()
            }
            Format::Json | Format::Auto | Format::Explore => json::indented(&res.raw, dress),
        })
    }
}

#[cfg(test)]
mod tests;

//! `--format yaml`, written from the JSON text in the official CLI's layout
//! (itchyny/json2yaml: block style, `- ` items, `{}`/`[]` for empty
//! containers, literal blocks for multi-line strings, numbers as sent) and
//! safe for YAML 1.1 readers such as PyYAML as well as 1.2 ones: strings
//! that either would read as another type are double-quoted (`yes`, `n`,
//! `1_000`, `0o17`, `1:20`, `<<`, `=`, dates...), U+2028 and U+2029 are
//! escaped, and a number with an exponent is written with a fraction and
//! a signed exponent (`1e21` as `1.0e+21`), which both read as that number.

use std::sync::OnceLock;

use regex::Regex;

use crate::error::{Error, Result};
use crate::json::{self, validate};

/// Renders one JSON value as a YAML document (no `---` marker), ending in a newline.
pub(crate) fn render(raw: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(raw)
        .ok()
        .filter(|t| validate(t.as_bytes()).is_ok())
        .ok_or_else(|| {
            Error::Other(format!(
                "--format yaml: the value is not JSON: {}",
                String::from_utf8_lossy(raw).trim()
            ))
        })?;
    let mut w = Writer {
        out: String::with_capacity(text.len() + text.len() / 2),
        indent: 0,
    };
    let b = text.as_bytes();
    let at = json::scan_ws(b, 0);
    w.value(text, at, Place::Top);
    Ok(w.out)
}

/// Where a value is written.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Top,
    /// After `key:`.
    Member,
    /// After `- `.
    Item,
}

struct Writer {
    out: String,
    /// Indentation of the lines inside the current container.
    indent: usize,
}

impl Writer {
    fn spaces(&mut self, n: usize) {
        self.out.extend(std::iter::repeat_n(' ', n));
    }

    /// The value at `at`; returns the index after it.
    fn value(&mut self, text: &str, at: usize, place: Place) -> usize {
        let b = text.as_bytes();
        match b[at] {
            b'{' | b'[' => self.container(text, at, place),
            _ => {
                let end = json::value_end_at(b, at);
                if place == Place::Member {
                    self.out.push(' ');
                }
                self.scalar(&text[at..end], false);
                self.out.push('\n');
                end
            }
        }
    }

    fn container(&mut self, text: &str, at: usize, place: Place) -> usize {
        let b = text.as_bytes();
        let object = b[at] == b'{';
        let nested = place != Place::Top;
        let mut i = json::scan_ws(b, at + 1);
        if matches!(b[i], b'}' | b']') {
            if place == Place::Member {
                self.out.push(' ');
            }
            self.out.push_str(if object { "{}\n" } else { "[]\n" });
            return i + 1;
        }
        if nested {
            self.indent += 2;
        }
        if place == Place::Member {
            self.out.push('\n');
            self.spaces(self.indent);
        }
        let mut first = true;
        loop {
            if !first {
                self.spaces(self.indent);
            }
            first = false;
            if object {
                let key_end = json::value_end_at(b, i);
                self.scalar(&text[i..key_end], true);
                self.out.push(':');
                let colon = json::scan_ws(b, key_end);
                i = self.value(text, json::scan_ws(b, colon + 1), Place::Member);
            } else {
                self.out.push_str("- ");
                i = self.value(text, i, Place::Item);
            }
            i = json::scan_ws(b, i);
            if b[i] == b',' {
                i = json::scan_ws(b, i + 1);
                continue;
            }
            break;
        }
        if nested {
            self.indent -= 2;
        }
        i + 1
    }

    /// A scalar (a key when `key`): `null`, booleans and numbers as they
    /// are; strings plain, double-quoted or as a literal block.
    fn scalar(&mut self, raw: &str, key: bool) {
        if !raw.starts_with('"') {
            if raw.starts_with(['-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
                self.out.push_str(&number(raw));
            } else {
                self.out.push_str(raw);
            }
            return;
        }
        let bytes = json::unescape(&raw.as_bytes()[1..raw.len() - 1]);
        let s = String::from_utf8_lossy(&bytes);
        if s.contains('\n') && !patterns().multi_line.is_match(&s) {
            self.block(&s, key);
        } else if s.contains('\n') || patterns().single_line.is_match(&s) || needs_quotes_in_1_1(&s)
        {
            quoted(&mut self.out, &s);
        } else {
            self.out.push_str(&s);
        }
    }

    /// A literal block (`|`, `|-` or `|+`), its lines indented one level more.
    fn block(&mut self, s: &str, key: bool) {
        if key {
            self.out.push_str("? ");
        }
        self.out.push('|');
        if !s.ends_with('\n') {
            self.out.push('-');
        } else if s.ends_with("\n\n") {
            self.out.push('+');
        }
        let mut rest = s;
        while !rest.is_empty() {
            let (line, tail) = rest.split_once('\n').unwrap_or((rest, ""));
            rest = tail;
            self.out.push('\n');
            if !line.is_empty() {
                self.spaces(self.indent + 2);
                self.out.push_str(line);
            }
        }
        if key {
            self.out.push('\n');
            self.spaces(self.indent);
        }
    }
}

/// A JSON number as YAML 1.1 and 1.2 readers both take it: as sent, except
/// that an exponent gets a fraction and a sign (`1E+2` → `1.0E+2`).
fn number(raw: &str) -> String {
    let Some(e) = raw.find(['e', 'E']) else {
        return raw.to_string();
    };
    let (mantissa, exp) = raw.split_at(e);
    let mut out = String::with_capacity(raw.len() + 3);
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    out.push_str(&exp[..1]);
    if !exp[1..].starts_with(['+', '-']) {
        out.push('+');
    }
    out.push_str(&exp[1..]);
    out
}

/// Strings json2yaml's pattern lets through that a YAML 1.1 reader takes
/// for something else: the merge key and the value key (line separators
/// are in the patterns).
fn needs_quotes_in_1_1(s: &str) -> bool {
    s == "<<" || s == "="
}

struct Patterns {
    single_line: Regex,
    multi_line: Regex,
}

/// When a string needs quotes (json2yaml's rules, which match more than
/// the specifications ask, to be safe with every reader).
fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let d = "[0-9]";
        let s = "[\\t\\n\\x0C\\r ]";
        let single = [
            "^(?:(?i:",
            "|~|null",
            "|true|false|y(?:es)?|no?|o(?:n|ff)",
            "|[-+]?(?:0(?:b[01_]+|o[0-7_]+|x[0-9a-f_]+)",
            "|(?:[0-9][0-9_]*(?::[0-5]?[0-9])*(?:\\.[0-9_]*)?",
            "|\\.[0-9_]+)(?:E[-+]?[0-9]+)?",
            "|\\.inf)|\\.nan",
            &format!("|{d}{d}{d}{d}-{d}{d}?-{d}{d}?"),
            &format!("(?:(?:T|{s}+){d}{d}?:{d}{d}?:{d}{d}?(?:\\.{d}*)?"),
            &format!("(?:{s}*(?:Z|[-+]{d}{d}?(?::{d}{d}?)?))?)?"),
            ")$",
            "|[,\\[\\]{}#&*!|>'\"%@` \\t]",
            "|(?:-(?:--)?|\\.\\.\\.|\\?)(?:[ \\t]|$)",
            ")",
            "|:(?:[ \\t]|$)",
            "|[ \\t](?:#|$)",
            "|[\\x00-\\x09\\x0B-\\x1F\\x7F\\x{80}-\\x{9F}\\x{FEFF}\\x{FDD0}-\\x{FDEF}\\x{FFFE}\\x{FFFF}\\x{2028}\\x{2029}]",
        ]
        .concat();
        let multi = concat!(
            "^\\n*(?:[ \\t]|$)",
            "|[\\x00-\\x08\\x0B-\\x1F\\x7F\\x{80}-\\x{9F}\\x{FEFF}\\x{FDD0}-\\x{FDEF}\\x{FFFE}\\x{FFFF}\\x{2028}\\x{2029}]",
        );
        Patterns {
            single_line: Regex::new(&single).expect("valid pattern"),
            multi_line: Regex::new(multi).expect("valid pattern"),
        }
    })
}

/// A YAML double-quoted string: printable ASCII as it is, `\"` `\\` `\b`
/// `\f` `\n` `\r` `\t`, other controls as `\xXX`, and `\uXXXX` for the BOM,
/// noncharacters and line separators.
fn quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            '\0'..='\u{9f}' => {
                let _ = std::fmt::Write::write_fmt(out, format_args!("\\x{:02X}", c as u32));
            }
            '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{fffe}'
            | '\u{ffff}'
            | '\u{fdd0}'..='\u{fdef}' => {
                let _ = std::fmt::Write::write_fmt(out, format_args!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;

//! JSON as text. A response body is checked once ([`Doc::new`]) and then
//! carried to the printers as the server sent it: never parsed into values
//! and encoded again, so numbers, string escapes and repeated keys print as
//! they came, and printing an item costs one pass over its bytes. Lists
//! hand out their items as slices of the page ([`Doc::items`]); the layout
//! of `--format json` is [`pretty`]'s.

pub mod gjson;
pub mod pretty;
mod scan;

pub use scan::{Invalid, MAX_DEPTH, validate};

/// A body that is one valid JSON value (RFC 8259, UTF-8), whitespace around
/// it allowed.
#[derive(Debug, Clone)]
pub struct Doc {
    text: String,
}

impl Doc {
    /// Checks `body`; the error says what is wrong and where.
    pub fn new(body: Vec<u8>) -> Result<Doc, Invalid> {
        let text = String::from_utf8(body).map_err(|e| Invalid {
            at: e.utf8_error().valid_up_to(),
            what: "invalid UTF-8",
        })?;
        validate(text.as_bytes())?;
        Ok(Doc { text })
    }

    /// Checks `text`, which must hold one JSON value.
    pub fn from_text(text: String) -> Result<Doc, Invalid> {
        Doc::new(text.into_bytes())
    }

    /// The body as received.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The JSON text of the object member `key` (its first occurrence),
    /// when the body is an object that has it.
    pub fn field(&self, key: &str) -> Option<&str> {
        field(&self.text, key)
    }

    /// The elements of the array member `key`, each as JSON text; `None`
    /// when the body has no such member or it is not an array.
    pub fn items(&self, key: &str) -> Option<Vec<&str>> {
        elements(self.field(key)?)
    }
}

/// The JSON text of member `key` of the object `text` (valid JSON), first
/// occurrence; `None` when `text` is not an object or lacks the member.
pub fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    members(text)?
        .find(|(k, _)| scan::key_is(k, key))
        .map(|(_, v)| v)
}

/// The members of the object `text` (valid JSON) as (raw key with its
/// quotes, value text); `None` when `text` is not an object.
pub fn members(text: &str) -> Option<impl Iterator<Item = (&str, &str)>> {
    let b = text.as_bytes();
    let start = scan::skip_ws(b, 0);
    (b.get(start) == Some(&b'{')).then(|| scan::Members {
        text,
        at: start + 1,
    })
}

/// The elements of the array `text` (valid JSON), each as JSON text;
/// `None` when `text` is not an array.
pub fn elements(text: &str) -> Option<Vec<&str>> {
    let b = text.as_bytes();
    let mut at = scan::skip_ws(b, 0);
    if b.get(at) != Some(&b'[') {
        return None;
    }
    let mut out = Vec::new();
    at = scan::skip_ws(b, at + 1);
    if b.get(at) == Some(&b']') {
        return Some(out);
    }
    loop {
        let end = scan::value_end(b, at);
        out.push(&text[at..end]);
        at = scan::skip_ws(b, end);
        if b.get(at) != Some(&b',') {
            return Some(out);
        }
        at = scan::skip_ws(b, at + 1);
    }
}

/// The string a JSON string literal (valid, with its quotes) stands for.
pub fn string(literal: &str) -> Option<String> {
    serde_json::from_str(literal).ok()
}

/// `text` (valid JSON, as [`Doc`] checks it) as a `serde_json` value, for
/// the code that works on values (stream renderers, stop rules, the
/// explorer). What such a value cannot hold comes out as near as it can,
/// never as a different kind of value: a lone surrogate as U+FFFD, a number
/// beyond the range of `f64` as a string of its digits.
pub fn value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| lossy_value(text))
}

fn lossy_value(text: &str) -> serde_json::Value {
    use serde_json::Value;
    let inner = |s: &str| {
        let quoted = s
            .as_bytes()
            .get(1..s.len().saturating_sub(1))
            .unwrap_or_default();
        String::from_utf8_lossy(&unescape(quoted)).into_owned()
    };
    if let Some(members) = members(text) {
        return Value::Object(members.map(|(k, v)| (inner(k), lossy_value(v))).collect());
    }
    if let Some(elements) = elements(text) {
        return Value::Array(elements.into_iter().map(lossy_value).collect());
    }
    let t = text.trim_matches([' ', '\t', '\n', '\r']);
    match t.as_bytes().first() {
        Some(b'"') => Value::String(inner(t)),
        Some(b't') => Value::Bool(true),
        Some(b'f') => Value::Bool(false),
        Some(b'n') => Value::Null,
        _ => t
            .parse()
            .map_or_else(|_| Value::String(t.to_string()), Value::Number),
    }
}

#[cfg(test)]
mod tests;

/// The characters of a JSON string's inside (without quotes), decoded as
/// GJSON decodes them: surrogate pairs joined, a lone surrogate as U+FFFD,
/// and decoding stops at a raw control character or a malformed escape.
pub fn unescape(inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        if c < b' ' {
            return out;
        }
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&e) = inner.get(i) else {
            return out;
        };
        match e {
            b'\\' | b'/' | b'"' => out.push(e),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'u' => {
                if i + 5 > inner.len() {
                    return out;
                }
                let mut r = hex4(&inner[i + 1..i + 5]);
                i += 5;
                if (0xD800..0xE000).contains(&r)
                    && inner.len() - i >= 6
                    && inner[i] == b'\\'
                    && inner[i + 1] == b'u'
                {
                    let low = hex4(&inner[i + 2..i + 6]);
                    r = if (0xD800..0xDC00).contains(&r) && (0xDC00..0xE000).contains(&low) {
                        0x10000 + ((r - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        0xFFFD
                    };
                    i += 6;
                }
                let ch = char::from_u32(r).unwrap_or('\u{FFFD}');
                out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                continue;
            }
            _ => return out,
        }
        i += 1;
    }
    out
}

/// Four hex digits as a number; 0 when they are not all hex digits.
fn hex4(h: &[u8]) -> u32 {
    if !h.iter().all(u8::is_ascii_hexdigit) {
        return 0;
    }
    h.iter()
        .fold(0, |n, &d| n * 16 + (d as char).to_digit(16).unwrap_or(0))
}

pub(crate) use scan::{skip_string as string_end, skip_ws as scan_ws, value_end as value_end_at};

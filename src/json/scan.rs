//! Byte-level JSON scanning: the strict validator every response body goes
//! through, and the cursor moves (skip whitespace, find a value's end) that
//! are safe on text the validator accepted.

use std::fmt;

/// Deepest nesting of arrays and objects accepted, as `serde_json`'s own
/// limit: the printers and the explorer recurse per level.
pub const MAX_DEPTH: usize = 128;

/// Why a text is not valid JSON, and the byte offset where that shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub at: usize,
    pub what: &'static str,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

impl std::error::Error for Invalid {}

fn fail<T>(at: usize, what: &'static str) -> Result<T, Invalid> {
    Err(Invalid { at, what })
}

pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

pub(crate) fn skip_ws(b: &[u8], mut at: usize) -> usize {
    while at < b.len() && is_ws(b[at]) {
        at += 1;
    }
    at
}

/// Checks that `b` is exactly one JSON value with optional whitespace
/// around it: RFC 8259 grammar, no control characters in strings, valid
/// escapes, at most [`MAX_DEPTH`] levels. UTF-8 is the caller's check.
pub fn validate(b: &[u8]) -> Result<(), Invalid> {
    // Open containers: true for an object.
    let mut stack: Vec<bool> = Vec::new();
    let mut at = skip_ws(b, 0);
    if at == b.len() {
        return fail(at, "empty body where JSON was expected");
    }
    'value: loop {
        // At the start of a value.
        at = match b.get(at) {
            None => return fail(at, "unexpected end of input"),
            Some(b'{') | Some(b'[') => {
                let object = b[at] == b'{';
                if stack.len() == MAX_DEPTH {
                    return fail(at, "nested deeper than 128 levels");
                }
                let close = if object { b'}' } else { b']' };
                let next = skip_ws(b, at + 1);
                if b.get(next) == Some(&close) {
                    next + 1
                } else {
                    stack.push(object);
                    if object {
                        at = member_key(b, next)?;
                    } else {
                        at = next;
                    }
                    continue 'value;
                }
            }
            Some(b'"') => string_end(b, at)?,
            Some(b'-' | b'0'..=b'9') => number_end(b, at)?,
            Some(b't') => literal_end(b, at, b"true")?,
            Some(b'f') => literal_end(b, at, b"false")?,
            Some(b'n') => literal_end(b, at, b"null")?,
            Some(_) => return fail(at, "unexpected character"),
        };
        // After a value: close containers or move to the next element.
        loop {
            at = skip_ws(b, at);
            let Some(&object) = stack.last() else {
                if at != b.len() {
                    return fail(at, "unexpected text after the JSON value");
                }
                return Ok(());
            };
            match b.get(at) {
                Some(b',') => {
                    at = skip_ws(b, at + 1);
                    if object {
                        at = member_key(b, at)?;
                    }
                    continue 'value;
                }
                Some(b'}') if object => {
                    stack.pop();
                    at += 1;
                }
                Some(b']') if !object => {
                    stack.pop();
                    at += 1;
                }
                None => return fail(at, "unexpected end of input"),
                Some(_) if object => return fail(at, "expected ',' or '}'"),
                Some(_) => return fail(at, "expected ',' or ']'"),
            }
        }
    }
}

/// A member's key and colon at `at`; returns where its value starts.
fn member_key(b: &[u8], at: usize) -> Result<usize, Invalid> {
    if b.get(at) != Some(&b'"') {
        return match b.get(at) {
            None => fail(at, "unexpected end of input"),
            Some(_) => fail(at, "expected a string key"),
        };
    }
    let end = skip_ws(b, string_end(b, at)?);
    if b.get(end) != Some(&b':') {
        return fail(end, "expected ':' after a key");
    }
    Ok(skip_ws(b, end + 1))
}

/// The end of the string literal starting at `at` (a `"`), checked.
fn string_end(b: &[u8], at: usize) -> Result<usize, Invalid> {
    let mut i = at + 1;
    loop {
        match b.get(i) {
            None => return fail(i, "unterminated string"),
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => match b.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u') => {
                    let hex = b.get(i + 2..i + 6);
                    if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                        return fail(i, "invalid \\u escape");
                    }
                    i += 6;
                }
                None => return fail(i + 1, "unterminated string"),
                Some(_) => return fail(i, "invalid escape"),
            },
            Some(&c) if c < 0x20 => return fail(i, "control character in a string"),
            Some(_) => i += 1,
        }
    }
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// The end of the number starting at `at`, checked against the grammar.
fn number_end(b: &[u8], at: usize) -> Result<usize, Invalid> {
    let mut i = at;
    if b[i] == b'-' {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(b, i),
        _ => return fail(i, "invalid number"),
    }
    if b.get(i) == Some(&b'.') {
        let j = digits(b, i + 1);
        if j == i + 1 {
            return fail(j, "invalid number");
        }
        i = j;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let j = digits(b, i);
        if j == i {
            return fail(j, "invalid number");
        }
        i = j;
    }
    Ok(i)
}

fn literal_end(b: &[u8], at: usize, word: &[u8]) -> Result<usize, Invalid> {
    if b.get(at..at + word.len()) == Some(word) {
        Ok(at + word.len())
    } else {
        fail(at, "unexpected character")
    }
}

/// The end of the string literal at `at` in valid JSON (just past its
/// closing quote).
pub(crate) fn skip_string(b: &[u8], at: usize) -> usize {
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'"' => return i + 1,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    b.len()
}

/// The end of the value starting at `at` in valid JSON.
pub(crate) fn value_end(b: &[u8], at: usize) -> usize {
    match b.get(at) {
        Some(b'"') => skip_string(b, at),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = at;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        _ => {
            let mut i = at;
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']') && !is_ws(b[i]) {
                i += 1;
            }
            i
        }
    }
}

/// Whether the raw key (a valid string literal with its quotes) stands for `key`.
pub(crate) fn key_is(raw: &str, key: &str) -> bool {
    let inner = &raw[1..raw.len() - 1];
    if !inner.contains('\\') {
        return inner == key;
    }
    super::string(raw).is_some_and(|k| k == key)
}

/// The members of an object in valid JSON: (raw key, value text).
pub(crate) struct Members<'a> {
    pub(crate) text: &'a str,
    /// Just after the `{` or the previous member.
    pub(crate) at: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.text.as_bytes();
        let mut at = skip_ws(b, self.at);
        if b.get(at) == Some(&b',') {
            at = skip_ws(b, at + 1);
        }
        if b.get(at) != Some(&b'"') {
            self.at = b.len();
            return None;
        }
        let key_end = skip_string(b, at);
        let colon = skip_ws(b, key_end);
        let start = skip_ws(b, colon + 1);
        let end = value_end(b, start);
        self.at = end;
        Some((&self.text[at..key_end], &self.text[start..end]))
    }
}

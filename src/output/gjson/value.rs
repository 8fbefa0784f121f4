//! GJSON's result value and the lexing it is built from: a value is its
//! type, its raw JSON text (a slice of the input where possible), the
//! decoded string and the number. The scanners are lenient in the same
//! places as the original, so odd text (a path literal, a modifier's
//! output) gives the same result.

use std::borrow::Cow;

/// The type of a result, in GJSON's order (used by comparisons).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    #[default]
    Null,
    False,
    Number,
    String,
    True,
    Json,
}

/// A GJSON result. It exists when its type is not null or it has raw text
/// (a JSON `null` has the raw text `null`).
#[derive(Clone, Debug, Default)]
pub struct Res<'a> {
    pub kind: Kind,
    pub raw: Cow<'a, [u8]>,
    /// The decoded string, for strings.
    pub text: Cow<'a, [u8]>,
    pub num: f64,
}

impl<'a> Res<'a> {
    /// A string from its literal `raw` (with quotes); `escaped` when it has
    /// backslash escapes to decode.
    pub fn of_string(raw: &'a [u8], escaped: bool) -> Res<'a> {
        let inner = &raw[1..raw.len() - 1];
        Res {
            kind: Kind::String,
            raw: Cow::Borrowed(raw),
            text: match escaped {
                true => Cow::Owned(crate::json::unescape(inner)),
                false => Cow::Borrowed(inner),
            },
            num: 0.0,
        }
    }

    /// An array or object from its text.
    pub fn of_json(raw: impl Into<Cow<'a, [u8]>>) -> Res<'a> {
        Res {
            kind: Kind::Json,
            raw: raw.into(),
            ..Res::default()
        }
    }

    /// A number from its text.
    pub fn of_number(raw: &'a [u8]) -> Res<'a> {
        Res {
            kind: Kind::Number,
            raw: Cow::Borrowed(raw),
            text: Cow::Borrowed(b""),
            num: parse_float(raw),
        }
    }

    pub fn exists(&self) -> bool {
        self.kind != Kind::Null || !self.raw.is_empty()
    }

    pub fn is_array(&self) -> bool {
        self.kind == Kind::Json && self.raw.first() == Some(&b'[')
    }

    pub fn is_object(&self) -> bool {
        self.kind == Kind::Json && self.raw.first() == Some(&b'{')
    }

    /// The same result, owning its text.
    pub fn into_owned(self) -> Res<'static> {
        Res {
            kind: self.kind,
            raw: Cow::Owned(self.raw.into_owned()),
            text: Cow::Owned(self.text.into_owned()),
            num: self.num,
        }
    }

    /// Go's `String()`: strings decoded, numbers as written when they are
    /// plain integers (else the shortest decimal), JSON as raw text.
    pub fn string(&self) -> Cow<'_, [u8]> {
        match self.kind {
            Kind::Null => Cow::Borrowed(b""),
            Kind::False => Cow::Borrowed(b"false"),
            Kind::True => Cow::Borrowed(b"true"),
            Kind::String => Cow::Borrowed(&self.text),
            Kind::Json => Cow::Borrowed(&self.raw),
            Kind::Number => {
                let digits = self.raw.strip_prefix(b"-").unwrap_or(&self.raw);
                if !self.raw.is_empty() && digits.iter().all(u8::is_ascii_digit) {
                    Cow::Borrowed(&self.raw)
                } else {
                    Cow::Owned(format_float(self.num).into_bytes())
                }
            }
        }
    }

    /// Go's `Bool()`.
    pub fn bool(&self) -> bool {
        match self.kind {
            Kind::True => true,
            Kind::String => {
                let s = self.text.to_ascii_lowercase();
                s == b"1" || s == b"t" || s == b"true"
            }
            Kind::Number => self.num != 0.0,
            _ => false,
        }
    }

    /// Go's `Int()`.
    pub fn int(&self) -> i64 {
        match self.kind {
            Kind::True => 1,
            Kind::String => {
                let s = String::from_utf8_lossy(&self.text);
                s.parse::<i64>()
                    .unwrap_or_else(|_| s.parse::<f64>().map(f64_to_i64).unwrap_or(0))
            }
            Kind::Number => {
                if self.num.abs() <= 9_007_199_254_740_991.0 {
                    return self.num as i64;
                }
                std::str::from_utf8(&self.raw)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or_else(|| f64_to_i64(self.num))
            }
            _ => 0,
        }
    }

    /// `Result.Get(path)`: the path applied to this result's raw text.
    pub fn get(&self, path: &[u8]) -> Res<'static> {
        super::eval::get(&self.raw, path).into_owned()
    }

    /// Go's `ForEach`: each (key, value) of an object, each (empty key,
    /// value) of an array, or the value itself for a scalar.
    pub fn for_each(&self, mut f: impl FnMut(Res<'_>, Res<'_>) -> bool) {
        if !self.exists() {
            return;
        }
        if self.kind != Kind::Json {
            f(Res::default(), self.clone());
            return;
        }
        let json: &[u8] = &self.raw;
        let mut i = 0;
        let mut object = false;
        while i < json.len() {
            match json[i] {
                b'{' => {
                    object = true;
                    i += 1;
                    break;
                }
                b'[' => {
                    i += 1;
                    break;
                }
                c if c > b' ' => return,
                _ => i += 1,
            }
        }
        while i < json.len() {
            let mut key = Res::default();
            if object {
                if json[i] != b'"' {
                    i += 1;
                    continue;
                }
                let (next, raw, escaped, ok) = parse_string(json, i + 1);
                if !ok {
                    return;
                }
                i = next;
                key = Res::of_string(raw, escaped);
            }
            while i < json.len() && (json[i] <= b' ' || json[i] == b',' || json[i] == b':') {
                i += 1;
            }
            let (next, value, ok) = parse_any(json, i, true);
            if !ok {
                return;
            }
            i = next;
            if !f(key, value) {
                return;
            }
            i += 1;
        }
    }
}

fn f64_to_i64(f: f64) -> i64 {
    // Rust's `as` saturates as Go's f2i does.
    f as i64
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
pub fn format_float(f: f64) -> String {
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if f.is_nan() {
        return "NaN".into();
    }
    format!("{f}")
}

/// Go's `strconv.ParseFloat` as GJSON uses it: 0 for what is not a number.
pub fn parse_float(raw: &[u8]) -> f64 {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// `Parse`: the first value of `json`. Arrays and objects take the rest of
/// the text from their opening bracket (trailing whitespace included).
pub fn parse(json: &[u8]) -> Res<'_> {
    for (i, &c) in json.iter().enumerate() {
        if c == b'{' || c == b'[' {
            return Res::of_json(&json[i..]);
        }
        if c <= b' ' {
            continue;
        }
        let rest = &json[i..];
        return match c {
            b'+' | b'-' | b'0'..=b'9' | b'i' | b'I' | b'N' => number(rest),
            b'n' if rest.len() > 1 && rest[1] != b'u' => number(rest),
            b'n' => literal(Kind::Null, rest),
            b't' => literal(Kind::True, rest),
            b'f' => literal(Kind::False, rest),
            b'"' => {
                let (raw, text) = tostr(rest);
                Res {
                    kind: Kind::String,
                    raw: Cow::Borrowed(raw),
                    text,
                    num: 0.0,
                }
            }
            _ => Res::default(),
        };
    }
    Res::default()
}

fn number(json: &[u8]) -> Res<'_> {
    Res::of_number(tonum(json))
}

fn literal(kind: Kind, json: &[u8]) -> Res<'_> {
    Res {
        kind,
        raw: Cow::Borrowed(tolit(json)),
        ..Res::default()
    }
}

/// A number's text at the start of `json`: up to whitespace, `,`, `]` or `}`.
fn tonum(json: &[u8]) -> &[u8] {
    for i in 1..json.len() {
        let c = json[i];
        if (c <= b'-' && (c <= b' ' || c == b',')) || c == b']' || c == b'}' {
            return &json[..i];
        }
    }
    json
}

/// A literal's text at the start of `json`: lowercase letters.
fn tolit(json: &[u8]) -> &[u8] {
    let end = json
        .iter()
        .skip(1)
        .position(|c| !c.is_ascii_lowercase())
        .map_or(json.len(), |p| p + 1);
    &json[..end]
}

/// A string literal at the start of `json` (a `"`): its raw text and decoded value.
pub fn tostr(json: &[u8]) -> (&[u8], Cow<'_, [u8]>) {
    let mut i = 1;
    while i < json.len() {
        let c = json[i];
        if c > b'\\' {
            i += 1;
            continue;
        }
        if c == b'"' {
            return (&json[..i + 1], Cow::Borrowed(&json[1..i]));
        }
        if c == b'\\' {
            i += 1;
            while i < json.len() {
                if json[i] == b'"' && !escaped_quote(json, i, 1) {
                    return (
                        &json[..i + 1],
                        Cow::Owned(crate::json::unescape(&json[1..i])),
                    );
                }
                i += 1;
            }
            return (json, Cow::Owned(crate::json::unescape(&json[1..])));
        }
        i += 1;
    }
    (json, Cow::Borrowed(&json[1.min(json.len())..]))
}

/// Whether the quote at `i` is escaped: an odd run of backslashes before
/// it, counted down to index `floor`.
pub fn escaped_quote(json: &[u8], i: usize, floor: usize) -> bool {
    json[floor.min(i)..i]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count()
        % 2
        == 1
}

/// A string from just after its opening quote at `i`: (index after it,
/// raw text with quotes, whether it has escapes, whether it was closed).
pub fn parse_string(json: &[u8], i: usize) -> (usize, &[u8], bool, bool) {
    let s = i;
    let mut i = i;
    let mut escaped = false;
    while i < json.len() {
        match json[i] {
            b'"' if !escaped || !escaped_quote(json, i, 1) => {
                return (i + 1, &json[s - 1..i + 1], escaped, true);
            }
            b'\\' => {
                escaped = true;
                i += 1;
            }
            _ => i += 1,
        }
    }
    (i, &json[s - 1..], false, false)
}

/// The index of the quote closing a string whose text starts at `from`
/// (the length of `json` when it is not closed).
fn closing_quote(json: &[u8], from: usize) -> usize {
    (from..json.len())
        .find(|&i| json[i] == b'"' && !escaped_quote(json, i, from))
        .unwrap_or(json.len())
}

/// A number from `i`: (index after it, its text), up to whitespace, `,`,
/// `]` or `}`.
pub fn parse_number(json: &[u8], i: usize) -> (usize, &[u8]) {
    scan_from(json, i, |c| c <= b' ' || matches!(c, b',' | b']' | b'}'))
}

/// A literal from `i`: (index after it, its text), its lowercase letters.
pub fn parse_literal(json: &[u8], i: usize) -> (usize, &[u8]) {
    scan_from(json, i, |c| !c.is_ascii_lowercase())
}

/// The run from `i` (its first byte whatever it is) up to a byte that `stop`s it.
fn scan_from(json: &[u8], i: usize, stop: impl Fn(u8) -> bool) -> (usize, &[u8]) {
    let s = i.min(json.len());
    let end = (i + 1..json.len())
        .find(|&j| stop(json[j]))
        .unwrap_or(json.len())
        .max(s);
    (end, &json[s..end])
}

/// An array or object (or a `(`...`)` group) from its opening bracket at
/// `i`: (index after it, its text); the rest of the input when unclosed.
pub fn parse_squash(json: &[u8], i: usize) -> (usize, &[u8]) {
    let s = i;
    let mut i = i + 1;
    let mut depth = 1i32;
    while i < json.len() {
        match json[i] {
            b'"' => {
                i = closing_quote(json, i + 1);
            }
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return (i + 1, &json[s..i + 1]);
                }
            }
            _ => {}
        }
        i += 1;
    }
    (i.min(json.len()), &json[s..])
}

/// `squash`: the value at the start of `json` (a string, or a bracketed
/// group counting `()`, `[]` and `{}`), or all of `json` when unclosed.
pub fn squash(json: &[u8]) -> &[u8] {
    if json.is_empty() {
        return json;
    }
    let (mut i, mut depth) = if json[0] == b'"' { (0, 0) } else { (1, 1) };
    while i < json.len() {
        match json[i] {
            b'"' => {
                i = closing_quote(json, i + 1);
                if depth == 0 {
                    return if i >= json.len() {
                        json
                    } else {
                        &json[..i + 1]
                    };
                }
            }
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => {
                depth -= 1;
                if depth == 0 {
                    return &json[..i + 1];
                }
            }
            _ => {}
        }
        i += 1;
    }
    json
}

/// The value at or after `i`: (index after it, the value, whether one was found).
pub fn parse_any(json: &[u8], mut i: usize, hit: bool) -> (usize, Res<'_>, bool) {
    while i < json.len() {
        let c = json[i];
        if c == b'{' || c == b'[' {
            let (next, val) = parse_squash(json, i);
            let res = if hit {
                Res::of_json(val)
            } else {
                Res::default()
            };
            return (next, res, true);
        }
        if c <= b' ' {
            i += 1;
            continue;
        }
        let num = match c {
            b'"' => {
                let (next, raw, escaped, ok) = parse_string(json, i + 1);
                if !ok {
                    return (next, Res::default(), false);
                }
                let res = if hit {
                    Res::of_string(raw, escaped)
                } else {
                    Res::default()
                };
                return (next, res, true);
            }
            b'n' if i + 1 < json.len() && json[i + 1] != b'u' => true,
            b'n' | b't' | b'f' => {
                let (next, val) = parse_literal(json, i);
                let mut res = Res::default();
                if hit {
                    res.raw = Cow::Borrowed(val);
                    res.kind = match c {
                        b't' => Kind::True,
                        b'f' => Kind::False,
                        _ => Kind::Null,
                    };
                }
                return (next, res, true);
            }
            b'+' | b'-' | b'0'..=b'9' | b'i' | b'I' | b'N' => true,
            _ => false,
        };
        if num {
            let (next, val) = parse_number(json, i);
            let res = if hit {
                Res::of_number(val)
            } else {
                Res::default()
            };
            return (next, res, true);
        }
        i += 1;
    }
    (i, Res::default(), false)
}

/// Go's `Valid`: one JSON value with optional whitespace around it (bytes
/// of strings are not checked as UTF-8).
pub fn valid(json: &[u8]) -> bool {
    crate::json::validate(json).is_ok()
}

/// `AppendJSONString`: `s` as a JSON string literal, escaping control
/// characters, `<`, `>`, `&`, U+2028 and U+2029, and replacing invalid UTF-8.
pub fn append_json_string(dst: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hex4 = |dst: &mut Vec<u8>, x: u32| {
        dst.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            dst.push(HEX[((x >> shift) & 0xF) as usize]);
        }
    };
    dst.push(b'"');
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match c {
            b'\x08' => dst.extend_from_slice(b"\\b"),
            b'\x0c' => dst.extend_from_slice(b"\\f"),
            b'\n' => dst.extend_from_slice(b"\\n"),
            b'\r' => dst.extend_from_slice(b"\\r"),
            b'\t' => dst.extend_from_slice(b"\\t"),
            0..=0x1f | b'<' | b'>' | b'&' => hex4(dst, c as u32),
            b'\\' => dst.extend_from_slice(b"\\\\"),
            b'"' => dst.extend_from_slice(b"\\\""),
            0x80.. => {
                let len = utf8_len(&s[i..]);
                match std::str::from_utf8(&s[i..i + len])
                    .ok()
                    .and_then(|t| t.chars().next())
                {
                    Some(ch @ ('\u{2028}' | '\u{2029}')) => hex4(dst, ch as u32),
                    Some(_) => dst.extend_from_slice(&s[i..i + len]),
                    None => dst.extend_from_slice("\u{FFFD}".as_bytes()),
                }
                i += len;
                continue;
            }
            _ => dst.push(c),
        }
        i += 1;
    }
    dst.push(b'"');
}

/// The length of the UTF-8 sequence at the start of `s` (1 when invalid).
fn utf8_len(s: &[u8]) -> usize {
    let want = match s[0] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return 1,
    };
    if s.len() >= want && std::str::from_utf8(&s[..want]).is_ok() {
        want
    } else {
        1
    }
}

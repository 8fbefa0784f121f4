//! The official CLI's JSON layout (tidwall/pretty 1.2, which its `json`
//! format and GJSON's `@pretty`/`@ugly` use), over raw bytes: one member
//! per line, two-space indent, `"key": value`, and an array kept on one
//! line (`[1, 2]`) when it holds no object and fits the width (80 bytes
//! from the line start, counted in bytes). Strings and numbers are copied
//! as they are; whitespace between tokens is dropped and laid out anew.
//! The scanner is as lenient as the original on text that is not JSON (a
//! `--transform` literal such as `!nan` can produce some), so the bytes
//! match there too.

use std::cmp::Ordering;

/// Layout options (`@pretty:{...}` sets them; [`DEFAULT`] elsewhere).
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Longest one-line array, counted from the start of its line.
    pub width: i64,
    /// Written at the start of every line.
    pub prefix: String,
    /// One level of indentation.
    pub indent: String,
    /// Objects' members sorted by key (then by value).
    pub sort_keys: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            width: 80,
            prefix: String::new(),
            indent: "  ".into(),
            sort_keys: false,
        }
    }
}

/// `json` laid out with the default options, ending in a newline (nothing
/// for an empty input).
pub fn pretty(json: &[u8]) -> Vec<u8> {
    pretty_options(json, &Options::default())
}

/// `json` laid out with `opts`, ending in a newline (nothing for an empty input).
pub fn pretty_options(json: &[u8], opts: &Options) -> Vec<u8> {
    let mut p = Layout {
        json,
        buf: Vec::with_capacity(json.len() + json.len() / 4),
        width: opts.width,
        prefix: opts.prefix.as_bytes(),
        indent: opts.indent.as_bytes(),
        limit: usize::MAX,
    };
    p.buf.extend_from_slice(p.prefix);
    p.any(0, true, opts.sort_keys, 0, 0, -1);
    let mut buf = p.buf;
    if !buf.is_empty() {
        buf.push(b'\n');
    }
    buf
}

/// `json` without the whitespace outside strings (`@ugly`, the `jsonl` format).
pub fn ugly(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let mut i = 0;
    while i < json.len() {
        let c = json[i];
        if c > b' ' {
            out.push(c);
            if c == b'"' {
                i += 1;
                while i < json.len() {
                    out.push(json[i]);
                    if json[i] == b'"' && backslashes_before(json, i, 0).is_multiple_of(2) {
                        break;
                    }
                    i += 1;
                }
            }
        }
        i += 1;
    }
    out
}

/// Consecutive backslashes just before `i`, not looking at or before `floor`.
fn backslashes_before(json: &[u8], i: usize, floor: usize) -> usize {
    json[floor..i]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count()
}

fn nan_or_inf(src: &[u8]) -> bool {
    matches!(src.first(), Some(b'i' | b'I' | b'+' | b'N'))
        || (src.first() == Some(&b'n') && src.len() > 1 && src[1] != b'u')
}

/// One member's place while an object is laid out with sorted keys.
#[derive(Clone, Copy)]
struct Pair {
    key_start: usize,
    key_end: usize,
    value_start: usize,
    value_end: usize,
}

struct Layout<'a> {
    json: &'a [u8],
    buf: Vec<u8>,
    width: i64,
    prefix: &'a [u8],
    indent: &'a [u8],
    /// While trying an array on one line: the output length past which the
    /// try has failed (stopping there gives the same layout sooner).
    limit: usize,
}

/// Where a value ended: the next input index, the last newline's output
/// index, and whether a one-line try may go on.
type Step = (usize, usize, bool);

impl Layout<'_> {
    #[allow(clippy::too_many_arguments)]
    fn any(
        &mut self,
        mut i: usize,
        pretty: bool,
        sort: bool,
        tabs: usize,
        nl: usize,
        max: i64,
    ) -> Step {
        let json = self.json;
        while i < json.len() {
            let c = json[i];
            if c <= b' ' {
                i += 1;
                continue;
            }
            if c == b'"' {
                return (self.string(i), nl, true);
            }
            if c.is_ascii_digit() || c == b'-' || nan_or_inf(&json[i..]) {
                return (self.number(i), nl, true);
            }
            if c == b'{' || c == b'[' {
                return self.container(i, c, pretty, sort, tabs, nl, max);
            }
            let word: &[u8] = match c {
                b't' => b"true",
                b'f' => b"false",
                b'n' => b"null",
                _ => {
                    i += 1;
                    continue;
                }
            };
            self.buf.extend_from_slice(word);
            return (i + word.len(), nl, true);
        }
        (i, nl, true)
    }

    fn string(&mut self, s: usize) -> usize {
        let json = self.json;
        let mut i = s + 1;
        while i < json.len() {
            if json[i] == b'"' && backslashes_before(json, i, s + 1).is_multiple_of(2) {
                i += 1;
                break;
            }
            i += 1;
        }
        let end = i.min(json.len());
        self.buf.extend_from_slice(&json[s..end]);
        end
    }

    fn number(&mut self, s: usize) -> usize {
        let json = self.json;
        let mut i = s + 1;
        while i < json.len() && !(json[i] <= b' ' || matches!(json[i], b',' | b':' | b']' | b'}')) {
            i += 1;
        }
        let end = i.min(json.len());
        self.buf.extend_from_slice(&json[s..end]);
        end
    }

    fn tabs(&mut self, tabs: usize) {
        self.buf.extend_from_slice(self.prefix);
        for _ in 0..tabs {
            self.buf.extend_from_slice(self.indent);
        }
    }

    /// A newline, replacing a trailing space (the one after an array's comma).
    fn newline(&mut self) -> usize {
        let nl = self.buf.len();
        if self.buf.last() == Some(&b' ') {
            self.buf[nl - 1] = b'\n';
        } else {
            self.buf.push(b'\n');
        }
        nl
    }

    #[allow(clippy::too_many_arguments)]
    fn container(
        &mut self,
        mut i: usize,
        open: u8,
        pretty: bool,
        mut sort: bool,
        tabs: usize,
        mut nl: usize,
        max: i64,
    ) -> Step {
        let close = if open == b'{' { b'}' } else { b']' };
        if self.width > 0 {
            if pretty && open == b'[' && max == -1 {
                // Try the array on one line.
                let room = self.width - (self.buf.len() - nl) as i64;
                if room > 3 {
                    let (s1, s2) = (self.buf.len(), i);
                    self.limit = s1 + room as usize;
                    let (end, _, ok) = self.container(i, b'[', false, sort, 0, 0, room);
                    self.limit = usize::MAX;
                    if ok && self.buf.len() - s1 <= room as usize {
                        return (end, nl, true);
                    }
                    self.buf.truncate(s1);
                    i = s2;
                }
            } else if max != -1 && open == b'{' {
                return (i, nl, false);
            }
        }
        self.buf.push(open);
        i += 1;
        let mut pairs: Vec<Pair> = Vec::new();
        let mut n = 0usize;
        let json = self.json;
        while i < json.len() {
            let c = json[i];
            if c <= b' ' {
                i += 1;
                continue;
            }
            if c == close {
                if pretty {
                    if open == b'{' && sort {
                        self.sort_pairs(&pairs);
                    }
                    if n > 0 {
                        nl = self.newline();
                    }
                    if self.buf.last() != Some(&open) {
                        self.tabs(tabs);
                    }
                }
                self.buf.push(close);
                return (i + 1, nl, open != b'{');
            }
            if open == b'[' || c == b'"' {
                if n > 0 {
                    self.buf.push(b',');
                    if self.width != -1 && open == b'[' {
                        self.buf.push(b' ');
                    }
                }
                let mut p = Pair {
                    key_start: 0,
                    key_end: 0,
                    value_start: 0,
                    value_end: 0,
                };
                if pretty {
                    nl = self.newline();
                    if open == b'{' && sort {
                        p.key_start = i;
                        p.value_start = self.buf.len();
                    }
                    self.tabs(tabs + 1);
                }
                if open == b'{' {
                    i = self.string(i);
                    if sort {
                        p.key_end = i;
                    }
                    self.buf.push(b':');
                    if pretty {
                        self.buf.push(b' ');
                    }
                }
                let (next, newnl, ok) = self.any(i, pretty, sort, tabs + 1, nl, max);
                i = next;
                nl = newnl;
                if max != -1 && (!ok || self.buf.len() > self.limit) {
                    return (i, nl, false);
                }
                if pretty && open == b'{' && sort {
                    p.value_end = self.buf.len();
                    if p.key_start > p.key_end || p.value_start > p.value_end {
                        sort = false;
                    } else {
                        pairs.push(p);
                    }
                }
                n += 1;
                continue;
            }
            i += 1;
        }
        (i, nl, open != b'{')
    }

    /// Reorders the members just written (`pairs`, in output order) by key,
    /// then by value, keeping equal ones in place.
    fn sort_pairs(&mut self, pairs: &[Pair]) {
        let (Some(first), Some(last)) = (pairs.first(), pairs.last()) else {
            return;
        };
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.sort_by(|&a, &b| self.compare(&pairs[a], &pairs[b]));
        if order.iter().enumerate().all(|(i, &o)| i == o) {
            return;
        }
        let mut out = Vec::with_capacity(last.value_end - first.value_start);
        for (n, &o) in order.iter().enumerate() {
            out.extend_from_slice(&self.buf[pairs[o].value_start..pairs[o].value_end]);
            if n + 1 < order.len() {
                out.extend_from_slice(b",\n");
            }
        }
        self.buf.truncate(first.value_start);
        self.buf.extend_from_slice(&out);
    }

    fn compare(&self, a: &Pair, b: &Pair) -> Ordering {
        let ka = &self.json[a.key_start..a.key_end];
        let kb = &self.json[b.key_start..b.key_end];
        match compare_json(ka, kb) {
            Ordering::Equal => compare_json(self.member_value(a, ka), self.member_value(b, kb)),
            o => o,
        }
    }

    /// The value text of a member as written out (indent, key and colon cut).
    fn member_value(&self, p: &Pair, key: &[u8]) -> &[u8] {
        let v = self.buf[p.value_start..p.value_end].trim_ascii();
        if v.len() > key.len() {
            v[key.len() + 1..].trim_ascii()
        } else {
            v
        }
    }
}

/// Orders two JSON texts by type (null, false, number, string, true, then
/// arrays and objects), numbers by value, strings by their characters,
/// the rest by bytes.
fn compare_json(a: &[u8], b: &[u8]) -> Ordering {
    fn rank(v: &[u8]) -> u8 {
        match v.first() {
            None | Some(b'n') => 0,
            Some(b'f') => 1,
            Some(b'"') => 3,
            Some(b't') => 4,
            Some(b'[' | b'{') => 5,
            Some(_) => 2,
        }
    }
    match rank(a).cmp(&rank(b)) {
        Ordering::Equal => {}
        o => return o,
    }
    match rank(a) {
        3 => string_content(a).cmp(&string_content(b)),
        2 => {
            let n = |v: &[u8]| -> f64 {
                std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0.0)
            };
            n(a).partial_cmp(&n(b)).unwrap_or(Ordering::Equal)
        }
        _ => a.cmp(b),
    }
}

/// The characters of a string literal (escapes decoded when there are any).
fn string_content(s: &[u8]) -> Vec<u8> {
    for i in 1..s.len() {
        match s[i] {
            b'\\' => return crate::json::unescape(&s[1..s.len().saturating_sub(1).max(1)]),
            b'"' => return s[1..i].to_vec(),
            _ => {}
        }
    }
    Vec::new()
}

#[cfg(test)]
#[path = "pretty_tests.rs"]
mod tests;

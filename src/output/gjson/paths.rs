//! Reading GJSON paths: the component on an object or an array (key,
//! index, `#`, query), where a pipe starts, a query's parts and how it
//! compares, and the selectors of a multipath.

use std::borrow::Cow;

use super::modifiers::is_modifier;
use super::value::{Kind, Res, squash};
use super::wildcard::match_limit;

/// A component on an object: the key (unescaped), what follows.
pub(super) struct ObjectPath<'p> {
    pub(super) part: Cow<'p, [u8]>,
    pub(super) path: &'p [u8],
    pub(super) pipe: &'p [u8],
    pub(super) piped: bool,
    pub(super) wild: bool,
    pub(super) more: bool,
}

pub(super) fn parse_object_path(path: &[u8]) -> ObjectPath<'_> {
    let mut r = ObjectPath {
        part: Cow::Borrowed(path),
        path: b"",
        pipe: b"",
        piped: false,
        wild: false,
        more: false,
    };
    let mut i = 0;
    while i < path.len() {
        match path[i] {
            b'|' => {
                r.part = Cow::Borrowed(&path[..i]);
                r.pipe = &path[i + 1..];
                r.piped = true;
                return r;
            }
            b'.' => {
                r.part = Cow::Borrowed(&path[..i]);
                dot(&mut r, path, i);
                return r;
            }
            b'*' | b'?' => r.wild = true,
            b'\\' => {
                // The slower path: escapes are taken out of the key.
                let mut epart = path[..i].to_vec();
                i += 1;
                if i < path.len() {
                    epart.push(path[i]);
                    i += 1;
                    while i < path.len() {
                        match path[i] {
                            b'\\' => {
                                i += 1;
                                if i < path.len() {
                                    epart.push(path[i]);
                                }
                                i += 1;
                                continue;
                            }
                            b'.' => {
                                r.part = Cow::Owned(epart);
                                dot(&mut r, path, i);
                                return r;
                            }
                            b'|' => {
                                r.part = Cow::Owned(epart);
                                r.pipe = &path[i + 1..];
                                r.piped = true;
                                return r;
                            }
                            b'*' | b'?' => r.wild = true,
                            _ => {}
                        }
                        epart.push(path[i]);
                        i += 1;
                    }
                }
                r.part = Cow::Owned(epart);
                return r;
            }
            _ => {}
        }
        i += 1;
    }
    r
}

/// After a key ending at the `.` at `i`: a pipe when a modifier or a
/// multipath follows, else the rest of the path.
fn dot<'p>(r: &mut ObjectPath<'p>, path: &'p [u8], i: usize) {
    if i < path.len() - 1 && is_dot_piper(&path[i + 1..]) {
        r.pipe = &path[i + 1..];
        r.piped = true;
    } else {
        r.path = &path[i + 1..];
        r.more = true;
    }
}

/// Whether `.`+`s` acts as a pipe: `s` starts a modifier or a multipath.
fn is_dot_piper(s: &[u8]) -> bool {
    match s.first() {
        Some(b'@') => {
            let end = s
                .iter()
                .skip(1)
                .position(|&c| matches!(c, b'.' | b'|' | b':'))
                .map_or(s.len(), |p| p + 1);
            is_modifier(&s[1..end])
        }
        Some(b'[' | b'{') => true,
        _ => false,
    }
}

/// A query `#(path op value)`, `#(path)` or `#(op value)`.
#[derive(Default)]
pub(super) struct Query<'p> {
    pub(super) on: bool,
    /// `#(...)#`: every match, not the first.
    pub(super) all: bool,
    pub(super) path: &'p [u8],
    pub(super) op: &'p [u8],
    pub(super) value: Cow<'p, [u8]>,
    num: Option<f64>,
}

/// A component on an array: an index, `#`, `#.key` or a query.
#[derive(Default)]
pub(super) struct ArrayPath<'p> {
    pub(super) part: &'p [u8],
    pub(super) path: &'p [u8],
    pub(super) pipe: &'p [u8],
    pub(super) piped: bool,
    pub(super) more: bool,
    /// `#.key`: the key of each element.
    pub(super) alogok: bool,
    pub(super) arrch: bool,
    pub(super) alogkey: &'p [u8],
    pub(super) query: Query<'p>,
}

pub(super) fn parse_array_path(path: &[u8]) -> ArrayPath<'_> {
    let mut r = ArrayPath::default();
    let mut i = 0;
    while i < path.len() {
        match path[i] {
            b'|' => {
                r.part = &path[..i];
                r.pipe = &path[i + 1..];
                r.piped = true;
                return r;
            }
            b'.' => {
                r.part = &path[..i];
                if !r.arrch && i < path.len() - 1 && is_dot_piper(&path[i + 1..]) {
                    r.pipe = &path[i + 1..];
                    r.piped = true;
                } else {
                    r.path = &path[i + 1..];
                    r.more = true;
                }
                return r;
            }
            b'#' => {
                r.arrch = true;
                if i == 0 && path.len() > 1 {
                    if path[1] == b'.' {
                        r.alogok = true;
                        r.alogkey = &path[2..];
                        r.path = &path[..1];
                    } else if path[1] == b'[' || path[1] == b'(' {
                        r.query.on = true;
                        let Some(q) = parse_query(&path[i..]) else {
                            break;
                        };
                        let mut value: Cow<'_, [u8]> = Cow::Borrowed(q.value);
                        if q.value.len() >= 2
                            && q.value[0] == b'"'
                            && q.value[q.value.len() - 1] == b'"'
                        {
                            let inner = &q.value[1..q.value.len() - 1];
                            value = match q.escaped {
                                true => Cow::Owned(crate::json::unescape(inner)),
                                false => Cow::Borrowed(inner),
                            };
                        }
                        r.query.path = q.path;
                        r.query.op = q.op;
                        r.query.value = value;
                        i = q.end - 1;
                        if path.get(i + 1) == Some(&b'#') {
                            r.query.all = true;
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    r.part = path;
    r.path = b"";
    r
}

/// The parts of a query at the start of a path component (`#(` or `#[`).
struct QueryParts<'p> {
    path: &'p [u8],
    op: &'p [u8],
    value: &'p [u8],
    /// Index just after the closing bracket.
    end: usize,
    escaped: bool,
}

fn parse_query(query: &[u8]) -> Option<QueryParts<'_>> {
    if query.len() < 2 || query[0] != b'#' || (query[1] != b'(' && query[1] != b'[') {
        return None;
    }
    let (mut i, mut j, mut depth) = (2, 0, 1);
    let mut escaped = false;
    while i < query.len() {
        if depth == 1 && j == 0 && matches!(query[i], b'!' | b'=' | b'<' | b'>' | b'%') {
            j = i;
            i += 1;
            continue;
        }
        match query[i] {
            b'\\' => i += 1,
            b'[' | b'(' => depth += 1,
            b']' | b')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            b'"' => {
                i += 1;
                while i < query.len() {
                    if query[i] == b'\\' {
                        escaped = true;
                        i += 1;
                    } else if query[i] == b'"' {
                        break;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth > 0 {
        return None;
    }
    let (path, op, value) = if j > 0 {
        let path = trim(&query[2..j]);
        let mut value = trim(&query[j..i]);
        let two = |a: u8, b: u8| value.len() >= 2 && value[0] == a && value[1] == b;
        let opsz = if value.len() == 1 {
            1
        } else if two(b'!', b'=') || two(b'!', b'%') || two(b'<', b'=') || two(b'>', b'=') {
            2
        } else if two(b'=', b'=') {
            value = &value[1..];
            1
        } else if matches!(value[0], b'<' | b'>' | b'=' | b'%') {
            1
        } else {
            0
        };
        (path, &value[..opsz], trim(&value[opsz..]))
    } else {
        (trim(&query[2..i.min(query.len())]), &b""[..], &b""[..])
    };
    Some(QueryParts {
        path,
        op,
        value,
        end: i + 1,
        escaped,
    })
}

pub(super) fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| c > b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|&c| c > b' ').map_or(start, |p| p + 1);
    &s[start..end]
}

/// Go's `strconv.ParseFloat`-free unsigned parse GJSON uses for indexes:
/// digits only, saturating.
pub(super) fn parse_uint(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add((d - b'0') as u64))
            .unwrap_or(u64::MAX)
    }))
}

fn bool_like(r: &Res<'_>) -> Option<bool> {
    let s = r.text.to_ascii_lowercase();
    match s.as_slice() {
        b"1" | b"t" | b"true" => Some(true),
        b"0" | b"f" | b"false" => Some(false),
        _ => None,
    }
}

/// Whether `value` (what the query path found) satisfies the query.
pub(super) fn query_matches(q: &mut Query<'_>, value: &Res<'_>) -> bool {
    if q.num.is_none() && value.kind == Kind::Number {
        q.num = Some(super::value::parse_float(&q.value));
    }
    let mut rpv: &[u8] = &q.value;
    let mut value = Cow::Borrowed(value);
    if let Some(rest) = rpv.strip_prefix(b"~") {
        let ish = match rest {
            b"*" => Some(value.exists()),
            b"null" => Some(value.kind == Kind::Null),
            b"true" => Some(match value.kind {
                Kind::True => true,
                Kind::String => bool_like(&value) == Some(true),
                Kind::Number => value.num != 0.0,
                _ => false,
            }),
            b"false" => Some(match value.kind {
                Kind::Null | Kind::False => true,
                Kind::String => bool_like(&value) == Some(false),
                Kind::Number => value.num == 0.0,
                _ => false,
            }),
            _ => None,
        };
        let kind = match ish {
            Some(true) => Kind::True,
            Some(false) => Kind::False,
            None => Kind::Null,
        };
        rpv = if ish.is_some() { b"true" } else { b"" };
        value = Cow::Owned(Res {
            kind,
            ..Res::default()
        });
    }
    if !value.exists() {
        return false;
    }
    let op = q.op;
    if op.is_empty() {
        return true;
    }
    match value.kind {
        Kind::String => {
            let s: &[u8] = &value.text;
            match op {
                b"=" => s == rpv,
                b"!=" => s != rpv,
                b"<" => s < rpv,
                b"<=" => s <= rpv,
                b">" => s > rpv,
                b">=" => s >= rpv,
                b"%" => match_limit(s, rpv),
                b"!%" => !match_limit(s, rpv),
                _ => false,
            }
        }
        Kind::Number => {
            let n = q.num.unwrap_or(0.0);
            let v = value.num;
            match op {
                b"=" => v == n,
                b"!=" => v != n,
                b"<" => v < n,
                b"<=" => v <= n,
                b">" => v > n,
                b">=" => v >= n,
                _ => false,
            }
        }
        Kind::True => match op {
            b"=" => rpv == b"true",
            b"!=" => rpv != b"true",
            b">" => rpv == b"false",
            b">=" => true,
            _ => false,
        },
        Kind::False => match op {
            b"=" => rpv == b"false",
            b"!=" => rpv != b"false",
            b"<" => rpv == b"true",
            b"<=" => true,
            _ => false,
        },
        _ => false,
    }
}

/// Splits `path` at its first `|` that is outside a leading multipath and
/// outside queries: (left, right).
pub(super) fn split_possible_pipe(path: &[u8]) -> Option<(&[u8], &[u8])> {
    if !path.contains(&b'|') {
        return None;
    }
    if path[0] == b'{' {
        let squashed = squash(&path[1..]);
        if squashed.len() < path.len() - 1 {
            let squashed = &path[..squashed.len() + 1];
            let remain = &path[squashed.len()..];
            if remain[0] == b'|' {
                return Some((squashed, &remain[1..]));
            }
        }
        return None;
    }
    let mut i = 0;
    while i < path.len() {
        match path[i] {
            b'\\' => i += 1,
            b'.' => {
                if i == path.len() - 1 {
                    return None;
                }
                if path[i + 1] == b'#' {
                    i += 2;
                    if i == path.len() {
                        return None;
                    }
                    if path[i] == b'[' || path[i] == b'(' {
                        let (start, end) = if path[i] == b'[' {
                            (b'[', b']')
                        } else {
                            (b'(', b')')
                        };
                        i += 1;
                        let mut depth = 1;
                        while i < path.len() {
                            if path[i] == b'\\' {
                                i += 1;
                            } else if path[i] == start {
                                depth += 1;
                            } else if path[i] == end {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            } else if path[i] == b'"' {
                                i += 1;
                                while i < path.len() {
                                    if path[i] == b'\\' {
                                        i += 1;
                                    } else if path[i] == b'"' {
                                        break;
                                    }
                                    i += 1;
                                }
                            }
                            i += 1;
                        }
                    }
                }
            }
            b'|' => return Some((&path[..i], &path[i + 1..])),
            _ => {}
        }
        i += 1;
    }
    None
}

/// One selector of a multipath: `path` or `name:path`.
pub(super) struct Selector<'p> {
    pub(super) name: &'p [u8],
    pub(super) path: &'p [u8],
}

/// The selectors of the multipath at the start of `path` and the text after
/// its closing bracket; `None` when it is not closed.
pub(super) fn parse_sub_selectors<'a>(path: &'a [u8]) -> Option<(Vec<Selector<'a>>, &'a [u8])> {
    let mut sels = Vec::new();
    let (mut modifier, mut depth, mut colon, mut start) = (0usize, 1, 0usize, 1usize);
    let mut i = 1;
    let push = |sels: &mut Vec<Selector<'a>>, start: usize, colon: usize, i: usize| {
        sels.push(if colon == 0 {
            Selector {
                name: b"",
                path: &path[start..i],
            }
        } else {
            Selector {
                name: &path[start..colon],
                path: &path[colon + 1..i],
            }
        });
    };
    while i < path.len() {
        match path[i] {
            b'\\' => i += 1,
            b'@' if modifier == 0 && i > 0 && (path[i - 1] == b'.' || path[i - 1] == b'|') => {
                modifier = i;
            }
            b':' if modifier == 0 && colon == 0 && depth == 1 => colon = i,
            b',' if depth == 1 => {
                push(&mut sels, start, colon, i);
                colon = 0;
                modifier = 0;
                start = i + 1;
            }
            b'"' => {
                i += 1;
                while i < path.len() {
                    match path[i] {
                        b'\\' => i += 1,
                        b'"' => break,
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'[' | b'(' | b'{' => depth += 1,
            b']' | b')' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    push(&mut sels, start, colon, i);
                    return Some((sels, &path[i + 1..]));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The last component of a path (after its last unescaped `.` or `|`).
pub(super) fn name_of_last(path: &[u8]) -> &[u8] {
    for i in (0..path.len()).rev() {
        if (path[i] == b'|' || path[i] == b'.') && !(i > 0 && path[i - 1] == b'\\') {
            return &path[i + 1..];
        }
    }
    path
}

/// Whether a component can name a multipath member as it is.
pub(super) fn is_simple_name(component: &[u8]) -> bool {
    component
        .iter()
        .all(|&c| c >= b' ' && !b"[]{}()#|!".contains(&c))
}

//! GJSON's `Get`: a path walked over raw JSON text, component by component
//! (keys with `*`/`?` wildcards and `\` escapes, array indexes, `#`
//! counts and `#.key` collections, `#(...)` and `#(...)#` queries, `|`
//! and `.` pipes, `..` JSON Lines), plus multipaths (`{a,"k":b}`,
//! `[a,b]`) and the `@modifier`/`!literal` components of `super::modifiers`.

use std::borrow::Cow;

use super::modifiers::{exec_modifier, exec_static};
use super::paths::{
    ArrayPath, Selector, is_simple_name, name_of_last, parse_array_path, parse_object_path,
    parse_sub_selectors, parse_uint, query_matches, split_possible_pipe,
};
use super::value::{
    Kind, Res, append_json_string, escaped_quote, parse, parse_any, parse_literal, parse_number,
    parse_squash, parse_string, valid,
};
use super::wildcard::match_limit;

/// Applies `path` to `json`. The result does not exist when nothing matches.
pub fn get<'j>(json: &'j [u8], path: &[u8]) -> Res<'j> {
    if path.len() > 1 {
        if path[0] == b'@' || path[0] == b'!' {
            let done = if path[0] == b'@' {
                exec_modifier(json, path)
            } else {
                exec_static(path)
            };
            if let Some((rest, rjson)) = done {
                if rest.first().is_some_and(|&c| c == b'|' || c == b'.') {
                    return get(&rjson, &rest[1..]).into_owned();
                }
                return parse(&rjson).into_owned();
            }
        }
        if (path[0] == b'[' || path[0] == b'{')
            && let Some((subs, rest)) = parse_sub_selectors(path)
            && (rest.is_empty() || rest[0] == b'|' || rest[0] == b'.')
        {
            let res = multipath(json, path[0], &subs);
            return match rest.is_empty() {
                true => res,
                false => res.get(&rest[1..]),
            };
        }
    }
    let mut c = Ctx {
        json,
        pipe: b"",
        piped: false,
        value: Res::default(),
    };
    if path.len() >= 2 && path[0] == b'.' && path[1] == b'.' {
        parse_array(&mut c, 0, &path[2..]);
    } else if let Some(i) = json.iter().position(|&b| b == b'{' || b == b'[') {
        if json[i] == b'{' {
            parse_object(&mut c, i + 1, path);
        } else {
            parse_array(&mut c, i + 1, path);
        }
    }
    if c.piped {
        return c.value.get(c.pipe);
    }
    c.value
}

/// A new object or array of what each selector finds (missing ones left out).
fn multipath<'j>(json: &'j [u8], kind: u8, subs: &[Selector<'_>]) -> Res<'j> {
    let mut b = vec![kind];
    let mut n = 0;
    for sub in subs {
        let res = get(json, sub.path);
        if !res.exists() {
            continue;
        }
        if n > 0 {
            b.push(b',');
        }
        if kind == b'{' {
            if !sub.name.is_empty() {
                if sub.name[0] == b'"' && valid(sub.name) {
                    b.extend_from_slice(sub.name);
                } else {
                    append_json_string(&mut b, sub.name);
                }
            } else {
                let last = name_of_last(sub.path);
                append_json_string(&mut b, if is_simple_name(last) { last } else { b"_" });
            }
            b.push(b':');
        }
        if res.raw.is_empty() {
            let s = res.string();
            b.extend_from_slice(if s.is_empty() { b"null" } else { &s });
        } else {
            b.extend_from_slice(&res.raw);
        }
        n += 1;
    }
    b.push(kind + 2);
    Res::of_json(b)
}

/// The walk's state: the input, what was found, and a pipe still to apply.
struct Ctx<'j, 'p> {
    json: &'j [u8],
    pipe: &'p [u8],
    piped: bool,
    value: Res<'j>,
}

fn parse_object<'j, 'p>(c: &mut Ctx<'j, 'p>, mut i: usize, path: &'p [u8]) -> (usize, bool) {
    let rp = parse_object_path(path);
    if !rp.more && rp.piped {
        c.pipe = rp.pipe;
        c.piped = true;
    }
    let json = c.json;
    while i < json.len() {
        // The next key.
        let mut found = None;
        while i < json.len() {
            if json[i] == b'"' {
                i += 1;
                let s = i;
                let mut escaped = false;
                while i < json.len() {
                    match json[i] {
                        b'"' if !escaped || !escaped_quote(json, i, 1) => {
                            found = Some((&json[s..i], escaped));
                            break;
                        }
                        b'\\' => escaped = true,
                        _ => {}
                    }
                    i += 1;
                }
                if found.is_some() {
                    i += 1;
                }
                break;
            }
            if json[i] == b'}' {
                return (i + 1, false);
            }
            i += 1;
        }
        let Some((key, kesc)) = found else {
            return (i, false);
        };
        let key: Cow<'_, [u8]> = match kesc {
            true => Cow::Owned(crate::json::unescape(key)),
            false => Cow::Borrowed(key),
        };
        let pmatch = if rp.wild {
            match_limit(&key, &rp.part)
        } else {
            *rp.part == *key
        };
        let hit = pmatch && !rp.more;
        // Its value.
        while i < json.len() {
            match json[i] {
                open @ (b'{' | b'[') => {
                    if pmatch && !hit {
                        let (next, h) = nested(c, open, i + 1, rp.path);
                        i = next;
                        if h {
                            return (i, true);
                        }
                    } else {
                        let (next, val) = parse_squash(json, i);
                        i = next;
                        if hit {
                            c.value = Res::of_json(val);
                            return (i, true);
                        }
                    }
                }
                _ => match scalar(json, i) {
                    Scalar::Value(next, res) => {
                        i = next;
                        if hit {
                            c.value = res;
                            return (i, true);
                        }
                    }
                    Scalar::Unclosed(next) => return (next, false),
                    Scalar::Other => {
                        i += 1;
                        continue;
                    }
                },
            }
            break;
        }
    }
    (i, false)
}

/// A nested object or array (its opening bracket just before `i`).
fn nested<'j, 'p>(c: &mut Ctx<'j, 'p>, open: u8, i: usize, path: &'p [u8]) -> (usize, bool) {
    if open == b'{' {
        parse_object(c, i, path)
    } else {
        parse_array(c, i, path)
    }
}

/// A string, number or literal at some index.
enum Scalar<'j> {
    /// The value and the index after it.
    Value(usize, Res<'j>),
    /// A string without its closing quote; the index where the input ends.
    Unclosed(usize),
    /// Not the start of a scalar.
    Other,
}

fn scalar(json: &[u8], i: usize) -> Scalar<'_> {
    let c = json[i];
    let number = |i| {
        let (next, val) = parse_number(json, i);
        Scalar::Value(next, Res::of_number(val))
    };
    match c {
        b'"' => match parse_string(json, i + 1) {
            (next, val, escaped, true) => Scalar::Value(next, Res::of_string(val, escaped)),
            (next, ..) => Scalar::Unclosed(next),
        },
        b'n' if i + 1 < json.len() && json[i + 1] != b'u' => number(i),
        b'n' | b't' | b'f' => {
            let (next, val) = parse_literal(json, i);
            let res = Res {
                kind: literal_kind(c),
                raw: Cow::Borrowed(val),
                ..Res::default()
            };
            Scalar::Value(next, res)
        }
        b'+' | b'-' | b'0'..=b'9' | b'i' | b'I' | b'N' => number(i),
        _ => Scalar::Other,
    }
}

fn literal_kind(c: u8) -> Kind {
    match c {
        b't' => Kind::True,
        b'f' => Kind::False,
        _ => Kind::Null,
    }
}

fn parse_array<'j, 'p>(c: &mut Ctx<'j, 'p>, mut i: usize, path: &'p [u8]) -> (usize, bool) {
    let mut rp = parse_array_path(path);
    let partidx = match rp.arrch {
        false => parse_uint(rp.part).map_or(-1, |n| n as i64),
        true => -1,
    };
    if !rp.more && rp.piped {
        c.pipe = rp.pipe;
        c.piped = true;
    }
    let json = c.json;
    let mut multires: Vec<u8> = Vec::new();
    let mut alog: Vec<usize> = Vec::new();
    let (mut h, mut pmatch, mut hit) = (0i64, false, false);
    while i < json.len() + 1 {
        if !rp.arrch {
            pmatch = partidx == h;
            hit = pmatch && !rp.more;
        }
        h += 1;
        if rp.alogok {
            alog.push(i);
        }
        // One element (the end of the input counts as a closing bracket,
        // which makes `..` JSON Lines an array).
        while i <= json.len() {
            let ch = json.get(i).copied().unwrap_or(b']');
            let found = match ch {
                b'{' | b'[' if pmatch && !hit => {
                    let (next, h) = nested(c, ch, i + 1, rp.path);
                    i = next;
                    hit = h;
                    if hit && !rp.alogok {
                        return (i, true);
                    }
                    None
                }
                b'{' | b'[' => {
                    let (next, val) = parse_squash(json, i);
                    i = next;
                    Some(Res::of_json(val))
                }
                b']' => return close(c, &mut rp, i, h, &alog, multires),
                _ => match scalar(json, i) {
                    Scalar::Value(next, res) => {
                        i = next;
                        Some(res)
                    }
                    Scalar::Unclosed(next) => return (next, false),
                    Scalar::Other => {
                        i += 1;
                        continue;
                    }
                },
            };
            if let Some(res) = found {
                if rp.query.on {
                    if query(c, &mut rp, &mut multires, res) {
                        return (i, true);
                    }
                } else if hit && !rp.alogok {
                    c.value = res;
                    return (i, true);
                }
            }
            break;
        }
    }
    (i, false)
}

/// The array's end: a `#` count, the `#.key` collection, or the matches of
/// a `#(...)#` query.
fn close<'j, 'p>(
    c: &mut Ctx<'j, 'p>,
    rp: &mut ArrayPath<'p>,
    i: usize,
    h: i64,
    alog: &[usize],
    mut multires: Vec<u8>,
) -> (usize, bool) {
    let json = c.json;
    if rp.arrch && rp.part == b"#" {
        if rp.alogok {
            if let Some((left, right)) = split_possible_pipe(rp.alogkey) {
                rp.alogkey = left;
                c.pipe = right;
                c.piped = true;
            }
            let mut out = vec![b'['];
            let mut k = 0;
            for &start in alog {
                let mut idx = start;
                while idx < json.len() && matches!(json[idx], b' ' | b'\t' | b'\r' | b'\n') {
                    idx += 1;
                }
                if idx >= json.len() || json[idx] == b']' {
                    continue;
                }
                let (_, elem, ok) = parse_any(json, idx, true);
                if !ok {
                    continue;
                }
                let res = elem.get(rp.alogkey);
                if res.exists() {
                    if k > 0 {
                        out.push(b',');
                    }
                    if res.raw.is_empty() {
                        out.extend_from_slice(&res.string());
                    } else {
                        out.extend_from_slice(&res.raw);
                    }
                    k += 1;
                }
            }
            out.push(b']');
            c.value = Res::of_json(out);
            return (i + 1, true);
        }
        let n = h - 1;
        c.value = Res {
            kind: Kind::Number,
            raw: Cow::Owned(n.to_string().into_bytes()),
            text: Cow::Borrowed(b""),
            num: n as f64,
        };
        return (i + 1, true);
    }
    if !c.value.exists() {
        if !multires.is_empty() {
            multires.push(b']');
            c.value = Res::of_json(multires);
        } else if rp.query.all {
            c.value = Res::of_json(b"[]");
        }
    }
    (i + 1, false)
}

/// One element tested against the query: true when it is the answer (a
/// `#(...)` match); `#(...)#` matches are collected in `multires`.
fn query<'j, 'p>(
    c: &mut Ctx<'j, 'p>,
    rp: &mut ArrayPath<'p>,
    multires: &mut Vec<u8>,
    qval: Res<'j>,
) -> bool {
    if rp.query.all && multires.is_empty() {
        multires.push(b'[');
    }
    let found = if qval.kind == Kind::Json {
        qval.get(rp.query.path)
    } else {
        if !rp.query.path.is_empty() {
            return false;
        }
        qval.clone().into_owned()
    };
    if !query_matches(&mut rp.query, &found) {
        return false;
    }
    let res: Res<'j> = if rp.more {
        if let Some((left, right)) = split_possible_pipe(rp.path) {
            rp.path = left;
            c.pipe = right;
            c.piped = true;
        }
        qval.get(rp.path)
    } else {
        qval
    };
    if !rp.query.all {
        c.value = res;
        return true;
    }
    let raw: Cow<'_, [u8]> = match res.raw.is_empty() {
        true => res.string(),
        false => Cow::Borrowed(&res.raw),
    };
    if !raw.is_empty() {
        if multires.len() > 1 {
            multires.push(b',');
        }
        multires.extend_from_slice(&raw);
    }
    false
}

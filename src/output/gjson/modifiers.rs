//! GJSON 1.18's modifiers (`@this`, `@reverse`, `@pretty`, `@ugly`,
//! `@flatten`, `@join`, `@valid`, `@keys`, `@values`, `@tostr`,
//! `@fromstr`, `@group`, `@dig`) and `!` literals, each producing new
//! JSON text from the current value's raw text.

use std::borrow::Cow;

use super::value::{Res, append_json_string, parse, parse_squash, squash, valid};
use crate::json::pretty;

type Modifier = for<'j> fn(&'j [u8], &[u8]) -> Cow<'j, [u8]>;

const MODIFIERS: [(&str, Modifier); 13] = [
    ("pretty", pretty_mod),
    ("ugly", ugly_mod),
    ("reverse", reverse),
    ("this", this),
    ("flatten", flatten),
    ("join", join),
    ("valid", valid_mod),
    ("keys", keys),
    ("values", values),
    ("tostr", tostr),
    ("fromstr", fromstr),
    ("group", group),
    ("dig", dig),
];

/// The modifier names, in the order the help lists them.
pub const NAMES: [&str; 13] = [
    "this", "reverse", "pretty", "ugly", "flatten", "join", "valid", "keys", "values", "tostr",
    "fromstr", "group", "dig",
];

pub fn is_modifier(name: &[u8]) -> bool {
    MODIFIERS.iter().any(|(n, _)| n.as_bytes() == name)
}

/// Runs the modifier `path` starts with (`@name` or `@name:arg`): the rest
/// of the path and the new JSON text; `None` for an unknown name.
pub fn exec_modifier<'j, 'p>(json: &'j [u8], path: &'p [u8]) -> Option<(&'p [u8], Cow<'j, [u8]>)> {
    let mut name = &path[1..];
    let mut rest: &[u8] = b"";
    let mut has_args = false;
    for i in 1..path.len() {
        match path[i] {
            b':' => {
                rest = &path[i + 1..];
                name = &path[1..i];
                has_args = !rest.is_empty();
                break;
            }
            b'|' | b'.' => {
                rest = &path[i..];
                name = &path[1..i];
                break;
            }
            _ => {}
        }
    }
    let (_, f) = MODIFIERS.iter().find(|(n, _)| n.as_bytes() == name)?;
    let mut args: &[u8] = b"";
    if has_args {
        let mut parsed = false;
        if matches!(rest[0], b'{' | b'[' | b'"') && parse(rest).exists() {
            args = squash(rest);
            rest = &rest[args.len()..];
            parsed = true;
        }
        if !parsed {
            let mut i = 0;
            while i < rest.len() {
                if rest[i] == b'|' {
                    break;
                }
                if matches!(rest[i], b'{' | b'[' | b'"' | b'(') {
                    i += squash(&rest[i..]).len() - 1;
                }
                i += 1;
            }
            let i = i.min(rest.len());
            args = &rest[..i];
            rest = &rest[i..];
        }
    }
    Some((rest, f(json, args)))
}

/// A `!` literal at the start of `path`: the rest of the path and its JSON
/// text; `None` when it is not one.
pub fn exec_static(path: &[u8]) -> Option<(&[u8], Cow<'static, [u8]>)> {
    let mut name = &path[1..];
    if matches!(
        name.first(),
        Some(b'{' | b'[' | b'"' | b'+' | b'-' | b'0'..=b'9')
    ) {
        let (_, res) = parse_squash(name, 0);
        return Some((&name[res.len()..], Cow::Owned(res.to_vec())));
    }
    let mut rest: &[u8] = b"";
    for i in 1..path.len() {
        if path[i] == b'|' || path[i] == b'.' {
            rest = &path[i..];
            name = &path[1..i];
            break;
        }
    }
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_slice(),
        b"true" | b"false" | b"null" | b"nan" | b"inf"
    )
    .then(|| (rest, Cow::Owned(name.to_vec())))
}

fn this<'j>(json: &'j [u8], _: &[u8]) -> Cow<'j, [u8]> {
    Cow::Borrowed(json)
}

/// Only the whitespace characters of `s`.
fn clean_ws(s: &[u8]) -> String {
    s.iter()
        .filter(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        .map(|&c| c as char)
        .collect()
}

fn pretty_mod<'j>(json: &'j [u8], arg: &[u8]) -> Cow<'j, [u8]> {
    let mut opts = pretty::Options::default();
    if !arg.is_empty() {
        parse(arg).for_each(|key, value| {
            match key.string().as_ref() {
                b"sortKeys" => opts.sort_keys = value.bool(),
                b"indent" => opts.indent = clean_ws(&value.string()),
                b"prefix" => opts.prefix = clean_ws(&value.string()),
                b"width" => opts.width = value.int(),
                _ => {}
            }
            true
        });
    }
    Cow::Owned(pretty::pretty_options(json, &opts))
}

fn ugly_mod<'j>(json: &'j [u8], _: &[u8]) -> Cow<'j, [u8]> {
    Cow::Owned(pretty::ugly(json))
}

fn reverse<'j>(json: &'j [u8], _: &[u8]) -> Cow<'j, [u8]> {
    let res = parse(json);
    if res.is_array() {
        let mut values = Vec::new();
        res.for_each(|_, v| {
            values.push(v.raw.into_owned());
            true
        });
        values.reverse();
        return Cow::Owned(bracketed(b'[', values.iter().map(Vec::as_slice)));
    }
    if res.is_object() {
        let mut members = Vec::new();
        res.for_each(|k, v| {
            let mut m = k.raw.into_owned();
            m.push(b':');
            m.extend_from_slice(&v.raw);
            members.push(m);
            true
        });
        members.reverse();
        return Cow::Owned(bracketed(b'{', members.iter().map(Vec::as_slice)));
    }
    Cow::Borrowed(json)
}

/// `open` + the parts joined with `,` + the matching close.
fn bracketed<'a>(open: u8, parts: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = vec![open];
    for (i, p) in parts.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(p);
    }
    out.push(open + 2);
    out
}

/// An option of a modifier's argument object, as a boolean.
fn flag(arg: &[u8], name: &[u8]) -> bool {
    let mut on = false;
    if !arg.is_empty() {
        parse(arg).for_each(|k, v| {
            if k.string().as_ref() == name {
                on = v.bool();
            }
            true
        });
    }
    on
}

/// The inside of an array or object text.
fn unwrap(json: &[u8]) -> &[u8] {
    let json = json.trim_ascii();
    if json.len() >= 2 && (json[0] == b'[' || json[0] == b'{') {
        &json[1..json.len() - 1]
    } else {
        json
    }
}

fn flatten<'j>(json: &'j [u8], arg: &[u8]) -> Cow<'j, [u8]> {
    let res = parse(json);
    if !res.is_array() {
        return Cow::Borrowed(json);
    }
    let deep = flag(arg, b"deep");
    let mut parts = Vec::new();
    res.for_each(|_, v| {
        let raw: Vec<u8> = if v.is_array() {
            if deep {
                unwrap(&flatten(&v.raw, arg)).to_vec()
            } else {
                unwrap(&v.raw).to_vec()
            }
        } else {
            v.raw.to_vec()
        };
        let raw = raw.trim_ascii();
        if !raw.is_empty() {
            parts.push(raw.to_vec());
        }
        true
    });
    Cow::Owned(bracketed(b'[', parts.iter().map(Vec::as_slice)))
}

fn join<'j>(json: &'j [u8], arg: &[u8]) -> Cow<'j, [u8]> {
    let res = parse(json);
    if !res.is_array() {
        return Cow::Borrowed(json);
    }
    if flag(arg, b"preserve") {
        let mut parts = Vec::new();
        res.for_each(|_, v| {
            if v.is_object() {
                parts.push(unwrap(&v.raw).to_vec());
            }
            true
        });
        return Cow::Owned(bracketed(b'{', parts.iter().map(Vec::as_slice)));
    }
    // Each key once, where it first appears, with its last value.
    let mut keys: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut values: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    res.for_each(|_, v| {
        if v.is_object() {
            v.for_each(|k, val| {
                let name = k.string().into_owned();
                match values.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = val.raw.into_owned(),
                    None => {
                        keys.push((name.clone(), k.raw.into_owned()));
                        values.push((name, val.raw.into_owned()));
                    }
                }
                true
            });
        }
        true
    });
    let members = keys.iter().map(|(name, raw)| {
        let value = &values.iter().find(|(n, _)| n == name).expect("kept").1;
        let mut m = raw.clone();
        m.push(b':');
        m.extend_from_slice(value);
        m
    });
    let members: Vec<Vec<u8>> = members.collect();
    Cow::Owned(bracketed(b'{', members.iter().map(Vec::as_slice)))
}

fn valid_mod<'j>(json: &'j [u8], _: &[u8]) -> Cow<'j, [u8]> {
    if valid(json) {
        Cow::Borrowed(json)
    } else {
        Cow::Borrowed(b"")
    }
}

fn keys<'j>(json: &'j [u8], _: &[u8]) -> Cow<'j, [u8]> {
    let v = parse(json);
    if !v.exists() {
        return Cow::Borrowed(b"[]");
    }
    let object = v.is_object();
    let mut parts = Vec::new();
    v.for_each(|k, _| {
        parts.push(if object {
            k.raw.into_owned()
        } else {
            b"null".to_vec()
        });
        true
    });
    Cow::Owned(bracketed(b'[', parts.iter().map(Vec::as_slice)))
}

fn values<'j>(json: &'j [u8], _: &[u8]) -> Cow<'j, [u8]> {
    let v = parse(json);
    if !v.exists() {
        return Cow::Borrowed(b"[]");
    }
    if v.is_array() {
        return Cow::Borrowed(json);
    }
    let mut parts = Vec::new();
    v.for_each(|_, val| {
        parts.push(val.raw.into_owned());
        true
    });
    Cow::Owned(bracketed(b'[', parts.iter().map(Vec::as_slice)))
}

fn tostr<'j>(json: &'j [u8], _: &[u8]) -> Cow<'j, [u8]> {
    let mut out = Vec::with_capacity(json.len() + 2);
    append_json_string(&mut out, json);
    Cow::Owned(out)
}

fn fromstr<'j>(json: &'j [u8], _: &[u8]) -> Cow<'j, [u8]> {
    if !valid(json) {
        return Cow::Borrowed(b"");
    }
    Cow::Owned(parse(json).string().into_owned())
}

fn group<'j>(json: &'j [u8], _: &[u8]) -> Cow<'j, [u8]> {
    let res = parse(json);
    if !res.is_object() {
        return Cow::Borrowed(b"");
    }
    let mut all: Vec<Vec<u8>> = Vec::new();
    res.for_each(|key, value| {
        if value.is_array() {
            let mut idx = 0;
            value.for_each(|_, v| {
                if idx == all.len() {
                    all.push(Vec::new());
                }
                let item = &mut all[idx];
                item.push(b',');
                item.extend_from_slice(&key.raw);
                item.push(b':');
                item.extend_from_slice(&v.raw);
                idx += 1;
                true
            });
        }
        true
    });
    let objects: Vec<Vec<u8>> = all
        .iter()
        .map(|item| {
            let mut o = vec![b'{'];
            o.extend_from_slice(&item[1..]);
            o.push(b'}');
            o
        })
        .collect();
    Cow::Owned(bracketed(b'[', objects.iter().map(Vec::as_slice)))
}

/// Every value, at any depth, that `path` finds (the value itself first,
/// then its members or elements, in order).
fn descend(all: &mut Vec<Vec<u8>>, parent: &Res<'_>, path: &[u8]) {
    let found = parent.get(path);
    if found.exists() {
        all.push(found.raw.into_owned());
    }
    if parent.is_array() || parent.is_object() {
        parent.for_each(|_, v| {
            descend(all, &v, path);
            true
        });
    }
}

fn dig<'j>(json: &'j [u8], arg: &[u8]) -> Cow<'j, [u8]> {
    let mut all = Vec::new();
    descend(&mut all, &parse(json), arg);
    Cow::Owned(bracketed(b'[', all.iter().map(Vec::as_slice)))
}

//! `-f key=value` and `-F key=value` of `ant api`: keys with nested parts
//! (`a.b`, `a[b]`, `a[]`, `items[][name]`) build one JSON object, in the
//! order given. `-f` values are strings as typed; `-F` values are relaxed
//! YAML (numbers, booleans, `null`, `{...}`, `[...]`) with `@file`
//! references resolved as in every other flag value.

use serde_json::{Map, Value};

use crate::request::files::{self, Files};
use crate::request::value::parse_yaml;

/// One `-f` or `-F` occurrence, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `-f`: the value is a string.
    Raw(String),
    /// `-F`: the value is typed (relaxed YAML, `@file`).
    Typed(String),
}

impl Field {
    fn flag(&self) -> &'static str {
        match self {
            Field::Raw(_) => "-f",
            Field::Typed(_) => "-F",
        }
    }

    fn text(&self) -> &str {
        match self {
            Field::Raw(t) | Field::Typed(t) => t,
        }
    }
}

/// One part of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    /// `[]`: a new element at the end of a list.
    Append,
}

/// Builds the object the fields describe; an error names the field.
pub fn collect(fields: &[Field], files: &mut dyn Files) -> Result<Map<String, Value>, String> {
    let mut root = Value::Object(Map::new());
    for field in fields {
        let bad = |why: String| format!("{} {:?}: {why}", field.flag(), field.text());
        let (key, raw) = field
            .text()
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=VALUE".into()))?;
        let segs = parse_key(key).map_err(bad)?;
        let value = match field {
            Field::Raw(_) => Value::String(raw.to_string()),
            Field::Typed(_) => typed(raw, files).map_err(bad)?,
        };
        set(&mut root, &segs, value, key).map_err(bad)?;
    }
    match root {
        Value::Object(m) => Ok(m),
        _ => unreachable!("the root is an object"),
    }
}

/// A `-F` value: `@file` (and `\@`) as everywhere else, else relaxed YAML.
fn typed(raw: &str, files: &mut dyn Files) -> Result<Value, String> {
    let mut v = if raw.starts_with('@') || raw.starts_with("\\@") {
        Value::String(raw.to_string())
    } else {
        parse_yaml(raw).map_err(|e| format!("not a YAML value ({e}); -f sends text as it is"))?
    };
    files::resolve_value(&mut v, files)?;
    Ok(v)
}

/// `name(.name|[name]|[])*`.
fn parse_key(key: &str) -> Result<Vec<Seg>, String> {
    let mut segs = Vec::new();
    let first_end = key.find(['.', '[']).unwrap_or(key.len());
    if first_end == 0 {
        return Err("the key must start with a name".into());
    }
    segs.push(Seg::Key(key[..first_end].to_string()));
    let mut rest = &key[first_end..];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Err(format!("an empty name after '.' in {key:?}"));
            }
            segs.push(Seg::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| format!("'[' without ']' in {key:?}"))?;
            let name = &r[..end];
            segs.push(if name.is_empty() {
                Seg::Append
            } else {
                Seg::Key(name.to_string())
            });
            rest = &r[end + 1..];
        } else {
            return Err(format!("expected '.', '[' or '=' after ']' in {key:?}"));
        }
    }
    Ok(segs)
}

fn empty_for(seg: &Seg) -> Value {
    match seg {
        Seg::Key(_) => Value::Object(Map::new()),
        Seg::Append => Value::Array(Vec::new()),
    }
}

/// Sets `value` at `segs` under `target`; `key` names the field in errors.
fn set(target: &mut Value, segs: &[Seg], value: Value, key: &str) -> Result<(), String> {
    let Some((first, rest)) = segs.split_first() else {
        return Ok(());
    };
    let clash = |what: &str| {
        format!("{key:?} needs {what} here, but an earlier field set a different kind of value")
    };
    match first {
        Seg::Key(name) => {
            let Value::Object(map) = target else {
                return Err(clash("an object"));
            };
            match rest.first() {
                None if map.contains_key(name) => {
                    Err(format!("{name:?} is set twice (at {key:?})"))
                }
                None => {
                    map.insert(name.clone(), value);
                    Ok(())
                }
                Some(next) => {
                    let child = map.entry(name.clone()).or_insert_with(|| empty_for(next));
                    set(child, rest, value, key)
                }
            }
        }
        Seg::Append => {
            let Value::Array(list) = target else {
                return Err(clash("a list"));
            };
            let Some(next) = rest.first() else {
                list.push(value);
                return Ok(());
            };
            // `items[][name]=a -F items[][size]=1` fill one element; a name
            // the last element has already starts the next one.
            let reuse = match (list.last(), next) {
                (Some(Value::Object(m)), Seg::Key(k)) => !m.contains_key(k),
                _ => false,
            };
            if !reuse {
                list.push(empty_for(next));
            }
            let last = list.last_mut().expect("an element");
            set(last, rest, value, key)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::files::MemFiles;
    use serde_json::json;

    fn build(fields: &[Field]) -> Result<Value, String> {
        let mut files = MemFiles::default().with("notes.md", "# Notes\n");
        collect(fields, &mut files).map(Value::Object)
    }

    fn f(t: &str) -> Field {
        Field::Raw(t.into())
    }

    #[allow(non_snake_case)]
    fn F(t: &str) -> Field {
        Field::Typed(t.into())
    }

    #[test]
    fn raw_fields_are_strings_and_typed_fields_are_yaml() {
        assert_eq!(
            build(&[
                f("n=1"),
                F("m=1"),
                F("b=true"),
                F("z=null"),
                F("s=hello world")
            ])
            .unwrap(),
            json!({"n": "1", "m": 1, "b": true, "z": null, "s": "hello world"})
        );
        assert_eq!(
            build(&[F("o={type: cloud}"), F("l=[1, two]"), F("e=")]).unwrap(),
            json!({"o": {"type": "cloud"}, "l": [1, "two"], "e": ""})
        );
    }

    #[test]
    fn at_file_reads_files_in_typed_fields_only() {
        assert_eq!(
            build(&[F("system=@notes.md"), f("raw=@notes.md"), F("at=\\@me")]).unwrap(),
            json!({"system": "# Notes\n", "raw": "@notes.md", "at": "@me"})
        );
        let e = build(&[F("x=@missing.md")]).unwrap_err();
        assert!(e.starts_with("-F \"x=@missing.md\": cannot read"), "{e}");
    }

    #[test]
    fn nested_keys_build_objects_and_lists() {
        assert_eq!(
            build(&[F("a.b=1"), F("a[c]=2"), f("l[]=x"), f("l[]=y")]).unwrap(),
            json!({"a": {"b": 1, "c": 2}, "l": ["x", "y"]})
        );
        assert_eq!(
            build(&[
                f("items[][name]=a"),
                F("items[][size]=1"),
                f("items[][name]=b"),
                F("metadata[team.name]=x"),
            ])
            .unwrap(),
            json!({"items": [{"name": "a", "size": 1}, {"name": "b"}], "metadata": {"team.name": "x"}})
        );
        assert_eq!(build(&[F("m[][]=1")]).unwrap(), json!({"m": [[1]]}));
    }

    #[test]
    fn bad_fields_say_which_and_why() {
        let cases = [
            (f("novalue"), "expected KEY=VALUE"),
            (f("=x"), "must start with a name"),
            (f("a..b=1"), "empty name after '.'"),
            (f("a[b=1"), "'[' without ']'"),
            (f("a[b]c=1"), "after ']'"),
            (F("y=a: b: c"), "not a YAML value"),
        ];
        for (field, why) in cases {
            let e = build(std::slice::from_ref(&field)).unwrap_err();
            assert!(e.contains(why), "{field:?}: {e}");
        }
        let e = build(&[f("a=1"), f("a=2")]).unwrap_err();
        assert_eq!(e, "-f \"a=2\": \"a\" is set twice (at \"a\")");
        let e = build(&[f("a=1"), f("a.b=2")]).unwrap_err();
        assert!(e.contains("needs an object"), "{e}");
        let e = build(&[f("a.b=1"), f("a[]=2")]).unwrap_err();
        assert!(e.contains("needs a list"), "{e}");
    }
}

//! Places in a JSON value: paths, looking a path up, the lines of a tree
//! view (what is shown for a set of expanded nodes), and a path written the
//! way `--transform` (GJSON) takes it.

use std::collections::HashSet;

use serde_json::Value;

/// One step into a value: an object key or an array index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

pub type Path = Vec<Seg>;

/// The value at `path` inside `root`.
pub fn get<'a>(root: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    path.iter().try_fold(root, |v, seg| match seg {
        Seg::Key(k) => v.get(k.as_str()),
        Seg::Index(i) => v.get(*i),
    })
}

/// True for a non-empty object or array.
pub fn expandable(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

/// The children of a container, with the step that reaches each.
pub fn children(v: &Value) -> Box<dyn Iterator<Item = (Seg, &Value)> + '_> {
    match v {
        Value::Object(m) => Box::new(m.iter().map(|(k, v)| (Seg::Key(k.clone()), v))),
        Value::Array(a) => Box::new(a.iter().enumerate().map(|(i, v)| (Seg::Index(i), v))),
        _ => Box::new(std::iter::empty()),
    }
}

/// How a step is labelled in the tree: `key` or `[i]`.
pub fn label(seg: &Seg) -> String {
    match seg {
        Seg::Key(k) => k.clone(),
        Seg::Index(i) => format!("[{i}]"),
    }
}

/// One line of a tree view.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeLine {
    /// Absolute path from the explorer's root.
    pub path: Path,
    /// Nesting below the view's value (0 for its children).
    pub depth: usize,
}

/// The lines a tree view of the value at `base` shows: its children, and the
/// children of every expanded node, depth first. A scalar shows as one line.
pub fn lines(root: &Value, base: &[Seg], expanded: &HashSet<Path>) -> Vec<TreeLine> {
    let mut out = Vec::new();
    let Some(v) = get(root, base) else {
        return out;
    };
    if !matches!(v, Value::Object(_) | Value::Array(_)) {
        out.push(TreeLine {
            path: base.to_vec(),
            depth: 0,
        });
        return out;
    }
    let mut path = base.to_vec();
    walk(v, &mut path, 0, &mut |p, depth, node| {
        out.push(TreeLine {
            path: p.to_vec(),
            depth,
        });
        expandable(node) && expanded.contains(p)
    });
    out
}

/// Visits every node below `v` depth first; `visit` says whether to descend.
pub fn walk(
    v: &Value,
    path: &mut Path,
    depth: usize,
    visit: &mut dyn FnMut(&[Seg], usize, &Value) -> bool,
) {
    for (seg, child) in children(v) {
        path.push(seg);
        if visit(path, depth, child) {
            walk(child, path, depth + 1, visit);
        }
        path.pop();
    }
}

/// Whether any scalar inside `v` (or `v` itself) contains `needle`, which
/// must be lower case. Keys do not count: searching "model" should find a
/// model's name, not every object with a `model` field.
pub fn contains(v: &Value, needle: &str) -> bool {
    match v {
        Value::Object(m) => m.values().any(|v| contains(v, needle)),
        Value::Array(a) => a.iter().any(|v| contains(v, needle)),
        Value::String(s) => lower_contains(s, needle),
        Value::Null => false,
        other => lower_contains(&other.to_string(), needle),
    }
}

/// Case-insensitive substring test; `needle` is lower case.
pub fn lower_contains(hay: &str, needle: &str) -> bool {
    if hay.is_ascii() && needle.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        return n.is_empty()
            || h.windows(n.len())
                .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b));
    }
    hay.to_lowercase().contains(needle)
}

/// `path` as a GJSON path (what `--transform` takes); `@this` for the value itself.
pub fn gjson_path(path: &[Seg]) -> String {
    if path.is_empty() {
        return "@this".into();
    }
    let parts: Vec<String> = path
        .iter()
        .map(|seg| match seg {
            Seg::Index(i) => i.to_string(),
            Seg::Key(k) => escape_key(k),
        })
        .collect();
    parts.join(".")
}

/// Escapes a key as GJSON's own `Escape` does: every printable ASCII
/// character other than letters, digits, `_`, `-` and `:` gets a backslash.
fn escape_key(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    for c in k.chars() {
        let safe = c <= ' ' || c > '~' || c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':');
        if !safe {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str) -> Seg {
        Seg::Key(k.into())
    }

    #[test]
    fn lines_show_children_and_expanded_nodes() {
        let v = json!({"a": 1, "b": {"c": [1, 2]}, "d": []});
        let mut open = HashSet::new();
        let shown = |open: &HashSet<Path>| -> Vec<(String, usize)> {
            lines(&v, &[], open)
                .into_iter()
                .map(|l| (gjson_path(&l.path), l.depth))
                .collect()
        };
        assert_eq!(
            shown(&open),
            [("a".into(), 0), ("b".into(), 0), ("d".into(), 0)]
        );
        open.insert(vec![key("b")]);
        open.insert(vec![key("b"), key("c")]);
        assert_eq!(
            shown(&open),
            [
                ("a".into(), 0),
                ("b".into(), 0),
                ("b.c".into(), 1),
                ("b.c.0".into(), 2),
                ("b.c.1".into(), 2),
                ("d".into(), 0)
            ]
        );
        // A scalar is one line; a missing base none.
        assert_eq!(lines(&v, &[key("a")], &open).len(), 1);
        assert!(lines(&v, &[key("zz")], &open).is_empty());
    }

    #[test]
    fn gjson_paths_round_trip_through_gjson() {
        let v = json!({"a.b": {"x*y?": [{"k|@#": "found"}]}, "plain-key_1:2": 7});
        let text = v.to_string();
        let p = vec![key("a.b"), key("x*y?"), Seg::Index(0), key("k|@#")];
        let path = gjson_path(&p);
        assert_eq!(path, r"a\.b.x\*y\?.0.k\|\@\#");
        let get = |path: &str| {
            let path = crate::output::gjson::parse(path).unwrap();
            let found = crate::output::gjson::get(&text, &path).expect("found");
            String::from_utf8(found.raw.into_owned()).unwrap()
        };
        assert_eq!(get(&path), "\"found\"");
        assert_eq!(gjson_path(&[key("plain-key_1:2")]), "plain-key_1:2");
        assert_eq!(get("plain-key_1:2"), "7");
        assert_eq!(gjson_path(&[]), "@this");
    }

    #[test]
    fn contains_looks_at_values_not_keys() {
        let v = json!({"name": "Research Bot", "model": {"id": "claude-opus"}, "n": 42, "z": null});
        assert!(contains(&v, "research"));
        assert!(contains(&v, "opus"));
        assert!(contains(&v, "42"));
        assert!(!contains(&v, "model"));
        assert!(!contains(&v, "null"));
        assert!(lower_contains("ÄBC", "äb"));
        assert!(lower_contains("abc", ""));
    }
}

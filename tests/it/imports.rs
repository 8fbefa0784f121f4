//! No import circles in the client: neither between the top-level rooms of
//! `src/` (`http`, `request`, `output`, ...) nor between the modules of
//! `src/cli/` (`complete`, `docs`, `tree`, ...), and nothing below `cli/`
//! imports it. Reads the sources; a failure names the circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module names following `prefix` in code (comments dropped):
/// `crate::http::x` and `crate::{http, request::Body}` give `http`, `request`.
fn named_after(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find(prefix) {
            rest = &rest[i + prefix.len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or("").split(',').collect(),
                None => vec![rest],
            };
            for n in names {
                let n: String = n
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !n.is_empty() {
                    out.insert(n);
                }
            }
        }
    }
    out
}

/// A circle in `edges`, as `a -> b -> a`, if there is one.
fn circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<String> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_string());
            return Some(c.join(" -> "));
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

/// The import graph of the modules directly under `dir` (files and folders),
/// from `crate::NAME` (and `super::NAME` / `crate::cli::NAME` inside `cli/`).
fn graph(dir: &Path, prefixes: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let known: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            p.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    for file in files {
        let rel = file.strip_prefix(dir).unwrap();
        let own = rel.iter().next().unwrap().to_string_lossy();
        let own = own.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let depth = rel.iter().count();
        for prefix in prefixes {
            // `super::x` names a sibling only from a file directly in `dir`.
            if *prefix == "super::" && depth != 1 {
                continue;
            }
            for name in named_after(&text, prefix) {
                if name != own && known.contains(&name) {
                    edges.entry(own.clone()).or_default().insert(name);
                }
            }
        }
    }
    edges
}

#[test]
fn the_client_has_no_import_circles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let top = graph(&src, &["crate::"]);
    assert!(top.len() > 5, "src/ was not read: {top:?}");
    assert_eq!(circle(&top), None, "an import circle between rooms of src/");
    let below: Vec<&String> = top
        .iter()
        .filter(|(m, to)| *m != "cli" && *m != "main" && *m != "lib" && to.contains("cli"))
        .map(|(m, _)| m)
        .collect();
    assert!(below.is_empty(), "modules below cli/ import it: {below:?}");
    let cli = graph(&src.join("cli"), &["crate::cli::", "super::"]);
    assert!(
        cli.contains_key("complete"),
        "src/cli was not read: {cli:?}"
    );
    assert_eq!(circle(&cli), None, "an import circle inside src/cli/");
}

#[test]
fn circles_are_found() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert_eq!(circle(&g), None);
    g.entry("c".into()).or_default().insert("b".into());
    assert_eq!(circle(&g).as_deref(), Some("b -> c -> b"));
    let names = named_after(
        "use crate::{http, request::Body}; // crate::cli\n",
        "crate::",
    );
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["http", "request"]);
}

//! The emulator's source is layered (see `mock/src/lib.rs`): each module
//! imports only the layers below its own, so there is no import circle. This
//! reads every source file and fails naming the file and the import that
//! reaches up (or sideways into another module of the same layer).

use std::path::Path;

/// The layers, bottom first; modules on one line form one layer.
const LAYERS: &[&[&str]] = &[
    &["sha256", "stream", "tools"],
    &["store"],
    &["form", "synth"],
    &["agent", "model"],
    &["resources"],
    &["router"],
    &["server"],
    &["lib", "main"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The crate modules a source text names: `crate::x` and `use crate::{x, y}`.
fn imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                for name in inner.split(',') {
                    let name = name.trim().split("::").next().unwrap_or("").trim();
                    if !name.is_empty() {
                        out.push(name.to_string());
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read mock/src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    assert!(files.len() > 20, "mock/src was not read: {files:?}");
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let own = layer(&top).unwrap_or_else(|| panic!("{rel:?}: module {top} has no layer"));
        let text = std::fs::read_to_string(file).unwrap();
        for name in imports(&text) {
            if name == top {
                continue;
            }
            match layer(&name) {
                Some(l) if l < own => {}
                _ => wrong.push(format!("{}: imports crate::{name}", rel.display())),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that do not go down a layer:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_import_reader_sees_every_form() {
    let names = imports(
        "use crate::store::{A, B};\nuse crate::{form, router::x};\nlet a = crate::agent::run(); // crate::server\n",
    );
    assert_eq!(names, ["store", "form", "router", "agent"]);
}

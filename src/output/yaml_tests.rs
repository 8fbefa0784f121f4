//! YAML output: the official layout, the quoting rules, and reading back as
//! the same values under a YAML 1.2 reader (serde-saphyr) and a YAML 1.1
//! reader (PyYAML, the most used; `.ci/run` installs it).

use super::*;
use serde_json::{Value, json};

fn y(json: &str) -> String {
    render(json.as_bytes()).unwrap()
}

#[test]
fn the_official_layout() {
    assert_eq!(
        y(r#"{"id":"a","n":{"k":1,"e":{},"l":[]},"list":[1,[2,3],{"a":1,"b":[]}],"t":null}"#),
        "id: a\n\"n\":\n  k: 1\n  e: {}\n  l: []\nlist:\n  - 1\n  - - 2\n    - 3\n  - a: 1\n    b: []\nt: null\n"
    );
    assert_eq!(y("[]"), "[]\n");
    assert_eq!(y("\"text\""), "text\n");
    assert_eq!(y("5"), "5\n");
    assert_eq!(y(r#"[{"a":{"b":1}}]"#), "- a:\n    b: 1\n");
    // A key repeated in an object is written twice, in place.
    assert_eq!(y(r#"{"k":1,"k":2}"#), "k: 1\nk: 2\n");
}

#[test]
fn multi_line_strings_are_literal_blocks() {
    assert_eq!(y(r#"{"s":"a\nb"}"#), "s: |-\n  a\n  b\n");
    assert_eq!(y(r#"{"s":"a\n"}"#), "s: |\n  a\n");
    assert_eq!(y(r#"{"s":"a\n\n"}"#), "s: |+\n  a\n\n");
    assert_eq!(y(r#"["a\n\nb"]"#), "- |-\n  a\n\n  b\n");
    assert_eq!(y(r#"{"a\nb":1}"#), "? |-\n  a\n  b\n: 1\n");
    // Leading space, or a control character other than tab: double quotes.
    assert_eq!(y(r#"{"s":" a\nb"}"#), "s: \" a\\nb\"\n");
    assert_eq!(y(r#"{"s":"a\r\nb"}"#), "s: \"a\\r\\nb\"\n");
}

/// Strings a YAML 1.1 or 1.2 reader would take for something else.
const TRICKY: &[&str] = &[
    "",
    "~",
    "null",
    "Null",
    "true",
    "False",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "Y",
    "N",
    "1",
    "-1",
    "+1",
    "1.5",
    "1e21",
    "1E+2",
    ".5",
    "1_000",
    "0o17",
    "017",
    "0x1F",
    "0b101",
    "1:20",
    "12:30:00",
    "190:20:30.15",
    ".inf",
    "-.Inf",
    ".nan",
    "2024-01-01",
    "2025-11-02T08:15:00Z",
    "2001-12-14 21:59:43.10 -5",
    "<<",
    "=",
    " x",
    "x ",
    "a: b",
    "a:",
    "#c",
    "x #y",
    "- x",
    "-",
    "---",
    "...",
    "? x",
    "?",
    "@x",
    "`x",
    "%x",
    "*x",
    "&x",
    "!x",
    "'q",
    "\"q",
    "{a}",
    "[a]",
    ",x",
    "|x",
    ">x",
    "\t",
    "a\u{1}b",
    "x\u{7f}",
    "a\u{85}b",
    "a\u{9b}b",
    "\u{feff}bom",
    "a\u{2028}b",
    "a\u{2029}b",
    "\u{fffe}",
];

/// Strings that stay plain.
const PLAIN: &[&str] = &[
    "hello world",
    "claude-opus-4-7",
    "é",
    "a,b",
    "a]b",
    "x-",
    "1.2.3",
    "é 🎉 漢字",
    "C:\\temp",
    "say \"hi\"",
    "</div>",
    "a\u{200b}b",
];

/// Strings with line breaks.
const MULTI_LINE: &[&str] = &[
    "multi\nline",
    "trailing\n",
    "two\n\n",
    "\n",
    "  indented\nx",
    "a\r\nb",
    "tab\there\nx",
    "x\n---\ny",
];

#[test]
fn strings_are_quoted_when_a_reader_would_take_them_for_something_else() {
    for s in TRICKY {
        let out = y(&Value::String(s.to_string()).to_string());
        assert!(out.starts_with('"'), "{s:?} -> {out:?}");
        let out = y(&json!({ *s: 1 }).to_string());
        assert!(out.starts_with('"'), "key {s:?} -> {out:?}");
    }
    for s in PLAIN {
        assert_eq!(
            y(&Value::String(s.to_string()).to_string()),
            format!("{s}\n")
        );
    }
}

#[test]
fn escapes_in_double_quotes() {
    assert_eq!(
        y(r#""a\u0001\u001f\u007f\u0085\u009f\ufeff\u2028\u2029\ufffe\t\"\\""#),
        "\"a\\x01\\x1F\\x7F\\x85\\x9F\\uFEFF\\u2028\\u2029\\uFFFE\\t\\\"\\\\\"\n"
    );
}

#[test]
fn numbers_keep_their_spelling_unless_a_1_1_reader_would_misread_them() {
    assert_eq!(
        y(
            "[1.50,-0,-0.0,0.000001,18446744073709551617,6.02e+23,-2.5E-3,1e21,1E+2,5e-324,1e0,1.5e3,2E-1]"
        ),
        "- 1.50\n- -0\n- -0.0\n- 0.000001\n- 18446744073709551617\n- 6.02e+23\n- -2.5E-3\n- 1.0e+21\n- 1.0E+2\n- 5.0e-324\n- 1.0e+0\n- 1.5e+3\n- 2.0E-1\n"
    );
}

#[test]
fn text_that_is_not_json_is_an_error() {
    assert!(render(b"nan").is_err());
}

/// Documents that exercise every rule: tricky strings as values and keys,
/// numbers, nesting, multi-line text.
fn samples() -> Vec<String> {
    let mut docs: Vec<String> = [TRICKY, PLAIN, MULTI_LINE]
        .concat()
        .into_iter()
        .map(|s| json!({ "v": s, "l": [s], s: s }).to_string())
        .collect();
    docs.extend(
        [
            "[1.50,-0,-0.0,0.000001,18446744073709551617,9223372036854775808,-98765432109876543210,6.02e+23,-2.5E-3,1e21,1E+2,5e-324,1e0,1.5e3,2E-1,1.7976931348623157e308,3.14159265358979323846]",
            r#"{"a":{"b":{"c":[[],{},[[1]],{"d":null}]}},"e":[{"f":[{"g":true}]}],"h":false}"#,
            r#""\ud83c\udf89 \u003c\u0026\u003e""#,
            "[]",
            "{}",
            "null",
        ]
        .map(String::from),
    );
    docs
}

/// Whether two JSON values are equal, numbers compared by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn a_yaml_1_2_reader_reads_back_the_same_values() {
    let mut wrong = Vec::new();
    for doc in samples() {
        let want: Value = serde_json::from_str(&doc).unwrap();
        let out = y(&doc);
        match serde_saphyr::from_str::<Value>(&out) {
            Ok(got) if same(&got, &want) => {}
            Ok(got) => wrong.push(format!("{doc}\n{out}read back as {got}")),
            Err(e) => wrong.push(format!("{doc}\n{out}does not read: {e}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn a_yaml_1_1_reader_reads_back_the_same_values() {
    // PyYAML reads each document and compares it with the JSON it came from.
    let script = r#"
import json, sys, yaml
bad = []
for case in json.load(sys.stdin):
    try:
        got = yaml.safe_load(case["yaml"])
    except Exception as e:
        bad.append("%s\n%s-> %s" % (case["json"], case["yaml"], e)); continue
    if got != json.loads(case["json"]):
        bad.append("%s\n%s-> %r" % (case["json"], case["yaml"], got))
print("\n\n".join(bad))
"#;
    let probe = std::process::Command::new("python3")
        .args(["-c", "import yaml"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: python3 with PyYAML is not installed (.ci/run installs python3-yaml)");
        return;
    }
    let cases: Vec<Value> = samples()
        .into_iter()
        .map(|doc| json!({"json": doc, "yaml": y(&doc)}))
        .collect();
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), &cases).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let bad = String::from_utf8_lossy(&out.stdout);
    assert!(
        bad.trim().is_empty(),
        "PyYAML reads these differently:\n{bad}"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::proptest_config())]

        #[test]
        fn prop_yaml_output_reads_back_as_a_flag_value(
            v in crate::request::value::tests::props::json(),
        ) {
            let out = render(v.to_string().as_bytes()).unwrap();
            let back = crate::request::value::parse_yaml(&out).unwrap();
            prop_assert!(same(&back, &v), "{}\n{}", out, back);
        }
    }
}

//! Tests of the public output API: every format through `printer`, item
//! sequences, colour on/off, `--transform`/`-r`, error bodies and `FromStr`.

use super::*;
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;

/// A writer whose bytes the test can read back after the printer owns it.
#[derive(Clone, Default)]
struct Buf(Rc<RefCell<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8(self.0.borrow().clone()).unwrap()
    }
}

fn opts(format: Format) -> OutputOptions {
    OutputOptions {
        format,
        transform: None,
        raw_output: false,
        term: Terminal::plain(),
        title: "beta:agents list".into(),
        pager: None,
    }
}

/// Prints `items` with `o` and returns the output.
fn run(o: &OutputOptions, items: &[Value]) -> String {
    let buf = Buf::default();
    let mut p = printer(o, Box::new(buf.clone()));
    for v in items {
        p.item(&v.to_string()).unwrap();
    }
    p.finish().unwrap();
    buf.text()
}

/// Prints JSON texts with `o` and returns the output.
fn run_texts(o: &OutputOptions, texts: &[&str]) -> String {
    let buf = Buf::default();
    let mut p = printer(o, Box::new(buf.clone()));
    for t in texts {
        p.item(t).unwrap();
    }
    p.finish().unwrap();
    buf.text()
}

fn small() -> Value {
    json!({"id": "a_1", "n": 2, "ok": true})
}

fn seq() -> Vec<Value> {
    vec![json!({"id": "a"}), json!({"id": "b"})]
}

#[test]
fn json_is_indented_with_a_newline_per_item() {
    assert_eq!(
        run(&opts(Format::Json), &[small()]),
        "{\n  \"id\": \"a_1\",\n  \"n\": 2,\n  \"ok\": true\n}\n"
    );
    assert_eq!(
        run(&opts(Format::Json), &seq()),
        "{\n  \"id\": \"a\"\n}\n{\n  \"id\": \"b\"\n}\n"
    );
}

#[test]
fn auto_and_explore_print_json() {
    let want = run(&opts(Format::Json), &[small()]);
    assert_eq!(run(&opts(Format::Auto), &[small()]), want);
    assert_eq!(run(&opts(Format::Explore), &[small()]), want);
}

#[test]
fn jsonl_is_one_compact_line_per_item() {
    assert_eq!(
        run(&opts(Format::Jsonl), &[small()]),
        "{\"id\":\"a_1\",\"n\":2,\"ok\":true}\n"
    );
    assert_eq!(
        run(&opts(Format::Jsonl), &seq()),
        "{\"id\":\"a\"}\n{\"id\":\"b\"}\n"
    );
}

#[test]
fn yaml_separates_documents_with_dashes() {
    assert_eq!(
        run(&opts(Format::Yaml), &[small()]),
        "id: a_1\n\"n\": 2\nok: true\n"
    );
    assert_eq!(run(&opts(Format::Yaml), &seq()), "id: a\n---\nid: b\n");
}

#[test]
fn pretty_separates_items_with_a_blank_line() {
    assert_eq!(
        run(&opts(Format::Pretty), &[small()]),
        "id: a_1\nn: 2\nok: yes\n"
    );
    assert_eq!(run(&opts(Format::Pretty), &seq()), "id: a\n\nid: b\n");
}

#[test]
fn pretty_shows_the_title_only_on_a_tty() {
    let mut o = opts(Format::Pretty);
    o.term.stdout_tty = true;
    let out = run(&o, &seq());
    assert!(out.starts_with("── beta:agents list ──"), "{out}");
    assert_eq!(out.matches("beta:agents list").count(), 1);
    assert!(out.ends_with("id: a\n\nid: b\n"));
}

#[test]
fn raw_prints_each_value_as_received_from_its_first_bracket() {
    let o = opts(Format::Raw);
    assert_eq!(run(&o, &seq()), "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
    assert_eq!(
        run_texts(&o, &["\r\n\t{ \"id\" :  \"x\" }\n\n", "[1 ,2]"]),
        "{ \"id\" :  \"x\" }\n\n\n[1 ,2]\n"
    );
}

#[test]
fn numbers_and_escapes_print_as_sent() {
    let text =
        r#"{"n":1.50,"e":1E+2,"z":-0,"big":18446744073709551617,"s":"\u003c\/\ud83c\udf89"}"#;
    assert_eq!(
        run_texts(&opts(Format::Json), &[text]),
        "{\n  \"n\": 1.50,\n  \"e\": 1E+2,\n  \"z\": -0,\n  \"big\": 18446744073709551617,\n  \"s\": \"\\u003c\\/\\ud83c\\udf89\"\n}\n"
    );
    assert_eq!(
        run_texts(&opts(Format::Jsonl), &[text]),
        format!("{text}\n")
    );
    let mut o = opts(Format::Json);
    o.transform = Some(Pick::Gjson("big".into()));
    o.raw_output = true;
    assert_eq!(run_texts(&o, &[text]), "18446744073709551617\n");
    o.transform = Some(Pick::Gjson("s".into()));
    assert_eq!(run_texts(&o, &[text]), "</🎉\n");
}

#[test]
fn every_item_is_flushed_before_item_returns() {
    // A writer that only keeps what has been flushed shows nothing is held back.
    #[derive(Clone, Default)]
    struct Flushed(Rc<RefCell<(Vec<u8>, Vec<u8>)>>);
    impl Write for Flushed {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            let mut s = self.0.borrow_mut();
            let pending = std::mem::take(&mut s.0);
            s.1.extend(pending);
            Ok(())
        }
    }
    for format in [
        Format::Json,
        Format::Jsonl,
        Format::Yaml,
        Format::Pretty,
        Format::Raw,
    ] {
        let w = Flushed::default();
        let mut p = printer(&opts(format), Box::new(w.clone()));
        p.item(r#"{"a": 1}"#).unwrap();
        assert!(w.0.borrow().0.is_empty(), "{format}");
        assert!(!w.0.borrow().1.is_empty(), "{format}");
    }
}

#[test]
fn colors_only_when_enabled() {
    let v = json!({"s": "x", "n": 1, "b": true, "z": null, "a": [1]});
    for format in [
        Format::Json,
        Format::Jsonl,
        Format::Yaml,
        Format::Pretty,
        Format::Raw,
    ] {
        let mut o = opts(format);
        o.term.stdout_tty = true;
        assert!(
            !run(&o, std::slice::from_ref(&v)).contains('\x1b'),
            "{format}"
        );
        o.term.color = true;
        let out = run(&o, std::slice::from_ref(&v));
        let expect_color = matches!(format, Format::Json | Format::Jsonl | Format::Pretty);
        assert_eq!(out.contains('\x1b'), expect_color, "{format}: {out:?}");
    }
}

#[test]
fn transform_selects_per_item_and_skips_misses() {
    let mut o = opts(Format::Jsonl);
    o.transform = Some(Pick::Gjson("id".into()));
    let items = [
        json!({"id": "a"}),
        json!({"other": 1}),
        json!({"id": {"k": [1]}}),
    ];
    assert_eq!(run(&o, &items), "\"a\"\n{\"k\":[1]}\n");
    o.transform = Some(Pick::Gjson("{id,n}".into()));
    assert_eq!(run(&o, &[small()]), "{\"id\":\"a_1\",\"n\":2}\n");
    o.transform = Some(Pick::Gjson("missing".into()));
    assert_eq!(run(&o, &[]), "", "no items, no error");
}

#[test]
fn transform_that_matches_nothing_is_its_own_error() {
    let mut o = opts(Format::Json);
    o.transform = Some(Pick::Gjson("nope.x".into()));
    let buf = Buf::default();
    let mut p = printer(&o, Box::new(buf.clone()));
    p.item(&small().to_string()).unwrap();
    p.item(r#"{"id":1}"#).unwrap();
    let err = p.finish().unwrap_err();
    assert!(matches!(err, Error::NoMatch(_)));
    assert_eq!(err.exit_code(), 9);
    assert_eq!(
        err.to_string(),
        "--transform \"nope.x\" matched nothing in the response"
    );
    assert_eq!(buf.text(), "");
}

#[test]
fn transform_null_result_counts_as_a_match() {
    let mut o = opts(Format::Json);
    o.transform = Some(Pick::Gjson("z".into()));
    assert_eq!(run(&o, &[json!({"z": null})]), "null\n");
}

#[test]
fn raw_output_unquotes_strings_in_any_format() {
    for format in [
        Format::Json,
        Format::Jsonl,
        Format::Yaml,
        Format::Pretty,
        Format::Raw,
    ] {
        let mut o = opts(format);
        o.transform = Some(Pick::Gjson("delta.text".into()));
        o.raw_output = true;
        let items = [
            json!({"delta": {"text": "Hel"}}),
            json!({"type": "ping"}),
            json!({"delta": {"text": "lo \"x\""}}),
        ];
        assert_eq!(run(&o, &items), "Hel\nlo \"x\"\n", "{format}");
    }
    let mut o = opts(Format::Jsonl);
    o.raw_output = true;
    assert_eq!(
        run(&o, &[json!(5), json!({"a": "b"})]),
        "5\n{\"a\":\"b\"}\n"
    );
    // In raw format, a body that is a JSON string is unquoted too.
    let mut o = opts(Format::Raw);
    o.raw_output = true;
    assert_eq!(run_texts(&o, &["\"text\""]), "text\n");
}

#[test]
fn raw_format_with_transform_parses_the_body() {
    let mut o = opts(Format::Raw);
    o.transform = Some(Pick::Gjson("data.0".into()));
    assert_eq!(
        run_texts(&o, &[r#"{"data": [{"id": "x"}], "has_more": false}"#]),
        "{\"id\": \"x\"}\n"
    );
}

#[test]
fn write_errors_map_through_from_write() {
    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }
    let mut p = printer(&opts(Format::Json), Box::new(Closed));
    assert!(matches!(
        p.item(&small().to_string()),
        Err(Error::BrokenPipe)
    ));
}

const ERROR_BODY: &[u8] =
    br#"{"type":"error","error":{"type":"not_found_error","message":"no such agent"}}"#;

#[test]
fn error_body_renders_in_each_format() {
    let t = Terminal::plain();
    assert_eq!(
        render_error_body(ERROR_BODY, Format::Auto, None, false, &t),
        "{\n  \"type\": \"error\",\n  \"error\": {\n    \"type\": \"not_found_error\",\n    \"message\": \"no such agent\"\n  }\n}"
    );
    assert_eq!(
        render_error_body(ERROR_BODY, Format::Jsonl, None, false, &t),
        std::str::from_utf8(ERROR_BODY).unwrap()
    );
    assert_eq!(
        render_error_body(ERROR_BODY, Format::Yaml, None, false, &t),
        "type: error\nerror:\n  type: not_found_error\n  message: no such agent"
    );
    assert_eq!(
        render_error_body(ERROR_BODY, Format::Pretty, None, false, &t),
        "type: error\nerror:\n  type: not_found_error\n  message: no such agent"
    );
    assert_eq!(
        render_error_body(b"{ \"a\" : 1 }\n", Format::Raw, None, false, &t),
        "{ \"a\" : 1 }"
    );
}

#[test]
fn error_body_transform_raw_output_and_fallbacks() {
    let t = Terminal::plain();
    let msg = Some("error.message");
    assert_eq!(
        render_error_body(ERROR_BODY, Format::Json, msg, false, &t),
        "\"no such agent\""
    );
    assert_eq!(
        render_error_body(ERROR_BODY, Format::Json, msg, true, &t),
        "no such agent"
    );
    assert_eq!(
        render_error_body(ERROR_BODY, Format::Raw, msg, true, &t),
        "no such agent"
    );
    // A transform that misses shows the whole body rather than hiding the error.
    let whole = render_error_body(ERROR_BODY, Format::Jsonl, Some("nope"), false, &t);
    assert_eq!(whole, std::str::from_utf8(ERROR_BODY).unwrap());
    // Non-JSON bodies come back as text.
    assert_eq!(
        render_error_body(b"<html>Bad Gateway</html>\n", Format::Json, None, false, &t),
        "<html>Bad Gateway</html>"
    );
    let mut colored = t;
    colored.color = true;
    assert!(render_error_body(ERROR_BODY, Format::Json, None, false, &colored).contains('\x1b'));
    assert!(!render_error_body(ERROR_BODY, Format::Json, None, false, &t).contains('\x1b'));
}

#[test]
fn format_names_parse_case_insensitively() {
    for (name, f) in [
        ("auto", Format::Auto),
        ("json", Format::Json),
        ("JSONL", Format::Jsonl),
        ("Yaml", Format::Yaml),
        ("pretty", Format::Pretty),
        ("RAW", Format::Raw),
        ("EXPLORE", Format::Explore),
    ] {
        assert_eq!(name.parse::<Format>(), Ok(f));
        assert_eq!(f.to_string().parse::<Format>(), Ok(f));
    }
    let err = "xml".parse::<Format>().unwrap_err();
    assert_eq!(
        err,
        "invalid format \"xml\" (expected one of: auto, json, jsonl, yaml, pretty, raw, explore)"
    );
}

#[test]
fn jq_runs_per_item_prints_strings_bare_and_other_values_in_the_format() {
    let mut o = opts(Format::Jsonl);
    o.transform = Some(Pick::Jq(r#"select(.id != "b") | .id, {n: .n}"#.into()));
    let texts = [r#"{"id": "a", "n": 1.50}"#, r#"{"id": "b", "n": 2}"#];
    assert_eq!(run_texts(&o, &texts), "a\n{\"n\":1.50}\n");
    let items = [json!({"id": "a"}), json!({"id": "b"})];
    let mut o = opts(Format::Yaml);
    o.transform = Some(Pick::Jq("{id}".into()));
    assert_eq!(run(&o, &items), "id: a\n---\nid: b\n");
    let mut o = opts(Format::Json);
    o.transform = Some(Pick::Jq(".[]".into()));
    assert_eq!(run(&o, &[json!([1, [2, 3]])]), "1\n[2, 3]\n");
}

#[test]
fn jq_that_prints_nothing_is_no_error_and_a_failure_names_the_item() {
    let mut o = opts(Format::Json);
    o.transform = Some(Pick::Jq("select(.nope)".into()));
    let buf = Buf::default();
    let mut p = printer(&o, Box::new(buf.clone()));
    p.item(&small().to_string()).unwrap();
    p.finish().unwrap();
    assert_eq!(buf.text(), "");
    o.transform = Some(Pick::Jq(".id | ascii_downcase".into()));
    let mut p = printer(&o, Box::new(buf.clone()));
    p.item(r#"{"id":"X"}"#).unwrap();
    let err = p.item(r#"{"id":7}"#).unwrap_err();
    assert_eq!(err.exit_code(), 1);
    assert!(err.to_string().contains("failed on item 2"), "{err}");
    assert_eq!(buf.text(), "x\n");
}

#[test]
fn jq_and_transform_together_are_refused_before_sending() {
    let err = check_pick(Some("id"), Some(".id")).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("--jq and --transform"), "{err}");
    assert_eq!(
        check_pick(None, Some(".id")).unwrap(),
        Some(Pick::Jq(".id".into()))
    );
    let err = check_pick(None, Some(".id |")).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert_eq!(check_pick(None, None).unwrap(), None);
}

//! The validator against the JSON grammar, and lists and fields read
//! from page text.

use super::*;

fn check(text: &str) -> Result<(), String> {
    Doc::new(text.as_bytes().to_vec())
        .map(drop)
        .map_err(|e| e.to_string())
}

#[test]
fn accepts_every_json_value_as_sent() {
    for ok in [
        "{}",
        "[]",
        " \r\n\t{ } \n",
        "null",
        "true",
        "\"\"",
        "0",
        "-0",
        "-0.0",
        "1.50",
        "1E+2",
        "1e21",
        "6.02e+23",
        "-2.5E-3",
        "18446744073709551617",
        "3.14159265358979323846264338327950288",
        r#"{"a":[1,{"b":null}],"a":"repeated"}"#,
        r#""\u003c\/\ud83c\udf89\ud800 \" \\ \b\f\n\r\t""#,
        "\"raw \u{2028} \u{7f} é 🎉\"",
        r#"{"":{"":[[],[[]]]}}"#,
    ] {
        assert_eq!(check(ok), Ok(()), "{ok:?}");
    }
}

#[test]
fn refuses_what_is_not_json_saying_what_and_where() {
    for (bad, why) in [
        ("", "empty body where JSON was expected at byte 0"),
        ("  ", "empty body where JSON was expected at byte 2"),
        ("{", "unexpected end of input at byte 1"),
        (r#"{"a":1"#, "unexpected end of input at byte 6"),
        (r#"{"a" 1}"#, "expected ':' after a key at byte 5"),
        (r#"{a:1}"#, "expected a string key at byte 1"),
        ("[1,]", "unexpected character at byte 3"),
        ("[1 2]", "expected ',' or ']' at byte 3"),
        (r#"{"a":1,}"#, "expected a string key at byte 7"),
        ("01", "unexpected text after the JSON value at byte 1"),
        ("1.", "invalid number at byte 2"),
        (".5", "unexpected character at byte 0"),
        ("1e", "invalid number at byte 2"),
        ("+1", "unexpected character at byte 0"),
        ("-", "invalid number at byte 1"),
        ("NaN", "unexpected character at byte 0"),
        ("tru", "unexpected character at byte 0"),
        ("\"a\tb\"", "control character in a string at byte 2"),
        (r#""\x""#, "invalid escape at byte 1"),
        (r#""\u12g4""#, "invalid \\u escape at byte 1"),
        ("\"open", "unterminated string at byte 5"),
        ("{} {}", "unexpected text after the JSON value at byte 3"),
        ("<html>", "unexpected character at byte 0"),
    ] {
        assert_eq!(check(bad), Err(why.to_string()), "{bad:?}");
    }
    assert_eq!(
        Doc::new(b"{\"a\":\"\xff\"}".to_vec())
            .unwrap_err()
            .to_string(),
        "invalid UTF-8 at byte 6"
    );
}

#[test]
fn nesting_is_bounded() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert_eq!(check(&deep(MAX_DEPTH)), Ok(()));
    assert_eq!(
        check(&deep(MAX_DEPTH + 1)),
        Err(format!("nested deeper than 128 levels at byte {MAX_DEPTH}"))
    );
}

#[test]
fn pages_give_their_items_and_fields_as_text() {
    let page = Doc::from_text(
        r#" { "data" : [ {"id": "a", "n": [1, 2]} , "x\"]" ,3 ] , "next_page" : "p\u0032", "data": [] } "#
            .to_string(),
    )
    .unwrap();
    assert_eq!(
        page.items("data"),
        Some(vec![r#"{"id": "a", "n": [1, 2]}"#, r#""x\"]""#, "3"])
    );
    assert_eq!(page.field("next_page"), Some(r#""p\u0032""#));
    assert_eq!(
        page.field("next_page").and_then(string).as_deref(),
        Some("p2")
    );
    assert_eq!(page.field("missing"), None);
    assert_eq!(page.items("next_page"), None);
    let empty = Doc::from_text("{\"data\":[ ]}".into()).unwrap();
    assert_eq!(empty.items("data"), Some(vec![]));
    assert_eq!(Doc::from_text("[1]".into()).unwrap().field("data"), None);
    // An escaped key names the member too.
    let escaped = Doc::from_text(r#"{"d\u0061ta":[true]}"#.into()).unwrap();
    assert_eq!(escaped.items("data"), Some(vec!["true"]));
}

#[test]
fn unescape_decodes_as_gjson_does() {
    let u = |s: &str| String::from_utf8(unescape(s.as_bytes())).unwrap();
    assert_eq!(u(r#"a\u003c\/\"\\\t"#), "a</\"\\\t");
    assert_eq!(u(r"\ud83c\udf89 \u00C9"), "🎉 É");
    assert_eq!(u(r"lone \ud800 x"), "lone \u{fffd} x");
    assert_eq!(u(r"\ud83c\u0041"), "\u{fffd}");
    assert_eq!(u(r"stops \q here"), "stops ");
}

#[test]
fn values_hold_what_serde_cannot_as_near_as_they_can() {
    use serde_json::json;
    assert_eq!(
        value(r#"{"a":[1,"x"],"b":null}"#),
        json!({"a": [1, "x"], "b": null})
    );
    // Valid JSON that a serde value cannot hold keeps its shape.
    assert_eq!(
        value(r#" {"n":1e400,"s":"a\ud800b","t":[true,false,null,-2.5E-3],"k\u00e9":{}} "#),
        json!({"n": "1e400", "s": "a\u{FFFD}b", "t": [true, false, null, -0.0025], "ké": {}})
    );
    assert_eq!(value("\"\\udc00\""), json!("\u{FFFD}"));
    assert_eq!(value("-1e999"), json!("-1e999"));
}

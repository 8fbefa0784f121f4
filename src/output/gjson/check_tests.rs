//! GJSON paths: the official syntax examples, multipath keys as the official
//! (Go) GJSON writes them, and syntax errors found before sending.
use super::*;
use serde_json::{Value, json};

/// The example document of the GJSON syntax reference.
fn doc() -> Value {
    json!({
        "name": {"first": "Tom", "last": "Anderson"},
        "age": 37,
        "children": ["Sara", "Alex", "Jack"],
        "fav.movie": "Deer Hunter",
        "friends": [
            {"first": "Dale", "last": "Murphy", "age": 44, "nets": ["ig", "fb", "tw"]},
            {"first": "Roger", "last": "Craig", "age": 68, "nets": ["fb", "tw"]},
            {"first": "Jane", "last": "Murphy", "age": 47, "nets": ["ig", "tw"]}
        ]
    })
}

fn eval(path: &str, v: &Value) -> Option<Value> {
    let text = v.to_string();
    let found = get(
        &text,
        &parse(path).unwrap_or_else(|e| panic!("{path}: {e}")),
    )?;
    Some(
        serde_json::from_slice(&found.raw)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&found.raw).into_owned())),
    )
}

#[test]
fn the_syntax_reference_examples() {
    let d = doc();
    let cases = [
        ("name.last", json!("Anderson")),
        ("age", json!(37)),
        ("children", json!(["Sara", "Alex", "Jack"])),
        ("children.1", json!("Alex")),
        ("friends.1.first", json!("Roger")),
        ("child*.2", json!("Jack")),
        ("c?ildren.0", json!("Sara")),
        ("fav\\.movie", json!("Deer Hunter")),
        ("friends.#", json!(3)),
        ("friends.#.age", json!([44, 68, 47])),
        ("friends.#(last==\"Murphy\").first", json!("Dale")),
        (
            "friends.#(last==\"Murphy\")#.first",
            json!(["Dale", "Jane"]),
        ),
        ("friends.#(age>45)#.last", json!(["Craig", "Murphy"])),
        ("friends.#(first%\"D*\").last", json!("Murphy")),
        ("friends.#(first!%\"D*\").last", json!("Craig")),
        ("children.#(!%\"*a*\")", json!("Alex")),
        ("children.#(%\"*a*\")#", json!(["Sara", "Jack"])),
        (
            "friends.#(nets.#(==\"fb\"))#.first",
            json!(["Dale", "Roger"]),
        ),
        ("friends|0.first", json!("Dale")),
        ("friends.0|first", json!("Dale")),
        ("friends|#", json!(3)),
        ("friends.#(last=\"Murphy\")#|#", json!(2)),
        ("friends.#(last=\"Murphy\")#.0", json!([])),
        ("children.@reverse", json!(["Jack", "Alex", "Sara"])),
        ("children.@reverse.0", json!("Jack")),
        ("children|@reverse|0", json!("Jack")),
        ("@this.age", json!(37)),
        ("{name.first,age}", json!({"first": "Tom", "age": 37})),
        (
            "{name.first,age,\"the_murphys\":friends.#(last=\"Murphy\")#.first}",
            json!({"first": "Tom", "age": 37, "the_murphys": ["Dale", "Jane"]}),
        ),
        ("[name.first,age]", json!(["Tom", 37])),
        ("..#", json!(1)),
        ("..0.age", json!(37)),
    ];
    let mut wrong = Vec::new();
    for (path, want) in cases {
        let got = eval(path, &d);
        if got.as_ref() != Some(&want) {
            wrong.push(format!("{path}: got {got:?}, want {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Dot vs pipe: `|first` applies to the whole list, which has no key.
    assert_eq!(eval("friends.#(last=\"Murphy\")#|first", &d), None);
}

#[test]
fn multipath_keys_are_written_as_the_official_gjson_does() {
    let ev = json!({"id": "evt_1", "type": "user.message", "n": {"a,b": 1}});
    let cases = [
        (r#"{"t":type}"#, json!({"t": "user.message"})),
        (
            r#"{id,"x":{"y":type}}"#,
            json!({"id": "evt_1", "x": {"y": "user.message"}}),
        ),
        ("{t:type}", json!({"t": "user.message"})),
        (r#"{"a,b:c":id}"#, json!({"a,b:c": "evt_1"})),
        (r#"{"q\"uote":id}"#, json!({"q\"uote": "evt_1"})),
        (r#"{"\u00e9":id}"#, json!({"é": "evt_1"})),
        (r#"{"x":n.a\,b}"#, json!({"x": 1})),
        ("{n.a\\,b}", json!({"a\\,b": 1})),
        (r#"["t":type,id]"#, json!(["user.message", "evt_1"])),
        (r#"{"t":type}.t"#, json!("user.message")),
        (r#"{"t":type}|t"#, json!("user.message")),
        (r#"{"missing":nope,id}"#, json!({"id": "evt_1"})),
    ];
    let mut wrong = Vec::new();
    for (path, want) in cases {
        let got = eval(path, &ev);
        if got.as_ref() != Some(&want) {
            wrong.push(format!("{path}: got {got:?}, want {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let list = json!({"data": [{"id": "a", "type": "x"}, {"id": "b", "type": "y"}]});
    assert_eq!(
        eval(r#"data.#.{"k":id}"#, &list),
        Some(json!([{"k": "a"}, {"k": "b"}]))
    );
}

#[test]
fn syntax_errors_say_what_and_where() {
    let cases = [
        ("", "empty path"),
        ("a..b", "empty path component at character 3"),
        ("a.", "empty path component at character 3"),
        (".a", "empty path component at character 1"),
        ("a|", "empty path component at character 3"),
        ("a\\", "'\\' at the end escapes nothing at character 3"),
        ("{id", "unclosed '{' (no matching '}') at character 1"),
        ("[id,type", "unclosed '[' (no matching ']') at character 1"),
        (
            "{id}x",
            "unexpected 'x' after '}' (expected '.' or '|') at character 5",
        ),
        (
            "friends.#(age>3",
            "unclosed query (no matching ')') at character 10",
        ),
        ("friends.#()", "empty query at character 11"),
        (
            "friends.#(age>)",
            "missing value after \">\" at character 15",
        ),
        (
            "friends.#(n==\"x)",
            "unclosed query (no matching ')') at character 10",
        ),
        (
            "a)b",
            "unexpected ')' in a key (escape it as \\)) at character 2",
        ),
        (
            "data.@nope",
            "@nope is not a known modifier (modifiers: @this, @reverse, @pretty, @ugly, @flatten, @join, @valid, @keys, @values, @tostr, @fromstr, @group, @dig; escape a literal @ as \\@) at character 6",
        ),
        (
            "@pretty:{\"indent\":",
            "@pretty: the argument is not valid JSON at character 9",
        ),
        (
            "!yes",
            "!yes is not a literal (use !true, !false, !null, !nan, !inf or ! and a JSON value) at character 1",
        ),
        (
            "!{\"a\":",
            "the literal after '!' is not valid JSON at character 2",
        ),
        (
            "{\"t:type}",
            "unclosed '{' (no matching '}') at character 1",
        ),
        (
            "{\"t\"x:type}",
            "invalid quoted key (a JSON string before ':') at character 2",
        ),
        ("{:type}", "empty key before ':' at character 2"),
    ];
    let mut wrong = Vec::new();
    for (path, want) in cases {
        match parse(path) {
            Ok(p) => wrong.push(format!("{path:?}: accepted as {p:?}")),
            Err(e) if e != want => wrong.push(format!("{path:?}: got {e:?}, want {want:?}")),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn valid_paths_pass_the_check() {
    for path in [
        "id",
        "data.0.content.0.text",
        "\\@foo",
        "a\\.b",
        "first name",
        "a,b",
        "@pretty:{\"sortKeys\":true}|id",
        "@reverse:anything here",
        "friends.#[age>3].first",
        "friends.#(first==Dale).age",
        "friends.#(age==~true)#",
        "{id,}",
        "{a,,b}",
        "{a.b:c}",
        "{a:{b:c,d:[e,f]}}",
        "data.#.{id,\"t\":type}|@reverse",
        "@keys",
        "model|@tostr",
        "@dig:enabled",
        "{\"ok\":!true,\"n\":!null,id}",
        "!{\"a\":1}.a",
        "[!1.5,!-2,!\"s\"]",
    ] {
        assert!(parse(path).is_ok(), "{path}: {:?}", parse(path));
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::proptest_config())]

        #[test]
        fn prop_transform_never_panics_on_arbitrary_paths(
            path in prop_oneof![
                any::<String>(),
                "[a-z0-9.|#@!*?\\\\(){}\\[\\],:\"=<>%~ -]{0,32}",
                "(friends|name|age|children|#|@reverse|@this|\\{first,\"k\":age\\}|#\\(age>4\\)#?|[0-9])([.|](friends|first|age|#|@pretty|\\[first,age\\]|[0-9])){0,5}",
            ],
            v in crate::request::value::tests::props::json(),
        ) {
            if let Ok(p) = parse(&path) {
                let _ = get(&doc().to_string(), &p);
                let _ = get(&v.to_string(), &p);
            }
        }
    }
}

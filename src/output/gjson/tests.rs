//! GJSON 1.18 evaluation on raw text: results keep the bytes they were
//! found as, and every modifier, query operator and path form behaves as
//! the official GJSON's (expected values worked out from its rules and the
//! examples of its syntax reference; `tests/it/official.rs` holds the
//! outputs recorded from the official CLI).

use super::*;

const DOC: &str = r#"{
  "name": {"first": "Tom", "last": "Anderson"},
  "age":37,
  "children": ["Sara","Alex","Jack"],
  "fav.movie": "Deer Hunter",
  "friends": [
    {"first": "Dale", "last": "Murphy", "age": 44, "nets": ["ig", "fb", "tw"]},
    {"first": "Roger", "last": "Craig", "age": 68, "nets": ["fb", "tw"]},
    {"first": "Jane", "last": "Murphy", "age": 47, "nets": ["ig", "tw"]}
  ]
}"#;

/// The raw text `path` finds in `json`, or `None`.
fn raw(json: &str, path: &str) -> Option<String> {
    let p = parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    get(json, &p).map(|r| String::from_utf8(r.raw.into_owned()).unwrap())
}

fn check(json: &str, cases: &[(&str, &str)]) {
    let mut wrong = Vec::new();
    for (path, want) in cases {
        let got = raw(json, path);
        if got.as_deref() != Some(*want) {
            wrong.push(format!("{path}: got {got:?}, want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn results_keep_the_bytes_they_were_found_as() {
    let json =
        r#"{"n":1.50,"e":1E+2,"s":"\u003c\/","o":{ "a" : [ 1 , 2 ] },"big":18446744073709551617}"#;
    check(
        json,
        &[
            ("n", "1.50"),
            ("e", "1E+2"),
            ("s", r#""\u003c\/""#),
            ("o", r#"{ "a" : [ 1 , 2 ] }"#),
            ("o.a", "[ 1 , 2 ]"),
            ("o.a.1", "2"),
            ("big", "18446744073709551617"),
            ("[n,e]", "[1.50,1E+2]"),
            ("{n,s}", r#"{"n":1.50,"s":"\u003c\/"}"#),
        ],
    );
}

#[test]
fn paths_keys_indexes_wildcards_and_escapes() {
    check(
        DOC,
        &[
            ("name.last", r#""Anderson""#),
            ("children.1", r#""Alex""#),
            ("child*.2", r#""Jack""#),
            ("c?ildren.0", r#""Sara""#),
            ("fav\\.movie", r#""Deer Hunter""#),
            ("friends.#", "3"),
            ("friends.#.age", "[44,68,47]"),
            ("friends.#.nope", "[]"),
            ("friends.1.nets.#", "2"),
            ("friends|#", "3"),
        ],
    );
    assert_eq!(raw(DOC, "children.3"), None);
    assert_eq!(raw(DOC, "name.first.x"), None);
    // A key repeated in an object: the first one.
    check(r#"{"k":"first","k":"second"}"#, &[("k", r#""first""#)]);
}

#[test]
fn queries_compare_strings_numbers_booleans_and_patterns() {
    check(
        DOC,
        &[
            (r#"friends.#(last=="Murphy").first"#, r#""Dale""#),
            (r#"friends.#(last=="Murphy")#.first"#, r#"["Dale","Jane"]"#),
            ("friends.#(age>45)#.last", r#"["Craig","Murphy"]"#),
            ("friends.#(age<=44).first", r#""Dale""#),
            (r#"friends.#(first%"D*").last"#, r#""Murphy""#),
            (r#"friends.#(first!%"D*")#.first"#, r#"["Roger","Jane"]"#),
            (r#"children.#(!%"*a*")"#, r#""Alex""#),
            (r#"children.#(%"*a*")#"#, r#"["Sara","Jack"]"#),
            (r#"friends.#(nets.#(=="fb"))#.first"#, r#"["Dale","Roger"]"#),
            (r#"friends.#(first!="Dale")#|#"#, "2"),
        ],
    );
    let vals = r#"{"vals":[{"a":1,"b":true},{"a":2,"b":"true"},{"a":3,"b":false},{"a":4,"b":"0"},{"a":5,"b":0},{"a":6,"b":1},{"a":7,"b":null},{"a":8}]}"#;
    check(
        vals,
        &[
            ("vals.#(b==~true)#.a", "[1,2,6]"),
            ("vals.#(b==~false)#.a", "[3,4,5,7,8]"),
            ("vals.#(b==~null)#.a", "[7,8]"),
            ("vals.#(b==~*)#.a", "[1,2,3,4,5,6,7]"),
            ("vals.#(b!=~*)#.a", "[8]"),
            // Strings compare as text and numbers as numbers (a value that
            // is no number, such as `true`, reads as 0).
            ("vals.#(b==true)#.a", "[1,2,5]"),
            ("vals.#(b>false)#.a", "[1,2,6]"),
            ("vals.#(b)#.a", "[1,2,3,4,5,6,7]"),
        ],
    );
}

#[test]
fn every_modifier() {
    check(
        DOC,
        &[
            ("children|@reverse", r#"["Jack","Alex","Sara"]"#),
            ("children|@reverse|0", r#""Jack""#),
            ("children.@reverse.0", r#""Jack""#),
            ("name|@reverse", r#"{"last":"Anderson","first":"Tom"}"#),
            (
                "@keys",
                r#"["name","age","children","fav.movie","friends"]"#,
            ),
            ("name|@values", r#"["Tom","Anderson"]"#),
            ("children|@values", r#"["Sara","Alex","Jack"]"#),
            ("children|@keys", "[null,null,null]"),
            ("name|@ugly", r#"{"first":"Tom","last":"Anderson"}"#),
            (
                "name|@pretty",
                "{\n  \"first\": \"Tom\",\n  \"last\": \"Anderson\"\n}\n",
            ),
            (
                r#"name|@pretty:{"sortKeys":true,"indent":"\t","prefix":"x "}"#,
                "{\n \t\"first\": \"Tom\",\n \t\"last\": \"Anderson\"\n }\n",
            ),
            (
                "name|@tostr",
                r#""{\"first\": \"Tom\", \"last\": \"Anderson\"}""#,
            ),
            ("@this.age", "37"),
            ("name.first|@valid", r#""Tom""#),
            ("@dig:first", r#"["Tom","Dale","Roger","Jane"]"#),
            (
                "friends.#.nets|@flatten",
                r#"["ig", "fb", "tw","fb", "tw","ig", "tw"]"#,
            ),
            // `[1,[2]]` is a multipath of paths that find nothing here: `[[]]`.
            (
                "[friends.#.nets,[1,[2]]]|@flatten:{\"deep\":true}",
                r#"["ig","fb","tw","fb","tw","ig","tw"]"#,
            ),
        ],
    );
    check(
        r#"[{"first":"Tom","age":37},{"age":41},7]"#,
        &[
            ("@join", r#"{"first":"Tom","age":41}"#),
            (
                "@join:{\"preserve\":true}",
                r#"{"first":"Tom","age":37,"age":41}"#,
            ),
        ],
    );
    check(
        r#"{"id":["123","456","789"],"val":[2,1]}"#,
        &[(
            "@group",
            r#"[{"id":"123","val":2},{"id":"456","val":1},{"id":"789"}]"#,
        )],
    );
    check(
        r#"{"s":"{\"a\":[1, 2]}","h":"<a&b>","n":"x\u2028y"}"#,
        &[
            ("s|@fromstr", r#"{"a":[1, 2]}"#),
            ("s|@fromstr|a.1", "2"),
            ("h|@tostr", r#""\"\u003ca\u0026b\u003e\"""#),
        ],
    );
    // Text that is no JSON value once decoded finds nothing.
    assert_eq!(raw(r#"{"n":"x y"}"#, "n|@fromstr"), None);
}

#[test]
fn multipaths_literals_and_json_lines() {
    check(
        DOC,
        &[
            ("{name.first,age}", r#"{"first":"Tom","age":37}"#),
            (
                r#"{"who":name.first,"n":friends.#,x:nope}"#,
                r#"{"who":"Tom","n":3}"#,
            ),
            ("{friends.#}", r#"{"_":3}"#),
            ("[name.first,nope,age]", r#"["Tom",37]"#),
            (
                r#"{"ok":!true,"n":!null,"x":!{"a":[1]},age}"#,
                r#"{"ok":true,"n":null,"x":{"a":[1]},"age":37}"#,
            ),
            ("{name.first,age}|@keys", r#"["first","age"]"#),
            (
                "friends.#.{first,\"n\":nets.#}",
                r#"[{"first":"Dale","n":3},{"first":"Roger","n":2},{"first":"Jane","n":2}]"#,
            ),
        ],
    );
    let lines = "{\"a\":1}\n{\"a\":2}\n";
    check(lines, &[("..#", "2"), ("..#.a", "[1,2]"), ("..1.a", "2")]);
}

#[test]
fn nothing_found_is_none() {
    for path in [
        "nope",
        "name.nope",
        "friends.5",
        "friends.#(age>100).first",
        "@valid.x",
    ] {
        assert_eq!(raw(DOC, path), None, "{path}");
    }
    assert_eq!(raw(r#"{"a":[1,2]}"#, "a.#(>5)#"), Some("[]".into()));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::proptest_config())]

        #[test]
        fn prop_paths_never_panic_on_any_text(
            text in "[\\[\\]{}\":,a-z0-9 .\\\\#@!*?|()=<>%~-]{0,40}",
            path in prop_oneof![
                "[a-z0-9.|#@!*?\\\\(){}\\[\\],:\"=<>%~ -]{1,24}",
                "(@this|@reverse|@keys|@values|@tostr|@fromstr|@group|@dig:a|@flatten|@join|@pretty|@ugly|@valid|a|#|0|\\.\\.#)([.|](@reverse|@keys|a|#|0|\\{a,b\\}|\\[a\\])){0,3}",
            ],
        ) {
            if let Ok(p) = parse(&path) {
                let _ = get(&text, &p);
            }
        }
    }
}

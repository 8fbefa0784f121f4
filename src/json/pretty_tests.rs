//! The official layout's rules: one member per line, arrays on one line
//! while they fit and hold no object, widths counted in bytes, bytes of
//! strings and numbers kept, `@pretty` options, and `@ugly`.

use super::*;

fn p(json: &str) -> String {
    String::from_utf8(pretty(json.as_bytes())).unwrap()
}

#[test]
fn objects_put_one_member_per_line_and_keep_repeated_keys() {
    assert_eq!(
        p(r#"{"a":1,"b":{"c":"x"},"a":null}"#),
        "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  },\n  \"a\": null\n}\n"
    );
    assert_eq!(p("{ }"), "{}\n");
    assert_eq!(p(" [ \t] "), "[]\n");
    assert_eq!(p(""), "");
}

#[test]
fn arrays_stay_on_one_line_while_they_fit_and_hold_no_object() {
    assert_eq!(
        p(r#"{"a":["x","y"],"n":[[1,2],[3,[4,5]],[]]}"#),
        "{\n  \"a\": [\"x\", \"y\"],\n  \"n\": [[1, 2], [3, [4, 5]], []]\n}\n"
    );
    assert_eq!(
        p(r#"{"w":[1,{"k":"v"},[2]]}"#),
        "{\n  \"w\": [\n    1,\n    {\n      \"k\": \"v\"\n    },\n    [2]\n  ]\n}\n"
    );
    assert_eq!(p("[{}]"), "[\n  {}\n]\n");
}

#[test]
fn the_width_is_79_bytes_on_a_line_and_80_at_the_top() {
    // `  "k": ` is 7 bytes: the array may take 72.
    let items = |n: usize, last: &str| {
        let mut v: Vec<String> = (0..n).map(|i| format!("\"i{i:02}xxx\"")).collect();
        v.push(format!("\"{last}\""));
        format!("[{}]", v.join(","))
    };
    let fits = items(6, "zzzzzz"); // 7 × 8 bytes + 6 × 2 + 2 = 70
    assert_eq!(p(&format!("{{\"k\":{fits}}}")).lines().count(), 3);
    let exact = items(6, "zzzzzzzz"); // 72 bytes: a line of 79
    let out = p(&format!("{{\"k\":{exact}}}"));
    assert_eq!(out.lines().nth(1).unwrap().len(), 79, "{out}");
    let over = items(6, "zzzzzzzzz"); // 73 bytes
    assert!(p(&format!("{{\"k\":{over}}}")).lines().count() > 3);
    // At the top an array may take 80 bytes.
    let top = items(7, "zzzzzz"); // 8 × 8 + 7 × 2 + 2 = 80
    assert_eq!(p(&top), format!("{}\n", top.replace(',', ", ")));
    let top = items(7, "zzzzzzz");
    assert!(p(&top).lines().count() > 1);
}

#[test]
fn width_counts_bytes_not_characters() {
    // Seven Cyrillic words: 61 characters, 94 bytes; 70 bytes remain.
    let words = r#"["привет","мир","как","дела","хорошо","спасибо","пока"]"#;
    assert!(p(&format!("{{\"cyr\":{words}}}")).lines().count() > 3);
    assert_eq!(
        p(r#"{"c":["да","нет"]}"#),
        "{\n  \"c\": [\"да\", \"нет\"]\n}\n"
    );
}

#[test]
fn bytes_of_strings_and_numbers_are_kept() {
    let body =
        "{\"s\":\"\\u003c\\/\u{2028}\\ud83c\\udf89\",\"n\":[1.50,1E+2,-0,18446744073709551617]}";
    assert_eq!(
        p(body),
        "{\n  \"s\": \"\\u003c\\/\u{2028}\\ud83c\\udf89\",\n  \"n\": [1.50, 1E+2, -0, 18446744073709551617]\n}\n"
    );
    assert_eq!(p(" \"x\" "), "\"x\"\n");
    assert_eq!(p("12"), "12\n");
}

#[test]
fn a_key_too_long_for_any_one_line_array_breaks_it() {
    let key = "k".repeat(76);
    assert_eq!(
        p(&format!("{{\"{key}\":[1]}}")),
        format!("{{\n  \"{key}\": [\n    1\n  ]\n}}\n")
    );
}

#[test]
fn options_indent_prefix_and_sorted_keys() {
    let opts = Options {
        indent: "\t".into(),
        prefix: " ".into(),
        ..Options::default()
    };
    assert_eq!(
        String::from_utf8(pretty_options(br#"{"a":1,"b":[2]}"#, &opts)).unwrap(),
        " {\n \t\"a\": 1,\n \t\"b\": [2]\n }\n"
    );
    let sorted = Options {
        sort_keys: true,
        ..Options::default()
    };
    assert_eq!(
        String::from_utf8(pretty_options(
            br#"{"b":{"z":1,"y":2},"a":[3],"b":0}"#,
            &sorted
        ))
        .unwrap(),
        "{\n  \"a\": [3],\n  \"b\": 0,\n  \"b\": {\n    \"y\": 2,\n    \"z\": 1\n  }\n}\n"
    );
}

#[test]
fn ugly_drops_whitespace_outside_strings_only() {
    assert_eq!(
        ugly(b" {\r\n \"a b\" : [ 1 ,\t\"x\\\" y\" ] } "),
        b"{\"a b\":[1,\"x\\\" y\"]}"
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    proptest! {
        #![proptest_config(crate::proptest_config())]

        #[test]
        fn prop_layouts_keep_the_value(v in crate::request::value::tests::props::json()) {
            let text = v.to_string();
            let laid: Value = serde_json::from_slice(&pretty(text.as_bytes())).unwrap();
            prop_assert_eq!(&laid, &v);
            let line: Value = serde_json::from_slice(&ugly(text.as_bytes())).unwrap();
            prop_assert_eq!(&line, &v);
            let sorted = Options { sort_keys: true, width: 20, ..Options::default() };
            let _ = pretty_options(text.as_bytes(), &sorted);
        }

        #[test]
        fn prop_any_bytes_lay_out_without_panicking(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = pretty(&b);
            let _ = ugly(&b);
        }
    }
}

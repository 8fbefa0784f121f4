//! YAML rendering for `--format yaml`, through serde-saphyr's serializer. It
//! quotes every string a YAML 1.1 reader would mis-type (yes/no/on/off,
//! numbers, null, dates, leading/trailing spaces, indicators, empty) and uses
//! block scalars for multi-line strings; the tests pin that and round-trip it.

use crate::error::{Error, Result};
use serde_json::Value;

/// Renders one value as a YAML document (no `---` marker), ending in a newline.
pub(crate) fn render(value: &Value) -> Result<String> {
    let mut s =
        serde_saphyr::to_string(value).map_err(|e| Error::Other(format!("rendering YAML: {e}")))?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(v: &Value) -> String {
        let y = render(v).unwrap();
        let back: Value = serde_saphyr::from_str(&y).unwrap_or_else(|e| panic!("{e}\n{y}"));
        assert_eq!(&back, v, "round trip through\n{y}");
        y
    }

    #[test]
    fn small_object_in_key_order() {
        let v: Value = serde_json::from_str(
            r#"{"id":"agent_1","count":2,"ratio":0.5,"ok":true,"gone":null,"tags":["a","b"],"meta":{},"list":[]}"#,
        )
        .unwrap();
        assert_eq!(
            round_trip(&v),
            "id: agent_1\ncount: 2\nratio: 0.5\nok: true\ngone: null\ntags:\n- a\n- b\nmeta: {}\nlist: []\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "Y",
            "true",
            "False",
            "null",
            "Null",
            "~",
            "",
            "1",
            "1.5",
            "1e3",
            "0x1F",
            "0o17",
            "+1",
            ".5",
            ".inf",
            "12:30:00",
            "2024-01-01",
            " x",
            "x ",
            "a: b",
            "#c",
            "x #y",
            "- x",
            "? x",
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
            "---",
            "...",
            "<<",
            "\t",
        ] {
            let y = round_trip(&json!({ "k": s }));
            assert!(
                y.starts_with("k: \"") || y.starts_with("k: '"),
                "{s:?} -> {y}"
            );
        }
        // Keys too.
        assert!(round_trip(&json!({"yes": 1})).starts_with("\"yes\": 1"));
    }

    #[test]
    fn plain_strings_stay_plain() {
        assert_eq!(round_trip(&json!({"k": "hello world"})), "k: hello world\n");
        assert_eq!(
            round_trip(&json!({"k": "claude-sonnet-4-5"})),
            "k: claude-sonnet-4-5\n"
        );
    }

    #[test]
    fn multi_line_and_odd_strings_round_trip() {
        let long = "word ".repeat(40);
        for s in [
            "multi\nline".to_string(),
            "trailing newline\n".into(),
            "two trailing\n\n".into(),
            "  leading indent\nx".into(),
            "a\r\nb".into(),
            "ctrl \u{7} \u{1b}[0m".into(),
            "tab\there".into(),
            "\n".into(),
            format!("{long}  double  spaces {long}"),
            format!("{long}\n  indented {long}\nback"),
            "x\n---\ny".into(),
            "emoji 😀 and é".into(),
        ] {
            round_trip(&json!({ "k": s, "a": [s] }));
        }
    }

    #[test]
    fn numbers_and_scalars_at_top_level() {
        let v = json!({"big": 18446744073709551615u64, "neg": -3, "f": 1.0, "e": 1e300});
        round_trip(&v);
        assert_eq!(render(&json!("text")).unwrap(), "text\n");
        assert_eq!(render(&json!(5)).unwrap(), "5\n");
        assert_eq!(render(&json!(null)).unwrap(), "null\n");
        assert_eq!(render(&json!([])).unwrap(), "[]\n");
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
                let y = render(&v).unwrap();
                prop_assert_eq!(crate::request::value::parse_yaml(&y), Ok(v), "{}", y);
            }
        }
    }
}

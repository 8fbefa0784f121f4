//! Turns one flag's text into a JSON value the way the official CLI does:
//! schema-guided scalars, relaxed YAML for objects and arrays, `null` for
//! nullable fields. Pure functions; `@file` references are resolved later.

use serde_json::{Number, Value};

use crate::api::types::{self, ARRAY, BOOLEAN, INTEGER, NULL, NUMBER, OBJECT, STRING};

/// Parses relaxed YAML (which covers JSON and flow style) with safe options:
/// YAML 1.1 booleans (`yes`, `on`) and leading-zero numbers stay strings,
/// and a key given twice in one map is an error (as YAML says, and as the
/// official CLI's parser does), never a value silently dropped.
pub fn parse_yaml(text: &str) -> Result<Value, String> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        with_snippet: false,
    };
    if text.trim().is_empty() {
        return Ok(Value::String(text.to_string()));
    }
    // JSON is YAML, but a few characters JSON allows raw in strings (DEL,
    // C1 controls, U+FFFE) are not printable YAML: valid JSON reads as JSON.
    match serde_json::from_str::<Unique>(text) {
        Ok(Unique(v)) => return Ok(v),
        // Our own error: a duplicate key.
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            let text = e.to_string();
            let what = text.rsplit_once(" at line ").map_or(&*text, |(m, _)| m);
            return Err(format!(
                "{what} at line {}, column {}",
                e.line(),
                e.column()
            ));
        }
        Err(_) => {}
    }
    serde_saphyr::from_str_with_options::<Value>(text, options).map_err(|e| yaml_error(&e))
}

/// A JSON value read with a key given twice in one object refused
/// (serde_json's own `Value` silently keeps the last).
struct Unique(Value);

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(n.into())
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(n.into())
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Unique(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
            }
            let Unique(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Deepest nesting of lists and maps the YAML parser accepts.
const MAX_DEPTH: usize = 64;

/// A YAML error in plain words with its line and column, never the
/// parser's developer hints (type names, API names, debug dumps).
fn yaml_error(e: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach;
    let mut inner = e;
    let mut through_alias = false;
    loop {
        match inner {
            E::WithSnippet { error, .. } => inner = error,
            E::AliasError { error, .. } => {
                through_alias = true;
                inner = error;
            }
            _ => break,
        }
    }
    let expands = "aliases (*name) expand into too large a value";
    let plain = match inner {
        E::Budget {
            breach: BudgetBreach::Depth { .. },
            ..
        } => format!("nesting deeper than {MAX_DEPTH} levels"),
        E::Budget { .. } if through_alias => expands.to_string(),
        E::Budget { .. } => "too large or too complex".to_string(),
        E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => expands.to_string(),
        E::RecursiveReferencesRequireWeakTypes { .. } => {
            "an alias (*name) refers to a value that contains it".to_string()
        }
        E::MultipleDocuments { .. } => {
            "more than one YAML document (a '---' line starts another); give one".to_string()
        }
        E::NullIntoString { .. } => {
            "a key is null; keys must be text (quote \"null\" to mean the word)".to_string()
        }
        E::DuplicateMappingKey { key: Some(k), .. } => format!("duplicate key {k:?}"),
        E::DuplicateMappingKey { key: None, .. } => "duplicate key".to_string(),
        // The parser's user-facing wording; it ends with the location.
        other => {
            let text = other.render_with_formatter(&serde_saphyr::UserMessageFormatter);
            return one_line(&text.replace(" u64", " integer").replace(" i64", " integer"));
        }
    };
    match inner.location().filter(|l| l.line() > 0) {
        Some(l) => format!("{plain} at line {}, column {}", l.line(), l.column()),
        None => plain,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text that may be an ID, base64 or a plain word: kept as a string when it
/// is not valid YAML.
fn is_plain_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '=' | '+' | '/'))
}

/// Parses a flag value for a field accepting `types` (see [`types`]).
pub fn parse_typed(raw: &str, types: u8) -> Result<Value, String> {
    let t = types & !NULL;
    if types & NULL != 0 && raw == "null" {
        return Ok(Value::Null);
    }
    if t == STRING {
        return Ok(Value::String(raw.to_string()));
    }
    if t == BOOLEAN {
        return parse_bool(raw)
            .map(Value::Bool)
            .ok_or_else(|| format!("expected a boolean (true or false), got {raw:?}"));
    }
    if t != 0 && t & !(INTEGER | NUMBER) == 0 {
        return parse_number(raw, t & NUMBER != 0)
            .ok_or_else(|| format!("expected {}, got {raw:?}", types::describe(t)));
    }
    // A field taking text or a structure: only `{...}` and `[...]` are
    // structures; anything else (with `#`, `: `, quotes, `@file`) is the
    // text itself. Untyped fields (all types) are relaxed YAML throughout.
    if t & STRING != 0 && t != types::ANY & !NULL {
        let trimmed = raw.trim_start();
        if trimmed.starts_with('{') {
            return parse_yaml(raw).map_err(|e| format!("failed to parse as YAML: {e}"));
        }
        if !trimmed.starts_with('[') {
            return Ok(Value::String(raw.to_string()));
        }
        return Ok(parse_yaml(raw)
            .ok()
            .filter(|v| v.is_array())
            .unwrap_or_else(|| Value::String(raw.to_string())));
    }
    match parse_yaml(raw) {
        Ok(Value::String(s)) => Ok(Value::String(s)),
        Ok(v) if t & STRING != 0 && !matches!(v, Value::Object(_) | Value::Array(_)) => {
            // A scalar where a string is allowed keeps its exact spelling.
            if v.is_null() && types & NULL != 0 {
                Ok(Value::Null)
            } else {
                Ok(Value::String(raw.to_string()))
            }
        }
        Ok(v) => Ok(v),
        Err(_) if t & STRING != 0 && is_plain_word(raw) => Ok(Value::String(raw.to_string())),
        Err(e) => Err(format!("failed to parse as YAML: {e}")),
    }
}

/// Go's `strconv.ParseBool` spellings.
pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Integers accept base prefixes (`0x1f`, `0o17`, `0b101`) and `_` separators.
fn parse_number(raw: &str, float_ok: bool) -> Option<Value> {
    let s = raw.trim().replace('_', "");
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, s.trim_start_matches('+').to_string()),
    };
    let radix = [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ]
    .iter()
    .find(|(p, _)| digits.starts_with(p));
    if let Some((prefix, radix)) = radix {
        let n = i128::from_str_radix(&digits[prefix.len()..], *radix).ok()?;
        return int_value(if neg { -n } else { n });
    }
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        let n: i128 = digits.parse().ok()?;
        return int_value(if neg { -n } else { n });
    }
    if float_ok {
        let f: f64 = s.parse().ok()?;
        if f.is_finite() {
            return Number::from_f64(f).map(Value::Number);
        }
    }
    None
}

fn int_value(n: i128) -> Option<Value> {
    if let Ok(i) = i64::try_from(n) {
        Some(Value::from(i))
    } else {
        u64::try_from(n).ok().map(Value::from)
    }
}

/// A repeated flag's occurrence: one element, or a whole list when the
/// value is a YAML array and elements are not arrays themselves (so the
/// official `update --tool '[...]'` form keeps working).
pub fn parse_elements(raw: &str, item_types: u8) -> Result<Vec<Value>, String> {
    let it = item_types & !NULL;
    if it & ARRAY == 0
        && it != STRING
        && raw.trim_start().starts_with('[')
        && let Ok(Value::Array(items)) = parse_yaml(raw)
    {
        return Ok(items);
    }
    if it & (OBJECT | ARRAY) == 0 && it & STRING == 0 && raw.trim_start().starts_with('[') {
        return Err(format!("expected {}, got a list", types::describe(it)));
    }
    parse_typed(raw, item_types).map(|v| vec![v])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_fields_keep_the_exact_text() {
        assert_eq!(parse_typed("123", STRING).unwrap(), json!("123"));
        assert_eq!(parse_typed("true", STRING).unwrap(), json!("true"));
        assert_eq!(
            parse_typed("line1\nline2", STRING).unwrap(),
            json!("line1\nline2")
        );
        assert_eq!(parse_typed("null", STRING).unwrap(), json!("null"));
        assert_eq!(parse_typed("null", STRING | NULL).unwrap(), json!(null));
    }

    #[test]
    fn numbers_follow_the_schema() {
        assert_eq!(parse_typed("0.50", NUMBER | INTEGER).unwrap(), json!(0.5));
        assert_eq!(parse_typed("1024", INTEGER).unwrap(), json!(1024));
        assert_eq!(parse_typed("0x10", INTEGER).unwrap(), json!(16));
        assert!(
            parse_typed("1.5", INTEGER)
                .unwrap_err()
                .contains("expected integer")
        );
        assert!(parse_typed("abc", INTEGER).is_err());
    }

    #[test]
    fn booleans_take_go_spellings_only() {
        assert_eq!(parse_typed("true", BOOLEAN).unwrap(), json!(true));
        assert_eq!(parse_typed("F", BOOLEAN).unwrap(), json!(false));
        assert!(parse_typed("yes", BOOLEAN).is_err());
    }

    #[test]
    fn objects_are_relaxed_yaml_with_safe_options() {
        assert_eq!(
            parse_typed("{id: claude-opus-4-7, effort: low}", OBJECT).unwrap(),
            json!({"id": "claude-opus-4-7", "effort": "low"})
        );
        assert_eq!(
            parse_typed("{foo: 1, bar: yes, baz: null, z: 017}", OBJECT).unwrap(),
            json!({"foo": 1, "bar": "yes", "baz": null, "z": "017"})
        );
        // A key given twice is refused, in YAML and in JSON, at any depth;
        // a merge key's values may still be overridden.
        for (text, at) in [
            ("{a: 1, a: 2}", "line 1, column 8"),
            ("x: {b: 1}\ny: {b: 1, b: 2}", "line 2, column 11"),
            (r#"{"a": 1, "a": 2}"#, "line 1, column 12"),
            (r#"[{"a": {"b": 1, "b": 2}}]"#, "line 1, column 19"),
        ] {
            assert_eq!(
                parse_yaml(text),
                Err(format!(
                    "duplicate key {:?} at {at}",
                    if text.contains('b') { "b" } else { "a" }
                )),
                "{text}"
            );
        }
        assert_eq!(
            parse_typed("{<<: {a: 1, b: 1}, a: 2}", OBJECT).unwrap(),
            json!({"a": 2, "b": 1})
        );
        assert_eq!(
            parse_typed("{url: http://example.com/x?a=b}", OBJECT).unwrap(),
            json!({"url": "http://example.com/x?a=b"})
        );
        assert!(
            parse_typed("{a: [1, 2", OBJECT)
                .unwrap_err()
                .contains("YAML")
        );
    }

    #[test]
    fn string_or_object_fields_accept_a_plain_string() {
        let t = STRING | OBJECT;
        assert_eq!(
            parse_typed("claude-opus-4-7", t).unwrap(),
            json!("claude-opus-4-7")
        );
        assert_eq!(parse_typed("{id: x}", t).unwrap(), json!({"id": "x"}));
        assert_eq!(parse_typed("42", t).unwrap(), json!("42"));
    }

    #[test]
    fn text_or_structure_fields_send_plain_text_exactly() {
        let t = STRING | ARRAY | NULL;
        for text in [
            "Use tabs # not spaces",
            "Note: be brief",
            "'single quoted'",
            "@prompt.txt",
            "[IMPORTANT] be brief",
        ] {
            assert_eq!(parse_typed(text, t).unwrap(), json!(text), "{text}");
        }
        assert_eq!(
            parse_typed("[{type: text, text: hi}]", t).unwrap(),
            json!([{"type": "text", "text": "hi"}])
        );
        assert_eq!(parse_typed("null", t).unwrap(), json!(null));
        assert!(
            parse_typed("{id: [x", STRING | OBJECT)
                .unwrap_err()
                .contains("YAML")
        );
    }

    #[test]
    fn yaml_errors_are_plain_words_with_line_and_column() {
        // Not JSON (a bare word), so the YAML parser and its limit decide.
        let deep = format!("{}a{}", "[".repeat(70), "]".repeat(70));
        assert_eq!(
            parse_yaml(&deep).unwrap_err(),
            "nesting deeper than 64 levels at line 1, column 65"
        );
        assert_eq!(
            parse_yaml("a: 1\n---\nb: 2\n").unwrap_err(),
            "more than one YAML document (a '---' line starts another); give one at line 3, column 1"
        );
        let e = parse_yaml("{~: 1}").unwrap_err();
        assert!(e.starts_with("a key is null; keys must be text"), "{e}");
        // Aliases that expand past the parser's budget (a "billion laughs"),
        // or that contain themselves.
        let mut bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n".to_string();
        for (name, prev) in ["b", "c", "d", "e", "f", "g"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f"])
        {
            let refs = vec![format!("*{prev}"); 10].join(", ");
            bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        assert_eq!(
            parse_yaml(&bomb).unwrap_err(),
            "aliases (*name) expand into too large a value at line 1, column 11"
        );
        assert_eq!(
            parse_yaml("&x [*x, *x]").unwrap_err(),
            "an alias (*name) refers to a value that contains it at line 1, column 5"
        );
        for bad in [
            "a: [1, 2\nb: 3",
            "{a: *x}",
            "a: !!binary x",
            "x: 1\n  y: 2",
            "\"open",
            "a: !!int x",
            &bomb,
            "{a: &x {b: *x}}",
        ] {
            let e = parse_yaml(bad).unwrap_err();
            assert!(
                e.contains(" at line ") && e.contains(", column "),
                "{bad:?}: {e}"
            );
            for internal in [
                "Option<", "from_str", "budget", "Depth", "Nodes", "{ ", "struct", "u64",
                "breached",
            ] {
                assert!(!e.contains(internal), "{bad:?}: {e}");
            }
        }
    }

    #[test]
    fn untyped_values_unquote_yaml_strings() {
        assert_eq!(
            parse_typed("'2019-12-27T18:11:19.117Z'", types::ANY).unwrap(),
            json!("2019-12-27T18:11:19.117Z")
        );
    }

    #[test]
    fn repeated_values_accept_one_element_or_a_whole_list() {
        assert_eq!(
            parse_elements("{type: a}", OBJECT).unwrap(),
            vec![json!({"type": "a"})]
        );
        assert_eq!(
            parse_elements("[{type: a}, {type: b}]", OBJECT).unwrap(),
            vec![json!({"type": "a"}), json!({"type": "b"})]
        );
        assert_eq!(parse_elements("[x]", STRING).unwrap(), vec![json!("[x]")]);
        assert_eq!(
            parse_elements("[agent_1, {type: self}]", STRING | OBJECT).unwrap(),
            vec![json!("agent_1"), json!({"type": "self"})]
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// The types a field holding `v` would accept.
        fn field_types(v: &Value) -> u8 {
            match v {
                Value::Null => STRING | NULL,
                Value::Bool(_) => BOOLEAN,
                Value::Number(n) if n.is_f64() => NUMBER,
                Value::Number(_) => INTEGER,
                Value::String(_) => STRING,
                Value::Array(_) => ARRAY,
                Value::Object(_) => OBJECT,
            }
        }

        /// `v` written as a user would give it on the command line.
        fn flag_text(v: &Value) -> String {
            match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        }

        proptest! {
            #![proptest_config(crate::proptest_config())]

            #[test]
            fn prop_relaxed_yaml_never_panics(
                text in prop_oneof![any::<String>(), "[\\[\\]{}:,?#&*!|>'\"%@` \n\ta-z0-9~-]{0,48}"],
                t in any::<u8>(),
            ) {
                let _ = parse_yaml(&text);
                let _ = parse_typed(&text, t & types::ANY);
                let _ = parse_elements(&text, t & types::ANY);
            }

            #[test]
            fn prop_json_values_round_trip_through_flag_values(v in crate::arbitrary_json()) {
                let typed = field_types(&v);
                prop_assert_eq!(parse_typed(&flag_text(&v), typed), Ok(v.clone()));
                // Untyped fields read structures and quoted strings as
                // JSON (other scalars keep their spelling, as text).
                if matches!(v, Value::Array(_) | Value::Object(_) | Value::String(_)) {
                    prop_assert_eq!(parse_typed(&v.to_string(), types::ANY), Ok(v));
                }
            }
        }
    }
}

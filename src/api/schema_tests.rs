//! Tests of the schema checks: hand-written schemas and real table entries.
use super::*;
use crate::api::{OPERATIONS, Operation};
use serde_json::json;

/// One case a line: `= SCHEMA` (JSON) or `@ GROUP VERB PARAM` (a table
/// param) sets the schema; `MODE VALUE => EXPECTED` checks a value, MODE
/// being S (strict), L (lenient) or N (lenient, enums off), EXPECTED `ok`
/// or the displayed error (a prefix of it when ending in ` …`). Other
/// lines are comments.
const CASES: &str = r##"
= {"type":"integer"}
S 5 => ok
S 5.0 => ok
S 5.5 => expected integer, got number
S "5" => expected integer, got string
= {"type":"number"}
S 5 => ok
= {"type":["string","null"]}
S null => ok
S true => expected string or null, got boolean
= {"type":"object"}
S [1] => expected object, got array
S {"k":1} => ok
= {"format":"path","default":1}
S {"a":[1]} => ok
S null => ok
= true
S "x" => ok
= false
S 1 => no value allowed here

= {"type":"string","enum":["low","high"]}
S "low" => ok
S "mid" => expected one of low, high; got "mid"
N "mid" => ok
= {"const":"a"}
S "b" => expected a, got "b"
S "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy" => expected a, got "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy...
= {"enum":[1,null]}
S 2 => expected one of 1, null; got 2
= {"enum":["v0","v1","v2","v3","v4","v5","v6","v7","v8","v9","v10","v11","v12","v13"]}
S "x" => expected one of v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, and 2 more; got "x"

= {"type":"object","properties":{"name":{"type":"string"},"inner":{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}},"required":["name"]}
S {"name":"a"} => ok
S {"name":"a","nmae":1} => nmae: unknown field; known fields: name, inner
L {"name":"a","nmae":1} => ok
L {"nmae":1} => name: required field missing
L {"name":"a","inner":{}} => inner.id: required field missing
S {} => name: required field missing
S {"name":"a","inner":{}} => inner.id: required field missing
L {"inner":{"id":3}} => inner.id: expected string, got integer
= {"type":"integer","minimum":1,"maximum":100}
L 1 => ok
L -5 => expected at least 1, got -5
L 101 => expected at most 100, got 101
= {"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1.5}
L 0.5 => ok
L 0 => expected more than 0, got 0
L 1.5 => expected less than 1.5, got 1.5
= {"type":"object","properties":{},"additionalProperties":true}
S {"x":1} => ok
= {"type":"object","additionalProperties":{"type":"string"}}
S {"k":"v"} => ok
S {"k":1} => k: expected string, got integer
L {"k":1} => k: expected string, got integer
= {"type":"object","additionalProperties":false}
S {"k":1} => k: unknown field (no fields allowed)
L {"k":1} => ok
= {"type":"object","properties":{"tools":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}}}}}}
S {"tools":[{"name":"a"},{"name":2}]} => tools[1].name: expected string, got integer
= {"type":"array","items":{"type":"object","properties":{"name":{"type":"string"}}}}
L [{"name":2}] => [0].name: expected string, got integer

# Unions tried in order: the deepest failure speaks, same-place failures merge.
= {"anyOf":[{"type":"string"},{"type":"object","properties":{"id":{"type":"string"}}},{"type":"null"}]}
L "x" => ok
L null => ok
L 3 => expected string or object or null, got integer
L {"id":3} => id: expected string, got integer
= {"oneOf":[{"const":"user"},{"const":"assistant"}]}
L "bot" => expected one of user, assistant; got "bot"
= {"anyOf":[{"enum":["a","b"]},{"const":"c"},{"type":"object"}]}
L "z" => expected one of a, b, c; got "z"
= {"anyOf":[{"type":"object","properties":{"role":{"const":"u"},"n":{"type":"integer"}}},{"type":"object","properties":{"role":{"const":"v"}}}]}
L {"role":"u","n":"x"} => n: expected integer, got string
L {"role":"w"} => role: expected one of u, v; got "w"
= {"anyOf":[{"type":"string","enum":["low","high"]},{"type":"object"}]}
L "mid" => expected one of low, high; got "mid"
= {"anyOf":[{"type":"object","properties":{"a":{}}},{"type":"object","properties":{"b":{}}}]}
S {"b":1} => ok

# Unions picked by a `type` tag pinned in (nested, referenced) branches.
= {"$defs":{"A":{"type":"object","properties":{"type":{"const":"a"},"x":{"type":"integer"}}},"B":{"type":"object","properties":{"type":{"enum":["b","bb"]}}},"C":{"type":"object","properties":{"type":{"anyOf":[{"const":"c"}]},"x":{"type":"string"}}},"BC":{"anyOf":[{"$ref":"#/$defs/B"},{"$ref":"#/$defs/C"}]}},"anyOf":[{"$ref":"#/$defs/A"},{"$ref":"#/$defs/BC"},{"type":"string"}]}
S {"type":"a","x":1} => ok
S {"type":"bb"} => ok
S {"type":"c","x":"s"} => ok
S {"type":"c","x":1} => x: expected string, got integer
S {"type":"d"} => type: expected one of a, b, bb, c; got "d"
S "str" => ok
N {"type":"d"} => ok
= {"anyOf":[{"properties":{"type":{"const":"a"}}},{"type":"object"}]}
S {"type":"z"} => ok

# Unions picked by a discriminator.
= {"$defs":{"T":{"type":"object","properties":{"kind":{"const":"t"},"text":{"type":"string"}},"required":["kind","text"]},"I":{"type":"object","properties":{"kind":{"const":"i"}},"required":["kind"]}},"anyOf":[{"$ref":"#/$defs/T"},{"$ref":"#/$defs/I"}],"discriminator":{"propertyName":"kind","mapping":{"t":"#/$defs/T","i":"#/$defs/I"}}}
S {"kind":"i"} => ok
S {"kind":"t"} => text: required field missing
S {"kind":"x"} => kind: expected one of t, i; got "x"
S {} => kind: required field missing

# Recursive schemas terminate; unknown references constrain nothing.
= {"$defs":{"Node":{"type":"object","properties":{"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}}}},"$ref":"#/$defs/Node"}
L {"children":[{"children":[{"children":[{"children":1}]}]}]} => children[0].children[0].children[0].children: expected array, got integer
= {"$defs":{"A":{"$ref":"#/$defs/A"}},"$ref":"#/$defs/A"}
L 1 => schema refers to itself endlessly
= {"$defs":{"A":{"anyOf":[{"$ref":"#/$defs/A"},{"$ref":"#/$defs/A"},{"type":"string"}]}},"$ref":"#/$defs/A"}
L "s" => ok
L {"type":"x"} => expected string, got object
= {"$ref":"#/$defs/NoSuchDefinition"}
S 1 => ok

# The real table.
@ beta:agents create tools
S [{"type":"agent_toolset_20260401"}] => ok
S [{"type":"nope"}] => [0].type: expected one of agent_toolset_20260401, mcp_toolset, custom; got "nope"
S [{"type":"agent_toolset_20260401","bogus":1}] => [0].bogus: unknown field; known fields: type, configs, default_config
S [{}] => [0].type: required field missing
L [{"bogus":1}] => [0].type: required field missing
L [{"type":"agent_toolset_20260401","bogus":1}] => ok
L "x" => expected array, got string
@ beta:agents create model
S "claude-opus-4-7" => ok
S "some-future-model" => ok
S {"id":"claude-opus-4-7"} => ok
L {"id":5} => id: expected string, got integer
L 5 => expected string or object, got integer
S {"speed":"fast"} => id: required field missing
L {"id":"m","effort":"hgh"} => effort: expected one of low, medium, high, xhigh, max; got "hgh"
S {"id":"m","effort":{"type":"low"}} => ok
S {"id":"m","effort":{"type":"hgh"}} => effort.type: expected one of low, medium, high, xhigh, max; got "hgh"
@ messages create tools
S [{"name":"x","input_schema":{"type":"object"}}] => ok
S [{"type":"custom","name":"x","input_schema":{"type":"object"}}] => ok
S [{"type":"bash_20250124","name":"bash"}] => ok
L [{"type":"bsh","name":"bash"}] => [0].type: expected one of custom, bash_20250124, code_execution_20250522, …
@ messages create thinking
S {"type":"enabled"} => budget_tokens: required field missing
L {"type":"on","budget_tokens":5} => type: expected one of enabled, disabled, between_tools, adaptive; got "on"
@ beta:agents create metadata
S {"k":"v"} => ok
S {"k":1} => k: expected string, got integer
L {"k":1} => k: expected string, got integer
@ messages create messages
S [{"role":"user","content":[{"type":"text","text":"hi"}]}] => ok
S [{"role":"user","content":5}] => [0].content: expected string or array, got integer
S [{"role":"user","content":[{"type":"image","source":{"type":"base64","data":"x","media_type":"image/bmp"}}]}] => [0].content[0].source.media_type: expected one of image/jpeg, image/png, image/gif, image/webp; got "image/bmp"
S [{"role":"user","content":[{"type":"image"}]}] => [0].content[0].source: required field missing
L [{"role":"user","content":[{"type":"image"}]}] => [0].content[0].source: required field missing
S [{"role":"robot","content":"x"}] => [0].role: expected one of user, assistant, system; got "robot"
"##;

#[test]
fn cases() {
    let (mut schema, mut wrong) = (Value::Null, Vec::new());
    for (n, line) in CASES.lines().enumerate() {
        let context = format!("line {}: {line}", n + 1);
        if let Some(json) = line.strip_prefix("= ") {
            schema = serde_json::from_str(json).expect(&context);
        } else if let Some(at) = line.strip_prefix("@ ") {
            let words: Vec<&str> = at.split(' ').collect();
            let op = Operation::find(words[0], words[1]).expect(&context);
            schema = parse(op.param(words[2]).expect(&context).schema);
        } else if let Some((value, expected)) = line.get(2..).and_then(|r| r.split_once(" => ")) {
            let opts = match &line[..1] {
                "S" => Options::STRICT,
                "L" => Options::LENIENT,
                _ => Options {
                    enums: false,
                    ..Options::LENIENT
                },
            };
            let value: Value = serde_json::from_str(value).expect(&context);
            let got = validate_value(&value, &schema, opts)
                .map_or_else(|e| e.to_string(), |()| "ok".into());
            let prefix = expected.strip_suffix(" …");
            if prefix.map_or(got != expected, |prefix| !got.starts_with(prefix)) {
                wrong.push(format!("{context}\n   got: {got}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn errors_display_and_prefix() {
    let at = |path: &str| SchemaError {
        path: path.into(),
        message: "m".into(),
    };
    assert_eq!(at("").to_string(), "m");
    assert_eq!(at("a.b").to_string(), "a.b: m");
    assert_eq!(at("").prefixed("tools").to_string(), "tools: m");
    assert_eq!(at("type").prefixed("tools").to_string(), "tools.type: m");
    assert_eq!(
        at("[0].type").prefixed("tools").to_string(),
        "tools[0].type: m"
    );
    assert_eq!(at("[0]").prefixed("").to_string(), "[0]: m");
}

#[test]
fn defs_parse_once_on_demand() {
    let a = def_value("TextBlockParam").expect("def");
    assert!(std::ptr::eq(a, def_value("TextBlockParam").unwrap()));
    assert_eq!(a["type"], "object");
    assert!(def_value("NoSuchDefinition").is_none());
    assert_eq!(parse(r#"{"type":"string"}"#), json!({"type": "string"}));
}

#[test]
fn every_table_schema_takes_odd_values_without_panicking() {
    let values =
        r#"null 1.5 [{}] {"type":"x","a":[1]} {"type":"text","content":[{"type":"image"}]}"#;
    let values: Vec<Value> = values
        .split(' ')
        .map(|v| serde_json::from_str(v).unwrap())
        .collect();
    for p in OPERATIONS.iter().flat_map(|op| op.params) {
        for schema in std::iter::once(p.schema).chain(p.inner.iter().map(|i| i.schema)) {
            for v in &values {
                let _ = validate(v, schema, Options::STRICT);
                let _ = validate(v, schema, Options::LENIENT);
            }
        }
    }
}

//! Values built from JSON Schemas (the endpoint table's response schemas and
//! their `$defs`), valid by construction: the generic emulation builds every
//! object it answers with from here, and fits request fields into them only
//! where the schema accepts them.

use ant::api::schema::{Options, def_value, validate_value};
use serde_json::{Map, Value, json};

/// How to fill in what the schema leaves open.
pub struct Fill<'a> {
    /// The timestamp for `date-time` strings.
    pub now: &'a str,
    /// Seeded items get one element in each array of objects and small
    /// non-zero numbers, so that they show every field.
    pub seeded: bool,
    /// Counts numbers handed out (seeded values vary with it).
    pub counter: u64,
}

/// Follows `$ref`s to the schema they name.
pub fn resolve(schema: &Value) -> &Value {
    let mut s = schema;
    for _ in 0..32 {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.rsplit('/').next().and_then(def_value) {
                Some(d) => s = d,
                None => return s,
            },
            None => return s,
        }
    }
    s
}

/// The alternatives of a union (`anyOf`/`oneOf`), flattened; a plain schema
/// is its own one alternative.
pub fn branches(schema: &Value) -> Vec<&Value> {
    let s = resolve(schema);
    match s
        .get("anyOf")
        .or_else(|| s.get("oneOf"))
        .and_then(Value::as_array)
    {
        Some(alts) => alts.iter().flat_map(branches).collect(),
        None => vec![s],
    }
}

fn is_null(s: &Value) -> bool {
    s.get("type").and_then(Value::as_str) == Some("null")
}

/// The object schema of `schema` (its first object alternative).
pub fn object(schema: &Value) -> Option<&Value> {
    branches(schema)
        .into_iter()
        .find(|b| b.get("properties").is_some() || b["type"] == "object")
}

/// The schema of property `name` of an object schema.
pub fn property<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    object(schema)?.get("properties")?.get(name)
}

/// Whether `v` fits `schema` (strictly: types, enums, required fields).
pub fn fits(v: &Value, schema: &Value) -> bool {
    validate_value(v, schema, Options::STRICT).is_ok()
}

/// A value of `schema`. `field` is the property it fills (it shapes strings:
/// ids, emails, URLs).
pub fn value(schema: &Value, field: &str, fill: &mut Fill) -> Value {
    build(schema, field, fill, 0)
}

fn build(schema: &Value, field: &str, fill: &mut Fill, depth: usize) -> Value {
    let s = resolve(schema);
    if depth > 24 {
        return Value::Null;
    }
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(alts) = s
        .get("anyOf")
        .or_else(|| s.get("oneOf"))
        .and_then(Value::as_array)
    {
        // Prefer a value over null, an object over a scalar when seeding.
        let non_null: Vec<&Value> = alts.iter().filter(|a| !is_null(resolve(a))).collect();
        return match non_null.first() {
            Some(b) => build(b, field, fill, depth + 1),
            None => Value::Null,
        };
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        let mut out = Map::new();
        for part in all {
            if let Value::Object(m) = build(part, field, fill, depth + 1) {
                out.extend(m);
            }
        }
        return Value::Object(out);
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if s.get("properties").is_some() => "object",
        _ if s.get("items").is_some() => "array",
        _ => "any",
    };
    match ty {
        "object" => {
            let mut out = Map::new();
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (name, sub) in props {
                    if required.contains(&name.as_str()) {
                        out.insert(name.clone(), build(sub, name, fill, depth + 1));
                    }
                }
            }
            Value::Object(out)
        }
        "array" => {
            let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let items = s.get("items").cloned().unwrap_or(json!({}));
            let objects = object(&items).is_some();
            let n = if fill.seeded && objects {
                min.max(1)
            } else {
                min
            };
            Value::Array(
                (0..n)
                    .map(|_| build(&items, field, fill, depth + 1))
                    .collect(),
            )
        }
        "string" => Value::String(string(s, field, fill)),
        "integer" => json!(number(s, fill) as i64),
        "number" => json!(number(s, fill)),
        "boolean" => json!(false),
        "null" => Value::Null,
        _ => Value::Null,
    }
}

fn number(s: &Value, fill: &mut Fill) -> f64 {
    let min = s
        .get("minimum")
        .and_then(Value::as_f64)
        .or_else(|| {
            s.get("exclusiveMinimum")
                .and_then(Value::as_f64)
                .map(|m| m + 1.0)
        })
        .unwrap_or(0.0);
    let max = s.get("maximum").and_then(Value::as_f64);
    fill.counter += 1;
    let v = if fill.seeded {
        min + (fill.counter * 37 % 100 + 1) as f64
    } else {
        min
    };
    max.map_or(v, |m| v.min(m))
}

fn string(s: &Value, field: &str, fill: &mut Fill) -> String {
    let format = s.get("format").and_then(Value::as_str).unwrap_or("");
    let mut out = match format {
        "date-time" => fill.now.to_string(),
        "date" => fill.now[..10].to_string(),
        "uri" | "url" => "https://example.com/".to_string(),
        "email" => "user@example.com".to_string(),
        _ if field.ends_with("_at") => fill.now.to_string(),
        _ if field == "email" || field.ends_with("_email") => "user@example.com".to_string(),
        _ if field.ends_with("url") => "https://example.com/".to_string(),
        _ if field == "id" || field.ends_with("_id") => crate::store::new_id(id_prefix(field)),
        _ if field == "currency" => "USD".to_string(),
        _ if fill.seeded && (field.ends_with("amount") || field == "cost") => {
            fill.counter += 1;
            format!(
                "{}.{:02}",
                fill.counter * 7 % 90 + 1,
                fill.counter * 13 % 100
            )
        }
        _ if fill.seeded => {
            fill.counter += 1;
            format!("{} {}", field.replace('_', " "), fill.counter)
        }
        _ => String::new(),
    };
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    while out.chars().count() < min {
        out.push('x');
    }
    out
}

/// The prefix of ids named `field` (`workspace_id` -> `workspace`).
pub fn id_prefix(field: &str) -> &str {
    match field.strip_suffix("_id") {
        Some(p) if !p.is_empty() => p,
        _ => "id",
    }
}

/// Sets the fields of `patch` on `target` where the schema accepts them (a
/// field of another type, or one the schema does not know, is skipped).
pub fn overlay(target: &mut Value, patch: &Map<String, Value>, schema: &Value) {
    let Some(obj) = target.as_object_mut() else {
        return;
    };
    for (k, v) in patch {
        let Some(sub) = property(schema, k) else {
            continue;
        };
        if fits(v, sub) {
            obj.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill() -> Fill<'static> {
        Fill {
            now: "2026-12-01T00:00:00.000Z",
            seeded: false,
            counter: 0,
        }
    }

    #[test]
    fn every_response_schema_gives_a_valid_value() {
        let mut failed = Vec::new();
        for op in ant::api::OPERATIONS {
            let Some(schema) = op.response_schema else {
                continue;
            };
            let schema = ant::api::schema::parse(schema);
            for seeded in [false, true] {
                let mut f = Fill { seeded, ..fill() };
                let v = value(&schema, "", &mut f);
                if let Err(e) = validate_value(&v, &schema, Options::STRICT) {
                    failed.push(format!("{} (seeded {seeded}): {e}", op.name()));
                }
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    #[test]
    fn overlay_takes_only_fields_the_schema_accepts() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string"}, "n": {"type": "integer"}}});
        let mut v = json!({"name": "a", "n": 1});
        let patch = json!({"name": "b", "n": "not a number", "other": 1});
        overlay(&mut v, patch.as_object().unwrap(), &schema);
        assert_eq!(v, json!({"name": "b", "n": 1}));
    }
}

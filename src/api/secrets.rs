//! Which fields hold secrets, and one walk that masks or strips them at any
//! depth. The knowledge comes from the table: `api/generate.py` marks every
//! schema property the API documents as a secret with `"x-secret": true` and
//! lists the names in [`SECRET_FIELDS`](crate::api::SECRET_FIELDS). The CLI
//! masks them in `--debug` logs; the emulator strips them from responses.
//!
//! With a schema, a field is secret when the schema marks it, whatever its
//! name (and a field the schema knows as ordinary stays, whatever its name).
//! Fields the schema does not describe, and values without a schema, are
//! judged by name.

use serde_json::Value;

use super::schema::{self, def_value};
use super::{Loc, Operation};

/// What to do with a secret value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Replace it with [`MASK`] (logs).
    Mask,
    /// Drop the field (responses that must never echo it).
    Remove,
}

/// What a masked value reads.
pub const MASK: &str = "[redacted]";

/// Whether a field of this name holds a secret when no schema says: a name
/// the table lists, or one built like a credential's (`*_token`, `*_secret`,
/// `*_password`, `*_key`), but not a count (`max_tokens`) or an ID.
pub fn is_secret_name(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    if super::SECRET_FIELDS.binary_search(&k.as_str()).is_ok() {
        return true;
    }
    let word = |w: &str| k == w || k.ends_with(&format!("_{w}"));
    word("token")
        || word("secret")
        || word("password")
        || word("key") && !k.ends_with("idempotency_key")
        || word("authorization")
        || k.ends_with("private_key_pem")
        || k == "code_verifier"
}

/// Masks or removes every secret in `v`, guided by `schema` (a table schema
/// or `None`).
pub fn scrub(v: &mut Value, schema: Option<&Value>, action: Action) {
    let mut candidates = Vec::new();
    if let Some(s) = schema {
        branches(s, v, &mut candidates, 0);
    }
    match v {
        Value::Object(map) => {
            let mut drop = Vec::new();
            for (key, item) in map.iter_mut() {
                let subs: Vec<&Value> = candidates
                    .iter()
                    .filter_map(|c| c.get("properties")?.get(key))
                    .chain(
                        candidates
                            .iter()
                            .filter(|c| c.get("properties").and_then(|p| p.get(key)).is_none())
                            .filter_map(|c| c.get("additionalProperties"))
                            .filter(|a| a.is_object()),
                    )
                    .collect();
                let secret = if subs.is_empty() {
                    is_secret_name(key) && item.is_string()
                } else {
                    subs.iter().any(|s| marked(s)) && !item.is_null()
                };
                if secret {
                    match action {
                        Action::Mask => *item = Value::String(MASK.into()),
                        Action::Remove => drop.push(key.clone()),
                    }
                    continue;
                }
                let sub = match subs.as_slice() {
                    [] => None,
                    [one] => Some((*one).clone()),
                    many => Some(serde_json::json!({ "anyOf": many })),
                };
                scrub(item, sub.as_ref(), action);
            }
            for key in drop {
                map.shift_remove(&key);
            }
        }
        Value::Array(items) => {
            let item_schemas: Vec<&Value> =
                candidates.iter().filter_map(|c| c.get("items")).collect();
            let sub = match item_schemas.as_slice() {
                [] => None,
                [one] => Some((*one).clone()),
                many => Some(serde_json::json!({ "anyOf": many })),
            };
            for item in items {
                scrub(item, sub.as_ref(), action);
            }
        }
        _ => {}
    }
}

/// Masks or removes the secrets of a request body built for `op` (by name
/// alone without one): each top-level key is checked against its parameter.
pub fn scrub_body(op: Option<&Operation>, body: &mut Value, action: Action) {
    let schema = op.map(|op| {
        let props: serde_json::Map<String, Value> = (op.params.iter())
            .filter(|p| p.loc == Loc::Body)
            .map(|p| (p.wire.to_string(), schema::parse(p.schema)))
            .collect();
        serde_json::json!({ "type": "object", "properties": props })
    });
    scrub(body, schema.as_ref(), action);
}

/// Whether a query parameter or form field of `op` holds a secret: its
/// schema says so, or (unknown to the table) its name does.
pub fn is_secret_param(op: Option<&Operation>, wire: &str) -> bool {
    let base = wire.split('[').next().unwrap_or(wire);
    let param = op.and_then(|op| {
        (op.params.iter()).find(|p| p.wire == wire || p.wire.split('[').next() == Some(base))
    });
    match param {
        Some(p) => marked(&schema::parse(p.schema)),
        None => is_secret_name(base),
    }
}

/// Whether the schema (or what it refers to) marks a secret.
fn marked(s: &Value) -> bool {
    let s = deref(s);
    s.get("x-secret") == Some(&Value::Bool(true))
        || s.get("anyOf")
            .or_else(|| s.get("oneOf"))
            .and_then(Value::as_array)
            .is_some_and(|b| b.iter().any(marked))
}

/// Follows `$ref`s into the table's definitions.
fn deref(mut s: &Value) -> &Value {
    for _ in 0..32 {
        match s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(def_value)
        {
            Some(target) => s = target,
            None => break,
        }
    }
    s
}

/// The object or array alternatives of a schema that may describe `v`;
/// union branches pinned to another `type` tag than `v`'s are left out.
fn branches<'a>(s: &'a Value, v: &Value, out: &mut Vec<&'a Value>, depth: usize) {
    let s = deref(s);
    if depth > 16 {
        return;
    }
    match s
        .get("anyOf")
        .or_else(|| s.get("oneOf"))
        .and_then(Value::as_array)
    {
        Some(alternatives) => {
            for b in alternatives {
                branches(b, v, out, depth + 1);
            }
        }
        None => {
            let tag = v.get("type").and_then(Value::as_str);
            let pinned = s
                .get("properties")
                .and_then(|p| p.get("type"))
                .map(deref)
                .and_then(|t| t.get("const"))
                .and_then(Value::as_str);
            if tag.is_none() || pinned.is_none() || tag == pinned {
                out.push(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Operation;
    use serde_json::json;

    fn param_schema(group: &str, verb: &str, name: &str) -> Value {
        let op = Operation::find(group, verb).expect("operation");
        crate::api::schema::parse(op.param(name).expect("param").schema)
    }

    #[test]
    fn names_the_table_lists_and_credential_shapes_are_secret() {
        for k in [
            "secret_value",
            "client_secret",
            "token",
            "api_key",
            "password",
            "tunnel_token",
        ] {
            assert!(is_secret_name(k), "{k}");
        }
        for k in [
            "max_tokens",
            "input_tokens",
            "secret_name",
            "name",
            "idempotency_key",
            "api_key_id",
        ] {
            assert!(!is_secret_name(k), "{k}");
        }
    }

    #[test]
    fn schema_marks_find_secrets_at_any_depth_in_unions() {
        let schema = param_schema("beta:vaults:credentials", "create", "auth");
        let mut v = json!({
            "type": "mcp_oauth",
            "mcp_server_url": "https://x",
            "access_token": "AT",
            "refresh": {
                "refresh_token": "RT",
                "client_id": "cid",
                "token_endpoint": "https://x/token",
                "token_endpoint_auth": {"type": "client_secret_post", "client_secret": "CS"}
            }
        });
        let mut masked = v.clone();
        scrub(&mut masked, Some(&schema), Action::Mask);
        let text = masked.to_string();
        for s in ["AT", "RT", "CS"] {
            assert!(!text.contains(&format!("\"{s}\"")), "{text}");
        }
        assert_eq!(masked["refresh"]["client_id"], "cid");
        assert_eq!(masked["refresh"]["token_endpoint"], "https://x/token");
        assert_eq!(
            masked["refresh"]["token_endpoint_auth"]["client_secret"],
            MASK
        );
        scrub(&mut v, Some(&schema), Action::Remove);
        assert_eq!(
            v,
            json!({
                "type": "mcp_oauth",
                "mcp_server_url": "https://x",
                "refresh": {
                    "client_id": "cid",
                    "token_endpoint": "https://x/token",
                    "token_endpoint_auth": {"type": "client_secret_post"}
                }
            })
        );
    }

    #[test]
    fn the_schema_decides_over_the_name() {
        // `secret_value` has no credential-like name ending; the schema marks it.
        let schema = param_schema("beta:vaults:credentials", "create", "auth");
        let mut v =
            json!({"type": "environment_variable", "secret_name": "GH", "secret_value": "S3CRET"});
        scrub(&mut v, Some(&schema), Action::Mask);
        assert_eq!(
            v,
            json!({"type": "environment_variable", "secret_name": "GH", "secret_value": MASK})
        );
        // Without a schema, names decide; unknown fields too.
        let mut v = json!({"outer": [{"password": "pw", "max_tokens": 5, "note": "n"}]});
        scrub(&mut v, None, Action::Mask);
        assert_eq!(
            v,
            json!({"outer": [{"password": MASK, "max_tokens": 5, "note": "n"}]})
        );
    }
}

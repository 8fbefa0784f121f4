//! One validator for the table's JSON Schemas, so the CLI (leniently: every
//! check but unknown fields, which the API may have added since) and the
//! emulator (strictly: unknown fields too) reject bad input the same way,
//! naming the offending field.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value};

/// What to check beyond JSON types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Reject object keys not in `properties` (unless `additionalProperties`
    /// allows them), and check map values against `additionalProperties`.
    pub unknown_fields: bool,
    /// Reject objects missing a `required` key.
    pub required: bool,
    /// Check `enum` and `const`.
    pub enums: bool,
}

impl Options {
    /// For flag values and piped bodies: types, enums, bounds and required
    /// fields at every depth, map values too; unknown fields are allowed.
    pub const LENIENT: Options = Options {
        unknown_fields: false,
        required: true,
        enums: true,
    };
    /// For request bodies in the emulator: everything.
    pub const STRICT: Options = Options {
        unknown_fields: true,
        required: true,
        enums: true,
    };
}

/// The first problem found; `path` is like `tools[0].type` (empty = root).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaError {
    pub path: String,
    pub message: String,
}

impl SchemaError {
    /// The same error seen from `prefix` (a field name or path): `type`
    /// becomes `tools.type`, `[0].type` becomes `tools[0].type`.
    pub fn prefixed(mut self, prefix: &str) -> SchemaError {
        self.path = match (prefix, self.path.as_str()) {
            ("", _) => self.path,
            (_, "") => prefix.to_string(),
            (_, p) if p.starts_with('[') => format!("{prefix}{p}"),
            (_, p) => format!("{prefix}.{p}"),
        };
        self
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path.as_str() {
            "" => f.write_str(&self.message),
            path => write!(f, "{path}: {}", self.message),
        }
    }
}

impl std::error::Error for SchemaError {}

/// Parses a generated schema string.
pub fn parse(schema: &str) -> Value {
    serde_json::from_str(schema).expect("generated schema is not valid JSON")
}

/// A definition from [`DEFS`](crate::api::DEFS), parsed on first use and kept
/// for the life of the process (each at most once, so the leak is bounded).
pub fn def_value(name: &str) -> Option<&'static Value> {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, &'static Value>>> = OnceLock::new();
    let mut map = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(v) = map.get(name) {
        return Some(v);
    }
    let (key, text) = crate::api::DEFS[crate::api::DEFS
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()?];
    let value: &'static Value = Box::leak(Box::new(parse(text)));
    map.insert(key, value);
    Some(value)
}

/// Checks `value` against a schema string (a `Param`/`Inner` schema).
pub fn validate(value: &Value, schema: &str, opts: Options) -> Result<(), SchemaError> {
    validate_value(value, &parse(schema), opts)
}

/// Checks `value` against a parsed schema. `$ref`s resolve against the
/// schema's own `$defs` first, then the table's [`DEFS`](crate::api::DEFS).
pub fn validate_value(value: &Value, schema: &Value, opts: Options) -> Result<(), SchemaError> {
    let ctx = Ctx {
        opts,
        root: schema,
        active: RefCell::new(Vec::new()),
    };
    ctx.check(value, schema, &mut Path::default())
        .map_err(|f| SchemaError {
            message: f.message(),
            path: f.path,
        })
}

/// Longest chain of `$ref`s followed to find a union's branches.
const MAX_HOPS: u32 = 64;
/// Values listed in one error before "and N more".
const MAX_LISTED: usize = 12;

/// Sorts of failure; `first_pass` ranks them when a union fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A `$ref` cycle (an artifact of the schema, never the user's fault).
    Loop,
    /// A `const` failing below the union: this branch was not meant.
    Const,
    /// Wrong JSON type: `want` holds the type names that would have done.
    Type,
    /// Right type, but not an `enum`/`const` value: `want` holds those.
    Value,
    Other,
}

#[derive(Debug)]
struct Fail {
    path: String,
    depth: usize,
    kind: Kind,
    want: Vec<Value>,
    /// The value as shown (`Type`, `Value`) or the whole message.
    text: String,
}

impl Fail {
    fn message(&self) -> String {
        let got = &self.text;
        match (self.kind, self.want.as_slice()) {
            (Kind::Type, want) => {
                let names: Vec<String> = want.iter().map(show_allowed).collect();
                format!("expected {}, got {got}", names.join(" or "))
            }
            (Kind::Value | Kind::Const, [one]) => {
                format!("expected {}, got {got}", show_allowed(one))
            }
            (Kind::Value | Kind::Const, want) => {
                format!(
                    "expected one of {}; got {got}",
                    list(want.iter().map(show_allowed))
                )
            }
            _ => got.clone(),
        }
    }
}

#[derive(Default)]
struct Path {
    text: String,
    depth: usize,
}

impl Path {
    fn key<T>(&mut self, key: &str, f: impl FnOnce(&mut Path) -> T) -> T {
        let dot = if self.text.is_empty() { "" } else { "." };
        self.down(format!("{dot}{key}"), f)
    }

    fn index<T>(&mut self, i: usize, f: impl FnOnce(&mut Path) -> T) -> T {
        self.down(format!("[{i}]"), f)
    }

    fn down<T>(&mut self, segment: String, f: impl FnOnce(&mut Path) -> T) -> T {
        let len = self.text.len();
        self.text.push_str(&segment);
        self.depth += 1;
        let r = f(self);
        self.text.truncate(len);
        self.depth -= 1;
        r
    }

    fn fail(&self, kind: Kind, want: Vec<Value>, text: impl Into<String>) -> Result<(), Fail> {
        let (path, depth, text) = (self.text.clone(), self.depth, text.into());
        Err(Fail {
            path,
            depth,
            kind,
            want,
            text,
        })
    }

    fn other(&self, message: impl Into<String>) -> Result<(), Fail> {
        self.fail(Kind::Other, Vec::new(), message)
    }

    fn not_allowed(&self, want: Vec<Value>, got: &Value) -> Result<(), Fail> {
        self.fail(Kind::Value, want, show_got(got))
    }

    fn not_const(&self, want: &Value, got: &Value) -> Result<(), Fail> {
        self.fail(Kind::Const, vec![want.clone()], show_got(got))
    }
}

/// JSON type name of a value; whole numbers count as `integer`.
pub fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value as shown after "got": scalars as JSON (shortened), else the type.
fn show_got(v: &Value) -> String {
    if v.is_array() || v.is_object() {
        return type_of(v).into();
    }
    let s = v.to_string();
    match s.char_indices().nth(57) {
        Some((cut, _)) if s.len() > 60 => format!("{}...", &s[..cut]),
        _ => s,
    }
}

/// An allowed value as listed: strings bare, anything else as JSON.
fn show_allowed(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), String::from)
}

fn list(items: impl ExactSizeIterator<Item = String>) -> String {
    let more = items.len().saturating_sub(MAX_LISTED);
    let mut out: Vec<String> = items.take(MAX_LISTED).collect();
    if more > 0 {
        out.push(format!("and {more} more"));
    }
    out.join(", ")
}

fn push_unique<T: PartialEq>(out: &mut Vec<T>, item: T) {
    if !out.contains(&item) {
        out.push(item);
    }
}

fn branches_of(s: &Value) -> Option<&Vec<Value>> {
    s.get("anyOf")
        .or_else(|| s.get("oneOf"))
        .and_then(Value::as_array)
}

/// Whether a (flattened) union branch could take an object.
fn accepts_object(b: &Value) -> bool {
    match b.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => true,
    }
}

/// `minimum`, `maximum` and their exclusive forms.
fn bounds(s: &Map<String, Value>, f: f64, p: &Path) -> Result<(), Fail> {
    let limit = |k: &str| s.get(k).and_then(Value::as_f64);
    let show = |x: f64| {
        Value::from(x)
            .to_string()
            .trim_end_matches(".0")
            .to_string()
    };
    let got = show(f);
    if let Some(m) = limit("minimum").filter(|m| f < *m) {
        return p.other(format!("expected at least {}, got {got}", show(m)));
    }
    if let Some(m) = limit("exclusiveMinimum").filter(|m| f <= *m) {
        return p.other(format!("expected more than {}, got {got}", show(m)));
    }
    if let Some(m) = limit("maximum").filter(|m| f > *m) {
        return p.other(format!("expected at most {}, got {got}", show(m)));
    }
    if let Some(m) = limit("exclusiveMaximum").filter(|m| f >= *m) {
        return p.other(format!("expected less than {}, got {got}", show(m)));
    }
    Ok(())
}

struct Ctx<'a> {
    opts: Options,
    root: &'a Value,
    /// `(schema, value)` pairs being checked through a `$ref`: meeting one
    /// again means the schema loops without the value getting smaller.
    active: RefCell<Vec<(*const Value, *const Value)>>,
}

impl<'a> Ctx<'a> {
    /// `#/$defs/NAME` in the root schema, else in the table.
    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let name = reference.strip_prefix("#/$defs/")?;
        match self.root.get("$defs").and_then(|d| d.get(name)) {
            Some(local) => Some(local),
            None => def_value(name),
        }
    }

    fn ref_target(&self, s: &Value) -> Option<&'a Value> {
        s.get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| self.resolve(r))
    }

    /// Follows `$ref`s to a schema that is not a bare reference.
    fn deref(&self, mut s: &'a Value) -> &'a Value {
        for _ in 0..MAX_HOPS {
            match self.ref_target(s) {
                Some(target) => s = target,
                None => break,
            }
        }
        s
    }

    /// Checks `v` against the target of a `$ref`, guarding against loops.
    fn check_ref(&self, v: &Value, target: &'a Value, p: &mut Path) -> Result<(), Fail> {
        let key: (*const Value, *const Value) = (target, v);
        if self.active.borrow().contains(&key) {
            return p.fail(Kind::Loop, Vec::new(), "schema refers to itself endlessly");
        }
        self.active.borrow_mut().push(key);
        let r = self.check(v, target, p);
        self.active.borrow_mut().pop();
        r
    }

    fn check(&self, v: &Value, s: &'a Value, p: &mut Path) -> Result<(), Fail> {
        let obj = match s {
            Value::Object(obj) => obj,
            Value::Bool(false) => return p.other("no value allowed here"),
            _ => return Ok(()),
        };
        if let Some(target) = self.ref_target(s) {
            self.check_ref(v, target, p)?;
        }
        let actual = type_of(v);
        let fits = |t: &Value| t == actual || (t == "number" && actual == "integer");
        if let Some(t) = obj.get("type")
            && let types = t.as_array().map_or(std::slice::from_ref(t), Vec::as_slice)
            && !types.is_empty()
            && !types.iter().any(fits)
        {
            return p.fail(Kind::Type, types.to_vec(), actual);
        }
        if self.opts.enums {
            if let Some(c) = obj.get("const")
                && c != v
            {
                return p.not_const(c, v);
            }
            if let Some(Value::Array(allowed)) = obj.get("enum")
                && !allowed.contains(v)
            {
                return p.not_allowed(allowed.clone(), v);
            }
        }
        if let Value::Number(n) = v
            && let Some(f) = n.as_f64()
        {
            bounds(obj, f, p)?;
        }
        if let Some(branches) = branches_of(s)
            && !branches.is_empty()
        {
            self.union(v, obj, branches, p)?;
        }
        match (v, obj.get("items")) {
            (Value::Object(m), _) => self.object(m, obj, p),
            (Value::Array(items), Some(item)) => (items.iter().enumerate())
                .try_for_each(|(i, x)| p.index(i, |p| self.check(x, item, p))),
            _ => Ok(()),
        }
    }

    fn object(
        &self,
        m: &Map<String, Value>,
        s: &'a Map<String, Value>,
        p: &mut Path,
    ) -> Result<(), Fail> {
        let props = s.get("properties").and_then(Value::as_object);
        for (k, x) in m {
            let sub = match (
                props.and_then(|ps| ps.get(k)),
                s.get("additionalProperties"),
            ) {
                (Some(sub), _) => sub,
                (None, Some(sub @ Value::Object(_))) => sub,
                (None, Some(Value::Bool(true))) => continue,
                // No `properties` and no `additionalProperties`: free-form.
                (None, extra)
                    if !self.opts.unknown_fields || (props.is_none() && extra.is_none()) =>
                {
                    continue;
                }
                (None, _) => {
                    let known = props.map(|ps| list(ps.keys().cloned())).unwrap_or_default();
                    return p.key(k, |p| match known.as_str() {
                        "" => p.other("unknown field (no fields allowed)"),
                        _ => p.other(format!("unknown field; known fields: {known}")),
                    });
                }
            };
            p.key(k, |p| self.check(x, sub, p))?;
        }
        let required = s
            .get("required")
            .and_then(Value::as_array)
            .filter(|_| self.opts.required);
        match required
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find(|r| !m.contains_key(*r))
        {
            Some(missing) => p.key(missing, |p| p.other("required field missing")),
            None => Ok(()),
        }
    }

    /// `anyOf`/`oneOf`: picks a branch by discriminator or `type` tag when it
    /// can, else accepts the first branch that passes.
    fn union(
        &self,
        v: &Value,
        s: &'a Map<String, Value>,
        branches: &'a [Value],
        p: &mut Path,
    ) -> Result<(), Fail> {
        let Some(m) = v.as_object() else {
            return self.first_pass(v, branches.iter(), p);
        };
        if let Some(d) = s.get("discriminator")
            && let Some(prop) = d.get("propertyName").and_then(Value::as_str)
            && let Some(mapping) = d.get("mapping").and_then(Value::as_object)
            && let Some(tag) = m.get(prop).and_then(Value::as_str)
        {
            match mapping
                .get(tag)
                .and_then(Value::as_str)
                .and_then(|r| self.resolve(r))
            {
                Some(target) => return self.check_ref(v, target, p),
                None if self.opts.enums && !mapping.contains_key(tag) => {
                    let allowed = mapping.keys().map(|k| Value::String(k.clone())).collect();
                    return p.key(prop, |p| p.not_allowed(allowed, &m[prop]));
                }
                None => {}
            }
        }
        if let Some(tag) = m.get("type").and_then(Value::as_str) {
            let mut flat = Vec::new();
            self.flatten(branches, &mut flat, &mut Vec::new());
            let pinned: Vec<_> = flat.into_iter().map(|b| (b, self.pins(b))).collect();
            let mut tags = Vec::new();
            for t in pinned
                .iter()
                .filter_map(|(_, pins)| pins.as_ref())
                .flatten()
            {
                push_unique(&mut tags, Value::from(*t));
            }
            if !tags.is_empty() {
                // The branches claiming the tag; if none does, the open object ones.
                let claimed = tags.contains(&Value::from(tag));
                let candidates: Vec<&'a Value> = (pinned.iter())
                    .filter(|(b, pins)| match pins {
                        Some(pins) => pins.contains(&tag),
                        None => !claimed && accepts_object(b),
                    })
                    .map(|(b, _)| *b)
                    .collect();
                if !candidates.is_empty() {
                    return self.first_pass(v, candidates.into_iter(), p);
                } else if self.opts.enums {
                    return p.key("type", |p| p.not_allowed(tags, &m["type"]));
                }
            }
        }
        self.first_pass(v, branches.iter(), p)
    }

    /// Union branches with `$ref`s followed and nested bare unions inlined
    /// (each union once, so self-references and diamonds stay finite).
    fn flatten(
        &self,
        branches: &'a [Value],
        out: &mut Vec<&'a Value>,
        seen: &mut Vec<*const Value>,
    ) {
        for b in branches.iter().map(|b| self.deref(b)) {
            match branches_of(b) {
                Some(inner) if b.get("type").is_none() && b.get("properties").is_none() => {
                    if !seen.contains(&(b as *const Value)) {
                        seen.push(b);
                        self.flatten(inner, out, seen);
                    }
                }
                _ => out.push(b),
            }
        }
    }

    /// The values a branch's `type` property is pinned to (`const`/`enum`).
    fn pins(&self, b: &'a Value) -> Option<Vec<&'a str>> {
        let t = self.deref(b.get("properties")?.get("type")?);
        let mut leaves = vec![t];
        if let Some(branches) = branches_of(t) {
            leaves.clear();
            self.flatten(branches, &mut leaves, &mut Vec::new());
        }
        let mut out = Vec::new();
        // A `null` alternative only makes the tag optional.
        for leaf in leaves
            .into_iter()
            .filter(|l| l.get("type").is_none_or(|t| t != "null"))
        {
            match (leaf.get("const"), leaf.get("enum")) {
                (Some(Value::String(c)), _) => out.push(c.as_str()),
                (_, Some(Value::Array(e))) => out.extend(e.iter().filter_map(Value::as_str)),
                _ => return None,
            }
        }
        Some(out)
    }

    /// Accepts on the first passing branch; otherwise reports the failure
    /// that got deepest, merging same-place type and enum failures.
    fn first_pass(
        &self,
        v: &Value,
        branches: impl Iterator<Item = &'a Value>,
        p: &mut Path,
    ) -> Result<(), Fail> {
        let mut fails = Vec::new();
        for b in branches {
            match self.check(v, b, p) {
                Ok(()) => return Ok(()),
                Err(f) => fails.push(f),
            }
        }
        // Deepest wins. At equal depth a type mismatch loses to any other
        // failure but a loop, or a `const` of a field inside the branch (a
        // branch not meant); ties go to the earlier branch.
        let rank = |f: &Fail| match f.kind {
            Kind::Loop => (f.depth, 0),
            Kind::Const if f.depth > p.depth => (f.depth, 1),
            Kind::Type => (f.depth, 2),
            _ => (f.depth, 3),
        };
        let Some(best) = (0..fails.len()).rev().max_by_key(|&i| rank(&fails[i])) else {
            return Ok(());
        };
        let sort = |k: Kind| match k {
            Kind::Const | Kind::Value => Some(Kind::Value),
            Kind::Type => Some(Kind::Type),
            _ => None,
        };
        let (path, kind) = (fails[best].path.clone(), sort(fails[best].kind));
        if kind.is_some() {
            // Same place, same sort: list everything any branch allowed, in order.
            let mut want = Vec::new();
            for f in fails
                .iter()
                .filter(|f| f.path == path && sort(f.kind) == kind)
            {
                f.want
                    .iter()
                    .for_each(|w| push_unique(&mut want, w.clone()));
            }
            fails[best].want = want;
        }
        Err(fails.swap_remove(best))
    }
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;

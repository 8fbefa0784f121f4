//! `--transform`, `--transform-error` and `--jq`: which part of each value
//! is printed. The printers see only this interface (JSON text in, zero or
//! more JSON texts out), so GJSON paths and jq programs reach lists, single
//! responses, streams and `ant api` the same way. Expressions are checked
//! when the command starts, before anything is sent.

use std::borrow::Cow;

use super::jq;
use crate::error::{Error, Result};
use crate::json::gjson;

/// What the command line asked to pick from each value, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// `--transform`: a GJSON path.
    Gjson(String),
    /// `--jq`: a jq program.
    Jq(String),
}

/// A checked `--transform` path (GJSON syntax) or `--jq` program.
#[derive(Debug)]
pub struct Transform {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Gjson(gjson::Path),
    Jq { program: jq::Program, text: String },
}

impl Transform {
    /// Checks the GJSON path `text`, given to `flag`; a usage error names
    /// the flag and says what is wrong and where.
    pub fn new(flag: &str, text: &str) -> Result<Transform> {
        gjson::parse(text)
            .map(|path| Transform {
                kind: Kind::Gjson(path),
            })
            .map_err(|e| Error::usage(format!("invalid value for {flag} {text:?}: {e}")))
    }

    /// Compiles the jq program `text` (`--jq`).
    pub fn jq(text: &str) -> Result<Transform> {
        jq::Program::compile(text)
            .map(|program| Transform {
                kind: Kind::Jq {
                    program,
                    text: text.to_string(),
                },
            })
            .map_err(|e| Error::usage(format!("invalid value for --jq {text:?}: {e}")))
    }

    /// The checked form of `pick`.
    pub fn from_pick(pick: &Pick) -> Result<Transform> {
        match pick {
            Pick::Gjson(t) => Transform::new("--transform", t),
            Pick::Jq(t) => Transform::jq(t),
        }
    }

    /// The expression as given.
    pub fn text(&self) -> &str {
        match &self.kind {
            Kind::Gjson(path) => path.as_str(),
            Kind::Jq { text, .. } => text,
        }
    }

    /// The values to print for `json` (one value's JSON text), as JSON
    /// text: a GJSON path gives the match with the bytes it was found as
    /// (none when nothing matches); a jq program gives its outputs,
    /// re-encoded. `item` (1-based) names the value in a run-time error.
    pub fn apply<'a>(&self, json: &'a str, item: usize) -> Result<Vec<Cow<'a, str>>> {
        match &self.kind {
            Kind::Gjson(path) => Ok(gjson::get(json, path)
                .map(|found| match found.raw {
                    Cow::Borrowed(b) => String::from_utf8_lossy(b),
                    Cow::Owned(b) => Cow::Owned(match String::from_utf8(b) {
                        Ok(s) => s,
                        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    }),
                })
                .into_iter()
                .collect()),
            Kind::Jq { program, text } => program
                .run(json)
                .map(|outs| outs.into_iter().map(Cow::Owned).collect())
                .map_err(|e| {
                    Error::Other(format!(
                        "--jq {text:?} failed on {}: {e}",
                        describe_item(json, item)
                    ))
                }),
        }
    }

    /// The first value [`Transform::apply`] gives, if any (error bodies).
    pub fn first<'a>(&self, json: &'a str) -> Option<Cow<'a, str>> {
        self.apply(json, 1).ok()?.into_iter().next()
    }

    /// Whether string results print bare, without `-r` (`--jq`, as gh's
    /// `--jq` prints them).
    pub fn bare_strings(&self) -> bool {
        matches!(self.kind, Kind::Jq { .. })
    }

    /// The error when the values printed matched none: a GJSON path that
    /// matched nothing is exit 9; a jq program that printed nothing is not
    /// an error (as in jq, `select` may keep nothing).
    pub fn unmatched(&self) -> Option<Error> {
        match &self.kind {
            Kind::Gjson(path) => Some(Error::NoMatch(format!(
                "--transform {:?} matched nothing in the response",
                path.as_str()
            ))),
            Kind::Jq { .. } => None,
        }
    }
}

/// `item N` with its `id` when it has one, for run-time errors.
fn describe_item(json: &str, item: usize) -> String {
    let id = gjson::parse("id")
        .ok()
        .and_then(|p| gjson::get(json, &p))
        .filter(|r| r.kind == gjson::Kind::String)
        .map(|r| String::from_utf8_lossy(&r.text).into_owned());
    match id {
        Some(id) => format!("item {item} (id {id})"),
        None => format!("item {item}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gjson_gives_one_match_or_none_and_jq_any_number() {
        let t = Transform::new("--transform", "id").unwrap();
        assert_eq!(t.apply(r#"{"id":"x"}"#, 1).unwrap(), [r#""x""#]);
        assert!(t.apply(r#"{"no":1}"#, 1).unwrap().is_empty());
        assert!(t.unmatched().is_some() && !t.bare_strings());
        let j = Transform::jq(".[] | .id").unwrap();
        assert_eq!(
            j.apply(r#"[{"id":"a"},{"id":"b"}]"#, 1).unwrap(),
            [r#""a""#, r#""b""#]
        );
        assert!(j.unmatched().is_none() && j.bare_strings());
    }

    #[test]
    fn jq_errors_are_usage_errors_before_and_name_the_item_after() {
        let e = Transform::jq(".a |").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .starts_with("invalid value for --jq \".a |\": "),
            "{e}"
        );
        let j = Transform::jq(".a.b").unwrap();
        let e = j.apply(r#"{"id":"agent_1","a":[1]}"#, 3).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            e.to_string(),
            "--jq \".a.b\" failed on item 3 (id agent_1): cannot index [1] with \"b\""
        );
    }
}

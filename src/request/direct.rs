//! Requests that `ant` builds for itself (a session to create, events to
//! send, a stream to open) from flag names and values, through the same
//! table and checks as a typed command line.

use serde_json::Value;

use super::files::DiskFiles;
use super::{Flag, Input, Request, build};
use crate::api::Operation;
use crate::error::{Error, Result};

/// Builds `group verb` from `(flag, value)` pairs: strings as typed on a
/// command line, other JSON values used as they are (so a message that
/// starts with `@` is sent as text, never read as a file).
pub fn build_with(group: &str, verb: &str, flags: &[(&str, Value)]) -> Result<Request> {
    let op = Operation::find(group, verb)
        .ok_or_else(|| Error::Other(format!("no operation {group} {verb} in the table")))?;
    let flags = flags
        .iter()
        .map(|(name, v)| {
            let p = op
                .params
                .iter()
                .find(|p| p.flag == *name)
                .ok_or_else(|| Error::Other(format!("{group} {verb} has no flag --{name}")))?;
            Ok(match v {
                Value::String(s) => Flag::Param(p, s.clone()),
                other => Flag::Value(p, other.clone()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    build(
        op,
        Input {
            flags,
            ..Default::default()
        },
        &mut DiskFiles::default(),
    )
}

/// Sends one event to a session: `beta:sessions:events send`.
pub fn send_event(session_id: &str, event: &Value) -> Result<Request> {
    build_with(
        "beta:sessions:events",
        "send",
        &[
            ("session-id", Value::String(session_id.into())),
            ("event", event.clone()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_sent_as_given_and_strings_as_typed() {
        let event =
            json!({"type": "user.message", "content": [{"type": "text", "text": "@notes.md"}]});
        let req = send_event("sesn_1", &event).unwrap();
        assert_eq!(req.path, "/v1/sessions/sesn_1/events");
        assert_eq!(req.json_body().unwrap()["events"][0], event);
        let err = build_with("beta:sessions", "create", &[("nope", json!(1))]).unwrap_err();
        assert!(err.to_string().contains("--nope"), "{err}");
    }
}

//! The one error type of `ant` and the one map from errors to exit codes.
//! Only `main` prints errors; everything else returns them.

use std::fmt;

/// Exit codes, documented in `ant --help` and the README.
pub mod exit {
    pub const OK: i32 = 0;
    pub const UNEXPECTED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const AUTH: i32 = 3;
    pub const NOT_FOUND: i32 = 4;
    pub const CLIENT: i32 = 5;
    pub const RATE_LIMITED: i32 = 6;
    pub const SERVER: i32 = 7;
    pub const NETWORK: i32 = 8;
    pub const NO_MATCH: i32 = 9;
    pub const REQUIRES_ACTION: i32 = 10;
    pub const TERMINATED: i32 = 11;
    pub const TURN_FAILED: i32 = 12;
    pub const BUDGET_REACHED: i32 = 13;
    pub const REFUSED: i32 = 14;
    pub const INTERRUPTED: i32 = 130;
}

/// The exit-code table as shown in `--help` and the README.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    unexpected error
  2    usage error or bad input (nothing was sent)
  3    authentication or permission error (401, 403)
  4    not found (404)
  5    other client error (4xx)
  6    rate limited, after retries (429)
  7    server error, after retries (5xx, 529)
  8    network error or timeout
  9    --transform matched nothing (the request itself succeeded)
  10   session idle and waiting for you (requires_action)
  11   session terminated or deleted
  12   the turn failed (retries_exhausted, a session.error, or an unknown stop reason)
  13   the session reached its budget (budget_reached)
  14   the agent refused (refusal)
  130  interrupted (Ctrl-C)";

/// An error response from the API.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub method: String,
    pub url: String,
    /// `error.type` from the body, when the body is the API's error envelope.
    pub kind: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    /// The body as received (JSON when the server sent JSON).
    pub body: Vec<u8>,
    /// The response's headers (empty for errors inside a stream).
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags, values, files or stdin: nothing was sent.
    #[error("{0}")]
    Usage(String),
    #[error("{}", api_line(.0))]
    Api(Box<ApiError>),
    /// No usable credentials, before anything was sent.
    #[error("{0}")]
    Auth(String),
    #[error("{0}")]
    Network(String),
    #[error("{0}")]
    Timeout(String),
    /// The request succeeded, but `--transform` matched nothing in the response.
    #[error("{0}")]
    NoMatch(String),
    /// A session stopped waiting for the client (tool confirmation or custom tool result).
    #[error("{0}")]
    RequiresAction(String),
    #[error("{0}")]
    Terminated(String),
    /// A watched turn failed: retries exhausted, a fatal `session.error`, or an unknown stop reason.
    #[error("{0}")]
    TurnFailed(String),
    #[error("{0}")]
    BudgetReached(String),
    /// The model refused; the message carries the stop details.
    #[error("{0}")]
    Refused(String),
    #[error("interrupted")]
    Interrupted,
    /// stdout was closed by the reader (`ant ... | head -1`): exit quietly.
    #[error("broken pipe")]
    BrokenPipe,
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Other(String),
}

fn api_line(e: &ApiError) -> String {
    let mut s = e.status_line();
    if let Some(m) = &e.message {
        s.push_str(": ");
        s.push_str(m);
    }
    if let Some(r) = &e.request_id {
        s.push_str(&format!(" [request-id: {r}]"));
    }
    s
}

impl ApiError {
    /// Method, URL, status and error type, without the message: the line
    /// shown above an error body rendered by `--format-error`/`--transform-error`.
    pub fn status_line(&self) -> String {
        let mut s = format!("{} {}: {}", self.method, self.url, self.status);
        if let Some(reason) = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
        {
            s.push(' ');
            s.push_str(reason);
        }
        if let Some(k) = &self.kind {
            s.push_str(&format!(" ({k})"));
        }
        s
    }
}

impl Error {
    pub fn usage(msg: impl fmt::Display) -> Self {
        Error::Usage(msg.to_string())
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Api(e) => match e.status {
                401 | 403 => exit::AUTH,
                404 => exit::NOT_FOUND,
                429 => exit::RATE_LIMITED,
                400..=499 => exit::CLIENT,
                500..=599 => exit::SERVER,
                _ => exit::UNEXPECTED,
            },
            Error::Auth(_) => exit::AUTH,
            Error::Network(_) | Error::Timeout(_) => exit::NETWORK,
            Error::NoMatch(_) => exit::NO_MATCH,
            Error::RequiresAction(_) => exit::REQUIRES_ACTION,
            Error::Terminated(_) => exit::TERMINATED,
            Error::TurnFailed(_) => exit::TURN_FAILED,
            Error::BudgetReached(_) => exit::BUDGET_REACHED,
            Error::Refused(_) => exit::REFUSED,
            Error::Interrupted => exit::INTERRUPTED,
            Error::BrokenPipe => exit::OK,
            Error::Io(_) | Error::Other(_) => exit::UNEXPECTED,
        }
    }

    /// Classifies an I/O error from writing output.
    pub fn from_write(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Error::BrokenPipe
        } else {
            Error::Io(format!("writing output: {e}"))
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error line as printed: control characters (a server's message may
/// hold newlines or terminal escape sequences) and bidirectional overrides
/// are shown escaped (`\n`, `\u{1b}`), so the line stays one line and the
/// terminal only ever displays it.
pub fn one_line(text: &str) -> String {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> Error {
        Error::Api(Box::new(ApiError {
            status,
            method: "GET".into(),
            url: "http://x/v1/agents".into(),
            kind: None,
            message: None,
            request_id: None,
            body: vec![],
            headers: vec![],
        }))
    }

    #[test]
    fn status_classes_map_to_documented_exit_codes() {
        assert_eq!(api(401).exit_code(), 3);
        assert_eq!(api(403).exit_code(), 3);
        assert_eq!(api(404).exit_code(), 4);
        assert_eq!(api(400).exit_code(), 5);
        assert_eq!(api(409).exit_code(), 5);
        assert_eq!(api(429).exit_code(), 6);
        assert_eq!(api(500).exit_code(), 7);
        assert_eq!(api(529).exit_code(), 7);
        assert_eq!(Error::usage("x").exit_code(), 2);
        assert_eq!(Error::Network("x".into()).exit_code(), 8);
        assert_eq!(Error::NoMatch("x".into()).exit_code(), 9);
        assert_eq!(Error::BrokenPipe.exit_code(), 0);
    }

    #[test]
    fn api_error_line_names_status_type_message_and_request_id() {
        let e = Error::Api(Box::new(ApiError {
            status: 404,
            method: "GET".into(),
            url: "http://x/v1/agents/a".into(),
            kind: Some("not_found_error".into()),
            message: Some("no such agent".into()),
            request_id: Some("req_1".into()),
            body: vec![],
            headers: vec![],
        }));
        assert_eq!(
            e.to_string(),
            "GET http://x/v1/agents/a: 404 Not Found (not_found_error): no such agent [request-id: req_1]"
        );
    }
}

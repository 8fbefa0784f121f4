//! `--transform` and `--transform-error`: which part of each value is
//! printed. The printers see only this interface (JSON text in, JSON text
//! out), so another path language can sit beside GJSON without touching
//! them. Paths are checked when the command starts, before anything is sent.

use std::borrow::Cow;

use super::gjson;
use crate::error::{Error, Result};

/// A checked `--transform` path (GJSON syntax).
#[derive(Debug, Clone)]
pub struct Transform {
    path: gjson::Path,
}

impl Transform {
    /// Checks `text`, given to `flag`; a usage error names the flag and says
    /// what is wrong and where.
    pub fn new(flag: &str, text: &str) -> Result<Transform> {
        gjson::parse(text)
            .map(|path| Transform { path })
            .map_err(|e| Error::usage(format!("invalid value for {flag} {text:?}: {e}")))
    }

    /// The path as given.
    pub fn text(&self) -> &str {
        self.path.as_str()
    }

    /// The part of `json` (one value's JSON text) to print, as JSON text
    /// with the bytes it was found as; `None` when nothing matches.
    pub fn apply<'a>(&self, json: &'a str) -> Option<Cow<'a, str>> {
        let found = gjson::get(json, &self.path)?;
        Some(match found.raw {
            Cow::Borrowed(b) => String::from_utf8_lossy(b),
            Cow::Owned(b) => Cow::Owned(match String::from_utf8(b) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }),
        })
    }

    /// The error for a path that matched none of the values printed.
    pub fn unmatched(&self) -> Error {
        Error::NoMatch(format!(
            "--transform {:?} matched nothing in the response",
            self.text()
        ))
    }
}

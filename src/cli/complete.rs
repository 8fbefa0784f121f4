//! Shell completion: scripts for each shell and the `__complete` back-end.

use crate::error::{Error, Result};

/// `ant __complete <words...>`: candidates for the last word.
pub fn complete(_words: &[String]) -> Result<()> {
    Err(Error::usage("completion is not available yet"))
}

/// `ant @completion <shell>`: prints the completion script.
pub fn script(_args: &[String]) -> Result<()> {
    Err(Error::usage("completion is not available yet"))
}

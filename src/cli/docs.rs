//! Man pages and the generated commands reference, from the command tree.

use crate::error::{Error, Result};

/// `ant @manpages [-o DIR]`: writes man pages for ant and every command.
pub fn manpages(_args: &[String]) -> Result<()> {
    Err(Error::usage("man pages are not available yet"))
}

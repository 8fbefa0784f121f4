//! Page cursors seen while following a list, so that a server handing back
//! a cursor it already gave (the same page again, or a cycle) cannot keep
//! `ant` paging, printing and collecting forever.

use std::collections::HashSet;

use crate::error::{Error, Result};

#[derive(Debug, Default)]
pub struct Cursors(HashSet<String>);

impl Cursors {
    /// Records `cursor` as about to be requested; an error when it was
    /// requested before. `what` names the list for the message.
    pub fn next(&mut self, what: &str, cursor: &str) -> Result<()> {
        if self.0.insert(cursor.to_string()) {
            return Ok(());
        }
        Err(Error::Other(format!(
            "{what}: the server sent the page cursor {cursor:?} a second time; \
             stopped paging rather than loop forever"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_seen_before_is_an_error() {
        let mut c = Cursors::default();
        assert!(c.next("list", "a").is_ok());
        assert!(c.next("list", "b").is_ok());
        let e = c.next("list", "a").unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("\"a\" a second time"), "{e}");
    }
}

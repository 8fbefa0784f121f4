//! The pager: on a terminal, `json`, `yaml` and `pretty` output longer than
//! the screen goes through `$PAGER` (`less` by default, with `LESS=FRX`
//! unless `LESS` is set), as git and gh do. Output is held back only until
//! it fills the screen; shorter output is written as it is. A pager quit
//! early makes the next write fail with a broken pipe, which ends `ant`
//! quietly with 0. The caller decides when paging applies (see `choose`).

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::rc::Rc;

use unicode_width::UnicodeWidthChar;

use super::{OutputOptions, Printer};
use crate::error::{Error, Result};

/// A printer for `opts` whose output is paged through `command` once it is
/// longer than a screen of `rows` × `cols`.
pub(super) fn paged(
    opts: &OutputOptions,
    command: &str,
    rows: usize,
    cols: usize,
) -> Box<dyn Printer> {
    let state = Rc::new(RefCell::new(Pager::new(command, rows, cols)));
    let inner = super::printer(opts, Box::new(Sink(state.clone())));
    Box::new(Paged { inner, state })
}

struct Paged {
    inner: Box<dyn Printer>,
    state: Rc<RefCell<Pager>>,
}

impl Printer for Paged {
    fn item(&mut self, json: &str) -> Result<()> {
        self.inner.item(json)
    }

    fn wants_more(&mut self) -> Pin<Box<dyn Future<Output = bool> + '_>> {
        self.inner.wants_more()
    }

    fn finish(&mut self) -> Result<()> {
        let printed = self.inner.finish();
        let closed = self.state.borrow_mut().close();
        printed.and(closed)
    }
}

impl Drop for Paged {
    /// On an error or Ctrl-C: show what was printed and wait for the pager.
    fn drop(&mut self) {
        let _ = self.state.borrow_mut().close();
    }
}

/// The writer the format printer writes into.
struct Sink(Rc<RefCell<Pager>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

struct Pager {
    command: String,
    rows: usize,
    cols: usize,
    /// Output held back while it still fits on the screen.
    held: Vec<u8>,
    /// Screen rows the held output takes, and the width of its last line.
    used: usize,
    col: usize,
    in_escape: bool,
    child: Option<(Child, ChildStdin)>,
    /// The pager could not start: write straight to stdout.
    direct: bool,
}

impl Pager {
    fn new(command: &str, rows: usize, cols: usize) -> Pager {
        Pager {
            command: command.to_string(),
            rows,
            cols: cols.max(1),
            held: Vec::new(),
            used: 0,
            col: 0,
            in_escape: false,
            child: None,
            direct: false,
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<()> {
        if let Some((_, stdin)) = &mut self.child {
            return stdin.write_all(buf);
        }
        if self.direct {
            return io::stdout().write_all(buf);
        }
        self.held.extend_from_slice(buf);
        self.measure(buf);
        if self.used >= self.rows {
            self.start();
        }
        Ok(())
    }

    /// Counts the screen rows `buf` takes, skipping colour escapes and
    /// counting long lines as the rows they wrap to.
    fn measure(&mut self, buf: &[u8]) {
        for c in String::from_utf8_lossy(buf).chars() {
            if self.in_escape {
                self.in_escape = !('@'..='~').contains(&c) || c == '[';
                continue;
            }
            match c {
                '\x1b' => self.in_escape = true,
                '\n' => {
                    self.used += 1 + self.col.saturating_sub(1) / self.cols;
                    self.col = 0;
                }
                c => self.col += c.width().unwrap_or(0),
            }
        }
    }

    /// Starts the pager and hands it what was held back; if it cannot
    /// start, says so once and writes to the terminal instead.
    fn start(&mut self) {
        let held = std::mem::take(&mut self.held);
        match spawn(&self.command) {
            Ok((child, mut stdin)) => {
                // A pager that exits at once shows up as a broken pipe on the next write.
                let _ = stdin.write_all(&held);
                self.child = Some((child, stdin));
            }
            Err(e) => {
                eprintln!("note: cannot run the pager {:?}: {e}", self.command);
                self.direct = true;
                let _ = io::stdout().write_all(&held);
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.child {
            Some((child, stdin)) => {
                if let Ok(Some(_)) = child.try_wait() {
                    // The user quit the pager: stop producing output.
                    return Err(io::ErrorKind::BrokenPipe.into());
                }
                stdin.flush()
            }
            None if self.direct => io::stdout().flush(),
            None => Ok(()),
        }
    }

    /// Ends the output: writes what was held back (it fit on the screen),
    /// or closes the pager's input and waits for the user to quit it.
    fn close(&mut self) -> Result<()> {
        if let Some((mut child, stdin)) = self.child.take() {
            drop(stdin);
            let _ = child.wait();
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        let mut out = io::stdout();
        out.write_all(&held)
            .and_then(|()| out.flush())
            .map_err(Error::from_write)
    }
}

/// The pager command: split on spaces when it is plain words (so a missing
/// program is reported), else run by `sh -c` (quotes, pipes, variables, and
/// `NAME=value` before the program).
fn command(pager: &str) -> Command {
    let plain = pager
        .chars()
        .all(|c| c.is_alphanumeric() || " -_./+,:".contains(c));
    if plain {
        let mut words = pager.split_whitespace();
        let mut c = Command::new(words.next().unwrap_or("less"));
        c.args(words);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(pager);
        c
    }
}

/// Runs the pager.
fn spawn(pager: &str) -> io::Result<(Child, ChildStdin)> {
    let mut cmd = command(pager);
    if std::env::var_os("LESS").is_none() {
        cmd.env("LESS", "FRX");
    }
    if std::env::var_os("LV").is_none() {
        cmd.env("LV", "-c");
    }
    let mut child = cmd.stdin(Stdio::piped()).spawn()?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("no pipe"))?;
    Ok((child, stdin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(pager: &str) -> Vec<String> {
        let c = command(pager);
        std::iter::once(c.get_program())
            .chain(c.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn plain_words_run_directly_and_the_rest_through_sh() {
        assert_eq!(argv("less"), ["less"]);
        assert_eq!(argv("less -S -x4"), ["less", "-S", "-x4"]);
        assert_eq!(argv("/usr/bin/most"), ["/usr/bin/most"]);
        assert_eq!(argv("LESS=R less"), ["sh", "-c", "LESS=R less"]);
        assert_eq!(argv("less --prompt=x"), ["sh", "-c", "less --prompt=x"]);
        assert_eq!(argv("less 'a b'"), ["sh", "-c", "less 'a b'"]);
        assert_eq!(argv("bat | cat"), ["sh", "-c", "bat | cat"]);
    }

    #[test]
    fn rows_count_wrapped_lines_and_skip_colour() {
        let mut p = Pager::new("less", 24, 10);
        p.measure(b"short\n");
        assert_eq!(p.used, 1);
        p.measure(b"exactly 10\n");
        assert_eq!(p.used, 2);
        p.measure(b"eleven chars\n");
        assert_eq!(p.used, 4);
        p.measure(b"\x1b[1;34m\"key\"\x1b[0m: 1\n");
        assert_eq!(p.used, 5);
        p.measure(b"\n\n");
        assert_eq!(p.used, 7);
        p.measure("日本語日本語\n".as_bytes());
        assert_eq!(p.used, 9);
    }
}

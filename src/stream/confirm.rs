//! Tool confirmations in `beta:sessions run`: the `--approve` policy, or a
//! question on the terminal that Ctrl-C always breaks (exit 130, nothing
//! sent) and where end of input means "no answer".

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use crate::error::{Error, Result};

/// How to answer a tool use whose permission is `ask`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Approve {
    All,
    None,
    /// Ask on the terminal; leave it unanswered when there is none.
    Ask,
}

/// Allow (`Some(true)`) or deny (`Some(false)`) a tool use; `None` when
/// nobody can answer (no terminal, or end of input at the prompt).
pub fn decide(policy: Approve, ev: &Value) -> Result<Option<bool>> {
    match policy {
        Approve::All => Ok(Some(true)),
        Approve::None => Ok(Some(false)),
        Approve::Ask => ask(ev),
    }
}

/// Set by SIGINT while a prompt waits (the async runtime cannot see the
/// signal while this thread blocks on the terminal).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static WATCH_SIGINT: Once = Once::new();

fn watch_sigint() -> bool {
    let mut ok = true;
    WATCH_SIGINT.call_once(|| {
        // SAFETY: the action only stores to an atomic, which is async-signal-safe.
        ok = unsafe {
            signal_hook_registry::register(libc::SIGINT, || {
                INTERRUPTED.store(true, Ordering::SeqCst)
            })
        }
        .is_ok();
    });
    ok
}

fn ask(ev: &Value) -> Result<Option<bool>> {
    let Ok(mut tty) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
    else {
        return Ok(None);
    };
    if !watch_sigint() {
        return Ok(None);
    }
    INTERRUPTED.store(false, Ordering::SeqCst);
    let name = ev["name"].as_str().unwrap_or("tool");
    let input: String = ev["input"].to_string().chars().take(120).collect();
    let question = format!("Allow {name} {input}? [y/N] ");
    let clean: String = question
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if write!(tty, "{clean}").and_then(|()| tty.flush()).is_err() {
        return Ok(None);
    }
    let line = match read_line(&mut tty) {
        Ok(Some(line)) => line,
        Ok(None) => {
            let _ = writeln!(tty);
            return Ok(None);
        }
        Err(e) => {
            let _ = writeln!(tty);
            return Err(e);
        }
    };
    Ok(Some(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    )))
}

/// One line from the terminal; `None` at end of input; Ctrl-C is
/// [`Error::Interrupted`]. Polls, so a signal is seen within 100 ms.
fn read_line(tty: &mut std::fs::File) -> Result<Option<String>> {
    let mut line = Vec::new();
    loop {
        if INTERRUPTED.swap(false, Ordering::SeqCst) {
            return Err(Error::Interrupted);
        }
        let mut fds = libc::pollfd {
            fd: tty.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut fds, 1, 100) };
        if ready <= 0 {
            continue; // timeout, or EINTR from the signal: check the flag
        }
        let mut buf = [0u8; 256];
        let n = match tty.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Ok(None),
        };
        if n == 0 {
            return Ok((!line.is_empty()).then(|| String::from_utf8_lossy(&line).into_owned()));
        }
        line.extend_from_slice(&buf[..n]);
        if line.ends_with(b"\n") {
            return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policies_answer_without_asking() {
        let ev = json!({"name": "bash", "input": {"command": "ls"}});
        assert_eq!(decide(Approve::All, &ev).unwrap(), Some(true));
        assert_eq!(decide(Approve::None, &ev).unwrap(), Some(false));
    }
}

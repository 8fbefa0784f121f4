//! The tool host's own half (`ant --ant-internal-tool-host`, started by the
//! worker, never by hand): read the set-up line, confine this process while
//! it still has one thread, then run the calls the worker sends, one at a
//! time, each within its deadline; a cancel or the worker going away (its
//! end of the pipe closing) stops the call, and the host kills its shell and
//! exits. File tools run on a blocking thread, so however a system call
//! behaves, the host still answers.

use std::io::{BufRead, Read};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Arc;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::unix::pipe;

use super::{FromHost, INTERRUPTED, Lines, MAX_MESSAGE, Setup, TOOL_TIMEOUT, ToHost, bytes_path};
use crate::worker::confine::{self, Nest, Rules};
use crate::worker::limits;
use crate::worker::tools::{Output, Paths, Toolbox};

/// The argument that makes `ant` the tool host.
pub const ARG: &str = "--ant-internal-tool-host";

/// Reads the set-up and confines this process. Runs before any thread is
/// started: Landlock is applied to the one thread there is.
fn set_up() -> Result<(Setup, Option<Nest>), String> {
    let mut first = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_MESSAGE as u64)
        .read_until(b'\n', &mut first)
        .map_err(|e| format!("reading the set-up: {e}"))?;
    let setup: Setup =
        serde_json::from_slice(&first).map_err(|e| format!("a malformed set-up ({e})"))?;
    confine::not_dumpable()?;
    limits::apply(&setup.limits)?;
    if !setup.confined {
        return Ok((setup, None));
    }
    let paths = Paths::new(&bytes_path(&setup.workdir), setup.unrestricted);
    let hidden: Vec<_> = setup.hidden.iter().map(|b| bytes_path(b)).collect();
    let rules = Rules::for_session(&paths.root, &bytes_path(&setup.tmp), &hidden);
    let nest = confine::confine_process(&rules)
        .map_err(|e| format!("cannot confine the tools with Landlock: {e}"))?;
    Ok((setup, Some(nest)))
}

/// The host's `main`: returns the exit code.
pub fn main() -> i32 {
    // SAFETY: the worker gave this process its stdin and stdout as pipes;
    // nothing else in it uses them.
    let (input, output) = unsafe { (OwnedFd::from_raw_fd(0), OwnedFd::from_raw_fd(1)) };
    let set = set_up();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(4)
        .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ant-tool-host: cannot start a runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(async move {
        let Ok(mut out) = pipe::Sender::from_owned_fd(output) else {
            return 1;
        };
        let (setup, nest) = match set {
            Ok(s) => s,
            Err(error) => {
                let _ = out
                    .write_all(&super::line(&FromHost::Failed { error }))
                    .await;
                return 1;
            }
        };
        let Ok(input) = pipe::Receiver::from_owned_fd(input) else {
            return 1;
        };
        serve(setup, nest, input, out).await
    })
}

/// Signals a terminal or service manager sends to a whole process group:
/// the worker decides when tools stop, so they are received and ignored
/// (a handler, not `SIG_IGN`, which the agent's programs would inherit).
fn ignore_stop_signals() {
    use tokio::signal::unix::{SignalKind, signal};
    for kind in [
        SignalKind::interrupt(),
        SignalKind::terminate(),
        SignalKind::hangup(),
    ] {
        if let Ok(mut s) = signal(kind) {
            tokio::spawn(async move { while s.recv().await.is_some() {} });
        }
    }
}

async fn serve(
    setup: Setup,
    nest: Option<Nest>,
    input: pipe::Receiver,
    mut out: pipe::Sender,
) -> i32 {
    ignore_stop_signals();
    let mut lines = Lines::new(BufReader::new(input), MAX_MESSAGE);
    let paths = Paths::new(&bytes_path(&setup.workdir), setup.unrestricted);
    let (started, mut shells) = tokio::sync::mpsc::unbounded_channel();
    let mut tools = Toolbox::new(
        paths,
        Some(bytes_path(&setup.tmp)),
        nest.map(Arc::new),
        Some(started),
    );
    let mut send = async |msg: FromHost| out.write_all(&super::line(&msg)).await.is_ok();
    if !send(FromHost::Ready).await {
        return 1;
    }
    loop {
        let msg = tokio::select! {
            m = lines.next() => m,
            Some(pid) = shells.recv() => {
                if !send(FromHost::Shell { pid }).await {
                    break;
                }
                continue;
            }
        };
        let Ok(Some(msg)) = msg else { break };
        let Ok(ToHost::Call { id, name, input }) = serde_json::from_slice::<ToHost>(&msg) else {
            continue;
        };
        let mut gone = false;
        let result = {
            let call = tokio::time::timeout(TOOL_TIMEOUT, tools.call(&name, &input));
            tokio::pin!(call);
            loop {
                tokio::select! {
                    r = &mut call => break r.unwrap_or_else(|_| Output::err(super::timed_out(&name))),
                    Some(pid) = shells.recv() => {
                        send(FromHost::Shell { pid }).await;
                    }
                    m = lines.next() => match m.map(|m| m.map(|l| serde_json::from_slice::<ToHost>(&l))) {
                        Ok(Some(Ok(ToHost::Cancel { id: c }))) if c == id => break Output::err(INTERRUPTED),
                        Ok(Some(_)) => {}
                        // The worker is gone: stop.
                        Ok(None) | Err(_) => {
                            gone = true;
                            break Output::err(INTERRUPTED);
                        }
                    },
                }
            }
        };
        // A call cut short leaves its command running: kill it (and the shell).
        tools.shell.abandon();
        if gone {
            break;
        }
        let Output { text, is_error } = result;
        if !send(FromHost::Result { id, text, is_error }).await {
            break;
        }
    }
    tools.shell.close();
    0
}

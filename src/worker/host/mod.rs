//! The tool host: each session's tools run in a process of their own, the
//! worker's binary started again (`serve`), which confines itself as a whole
//! before it runs anything (not dumpable, resource limits, `no_new_privs`,
//! Landlock on its one thread, so on every thread it starts later) and
//! starts bash and ripgrep in a Landlock domain nested in its own. Nothing
//! the agent runs can then ptrace, signal or read `/proc` of the host or of
//! the worker, and no process it can read holds a key: the host's
//! environment has no `ANTHROPIC_*` variable.
//!
//! This half is the worker's: it starts the host, sends it calls (one at a
//! time, as JSON lines on its stdin) and reads the results (JSON lines on
//! its stdout). The worker never waits on the host beyond a call's deadline:
//! a host that does not answer in time, dies or talks nonsense is killed
//! (with its shell's processes) and the next call starts a new one.

pub mod serve;

use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};

use super::Cancel;
use super::limits::Limits;
use super::tools::{self, Output};
use crate::error::{Error, Result};

/// Every call's limit.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long past a call's limit the worker waits for the host's answer
/// before it kills the host.
const BACKSTOP: Duration = Duration::from_secs(10);
/// How long a host may take to start (and confine itself).
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long an interrupted or closed host has to answer or exit.
const WIND_DOWN: Duration = Duration::from_secs(1);
/// Longest message either side accepts (tool results are capped far below).
pub const MAX_MESSAGE: usize = 16 << 20;

/// The result text of a call cut short because the worker is stopping.
pub const INTERRUPTED: &str = "the worker stopped; the tool call was interrupted";

/// The text of a call that ran out of time.
pub fn timed_out(name: &str) -> String {
    format!(
        "tool {name:?} timed out after {}",
        super::duration::format(TOOL_TIMEOUT)
    )
}

/// How to set up a session's tools.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub workdir: PathBuf,
    pub unrestricted: bool,
    /// Confine the host with Landlock.
    pub confined: bool,
    /// Directories the session may not read besides the usual ones (the
    /// other sessions' directories and TMPDIRs, with `--max-sessions`).
    pub hidden: Vec<PathBuf>,
    /// Where the session's private TMPDIR is made ([`tools::tmp_root`]).
    pub tmp_parent: PathBuf,
    pub session_id: String,
    pub limits: Limits,
}

/// What the worker tells a new host (its first line).
#[derive(Debug, Serialize, Deserialize)]
pub struct Setup {
    /// Paths as bytes: any file name travels unchanged.
    pub workdir: Vec<u8>,
    pub tmp: Vec<u8>,
    pub unrestricted: bool,
    pub confined: bool,
    /// Everything the host may not read (home, ant's config, ...).
    pub hidden: Vec<Vec<u8>>,
    pub limits: Limits,
}

pub fn path_bytes(p: &Path) -> Vec<u8> {
    p.as_os_str().as_bytes().to_vec()
}

pub fn bytes_path(b: &[u8]) -> PathBuf {
    PathBuf::from(std::ffi::OsString::from_vec(b.to_vec()))
}

/// Worker to host.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToHost {
    Call {
        id: u64,
        name: String,
        input: Value,
    },
    /// Stop the running call now (the worker is stopping).
    Cancel {
        id: u64,
    },
}

/// Host to worker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromHost {
    /// Confined and listening.
    Ready,
    /// Could not set up (or confine) itself; it exits.
    Failed { error: String },
    /// A bash shell started: its pid, which leads its own session.
    Shell { pid: i32 },
    Result {
        id: u64,
        text: String,
        is_error: bool,
    },
}

/// One JSON message and its line end.
pub fn line<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec(msg).expect("messages serialize");
    out.push(b'\n');
    out
}

/// Lines from a pipe, at most `cap` bytes each. Cancel-safe: a line read
/// in part is kept for the next call.
pub struct Lines<R> {
    reader: R,
    partial: Vec<u8>,
    cap: usize,
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    pub fn new(reader: R, cap: usize) -> Self {
        Lines {
            reader,
            partial: Vec::new(),
            cap,
        }
    }

    /// The next line (without its end); `None` at the end of the stream.
    pub async fn next(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = self.partial.iter().position(|b| *b == b'\n') {
                let rest = self.partial.split_off(i + 1);
                let mut line = std::mem::replace(&mut self.partial, rest);
                line.pop();
                return Ok(Some(line));
            }
            if self.partial.len() > self.cap {
                return Err(std::io::Error::other(format!(
                    "a message longer than {} bytes",
                    self.cap
                )));
            }
            let chunk = self.reader.fill_buf().await?;
            if chunk.is_empty() {
                return Ok(None);
            }
            let n = chunk.len();
            self.partial.extend_from_slice(chunk);
            self.reader.consume(n);
        }
    }
}

/// A running host process.
struct Proc {
    child: Child,
    /// Closed (`None`) to ask the host to exit.
    stdin: Option<ChildStdin>,
    out: Lines<BufReader<ChildStdout>>,
    /// The bash shell it started, if any: its pid (which leads its own
    /// session) and start time (so a reused pid is never taken for it).
    shell: Option<(i32, u64)>,
    next_id: u64,
}

/// The start time of a process (clock ticks after boot, `/proc/PID/stat`).
fn start_time(pid: i32) -> Option<u64> {
    tools::bash::stat_fields(pid)?.get(19)?.parse().ok()
}

impl Proc {
    /// Kills the host and its shell's whole session, at once (no await, so
    /// also when a call is dropped). The shell may have outlived the host.
    fn kill_now(&mut self) {
        if let Some((sid, started)) = self.shell
            && start_time(sid) == Some(started)
        {
            tools::bash::kill_session(sid);
        }
        let _ = self.child.start_kill();
    }

    async fn next_message(&mut self) -> std::result::Result<FromHost, String> {
        loop {
            match self.out.next().await {
                Ok(Some(l)) => match serde_json::from_slice::<FromHost>(&l) {
                    Ok(FromHost::Shell { pid }) => {
                        // Taken only for a child of the host, as a shell is.
                        let child = self.child.id().and_then(|h| i32::try_from(h).ok());
                        let parent = tools::bash::stat_field(pid, 1);
                        self.shell = (pid > 1 && parent.is_some() && parent == child)
                            .then(|| start_time(pid).map(|t| (pid, t)))
                            .flatten();
                    }
                    Ok(m) => return Ok(m),
                    Err(e) => return Err(format!("it sent a malformed message ({e})")),
                },
                Ok(None) => {
                    return Err(match self.child.wait().await {
                        Ok(s) => format!("it exited ({s})"),
                        Err(e) => format!("it exited ({e})"),
                    });
                }
                Err(e) => return Err(format!("reading from it failed: {e}")),
            }
        }
    }

    async fn send(&mut self, msg: &ToHost) -> std::io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| std::io::Error::other("closed"))?;
        stdin.write_all(&line(msg)).await?;
        stdin.flush().await
    }

    /// Kills the host (and its shell) and reaps it.
    async fn kill(mut self) {
        self.kill_now();
        let _ = self.child.wait().await;
    }
}

/// Kills the host if a call is dropped midway (the host would still be busy
/// with it, and the next call would wait behind it).
struct Midway<'a> {
    slot: &'a mut Option<Proc>,
    armed: bool,
}

impl Drop for Midway<'_> {
    fn drop(&mut self) {
        if self.armed
            && let Some(mut p) = self.slot.take()
        {
            p.kill_now();
        }
    }
}

/// The tool host of one session, seen from the worker.
pub struct Host {
    cfg: HostConfig,
    /// The session's private TMPDIR (made by the worker, removed at close).
    tmp: PathBuf,
    proc: tokio::sync::Mutex<Option<Proc>>,
}

impl Host {
    /// Makes the session's TMPDIR and starts its host; fails when the host
    /// cannot start or confine itself.
    pub async fn start(cfg: HostConfig) -> Result<Host> {
        let tmp = tools::private_tmp(&cfg.tmp_parent, &cfg.session_id)?;
        let host = Host {
            cfg,
            tmp,
            proc: tokio::sync::Mutex::new(None),
        };
        match host.spawn().await {
            Ok(p) => {
                *host.proc.lock().await = Some(p);
                Ok(host)
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&host.tmp);
                Err(e)
            }
        }
    }

    fn setup(&self) -> Setup {
        let hidden = if self.cfg.confined {
            super::confine::private_dirs(&self.cfg.hidden)
        } else {
            vec![]
        };
        Setup {
            workdir: path_bytes(&self.cfg.workdir),
            tmp: path_bytes(&self.tmp),
            unrestricted: self.cfg.unrestricted,
            confined: self.cfg.confined,
            hidden: hidden.iter().map(|p| path_bytes(p)).collect(),
            limits: self.cfg.limits,
        }
    }

    async fn spawn(&self) -> Result<Proc> {
        let failed = |why: String| Error::Other(format!("cannot start the tool host: {why}"));
        let mut cmd = tokio::process::Command::new("/proc/self/exe");
        cmd.arg0("ant-tool-host")
            .arg(serve::ARG)
            .env_clear()
            .envs(std::env::vars_os().filter(|(k, _)| !k.as_bytes().starts_with(b"ANTHROPIC_")))
            // Its own process group: a Ctrl-C meant for the worker does not
            // end the tool call the worker gives time to finish.
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().map_err(|e| failed(e.to_string()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(failed("no pipes".into()));
        };
        let mut proc = Proc {
            child,
            stdin: Some(stdin),
            out: Lines::new(BufReader::new(stdout), MAX_MESSAGE),
            shell: None,
            next_id: 0,
        };
        let setup = line(&self.setup());
        let ready = async {
            if let Some(stdin) = proc.stdin.as_mut() {
                stdin.write_all(&setup).await.map_err(|e| e.to_string())?;
            }
            match proc.next_message().await? {
                FromHost::Ready => Ok(()),
                FromHost::Failed { error } => Err(error),
                other => Err(format!("unexpected first message {other:?}")),
            }
        };
        let why = match tokio::time::timeout(START_TIMEOUT, ready).await {
            Ok(Ok(())) => return Ok(proc),
            Ok(Err(why)) => why,
            Err(_) => format!(
                "it did not start within {}",
                super::duration::format(START_TIMEOUT)
            ),
        };
        proc.kill().await;
        Err(failed(why))
    }

    /// Runs one tool call in the host, within [`TOOL_TIMEOUT`];
    /// `interrupt` cuts it short ([`INTERRUPTED`]). Dropping the future
    /// kills the host (the next call starts a new one).
    pub async fn call(&self, name: &str, input: &Value, interrupt: &Cancel) -> Output {
        let mut slot = self.proc.lock().await;
        let deadline = tokio::time::Instant::now() + TOOL_TIMEOUT + BACKSTOP;
        // A host that died since the last call (killed, say) is replaced
        // once, before anything ran.
        let mut attempt = 0;
        let id = loop {
            attempt += 1;
            if slot.is_none() {
                match self.spawn().await {
                    Ok(p) => *slot = Some(p),
                    Err(e) => return Output::err(format!("{name}: {e}")),
                }
            }
            let p = slot.as_mut().expect("just set");
            p.next_id += 1;
            let id = p.next_id;
            let call = ToHost::Call {
                id,
                name: name.to_string(),
                input: input.clone(),
            };
            match p.send(&call).await {
                Ok(()) => break id,
                Err(e) => {
                    if let Some(dead) = slot.take() {
                        dead.kill().await;
                    }
                    if attempt == 2 {
                        return Output::err(format!("{name}: the tool host stopped: {e}"));
                    }
                }
            }
        };
        let guard = Midway {
            slot: &mut slot,
            armed: true,
        };
        let p = guard.slot.as_mut().expect("a host");
        let (out, kill) = run_call(p, name, id, deadline, interrupt).await;
        let mut guard = guard;
        guard.armed = false;
        if kill && let Some(p) = guard.slot.take() {
            p.kill().await;
        }
        out
    }

    /// Stops the host (it kills its shell on the way out) and removes the
    /// session's TMPDIR.
    pub async fn close(self) {
        if let Some(mut p) = self.proc.lock().await.take() {
            p.stdin = None;
            if tokio::time::timeout(WIND_DOWN, p.child.wait())
                .await
                .is_err()
            {
                p.kill().await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// Waits for the host's answer to call `id`; the flag says the host must
/// be killed (it did not answer in time, or broke down).
async fn run_call(
    p: &mut Proc,
    name: &str,
    id: u64,
    deadline: tokio::time::Instant,
    interrupt: &Cancel,
) -> (Output, bool) {
    loop {
        tokio::select! {
            m = p.next_message() => match m {
                Ok(FromHost::Result { id: got, text, is_error }) if got == id => {
                    return (Output { text, is_error }, false);
                }
                Ok(_) => {}
                Err(why) => {
                    return (Output::err(format!("{name}: the tool host stopped: {why}")), true);
                }
            },
            _ = tokio::time::sleep_until(deadline) => return (Output::err(timed_out(name)), true),
            _ = interrupt.cancelled() => break,
        }
    }
    // Interrupted: the host stops the call (and kills its shell); without
    // an answer soon, it is killed.
    let answered = async {
        p.send(&ToHost::Cancel { id }).await.ok()?;
        loop {
            match p.next_message().await {
                Ok(FromHost::Result { id: got, .. }) if got == id => return Some(()),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    };
    let kill = !matches!(
        tokio::time::timeout(WIND_DOWN, answered).await,
        Ok(Some(()))
    );
    (Output::err(INTERRUPTED), kill)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "host" that is `sh -c SCRIPT`: it reads calls and does what the
    /// script says (nothing, say).
    fn fake(script: &str) -> Proc {
        let mut child = tokio::process::Command::new("/bin/sh")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        Proc {
            stdin: child.stdin.take(),
            out: Lines::new(BufReader::new(child.stdout.take().unwrap()), 64),
            child,
            shell: None,
            next_id: 1,
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn a_host_that_never_answers_is_given_up_at_the_deadline() {
        rt().block_on(async {
            let mut p = fake("exec sleep 60");
            let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
            let started = std::time::Instant::now();
            let (out, kill) = run_call(&mut p, "read", 1, deadline, &Cancel::new()).await;
            assert_eq!(out, Output::err(timed_out("read")));
            assert!(kill && started.elapsed() < Duration::from_secs(5));
            p.kill().await;
        });
    }

    #[test]
    fn an_interrupted_call_without_an_answer_gets_the_host_killed() {
        rt().block_on(async {
            let mut p = fake("exec sleep 60");
            let interrupt = Cancel::new();
            interrupt.cancel();
            let far = tokio::time::Instant::now() + Duration::from_secs(60);
            let (out, kill) = run_call(&mut p, "bash", 1, far, &interrupt).await;
            assert_eq!((out, kill), (Output::err(INTERRUPTED), true));
            p.kill().await;
        });
    }

    #[test]
    fn answers_are_matched_to_their_call_and_nonsense_ends_the_host() {
        rt().block_on(async {
            let far = tokio::time::Instant::now() + Duration::from_secs(60);
            let answers = r#"read l; echo '{"result":{"id":1,"text":"old","is_error":false}}'; echo '{"result":{"id":2,"text":"hi","is_error":false}}'; sleep 60"#;
            let mut p = fake(answers);
            p.send(&ToHost::Cancel { id: 0 }).await.unwrap();
            let got = run_call(&mut p, "bash", 2, far, &Cancel::new()).await;
            assert_eq!(got, (Output::ok("hi"), false));
            p.kill().await;
            // A shell the host reports is killed with it: its own child in a
            // session of its own; any other pid is not taken.
            // (Reported once it leads its session, as a shell is when spawned.)
            let shell = r#"setsid sleep 60 & while [ "$(cut -d' ' -f6 /proc/$!/stat)" != $! ]; do :; done; echo "{\"shell\":{\"pid\":$!}}"; echo '{"shell":{"pid":1}}'; echo '{"result":{"id":1,"text":"","is_error":false}}'; sleep 60"#;
            let mut p = fake(shell);
            assert!(!run_call(&mut p, "bash", 1, far, &Cancel::new()).await.1);
            assert_eq!(p.shell, None, "pid 1 is not the host's shell");
            p.kill().await;
            let mut p = fake(&shell.replace(r#"echo '{"shell":{"pid":1}}'; "#, ""));
            assert!(!run_call(&mut p, "bash", 1, far, &Cancel::new()).await.1);
            let (sid, _) = p.shell.expect("the host's shell");
            p.kill().await;
            let end = std::time::Instant::now() + Duration::from_secs(10);
            while tools::bash::stat_fields(sid).is_some_and(|f| f[0] != "Z") {
                assert!(std::time::Instant::now() < end, "the shell {sid} survived");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let mut p = fake("echo not json; sleep 60");
            let (out, kill) = run_call(&mut p, "bash", 1, far, &Cancel::new()).await;
            assert!(kill && out.text.starts_with("bash: the tool host stopped: it sent a malformed message"), "{out:?}");
            p.kill().await;
            // A message longer than the cap is refused, not read whole.
            let mut p = fake("head -c 1000 /dev/zero | tr '\\0' x; sleep 60");
            let (out, kill) = run_call(&mut p, "bash", 1, far, &Cancel::new()).await;
            assert!(kill && out.text.contains("a message longer than 64 bytes"), "{out:?}");
            p.kill().await;
            let mut p = fake("exit 3");
            let (out, kill) = run_call(&mut p, "grep", 1, far, &Cancel::new()).await;
            assert_eq!(out, Output::err("grep: the tool host stopped: it exited (exit status: 3)"));
            assert!(kill);
        });
    }
}

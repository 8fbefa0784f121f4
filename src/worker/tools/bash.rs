//! The `bash` tool: one persistent `/bin/bash --noprofile --norc` per
//! session on a pseudo-terminal, started lazily in the workdir with every
//! `ANTHROPIC_*` variable removed, in a session of its own and (confined)
//! in a Landlock domain nested in the tool host's. Each command is wrapped
//! so that its stdin is `/dev/null`, stderr joins stdout, and a per-call
//! sentinel with the exit status marks its end. Output keeps the last
//! 100 KiB.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc::UnboundedSender;

use super::{Output, decode};
use crate::worker::confine::Nest;

pub const OUTPUT_CAP: usize = 100 * 1024;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
const START_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Deserialize)]
struct BashIn {
    #[serde(default)]
    command: String,
    #[serde(default)]
    restart: bool,
    #[serde(default)]
    timeout_ms: Option<i64>,
}

struct Proc {
    child: std::process::Child,
    master: AsyncFd<OwnedFd>,
    /// A command was abandoned midway: the shell state is unknown.
    dirty: bool,
}

impl Proc {
    fn kill(mut self) {
        kill_session(self.child.id() as libc::pid_t);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Kills a shell's session (`sid` is the shell's pid): its process group,
/// and the groups that job control (`set -m`) made for background jobs.
/// Only a live session leader's own session: never pid 0 or 1, which
/// `killpg` would read as this process's group or as every process.
pub fn kill_session(sid: libc::pid_t) {
    if !leads_session(sid) {
        return;
    }
    // SAFETY: signals the process group led by the shell (setsid).
    unsafe { libc::killpg(sid, libc::SIGKILL) };
    for pid in session_members(sid) {
        // SAFETY: signals a process of the shell's own session.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// Whether `pid` is a live process (above 1) leading a session of its own.
fn leads_session(pid: libc::pid_t) -> bool {
    pid > 1 && stat_field(pid, 3) == Some(pid)
}

/// Field `n` of `/proc/<pid>/stat` counted after the command name (0:
/// state, 1: ppid, 2: pgrp, 3: session, 19: start time).
pub fn stat_field(pid: libc::pid_t, n: usize) -> Option<libc::pid_t> {
    stat_fields(pid)?.get(n)?.parse().ok()
}

/// The fields of `/proc/<pid>/stat` after the command name.
pub fn stat_fields(pid: libc::pid_t) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(String::from).collect())
}

/// The processes whose session is `sid` (from `/proc/<pid>/stat`).
fn session_members(sid: libc::pid_t) -> Vec<libc::pid_t> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter(|pid| stat_field(*pid, 3) == Some(sid))
        .collect()
}

/// How one command ended.
enum Ended {
    Status(i32),
    TimedOut,
    /// The shell exited (or the terminal closed) before the command finished.
    ShellGone,
}

pub struct Shell {
    workdir: PathBuf,
    tmp: Option<PathBuf>,
    proc: Option<Proc>,
    /// The Landlock domain the shell enters (nested in the tool host's).
    nest: Option<Arc<Nest>>,
    /// Hears the pid of every shell started.
    started: Option<UnboundedSender<i32>>,
}

/// Opens a pseudo-terminal pair (master, slave).
fn open_pty() -> io::Result<(OwnedFd, OwnedFd)> {
    // SAFETY: plain libc calls on fds we own; ptsname_r writes into our buffer.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if m < 0 {
            return Err(io::Error::last_os_error());
        }
        let master = OwnedFd::from_raw_fd(m);
        if libc::grantpt(m) != 0 || libc::unlockpt(m) != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut name = [0 as libc::c_char; 128];
        if libc::ptsname_r(m, name.as_mut_ptr(), name.len()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let s = libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        if s < 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = libc::fcntl(m, libc::F_GETFL);
        libc::fcntl(m, libc::F_SETFL, flags | libc::O_NONBLOCK);
        Ok((master, OwnedFd::from_raw_fd(s)))
    }
}

/// Removes ANSI CSI sequences, turns `\r\n` into `\n`, drops other `\r`
/// and leading newlines.
pub fn clean_output(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == 0x1b && raw.get(i + 1) == Some(&b'[') {
            let mut j = i + 2;
            while j < raw.len() && (0x20..=0x3f).contains(&raw[j]) {
                j += 1;
            }
            if j < raw.len() && (0x40..=0x7e).contains(&raw[j]) {
                i = j + 1;
                continue;
            }
        }
        if raw[i] != b'\r' {
            out.push(raw[i]);
        }
        i += 1;
    }
    let text = String::from_utf8_lossy(&out);
    text.trim_start_matches('\n').to_string()
}

/// A new sentinel, and the `printf` that prints it split in two (so an
/// echoed command line never contains it whole).
fn sentinel() -> (String, String) {
    let hex = format!("{:016x}", fastrand::u64(..));
    let s1 = format!("__ANT_CMD_{hex}");
    let s2 = "_DONE__";
    (
        format!("{s1}{s2}"),
        format!("printf '\\n{s1}''{s2}%d\\n' $?\n"),
    )
}

impl Shell {
    pub fn new(
        workdir: PathBuf,
        tmp: Option<PathBuf>,
        nest: Option<Arc<Nest>>,
        started: Option<UnboundedSender<i32>>,
    ) -> Shell {
        Shell {
            workdir,
            tmp,
            proc: None,
            nest,
            started,
        }
    }

    /// Kills the shell and everything in its process group.
    pub fn close(&mut self) {
        if let Some(p) = self.proc.take() {
            p.kill();
        }
    }

    /// After a call was given up: a command still running is killed, with
    /// its shell (the next call starts a new one).
    pub fn abandon(&mut self) {
        if self.proc.as_ref().is_some_and(|p| p.dirty) {
            self.close();
        }
    }

    fn spawn(&mut self) -> io::Result<Proc> {
        let (master, slave) = open_pty()?;
        let mut cmd = std::process::Command::new("/bin/bash");
        cmd.args(["--noprofile", "--norc"])
            .current_dir(&self.workdir)
            .env_clear()
            .envs(std::env::vars_os().filter(|(k, _)| {
                let k = k.to_string_lossy();
                !k.starts_with("ANTHROPIC_") && !matches!(k.as_ref(), "PS1" | "PS2" | "TERM")
            }))
            .env("PS1", "")
            .env("PS2", "")
            .env("TERM", "dumb")
            .stdin(slave.try_clone()?)
            .stdout(slave.try_clone()?)
            .stderr(slave);
        if let Some(tmp) = &self.tmp {
            cmd.env("TMPDIR", tmp);
        }
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
            if let Some(nest) = &self.nest {
                cmd.pre_exec(nest.hook());
            }
        }
        let child = cmd.spawn()?;
        if let Some(tx) = &self.started {
            let _ = tx.send(child.id() as i32);
        }
        Ok(Proc {
            child,
            // SAFETY: the fd is ours and stays open as long as the AsyncFd owns it.
            master: unsafe { AsyncFd::register(master)? },
            dirty: false,
        })
    }

    async fn start(&mut self) -> io::Result<()> {
        let mut proc = self.spawn()?;
        let (mark, printf) = sentinel();
        let line = format!("stty -echo 2>/dev/null; set +m; {printf}");
        let mut buf = Vec::new();
        let started = async {
            write_all(&proc.master, line.as_bytes()).await?;
            match read_until(&proc.master, &mark, &mut buf).await? {
                true => Ok(()),
                false => Err(io::Error::other("bash exited while starting")),
            }
        };
        match tokio::time::timeout(START_TIMEOUT, started).await {
            Ok(Ok(())) => {
                self.proc = Some(proc);
                Ok(())
            }
            Ok(Err(e)) => {
                proc.dirty = true;
                proc.kill();
                Err(e)
            }
            Err(_) => {
                proc.kill();
                Err(io::Error::other("bash did not start within 5s"))
            }
        }
    }

    pub async fn call(&mut self, input: &Value) -> Output {
        let inp: BashIn = match decode("bash", input) {
            Ok(i) => i,
            Err(o) => return o,
        };
        if inp.restart {
            self.close();
            if inp.command.is_empty() {
                return Output::ok("bash session restarted");
            }
        }
        if inp.command.is_empty() {
            return Output::err("bash: command is required");
        }
        if self.proc.as_ref().is_some_and(|p| p.dirty) {
            self.close();
        }
        if self.proc.is_none()
            && let Err(e) = self.start().await
        {
            return Output::err(format!("bash: {e}"));
        }
        let timeout = match inp.timeout_ms {
            Some(ms) if ms > 0 => Duration::from_millis(ms as u64),
            _ => DEFAULT_TIMEOUT,
        };
        self.run(&inp.command, timeout).await
    }

    async fn run(&mut self, command: &str, timeout: Duration) -> Output {
        let proc = self.proc.as_mut().expect("started");
        proc.dirty = true;
        let (mark, printf) = sentinel();
        let line = format!("{{ {command}\n}} </dev/null 2>&1; {printf}");
        let mut buf = Vec::new();
        let mut truncated = false;
        let job = async {
            write_all(&proc.master, line.as_bytes()).await?;
            read_capped(&proc.master, &mark, &mut buf, &mut truncated).await
        };
        let ended = match tokio::time::timeout(timeout, job).await {
            Err(_) => Ended::TimedOut,
            Ok(Err(_)) | Ok(Ok(None)) => Ended::ShellGone,
            Ok(Ok(Some(status))) => Ended::Status(status),
        };
        let body = match find(&buf, mark.as_bytes()) {
            Some(i) => &buf[..i],
            None => &buf[..],
        };
        let mut text = clean_output(body);
        if truncated {
            text = format!("[output truncated]\n{text}");
        }
        match ended {
            Ended::Status(code) => {
                proc.dirty = false;
                if code == 0 {
                    Output::ok(text)
                } else {
                    Output::err(format!("{text}\nexit code: {code}"))
                }
            }
            Ended::TimedOut => {
                self.close();
                Output::err(format!(
                    "{text}\n[timed out]\nsession restarted after timeout"
                ))
            }
            Ended::ShellGone => {
                self.close();
                Output::err("bash: bash session terminated")
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn write_all(fd: &AsyncFd<OwnedFd>, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let mut guard = fd.writable().await?;
        // SAFETY: writes from our buffer to our fd.
        let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                guard.clear_ready();
                continue;
            }
            return Err(e);
        }
        data = &data[n as usize..];
    }
    Ok(())
}

/// Reads whatever is available; `Ok(0)` means the terminal closed.
async fn read_some(fd: &AsyncFd<OwnedFd>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        let mut guard = fd.readable().await?;
        // SAFETY: reads into our buffer from our fd.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EAGAIN) => guard.clear_ready(),
            // The slave side is closed: the shell is gone.
            Some(libc::EIO) => return Ok(0),
            _ => return Err(e),
        }
    }
}

/// Reads until `mark` appears; false when the terminal closed first.
async fn read_until(fd: &AsyncFd<OwnedFd>, mark: &str, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = [0u8; 8192];
    loop {
        if find(buf, mark.as_bytes()).is_some_and(|i| buf[i..].contains(&b'\n')) {
            return Ok(true);
        }
        let n = read_some(fd, &mut chunk).await?;
        if n == 0 {
            return Ok(false);
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 1 << 20 {
            buf.drain(..buf.len() - 4096);
        }
    }
}

/// Reads a command's output until its sentinel and status line, keeping
/// the last 100 KiB; returns the status (-1 when unparsable), or `None`
/// when the shell went away.
async fn read_capped(
    fd: &AsyncFd<OwnedFd>,
    mark: &str,
    buf: &mut Vec<u8>,
    truncated: &mut bool,
) -> io::Result<Option<i32>> {
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(i) = find(buf, mark.as_bytes()) {
            let rest = &buf[i + mark.len()..];
            if let Some(nl) = rest.iter().position(|b| *b == b'\n') {
                let status = std::str::from_utf8(&rest[..nl])
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(-1);
                let keep = i;
                if keep > OUTPUT_CAP {
                    buf.drain(..keep - OUTPUT_CAP);
                    *truncated = true;
                }
                return Ok(Some(status));
            }
        }
        let n = read_some(fd, &mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        // Bound memory: keep the cap plus room for the sentinel line.
        let limit = OUTPUT_CAP + 4096;
        if buf.len() > 2 * limit {
            buf.drain(..buf.len() - limit);
            *truncated = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_session_leader_above_pid_1_has_its_session_killed() {
        // (Never call kill_session with these: killpg(1) signals every process.)
        assert!(!leads_session(0) && !leads_session(1) && !leads_session(-5));
        let mut child = std::process::Command::new("setsid")
            .args(["sleep", "30"])
            .spawn()
            .unwrap();
        let pid = child.id() as libc::pid_t;
        let end = std::time::Instant::now() + Duration::from_secs(10);
        while !leads_session(pid) {
            assert!(std::time::Instant::now() < end, "setsid did not run");
            std::thread::sleep(Duration::from_millis(10));
        }
        kill_session(pid);
        assert!(child.wait().unwrap().code().is_none(), "killed by a signal");
    }

    #[test]
    fn output_cleaning_strips_csi_and_carriage_returns() {
        assert_eq!(
            clean_output(b"\n\n\x1b[?2004hbar\r\n\x1b[1;31mred\x1b[0m\r\nx\ry\n"),
            "bar\nred\nxy\n"
        );
    }

    /// Gone, or a zombie nobody reaped yet.
    fn gone(pid: libc::pid_t) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
    }

    fn run(f: impl std::future::Future<Output = ()>) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f);
    }

    #[test]
    fn the_shell_persists_and_reports_like_the_official_tool() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let root = dir.path().canonicalize().unwrap();
        run(async {
            let mut sh = Shell::new(root.clone(), None, None, None);
            let call = |c: &str| json!({ "command": c });
            assert_eq!(
                sh.call(&call("export FOO=bar; cd sub")).await,
                Output::ok("")
            );
            assert_eq!(
                sh.call(&call("echo $FOO; pwd; echo $?")).await,
                Output::ok(format!("bar\n{}/sub\n0\n\n", root.display()))
            );
            assert_eq!(
                sh.call(&call("echo hi; false")).await,
                Output::err("hi\n\n\nexit code: 1")
            );
            assert_eq!(sh.call(&call("echo err >&2")).await, Output::ok("err\n\n"));
            // (ANTHROPIC_* removal: tests/it/worker_tools.rs, where the
            // worker has such variables; this process need not.)
            assert_eq!(
                sh.call(&call("exit 3")).await,
                Output::err("bash: bash session terminated")
            );
            assert_eq!(
                sh.call(&call("pwd")).await,
                Output::ok(format!("{}\n\n", root.display()))
            );
            let slow = sh
                .call(&json!({"command": "echo partial; sleep 5", "timeout_ms": 300}))
                .await;
            assert_eq!(
                slow,
                Output::err("partial\n\n[timed out]\nsession restarted after timeout")
            );
            assert_eq!(
                sh.call(&json!({"restart": true})).await,
                Output::ok("bash session restarted")
            );
            assert_eq!(
                sh.call(&json!({})).await,
                Output::err("bash: command is required")
            );
            // A background job under job control has its own process group;
            // closing the shell kills it too.
            let bg = sh.call(&call("set -m; sleep 60 & echo $!")).await;
            let pid: libc::pid_t = bg
                .text
                .split_whitespace()
                .last()
                .unwrap()
                .parse()
                .expect(&bg.text);
            sh.close();
            let end = std::time::Instant::now() + Duration::from_secs(10);
            while !gone(pid) {
                assert!(std::time::Instant::now() < end, "sleep {pid} survived");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let big = sh
                .call(&call("head -c 200000 /dev/zero | tr '\\0' x"))
                .await;
            assert!(
                big.text.starts_with("[output truncated]\n"),
                "{}",
                &big.text[..40]
            );
            assert!(big.text.len() <= OUTPUT_CAP + 32);
            sh.close();
        });
    }
}

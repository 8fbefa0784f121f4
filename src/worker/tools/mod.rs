//! The six built-in tools of `agent_toolset_20260401` (bash, read, write,
//! edit, glob, grep) with the official inputs, limits and texts, run on one
//! dedicated thread per session. That thread is confined with Landlock
//! before it runs anything, so the file tools and every process it starts
//! (the bash shell, ripgrep) inherit the same limits. Each session also gets
//! a private temporary directory (its bash's `TMPDIR`), removed at the end.

pub mod bash;
pub mod fs;
pub mod guard;
pub mod search;

use std::path::{Path, PathBuf};

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// Tool names this runner executes; anything else is left to its owner.
pub const NAMES: [&str; 6] = ["bash", "read", "write", "edit", "glob", "grep"];

pub fn owns(name: &str) -> bool {
    NAMES.contains(&name)
}

/// One tool result: a single text block.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub text: String,
    pub is_error: bool,
}

impl Output {
    pub fn ok(text: impl Into<String>) -> Output {
        Output {
            text: text.into(),
            is_error: false,
        }
    }

    pub fn err(text: impl Into<String>) -> Output {
        Output {
            text: text.into(),
            is_error: true,
        }
    }
}

/// Decodes a tool's input, or the official `invalid <tool> input: …` error.
pub fn decode<T: serde::de::DeserializeOwned>(tool: &str, input: &Value) -> Result<T, Output> {
    serde_json::from_value(input.clone())
        .map_err(|e| Output::err(format!("invalid {tool} input: {e}")))
}

/// Where a session's tools work.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The workdir as configured (glob and grep print absolute paths when
    /// it is absolute, paths relative to it when it is relative).
    pub workdir: PathBuf,
    /// The workdir made absolute and symlink-resolved (the guard's root).
    pub root: PathBuf,
    pub unrestricted: bool,
}

impl Paths {
    pub fn new(workdir: &Path, unrestricted: bool) -> Paths {
        let abs = std::path::absolute(workdir).unwrap_or_else(|_| workdir.to_path_buf());
        let root = abs.canonicalize().unwrap_or(abs);
        Paths {
            workdir: workdir.to_path_buf(),
            root,
            unrestricted,
        }
    }
}

/// Every tool of one session (the bash shell persists between calls).
pub struct Toolbox {
    pub paths: Paths,
    pub shell: bash::Shell,
}

impl Toolbox {
    pub fn new(paths: Paths, tmp: Option<PathBuf>) -> Toolbox {
        let shell = bash::Shell::new(paths.workdir.clone(), tmp);
        Toolbox { paths, shell }
    }

    pub async fn call(&mut self, name: &str, input: &Value) -> Output {
        match name {
            "bash" => self.shell.call(input).await,
            "read" => fs::read(&self.paths, input),
            "write" => fs::write(&self.paths, input),
            "edit" => fs::edit(&self.paths, input),
            "glob" => search::glob(&self.paths, input),
            "grep" => search::grep(&self.paths, input).await,
            other => Output::err(format!("unknown tool {other:?}")),
        }
    }
}

/// How to set up a session's tools.
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub workdir: PathBuf,
    pub unrestricted: bool,
    /// Confine the tool thread with Landlock.
    pub confined: bool,
    /// Directories the session may not read besides the usual ones (the
    /// other sessions' directories and TMPDIRs, with `--max-sessions`).
    pub hidden: Vec<PathBuf>,
    /// Where the session's private TMPDIR is made ([`tmp_root`]).
    pub tmp_parent: PathBuf,
    pub session_id: String,
}

struct Job {
    name: String,
    input: Value,
    reply: oneshot::Sender<Output>,
}

/// The tool thread of one session.
pub struct Host {
    jobs: Option<mpsc::UnboundedSender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    tmp: PathBuf,
}

/// The worker's directory for the sessions' temporary directories
/// (`<temp>/ant-worker-<hex>/`, 0700), made on first use.
static TMP_ROOT: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

/// A new 0700 directory `<parent>/<prefix><hex>`.
fn fresh_dir(parent: &Path, prefix: &str) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    for _ in 0..16 {
        let dir = parent.join(format!("{prefix}{:016x}", fastrand::u64(..)));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir.canonicalize().unwrap_or(dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Error::Io(format!(
                    "cannot create a private temporary directory in {}: {e}",
                    parent.display()
                )));
            }
        }
    }
    Err(Error::Io(format!(
        "cannot create a private temporary directory in {}",
        parent.display()
    )))
}

/// The worker's directory of the sessions' TMPDIRs (made on first use).
pub fn tmp_root() -> Result<PathBuf> {
    let mut root = TMP_ROOT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = root.as_ref() {
        return Ok(r.clone());
    }
    let r = fresh_dir(&std::env::temp_dir(), "ant-worker-")?;
    *root = Some(r.clone());
    Ok(r)
}

/// Removes the sessions' temporary directories (when the worker exits).
pub fn remove_tmp_root() {
    let mut root = TMP_ROOT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = root.take() {
        let _ = std::fs::remove_dir_all(r);
    }
}

/// A fresh private directory for the session's temporary files (0700).
fn private_tmp(parent: &Path, session_id: &str) -> Result<PathBuf> {
    let safe: String = session_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    fresh_dir(parent, &format!("{safe}-"))
}

impl Host {
    /// Starts the session's tool thread; fails when confinement was asked
    /// for and cannot be applied.
    pub fn start(cfg: HostConfig) -> Result<Host> {
        let tmp = private_tmp(&cfg.tmp_parent, &cfg.session_id)?;
        let paths = Paths::new(&cfg.workdir, cfg.unrestricted);
        let (jobs, mut rx) = mpsc::unbounded_channel::<Job>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
        let thread_tmp = tmp.clone();
        let thread = std::thread::Builder::new()
            .name(format!("ant-tools-{}", cfg.session_id))
            .spawn(move || {
                if cfg.confined {
                    let hidden = super::confine::private_dirs(&cfg.hidden);
                    let rules =
                        super::confine::Rules::for_session(&paths.root, &thread_tmp, &hidden);
                    if let Err(e) = super::confine::restrict_thread(&rules) {
                        let _ = ready_tx.send(Err(Error::Other(format!(
                            "cannot confine the tools with Landlock: {e}"
                        ))));
                        return;
                    }
                }
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(Error::Other(format!(
                            "cannot start the tool runtime: {e}"
                        ))));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                runtime.block_on(async move {
                    let mut tools = Toolbox::new(paths, Some(thread_tmp));
                    while let Some(mut job) = rx.recv().await {
                        let out = tokio::select! {
                            out = tools.call(&job.name, &job.input) => out,
                            _ = job.reply.closed() => {
                                // Timed out or given up: nothing may go on running.
                                tools.shell.abandon();
                                continue;
                            }
                        };
                        let _ = job.reply.send(out);
                    }
                    tools.shell.close();
                });
            })
            .map_err(|e| Error::Other(format!("cannot start the tool thread: {e}")))?;
        let ready = ready_rx
            .recv()
            .unwrap_or_else(|_| Err(Error::Other("the tool thread stopped".into())));
        let host = Host {
            jobs: Some(jobs),
            thread: Some(thread),
            tmp,
        };
        ready.map(|()| host)
    }

    /// Runs a tool on the session's thread. Dropping the future abandons
    /// the call: a running bash command is killed (with its shell).
    pub async fn call(&self, name: &str, input: &Value) -> Output {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            name: name.to_string(),
            input: input.clone(),
            reply,
        };
        if self.jobs.as_ref().is_none_or(|j| j.send(job).is_err()) {
            return Output::err(format!("{name}: the tool thread has stopped"));
        }
        rx.await
            .unwrap_or_else(|_| Output::err(format!("{name}: the tool thread has stopped")))
    }

    /// Stops the thread (killing the shell) and removes the temporary directory.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// An I/O error in the official normalized words.
pub fn fs_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "no such file or directory".into(),
        K::PermissionDenied => "permission denied".into(),
        K::NotADirectory => "not a directory".into(),
        K::IsADirectory => "is a directory".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, Instant};

    /// Gone, or a zombie nobody reaped yet.
    fn dead(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        }
    }

    #[test]
    fn an_abandoned_bash_command_is_killed() {
        let t = tempfile::tempdir().unwrap();
        let host = Host::start(HostConfig {
            workdir: t.path().to_path_buf(),
            unrestricted: false,
            confined: false,
            hidden: vec![],
            tmp_parent: t.path().to_path_buf(),
            session_id: "sesn_test".into(),
        })
        .unwrap();
        let pid_file = t.path().join("pid");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let cmd =
                json!({"command": "sh -c 'echo $$ > pid.tmp && mv pid.tmp pid && exec sleep 60'"});
            tokio::select! {
                out = host.call("bash", &cmd) => panic!("the command ended: {out:?}"),
                _ = async {
                    while !pid_file.exists() {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                } => {}
            }
        });
        // The call was dropped (as the runner does after 120 s).
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        while !dead(pid) {
            assert!(Instant::now() < end, "sleep {pid} still runs");
            std::thread::sleep(Duration::from_millis(20));
        }
        host.close();
    }

    #[test]
    fn the_file_tools_run_confined_beneath_the_path_guard() {
        if let Err(why) = super::super::confine::probe() {
            eprintln!("skipped: Landlock is not available here ({why})");
            return;
        }
        let t = tempfile::tempdir().unwrap();
        let base = t.path().canonicalize().unwrap();
        let (work, secret) = (base.join("work"), base.join("secret"));
        std::fs::create_dir_all(&work).unwrap();
        std::fs::create_dir_all(&secret).unwrap();
        std::fs::write(secret.join("key"), "s").unwrap();
        // --unrestricted-paths lifts the guard; Landlock alone must refuse.
        let host = Host::start(HostConfig {
            workdir: work.clone(),
            unrestricted: true,
            confined: true,
            hidden: vec![secret.clone()],
            tmp_parent: base.clone(),
            session_id: "sesn_test".into(),
        })
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let key = secret.join("key").display().to_string();
        let outside = base.join("out.txt").display().to_string();
        let (read, write, inside) = rt.block_on(async {
            (
                host.call("read", &json!({"file_path": key})).await,
                host.call("write", &json!({"file_path": outside, "content": "x"}))
                    .await,
                host.call("write", &json!({"file_path": "in.txt", "content": "x"}))
                    .await,
            )
        });
        host.close();
        assert_eq!(read, Output::err(format!("read {key}: permission denied")));
        assert!(
            write.is_error && write.text.ends_with("permission denied"),
            "{write:?}"
        );
        assert_eq!(inside, Output::ok("wrote 1 bytes to in.txt"));
        assert!(!base.join("out.txt").exists());
    }
}

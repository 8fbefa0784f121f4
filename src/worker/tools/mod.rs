//! The six built-in tools of `agent_toolset_20260401` (bash, read, write,
//! edit, glob, grep) with the official inputs, limits and texts. They run in
//! the session's tool host (`worker::host`), a confined process of its own;
//! the programs they start (the bash shell, ripgrep) enter a Landlock
//! domain nested in the host's. Each session also gets a private temporary
//! directory (its bash's `TMPDIR`), removed at the end.

pub mod bash;
pub mod fs;
pub mod guard;
pub mod search;

use std::path::{Path, PathBuf};

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::mpsc;

use super::confine::Nest;
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
    /// The Landlock domain the programs the tools start enter.
    nest: Option<Arc<Nest>>,
}

impl Toolbox {
    /// `started` hears the pid of each bash shell the toolbox starts.
    pub fn new(
        paths: Paths,
        tmp: Option<PathBuf>,
        nest: Option<Arc<Nest>>,
        started: Option<mpsc::UnboundedSender<i32>>,
    ) -> Toolbox {
        let shell = bash::Shell::new(paths.workdir.clone(), tmp, nest.clone(), started);
        Toolbox { paths, shell, nest }
    }

    /// Runs a tool. The file tools run on a blocking thread: a system call
    /// that hangs holds that thread, never the caller.
    pub async fn call(&mut self, name: &str, input: &Value) -> Output {
        let file_tool: fn(&Paths, &Value) -> Output = match name {
            "bash" => return self.shell.call(input).await,
            "grep" => return search::grep(&self.paths, input, self.nest.as_deref()).await,
            "read" => fs::read,
            "write" => fs::write,
            "edit" => fs::edit,
            "glob" => search::glob,
            other => return Output::err(format!("unknown tool {other:?}")),
        };
        let (paths, input) = (self.paths.clone(), input.clone());
        tokio::task::spawn_blocking(move || file_tool(&paths, &input))
            .await
            .unwrap_or_else(|e| Output::err(format!("{name}: {e}")))
    }
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
pub fn private_tmp(parent: &Path, session_id: &str) -> Result<PathBuf> {
    let safe: String = session_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    fresh_dir(parent, &format!("{safe}-"))
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
            // The C library's words, lowercase as Go prints them.
            let s = e.to_string();
            let s = s.find(" (os error").map_or(s.as_str(), |i| &s[..i]);
            let mut chars = s.chars();
            chars.next().map_or(String::new(), |c| {
                c.to_lowercase().chain(chars).collect::<String>()
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn file_tools_run_off_the_callers_thread_and_unknown_tools_are_errors() {
        let t = tempfile::tempdir().unwrap();
        let mut tools = Toolbox::new(Paths::new(t.path(), false), None, None, None);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let w = tools
                .call("write", &json!({"file_path": "a.txt", "content": "hi"}))
                .await;
            assert_eq!(w, Output::ok("wrote 2 bytes to a.txt"));
            let r = tools.call("read", &json!({"file_path": "a.txt"})).await;
            assert_eq!(r, Output::ok("hi"));
            assert_eq!(
                tools.call("fly", &json!({})).await,
                Output::err("unknown tool \"fly\"")
            );
        });
    }
}

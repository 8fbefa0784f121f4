//! The one integration-test binary: the real `ant` binary against
//! in-process loopback servers, with HOME and `ANTHROPIC_*` isolated.

mod account;
mod admin;
mod api;
mod chat;
mod ci_docs;
mod cli;
mod completion;
mod docs_run;
mod every_endpoint;
mod explore;
mod federation;
mod feedback;
mod files;
mod generated;
mod guidance;
mod hardening;
mod imports;
mod jq;
mod lists;
mod login;
mod messages;
mod mock;
mod official;
mod output;
mod requests;
mod secrets;
mod server;
mod sessions;
mod signin;
mod status;
mod streams;
mod timeline;
mod tokens;
mod worker;
mod worker_tools;

use std::path::Path;

pub use server::{End, Recorded, Reply, Server};

/// An in-process ant-mock whose every response must have matched its
/// schema (`check_responses`, on by default in the library): dropping it
/// at the end of a test that otherwise passed fails the test if one did
/// not, streamed events included (those cannot turn into a 500).
pub struct CheckedMock(pub ant_mock::MockHandle);

pub fn checked_mock(config: ant_mock::Config) -> CheckedMock {
    CheckedMock(ant_mock::start(config).expect("ant-mock starts"))
}

impl CheckedMock {
    /// [`ant_std`] pointed at this emulator with a test key.
    pub fn ant(&self, home: &Path) -> std::process::Command {
        let mut cmd = ant_std(home);
        cmd.env("ANTHROPIC_BASE_URL", &self.0.base_url)
            .env("ANTHROPIC_API_KEY", "test");
        cmd
    }
}

impl std::ops::Deref for CheckedMock {
    type Target = ant_mock::MockHandle;
    fn deref(&self) -> &ant_mock::MockHandle {
        &self.0
    }
}

impl Drop for CheckedMock {
    fn drop(&mut self) {
        let violations = self.0.violations();
        if !std::thread::panicking() {
            assert!(
                violations.is_empty(),
                "ant-mock responses not matching their schemas:\n{}",
                violations.join("\n")
            );
        }
    }
}

/// `ant` with a clean environment: no real credentials or config leak in.
pub fn ant(home: &Path) -> assert_cmd::Command {
    assert_cmd::Command::from_std(ant_std(home))
}

/// [`ant`] as a `std::process::Command`, for a process the test talks to
/// while it runs.
pub fn ant_std(home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ant"));
    for (k, _) in std::env::vars() {
        if k.starts_with("ANTHROPIC_")
            || k.starts_with("ANT_")
            || k == "NO_COLOR"
            || k == "FORCE_COLOR"
            || k == "CLICOLOR_FORCE"
            || k == "BROWSER"
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("ANTHROPIC_CONFIG_DIR", home.join("anthropic"))
        .env("NO_COLOR", "1");
    cmd
}

/// `ant` pointed at `server` with a test key.
pub fn ant_at(server: &Server, home: &Path) -> assert_cmd::Command {
    let mut cmd = ant(home);
    cmd.env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_API_KEY", "sk-test-key");
    cmd
}

/// Stdin for `ant`: a pipe that already holds `text`, written and closed
/// before `ant` starts, so `ant`'s 10 ms wait for piped data never races a
/// writer thread on a busy machine (as `write_stdin` does).
pub fn piped(text: &str) -> std::process::Stdio {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills two new descriptors that the Files below own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    let (read, mut write) = unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    };
    assert!(text.len() < 16 * 1024, "more than a pipe holds");
    write.write_all(text.as_bytes()).expect("write to the pipe");
    drop(write);
    read.into()
}

/// [`ant_at`] as a `std::process::Command`.
pub fn ant_at_std(server: &Server, home: &Path) -> std::process::Command {
    let mut cmd = ant_std(home);
    cmd.env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_API_KEY", "sk-test-key");
    cmd
}

/// Runs `cmd` with `text` on stdin: a pipe that holds it, closed, before
/// `ant` starts, so `ant`'s 10 ms wait for piped data never races a writer
/// thread on a busy machine (as assert_cmd's `write_stdin` does).
pub fn output_piped(cmd: &mut std::process::Command, text: &str) -> std::process::Output {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills two new descriptors, each owned by one File below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    let (read, mut write) = unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    };
    assert!(text.len() < 16 * 1024, "more than a pipe holds");
    write.write_all(text.as_bytes()).expect("write to the pipe");
    drop(write);
    cmd.stdin(read).output().expect("ant runs")
}

/// Says that a test (or part of one) was skipped, and why, where `cargo
/// test` shows it: on the real stderr (the harness captures `eprintln!`).
pub fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {why}");
}

pub fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

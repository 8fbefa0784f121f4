//! The one integration-test binary: the real `ant` binary against
//! in-process loopback servers, with HOME and `ANTHROPIC_*` isolated.

mod account;
mod ci_docs;
mod cli;
mod completion;
mod explore;
mod federation;
mod files;
mod generated;
mod hardening;
mod login;
mod mock;
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

pub fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

//! The one integration-test binary: the real `ant` binary against
//! in-process loopback servers, with HOME and `ANTHROPIC_*` isolated.

mod account;
mod cli;
mod completion;
mod files;
mod generated;
mod mock;
mod output;
mod requests;
mod server;
mod streams;
mod worker;
mod worker_tools;

use std::path::Path;

pub use server::{Recorded, Reply, Server};

/// `ant` with a clean environment: no real credentials or config leak in.
pub fn ant(home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("ant").expect("ant binary");
    for (k, _) in std::env::vars() {
        if k.starts_with("ANTHROPIC_")
            || k.starts_with("ANT_")
            || k == "NO_COLOR"
            || k == "FORCE_COLOR"
            || k == "CLICOLOR_FORCE"
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

//! `ant`: a command-line client for the Claude Platform API. The library holds
//! everything the binary, the emulator (`ant-mock`) and the tests share.
//!
//! Data flows one way: `cli` finds the operation in the `api` table and parses
//! flags, `request` turns them into a plain [`request::Request`] (no I/O),
//! `http` sends it, `output` prints what comes back, and every failure is one
//! [`error::Error`] whose exit code `main` uses.

pub mod api;
pub mod api_cmd;
pub mod auth;
pub mod chat;
pub mod cli;
pub mod error;
pub mod explore;
pub mod http;
pub mod json;
pub mod output;
pub mod request;
pub mod stream;
pub mod worker;

/// Property-test settings: a quick run in `cargo test` (bounded time in CI),
/// many more cases with `ANT_PROPTEST_CASES=N` (`scripts/proptest-long`).
#[cfg(test)]
pub(crate) fn proptest_config() -> proptest::test_runner::Config {
    let cases = std::env::var("ANT_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..Default::default()
    }
}

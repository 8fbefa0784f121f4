//! `ant`: a command-line client for the Claude Platform API. The library holds
//! everything the binary, the emulator (`ant-mock`) and the tests share.
//!
//! Data flows one way: `cli` finds the operation in the `api` table and parses
//! flags, `request` turns them into a plain [`request::Request`] (no I/O),
//! `http` sends it, `output` prints what comes back, and every failure is one
//! [`error::Error`] whose exit code `main` uses.

pub mod api;
pub mod cli;
pub mod error;
pub mod http;
pub mod output;
pub mod request;
pub mod stream;
pub mod worker;

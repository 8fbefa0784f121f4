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

/// Arbitrary JSON values, a few levels deep, for property tests of every
/// room that reads or writes JSON.
#[cfg(test)]
pub(crate) fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[a-z0-9 .:#'\"-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

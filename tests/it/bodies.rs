//! What a hostile or broken server sends back: JSON bodies too large to
//! read into memory (refused past 256 MiB with exit 8, memory bounded
//! whatever the size), error bodies read only once and only their start,
//! and `retry-after` waits longer than the official SDKs honour.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{Reply, Server, ant_at_std, home};

const MIB: usize = 1 << 20;

/// `ant ARGS` against `server`: its exit code, stderr and peak memory
/// (KiB, from `wait4` of that very process).
fn measured(server: &Server, args: &[&str]) -> (Option<i32>, String, i64) {
    use std::os::unix::process::ExitStatusExt;
    let h = home();
    let err_path = h.path().join("stderr");
    let mut cmd = ant_at_std(server, h.path());
    cmd.args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap());
    let pid = cmd.spawn().unwrap().id() as i32;
    // SAFETY: an all-zero rusage is valid; wait4 reaps the child this test
    // started (in place of Child::wait, to get its own peak memory).
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    let code = std::process::ExitStatus::from_raw(status).code();
    let err = std::fs::read_to_string(&err_path).unwrap();
    (code, err, usage.ru_maxrss)
}

fn huge(status: u16, head: &[u8], fill: u8, mib: usize, tail: &[u8]) -> Reply {
    Reply::Huge {
        status,
        head: head.to_vec(),
        fill: vec![fill; MIB],
        times: mib,
        tail: tail.to_vec(),
    }
}

#[test]
fn a_json_body_over_256_mib_exits_8_with_memory_bounded() {
    let server = Server::start(|_, _| {
        huge(
            200,
            br#"{"id":"agent_1","type":"agent","name":""#,
            b'a',
            300,
            br#""}"#,
        )
    });
    let (code, err, peak) = measured(
        &server,
        &["beta:agents", "retrieve", "agent_1", "--format", "json"],
    );
    assert_eq!(code, Some(8), "{err}");
    assert!(
        err.contains(
            "the response is larger than 256 MiB, the most ant reads into memory; not read further"
        ),
        "{err}"
    );
    assert!(peak < 600 * 1024, "peak memory {peak} KiB");
}

#[test]
fn gigabytes_of_whitespace_are_refused_not_a_crash() {
    let server = Server::start(|_, _| huge(200, b"", b' ', 4096, b"{}"));
    let started = Instant::now();
    let (code, err, peak) = measured(&server, &["beta:agents", "list"]);
    assert_eq!(code, Some(8), "{err}");
    assert!(err.contains("larger than 256 MiB"), "{err}");
    assert!(peak < 600 * 1024, "peak memory {peak} KiB");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "stopped reading at the cap"
    );
}

#[test]
fn a_huge_error_body_is_read_once_and_only_its_start() {
    let server = Server::start(|_, _| {
        huge(
            500,
            br#"{"type":"error","error":{"type":"api_error","message":""#,
            b'x',
            64,
            br#""}}"#,
        )
    });
    let (code, err, peak) = measured(
        &server,
        &["beta:agents", "retrieve", "agent_1", "--max-retries", "2"],
    );
    assert_eq!(code, Some(7), "{err}");
    assert!(
        err.contains("500")
            && err.contains("the error response is larger than 4 MiB; only its start was read"),
        "{err}"
    );
    assert_eq!(server.recorded().len(), 3, "retried");
    assert!(peak < 200 * 1024, "peak memory {peak} KiB");
}

#[test]
fn a_retry_after_over_a_minute_falls_back_to_the_own_backoff() {
    let server = Server::start(|_, i| {
        if i == 0 {
            Reply::Status(
                429,
                vec![("retry-after".into(), "3600".into())],
                b"{}".to_vec(),
            )
        } else {
            Reply::ok(json!({"id": "agent_1", "type": "agent"}))
        }
    });
    let h = home();
    let started = Instant::now();
    let out = crate::ant_at(&server, h.path())
        .args(["beta:agents", "retrieve", "agent_1", "--max-retries", "1"])
        .timeout(Duration::from_secs(50))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(server.recorded().len(), 2);
}

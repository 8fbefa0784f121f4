//! How a worker's work ends when something goes wrong, and how a turn
//! never waits for it for good: an ack that fails, a tool call still
//! running at shutdown, a second signal while the tool host is stuck, a
//! tool host that dies.

use std::time::{Duration, Instant};

use super::containment::tool_host;
use super::worker::{Bench, Worker, path_str, wait_until, workdir};

const QUICK: Duration = Duration::from_secs(20);

const INTERRUPTED: &str = "the worker stopped; the tool call was interrupted";

fn signal(pid: i32, sig: i32) {
    // SAFETY: signals a process this test started (or its child).
    unsafe { libc::kill(pid, sig) };
}

/// Gone, or a zombie nobody reaped yet.
fn dead(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// A worker running `/bash` with a `sleep SECS` (then `also`, when given).
struct Sleeping {
    b: Bench,
    /// The workdir (bound by each test, so it lives as long as the test).
    _dir: tempfile::TempDir,
    session: String,
    w: Worker,
    /// The `sleep` process.
    sleeper: i32,
}

fn sleeping(secs: u32, worker_args: &[&str], also: &str) -> Sleeping {
    let b = Bench::new(5);
    let (dir, path) = workdir();
    let session = b.session(&b.agent(None));
    let mut args = vec!["poll", "--workdir", path_str(&path)];
    args.extend(worker_args);
    let w = b.worker(&args);
    b.say(
        &session,
        &format!("/bash sh -c 'echo $$ > pid.tmp && mv pid.tmp pid && exec sleep {secs}'{also}"),
    );
    let file = path.join("pid");
    wait_until("the command's pid", QUICK, || file.exists());
    let sleeper = std::fs::read_to_string(&file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    Sleeping {
        b,
        _dir: dir,
        session,
        w,
        sleeper,
    }
}

#[test]
fn an_ack_that_fails_is_retried_and_the_turn_finishes() {
    let b = Bench::with(ant_mock::Config {
        work_ttl_secs: 5,
        fail_acks: 3,
        ..Default::default()
    });
    let (_t, dir) = workdir();
    let session = b.session(&b.agent(None));
    let mut w = b.worker(&["poll", "--workdir", path_str(&dir), "--max-idle", "1s"]);
    b.say(&session, "/bash echo hi");
    b.wait_turn(&session, Duration::from_secs(40));
    assert_eq!(b.results(&session), ["hi\n\n"], "{}", w.log());
    let log = w.log();
    assert!(log.contains("msg=\"ack failed; retrying\""), "{log}");
    assert!(!log.contains("force-stop"), "{log}");
    assert!(w.term(QUICK).success());
}

#[test]
fn a_call_still_running_after_the_grace_gets_an_error_result_at_shutdown() {
    let Sleeping {
        b,
        session,
        mut w,
        sleeper,
        _dir,
    } = sleeping(45, &[], "");
    signal(w.child.id() as i32, libc::SIGINT);
    let status = w.wait_exit(Duration::from_secs(45));
    assert!(status.success(), "exit {status:?}: {}", w.log());
    assert_eq!(b.results(&session), [INTERRUPTED], "{}", w.log());
    assert!(
        w.log()
            .contains("msg=\"tool call interrupted at shutdown\"")
    );
    assert!(dead(sleeper), "the command was killed");
    assert_eq!(b.item_of(&session)["state"], "stopped");
}

#[test]
fn a_second_signal_interrupts_a_stuck_call_posts_its_error_and_ends_the_worker_at_once() {
    let Sleeping {
        b,
        session,
        mut w,
        sleeper,
        _dir,
    } = sleeping(60, &[], "");
    // The tool host stops answering, as if stuck in a system call.
    let host = tool_host(w.child.id());
    signal(host, libc::SIGSTOP);
    let worker = w.child.id() as i32;
    signal(worker, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    signal(worker, libc::SIGTERM);
    let status = w.wait_exit(Duration::from_secs(10));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(130), "{}", w.log());
    assert_eq!(b.results(&session), [INTERRUPTED], "{}", w.log());
    wait_until("the host and the command to be killed", QUICK, || {
        dead(host) && dead(sleeper)
    });
}

#[test]
fn a_tool_host_that_dies_is_replaced_and_its_commands_killed() {
    let Sleeping {
        b,
        session,
        mut w,
        sleeper,
        _dir,
    } = sleeping(60, &["--max-idle", "1s"], "\n/bash echo again");
    // What an agent could do on a kernel without Landlock signal scoping.
    signal(tool_host(w.child.id()), libc::SIGKILL);
    b.wait_turn(&session, QUICK);
    let r = b.results(&session);
    assert!(
        r[0].starts_with("bash: the tool host stopped: it exited"),
        "{r:?}"
    );
    assert_eq!(r[1], "again\n\n", "a new host runs the next call");
    wait_until("the command to be killed", QUICK, || dead(sleeper));
    assert!(w.term(QUICK).success(), "{}", w.log());
}

//! `ant beta:worker` against `ant-mock`'s work queue: the worker's life
//! cycle (heartbeat 412, kill -9 and lease recovery, --max-sessions,
//! --on-work, `run`, SIGTERM) and bad input. The harness here is shared
//! with `worker_tools.rs`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{CheckedMock, Reply, Server, ant, checked_mock, home, stderr};

/// ant-mock with a self-hosted environment.
pub struct Bench {
    pub mock: CheckedMock,
    pub home: tempfile::TempDir,
    pub env: String,
}

/// Waits until `f` holds, or fails naming `what`.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Bench {
    pub fn new(work_ttl_secs: u64) -> Bench {
        Bench::with(ant_mock::Config {
            work_ttl_secs,
            ..Default::default()
        })
    }

    pub fn with(config: ant_mock::Config) -> Bench {
        let mock = checked_mock(config);
        let mut b = Bench {
            mock,
            home: home(),
            env: String::new(),
        };
        b.env = b.id(&[
            "beta:environments",
            "create",
            "--name",
            "workers",
            "--config",
            "{type: self_hosted}",
        ]);
        b
    }

    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = ant(self.home.path());
        c.env("ANTHROPIC_BASE_URL", &self.mock.base_url)
            .env("ANTHROPIC_API_KEY", "test-key");
        c
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(out.status.success(), "ant {args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn id(&self, args: &[&str]) -> String {
        let mut a = args.to_vec();
        a.extend(["--transform", "id", "-r"]);
        self.ok(&a).trim().to_string()
    }

    /// An agent with the built-in toolset (`tool` overrides its YAML).
    pub fn agent(&self, tool: Option<&str>) -> String {
        self.id(&[
            "beta:agents",
            "create",
            "--name",
            "worker agent",
            "--model",
            "claude-opus-4-7",
            "--tool",
            tool.unwrap_or("{type: agent_toolset_20260401}"),
        ])
    }

    pub fn session(&self, agent: &str) -> String {
        self.id(&[
            "beta:sessions",
            "create",
            "--agent",
            agent,
            "--environment-id",
            &self.env,
        ])
    }

    pub fn send(&self, session: &str, event: Value) {
        self.ok(&[
            "beta:sessions:events",
            "send",
            session,
            "--event",
            &event.to_string(),
        ]);
    }

    pub fn say(&self, session: &str, text: &str) {
        self.send(
            session,
            json!({"type": "user.message", "content": [{"type": "text", "text": text}]}),
        );
    }

    pub fn events(&self, session: &str) -> Vec<Value> {
        self.ok(&["beta:sessions:events", "list", session, "--format", "jsonl"])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn of_type(&self, session: &str, ty: &str) -> Vec<Value> {
        self.events(session)
            .into_iter()
            .filter(|e| e["type"] == ty)
            .collect()
    }

    /// The texts of the worker's `user.tool_result` events, in order.
    pub fn results(&self, session: &str) -> Vec<String> {
        self.of_type(session, "user.tool_result")
            .iter()
            .map(|e| e["content"][0]["text"].as_str().unwrap_or("").to_string())
            .collect()
    }

    /// Waits for the session's turn to end (`end_turn`).
    pub fn wait_turn(&self, session: &str, timeout: Duration) {
        wait_until("the end of the turn", timeout, || {
            self.events(session).last().is_some_and(|e| {
                e["type"] == "session.status_idle" && e["stop_reason"]["type"] == "end_turn"
            })
        });
    }

    pub fn work_items(&self) -> Vec<Value> {
        self.ok(&[
            "beta:environments:work",
            "list",
            "--environment-id",
            &self.env,
            "--format",
            "jsonl",
        ])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
    }

    pub fn item_of(&self, session: &str) -> Value {
        self.work_items()
            .into_iter()
            .find(|w| w["data"]["id"] == session)
            .expect("a work item for the session")
    }

    /// Starts `ant beta:worker VERB ARGS…` with its log going to a file.
    pub fn worker(&self, args: &[&str]) -> Worker {
        self.worker_with(args, |_| {})
    }

    /// [`Bench::worker`], with `setup` changing the command first (its
    /// directory, more variables).
    pub fn worker_with(&self, args: &[&str], setup: impl FnOnce(&mut Command)) -> Worker {
        self.start_worker(
            Command::new(assert_cmd::cargo::cargo_bin("ant")),
            args,
            setup,
        )
    }

    /// Starts `cmd` (`ant`, or a command that runs it) as
    /// [`Bench::worker_with`] does.
    pub fn start_worker(
        &self,
        mut cmd: Command,
        args: &[&str],
        setup: impl FnOnce(&mut Command),
    ) -> Worker {
        let log = self
            .home
            .path()
            .join(format!("worker-{:08x}.log", fastrand::u32(..)));
        for (k, _) in std::env::vars() {
            if k.starts_with("ANTHROPIC_") {
                cmd.env_remove(k);
            }
        }
        // The worker's temporary directories go with the test's.
        let tmp = self.home.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        cmd.env("HOME", self.home.path())
            .env("TMPDIR", &tmp)
            .env("NO_COLOR", "1")
            .env("ANTHROPIC_BASE_URL", &self.mock.base_url)
            .env("ANTHROPIC_ENVIRONMENT_ID", &self.env)
            .env("ANTHROPIC_ENVIRONMENT_KEY", "env-key")
            .arg("beta:worker")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        setup(&mut cmd);
        Worker {
            child: cmd.spawn().expect("worker starts"),
            log,
        }
    }
}

pub struct Worker {
    pub child: Child,
    log: PathBuf,
}

impl Worker {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn wait_log(&self, needle: &str, timeout: Duration) {
        let end = Instant::now() + timeout;
        while !self.log().contains(needle) {
            assert!(
                Instant::now() < end,
                "timed out waiting for {needle:?} in the worker log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: signals the child this test started.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Waits for the process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let end = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < end,
                "the worker did not exit in time; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the exit status.
    pub fn term(&mut self, timeout: Duration) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit(timeout)
    }

    pub fn kill9(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }

    pub fn stdout(&mut self) -> String {
        use std::io::Read;
        let mut s = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A fresh, symlink-free directory for a worker.
pub fn workdir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap();
    (t, p)
}

/// Writes an executable script `on-work.sh` in `dir`.
pub fn script(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("on-work.sh");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

const QUICK: Duration = Duration::from_secs(15);

#[test]
fn a_heartbeat_412_cancels_the_session_without_stopping_the_item() {
    let b = Bench::new(2);
    let (_t, dir) = workdir();
    let session = b.session(&b.agent(None));
    let mut w = b.worker(&["poll", "--workdir", path_str(&dir)]);
    wait_until("the worker's first heartbeat", QUICK, || {
        b.item_of(&session)["latest_heartbeat_at"].is_string()
    });
    // Another party takes the lease by echoing the worker's last beat.
    let work = b.item_of(&session)["id"].as_str().unwrap().to_string();
    wait_until("taking over the lease", QUICK, || {
        let last = b.item_of(&session)["latest_heartbeat_at"]
            .as_str()
            .unwrap()
            .to_string();
        b.cmd()
            .args([
                "beta:environments:work",
                "heartbeat",
                "--environment-id",
                &b.env,
                "--work-id",
                &work,
            ])
            .args(["--expected-last-heartbeat", &last])
            .output()
            .unwrap()
            .status
            .success()
    });
    w.wait_log(
        "msg=\"heartbeat precondition failed; lease reclaimed by another worker\"",
        QUICK,
    );
    // The session ended for this worker, which leaves the item to the new
    // lease holder: neither a forced nor a graceful stop.
    w.wait_log("msg=\"session ended\"", QUICK);
    assert!(w.log().contains("reason=\"lease lost\""), "{}", w.log());
    // Once the worker has exited, whatever it would have sent is sent.
    assert!(w.term(QUICK).success());
    assert_eq!(b.item_of(&session)["state"], "active");
}

#[test]
fn a_graceful_stop_seen_on_a_heartbeat_ends_the_session() {
    let b = Bench::new(2);
    let (_t, dir) = workdir();
    let session = b.session(&b.agent(None));
    let mut w = b.worker(&["poll", "--workdir", path_str(&dir)]);
    wait_until("the claim", QUICK, || {
        b.item_of(&session)["state"] == "active"
    });
    let work = b.item_of(&session)["id"].as_str().unwrap().to_string();
    b.ok(&[
        "beta:environments:work",
        "stop",
        "--environment-id",
        &b.env,
        "--work-id",
        &work,
    ]);
    w.wait_log("msg=\"heartbeat reports shutdown\"", QUICK);
    w.wait_log("reason=\"stop requested\"", QUICK);
    wait_until("the force-stop", QUICK, || {
        b.item_of(&session)["state"] == "stopped"
    });
    assert!(w.term(QUICK).success());
}

#[test]
fn after_kill_9_a_second_worker_finishes_without_running_a_tool_twice() {
    let b = Bench::new(1);
    let (_t, dir) = workdir();
    let session = b.session(&b.agent(None));
    let mut first = b.worker(&["poll", "--workdir", path_str(&dir), "--max-idle", "1s"]);
    b.say(
        &session,
        "/bash echo one >> log.txt\n/bash sleep 3; echo two >> log.txt\n/bash echo three >> log.txt",
    );
    wait_until("the second tool call to start", QUICK, || {
        b.of_type(&session, "agent.tool_use").len() == 2 && b.results(&session).len() == 1
    });
    std::thread::sleep(Duration::from_millis(300));
    first.kill9();
    let mut second = b.worker(&["poll", "--workdir", path_str(&dir), "--max-idle", "1s"]);
    b.wait_turn(&session, Duration::from_secs(30));
    assert_eq!(
        std::fs::read_to_string(dir.join("log.txt")).unwrap(),
        "one\ntwo\nthree\n"
    );
    let uses = b.of_type(&session, "agent.tool_use");
    let results = b.of_type(&session, "user.tool_result");
    assert_eq!(uses.len(), 3);
    for u in &uses {
        let n = results
            .iter()
            .filter(|r| r["tool_use_id"] == u["id"])
            .count();
        assert_eq!(n, 1, "one result per call: {results:#?}");
    }
    second.wait_log("msg=\"claimed work\"", QUICK);
    assert!(second.term(QUICK).success());
}

#[test]
fn max_sessions_runs_sessions_in_parallel_in_their_own_directories() {
    let b = Bench::new(5);
    let (_t, dir) = workdir();
    let agent = b.agent(None);
    let sessions: Vec<String> = (0..3).map(|_| b.session(&agent)).collect();
    let mut w = b.worker(&["poll", "--workdir", path_str(&dir), "--max-sessions", "3"]);
    wait_until("three claims", QUICK, || {
        w.log().matches("claimed work").count() == 3
    });
    // Each call prints when it started and ended (ms): run serially, no two
    // calls would overlap.
    for s in &sessions {
        b.say(s, "/bash date +%s%3N; sleep 3; date +%s%3N; pwd");
    }
    let mut spans = Vec::new();
    for s in &sessions {
        wait_until("a result", QUICK, || !b.results(s).is_empty());
        let out = b.results(s).remove(0);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[2], format!("{}/{s}", dir.display()), "{out}");
        let ms = |i: usize| lines[i].parse::<u64>().expect(&out);
        spans.push((ms(0), ms(1)));
    }
    let last_start = spans.iter().map(|s| s.0).max().unwrap();
    let first_end = spans.iter().map(|s| s.1).min().unwrap();
    assert!(
        last_start < first_end,
        "all three calls ran at the same time: {spans:?}"
    );
    if !w.log().contains("Landlock is not available") {
        // A session can read neither another's directory nor its TMPDIR.
        let (a, other) = (&sessions[0], &sessions[1]);
        b.say(
            other,
            "/write mine.txt\nsecret\n/end\n/bash echo x > $TMPDIR/t; echo $TMPDIR",
        );
        wait_until("the other session's calls", QUICK, || {
            b.results(other).len() == 3
        });
        let tmp = b.results(other)[2].trim_end().to_string();
        b.say(a, &format!("/bash cat ../{other}/mine.txt {tmp}/t"));
        wait_until("the reading call", QUICK, || b.results(a).len() == 2);
        let read = b.results(a).remove(1);
        assert!(
            read.matches("Permission denied").count() == 2 && !read.contains("secret"),
            "{read}"
        );
    }
    assert!(w.term(QUICK).success());
}

#[test]
fn on_work_runs_the_script_which_runs_the_item_with_beta_worker_run() {
    let b = Bench::new(5);
    let (_t, dir) = workdir();
    let session = b.session(&b.agent(None));
    let seen = dir.join("seen");
    let script = script(
        &dir,
        &format!(
            "#!/bin/bash\nenv | grep '^ANTHROPIC_' | sort > {seen}.env\ncat > {seen}.json\necho from-the-script\nexec {ant} beta:worker run --workdir {dir} --max-idle 1s\n",
            seen = seen.display(),
            ant = assert_cmd::cargo::cargo_bin("ant").display(),
            dir = dir.display(),
        ),
    );
    b.say(&session, "/bash echo inside");
    let mut w = b.worker(&["poll", "--on-work", path_str(&script)]);
    b.wait_turn(&session, QUICK);
    assert_eq!(b.results(&session), ["inside\n\n"]);
    wait_until("the item to stop", QUICK, || {
        b.item_of(&session)["state"] == "stopped"
    });
    let item = b.item_of(&session);
    let env = std::fs::read_to_string(format!("{}.env", seen.display())).unwrap();
    for line in [
        format!("ANTHROPIC_ENVIRONMENT_ID={}", b.env),
        "ANTHROPIC_ENVIRONMENT_KEY=env-key".to_string(),
        format!("ANTHROPIC_SESSION_ID={session}"),
        format!("ANTHROPIC_WORK_ID={}", item["id"].as_str().unwrap()),
    ] {
        assert!(env.lines().any(|l| l == line), "{line} in {env}");
    }
    let stdin: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{}.json", seen.display())).unwrap())
            .unwrap();
    assert_eq!(stdin["id"], item["id"]);
    assert_eq!(stdin["data"], json!({"id": session, "type": "session"}));
    assert_eq!(
        stdin["stopped_at"], "",
        "nulls are empty strings, as the official worker writes them"
    );
    w.wait_log("msg=\"spawning on-work script\"", QUICK);
    wait_until("the script's output on stderr", QUICK, || {
        w.log().contains("from-the-script")
    });
    assert!(w.term(QUICK).success());
    assert_eq!(w.stdout(), "", "poll never writes stdout");
}

#[test]
fn on_sigterm_the_on_work_script_gets_sigterm_and_the_item_a_graceful_stop() {
    let b = Bench::new(30);
    let (_t, dir) = workdir();
    let session = b.session(&b.agent(None));
    let marker = dir.join("got-term");
    let script = script(
        &dir,
        &format!(
            "#!/bin/bash\ntrap 'echo $ANTHROPIC_WORK_ID > {m}; exit 0' TERM\necho script-started\nwhile :; do sleep 0.1; done\n",
            m = marker.display()
        ),
    );
    let mut w = b.worker(&["poll", "--on-work", path_str(&script)]);
    w.wait_log("script-started", QUICK);
    assert!(w.term(QUICK).success(), "{}", w.log());
    let work = b.item_of(&session)["id"].as_str().unwrap().to_string();
    assert_eq!(
        std::fs::read_to_string(&marker).expect("the script got SIGTERM"),
        format!("{work}\n")
    );
    let state = b.item_of(&session)["state"].clone();
    assert!(state == "stopping" || state == "stopped", "{state}");
}

#[test]
fn beta_worker_run_runs_one_claimed_item_and_force_stops_it() {
    let b = Bench::new(5);
    let (_t, dir) = workdir();
    let session = b.session(&b.agent(None));
    let polled: Value = serde_json::from_str(&b.ok(&[
        "beta:environments:work",
        "poll",
        "--environment-id",
        &b.env,
        "--format",
        "json",
    ]))
    .unwrap();
    let work = polled["id"].as_str().unwrap().to_string();
    b.ok(&[
        "beta:environments:work",
        "ack",
        "--environment-id",
        &b.env,
        "--work-id",
        &work,
    ]);
    b.say(&session, "/bash echo ran");
    let mut w = b.worker(&[
        "run",
        "--workdir",
        path_str(&dir),
        "--max-idle",
        "500ms",
        "--session-id",
        &session,
        "--work-id",
        &work,
        "--log-format",
        "json",
    ]);
    assert!(w.wait_exit(QUICK).success(), "{}", w.log());
    assert_eq!(b.results(&session), ["ran\n\n"]);
    assert_eq!(b.item_of(&session)["state"], "stopped");
    let lines: Vec<Value> = w
        .log()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let dispatched = lines
        .iter()
        .find(|l| l["msg"] == "dispatched tool")
        .expect("logged");
    assert_eq!(
        (dispatched["tool"].clone(), dispatched["posted"].clone()),
        (json!("bash"), json!(true))
    );
    assert!(
        lines
            .iter()
            .any(|l| l["msg"] == "session idle after end_turn; stopping")
    );
}

#[test]
fn sigterm_during_a_tool_call_lets_it_finish_posts_and_exits_0() {
    let b = Bench::new(5);
    let (_t, dir) = workdir();
    let session = b.session(&b.agent(None));
    let mut w = b.worker(&["poll", "--workdir", path_str(&dir)]);
    b.say(&session, "/bash touch started; sleep 1.5; echo finished");
    wait_until("the tool call to run", QUICK, || {
        dir.join("started").exists()
    });
    let status = w.term(QUICK);
    assert!(status.success(), "exit {status:?}: {}", w.log());
    assert_eq!(b.results(&session), ["finished\n\n"]);
    assert_eq!(b.item_of(&session)["state"], "stopped");
}

#[test]
fn missing_flags_and_bad_values_are_usage_errors_before_any_request() {
    let server = Server::start(|_, _| Reply::ok(json!(null)));
    let h = home();
    let (_t, dir) = workdir();
    let run = |args: &[&str]| {
        let out = ant(h.path())
            .env("ANTHROPIC_BASE_URL", &server.url)
            .current_dir(&dir)
            .arg("beta:worker")
            .args(args)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        (out.status.code(), stderr(&out))
    };
    let (code, err) = run(&["poll"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--environment-id") && err.contains("--environment-key"),
        "{err}"
    );
    let (code, err) = run(&["run", "--environment-id", "env_1", "--environment-key", "k"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--session-id") && err.contains("--work-id"),
        "{err}"
    );
    std::fs::write(dir.join("a-file"), "").unwrap();
    std::fs::write(dir.join("not-executable.sh"), "#!/bin/sh\n").unwrap();
    let base = [
        "poll",
        "--environment-id",
        "env_1",
        "--environment-key",
        "k",
    ];
    for (extra, want) in [
        (
            &["--max-idle", "10"][..],
            "invalid value for --max-idle: time: missing unit in duration \"10\"",
        ),
        (
            &["--max-idle", "soon"][..],
            "invalid value for --max-idle: time: invalid duration \"soon\"",
        ),
        (&["--confine", "maybe"][..], "--confine"),
        (&["--max-sessions", "0"][..], "--max-sessions"),
        (
            &["--on-work", "no-such-script-here"][..],
            "--on-work: script \"no-such-script-here\" is unrunnable",
        ),
        // A path that cannot run would fail (and stop) every item claimed.
        (
            &["--on-work", "./no-such-script"][..],
            "--on-work: script \"./no-such-script\" is unrunnable: no such file or directory",
        ),
        (
            &["--on-work", "./not-executable.sh"][..],
            "is unrunnable: not executable",
        ),
        (
            &["--workdir", "a-file"][..],
            "--workdir a-file: not a directory",
        ),
        (
            &["--worker-id", "w\n1"][..],
            "--worker-id (or ANTHROPIC_WORKER_ID): character 2 is a control character",
        ),
        (
            &["--confine", "required", "--unrestricted-paths"][..],
            "--confine required cannot be combined with --unrestricted-paths",
        ),
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let (code, err) = run(&args);
        assert_eq!(code, Some(2), "{extra:?}: {err}");
        assert!(err.contains(want), "{extra:?}: {err}");
    }
    let (code, err) = run(&["poll", "--environment-id", "e", "--environment-key", "k\n"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "--environment-key (or ANTHROPIC_ENVIRONMENT_KEY): character 2 is a control character"
        ),
        "{err}"
    );
    assert!(server.recorded().is_empty(), "{:#?}", server.recorded());
}

#[test]
fn an_unknown_log_format_means_text_as_in_the_official_worker() {
    let server =
        Server::start(|_, _| Reply::error(401, "authentication_error", "bad environment key"));
    let h = home();
    let out = ant(h.path())
        .env("ANTHROPIC_BASE_URL", &server.url)
        .args(["--max-retries", "0", "beta:worker", "poll"])
        .args(["--environment-id", "env_1", "--environment-key", "k"])
        .args(["--log-format", "logfmt"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("level=WARN msg=\"unknown --log-format; logging as text\" log_format=logfmt"),
        "{err}"
    );
    assert!(
        err.contains("level=ERROR msg=\"poll hit permanent 4xx; stopping\""),
        "{err}"
    );
}

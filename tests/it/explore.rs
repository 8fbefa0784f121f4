//! `--format explore` and the pager in a real terminal: `ant` runs in a
//! tmux pane (its own tmux server per test) against a loopback server; the
//! test types keys and reads the screen. Skipped, saying so, without tmux
//! (`.ci/run` installs it). Deadlines are generous: only the benchmark times.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Recorded, Reply, Server, home};

/// How long to wait for a screen before failing.
const DEADLINE: Duration = Duration::from_secs(20);

pub fn have_tmux() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        crate::skipped("tmux is not installed (apt-get install -y tmux; .ci/run does)");
    }
    ok
}

/// A tmux server with one 100×30 pane running `ant` through a small script
/// that records the exit code and the terminal modes afterwards.
pub struct Pane {
    socket: String,
    dir: PathBuf,
    _home: tempfile::TempDir,
}

/// What `ant`'s standard input is in a [`Pane`].
#[derive(Clone, Copy, Debug)]
pub enum Stdin {
    /// The pane's terminal.
    Terminal,
    /// `< /dev/null`.
    Null,
    /// A pipe that has already ended (`echo input | ant ...`).
    EndedPipe,
}

impl Pane {
    /// Runs `ant args...` with `env` in a fresh pane, with a home of its own.
    pub fn start(env: &[(&str, &str)], args: &[&str]) -> Pane {
        Pane::start_with(env, args, Stdin::Terminal)
    }

    /// As [`Pane::start`], with `ant`'s stdin as `stdin` says.
    pub fn start_with(env: &[(&str, &str)], args: &[&str], stdin: Stdin) -> Pane {
        Pane::launch(env, args, stdin, true)
    }

    /// As [`Pane::start`], with `ant`'s stderr on the terminal too (and not
    /// in [`Pane::stderr`]).
    pub fn start_stderr_on_terminal(env: &[(&str, &str)], args: &[&str]) -> Pane {
        Pane::launch(env, args, Stdin::Terminal, false)
    }

    fn launch(env: &[(&str, &str)], args: &[&str], stdin: Stdin, stderr_to_file: bool) -> Pane {
        let home = home();
        static N: AtomicUsize = AtomicUsize::new(0);
        let socket = format!(
            "ant-it-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let dir = home.path().to_path_buf();
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        // The shell outlives a Ctrl-C sent to `ant` (and records its exit code).
        let mut script = String::from("trap true INT\n");
        script.push_str(
            "unset $(env | cut -d= -f1 | grep -E '^(ANTHROPIC_|ANT_|NO_COLOR|FORCE_COLOR|CLICOLOR|PAGER|LESS)')\n",
        );
        script.push_str(&format!(
            "export HOME={h} XDG_CONFIG_HOME={h}/.config ANTHROPIC_CONFIG_DIR={h}/anthropic TERM=xterm-256color\n",
            h = quote(&dir.to_string_lossy())
        ));
        for (k, v) in env {
            script.push_str(&format!("export {k}={}\n", quote(v)));
        }
        let bin = assert_cmd::cargo::cargo_bin("ant");
        let words: Vec<String> = args.iter().map(|a| quote(a)).collect();
        let (pipe, redirect) = match stdin {
            Stdin::Terminal => ("", ""),
            Stdin::Null => ("", " </dev/null"),
            Stdin::EndedPipe => ("echo input | ", ""),
        };
        let err = if stderr_to_file {
            format!(" 2>{}", quote(&dir.join("stderr").to_string_lossy()))
        } else {
            String::new()
        };
        script.push_str(&format!(
            "{pipe}{} {}{redirect}{err}\necho $? > {exit}.tmp; stty -a </dev/tty > {stty}; mv {exit}.tmp {exit}\nsleep 600\n",
            quote(&bin.to_string_lossy()),
            words.join(" "),
            exit = quote(&dir.join("exit").to_string_lossy()),
            stty = quote(&dir.join("stty").to_string_lossy()),
        ));
        let path = dir.join("run.sh");
        std::fs::write(&path, script).unwrap();
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "100",
                "-y",
                "30",
            ])
            .arg(format!("sh {}", quote(&path.to_string_lossy())))
            .status()
            .expect("tmux");
        assert!(ok.success(), "tmux new-session failed");
        Pane {
            socket,
            dir,
            _home: home,
        }
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "0"])
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Waits until the screen satisfies `done`; fails with the screen.
    pub fn wait(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if done(&s) {
                return s;
            }
            if start.elapsed() > DEADLINE {
                panic!(
                    "timed out waiting for {what}; screen:\n{s}\nstderr: {}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Waits for `ant` to exit; its exit code.
    pub fn exit_code(&self) -> i32 {
        let start = Instant::now();
        let file = self.dir.join("exit");
        loop {
            if let Ok(s) = std::fs::read_to_string(&file) {
                return s.trim().parse().expect("exit code");
            }
            if start.elapsed() > DEADLINE {
                panic!("ant did not exit; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
    }

    /// The home directory `ant` runs with.
    pub fn home(&self) -> &std::path::Path {
        &self.dir
    }

    /// The screen with up to `lines` lines of scrollback above it.
    pub fn scrollback(&self, lines: usize) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "0", "-S", &format!("-{lines}")])
    }

    /// After `ant` exited: the terminal is back to normal (cooked mode with
    /// echo, the main screen).
    pub fn assert_restored(&self) {
        let stty = std::fs::read_to_string(self.dir.join("stty")).unwrap();
        let words: Vec<&str> = stty.split_whitespace().collect();
        for mode in ["icanon", "echo", "isig", "opost"] {
            assert!(words.contains(&mode), "{mode} not restored: {stty}");
        }
        let alt = self.tmux(&["display-message", "-p", "-t", "0", "#{alternate_on}"]);
        assert_eq!(alt.trim(), "0", "still on the alternate screen");
    }

    /// Presses `q`: `ant` exits 0 with the terminal restored.
    fn quit(&self) {
        self.keys(&["q"]);
        assert_eq!(self.exit_code(), 0, "stderr: {}", self.stderr());
        self.assert_restored();
    }

    /// The pid of the `ant` process in the pane.
    pub fn ant_pid(&self) -> u32 {
        self.find_ant().expect("ant is not running in the pane")
    }

    /// The pid of the `ant` process the pane's shell started, if it runs.
    fn find_ant(&self) -> Option<u32> {
        let sh: u32 = self
            .tmux(&["display-message", "-p", "-t", "0", "#{pane_pid}"])
            .trim()
            .parse()
            .ok()?;
        let children = std::fs::read_to_string(format!("/proc/{sh}/task/{sh}/children")).ok()?;
        children
            .split_whitespace()
            .filter_map(|c| c.parse().ok())
            .find(|pid: &u32| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "ant")
            })
    }
}

impl Drop for Pane {
    /// Closes the terminal; an `ant` that is still running after that (a
    /// failed test) is killed, so no test leaves one behind.
    fn drop(&mut self) {
        let ant = self.find_ant();
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(Stdio::null())
            .status();
        if let Some(pid) = ant {
            let start = Instant::now();
            while alive(pid) && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(20));
            }
            if alive(pid) {
                // SAFETY: killing the process this test started.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
        }
    }
}

/// Whether process `pid` still runs (exists and is not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// A pane with the explorer showing the first agents of a list.
fn explore_list(env: &[(&str, &str)], args: &[&str], stdin: Stdin) -> Pane {
    let pane = Pane::start_with(env, args, stdin);
    pane.wait("the first agents", |s| s.contains("Agent number 0"));
    pane
}

fn agent(i: usize) -> Value {
    json!({"id": format!("agent_011CZkYpogX5F2aL{i:05}"), "type": "agent",
           "name": format!("Agent number {i}"), "version": 1,
           "model": {"id": "claude-opus-4-7"}, "created_at": "2026-11-28T12:00:00Z"})
}

/// `n` agents, paged like the agents API (`page` cursor from `next_page`,
/// `limit` default 20).
fn agents(n: usize) -> Server {
    Server::start(move |r: &Recorded, _| {
        let limit = r
            .query_param("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(20usize);
        let start = r
            .query_param("page")
            .and_then(|p| p.strip_prefix("cursor_").and_then(|d| d.parse().ok()))
            .unwrap_or(0usize);
        let end = (start + limit).min(n);
        let data: Vec<Value> = (start..end).map(agent).collect();
        let next = (end < n).then(|| format!("cursor_{end}"));
        Reply::ok(json!({"data": data, "next_page": next}))
    })
}

fn api(server: &Server) -> Vec<(&str, &str)> {
    vec![
        ("ANTHROPIC_BASE_URL", server.url.as_str()),
        ("ANTHROPIC_API_KEY", "sk-test-key"),
    ]
}

fn pages(server: &Server) -> usize {
    server.recorded().len()
}

#[test]
fn a_list_opens_at_once_pages_lazily_searches_and_prints() {
    if !have_tmux() {
        return;
    }
    let server = agents(5000);
    let pane = Pane::start(&api(&server), &["beta:agents", "list"]);
    // The first screen shows the first agents, whole ids and all.
    pane.wait("the first agents", |s| {
        s.contains("agent_011CZkYpogX5F2aL00000") && s.contains("Agent number 0")
    });
    // Only the pages needed to fill a screen were fetched.
    let first = pages(&server);
    assert!((1..=2).contains(&first), "fetched {first} pages up front");
    // A search for an agent not loaded yet pages on until it finds it.
    pane.keys(&["/", "Agent number 337"]);
    pane.wait("the search prompt", |s| s.contains("/Agent number 337"));
    pane.keys(&["Enter"]);
    pane.wait("the match, pages later", |s| s.contains(" 338/"));
    let after = pages(&server);
    assert!((17..=19).contains(&after), "fetched {after} pages for it");
    // Requests went page by page, each after the last id seen.
    let recorded = server.recorded();
    for (i, r) in recorded.iter().enumerate().skip(1) {
        let want = format!("cursor_{}", i * 20);
        assert_eq!(r.query_param("page").as_deref(), Some(want.as_str()));
    }
    // G goes to the real end, loading as it goes.
    pane.keys(&["G"]);
    let s = pane.wait("the last agent", |s| s.contains("5000/5000  5000 items"));
    assert!(s.contains("Agent number 4999"), "{s}");
    assert_eq!(pages(&server), 250);
    // Search finds an agent by name.
    pane.keys(&["g", "/", "Agent number 37"]);
    pane.wait("the search prompt", |s| s.contains("/Agent number 37"));
    pane.keys(&["Enter"]);
    pane.wait("the match", |s| s.contains(" 38/"));
    // p prints it as JSON and exits 0.
    pane.keys(&["p"]);
    assert_eq!(pane.exit_code(), 0, "stderr: {}", pane.stderr());
    pane.assert_restored();
    let s = pane.screen();
    assert!(s.contains(r#""id": "agent_011CZkYpogX5F2aL00037""#), "{s}");
    assert!(s.contains(r#""name": "Agent number 37""#), "{s}");
}

#[test]
fn q_quits_with_0_and_restores_the_terminal() {
    if !have_tmux() {
        return;
    }
    let server = Server::json(json!({"id": "agent_1", "type": "agent", "name": "Solo",
                                     "tools": [{"type": "bash"}]}));
    let pane = Pane::start(&api(&server), &["beta:agents", "retrieve", "agent_1"]);
    pane.wait("the tree", |s| {
        s.contains("name: \"Solo\"") && s.contains("▸ tools")
    });
    pane.keys(&["?"]);
    pane.wait("the help", |s| s.contains("this help"));
    pane.keys(&["Escape"]);
    pane.wait("the help to close", |s| !s.contains("this help"));
    pane.quit();
    assert_eq!(pane.stderr(), "");
}

#[test]
fn y_prints_the_gjson_path() {
    if !have_tmux() {
        return;
    }
    let server = Server::json(json!({"id": "agent_1", "model": {"id": "claude-opus-4-7"}}));
    let pane = Pane::start(&api(&server), &["beta:agents", "retrieve", "agent_1"]);
    pane.wait("the tree", |s| s.contains("▸ model"));
    pane.keys(&["j", "l", "j", "y"]);
    assert_eq!(pane.exit_code(), 0);
    pane.assert_restored();
    assert!(
        pane.screen().lines().any(|l| l.trim() == "model.id"),
        "{}",
        pane.screen()
    );
}

/// Signals from outside: the terminal is put back, then `ant` dies of
/// SIGTERM or SIGHUP as it would have (128 + the signal), or ends on SIGINT
/// with 130 as every command does.
#[test]
fn signals_restore_the_terminal() {
    if !have_tmux() {
        return;
    }
    let server = agents(100);
    for (sig, code) in [
        (libc::SIGTERM, 128 + libc::SIGTERM),
        (libc::SIGHUP, 128 + libc::SIGHUP),
        (libc::SIGINT, 130),
    ] {
        let pane = explore_list(&api(&server), &["beta:agents", "list"], Stdin::Terminal);
        let pid = pane.ant_pid();
        // SAFETY: sending a signal to the child this test started.
        unsafe { libc::kill(pid as i32, sig) };
        assert_eq!(pane.exit_code(), code, "signal {sig}: {}", pane.stderr());
        pane.assert_restored();
    }
}

/// Ctrl-C in the explorer is a key that quits, like q.
#[test]
fn ctrl_c_quits_with_0() {
    if !have_tmux() {
        return;
    }
    let server = agents(100);
    let pane = explore_list(&api(&server), &["beta:agents", "list"], Stdin::Terminal);
    pane.keys(&["C-c"]);
    assert_eq!(pane.exit_code(), 0, "{}", pane.stderr());
    pane.assert_restored();
    assert_eq!(pane.stderr(), "");
}

/// What `ant` writes to stderr while the explorer is open (`--debug` logs
/// here) is held back, and shown once the terminal is back.
#[test]
fn stderr_waits_until_the_explorer_closes() {
    if !have_tmux() {
        return;
    }
    let server = agents(100);
    let pane = Pane::start_stderr_on_terminal(&api(&server), &["beta:agents", "list", "--debug"]);
    pane.wait("the first agents", |s| s.contains("Agent number 0"));
    pane.keys(&["G"]);
    let s = pane.wait("every page", |s| s.contains("100 items"));
    assert!(
        !s.contains("[debug]"),
        "the log is drawn over the explorer:\n{s}"
    );
    pane.keys(&["q"]);
    assert_eq!(pane.exit_code(), 0);
    pane.assert_restored();
    let s = pane.tmux(&["capture-pane", "-p", "-t", "0", "-S", "-200"]);
    assert!(
        s.contains("[debug] > GET") && s.contains("page=cursor_20"),
        "the log of the second page is shown afterwards:\n{s}"
    );
}

/// A page that fails while the explorer is open: the terminal is put back,
/// then the error is reported with its exit code.
#[test]
fn an_error_while_paging_restores_the_terminal_first() {
    if !have_tmux() {
        return;
    }
    let server = Server::start(|r: &Recorded, _| match r.query_param("page") {
        None => Reply::ok(
            json!({"data": (0..20).map(agent).collect::<Vec<_>>(), "next_page": "cursor_20"}),
        ),
        Some(_) => Reply::error(400, "invalid_request_error", "the second page is broken"),
    });
    let pane = explore_list(&api(&server), &["beta:agents", "list"], Stdin::Terminal);
    pane.keys(&["G"]);
    assert_eq!(pane.exit_code(), 5, "{}", pane.stderr());
    pane.assert_restored();
    assert!(
        pane.stderr().contains("400 Bad Request")
            && pane.stderr().contains("the second page is broken"),
        "{}",
        pane.stderr()
    );
}

#[test]
fn a_terminal_that_goes_away_ends_the_explorer() {
    if !have_tmux() {
        return;
    }
    let server = agents(100);
    for stdin in [Stdin::Terminal, Stdin::Null] {
        let pane = explore_list(
            &api(&server),
            &["beta:agents", "list", "--format", "explore"],
            stdin,
        );
        let pid = pane.ant_pid();
        // Closing the terminal (here: its tmux server) must not leave `ant`
        // behind reading a hung-up terminal.
        pane.tmux(&["kill-server"]);
        let start = Instant::now();
        while alive(pid) && start.elapsed() < DEADLINE {
            std::thread::sleep(Duration::from_millis(30));
        }
        let running = alive(pid);
        if running {
            // SAFETY: killing the process this test started.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        assert!(
            !running,
            "stdin {stdin:?}: ant is still running after its terminal went away"
        );
    }
}

/// CPU time (in clock ticks) and voluntary context switches (how often a
/// thread went to sleep and was woken) of all the threads of `pid`.
fn activity(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15; fields[0] is field 3.
    let cpu = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let mut switches = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let status =
            std::fs::read_to_string(task.unwrap().path().join("status")).unwrap_or_default();
        switches += status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    (cpu, switches)
}

/// An explorer left alone sleeps: it neither spins nor wakes up on a timer,
/// whatever its stdin (an explicit `--format explore` reads keys from the
/// terminal when stdin is redirected), and keys still work afterwards.
fn idles(stdin: Stdin) {
    if !have_tmux() {
        return;
    }
    let server = agents(100);
    let pane = explore_list(
        &api(&server),
        &["beta:agents", "list", "--format", "explore"],
        stdin,
    );
    let pid = pane.ant_pid();
    std::thread::sleep(Duration::from_millis(300));
    let (cpu, woke) = activity(pid);
    std::thread::sleep(Duration::from_secs(2));
    let (cpu2, woke2) = activity(pid);
    // A loop that spins burns a core (about 200 ticks in 2 s); one that
    // polls every 20 ms wakes up 100 times.
    assert!(
        cpu2 - cpu <= 10,
        "{stdin:?}: {} ticks of CPU while idle",
        cpu2 - cpu
    );
    assert!(
        woke2 - woke <= 10,
        "{stdin:?}: woke up {} times while idle",
        woke2 - woke
    );
    pane.keys(&["j"]);
    pane.wait("the cursor on row 2", |s| s.contains(" 2/20"));
    pane.quit();
}

#[test]
fn an_idle_explorer_sleeps() {
    idles(Stdin::Terminal);
}

#[test]
fn an_explorer_with_stdin_from_dev_null_reads_the_terminal_and_sleeps() {
    idles(Stdin::Null);
}

#[test]
fn an_explorer_with_stdin_from_an_ended_pipe_stays_open() {
    idles(Stdin::EndedPipe);
}

/// The explorer redraws for the new size when the terminal is resized.
#[test]
fn the_explorer_follows_resizes() {
    if !have_tmux() {
        return;
    }
    let server = agents(100);
    let pane = explore_list(&api(&server), &["beta:agents", "list"], Stdin::Terminal);
    let header = |s: &str| s.lines().next().unwrap_or("").trim_end().chars().count();
    for (w, h) in [(60, 20), (120, 40), (80, 24)] {
        pane.tmux(&[
            "resize-window",
            "-t",
            "0",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
        ]);
        // The header's right end (the item count) sits at the right edge.
        pane.wait(&format!("a {w}x{h} screen"), |s| {
            s.lines().count() == h && header(s) == w && s.lines().next().unwrap().ends_with("more")
        });
    }
    pane.quit();
}

/// A bug that panics inside the explorer: the terminal is put back first,
/// then `ant` reports it and exits 1.
#[test]
fn a_panic_in_the_explorer_restores_the_terminal() {
    if !have_tmux() {
        return;
    }
    let server = agents(100);
    let mut env = api(&server);
    env.push(("ANT_TEST_PANIC_IN_EXPLORER", "1"));
    let pane = explore_list(&env, &["beta:agents", "list"], Stdin::Terminal);
    pane.keys(&["j"]);
    assert_eq!(pane.exit_code(), 1, "stderr: {}", pane.stderr());
    pane.assert_restored();
    assert!(
        pane.stderr()
            .starts_with("ant: internal error, please report: ANT_TEST_PANIC_IN_EXPLORER"),
        "{}",
        pane.stderr()
    );
}

#[test]
fn a_stream_shows_events_as_they_arrive() {
    if !have_tmux() {
        return;
    }
    let event = |id: &str, ty: &str| {
        format!("event: {ty}\ndata: {}\n\n", json!({"id": id, "type": ty, "content": [{"type": "text", "text": format!("text of {id}")}]})).into_bytes()
    };
    // The server sends each event when the test says so.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let rx = std::sync::Mutex::new(Some(rx));
    let server = Server::start(move |_, _| match rx.lock().unwrap().take() {
        Some(rx) => Reply::Live(rx),
        None => Reply::error(500, "api_error", "one stream only"),
    });
    let pane = Pane::start(
        &api(&server),
        &[
            "beta:sessions:events",
            "stream",
            "sesn_1",
            "--format",
            "explore",
            "--no-reconnect",
        ],
    );
    tx.send(event("sevt_first", "agent.message")).unwrap();
    let s = pane.wait("the first event", |s| s.contains("sevt_first"));
    assert!(s.contains("1 event · live"), "{s}");
    tx.send(event("sevt_second", "agent.message")).unwrap();
    let s = pane.wait("the second event", |s| s.contains("sevt_second"));
    assert!(
        s.contains(" 1/2 "),
        "the cursor stayed on the first event: {s}"
    );
    drop(tx);
    pane.wait("the end of the stream", |s| s.contains("ended"));
    pane.quit();
}

#[test]
fn quitting_a_live_stream_ends_the_command() {
    if !have_tmux() {
        return;
    }
    let server = Server::start(|_, _| {
        Reply::Chunks(
            200,
            "text/event-stream",
            vec![
                (Duration::ZERO, b"event: agent.message\ndata: {\"id\":\"sevt_1\",\"type\":\"agent.message\"}\n\n".to_vec()),
                (Duration::from_secs(60), b": still here\n\n".to_vec()),
            ],
        )
    });
    let pane = Pane::start(
        &api(&server),
        &[
            "beta:sessions:events",
            "stream",
            "sesn_1",
            "--format",
            "EXPLORE",
        ],
    );
    pane.wait("the event", |s| s.contains("sevt_1"));
    pane.quit();
}

#[test]
fn long_json_goes_through_less_and_q_exits_0() {
    if !have_tmux() {
        return;
    }
    let server = agents(200);
    let pane = Pane::start(&api(&server), &["beta:agents", "list", "--format", "json"]);
    // less shows the first screen and waits (its prompt is ':' at the bottom).
    let s = pane.wait("less", |s| s.lines().last() == Some(":"));
    assert!(s.starts_with('{'), "{s}");
    assert!(s.contains("agent_011CZkYpogX5F2aL00000"), "{s}");
    assert!(
        !std::fs::exists(pane.dir.join("exit")).unwrap(),
        "ant waits for the pager"
    );
    pane.keys(&["q"]);
    assert_eq!(pane.exit_code(), 0, "stderr: {}", pane.stderr());
    assert_eq!(pane.stderr(), "");
}

#[test]
fn paging_is_off_with_an_empty_pager_or_no_pager() {
    if !have_tmux() {
        return;
    }
    let server = agents(200);
    for (env, flag) in [
        (vec![("PAGER", "")], None),
        (vec![("ANT_PAGER", ""), ("PAGER", "less")], None),
        (vec![], Some("--no-pager")),
    ] {
        let mut e = api(&server);
        e.extend(env);
        let mut args = vec!["beta:agents", "list", "--format", "json"];
        args.extend(flag);
        let pane = Pane::start(&e, &args);
        assert_eq!(pane.exit_code(), 0, "{args:?}: {}", pane.stderr());
        let s = pane.screen();
        assert!(s.contains("agent_011CZkYpogX5F2aL00199"), "{s}");
    }
}

/// The pager runs with `LESS=FRX` unless `LESS` is set.
#[test]
fn the_pager_gets_less_frx_unless_less_is_set() {
    if !have_tmux() {
        return;
    }
    let server = agents(200);
    let out = home();
    let seen = out.path().join("less");
    let pager = format!("echo \"[$LESS]\" > '{}'; cat > /dev/null", seen.display());
    for (less, want) in [(None, "[FRX]"), (Some("-i"), "[-i]")] {
        let mut env = api(&server);
        env.push(("PAGER", &pager));
        env.extend(less.map(|l| ("LESS", l)));
        let pane = Pane::start(&env, &["beta:agents", "list", "--format", "json"]);
        assert_eq!(pane.exit_code(), 0, "{}", pane.stderr());
        assert_eq!(std::fs::read_to_string(&seen).unwrap().trim(), want);
    }
}

/// A pager that cannot start: one note on stderr, the output on the
/// terminal as if there were no pager, and exit 0.
#[test]
fn a_pager_that_cannot_start_is_skipped_with_a_note() {
    if !have_tmux() {
        return;
    }
    let server = agents(200);
    let mut env = api(&server);
    env.push(("PAGER", "ant-no-such-pager -R"));
    let pane = Pane::start(&env, &["beta:agents", "list", "--format", "json"]);
    assert_eq!(pane.exit_code(), 0, "{}", pane.stderr());
    assert_eq!(
        pane.stderr(),
        "note: cannot run the pager \"ant-no-such-pager -R\": No such file or directory (os error 2)\n"
    );
    let s = pane.screen();
    assert!(s.contains("agent_011CZkYpogX5F2aL00199"), "{s}");
}

/// Only json, yaml and pretty output longer than the screen is paged: with
/// a pager that marks every line, the rest shows unmarked.
#[test]
fn short_output_jsonl_and_streams_are_not_paged() {
    if !have_tmux() {
        return;
    }
    let marked = |server: &Server, args: &[&str]| -> bool {
        let mut env = api(server);
        env.push(("PAGER", "sed s/^/PAGED:/"));
        let pane = Pane::start(&env, args);
        assert_eq!(pane.exit_code(), 0, "{args:?}: {}", pane.stderr());
        let s = pane.screen();
        assert!(
            s.contains("agent_011CZkYpogX5F2aL") || s.contains("sevt_"),
            "{args:?}: {s}"
        );
        s.contains("PAGED:")
    };
    let long = agents(200);
    assert!(marked(&long, &["beta:agents", "list", "--format", "json"]));
    assert!(marked(
        &long,
        &["beta:agents", "list", "--format", "pretty"]
    ));
    assert!(!marked(
        &long,
        &["beta:agents", "list", "--format", "jsonl"]
    ));
    let short = agents(3);
    assert!(!marked(
        &short,
        &["beta:agents", "list", "--format", "yaml"]
    ));
    let events: Vec<(&str, Value)> = (0..60)
        .map(|i| {
            (
                "agent.message",
                json!({"id": format!("sevt_{i:03}"), "type": "agent.message"}),
            )
        })
        .collect();
    let stream = Server::start(move |_, _| Reply::sse(&events));
    let args = [
        "beta:sessions:events",
        "stream",
        "sesn_1",
        "--format",
        "json",
        "--no-reconnect",
    ];
    assert!(!marked(&stream, &args));
}

#[test]
fn a_dumb_terminal_gets_json_and_no_color_gets_no_colours() {
    if !have_tmux() {
        return;
    }
    let server = agents(3);
    let mut env = api(&server);
    env.push(("TERM", "dumb"));
    let pane = Pane::start(&env, &["beta:agents", "list"]);
    assert_eq!(pane.exit_code(), 0, "{}", pane.stderr());
    assert!(
        pane.screen().contains(r#""name": "Agent number 2""#),
        "{}",
        pane.screen()
    );
    assert_eq!(pane.stderr(), "", "the default falls back silently");
    let styled = pane.tmux(&["capture-pane", "-p", "-e", "-t", "0"]);
    assert!(
        sgr_params(&styled).iter().all(|p| *p == 0),
        "escape codes on a dumb terminal: {styled:?}"
    );
    let mut env = api(&server);
    env.push(("NO_COLOR", "1"));
    let pane = Pane::start(&env, &["beta:agents", "list"]);
    pane.wait("the explorer", |s| s.contains("Agent number 2"));
    let styled = pane.tmux(&["capture-pane", "-p", "-e", "-t", "0"]);
    assert!(
        styled.contains("\x1b[7m"),
        "the selection is in reverse video"
    );
    let colours = sgr_params(&styled)
        .into_iter()
        .filter(|p| matches!(p, 30..=38 | 40..=48 | 90..=97 | 100..=107))
        .count();
    assert_eq!(colours, 0, "colours under NO_COLOR: {styled:?}");
    pane.keys(&["q"]);
    assert_eq!(pane.exit_code(), 0);
}

/// Without a terminal on stdout: JSON, silently for the default, with a
/// one-line note for an explicit `--format explore` (in any case).
#[test]
fn a_pipe_gets_json() {
    let server = agents(45);
    let h = home();
    let out = crate::ant_at(&server, h.path())
        .args(["beta:agents", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(crate::stderr(&out), "");
    let text = crate::stdout(&out);
    assert_eq!(text.matches("\"name\":").count(), 45, "every page: {text}");
    for format in ["explore", "EXPLORE"] {
        let out = crate::ant_at(&server, h.path())
            .args(["beta:agents", "list", "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            crate::stderr(&out),
            "note: stdout is not a terminal; printing json instead of --format explore\n"
        );
        assert_eq!(crate::stdout(&out), text);
    }
}

/// Every parameter of the SGR escapes (`ESC [ ... m`) in `s`.
fn sgr_params(s: &str) -> Vec<u32> {
    s.split("\x1b[")
        .skip(1)
        .filter_map(|rest| rest.split_once('m').map(|(params, _)| params))
        .filter(|p| p.chars().all(|c| c.is_ascii_digit() || c == ';'))
        .flat_map(|p| {
            p.split(';')
                .filter_map(|n| n.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

//! Shell completion through real shells: bash (with and without the
//! bash-completion package) and zsh typed at in a pseudo-terminal, fish
//! through `complete -C`. Groups, verbs, flags, enum values, files and IDs
//! served by a loopback server; a hanging server must not hang the shell.
//! Also: the committed scripts, man pages and commands reference are what
//! the binary generates now (run scripts/regen-docs when these fail).
//!
//! A test whose shell is not installed prints why and passes; `.ci/run`
//! installs bash-completion, zsh and fish so CI always runs them.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::{Reply, Server, home, stdout};

fn ant_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("ant")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// True when `shell` runs; otherwise says why the test is skipped.
fn have(shell: &str) -> bool {
    let ok = Command::new(shell)
        .args(["-c", "exit 0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        crate::skipped(&format!(
            "{shell} is not installed (apt-get install -y bash-completion zsh fish; .ci/run does)"
        ));
    }
    ok
}

/// An isolated environment for a shell running `ant`: the built binary
/// first on PATH, a temporary HOME, config and cache, and no real
/// credentials.
fn isolate(cmd: &mut Command, home: &Path, server: Option<&str>) {
    let path = format!(
        "{}:{}",
        ant_bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("ANTHROPIC_CONFIG_DIR", home.join("anthropic"))
        .env("TERM", "dumb")
        .env("LANG", "C.UTF-8")
        .current_dir(home);
    if let Some(url) = server {
        cmd.env("ANTHROPIC_BASE_URL", url)
            .env("ANTHROPIC_API_KEY", "sk-test-key");
    }
}

/// Writes `ant @completion <shell>` into the home and returns its path.
fn script(home: &Path, shell: &str, file: &str) -> PathBuf {
    let out = Command::new(ant_bin())
        .args(["@completion", shell])
        .output()
        .unwrap();
    assert!(out.status.success(), "ant @completion {shell}");
    let dir = home.join("completions");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// An interactive shell on a pseudo-terminal. Ctrl-T is bound to print
/// `LINE<n>=[<the command line>]`, so a test types keys (a TAB among them)
/// and reads back the line the shell's completion made.
struct Pty {
    master: std::fs::File,
    child: Child,
    out: String,
    lines: usize,
}

impl Pty {
    fn spawn(mut cmd: Command) -> Pty {
        let (mut master, mut slave) = (0, 0);
        let ws = libc::winsize {
            ws_row: 50,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty fills two descriptors we then own.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &ws,
            )
        };
        assert_eq!(rc, 0, "openpty");
        // SAFETY: fresh descriptors from openpty, owned here.
        let (master, slave) = unsafe {
            (
                std::fs::File::from_raw_fd(master),
                std::fs::File::from_raw_fd(slave),
            )
        };
        cmd.stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn shell");
        drop(cmd);
        // SAFETY: plain fcntl on a descriptor we own.
        unsafe {
            let fd = master.as_raw_fd();
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        Pty {
            master,
            child,
            out: String::new(),
            lines: 0,
        }
    }

    fn send(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }

    /// Reads until `done` holds for what was read since `from`.
    fn wait(&mut self, from: usize, what: &str, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut buf = [0u8; 4096];
        loop {
            if done(&self.out[from..]) {
                return;
            }
            match self.master.read(&mut buf) {
                Ok(0) => panic!("shell exited while waiting for {what}:\n{}", self.out),
                Ok(n) => self.out.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!(
                    "reading the terminal ({e}) waiting for {what}:\n{}",
                    self.out
                ),
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the terminal showed:\n{}",
                self.out
            );
        }
    }

    /// Runs a command line and waits for its marker output.
    fn run(&mut self, command: &str) {
        let from = self.out.len();
        self.send(&format!("{command}; echo RE''ADY\r"));
        self.wait(from, "the shell", |s| s.contains("READY"));
    }

    /// Types `keys`, then asks for the line; returns it and everything the
    /// terminal showed meanwhile (listings). Clears the line afterwards.
    fn line(&mut self, keys: &str) -> (String, String) {
        self.lines += 1;
        let marker = format!("LINE{}=[", self.lines);
        let from = self.out.len();
        self.send(keys);
        // Let the completion (and any listing) finish before asking.
        std::thread::sleep(Duration::from_millis(300));
        self.send("\x14");
        self.wait(from, &marker, |s| {
            s.find(&marker)
                .is_some_and(|i| s[i..].contains("]\r\n") || s[i..].contains("]\n"))
        });
        let shown = self.out[from..].to_string();
        let start = shown.find(&marker).unwrap() + marker.len();
        let end = shown[start..]
            .find("]\r")
            .or(shown[start..].find("]\n"))
            .unwrap();
        self.send("\x15");
        (shown[start..start + end].to_string(), shown)
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bash(home: &Path, server: Option<&str>, with_package: bool) -> Pty {
    let script = script(home, "bash", "ant.bash");
    let mut cmd = Command::new("bash");
    cmd.args(["--norc", "--noprofile", "-i"]);
    isolate(&mut cmd, home, server);
    cmd.env("PS1", "$ ");
    let mut sh = Pty::spawn(cmd);
    if with_package {
        sh.run("source /usr/share/bash-completion/bash_completion");
        sh.run("declare -F _get_comp_words_by_ref >/dev/null || echo NO-PACKAGE");
        assert!(
            !sh.out.contains("NO-PACKAGE\r"),
            "bash-completion not loaded"
        );
    }
    sh.run(&format!("source {}", script.display()));
    sh.run(r#"n=0; bind -x '"\C-t": printf "\nLINE%d=[%s]\n" $((++n)) "$READLINE_LINE"'"#);
    sh
}

fn zsh(home: &Path, server: Option<&str>) -> Pty {
    let script = script(home, "zsh", "_ant");
    let mut cmd = Command::new("zsh");
    cmd.args(["-f", "-i"]);
    isolate(&mut cmd, home, server);
    cmd.env("PS1", "$ ");
    let mut sh = Pty::spawn(cmd);
    sh.run(&format!(
        "fpath=({} $fpath); autoload -U compinit; compinit -u -D",
        script.parent().unwrap().display()
    ));
    sh.run(r#"n=0; print-line() { print -r -- $'\n'"LINE$((++n))=[$BUFFER]" }; zle -N print-line; bindkey '^T' print-line"#);
    sh
}

/// `complete -C` in fish: candidates (with descriptions) for `line`.
fn fish(home: &Path, server: Option<&str>, line: &str) -> Vec<String> {
    let script = script(home, "fish", "ant.fish");
    let mut cmd = Command::new("fish");
    isolate(&mut cmd, home, server);
    let quoted = line.replace('\\', "\\\\").replace('\'', "\\'");
    cmd.args([
        "--no-config",
        "-c",
        &format!("source {}; complete -C '{quoted}'", script.display()),
    ]);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "fish: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out).lines().map(String::from).collect()
}

/// Lines the static cases of every shell share: (keys typed, line after TAB).
const STATIC_CASES: &[(&str, &str)] = &[
    ("ant beta:sessions:ev\t", "ant beta:sessions:events "),
    (
        "ant beta:memory-stores:memory-v\t",
        "ant beta:memory-stores:memory-versions ",
    ),
    ("ant beta:agents arc\t", "ant beta:agents archive "),
    (
        "ant beta:sessions list --ord\t",
        "ant beta:sessions list --order ",
    ),
    (
        "ant beta:sessions list --order d\t",
        "ant beta:sessions list --order desc ",
    ),
    (
        "ant beta:sessions list --order=d\t",
        "ant beta:sessions list --order=desc ",
    ),
    (
        "ant beta:dreams list --status can\t",
        "ant beta:dreams list --status canceled ",
    ),
    (
        "ant beta:agents list --format jso\t",
        "ant beta:agents list --format json",
    ),
    (
        "ant messages create --stream=f\t",
        "ant messages create --stream=false ",
    ),
    (
        "ant beta:files upload --file no\t",
        "ant beta:files upload --file notes.txt ",
    ),
    (
        "ant beta:agents create --system @no\t",
        "ant beta:agents create --system @notes.txt ",
    ),
    (
        "ant beta:agents create --system @file://no\t",
        "ant beta:agents create --system @file://notes.txt ",
    ),
    (
        "ant beta:agents create --system @data://su\t",
        "ant beta:agents create --system @data://sub/",
    ),
];

fn files_in(home: &Path) {
    std::fs::write(home.join("notes.txt"), "hello").unwrap();
    std::fs::create_dir_all(home.join("sub")).unwrap();
    std::fs::write(home.join("sub/inner.txt"), "x").unwrap();
}

fn static_cases(sh: &mut Pty, shell: &str) {
    for (keys, want) in STATIC_CASES {
        let (got, shown) = sh.line(keys);
        assert_eq!(
            got.trim_end(),
            want.trim_end(),
            "{shell}: {keys:?}\n{shown}"
        );
        if want.ends_with(' ') {
            assert!(
                got.ends_with(' '),
                "{shell}: {keys:?} should end the word: {got:?}"
            );
        }
    }
}

#[test]
fn bash_completes_without_bash_completion_package() {
    if !have("bash") {
        return;
    }
    let h = home();
    files_in(h.path());
    let mut sh = bash(h.path(), None, false);
    static_cases(&mut sh, "bash");
    // Several candidates: insert them all (M-*), colons kept intact.
    let (got, _) = sh.line("ant beta:ag\x1b*");
    assert_eq!(got.trim_end(), "ant beta:agents agents:versions");
}

#[test]
fn bash_completes_with_bash_completion_package() {
    if !have("bash") {
        return;
    }
    if !Path::new("/usr/share/bash-completion/bash_completion").exists() {
        crate::skipped("the bash-completion package is not installed");
        return;
    }
    let h = home();
    files_in(h.path());
    let mut sh = bash(h.path(), None, true);
    static_cases(&mut sh, "bash+bash-completion");
    let (got, _) = sh.line("ant beta:ag\x1b*");
    assert_eq!(got.trim_end(), "ant beta:agents agents:versions");
}

#[test]
fn zsh_completes_with_descriptions() {
    if !have("zsh") {
        return;
    }
    let h = home();
    files_in(h.path());
    let mut sh = zsh(h.path(), None);
    static_cases(&mut sh, "zsh");
    // Ambiguous: the common part first, then a listing with descriptions.
    let (got, shown) = sh.line("ant beta:ag\t\t");
    assert_eq!(got, "ant beta:agents");
    assert!(shown.contains("beta:agents:versions"), "{shown}");
    assert!(shown.contains("Agents: a model with its system"), "{shown}");
    let (_, shown) = sh.line("ant beta:sessions list --\t\t");
    assert!(
        shown.contains("one of: asc, desc"),
        "flag help shown: {shown}"
    );
}

#[test]
fn fish_completes_with_descriptions() {
    if !have("fish") {
        return;
    }
    let h = home();
    files_in(h.path());
    let p = h.path();
    let got = fish(p, None, "ant beta:ag");
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got.iter()
            .any(|c| c.starts_with("beta:agents\tAgents: a model with its system")),
        "{got:?}"
    );
    assert!(
        got.iter().any(|c| c.starts_with("beta:agents:versions\t")),
        "{got:?}"
    );
    let got = fish(p, None, "ant beta:sessions:ev");
    assert_eq!(
        got,
        [
            "beta:sessions:events\tA session's events: send messages, list the history, follow the live stream"
        ]
    );
    let got = fish(p, None, "ant beta:agents ");
    let verbs: Vec<&str> = got.iter().map(|c| c.split('\t').next().unwrap()).collect();
    assert_eq!(verbs, ["create", "retrieve", "update", "list", "archive"]);
    let got = fish(p, None, "ant beta:sessions list --ord");
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("--order\t") && got[0].contains("asc, desc"),
        "{got:?}"
    );
    assert_eq!(
        fish(p, None, "ant beta:sessions list --order "),
        ["asc", "desc"]
    );
    assert_eq!(
        fish(
            p,
            None,
            "ant beta:sessions:events list --type session.status_"
        ),
        [
            "session.status_rescheduled",
            "session.status_running",
            "session.status_idle",
            "session.status_terminated"
        ]
    );
    let got = fish(p, None, "ant beta:agents list --format ");
    assert!(got.iter().any(|c| c.starts_with("jsonl\t")), "{got:?}");
    assert_eq!(
        fish(p, None, "ant beta:files upload --file no"),
        ["notes.txt"]
    );
    assert_eq!(
        fish(p, None, "ant beta:agents create --system @file://no"),
        ["@file://notes.txt"]
    );
    // Free text: nothing offered, not even files.
    assert!(fish(p, None, "ant beta:agents create --name ").is_empty());
}

/// A list of two agents, newest first, as the API pages them.
fn agents_server() -> Server {
    Server::start(|req, _| {
        if req.path == "/v1/agents" {
            Reply::ok(json!({"data": [
                {"id": "agent_011new", "name": "Coding Assistant", "type": "agent"},
                {"id": "agent_022old", "name": "Reviewer", "type": "agent"}
            ], "next_page": null}))
        } else if req.path == "/v1/sessions/sesn_1/threads" {
            Reply::ok(json!({"data": [
                {"id": "sthr_1", "status": "idle", "created_at": "2026-01-01T00:00:00Z"}
            ], "next_page": null}))
        } else if req.path == "/v1/environments" {
            Reply::ok(
                json!({"data": [{"id": "env_1", "name": "quickstart-env"}], "next_page": null}),
            )
        } else {
            Reply::error(404, "not_found_error", "no such list")
        }
    })
}

#[test]
fn ids_come_from_the_api_in_every_shell() {
    let server = agents_server();
    let url = server.url.clone();
    let h = home();
    let p = h.path();
    if have("fish") {
        let got = fish(p, Some(&url), "ant beta:agents retrieve ");
        assert_eq!(
            got,
            ["agent_011new\tCoding Assistant", "agent_022old\tReviewer"]
        );
        let got = fish(p, Some(&url), "ant beta:sessions create --agent ");
        assert_eq!(got.len(), 2, "{got:?}");
        let got = fish(p, Some(&url), "ant beta:sessions create --environment-id ");
        assert_eq!(got, ["env_1\tquickstart-env"]);
        let got = fish(
            p,
            Some(&url),
            "ant beta:sessions:threads retrieve --session-id sesn_1 ",
        );
        assert_eq!(got, ["sthr_1\t2026-01-01T00:00:00Z (idle)"]);
    }
    if have("bash") {
        let mut sh = bash(p, Some(&url), false);
        let (got, _) = sh.line("ant beta:agents retrieve agent_02\t");
        assert_eq!(got, "ant beta:agents retrieve agent_022old ");
        let (got, _) = sh.line("ant beta:sessions list --agent-id=agent_01\t");
        assert_eq!(got, "ant beta:sessions list --agent-id=agent_011new ");
        // Listed, the IDs come with their names, as in the other shells.
        let (got, shown) = sh.line("ant beta:agents retrieve agent_0\t\t");
        assert_eq!(got, "ant beta:agents retrieve agent_0");
        assert!(
            shown.contains("agent_011new  (Coding Assistant)")
                && shown.contains("agent_022old  (Reviewer)"),
            "{shown}"
        );
    }
    if have("zsh") {
        let mut sh = zsh(p, Some(&url));
        let (got, _) = sh.line("ant beta:agents archive agent_01\t");
        assert_eq!(got, "ant beta:agents archive agent_011new ");
        let (_, shown) = sh.line("ant beta:agents retrieve agent_0\t");
        assert!(
            shown.contains("Coding Assistant") && shown.contains("Reviewer"),
            "{shown}"
        );
    }
    let first = server
        .recorded()
        .into_iter()
        .find(|r| r.path == "/v1/agents")
        .expect("the agents list was asked for");
    assert_eq!(first.method, "GET");
    assert_eq!(first.query_param("limit").as_deref(), Some("50"));
    assert_eq!(first.header("x-api-key"), Some("sk-test-key"));
}

#[test]
fn ids_use_the_credentials_on_the_line_and_are_cached() {
    let server = agents_server();
    let h = home();
    let complete = |words: &[&str]| {
        let mut cmd = Command::new(ant_bin());
        isolate(&mut cmd, h.path(), None);
        cmd.env("COMPLETION_STYLE", "fish")
            .arg("__complete")
            .args(words);
        let out = cmd.output().unwrap();
        (out.status.code(), stdout(&out))
    };
    let line = [
        "--base-url",
        &server.url,
        "--api-key",
        "sk-from-the-line",
        "beta:agents",
        "retrieve",
        "--workspace-id",
        "wrkspc_1",
        "",
    ];
    let (code, out) = complete(&line);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("agent_011new\tCoding Assistant\n"), "{out}");
    let req = server.only();
    assert_eq!(req.header("x-api-key"), Some("sk-from-the-line"));
    assert_eq!(req.header("anthropic-workspace-id"), Some("wrkspc_1"));
    // A second TAB within a few seconds is served from the cache.
    let (_, again) = complete(&line);
    assert_eq!(again, out);
    assert_eq!(server.recorded().len(), 1, "cached");
    // Other credentials are another cache entry.
    let mut other = line;
    other[3] = "sk-other";
    complete(&other);
    assert_eq!(server.recorded().len(), 2);
    // No credentials at all: nothing is sent, the flags are offered.
    let (_, out) = complete(&["--base-url", &server.url, "beta:agents", "retrieve", ""]);
    assert!(out.contains("--agent-id"), "{out}");
    assert_eq!(server.recorded().len(), 2);
}

#[test]
fn id_completion_never_hangs_on_a_silent_server() {
    // Accepts connections (the kernel does) but never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let h = home();
    let start = Instant::now();
    let mut cmd = Command::new(ant_bin());
    isolate(&mut cmd, h.path(), Some(&url));
    let out = cmd
        .env("COMPLETION_STYLE", "bash")
        .args(["__complete", "beta:agents", "retrieve", ""])
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let out = stdout(&out);
    assert!(!out.lines().any(|l| l.starts_with("agent_")), "{out}");
    if have("fish") {
        let start = Instant::now();
        let got = fish(h.path(), Some(&url), "ant beta:sessions:events stream sesn");
        let took = start.elapsed();
        assert!(got.is_empty(), "{got:?}");
        assert!(took < Duration::from_millis(2500), "fish took {took:?}");
    }
    drop(listener);
}

/// Files under `dir` (relative path -> content).
fn tree_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            for (n, t) in tree_files(&p) {
                out.push((format!("{name}/{n}"), t));
            }
        } else {
            out.push((name, std::fs::read_to_string(&p).unwrap_or_default()));
        }
    }
    out.sort();
    out
}

fn same_tree(generated: &Path, committed: &Path, what: &str) {
    let g = tree_files(generated);
    let c = tree_files(committed);
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&g),
        names(&c),
        "{what}: files differ from {}; run scripts/regen-docs",
        committed.display()
    );
    for ((name, text), (_, old)) in g.iter().zip(&c) {
        assert!(
            text == old,
            "{what}: {}/{name} is stale; run scripts/regen-docs",
            committed.display()
        );
    }
}

#[test]
fn committed_completion_scripts_are_current() {
    let shells = [
        ("bash", "ant.bash"),
        ("zsh", "_ant"),
        ("fish", "ant.fish"),
        ("pwsh", "ant.ps1"),
        ("elvish", "ant.elv"),
        ("nushell", "ant.nu"),
    ];
    for (shell, file) in shells {
        let out = Command::new(ant_bin())
            .args(["@completion", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "ant @completion {shell}");
        let committed = std::fs::read(repo().join("completions").join(file)).unwrap_or_default();
        assert!(
            out.stdout == committed,
            "completions/{file} is stale; run scripts/regen-docs"
        );
    }
    let names: Vec<String> = tree_files(&repo().join("completions"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let mut want: Vec<String> = shells.iter().map(|(_, f)| f.to_string()).collect();
    want.sort();
    assert_eq!(
        names, want,
        "completions/ holds exactly the generated scripts"
    );
}

#[test]
fn committed_man_pages_are_current() {
    let h = home();
    let out = Command::new(ant_bin())
        .args(["@manpages", "-o"])
        .arg(h.path().join("man"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    same_tree(&h.path().join("man"), &repo().join("docs/man"), "man pages");
    assert!(h.path().join("man/man1/ant.1").exists());
    assert!(h.path().join("man/man1/ant-beta-agents-create.1").exists());
}

#[test]
fn committed_commands_reference_is_current() {
    let h = home();
    let out = Command::new(ant_bin())
        .args(["@docs", "-o"])
        .arg(h.path().join("commands"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    same_tree(
        &h.path().join("commands"),
        &repo().join("docs/commands"),
        "commands reference",
    );
    let agents = std::fs::read_to_string(h.path().join("commands/beta-agents.md")).unwrap();
    assert!(agents.contains("## ant beta:agents create"), "{agents}");
    assert!(
        agents.contains("| `--name <STRING>` | string | **required** |"),
        "{agents}"
    );
}

/// Admin API IDs complete from ant-mock with the admin key, which goes in
/// x-api-key, with no workspace header.
#[test]
fn admin_ids_complete_with_the_admin_key() {
    let mock = crate::checked_mock(Default::default());
    let h = home();
    let made = mock
        .ant(h.path())
        .env("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-test")
        .args([
            "organization:workspaces",
            "create",
            "--name",
            "Research",
            "--transform",
            "id",
            "-r",
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let id = stdout(&made).trim().to_string();
    let mut cmd = Command::new(ant_bin());
    isolate(&mut cmd, h.path(), None);
    cmd.env("COMPLETION_STYLE", "fish")
        .env("ANTHROPIC_BASE_URL", &mock.0.base_url)
        .env("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-test")
        .args(["__complete", "organization:workspaces:members", "list", ""]);
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).starts_with(&format!("{id}\tResearch")),
        "{}",
        stdout(&out)
    );
}

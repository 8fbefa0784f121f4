//! The worker's confinement as a hostile (prompt-injected) agent attacks
//! it, with the worker running as an unprivileged user as it would in real
//! use (as root, ptrace and `/proc` rules differ): CI runs as root, so the
//! worker is started through `setpriv` as `nobody` (65534), from a copy of
//! the binary and in directories that user can reach. A test that cannot
//! run that way (no `setpriv` as root, no Landlock) says so on the test
//! output, not just in its captured log.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::worker::{Bench, Worker, path_str, wait_until};

const QUICK: Duration = Duration::from_secs(20);

/// How to start a process as an unprivileged user.
pub struct Unprivileged {
    /// The command that runs a program as that user (`setpriv …`), or
    /// nothing when the tests already run unprivileged.
    prefix: Vec<String>,
    pub uid: u32,
    /// An `ant` binary that user can run.
    pub ant: PathBuf,
}

/// Says on the test output (past the harness's capture) why a test did
/// not run, or not all of it.
pub fn skip_loudly(test: &str, why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// The unprivileged user and an `ant` it can run, or why there is none.
pub fn unprivileged() -> Result<&'static Unprivileged, String> {
    static U: OnceLock<Result<Unprivileged, String>> = OnceLock::new();
    U.get_or_init(|| {
        let ant = assert_cmd::cargo::cargo_bin("ant");
        // SAFETY: geteuid and getuid only read the process's credentials.
        let (euid, uid) = unsafe { (libc::geteuid(), libc::getuid()) };
        if euid != 0 {
            return Ok(Unprivileged {
                prefix: vec![],
                uid,
                ant,
            });
        }
        let prefix: Vec<String> = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ]
        .map(String::from)
        .to_vec();
        let runs = |p: &Path| {
            Command::new(&prefix[0])
                .args(&prefix[1..])
                .arg(p)
                .arg("--version")
                .output()
                .map_err(|e| format!("setpriv cannot run ({e}); install util-linux"))
                .map(|o| o.status.success())
        };
        if runs(&ant)? {
            return Ok(Unprivileged {
                prefix,
                uid: 65534,
                ant,
            });
        }
        // The build directory is out of that user's reach: a copy in /tmp,
        // one per build (named after its size and time).
        let meta = std::fs::metadata(&ant).map_err(|e| e.to_string())?;
        let built = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let dir = Path::new("/tmp").join(format!("ant-it-bin-{}-{built}", meta.len()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&dir, PermissionsExt::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let copy = dir.join("ant");
        if std::fs::metadata(&copy).map(|m| m.len()).ok() != Some(meta.len()) {
            let part = dir.join(format!("ant.{}", std::process::id()));
            std::fs::copy(&ant, &part).map_err(|e| e.to_string())?;
            std::fs::set_permissions(&part, PermissionsExt::from_mode(0o755))
                .map_err(|e| e.to_string())?;
            std::fs::rename(&part, &copy).map_err(|e| e.to_string())?;
        }
        match runs(&copy)? {
            true => Ok(Unprivileged {
                prefix,
                uid: 65534,
                ant: copy,
            }),
            false => Err(format!("user 65534 cannot run {}", copy.display())),
        }
    })
    .as_ref()
    .map_err(Clone::clone)
}

impl Unprivileged {
    /// `program` run as the user.
    pub fn command(&self, program: &Path) -> Command {
        match self.prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    /// A fresh directory under /tmp that the user owns.
    pub fn dir(&self) -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::Builder::new()
            .prefix("ant-it-")
            .tempdir_in("/tmp")
            .unwrap();
        let p = t.path().canonicalize().unwrap();
        std::os::unix::fs::chown(&p, Some(self.uid), Some(self.uid)).unwrap();
        (t, p)
    }

    /// `ant beta:worker ARGS` for `b`'s mock, as the user, with its home
    /// and temporary directory in `home`; `setup` adds to the command.
    pub fn worker(
        &self,
        b: &Bench,
        home: &Path,
        args: &[&str],
        setup: impl FnOnce(&mut Command),
    ) -> Worker {
        let tmp = home.join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        std::os::unix::fs::chown(&tmp, Some(self.uid), Some(self.uid)).unwrap();
        b.start_worker(self.command(&self.ant), args, |c| {
            c.env("HOME", home).env("TMPDIR", &tmp);
            setup(c);
        })
    }
}

/// The kernel's Landlock ABI version (0: none).
pub fn landlock_abi() -> i64 {
    // SAFETY: LANDLOCK_CREATE_RULESET_VERSION reads no memory.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    v.max(0)
}

/// For each task of each pid: can its `environ` and `mem` be opened, can
/// it be ptraced, and (with `kill`) can it be sent SIGKILL.
const PROBE: &str = r#"import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
kill = sys.argv[1] == "kill"
for pid in sys.argv[2:]:
    for tid in sorted(os.listdir(f"/proc/{pid}/task")):
        r = {"pid": pid, "tid": tid}
        for f in ("environ", "mem"):
            try:
                open(f"/proc/{pid}/task/{tid}/{f}", "rb").close()
                r[f] = "opened"
            except OSError as e:
                r[f] = e.strerror
        if libc.ptrace(0x4206, int(tid), 0, 0) == 0:
            r["ptrace"] = "attached"
            libc.ptrace(17, int(tid), 0, 0)
        else:
            r["ptrace"] = os.strerror(ctypes.get_errno())
        if kill:
            try:
                os.kill(int(tid), 9)
                r["kill"] = "sent"
            except OSError as e:
                r["kill"] = e.strerror
        print(json.dumps(r))
"#;

#[test]
fn an_agent_cannot_read_keys_ptrace_or_kill_the_worker_or_its_tool_host() {
    let test = "containment::an_agent_cannot_read_keys_ptrace_or_kill_the_worker_or_its_tool_host";
    let u = match unprivileged() {
        Ok(u) => u,
        Err(why) => return skip_loudly(test, &why),
    };
    let abi = landlock_abi();
    let kill = if abi >= 6 {
        "kill"
    } else {
        skip_loudly(
            test,
            &format!(
                "Landlock ABI {abi} has no signal scoping (ABI 6, Linux 6.12): not trying kill -9"
            ),
        );
        "nokill"
    };
    let b = Bench::new(30);
    let (_h, home) = u.dir();
    let (_w, dir) = u.dir();
    std::fs::write(dir.join("probe.py"), PROBE).unwrap();
    let key = format!("KEY-{:016x}", fastrand::u64(..));
    let api_key = format!("sk-ant-{:016x}", fastrand::u64(..));
    // Patterns that match the keys without holding them (a grep's own
    // command line must not match).
    let hidden = |k: &str| format!("{}[{}]", &k[..k.len() - 1], &k[k.len() - 1..]);
    let (key_re, api_re) = (hidden(&key), hidden(&api_key));
    let session = b.session(&b.agent(None));
    let mut w = u.worker(
        &b,
        &home,
        &["poll", "--workdir", path_str(&dir), "--max-idle", "60s"],
        |c| {
            c.env("ANTHROPIC_ENVIRONMENT_KEY", &key)
                .env("ANTHROPIC_API_KEY", &api_key)
                .args(["--environment-key", &key]);
        },
    );
    let worker = w.child.id();
    b.say(
        &session,
        &format!(
            "/bash python3 probe.py {kill} $PPID {worker}\n\
             /bash grep -ls -e '{key_re}' -e '{api_re}' /proc/[0-9]*/environ /proc/[0-9]*/task/*/environ; echo rc=$?\n\
             /bash tr '\\0' ' ' < /proc/{worker}/cmdline\n\
             /bash echo alive"
        ),
    );
    b.wait_turn(&session, QUICK);
    let r = b.results(&session);
    assert_eq!(r.len(), 4, "{r:?}\n{}", w.log());
    let probes: Vec<Value> = r[0]
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pids: std::collections::BTreeSet<&str> =
        probes.iter().map(|p| p["pid"].as_str().unwrap()).collect();
    assert_eq!(pids.len(), 2, "the host and the worker: {}", r[0]);
    for p in &probes {
        for f in ["environ", "mem"] {
            assert_ne!(p[f], "opened", "{f} of {p}");
        }
        assert_eq!(p["ptrace"], "Operation not permitted", "{p}");
        if kill == "kill" {
            assert_eq!(p["kill"], "Operation not permitted", "{p}");
        }
    }
    assert!(!r[1].contains("/proc/"), "a key is readable: {}", r[1]);
    assert!(
        !r[2].contains(&key),
        "the key on the command line: {}",
        r[2]
    );
    assert!(r[2].contains("--environment-key ***"), "{}", r[2]);
    assert_eq!(r[3], "alive\n\n", "the shell still works");
    // Nor can any process of that user outside the sandbox read a key.
    let outside = u
        .command(Path::new("/bin/sh"))
        .args(["-c", &format!(
            "grep -ls -e '{key_re}' -e '{api_re}' /proc/[0-9]*/environ /proc/[0-9]*/task/*/environ /proc/[0-9]*/cmdline"
        )])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    let found = String::from_utf8_lossy(&outside.stdout);
    assert!(found.trim().is_empty(), "readable as the user: {found}");
    // The session ends normally, and so does the worker.
    assert!(w.term(QUICK).success(), "{}", w.log());
    assert!(w.log().contains("msg=\"session ended\""), "{}", w.log());
}

/// Swaps `a` and `b` (a directory and a symlink) until `stop`.
fn swap_until(a: PathBuf, b: PathBuf, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let (a, b) = (
        std::ffi::CString::new(a.into_os_string().into_encoded_bytes()).unwrap(),
        std::ffi::CString::new(b.into_os_string().into_encoded_bytes()).unwrap(),
    );
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        // SAFETY: renameat2 reads the two paths we own.
        unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
    }
}

#[test]
fn a_racing_symlink_never_leads_skill_set_up_or_cleanup_out_of_the_workdir() {
    let test =
        "containment::a_racing_symlink_never_leads_skill_set_up_or_cleanup_out_of_the_workdir";
    let u = match unprivileged() {
        Ok(u) => u,
        Err(why) => return skip_loudly(test, &why),
    };
    let server = super::worker_tools::skill_server();
    let (_h, home) = u.dir();
    let (_w, dir) = u.dir();
    let (_o, outside) = u.dir();
    std::fs::create_dir_all(outside.join("pdf")).unwrap();
    std::fs::write(outside.join("pdf/keep.txt"), "mine").unwrap();
    std::fs::create_dir(dir.join("skills")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("skills.alt")).unwrap();
    for p in [
        dir.join("skills"),
        outside.join("pdf"),
        outside.join("pdf/keep.txt"),
    ] {
        std::os::unix::fs::chown(&p, Some(u.uid), Some(u.uid)).unwrap();
    }
    // A process the agent left behind swaps `skills` with a link out.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let racer = {
        let (a, b, stop) = (dir.join("skills"), dir.join("skills.alt"), stop.clone());
        std::thread::spawn(move || swap_until(a, b, stop))
    };
    let mut escaped = None;
    for run in 0..12 {
        let out = u
            .command(&u.ant)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("TMPDIR", &home)
            .env("ANTHROPIC_BASE_URL", &server.url)
            .env("ANTHROPIC_ENVIRONMENT_KEY", "env-key")
            .args(["beta:worker", "run", "--environment-id", "env_1"])
            .args(["--work-id", "work_1", "--session-id", "sesn_1"])
            .args(["--workdir", path_str(&dir), "--max-idle", "100ms"])
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        let touched = !outside.join("pdf/keep.txt").exists()
            || outside.join("pdf/SKILL.md").exists()
            || outside.join("SKILL.md").exists();
        if touched || !out.status.success() {
            escaped = Some(format!("run {run}: exit {:?}\n{log}", out.status));
            break;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    racer.join().unwrap();
    if let Some(what) = escaped {
        let listing: Vec<_> = walk(&outside);
        panic!("set-up or cleanup acted outside the workdir: {listing:?}\n{what}");
    }
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        out.push(e.path().display().to_string());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&e.path()));
        }
    }
    out
}

/// Forks up to N children that wait, then says how many it got.
const FORKS: &str = r#"import os, sys, time
pids = []
try:
    for _ in range(int(sys.argv[1])):
        pid = os.fork()
        if pid == 0:
            time.sleep(5)
            os._exit(0)
        pids.append(pid)
    print("all", len(pids))
except OSError:
    print("refused after", len(pids))
for pid in pids:
    os.kill(pid, 9)
"#;

#[test]
fn the_tools_get_the_process_and_file_limits_asked_for() {
    let test = "containment::the_tools_get_the_process_and_file_limits_asked_for";
    let u = match unprivileged() {
        Ok(u) => u,
        Err(why) => return skip_loudly(test, &why),
    };
    let b = Bench::new(30);
    let (_h, home) = u.dir();
    let (_w, dir) = u.dir();
    std::fs::write(dir.join("forks.py"), FORKS).unwrap();
    let session = b.session(&b.agent(None));
    let mut w = u.worker(
        &b,
        &home,
        &[
            "poll",
            "--workdir",
            path_str(&dir),
            "--max-open-files",
            "64",
            "--max-processes",
            "40",
        ],
        |_| {},
    );
    b.say(
        &session,
        "/bash ulimit -n; ulimit -Hn; ulimit -u\n/bash python3 forks.py 200",
    );
    b.wait_turn(&session, QUICK);
    let r = b.results(&session);
    let limits: Vec<u64> = r[0]
        .split_whitespace()
        .map(|n| n.parse().expect(&r[0]))
        .collect();
    assert_eq!(&limits[..2], [64, 64], "{}", r[0]);
    assert!(limits[2] >= 40, "{}", r[0]);
    let forked: u64 = r[1]
        .strip_prefix("refused after ")
        .and_then(|n| n.trim().parse().ok())
        .expect(&r[1]);
    assert!(forked <= 40, "{}", r[1]);
    assert!(w.term(QUICK).success(), "{}", w.log());
}

/// The parent of a process (`/proc/PID/stat`, readable whoever owns it).
fn parent(pid: &str) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Waits until the worker has started a tool host, and returns its pid.
pub fn tool_host(worker: u32) -> i32 {
    let mut host = 0;
    wait_until("the tool host", QUICK, || {
        let procs = std::fs::read_dir("/proc").unwrap().flatten();
        host = procs
            .filter_map(|e| e.file_name().to_str().map(String::from))
            .filter(|p| parent(p) == Some(worker))
            .find(|p| {
                std::fs::read(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|c| c.windows(9).any(|w| w == b"tool-host"))
            })
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        host != 0
    });
    host
}

//! Landlock confinement of a session's tool host (and, in a nested domain,
//! of the bash shell and every process it starts): write access only to the session's
//! workdir and private temporary directory; read access to the system but
//! not to the user's home directory outside the workdir (no `~/.ssh`, no
//! `~/.config/anthropic`), nor to ant's config directory wherever it is,
//! nor (with `--max-sessions`) to the other sessions' directories and
//! temporary directories; no signals to processes outside the sandbox and
//! no abstract Unix sockets made outside it (where the kernel has Landlock
//! ABI 6). Landlock only grants, so "everything but these" is spelled as:
//! every entry of each directory on the way down to a hidden path except
//! the next step towards it.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope,
};

/// The newest rights this worker grants explicitly (older kernels drop
/// what they lack; newer rights stay unhandled, hence allowed).
const ABI_USED: ABI = ABI::V5;
/// The newest scopes used (signals, abstract Unix sockets).
const SCOPE_ABI: ABI = ABI::V6;

/// Device files a shell needs to write to (`2>/dev/null`, the terminal).
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
];

/// What a confined session may touch.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub read_write: Vec<PathBuf>,
    pub read_only: Vec<PathBuf>,
    pub devices: Vec<PathBuf>,
}

/// `p` made absolute and symlink-resolved where it exists.
fn resolved(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    abs.canonicalize().unwrap_or(abs)
}

/// What no session may read: `$HOME` and ant's config directory (which
/// holds the credentials, and may lie outside `$HOME`), plus `extra`.
pub fn private_dirs(extra: &[PathBuf]) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute());
    home.into_iter()
        .chain(crate::auth::store::config_dir())
        .chain(extra.iter().cloned())
        .map(|p| resolved(&p))
        .collect()
}

impl Rules {
    /// The rules for a session: read-write `workdir` and `tmp`; read-only
    /// everything except the `hidden` directories.
    pub fn for_session(workdir: &Path, tmp: &Path, hidden: &[PathBuf]) -> Rules {
        Rules {
            read_write: vec![workdir.to_path_buf(), tmp.to_path_buf()],
            read_only: readable_except(hidden),
            devices: DEVICES.iter().map(PathBuf::from).collect(),
        }
    }
}

/// Paths covering the whole filesystem except the `hidden` directories
/// (absolute, symlink-resolved) and what is below them. Symlinks on the
/// way are left out: a grant through one would cover its target, which may
/// hold a hidden path (`/home -> /var/home`); targets are covered where
/// they really are.
pub fn readable_except(hidden: &[PathBuf]) -> Vec<PathBuf> {
    let hidden: Vec<&Path> = hidden
        .iter()
        .map(PathBuf::as_path)
        .filter(|h| h.is_absolute() && *h != Path::new("/"))
        .collect();
    if hidden.is_empty() {
        return vec![PathBuf::from("/")];
    }
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::from("/")];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let link = e.file_type().is_ok_and(|t| t.is_symlink());
            // A grant covers what the path resolves to.
            let target = if link { resolved(&path) } else { path.clone() };
            if hidden.iter().any(|h| target.starts_with(h)) {
                continue;
            }
            if hidden.iter().any(|h| h.starts_with(&target)) {
                // On the way to a hidden path: walk the real directory.
                if !link {
                    todo.push(path);
                }
                continue;
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

/// One rule, with the rights a non-directory can hold when it is a file.
fn rule(path: &Path, rights: BitFlags<AccessFs>) -> Option<PathBeneath<PathFd>> {
    let fd = PathFd::new(path).ok()?;
    let is_dir = std::fs::metadata(path).is_ok_and(|m| m.is_dir());
    let rights = if is_dir {
        rights
    } else {
        rights & AccessFs::from_file(ABI_USED)
    };
    Some(PathBeneath::new(fd, rights))
}

/// A ruleset for `rules`, ready to be enforced (by this thread or, as an
/// fd, by a process before it runs a program).
fn ruleset(rules: &Rules) -> Result<RulesetCreated, String> {
    let read = AccessFs::from_read(ABI_USED);
    let all = AccessFs::from_all(ABI_USED);
    let device = read | AccessFs::WriteFile | AccessFs::IoctlDev | AccessFs::Truncate;
    let mut created = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)
        .and_then(|r| r.scope(Scope::from_all(SCOPE_ABI)))
        .and_then(|r| r.create())
        .map_err(|e| e.to_string())?;
    let wanted = rules
        .read_only
        .iter()
        .map(|p| (p, read))
        .chain(rules.devices.iter().map(|p| (p, device)))
        .chain(rules.read_write.iter().map(|p| (p, all)));
    for (path, rights) in wanted {
        if let Some(r) = rule(path, rights) {
            created = created.add_rule(r).map_err(|e| e.to_string())?;
        }
    }
    Ok(created)
}

/// Confines the calling thread (and what it starts later) to `rules`.
pub fn restrict_thread(rules: &Rules) -> Result<(), String> {
    let status = ruleset(rules)?.restrict_self().map_err(|e| e.to_string())?;
    match status.ruleset {
        RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced => Ok(()),
        RulesetStatus::NotEnforced => Err("this kernel does not enforce Landlock".into()),
    }
}

/// The threads of this process.
pub fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

/// A Landlock domain nested in the tool host's, for the programs the host
/// starts (bash, ripgrep). Nesting is what keeps them from the host: a
/// process may ptrace, signal or read `/proc/PID/{mem,environ}` only of
/// processes in its own domain or in domains nested below it.
#[derive(Debug)]
pub struct Nest(OwnedFd);

impl Nest {
    /// What a started process runs before its program (`pre_exec`): enter
    /// the nested domain. One system call, safe between fork and exec.
    pub fn hook(&self) -> impl Fn() -> std::io::Result<()> + Send + Sync + 'static {
        let fd = self.0.as_raw_fd();
        move || {
            // SAFETY: landlock_restrict_self reads no memory; the ruleset fd
            // stays open while the host (which owns the Nest) runs.
            let rc = unsafe { libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) };
            if rc == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        }
    }
}

/// Confines this whole process to `rules`: `no_new_privs`, then Landlock.
/// Landlock applies to the calling thread and the threads it starts later,
/// so this must run while the process has its one thread (the tool host
/// calls it first thing). Returns the [`Nest`] for the programs it starts.
pub fn confine_process(rules: &Rules) -> Result<Nest, String> {
    match threads() {
        1 => {}
        n => {
            return Err(format!(
                "the process has {n} threads; Landlock would confine only one of them"
            ));
        }
    }
    let nested: Option<OwnedFd> = ruleset(rules)?.into();
    let nested = nested.ok_or("this kernel does not enforce Landlock")?;
    restrict_thread(rules)?;
    Ok(Nest(nested))
}

/// Makes this process not dumpable: other processes of the same user can
/// then neither ptrace it nor open its `/proc/PID/{mem,environ,fd}` (the
/// files become root's), and it writes no core dump. An `exec` resets it.
pub fn not_dumpable() -> Result<(), String> {
    use rustix::process::{DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit};
    set_dumpable_behavior(DumpableBehavior::NotDumpable)
        .map_err(|e| format!("cannot make the process not dumpable: {e}"))?;
    let none = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    setrlimit(Resource::Core, none).map_err(|e| format!("cannot turn off core dumps: {e}"))
}

/// Whether Landlock works here (tried on a throwaway thread).
pub fn probe() -> Result<(), String> {
    std::thread::spawn(|| {
        let rules = Rules {
            read_write: vec![],
            read_only: vec![PathBuf::from("/")],
            devices: vec![],
        };
        restrict_thread(&rules)
    })
    .join()
    .unwrap_or_else(|_| Err("the Landlock probe panicked".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_but_home_is_readable() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path().canonicalize().unwrap();
        for d in ["home/me/.ssh", "home/other", "etc"] {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        let list = readable_except(&[base.join("home/me")]);
        assert!(list.contains(&base.join("etc")));
        assert!(list.contains(&base.join("home/other")));
        assert!(!list.iter().any(|p| p.starts_with(base.join("home/me"))));
        assert!(
            !list.contains(&base.join("home")),
            "only siblings on the way"
        );
        assert_eq!(readable_except(&[]), vec![PathBuf::from("/")]);
        assert_eq!(
            readable_except(&[PathBuf::from("/")]),
            vec![PathBuf::from("/")]
        );
    }

    #[test]
    fn several_paths_are_hidden_and_links_to_them_are_not_granted() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path().canonicalize().unwrap();
        for d in [
            "var/home/me/.ssh",
            "var/lib",
            "conf/anthropic",
            "conf/other",
        ] {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        // As on Fedora Silverblue: /home -> var/home, and a link into home.
        std::os::unix::fs::symlink("var/home", base.join("home")).unwrap();
        std::os::unix::fs::symlink(base.join("var/home/me/.ssh"), base.join("keys")).unwrap();
        std::os::unix::fs::symlink("var/lib", base.join("lib")).unwrap();
        let hidden = [base.join("var/home/me"), base.join("conf/anthropic")];
        let list = readable_except(&hidden);
        for h in &hidden {
            assert!(!list.iter().any(|p| p.starts_with(h)), "{h:?}: {list:?}");
        }
        for link in ["home", "keys"] {
            assert!(
                !list.contains(&base.join(link)),
                "{link} leads to a hidden path"
            );
        }
        for readable in ["conf/other", "var/lib", "lib"] {
            assert!(list.contains(&base.join(readable)), "{readable}: {list:?}");
        }
    }

    /// A session's directories: its workdir, TMPDIR and a home holding a
    /// secret, all in a fresh temporary directory (`base`).
    struct Session {
        base: PathBuf,
        work: PathBuf,
        tmp: PathBuf,
        home: PathBuf,
    }

    fn session() -> (tempfile::TempDir, Session, Rules) {
        let t = tempfile::tempdir().unwrap();
        let base = t.path().canonicalize().unwrap();
        let (work, tmp, home) = (base.join("work"), base.join("tmp"), base.join("home"));
        for d in [&work, &tmp, &home] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(home.join("secret"), "s").unwrap();
        let rules = Rules::for_session(&work, &tmp, std::slice::from_ref(&home));
        let dirs = Session {
            base,
            work,
            tmp,
            home,
        };
        (t, dirs, rules)
    }

    #[test]
    fn a_confined_thread_cannot_write_outside_or_read_home() {
        if let Err(why) = probe() {
            eprintln!("skipped: Landlock is not available here ({why})");
            return;
        }
        let (
            _t,
            Session {
                base,
                work,
                tmp,
                home,
            },
            rules,
        ) = session();
        let outcome = std::thread::spawn(move || {
            restrict_thread(&rules).unwrap();
            (
                std::fs::write(work.join("ok"), "x").is_ok(),
                std::fs::write(tmp.join("ok"), "x").is_ok(),
                std::fs::write(base.join("escape"), "x").is_err(),
                std::fs::read(home.join("secret")).is_err(),
                std::fs::read("/etc/hostname").is_ok() || !Path::new("/etc/hostname").exists(),
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/null")
                    .is_ok(),
            )
        })
        .join()
        .unwrap();
        assert_eq!(outcome, (true, true, true, true, true, true));
    }

    /// The kernel's Landlock ABI version (0: none).
    fn kernel_abi() -> i64 {
        // SAFETY: LANDLOCK_CREATE_RULESET_VERSION reads no memory.
        unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<u8>(),
                0usize,
                1u32,
            )
        }
    }

    #[test]
    fn a_confined_thread_cannot_signal_processes_outside_its_sandbox() {
        if probe().is_err() || kernel_abi() < 6 {
            eprintln!("skipped: this kernel has no Landlock signal scoping (ABI 6)");
            return;
        }
        let mut outside = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = outside.id() as libc::pid_t;
        let rules = Rules::for_session(Path::new("/nonexistent"), Path::new("/nonexistent"), &[]);
        let errno = std::thread::spawn(move || {
            restrict_thread(&rules).unwrap();
            // SAFETY: signal 0 only checks permission.
            let rc = unsafe { libc::kill(pid, 0) };
            (rc == -1).then(|| std::io::Error::last_os_error().raw_os_error())
        })
        .join()
        .unwrap();
        let _ = outside.kill();
        let _ = outside.wait();
        assert_eq!(errno, Some(Some(libc::EPERM)));
    }

    #[test]
    fn a_confined_process_and_its_nested_programs_stay_inside() {
        if let Err(why) = probe() {
            eprintln!("skipped: Landlock is not available here ({why})");
            return;
        }
        // In a child process (the test harness has several threads): the
        // ignored test below, run there alone.
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "worker::confine::tests::child_confines_itself",
                "--ignored",
                "--test-threads=1",
                "--nocapture",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("1 passed"),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    #[ignore = "run by a_confined_process_and_its_nested_programs_stay_inside"]
    fn child_confines_itself() {
        let (
            _t,
            Session {
                base, work, home, ..
            },
            rules,
        ) = session();
        // libtest runs each test on a thread of its own: confining the whole
        // process is refused, as Landlock would confine only one thread.
        assert!(threads() > 1);
        let refused = confine_process(&rules).unwrap_err();
        assert!(
            refused.contains("threads; Landlock would confine only one"),
            "{refused}"
        );
        // What confine_process does on the host's one thread, on this one.
        let nested: Option<OwnedFd> = ruleset(&rules).unwrap().into();
        let nest = Nest(nested.unwrap());
        restrict_thread(&rules).unwrap();
        assert!(std::fs::read(home.join("secret")).is_err());
        assert!(std::fs::write(work.join("ok"), "x").is_ok());
        // A program started in the nested domain stays inside as well, and
        // cannot signal this process (where the kernel scopes signals).
        let script = format!(
            "cat {home}/secret 2>/dev/null && echo read; echo x 2>/dev/null >{base}/out && echo wrote; \
             kill -0 {pid} 2>/dev/null && echo signalled; echo done",
            home = home.display(),
            base = base.display(),
            pid = std::process::id()
        );
        let mut cmd = std::process::Command::new("/bin/sh");
        cmd.args(["-c", &script]);
        // SAFETY: the hook is one system call.
        unsafe { std::os::unix::process::CommandExt::pre_exec(&mut cmd, nest.hook()) };
        let out = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
        let expected = if kernel_abi() >= 6 {
            "done\n"
        } else {
            "signalled\ndone\n"
        };
        assert_eq!(out, expected);
        assert!(!base.join("out").exists());
    }
}

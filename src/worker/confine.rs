//! Landlock confinement of a session's tool thread (and so of the bash
//! shell and every process it starts): write access only to the session's
//! workdir and private temporary directory; read access to the system but
//! not to the user's home directory outside the workdir (no `~/.ssh`, no
//! `~/.config/anthropic`). Landlock only grants, so "everything but home"
//! is spelled as: every entry of each directory on the way down to `$HOME`
//! except the next step towards it.

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus,
};

/// The newest rights this worker grants explicitly (older kernels drop
/// what they lack; newer rights stay unhandled, hence allowed).
const ABI_USED: ABI = ABI::V5;

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

impl Rules {
    /// The rules for a session: read-write `workdir` and `tmp`; read-only
    /// everything except `$HOME`.
    pub fn for_session(workdir: &Path, tmp: &Path) -> Rules {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|h| h.is_absolute())
            .map(|h| h.canonicalize().unwrap_or(h));
        Rules {
            read_write: vec![workdir.to_path_buf(), tmp.to_path_buf()],
            read_only: readable_except(home.as_deref()),
            devices: DEVICES.iter().map(PathBuf::from).collect(),
        }
    }
}

/// Paths covering the whole filesystem except `hidden` (and below it).
pub fn readable_except(hidden: Option<&Path>) -> Vec<PathBuf> {
    let Some(hidden) = hidden.filter(|h| *h != Path::new("/")) else {
        return vec![PathBuf::from("/")];
    };
    let mut out = Vec::new();
    let mut dir = PathBuf::from("/");
    for step in hidden.components().skip(1) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            break;
        };
        for e in entries.flatten() {
            if e.file_name() != step.as_os_str() {
                out.push(e.path());
            }
        }
        dir.push(step);
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

/// Confines the calling thread (and what it starts later) to `rules`.
pub fn restrict_thread(rules: &Rules) -> Result<(), String> {
    let read = AccessFs::from_read(ABI_USED);
    let all = AccessFs::from_all(ABI_USED);
    let device = read | AccessFs::WriteFile | AccessFs::IoctlDev | AccessFs::Truncate;
    let mut created = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)
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
    let status = created.restrict_self().map_err(|e| e.to_string())?;
    match status.ruleset {
        RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced => Ok(()),
        RulesetStatus::NotEnforced => Err("this kernel does not enforce Landlock".into()),
    }
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
        let list = readable_except(Some(&base.join("home/me")));
        assert!(list.contains(&base.join("etc")));
        assert!(list.contains(&base.join("home/other")));
        assert!(!list.iter().any(|p| p.starts_with(base.join("home/me"))));
        assert!(
            !list.contains(&base.join("home")),
            "only siblings on the way"
        );
        assert_eq!(readable_except(None), vec![PathBuf::from("/")]);
        assert_eq!(
            readable_except(Some(Path::new("/"))),
            vec![PathBuf::from("/")]
        );
    }

    #[test]
    fn a_confined_thread_cannot_write_outside_or_read_home() {
        if let Err(why) = probe() {
            eprintln!("skipped: Landlock is not available here ({why})");
            return;
        }
        let t = tempfile::tempdir().unwrap();
        let base = t.path().canonicalize().unwrap();
        let (work, tmp, home) = (base.join("work"), base.join("tmp"), base.join("home"));
        for d in [&work, &tmp, &home] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(home.join("secret"), "s").unwrap();
        let rules = Rules {
            read_write: vec![work.clone(), tmp.clone()],
            read_only: readable_except(Some(&home)),
            devices: DEVICES.iter().map(PathBuf::from).collect(),
        };
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
}

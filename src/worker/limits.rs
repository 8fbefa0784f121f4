//! Resource limits of a session's tool host, inherited by everything the
//! agent runs (`--max-processes`, `--max-open-files`): a fork bomb or a
//! descriptor leak in the agent's commands stops at the limit instead of
//! taking the machine (or the user's session) down with it.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use serde::{Deserialize, Serialize};

/// Default of `--max-processes`.
pub const DEFAULT_PROCESSES: u64 = 1024;
/// Default of `--max-open-files`.
pub const DEFAULT_OPEN_FILES: u64 = 1024;

/// The limits asked for (`None`: leave the inherited limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Processes and threads the agent may add to those the user already
    /// runs (`RLIMIT_NPROC` counts every task of the user).
    pub processes: Option<u64>,
    /// Open files per process (`RLIMIT_NOFILE`).
    pub open_files: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            processes: Some(DEFAULT_PROCESSES),
            open_files: Some(DEFAULT_OPEN_FILES),
        }
    }
}

/// The tasks (processes and threads) whose real user is `uid`, as the
/// kernel counts them for `RLIMIT_NPROC`.
pub fn user_tasks(uid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for e in dir.flatten() {
        if !e
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(e.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        if field("Uid:") == Some(u64::from(uid)) {
            total += field("Threads:").unwrap_or(1);
        }
    }
    total
}

/// Lowers `resource` to `value` (soft and hard, so the agent cannot raise
/// it back), never above the current hard limit.
fn lower(resource: Resource, value: u64) -> Result<u64, String> {
    let hard = getrlimit(resource).maximum;
    let value = hard.map_or(value, |h| value.min(h));
    setrlimit(
        resource,
        Rlimit {
            current: Some(value),
            maximum: Some(value),
        },
    )
    .map_err(|e| format!("cannot set {resource:?} to {value}: {e}"))?;
    Ok(value)
}

/// Applies `limits` to this process (the tool host, before it starts
/// anything).
pub fn apply(limits: &Limits) -> Result<(), String> {
    if let Some(n) = limits.open_files {
        lower(Resource::Nofile, n)?;
    }
    if let Some(n) = limits.processes {
        let uid = rustix::process::getuid().as_raw();
        lower(Resource::Nproc, user_tasks(uid).saturating_add(n))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_counts_among_its_users_tasks() {
        let uid = rustix::process::getuid().as_raw();
        assert!(user_tasks(uid) >= 1);
    }

    #[test]
    fn limits_are_lowered_in_a_child_and_never_raised() {
        // In a child process, so this test process keeps its limits.
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "worker::limits::tests::child_lowers_its_limits",
                "--nocapture",
                "--ignored",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("1 passed"), "{text}");
    }

    #[test]
    #[ignore = "run by limits_are_lowered_in_a_child_and_never_raised"]
    fn child_lowers_its_limits() {
        let before = getrlimit(Resource::Nofile).maximum;
        let uid = rustix::process::getuid().as_raw();
        let tasks_before = user_tasks(uid);
        apply(&Limits {
            processes: Some(64),
            open_files: Some(100),
        })
        .unwrap();
        let nofile = getrlimit(Resource::Nofile);
        assert_eq!((nofile.current, nofile.maximum), (Some(100), Some(100)));
        // The user's other processes come and go while this runs (the
        // tests run as root beside everything else), so the count `apply`
        // saw is only known to be near the ones seen before and after.
        let nproc = getrlimit(Resource::Nproc).current.unwrap();
        let seen = tasks_before.max(user_tasks(uid));
        assert!(
            nproc > 64 && nproc <= 2 * seen + 64,
            "{nproc} (tasks seen: {seen})"
        );
        // Asking for more than the hard limit gets the hard limit.
        assert_eq!(lower(Resource::Nofile, 1 << 40).unwrap(), 100);
        assert!(before.is_none_or(|b| b >= 100));
    }
}

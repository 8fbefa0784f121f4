//! The config directory shared with the official CLI and SDKs: where it is,
//! which files a profile has (`configs/<p>.json`, `credentials/<p>.json`,
//! `active_config`), and how they are read and written (atomic, with the
//! official modes, never through a symlink).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

/// An environment variable, when set and not empty.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `$ANTHROPIC_CONFIG_DIR`, else `$XDG_CONFIG_HOME/anthropic`, else `~/.config/anthropic`.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(d) = env("ANTHROPIC_CONFIG_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = env("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(d).join("anthropic"));
    }
    env("HOME").map(|h| PathBuf::from(h).join(".config").join("anthropic"))
}

/// Paths under the config directory.
#[derive(Debug, Clone)]
pub struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    /// The config directory (`$ANTHROPIC_CONFIG_DIR`, `$XDG_CONFIG_HOME/anthropic`, `~/.config/anthropic`).
    pub fn find() -> Result<Layout> {
        config_dir().map(|dir| Layout { dir }).ok_or_else(|| {
            Error::usage(
                "cannot find the config directory: set ANTHROPIC_CONFIG_DIR, XDG_CONFIG_HOME or HOME",
            )
        })
    }

    pub fn configs(&self) -> PathBuf {
        self.dir.join("configs")
    }

    pub fn credentials_dir(&self) -> PathBuf {
        self.dir.join("credentials")
    }

    pub fn active_config(&self) -> PathBuf {
        self.dir.join("active_config")
    }

    pub fn config(&self, profile: &str) -> PathBuf {
        self.configs().join(format!("{profile}.json"))
    }

    /// The default credentials path (`credentials/<profile>.json`).
    pub fn credentials(&self, profile: &str) -> PathBuf {
        self.credentials_dir().join(format!("{profile}.json"))
    }

    /// Where a profile's credentials are read from: the config's
    /// `authentication.credentials_path` when set, else the default.
    pub fn credentials_for(&self, profile: &str, config: Option<&Value>) -> PathBuf {
        config
            .and_then(|c| c.pointer("/authentication/credentials_path"))
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| self.credentials(profile))
    }

    /// The profile named in `active_config`, if any.
    pub fn active_name(&self) -> Option<String> {
        std::fs::read_to_string(self.active_config())
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
}

/// Checks a profile name against `[A-Za-z0-9_.-]+`.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "invalid profile name {name:?}: use only letters, digits, '_', '.' and '-'"
        )))
    }
}

/// Reads a JSON file: `None` when it does not exist, an error when it cannot
/// be read or parsed.
pub fn read_json(path: &Path) -> Result<Option<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Io(format!("cannot read {}: {e}", path.display()))),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Other(format!("cannot parse {}: {e}", path.display())))
}

/// Refuses a credentials file that is a symlink or that group or other may
/// access, as the official SDK does before sending its token anywhere.
pub fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let p = path.display();
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::Io(format!("cannot read {p}: {e}"))),
    };
    if meta.file_type().is_symlink() {
        return Err(Error::Auth(format!(
            "credentials file {:?} is a symlink; refusing to read (point credentials_path at the file itself)",
            p.to_string()
        )));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::Auth(format!(
            "credentials file {:?} has unsafe permissions {mode:04o}; refusing to read \
             (must not be accessible by group or other; chmod 600 {p})",
            p.to_string()
        )));
    }
    Ok(())
}

/// Creates `dir` (and parents) with `mode` when missing.
fn ensure_dir(dir: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(|e| Error::Io(format!("cannot create {}: {e}", dir.display())))
}

/// Writes `bytes` to `path` atomically: a temporary file with `mode` in the
/// same directory, synced, then renamed over the target (and the directory
/// synced). The directory is created with `dir_mode` when missing. A target
/// that is a symlink is refused rather than replaced or written through.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32, dir_mode: u32) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::Io(format!(
            "refusing to write {}: target is a symlink",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .ok_or_else(|| Error::Io(format!("{} has no parent directory", path.display())))?;
    ensure_dir(dir, dir_mode)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{file_name}.tmp-{}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let io =
        |what: &str, e: std::io::Error| Error::Io(format!("cannot {what} {}: {e}", path.display()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .map_err(|e| io("write", e))?;
        // The umask may have masked bits off; set the exact mode.
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| io("set the mode of", e))?;
        f.write_all(bytes).map_err(|e| io("write", e))?;
        f.sync_all().map_err(|e| io("write", e))?;
        std::fs::rename(&tmp, path).map_err(|e| io("replace", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else if let Ok(d) = std::fs::File::open(dir) {
        // Make the rename itself durable.
        let _ = d.sync_all();
    }
    result
}

/// JSON as stored on disk: two-space indents and a final newline.
pub fn json_bytes(v: &Value) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(v).expect("json");
    s.push('\n');
    s.into_bytes()
}

/// Writes a profile config (`configs/<profile>.json`, 0644 in a 0755 directory).
pub fn write_config(layout: &Layout, profile: &str, config: &Value) -> Result<()> {
    write_atomic(&layout.config(profile), &json_bytes(config), 0o644, 0o755)
}

/// Writes credentials (0600; a new directory is 0700). ant's own
/// `credentials/` directory is tightened to 0700 too; a directory chosen
/// with `credentials_path` is left as it is.
pub fn write_credentials(layout: &Layout, path: &Path, creds: &Value) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let own = layout.credentials_dir();
    if path.parent() == Some(own.as_path())
        && let Ok(meta) = std::fs::metadata(&own)
        && meta.permissions().mode() & 0o077 != 0
    {
        let _ = std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o700));
    }
    write_atomic(path, &json_bytes(creds), 0o600, 0o700)
}

/// An exclusive advisory lock (`flock`) on a directory, held until dropped.
pub struct DirLock {
    _dir: std::fs::File,
}

/// Locks the directory holding `path`, so that `ant` processes renewing
/// the token stored there take turns: each reads the file again under the
/// lock, and a refresh token (which the server rotates on use) is never
/// spent twice. Waits at most `wait` for another holder; `None` when the
/// directory cannot be locked or the wait runs out (the caller goes on
/// unlocked rather than fail).
pub async fn lock_dir_of(path: &Path, wait: std::time::Duration) -> Option<DirLock> {
    let dir = std::fs::File::open(path.parent()?).ok()?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        match dir.try_lock() {
            Ok(()) => return Some(DirLock { _dir: dir }),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(_) => return None,
        }
    }
}

/// Makes `profile` the active one (`active_config`, holding `<profile>\n`).
pub fn write_active(layout: &Layout, profile: &str) -> Result<()> {
    write_atomic(
        &layout.active_config(),
        format!("{profile}\n").as_bytes(),
        0o644,
        0o755,
    )
}

/// Profile names with a `configs/<name>.json`, sorted.
pub fn profile_names(layout: &Layout) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(layout.configs()) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::Io(format!(
                "cannot read {}: {e}",
                layout.configs().display()
            )));
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json").map(String::from)
        })
        .filter(|n| check_name(n).is_ok())
        .collect();
    names.sort();
    Ok(names)
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A secret as `auth status` shows it: its kind and last four characters
/// (`sk-ant-api03-…abcd`, `…wxyz`), or only its length when it is short.
pub fn mask(secret: &str) -> String {
    let kind_len = secret
        .strip_prefix("sk-ant-")
        .and_then(|rest| rest.find('-'))
        .map(|i| "sk-ant-".len() + i + 1)
        .unwrap_or(0);
    let (kind, rest) = secret.split_at(kind_len);
    let n = rest.chars().count();
    if secret.is_empty() {
        "(empty)".to_string()
    } else if n < 16 {
        format!("(set, {} chars)", secret.chars().count())
    } else {
        let last: String = rest.chars().skip(n - 4).collect();
        format!("{kind}…{last}")
    }
}

pub use crate::http::date::rfc3339;

/// How long until (or since) `secs`, as the official CLI prints it (Go's
/// durations): `in 56s`, `in 1h2m0s`, `expired 5s ago`.
pub fn remaining(secs: i64) -> String {
    relative(secs.saturating_sub(now()))
}

fn relative(d: i64) -> String {
    let span = |s: i64| {
        let (h, m, s) = (s / 3600, s % 3600 / 60, s % 60);
        if h > 0 {
            format!("{h}h{m}m{s}s")
        } else if m > 0 {
            format!("{m}m{s}s")
        } else {
            format!("{s}s")
        }
    };
    if d <= 0 {
        format!("expired {} ago", span(d.saturating_neg()))
    } else {
        format!("in {}", span(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_read_like_go_durations() {
        assert_eq!(relative(56), "in 56s");
        assert_eq!(relative(3720), "in 1h2m0s");
        assert_eq!(relative(59 * 60 + 58), "in 59m58s");
        assert_eq!(relative(-5), "expired 5s ago");
        assert_eq!(relative(-(2 * 3600 + 5)), "expired 2h0m5s ago");
    }

    #[test]
    fn names_follow_the_official_pattern() {
        for ok in ["default", "work-1", "a.b_c", "X"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a/b", "..", ".", "a b", "é", "../x"] {
            assert_eq!(check_name(bad).unwrap_err().exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn secrets_show_only_their_kind_and_last_four_characters() {
        assert_eq!(
            mask("sk-ant-api03-0123456789abcdefghijABCD"),
            "sk-ant-api03-…ABCD"
        );
        assert_eq!(
            mask("sk-ant-oat01-ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            "sk-ant-oat01-…WXYZ"
        );
        assert_eq!(
            mask("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig-wxyz"),
            "…wxyz"
        );
        // Short secrets show only their length; so does a key whose
        // secret part is short.
        assert_eq!(mask("short"), "(set, 5 chars)");
        assert_eq!(mask("sk-ant-api03-abc"), "(set, 16 chars)");
        assert_eq!(mask(""), "(empty)");
    }

    #[test]
    fn writes_refuse_a_symlinked_target_and_leave_no_temporary_files() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.json");
        std::fs::write(&real, "{}").unwrap();
        let link = d.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = write_atomic(&link, b"x", 0o600, 0o700).unwrap_err();
        assert!(err.to_string().contains("target is a symlink"), "{err}");
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "{}");
        write_atomic(&real, b"new", 0o600, 0o700).unwrap();
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
    }

    #[test]
    fn group_or_world_readable_credentials_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.json");
        std::fs::write(&p, "{}").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = check_private(&p).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(
            err.to_string().contains("has unsafe permissions 0644; refusing to read (must not be accessible by group or other; chmod 600"),
            "{err}"
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        check_private(&p).unwrap();
    }
}

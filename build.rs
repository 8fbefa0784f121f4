//! Build information for `ant --version`, as `ant 0.1.0 (abc1234, 2026-12-06)`:
//! the commit when the source is a git checkout of this repository, and the
//! build date (`SOURCE_DATE_EPOCH` when set, for reproducible builds; else
//! today, UTC). Without git, or from a tarball, it names the date alone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// The crate's own date arithmetic (it has no dependencies).
#[allow(dead_code)]
#[path = "src/http/date.rs"]
mod date;

/// `git ARGS` in this package's directory: its trimmed output, if it worked.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The commit of HEAD, when this package is the top of a git checkout (not
/// a tarball unpacked inside some other repository). Also asks cargo to
/// rerun this script when HEAD moves.
fn commit() -> Option<String> {
    let here = std::fs::canonicalize(std::env::var("CARGO_MANIFEST_DIR").ok()?).ok()?;
    let top = std::fs::canonicalize(git(&["rev-parse", "--show-toplevel"])?).ok()?;
    if top != here {
        return None;
    }
    let watch = |p: PathBuf| {
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    };
    let git_dir = PathBuf::from(git(&["rev-parse", "--absolute-git-dir"])?);
    watch(git_dir.join("HEAD"));
    if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
        let common = here.join(Path::new(&common));
        watch(common.join("packed-refs"));
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch(common.join(branch));
        }
    }
    git(&["rev-parse", "--short=7", "HEAD"])
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/http/date.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    let date = date::rfc3339(secs)[..10].to_string();
    let info = match commit() {
        Some(c) => format!(" ({c}, {date})"),
        None => format!(" ({date})"),
    };
    println!("cargo:rustc-env=ANT_BUILD_INFO={info}");
}

//! The agent's skills, as the official worker sets them up: for each skill
//! of the session's agent, resolve its version (the highest numbered one
//! for `latest`), download the archive and extract it to
//! `<workdir>/skills/<name>`. Unlike the official worker, cleanup removes
//! only the folders extracted here, never the rest of `<workdir>/skills`.
//! This code runs unconfined in a directory the agent writes to (and where
//! a process it left behind may still be swapping names), so every step
//! after opening the workdir goes through directory descriptors
//! ([`Dir`]) and never follows a symlink: a `skills` that is (or becomes)
//! a link makes set-up or cleanup fail, never act outside the workdir.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::beneath::Dir;
use super::{Cancel, Ctx, archive};
use crate::error::{Error, Result};
use crate::http::body::next_chunk;

/// The folder skills are extracted to, in the workdir.
const BASE: &str = "skills";

/// What setup created, for cleanup.
#[derive(Debug, Default)]
pub struct Extracted {
    /// The workdir.
    pub workdir: PathBuf,
    /// Folders made in `<workdir>/skills`.
    pub folders: Vec<OsString>,
    /// `<workdir>/skills` did not exist before.
    pub created_base: bool,
}

/// What a failed step in the workdir means.
fn in_workdir(workdir: &Path, rel: &str, e: std::io::Error) -> Error {
    let path = workdir.join(rel);
    match e.raw_os_error() {
        Some(libc::ELOOP | libc::ENOTDIR) => Error::Other(format!(
            "{}: a symlink or not a directory; not following it out of the workdir",
            path.display()
        )),
        _ => Error::Io(format!("{}: {e}", path.display())),
    }
}

/// A skill's version as text (the API may send a number).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn numeric(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The highest all-digit version in a list of versions.
pub fn highest(versions: &[Value]) -> Option<String> {
    versions
        .iter()
        .map(|v| text(&v["version"]))
        .filter(|v| numeric(v))
        .max_by(|a, b| {
            let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            a.len().cmp(&b.len()).then_with(|| a.cmp(b))
        })
}

/// The folder name for a skill: the last component of its name, else its id.
pub fn folder(name: &str, skill_id: &str) -> String {
    let last = name.trim().rsplit('/').next().unwrap_or("");
    if last.is_empty() || last == "." || last == ".." || last.contains('\\') {
        skill_id.to_string()
    } else {
        last.to_string()
    }
}

pub async fn setup(
    ctx: &Ctx,
    session_id: &str,
    workdir: &Path,
    cancel: &Cancel,
) -> Result<Extracted> {
    let session = ctx.api.session(session_id).await?;
    let skills = session["agent"]["skills"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = Extracted {
        workdir: workdir.to_path_buf(),
        ..Default::default()
    };
    if skills.is_empty() {
        return Ok(out);
    }
    let root = Dir::open(workdir).map_err(|e| in_workdir(workdir, "", e))?;
    out.created_base = !root
        .exists(OsStr::new(BASE))
        .map_err(|e| in_workdir(workdir, BASE, e))?;
    let base = root
        .create_dirs(Path::new(BASE), 0o755)
        .map_err(|e| in_workdir(workdir, BASE, e))?;
    for skill in &skills {
        if cancel.is_cancelled() {
            break;
        }
        let id = text(&skill["skill_id"]);
        match one(ctx, &id, &text(&skill["version"]), &base).await {
            Ok(folder) => out.folders.push(folder),
            Err(e) => ctx.log.warn(
                "failed to download skill",
                &[("skill_id", id.into()), ("error", (&e).into())],
            ),
        }
    }
    Ok(out)
}

/// The most a skill download may be (compressed; extraction has its own
/// limits).
const MAX_DOWNLOAD: u64 = archive::MAX_BYTES;

async fn one(ctx: &Ctx, id: &str, version: &str, base: &Dir) -> Result<OsString> {
    let version = if numeric(version) {
        version.to_string()
    } else {
        let all = ctx.api.skill_versions(id).await?;
        highest(&all).ok_or_else(|| {
            Error::Other(format!(
                "skill {id:?} has no concrete version to resolve {version:?} against"
            ))
        })?
    };
    let meta = ctx.api.skill_version(id, &version).await?;
    let folder = OsString::from(folder(meta["name"].as_str().unwrap_or(""), id));
    let tmp = std::env::temp_dir().join(format!("ant-skill-{:016x}", fastrand::u64(..)));
    let result = async {
        let io = |e: std::io::Error| Error::Io(format!("{}: {e}", tmp.display()));
        let mut resp = ctx.api.skill_content(id, &version).await?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        let mut size = 0u64;
        while let Some(chunk) = next_chunk(&mut resp, false).await? {
            size += chunk.len() as u64;
            if size > MAX_DOWNLOAD {
                return Err(Error::Other(format!(
                    "skill {id:?}: the download is larger than {MAX_DOWNLOAD} bytes"
                )));
            }
            file.write_all(&chunk).map_err(io)?;
        }
        drop(file);
        let (archive_path, base, name) =
            (tmp.clone(), base.try_clone().map_err(io)?, folder.clone());
        tokio::task::spawn_blocking(move || {
            base.remove_all(&name).map_err(|e| e.to_string())?;
            let dest = base
                .create_dirs(Path::new(&name), 0o755)
                .map_err(|e| e.to_string())?;
            archive::extract(&archive_path, &dest).inspect_err(|_| {
                let _ = base.remove_all(&name);
            })
        })
        .await
        .map_err(|e| Error::Other(e.to_string()))?
        .map_err(Error::Other)
    }
    .await;
    let _ = std::fs::remove_file(&tmp);
    result.map(|()| folder)
}

/// Removes the extracted folders, and `<workdir>/skills` only when setup
/// created it and it is now empty. When `skills` is no longer a directory
/// (the tools replaced it with a link), nothing is removed, with an error.
pub fn cleanup(extracted: &Extracted) -> Result<()> {
    if extracted.folders.is_empty() && !extracted.created_base {
        return Ok(());
    }
    let workdir = &extracted.workdir;
    let root = Dir::open(workdir).map_err(|e| in_workdir(workdir, "", e))?;
    let base = match root.dir(Path::new(BASE)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(in_workdir(workdir, BASE, e)),
    };
    for folder in &extracted.folders {
        base.remove_all(folder)
            .map_err(|e| in_workdir(workdir, &format!("{BASE}/{}", folder.to_string_lossy()), e))?;
    }
    if extracted.created_base {
        // Only when empty: anything else there is the agent's.
        let _ = root.remove(OsStr::new(BASE));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_and_folders_resolve_like_the_official_worker() {
        let v = [
            json!({"version": "9"}),
            json!({"version": "10"}),
            json!({"version": "latest"}),
            json!({"version": 3}),
        ];
        assert_eq!(highest(&v).as_deref(), Some("10"));
        assert_eq!(highest(&[json!({"version": "x"})]), None);
        assert_eq!(folder("  team/pdf-tools ", "sk_1"), "pdf-tools");
        assert_eq!(folder("..", "sk_1"), "sk_1");
        assert_eq!(folder("a/", "sk_1"), "sk_1");
        assert_eq!(folder("a\\b", "sk_1"), "sk_1");
    }

    #[test]
    fn cleanup_keeps_what_it_did_not_extract() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path().join("skills");
        std::fs::create_dir_all(base.join("mine/x")).unwrap();
        std::fs::create_dir_all(base.join("users")).unwrap();
        let ex = Extracted {
            workdir: t.path().to_path_buf(),
            folders: vec!["mine".into()],
            created_base: true,
        };
        cleanup(&ex).unwrap();
        assert!(!base.join("mine").exists());
        assert!(
            base.join("users").exists(),
            "a folder the worker did not extract stays"
        );
    }

    #[test]
    fn cleanup_never_follows_a_symlink_out_of_the_workdir() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let (work, home) = (root.join("work"), root.join("home"));
        std::fs::create_dir_all(work.join("skills/pdf")).unwrap();
        std::fs::create_dir_all(home.join("pdf")).unwrap();
        std::fs::write(home.join("pdf/keep.txt"), "mine").unwrap();
        let extracted = Extracted {
            workdir: work.clone(),
            folders: vec!["pdf".into()],
            created_base: true,
        };
        // The tools swap `skills` for a link to the home directory.
        std::fs::remove_dir_all(work.join("skills")).unwrap();
        std::os::unix::fs::symlink(&home, work.join("skills")).unwrap();
        let err = cleanup(&extracted).unwrap_err().to_string();
        assert!(err.contains("not following it out of the workdir"), "{err}");
        assert!(
            home.join("pdf/keep.txt").exists(),
            "nothing outside removed"
        );
        // A folder that became a link is removed as a link.
        std::fs::remove_file(work.join("skills")).unwrap();
        std::fs::create_dir(work.join("skills")).unwrap();
        std::os::unix::fs::symlink(home.join("pdf"), work.join("skills/pdf")).unwrap();
        cleanup(&extracted).unwrap();
        assert!(home.join("pdf/keep.txt").exists());
        assert!(!work.join("skills").exists(), "made by setup, empty again");
    }
}

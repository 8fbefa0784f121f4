//! The agent's skills, as the official worker sets them up: for each skill
//! of the session's agent, resolve its version (the highest numbered one
//! for `latest`), download the archive and extract it to
//! `<workdir>/skills/<name>`. Unlike the official worker, cleanup removes
//! only the folders extracted here, never the rest of `<workdir>/skills`,
//! and neither setup nor cleanup follows a symlink out of the workdir (the
//! tools could have planted one: this code runs unconfined).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::tools::{Paths, guard};
use super::{Cancel, Ctx, archive};
use crate::error::{Error, Result};
use crate::http::body::next_chunk;

/// What setup created, for cleanup.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Symlink-free paths inside the workdir.
    pub dirs: Vec<PathBuf>,
    /// `<workdir>/skills`, when it did not exist before.
    pub created_base: Option<PathBuf>,
}

/// `<workdir>/<rel>` with every symlink resolved, or an error when that
/// leads out of the workdir (a `skills` link to the home directory, say).
pub fn inside(workdir: &Path, rel: &str) -> Result<PathBuf> {
    guard::check(&Paths::new(workdir, false), "skills", rel).map_err(Error::Other)
}

/// Whether `path` is still what setup resolved: no symlink on the way.
fn unmoved(path: &Path) -> bool {
    guard::resolve(path).as_deref() == Some(path)
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
    let mut out = Extracted::default();
    if skills.is_empty() {
        return Ok(out);
    }
    let base = inside(workdir, "skills")?;
    if !base.exists() {
        out.created_base = Some(base.clone());
    }
    for skill in &skills {
        if cancel.is_cancelled() {
            break;
        }
        let id = text(&skill["skill_id"]);
        match one(ctx, &id, &text(&skill["version"]), workdir).await {
            Ok(dir) => out.dirs.push(dir),
            Err(e) => ctx.log.warn(
                "failed to download skill",
                &[("skill_id", id.into()), ("error", (&e).into())],
            ),
        }
    }
    Ok(out)
}

async fn one(ctx: &Ctx, id: &str, version: &str, workdir: &Path) -> Result<PathBuf> {
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
    let folder = folder(meta["name"].as_str().unwrap_or(""), id);
    let dest = inside(workdir, &format!("skills/{folder}"))?;
    let tmp = std::env::temp_dir().join(format!("ant-skill-{:016x}", fastrand::u64(..)));
    let result = async {
        let mut resp = ctx.api.skill_content(id, &version).await?;
        let mut file = std::fs::File::create(&tmp)
            .map_err(|e| Error::Io(format!("{}: {e}", tmp.display())))?;
        while let Some(chunk) = next_chunk(&mut resp, false).await? {
            file.write_all(&chunk)
                .map_err(|e| Error::Io(format!("{}: {e}", tmp.display())))?;
        }
        drop(file);
        let (archive_path, dest2) = (tmp.clone(), dest.clone());
        tokio::task::spawn_blocking(move || {
            if dest2.exists() {
                std::fs::remove_dir_all(&dest2).map_err(|e| e.to_string())?;
            }
            std::fs::create_dir_all(&dest2).map_err(|e| e.to_string())?;
            archive::extract(&archive_path, &dest2).inspect_err(|_| {
                let _ = std::fs::remove_dir_all(&dest2);
            })
        })
        .await
        .map_err(|e| Error::Other(e.to_string()))?
        .map_err(Error::Other)
    }
    .await;
    let _ = std::fs::remove_file(&tmp);
    result.map(|()| dest)
}

/// Removes the extracted folders, and `<workdir>/skills` only when setup
/// created it and it is now empty. A folder that a symlink now diverts
/// (the tools replaced `skills` with a link) is left alone, with an error.
pub fn cleanup(extracted: &Extracted) -> std::io::Result<()> {
    let mut diverted = Vec::new();
    for d in &extracted.dirs {
        if !unmoved(d) {
            diverted.push(d.display().to_string());
            continue;
        }
        match std::fs::remove_dir_all(d) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    if let Some(base) = extracted.created_base.as_deref().filter(|b| unmoved(b)) {
        let _ = std::fs::remove_dir(base);
    }
    if !diverted.is_empty() {
        return Err(std::io::Error::other(format!(
            "not removed, a symlink now leads elsewhere: {}",
            diverted.join(", ")
        )));
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
            dirs: vec![base.join("mine")],
            created_base: Some(base.clone()),
        };
        cleanup(&ex).unwrap();
        assert!(!base.join("mine").exists());
        assert!(
            base.join("users").exists(),
            "a folder the worker did not extract stays"
        );
    }

    #[test]
    fn symlinks_cannot_lead_setup_or_cleanup_out_of_the_workdir() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let (work, home) = (root.join("work"), root.join("home"));
        std::fs::create_dir_all(work.join("skills/pdf")).unwrap();
        std::fs::create_dir_all(home.join("pdf")).unwrap();
        std::fs::write(home.join("pdf/keep.txt"), "mine").unwrap();
        assert_eq!(
            inside(&work, "skills/pdf").unwrap(),
            work.join("skills/pdf")
        );
        let extracted = Extracted {
            dirs: vec![work.join("skills/pdf")],
            created_base: Some(work.join("skills")),
        };
        // The tools swap `skills` for a link to the home directory.
        std::fs::remove_dir_all(work.join("skills")).unwrap();
        std::os::unix::fs::symlink(&home, work.join("skills")).unwrap();
        let err = cleanup(&extracted).unwrap_err().to_string();
        assert!(err.contains("a symlink now leads elsewhere"), "{err}");
        assert!(
            home.join("pdf/keep.txt").exists(),
            "nothing outside removed"
        );
        assert_eq!(
            inside(&work, "skills/pdf").unwrap_err().to_string(),
            "skills: path \"skills/pdf\" escapes workdir"
        );
    }
}

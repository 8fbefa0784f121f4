//! `skills`, `skills:versions` (GA and beta): a skill is a folder of files
//! uploaded as multipart `files[]` parts (their names are paths, such as
//! `my-skill/SKILL.md`); its `SKILL.md` front matter gives each version's
//! name and description; a version downloads as a zip of the same files.

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use super::{Answer, Reply, Req, newest_first};
use crate::store::{ApiError, Shared, SkillRec, SkillVersionRec, State, new_id, paginate};

/// A skill's files, `(path, bytes)`.
type Files = Vec<(String, Bytes)>;

/// The uploaded files as `(path, bytes)`, checked: relative paths without
/// `..`, no two alike, and a `SKILL.md` at the top of the folder (or of the
/// upload) whose front matter names the skill. Returns the files and the
/// front matter's `name` and `description`.
fn files(req: &Req) -> Result<(Files, String, String), ApiError> {
    let mut out: Files = Vec::new();
    for part in req.parts.iter().filter(|p| p.filename.is_some()) {
        let name = part.filename.clone().unwrap_or_default().replace('\\', "/");
        let bad = name.is_empty()
            || name.starts_with('/')
            || name
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..");
        if bad {
            return Err(ApiError::invalid(format!(
                "files: {name:?} is not a relative file path"
            )));
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(ApiError::invalid(format!("files: {name:?} is given twice")));
        }
        out.push((name, part.data.clone()));
    }
    if out.is_empty() {
        return Err(ApiError::invalid("files: at least one file is required"));
    }
    let top: Vec<&str> = out
        .iter()
        .map(|(n, _)| n.split('/').next().unwrap_or(""))
        .collect();
    let folder = (out.iter().all(|(n, _)| n.contains('/')) && top.iter().all(|t| *t == top[0]))
        .then(|| top[0].to_string());
    let skill_md = match &folder {
        Some(f) => format!("{f}/SKILL.md"),
        None => "SKILL.md".into(),
    };
    let Some((_, text)) = out.iter().find(|(n, _)| *n == skill_md) else {
        return Err(ApiError::invalid(format!(
            "files: a skill needs {skill_md} (at the top of its folder)"
        )));
    };
    let text = String::from_utf8_lossy(text).into_owned();
    let field = |key: &str| -> Option<String> {
        let head = text.strip_prefix("---")?.split("\n---").next()?;
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key).then(|| v.trim().trim_matches(['"', '\'']).to_string())
        })
    };
    let missing = |k: &str| {
        ApiError::invalid(format!(
            "{skill_md}: its front matter (between --- lines) needs `{k}:`"
        ))
    };
    let name = field("name")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("name"))?;
    let description = field("description")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("description"))?;
    Ok((out, name, description))
}

/// A version id as the API writes them: microseconds since the epoch.
fn version_id(st: &mut State) -> String {
    st.now();
    format!("{}{:03}", st.last_ms, fastrand::u16(..1000))
}

fn new_version(st: &mut State, skill_id: &str, req: &Req) -> Result<Value, ApiError> {
    let (files, name, description) = files(req)?;
    let now = st.now();
    let json = json!({
        "id": version_id(st),
        "type": "skill_version",
        "skill_id": skill_id,
        "name": name,
        "description": description,
        "created_at": now,
    });
    let skill = skill(st, skill_id)?;
    skill.versions.push(SkillVersionRec {
        json: json.clone(),
        files,
    });
    skill.json["latest_version_id"] = json["id"].clone();
    skill.json["updated_at"] = json["created_at"].clone();
    Ok(json)
}

fn skill<'a>(st: &'a mut State, id: &str) -> Result<&'a mut SkillRec, ApiError> {
    st.skills
        .iter_mut()
        .find(|s| s.json["id"] == id)
        .ok_or_else(|| ApiError::not_found("skill", id))
}

pub fn create(s: &Arc<Shared>, req: &Req) -> Answer {
    let (_, name, _) = files(req)?;
    let mut st = s.lock();
    let now = st.now();
    let id = new_id("skill");
    let display = req
        .field("display_name")
        .and_then(Value::as_str)
        .unwrap_or(&name);
    st.skills.push(SkillRec {
        json: json!({
            "id": id,
            "type": "skill",
            "display_name": display,
            "source": {"type": "custom"},
            "latest_version_id": "",
            "created_at": now,
            "updated_at": now,
        }),
        versions: Vec::new(),
    });
    new_version(&mut st, &id, req)?;
    Ok(Reply::ok(skill(&mut st, &id)?.json.clone()))
}

pub fn retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    Ok(Reply::ok(skill(&mut st, req.p("skill_id"))?.json.clone()))
}

pub fn list(s: &Arc<Shared>, req: &Req) -> Answer {
    let st = s.lock();
    let source = req.query.get("source").and_then(Value::as_str);
    let items = st
        .skills
        .iter()
        .filter(|s| source.is_none_or(|t| s.json["source"]["type"] == t))
        .map(|s| s.json.clone())
        .collect();
    Ok(Reply::ok(paginate(newest_first(items), &req.query, false)?))
}

/// Deletes the skill and its versions.
pub fn delete(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let id = req.p("skill_id").to_string();
    skill(&mut st, &id)?;
    st.skills.retain(|s| s.json["id"] != id.as_str());
    Ok(Reply::ok(json!({"id": id, "type": "skill_deleted"})))
}

pub fn version_create(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    skill(&mut st, req.p("skill_id"))?;
    Ok(Reply::ok(new_version(&mut st, req.p("skill_id"), req)?))
}

fn version<'a>(st: &'a mut State, req: &Req) -> Result<&'a mut SkillVersionRec, ApiError> {
    let v = req.p("version").to_string();
    skill(st, req.p("skill_id"))?
        .versions
        .iter_mut()
        .find(|x| x.json["id"] == v.as_str())
        .ok_or_else(|| ApiError::not_found("skill version", &v))
}

pub fn version_retrieve(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    Ok(Reply::ok(version(&mut st, req)?.json.clone()))
}

pub fn version_list(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let items = skill(&mut st, req.p("skill_id"))?
        .versions
        .iter()
        .map(|v| v.json.clone())
        .collect();
    Ok(Reply::ok(paginate(newest_first(items), &req.query, false)?))
}

/// Deletes a version; the skill's latest becomes the newest left.
pub fn version_delete(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let v = version(&mut st, req)?.json["id"].clone();
    let sk = skill(&mut st, req.p("skill_id"))?;
    sk.versions.retain(|x| x.json["id"] != v);
    let latest = sk
        .versions
        .last()
        .map_or(json!(""), |x| x.json["id"].clone());
    sk.json["latest_version_id"] = latest;
    Ok(Reply::ok(json!({"id": v, "type": "skill_version_deleted"})))
}

/// The version's files as a zip, with the paths they were uploaded with.
pub fn version_download(s: &Arc<Shared>, req: &Req) -> Answer {
    let mut st = s.lock();
    let v = version(&mut st, req)?;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let fail = |e: &dyn std::fmt::Display| ApiError::new(500, "api_error", format!("zip: {e}"));
    for (name, data) in &v.files {
        zip.start_file(name.as_str(), opts).map_err(|e| fail(&e))?;
        zip.write_all(data).map_err(|e| fail(&e))?;
    }
    let bytes = zip.finish().map_err(|e| fail(&e))?.into_inner();
    Ok(Reply::Raw {
        status: 200,
        content_type: "application/zip".into(),
        body: Bytes::from(bytes),
    })
}

//! The `read`, `write` and `edit` tools, with the official limits (256 KiB
//! files) and texts. Writes are atomic: a `.agenttoolset-*` temporary file
//! next to the target, renamed over it (mode 0644).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::{Output, Paths, decode, fs_error, guard};

/// Largest file `read` and `edit` take.
pub const FILE_CAP: u64 = 256 * 1024;

#[derive(Deserialize)]
struct ReadIn {
    #[serde(default)]
    file_path: String,
    #[serde(default)]
    view_range: Option<Vec<i64>>,
}

#[derive(Deserialize)]
struct WriteIn {
    #[serde(default)]
    file_path: String,
    #[serde(default)]
    content: String,
}

#[derive(Deserialize)]
struct EditIn {
    #[serde(default)]
    file_path: String,
    #[serde(default)]
    old_string: String,
    #[serde(default)]
    new_string: String,
    #[serde(default)]
    replace_all: bool,
}

/// Checks that `path` is a regular file within the cap; the texts differ
/// per tool only in the hint.
fn regular_within_cap(tool: &str, shown: &str, path: &Path, hint: &str) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{tool} {shown}: {}", fs_error(&e)))?;
    if !meta.is_file() {
        return Err(format!("{tool}: {shown} is not a regular file"));
    }
    if meta.len() > FILE_CAP {
        return Err(format!(
            "{tool}: {shown} is {} bytes, exceeds {FILE_CAP}-byte limit. {hint}",
            meta.len()
        ));
    }
    Ok(())
}

pub fn read(paths: &Paths, input: &Value) -> Output {
    let inp: ReadIn = match decode("read", input) {
        Ok(i) => i,
        Err(o) => return o,
    };
    match read_inner(paths, &inp) {
        Ok(text) => Output::ok(text),
        Err(e) => Output::err(e),
    }
}

fn read_inner(paths: &Paths, inp: &ReadIn) -> Result<String, String> {
    let shown = inp.file_path.as_str();
    if shown.is_empty() {
        return Err("read: file_path is required".into());
    }
    let path = guard::check(paths, "read", shown)?;
    regular_within_cap(
        "read",
        shown,
        &path,
        "Use bash (head/tail/sed) to read a slice.",
    )?;
    let bytes = std::fs::read(&path).map_err(|e| format!("read {shown}: {}", fs_error(&e)))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match &inp.view_range {
        None => Ok(text),
        Some(range) => view(&text, range),
    }
}

/// Lines `[start, end]` (1-based, inclusive; `end` <= 0 or past the end
/// means the last line), joined with `\n`.
pub fn view(text: &str, range: &[i64]) -> Result<String, String> {
    let [start, end] = range else {
        return Err("read: view_range must be [start_line, end_line]".into());
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let s = (start - 1).max(0) as usize;
    if s >= lines.len() {
        return Ok(String::new());
    }
    let mut e = lines.len();
    if *end > 0 && (*end as usize) < lines.len() {
        e = *end as usize;
    }
    if e < s {
        return Err(format!(
            "read: view_range end line {end} is before start line {start}"
        ));
    }
    Ok(lines[s..e].join("\n"))
}

/// Writes `data` to `path` through a temporary file in the same directory.
fn atomic_write(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let mut last = None;
    for _ in 0..16 {
        let tmp = dir.join(format!(".agenttoolset-{:016x}", fastrand::u64(..)));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let written = file
            .write_all(data)
            .and_then(|()| file.sync_all())
            .and_then(|()| {
                use std::os::unix::fs::PermissionsExt;
                file.set_permissions(std::fs::Permissions::from_mode(0o644))
            })
            .and_then(|()| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        return written;
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

pub fn write(paths: &Paths, input: &Value) -> Output {
    let inp: WriteIn = match decode("write", input) {
        Ok(i) => i,
        Err(o) => return o,
    };
    let shown = inp.file_path.as_str();
    if shown.is_empty() {
        return Output::err("write: file_path is required");
    }
    let path = match guard::check(paths, "write", shown) {
        Ok(p) => p,
        Err(e) => return Output::err(e),
    };
    if let Some(parent) = path.parent()
        && let Err(e) = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(parent)
    {
        return Output::err(format!("write {shown}: mkdir: {}", fs_error(&e)));
    }
    match atomic_write(&path, inp.content.as_bytes()) {
        Ok(()) => Output::ok(format!("wrote {} bytes to {shown}", inp.content.len())),
        Err(e) => Output::err(format!("write {shown}: {}", fs_error(&e))),
    }
}

pub fn edit(paths: &Paths, input: &Value) -> Output {
    let inp: EditIn = match decode("edit", input) {
        Ok(i) => i,
        Err(o) => return o,
    };
    match edit_inner(paths, &inp) {
        Ok(text) => Output::ok(text),
        Err(e) => Output::err(e),
    }
}

fn edit_inner(paths: &Paths, inp: &EditIn) -> Result<String, String> {
    let shown = inp.file_path.as_str();
    if shown.is_empty() {
        return Err("edit: file_path is required".into());
    }
    if inp.old_string.is_empty() {
        return Err("edit: old_string is required".into());
    }
    let path = guard::check(paths, "edit", shown)?;
    regular_within_cap(
        "edit",
        shown,
        &path,
        "Use bash (sed/awk) to modify a large file.",
    )?;
    let bytes = std::fs::read(&path).map_err(|e| format!("edit {shown}: {}", fs_error(&e)))?;
    let text = String::from_utf8_lossy(&bytes);
    let count = text.matches(inp.old_string.as_str()).count();
    if count == 0 {
        return Err(format!("edit: old_string not found in {shown}"));
    }
    if count > 1 && !inp.replace_all {
        return Err(format!(
            "edit: old_string appears {count} times in {shown} (must be unique)"
        ));
    }
    let new = if inp.replace_all {
        text.replace(&inp.old_string, &inp.new_string)
    } else {
        text.replacen(&inp.old_string, &inp.new_string, 1)
    };
    atomic_write(&path, new.as_bytes()).map_err(|e| format!("edit {shown}: {}", fs_error(&e)))?;
    Ok(format!("edited {shown} ({count} replacement(s))"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths() -> (tempfile::TempDir, Paths) {
        let t = tempfile::tempdir().unwrap();
        let p = Paths::new(t.path(), false);
        (t, p)
    }

    #[test]
    fn view_ranges_follow_the_official_rules() {
        let t = "l1\nl2\nl3\nl4\n";
        assert_eq!(view(t, &[2, 3]).unwrap(), "l2\nl3");
        assert_eq!(view(t, &[3, 2]).unwrap(), "");
        assert_eq!(view(t, &[2, 0]).unwrap(), "l2\nl3\nl4\n");
        assert_eq!(view(t, &[9, 10]).unwrap(), "");
        assert_eq!(view(t, &[0, 1]).unwrap(), "l1");
        assert_eq!(
            view(t, &[4, 2]).unwrap_err(),
            "read: view_range end line 2 is before start line 4"
        );
        assert_eq!(
            view(t, &[1]).unwrap_err(),
            "read: view_range must be [start_line, end_line]"
        );
    }

    #[test]
    fn write_read_edit_round_trip_with_official_texts() {
        let (_t, p) = paths();
        let w = write(
            &p,
            &json!({"file_path": "d/a.txt", "content": "one\ntwo\none\n"}),
        );
        assert_eq!(w, Output::ok("wrote 12 bytes to d/a.txt"));
        let mode = std::fs::metadata(p.root.join("d/a.txt"))
            .unwrap()
            .permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o644
        );
        assert_eq!(
            read(&p, &json!({"file_path": "d/a.txt"})).text,
            "one\ntwo\none\n"
        );
        assert_eq!(
            edit(
                &p,
                &json!({"file_path": "d/a.txt", "old_string": "one", "new_string": "1"})
            ),
            Output::err("edit: old_string appears 2 times in d/a.txt (must be unique)")
        );
        assert_eq!(
            edit(
                &p,
                &json!({"file_path": "d/a.txt", "old_string": "one", "new_string": "1", "replace_all": true})
            ),
            Output::ok("edited d/a.txt (2 replacement(s))")
        );
        assert_eq!(
            edit(
                &p,
                &json!({"file_path": "d/a.txt", "old_string": "zzz", "new_string": ""})
            ),
            Output::err("edit: old_string not found in d/a.txt")
        );
        assert_eq!(
            read(&p, &json!({"file_path": "d/a.txt"})).text,
            "1\ntwo\n1\n"
        );
        let leftovers: Vec<_> = std::fs::read_dir(p.root.join("d")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left");
    }

    #[test]
    fn errors_use_the_official_texts() {
        let (_t, p) = paths();
        std::fs::create_dir(p.root.join("dir")).unwrap();
        std::fs::write(p.root.join("big"), vec![b'x'; FILE_CAP as usize + 1]).unwrap();
        let e = |v: Value| read(&p, &v).text;
        assert_eq!(e(json!({})), "read: file_path is required");
        assert_eq!(
            e(json!({"file_path": "nope"})),
            "read nope: no such file or directory"
        );
        assert_eq!(
            e(json!({"file_path": "dir"})),
            "read: dir is not a regular file"
        );
        assert_eq!(
            e(json!({"file_path": "big"})),
            "read: big is 262145 bytes, exceeds 262144-byte limit. Use bash (head/tail/sed) to read a slice."
        );
        assert_eq!(
            e(json!({"file_path": "../x"})),
            "read: path \"../x\" escapes workdir"
        );
        assert!(e(json!({"file_path": 5})).starts_with("invalid read input: "));
        assert_eq!(
            edit(&p, &json!({"file_path": "big", "old_string": "x"})).text,
            "edit: big is 262145 bytes, exceeds 262144-byte limit. Use bash (sed/awk) to modify a large file."
        );
        assert_eq!(
            edit(&p, &json!({"file_path": "a"})).text,
            "edit: old_string is required"
        );
        assert_eq!(
            write(&p, &json!({"content": "x"})).text,
            "write: file_path is required"
        );
        assert_eq!(
            write(&p, &json!({"file_path": "dir", "content": "x"})).text,
            "write dir: is a directory"
        );
    }
}

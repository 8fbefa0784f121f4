//! `@file` references inside flag values and piped bodies: `@path`,
//! `@file://path`, `@data://path`, `@-` and `\@` escapes, at any depth. File
//! access goes through the [`Files`] trait so request building stays testable
//! without touching the disk.

use std::io::Read;

use base64::Engine;
use serde_json::Value;

/// Where `@` references read from. The real one reads the disk and stdin
/// (stdin at most once); tests use an in-memory map. A source longer than
/// `limit` bytes is an error, found without reading more than that.
pub trait Files {
    fn read(&mut self, path: &str, limit: u64) -> std::io::Result<Vec<u8>>;
    fn read_stdin(&mut self, limit: u64) -> std::io::Result<Vec<u8>>;
    /// The files under `path` when it is a directory (paths relative to it,
    /// sorted), else `None`.
    fn walk(&mut self, _path: &str) -> std::io::Result<Option<Vec<String>>> {
        Ok(None)
    }
}

/// Most files uploaded from one directory.
pub const MAX_DIR_FILES: usize = 10_000;

/// Largest file sent as a multipart part: what the Files API takes.
pub const MAX_PART_BYTES: u64 = 500 << 20;
/// Largest file inlined into a JSON value (and largest piped body): the
/// largest request body the API takes, a message batch's 256 MB.
pub const MAX_INLINE_BYTES: u64 = 256 << 20;

/// Reads `r` to its end, or fails once it holds more than `limit` bytes
/// (`@/dev/zero` or `@/dev/urandom` would otherwise fill the memory).
pub fn read_capped(r: impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "larger than {} MiB, the most the API takes here",
                limit >> 20
            ),
        ));
    }
    Ok(buf)
}

/// Reads files from disk and stdin.
#[derive(Default)]
pub struct DiskFiles {
    stdin_used: bool,
}

impl Files for DiskFiles {
    fn read(&mut self, path: &str, limit: u64) -> std::io::Result<Vec<u8>> {
        read_capped(std::fs::File::open(path)?, limit)
    }

    fn walk(&mut self, path: &str) -> std::io::Result<Option<Vec<String>>> {
        let root = std::path::Path::new(path);
        if !std::fs::metadata(root)?.is_dir() {
            return Ok(None);
        }
        let mut out = Vec::new();
        let mut todo = vec![std::path::PathBuf::new()];
        while let Some(rel) = todo.pop() {
            for entry in std::fs::read_dir(root.join(&rel))? {
                let entry = entry?;
                let kind = entry.file_type()?;
                let rel = rel.join(entry.file_name());
                if kind.is_symlink() {
                    return Err(std::io::Error::other(format!(
                        "{} is a symbolic link, which is not uploaded",
                        root.join(&rel).display()
                    )));
                } else if kind.is_dir() {
                    todo.push(rel);
                } else {
                    out.push(rel.to_string_lossy().into_owned());
                }
                if out.len() > MAX_DIR_FILES {
                    return Err(std::io::Error::other(format!(
                        "more than {MAX_DIR_FILES} files"
                    )));
                }
            }
        }
        out.sort();
        Ok(Some(out))
    }

    fn read_stdin(&mut self, limit: u64) -> std::io::Result<Vec<u8>> {
        if self.stdin_used {
            return Err(std::io::Error::other(
                "standard input can only be read once",
            ));
        }
        self.stdin_used = true;
        read_capped(std::io::stdin().lock(), limit)
    }
}

/// A file read for a multipart part.
#[derive(Debug, Clone, PartialEq)]
pub struct FileData {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// How a reference is inlined.
enum Mode {
    /// Text when the bytes are UTF-8 without NULs, otherwise base64.
    Sniff,
    Text,
    Base64,
}

/// Splits `@...` into the path and inline mode; `None` when `s` is not a reference.
fn reference(s: &str) -> Option<(&str, Mode)> {
    let rest = s.strip_prefix('@')?;
    if let Some(p) = rest.strip_prefix("file://") {
        Some((p, Mode::Text))
    } else if let Some(p) = rest.strip_prefix("data://") {
        Some((p, Mode::Base64))
    } else {
        Some((rest, Mode::Sniff))
    }
}

fn is_stdin(path: &str) -> bool {
    path == "-" || path == "/dev/stdin"
}

fn read(files: &mut dyn Files, path: &str, limit: u64) -> std::io::Result<Vec<u8>> {
    if is_stdin(path) {
        files.read_stdin(limit)
    } else {
        files.read(path, limit)
    }
}

fn inline(bytes: Vec<u8>, mode: Mode) -> String {
    let text_ok = !bytes.contains(&0);
    match (mode, String::from_utf8(bytes)) {
        (Mode::Text, Ok(s)) => s,
        (Mode::Text, Err(e)) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        (Mode::Sniff, Ok(s)) if text_ok => s,
        (_, Ok(s)) => base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
        (_, Err(e)) => base64::engine::general_purpose::STANDARD.encode(e.as_bytes()),
    }
}

/// Resolves one string: `Ok(None)` when it is not a reference (or a
/// literal like `@username` that names no readable file).
pub fn resolve_str(s: &str, files: &mut dyn Files) -> Result<Option<String>, String> {
    if let Some(rest) = s.strip_prefix("\\@") {
        return Ok(Some(format!("@{rest}")));
    }
    let Some((path, mode)) = reference(s) else {
        return Ok(None);
    };
    match read(files, path, MAX_INLINE_BYTES) {
        Ok(bytes) => Ok(Some(inline(bytes, mode))),
        Err(e) if is_literal(path, &e) => Ok(None),
        Err(e) => Err(format!("cannot read {s}: {}", io_reason(&e))),
    }
}

/// Whether `@word` that could not be read is the literal text (`@username`):
/// a plain word naming no file (or a directory); a file that exists but
/// cannot be read, or is too large, is an error.
fn is_literal(path: &str, e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{IsADirectory, NotFound};
    !path.contains('.')
        && !path.contains('/')
        && !is_stdin(path)
        && matches!(e.kind(), NotFound | IsADirectory)
}

/// The reason part of an I/O error, without the OS error number.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Replaces every reference string inside `v`, at any depth.
pub fn resolve_value(v: &mut Value, files: &mut dyn Files) -> Result<(), String> {
    match v {
        Value::String(s) => {
            if let Some(new) = resolve_str(s, files)? {
                *s = new;
            }
        }
        Value::Array(items) => {
            for item in items {
                resolve_value(item, files)?;
            }
        }
        Value::Object(map) => {
            for (_, item) in map.iter_mut() {
                resolve_value(item, files)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Reads the raw bytes of a whole-value reference (`@path` given to an
/// object-typed flag, whose content is then parsed as YAML).
pub fn read_reference(s: &str, files: &mut dyn Files) -> Option<Result<Vec<u8>, String>> {
    if s.starts_with("\\@") {
        return None;
    }
    let (path, _) = reference(s)?;
    match read(files, path, MAX_INLINE_BYTES) {
        Ok(b) => Some(Ok(b)),
        Err(e) if is_literal(path, &e) => None,
        Err(e) => Some(Err(format!("cannot read {s}: {}", io_reason(&e)))),
    }
}

/// Reads a file for a multipart part: a bare path (or `-` for stdin), or
/// an `@path` reference inside a value.
pub fn read_part(path: &str, files: &mut dyn Files) -> Result<FileData, String> {
    let path = path
        .strip_prefix("@file://")
        .or_else(|| path.strip_prefix("@data://"))
        .or_else(|| path.strip_prefix('@'))
        .unwrap_or(path);
    let data = read(files, path, MAX_PART_BYTES)
        .map_err(|e| format!("cannot read {path}: {}", io_reason(&e)))?;
    let filename = if is_stdin(path) {
        "stdin".to_string()
    } else {
        std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.to_string())
    };
    let content_type = mime_guess::from_path(&filename)
        .first()
        .map(|m| m.essence_str().to_string())
        .unwrap_or_else(|| "application/octet-stream".to_string());
    Ok(FileData {
        filename,
        content_type,
        data,
    })
}

/// Reads the parts of a list of files: a file, or a directory, whose files
/// are sent under the directory's name (`my-skill/SKILL.md`,
/// `my-skill/scripts/run.py`), as a skill folder is uploaded.
pub fn read_parts(path: &str, files: &mut dyn Files) -> Result<Vec<FileData>, String> {
    let bare = path.strip_prefix('@').unwrap_or(path);
    let listed = if is_stdin(bare) {
        None
    } else {
        files
            .walk(bare)
            .map_err(|e| format!("cannot read {bare}: {}", io_reason(&e)))?
    };
    let Some(names) = listed else {
        return Ok(vec![read_part(path, files)?]);
    };
    let root = std::path::Path::new(bare);
    let folder = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "files".into());
    if names.is_empty() {
        return Err(format!("{bare}: the directory holds no files"));
    }
    names
        .iter()
        .map(|rel| {
            let full = root.join(rel);
            let mut part = read_part(&full.to_string_lossy(), files)?;
            part.filename = format!("{folder}/{}", rel.replace(std::path::MAIN_SEPARATOR, "/"));
            Ok(part)
        })
        .collect()
}

/// In-memory files for tests.
#[derive(Default)]
pub struct MemFiles {
    pub files: std::collections::HashMap<String, Vec<u8>>,
    pub stdin: Option<Vec<u8>>,
}

impl MemFiles {
    pub fn with(mut self, path: &str, data: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.to_string(), data.into());
        self
    }
}

impl Files for MemFiles {
    fn read(&mut self, path: &str, limit: u64) -> std::io::Result<Vec<u8>> {
        let data = self.files.get(path).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory")
        })?;
        read_capped(&data[..], limit)
    }

    fn read_stdin(&mut self, limit: u64) -> std::io::Result<Vec<u8>> {
        let data = self
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("standard input can only be read once"))?;
        read_capped(&data[..], limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn files() -> MemFiles {
        MemFiles::default()
            .with("notes.txt", "hello\n")
            .with("blob.bin", vec![0u8, 159, 146, 150])
    }

    #[test]
    fn reads_stop_past_their_limit() {
        assert_eq!(read_capped(&b"abcd"[..], 4).unwrap(), b"abcd");
        let e = read_capped(std::io::repeat(0), 1 << 20).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        assert_eq!(
            e.to_string(),
            "larger than 1 MiB, the most the API takes here"
        );
        let mut f = MemFiles::default().with("big", vec![b'a'; (MAX_INLINE_BYTES + 1) as usize]);
        let err = resolve_str("@big", &mut f).unwrap_err();
        assert_eq!(
            err,
            "cannot read @big: larger than 256 MiB, the most the API takes here"
        );
        assert_eq!(
            read_part("big", &mut f).unwrap().data.len() as u64,
            MAX_INLINE_BYTES + 1
        );
    }

    #[test]
    fn every_reference_form_resolves_at_any_depth() {
        let mut f = files();
        f.stdin = Some(b"from stdin".to_vec());
        let mut v = json!({
            "a": "@notes.txt",
            "b": ["@file://notes.txt", {"c": "@data://notes.txt"}],
            "d": "@blob.bin",
            "e": "\\@notes.txt",
            "f": "@username",
            "g": "@-",
            "h": "plain"
        });
        resolve_value(&mut v, &mut f).unwrap();
        assert_eq!(
            v,
            json!({
                "a": "hello\n",
                "b": ["hello\n", {"c": "aGVsbG8K"}],
                "d": "AJ+Slg==",
                "e": "@notes.txt",
                "f": "@username",
                "g": "from stdin",
                "h": "plain"
            })
        );
    }

    #[test]
    fn unreadable_paths_are_errors_naming_the_reference() {
        let mut f = files();
        let err = resolve_str("@missing.json", &mut f).unwrap_err();
        assert_eq!(err, "cannot read @missing.json: No such file or directory");
        let mut v = json!(["@-", "@-"]);
        f.stdin = Some(b"x".to_vec());
        assert!(
            resolve_value(&mut v, &mut f)
                .unwrap_err()
                .contains("only be read once")
        );
    }

    #[test]
    fn parts_take_base_name_and_content_type() {
        let mut f = MemFiles::default().with("dir/report.pdf", "%PDF");
        let part = read_part("dir/report.pdf", &mut f).unwrap();
        assert_eq!(part.filename, "report.pdf");
        assert_eq!(part.content_type, "application/pdf");
        let part = read_part("@dir/report.pdf", &mut f).unwrap();
        assert_eq!(part.data, b"%PDF");
        let mut f = MemFiles::default().with("x.unknownext", "z");
        assert_eq!(
            read_part("x.unknownext", &mut f).unwrap().content_type,
            "application/octet-stream"
        );
    }
}

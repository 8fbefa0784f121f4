//! The `read`, `write` and `edit` tools, with the official limits (256 KiB
//! files) and texts. A file is opened once, without following a symlink in
//! the workdir and without blocking, then checked (`fstat`) and read up to
//! the limit from that descriptor: a symlink, FIFO or device swapped in
//! meanwhile is refused, never read. Writes are atomic: a `.agenttoolset-*`
//! temporary file next to the target, renamed over it (mode 0644).

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use rustix::fs::OFlags;
use serde::Deserialize;
use serde_json::Value;

use super::{Output, Paths, decode, fs_error, guard};
use crate::worker::beneath::Dir;

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

/// Why a file was not read.
#[derive(Debug)]
pub enum Refused {
    Io(std::io::Error),
    /// A directory, FIFO, device or socket.
    NotRegular,
    /// Larger than the cap: its size (or at least what was found).
    TooBig(u64),
}

impl From<std::io::Error> for Refused {
    fn from(e: std::io::Error) -> Refused {
        Refused::Io(e)
    }
}

impl Refused {
    /// The tool's error text; `hint` says what to use for a large file.
    fn text(&self, tool: &str, shown: &str, hint: &str) -> String {
        match self {
            Refused::Io(e) => format!("{tool} {shown}: {}", fs_error(e)),
            Refused::NotRegular => format!("{tool}: {shown} is not a regular file"),
            Refused::TooBig(size) => {
                format!("{tool}: {shown} is {size} bytes, exceeds {FILE_CAP}-byte limit. {hint}")
            }
        }
    }
}

/// Reads at most `cap` bytes from an open file: anything but a regular file
/// (by `fstat` of this descriptor, not of a path) is refused, and so is a
/// file larger than `cap`, by its size or, when it grows meanwhile, by what
/// was read.
pub fn read_capped(fd: OwnedFd, cap: u64) -> Result<Vec<u8>, Refused> {
    let stat = rustix::fs::fstat(&fd).map_err(std::io::Error::from)?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(Refused::NotRegular);
    }
    let size = u64::try_from(stat.st_size).unwrap_or(0);
    if size > cap {
        return Err(Refused::TooBig(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    std::fs::File::from(fd)
        .take(cap + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(Refused::TooBig(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The directory holding `path` (a path from [`guard::check`]) and the
/// file's name in it. Confined to the workdir, the directory is reached
/// from the workdir one name at a time without following a symlink (and
/// made when `create`); with `--unrestricted-paths` by its path.
fn parent_of(paths: &Paths, path: &Path, create: bool) -> std::io::Result<(Dir, OsString)> {
    let name = path.file_name().unwrap_or(OsStr::new(".")).to_os_string();
    let parent = path.parent().unwrap_or(Path::new("/"));
    if paths.unrestricted {
        if create {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(parent)?;
        }
        return Ok((Dir::open(parent)?, name));
    }
    let root = Dir::open(&paths.root)?;
    let rel = path.strip_prefix(&paths.root).unwrap_or(Path::new(""));
    if rel.as_os_str().is_empty() {
        return Ok((root, ".".into()));
    }
    let up = rel.parent().unwrap_or(Path::new(""));
    let dir = if create {
        root.create_dirs(up, 0o755)?
    } else {
        root.dir(up)?
    };
    Ok((dir, name))
}

/// Opens a file for reading the one way every tool does: one `open` that
/// follows no symlink in the workdir and never blocks (a FIFO or device
/// opens at once, and [`read_capped`] refuses it).
pub fn open_for_read(paths: &Paths, path: &Path) -> std::io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY;
    if paths.unrestricted {
        return Ok(rustix::fs::open(
            path,
            flags | OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?);
    }
    let (dir, name) = parent_of(paths, path, false)?;
    dir.open_at(&name, flags, 0)
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
    let hint = "Use bash (head/tail/sed) to read a slice.";
    let bytes = open_for_read(paths, &path)
        .map_err(Refused::Io)
        .and_then(|fd| read_capped(fd, FILE_CAP))
        .map_err(|e| e.text("read", shown, hint))?;
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

/// Writes `data` to the entry `name` of `dir` through a new temporary file
/// there, renamed over it (a symlink at `name` is replaced, not followed).
fn atomic_write(dir: &Dir, name: &OsStr, data: &[u8]) -> std::io::Result<()> {
    let mut last = None;
    for _ in 0..16 {
        let tmp = OsString::from(format!(".agenttoolset-{:016x}", fastrand::u64(..)));
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL;
        let mut file = match dir.open_at(&tmp, flags, 0o644) {
            Ok(fd) => std::fs::File::from(fd),
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
            .and_then(|()| dir.rename(&tmp, name));
        if written.is_err() {
            let _ = dir.remove(&tmp);
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
    let (dir, name) = match parent_of(paths, &path, true) {
        Ok(p) => p,
        Err(e) => return Output::err(format!("write {shown}: mkdir: {}", fs_error(&e))),
    };
    match atomic_write(&dir, &name, inp.content.as_bytes()) {
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
    let hint = "Use bash (sed/awk) to modify a large file.";
    // One directory handle for reading and writing back: the file read is
    // the file replaced.
    let (dir, name) =
        parent_of(paths, &path, false).map_err(|e| Refused::Io(e).text("edit", shown, hint))?;
    let bytes = dir
        .open_at(&name, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY, 0)
        .map_err(Refused::Io)
        .and_then(|fd| read_capped(fd, FILE_CAP))
        .map_err(|e| e.text("edit", shown, hint))?;
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
    atomic_write(&dir, &name, new.as_bytes())
        .map_err(|e| format!("edit {shown}: {}", fs_error(&e)))?;
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

    /// Swaps `t` in `root` between a small file, a FIFO and a file over the
    /// cap until `stop`, as a hostile agent's background process would.
    fn racer(root: std::path::PathBuf, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        use std::sync::atomic::Ordering;
        let fifo =
            std::ffi::CString::new(root.join("fifo.tmp").into_os_string().into_encoded_bytes())
                .unwrap();
        while !stop.load(Ordering::Relaxed) {
            let _ = std::fs::hard_link(root.join("small"), root.join("a.tmp"));
            let _ = std::fs::rename(root.join("a.tmp"), root.join("t"));
            // SAFETY: mkfifo reads the path we own.
            unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) };
            let _ = std::fs::rename(root.join("fifo.tmp"), root.join("t"));
            let _ = std::fs::hard_link(root.join("big"), root.join("b.tmp"));
            let _ = std::fs::rename(root.join("b.tmp"), root.join("t"));
        }
    }

    #[test]
    fn a_racing_swap_never_blocks_a_read_nor_reads_past_the_cap() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let (_t, p) = paths();
        std::fs::write(p.root.join("small"), "x\n").unwrap();
        std::fs::write(p.root.join("big"), vec![b'y'; 4 * FILE_CAP as usize]).unwrap();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let swapping = {
            let (root, stop) = (p.root.clone(), stop.clone());
            std::thread::spawn(move || racer(root, stop))
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = p.clone();
        std::thread::spawn(move || {
            for i in 0..3000 {
                let out = if i % 2 == 0 {
                    read(&reader, &json!({"file_path": "t"}))
                } else {
                    edit(
                        &reader,
                        &json!({"file_path": "t", "old_string": "x", "new_string": "x"}),
                    )
                };
                if tx.send(out).is_err() {
                    return;
                }
            }
        });
        let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
        for _ in 0..3000 {
            let out = rx.recv_timeout(std::time::Duration::from_secs(20));
            let Ok(out) = out else {
                stop.store(true, Ordering::Relaxed);
                panic!("a read or edit blocked (a FIFO opened as a file): {outcomes:?}");
            };
            assert!(
                out.text.len() <= FILE_CAP as usize,
                "read past the cap: {} bytes",
                out.text.len()
            );
            let kind = out.text.split(':').next().unwrap_or("").to_string();
            *outcomes.entry(kind).or_default() += 1;
        }
        stop.store(true, Ordering::Relaxed);
        swapping.join().unwrap();
        assert!(outcomes.contains_key("x\n"), "{outcomes:?}");
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

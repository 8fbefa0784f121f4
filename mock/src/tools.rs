//! The built-in tools of `agent_toolset_20260401`, run inside a session's
//! sandbox directory: bash (only with `--allow-bash`), read, write, edit,
//! glob and grep. File tools refuse paths that escape the sandbox, symlinks
//! included.

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value;

const MAX_FILE: u64 = 256 * 1024;
const MAX_OUTPUT: usize = 100 * 1024;

/// Runs one tool; returns the result text and whether it is an error.
pub async fn run(name: &str, input: &Value, sandbox: &Path, allow_bash: bool) -> (String, bool) {
    let s = |k: &str| input[k].as_str().unwrap_or("").to_string();
    let res = match name {
        "bash" => return bash(&s("command"), sandbox, allow_bash).await,
        "read" => read(sandbox, &s("file_path"), input.get("view_range")),
        "write" => write(sandbox, &s("file_path"), &s("content")),
        "edit" => edit(
            sandbox,
            &s("file_path"),
            &s("old_string"),
            &s("new_string"),
            input["replace_all"].as_bool().unwrap_or(false),
        ),
        "glob" => glob(sandbox, &s("pattern"), input["path"].as_str()),
        "grep" => grep(sandbox, &s("pattern"), input["path"].as_str()),
        other => Err(format!("unknown tool {other:?}")),
    };
    match res {
        Ok(t) => (t, false),
        Err(e) => (e, true),
    }
}

/// Resolves `path` inside the sandbox: relative paths join the sandbox, and
/// so do absolute ones (the agent's `/`, where resources are mounted at
/// their `mount_path`), unless they already name a place in it; symlinks
/// are resolved (also in the parts that exist of a path that does not),
/// and the result must stay under the sandbox.
pub fn resolve(sandbox: &Path, path: &str) -> Result<PathBuf, String> {
    if path.is_empty() {
        return Err("file_path is required".into());
    }
    let root = sandbox
        .canonicalize()
        .map_err(|e| format!("sandbox: {e}"))?;
    let joined = match Path::new(path) {
        p if p.starts_with(&root) => p.to_path_buf(),
        p if p.is_absolute() => root.join(p.strip_prefix("/").unwrap_or(p)),
        _ => root.join(path),
    };
    // Walk the components, resolving each existing prefix (and so every
    // symlink on the way); missing parts are added lexically.
    let mut out = PathBuf::from("/");
    let mut hops = 0;
    let mut todo: Vec<std::ffi::OsString> = joined
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    while let Some(part) = todo.pop() {
        if part == ".." {
            out.pop();
            continue;
        }
        out.push(&part);
        match std::fs::symlink_metadata(&out) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                if hops > 40 {
                    return Err(format!("path {path:?}: too many levels of symbolic links"));
                }
                let target = std::fs::read_link(&out).map_err(|e| format!("{path}: {e}"))?;
                out.pop();
                if target.is_absolute() {
                    out = PathBuf::from("/");
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(n) => todo.push(n.to_os_string()),
                        Component::ParentDir => todo.push("..".into()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if out.starts_with(&root) {
        Ok(out)
    } else {
        Err(format!("path {path:?} escapes workdir"))
    }
}

/// How long a `/bash` command may run before its process group is killed.
pub const BASH_TIMEOUT: Duration = Duration::from_secs(120);

async fn bash(command: &str, sandbox: &Path, allow: bool) -> (String, bool) {
    if !allow {
        return (
            "bash is disabled in ant-mock: restart it with --allow-bash to run shell commands in the session sandbox"
                .into(),
            true,
        );
    }
    run_bash(command, sandbox, BASH_TIMEOUT).await
}

/// A running `/bash` command: bash leads its own process group, and the
/// whole group is killed when this is dropped before bash was reaped (a
/// timeout, an interrupt, the session going away). Once bash has exited
/// normally, background processes it started are left alone.
struct Group {
    child: tokio::process::Child,
    pgid: libc::pid_t,
    reaped: bool,
}

impl Drop for Group {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: kill(2) has no memory-safety preconditions. bash is not
            // reaped yet, so the group id still belongs to it.
            unsafe {
                libc::kill(-self.pgid, libc::SIGKILL);
            }
        }
    }
}

/// The last `MAX_OUTPUT` bytes of a command's output, with memory bounded
/// however much it prints.
#[derive(Default)]
struct Tail {
    buf: Vec<u8>,
    cut: bool,
}

impl Tail {
    fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        if self.buf.len() > 2 * MAX_OUTPUT {
            self.trim();
        }
    }

    fn trim(&mut self) {
        if self.buf.len() > MAX_OUTPUT {
            let excess = self.buf.len() - MAX_OUTPUT;
            self.buf.drain(..excess);
            self.cut = true;
        }
    }

    fn text(mut self) -> String {
        self.trim();
        if !self.cut {
            return String::from_utf8_lossy(&self.buf).into_owned();
        }
        // Do not start in the middle of a UTF-8 sequence.
        let skip = self
            .buf
            .iter()
            .take(3)
            .take_while(|b| *b & 0xC0 == 0x80)
            .count();
        format!(
            "[output truncated]\n{}",
            String::from_utf8_lossy(&self.buf[skip..])
        )
    }
}

/// Runs `command` with `/bin/bash -c` in `dir`: stdout and stderr merged and
/// read as they come (only the tail is kept), done as soon as bash itself
/// exits (background processes holding the output open are not waited
/// for), and the whole process group killed after `timeout`.
pub async fn run_bash(command: &str, dir: &Path, timeout: Duration) -> (String, bool) {
    use tokio::io::AsyncReadExt;

    let mut cmd = tokio::process::Command::new("/bin/bash");
    cmd.arg("--noprofile")
        .arg("--norc")
        .arg("-c")
        .arg(format!("exec 2>&1\n{command}"))
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .env("TERM", "dumb")
        .process_group(0)
        .kill_on_drop(true);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ANTHROPIC_") {
            cmd.env_remove(k);
        }
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (format!("could not start bash: {e}"), true),
    };
    let (Some(pid), Some(mut out)) = (child.id(), child.stdout.take()) else {
        return ("could not start bash".into(), true);
    };
    let mut group = Group {
        child,
        pgid: pid as libc::pid_t,
        reaped: false,
    };
    let mut tail = Tail::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut open = true;
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let status = loop {
        tokio::select! {
            _ = &mut deadline => {
                drop(group);
                let text = tail.text();
                let sep = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
                return (
                    format!(
                        "{text}{sep}command timed out after {} s; it was killed",
                        timeout.as_secs_f64()
                    ),
                    true,
                );
            }
            st = group.child.wait() => match st {
                Ok(st) => {
                    group.reaped = true;
                    break st;
                }
                Err(e) => return (format!("bash failed: {e}"), true),
            },
            n = out.read(&mut buf), if open => match n {
                Ok(0) | Err(_) => open = false,
                Ok(n) => tail.push(&buf[..n]),
            },
        }
    };
    // Everything bash wrote is in the pipe already; take it, but stop at
    // the first pause rather than wait for EOF from background processes.
    let drain_until = tokio::time::Instant::now() + Duration::from_millis(500);
    while open {
        let pause = tokio::time::Instant::now() + Duration::from_millis(20);
        match tokio::time::timeout_at(pause.min(drain_until), out.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => tail.push(&buf[..n]),
            _ => open = false,
        }
    }
    let text = tail.text();
    match status.code() {
        Some(0) => (text, false),
        code => {
            let code = code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "signal".into());
            (format!("{text}exit code: {code}"), true)
        }
    }
}

fn read(sandbox: &Path, path: &str, range: Option<&Value>) -> Result<String, String> {
    let p = resolve(sandbox, path)?;
    let meta = std::fs::metadata(&p).map_err(|e| format!("{path}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{path}: not a regular file"));
    }
    if meta.len() > MAX_FILE {
        return Err(format!("{path}: file is larger than 256 KiB"));
    }
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{path}: {e}"))?;
    match range.and_then(Value::as_array) {
        Some(r) if r.len() == 2 => {
            let start = r[0].as_i64().unwrap_or(1).max(1) as usize;
            let end = r[1].as_i64().unwrap_or(-1);
            let lines: Vec<&str> = text.lines().collect();
            let end = if end < 0 {
                lines.len()
            } else {
                (end as usize).min(lines.len())
            };
            Ok(lines
                .get(start - 1..end)
                .map(|l| l.join("\n"))
                .unwrap_or_default())
        }
        _ => Ok(text),
    }
}

fn write(sandbox: &Path, path: &str, content: &str) -> Result<String, String> {
    write_file(sandbox, path, content.as_bytes())?;
    Ok(format!("Wrote {} bytes to {path}", content.len()))
}

/// Writes a file inside the sandbox through the path guard (also used to
/// mount session resources): parent directories are created, the file is
/// replaced atomically, and the sandbox itself or a directory is refused.
pub fn write_file(sandbox: &Path, path: &str, content: &[u8]) -> Result<(), String> {
    let p = resolve(sandbox, path)?;
    if p == resolve(sandbox, ".")? || p.file_name().is_none() {
        return Err(format!("{path}: is the workdir itself, not a file"));
    }
    if p.is_dir() {
        return Err(format!("{path}: is a directory"));
    }
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{path}: {e}"))?;
    }
    replace_file(&p, content).map_err(|e| format!("{path}: {e}"))
}

/// Writes `target` atomically: a temporary `.{name}.ant-mock-tmp-N` next to
/// it (created exclusively, so never through an existing file or symlink),
/// renamed over it; the temporary file is removed when anything fails.
fn replace_file(target: &Path, content: &[u8]) -> std::io::Result<()> {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(std::io::Error::other("not a file path"));
    };
    let mut attempt = 0;
    let (tmp, mut file) = loop {
        let tmp = parent.join(format!(
            ".{}.ant-mock-tmp-{}",
            name.to_string_lossy(),
            fastrand::u32(..)
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 16 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let done = std::io::Write::write_all(&mut file, content).and_then(|()| {
        drop(file);
        std::fs::rename(&tmp, target)
    });
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

fn edit(sandbox: &Path, path: &str, old: &str, new: &str, all: bool) -> Result<String, String> {
    let p = resolve(sandbox, path)?;
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{path}: {e}"))?;
    if old.is_empty() {
        return Err("old_string must not be empty".into());
    }
    let n = text.matches(old).count();
    if n == 0 {
        return Err(format!("old_string not found in {path}"));
    }
    if n > 1 && !all {
        return Err(format!(
            "old_string occurs {n} times in {path}; add more context or set replace_all"
        ));
    }
    let out = if all {
        text.replace(old, new)
    } else {
        text.replacen(old, new, 1)
    };
    std::fs::write(&p, out).map_err(|e| format!("{path}: {e}"))?;
    Ok(format!(
        "Edited {path} ({n} replacement{})",
        if n == 1 { "" } else { "s" }
    ))
}

/// Regular files under `dir` (symlinks not followed), as paths relative to
/// `root`, with their modification times.
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, SystemTime)>, budget: &mut usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let Ok(ft) = e.file_type() else { continue };
        let path = e.path();
        if ft.is_dir() {
            let name = e.file_name();
            if name == ".git" || name == "node_modules" {
                continue;
            }
            walk(root, &path, out, budget);
        } else if ft.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let mtime = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            out.push((rel, mtime));
        }
    }
}

/// Translates a glob (`*`, `?`, `**`, `[...]`) to an anchored regex.
fn glob_regex(pattern: &str) -> Result<regex::Regex, String> {
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                if chars.get(i + 2) == Some(&'/') {
                    re.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    re.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '[' => {
                let close = chars[i..].iter().position(|c| *c == ']').map(|p| p + i);
                match close {
                    Some(end) => {
                        let body: String = chars[i + 1..end].iter().collect();
                        let body = body
                            .strip_prefix('!')
                            .map(|b| format!("^{b}"))
                            .unwrap_or(body);
                        re.push('[');
                        re.push_str(&body.replace('\\', "\\\\"));
                        re.push(']');
                        i = end + 1;
                        continue;
                    }
                    None => re.push_str("\\["),
                }
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    regex::Regex::new(&re).map_err(|e| format!("invalid glob pattern: {e}"))
}

fn glob(sandbox: &Path, pattern: &str, path: Option<&str>) -> Result<String, String> {
    if pattern.is_empty() {
        return Err("pattern is required".into());
    }
    if pattern.starts_with('/') || pattern.split('/').any(|s| s == "..") {
        return Err(format!("pattern {pattern:?} escapes workdir"));
    }
    let base = resolve(sandbox, path.unwrap_or("."))?;
    let re = glob_regex(pattern)?;
    let mut files = Vec::new();
    walk(&base, &base, &mut files, &mut 50_000);
    let mut hits: Vec<(String, SystemTime)> =
        files.into_iter().filter(|(p, _)| re.is_match(p)).collect();
    hits.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    hits.truncate(200);
    if hits.is_empty() {
        return Ok("no matches".into());
    }
    Ok(hits
        .into_iter()
        .map(|(p, _)| p)
        .collect::<Vec<_>>()
        .join("\n"))
}

fn grep(sandbox: &Path, pattern: &str, path: Option<&str>) -> Result<String, String> {
    if pattern.is_empty() {
        return Err("pattern is required".into());
    }
    let re = regex::Regex::new(pattern).map_err(|e| format!("invalid regex: {e}"))?;
    let root = resolve(sandbox, ".")?;
    let base = resolve(sandbox, path.unwrap_or("."))?;
    let mut files = Vec::new();
    if base.is_file() {
        let rel = base
            .strip_prefix(&root)
            .unwrap_or(&base)
            .to_string_lossy()
            .into_owned();
        files.push((rel, SystemTime::UNIX_EPOCH));
    } else {
        walk(&root, &base, &mut files, &mut 50_000);
    }
    files.sort();
    let mut out = String::new();
    for (rel, _) in files {
        let full = root.join(&rel);
        if std::fs::metadata(&full)
            .map(|m| m.len() > 8 << 20)
            .unwrap_or(true)
        {
            continue;
        }
        let Ok(bytes) = std::fs::read(&full) else {
            continue;
        };
        if bytes.contains(&0) {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        for (n, line) in text.lines().enumerate() {
            if re.is_match(line) {
                out.push_str(&format!("{rel}:{}:{line}\n", n + 1));
                if out.len() > MAX_OUTPUT {
                    out.push_str("[output truncated]\n");
                    return Ok(out);
                }
            }
        }
    }
    if out.is_empty() {
        return Ok("no matches".into());
    }
    Ok(out.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_refuses_escapes() {
        let dir = std::env::temp_dir().join(format!("ant-mock-tools-{}", fastrand::u32(..)));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        assert!(resolve(&dir, "a/b/../c.txt").is_ok());
        assert!(
            resolve(&dir, "../x")
                .unwrap_err()
                .contains("escapes workdir")
        );
        assert!(resolve(&dir, "new/../../x").is_err());
        // Absolute paths are the agent's: under the sandbox, where mounts are.
        let root = dir.canonicalize().unwrap();
        assert_eq!(resolve(&dir, "/mnt/a.txt").unwrap(), root.join("mnt/a.txt"));
        assert_eq!(
            resolve(&dir, &root.join("b").to_string_lossy()).unwrap(),
            root.join("b")
        );
        assert!(resolve(&dir, "/../../etc/passwd").is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", dir.join("link")).unwrap();
            assert!(resolve(&dir, "link/passwd").is_err());
            assert!(resolve(&dir, "link/new/file").is_err());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ant-mock-tools-{}", fastrand::u32(..)));
        std::fs::create_dir_all(dir.join("sandbox/sub")).unwrap();
        dir.canonicalize().unwrap()
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn write_refuses_the_workdir_and_directories_and_leaves_no_temp_files() {
        let dir = scratch();
        let sb = dir.join("sandbox");
        for p in [".", "sub/..", "", "sub", "sub/", &sb.to_string_lossy()] {
            let e = write(&sb, p, "x").unwrap_err();
            assert!(
                e.contains("workdir itself")
                    || e.contains("is a directory")
                    || e.contains("required"),
                "{p}: {e}"
            );
        }
        // Nothing was written next to the sandbox or inside it.
        assert_eq!(listing(&dir), ["sandbox"]);
        assert_eq!(listing(&sb), ["sub"]);
        assert!(listing(&sb.join("sub")).is_empty());
        // A normal write (and an overwrite) leaves only the target.
        write(&sb, "sub/a.txt", "one").unwrap();
        write(&sb, "sub/a.txt", "two").unwrap();
        assert_eq!(
            std::fs::read_to_string(sb.join("sub/a.txt")).unwrap(),
            "two"
        );
        assert_eq!(listing(&sb.join("sub")), ["a.txt"]);
        // A failing rename (over a non-empty directory) removes its
        // temporary file.
        std::fs::create_dir_all(sb.join("sub/d/inner")).unwrap();
        assert!(replace_file(&sb.join("sub/d"), b"x").is_err());
        assert_eq!(listing(&sb.join("sub")), ["a.txt", "d"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn bash_keeps_the_tail_and_does_not_wait_for_background_children() {
        let dir = scratch();
        let t = std::time::Instant::now();
        let (out, err) = run_bash("sleep 5 & echo started", &dir, Duration::from_secs(30)).await;
        assert_eq!((out.as_str(), err), ("started\n", false));
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

        let (out, err) = run_bash(
            "echo first; head -c 3000000 /dev/zero | tr '\\0' a; echo; echo last >&2; exit 4",
            &dir,
            Duration::from_secs(30),
        )
        .await;
        assert!(err);
        assert!(out.starts_with("[output truncated]\naaa"), "{}", &out[..40]);
        assert!(
            out.ends_with("a\nlast\nexit code: 4"),
            "{}",
            &out[out.len() - 40..]
        );
        assert!(out.len() <= MAX_OUTPUT + 40, "{}", out.len());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn bash_timeout_kills_the_process_group() {
        let dir = scratch();
        let t = std::time::Instant::now();
        let (out, err) = run_bash(
            "echo before; (sleep 2; touch late) & sleep 60",
            &dir,
            Duration::from_millis(500),
        )
        .await;
        assert!(err);
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert!(
            out.starts_with("before\n") && out.contains("timed out"),
            "{out}"
        );
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(!dir.join("late").exists(), "the background child survived");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tail_truncates_on_a_char_boundary() {
        let mut t = Tail::default();
        t.push("é".repeat(MAX_OUTPUT).as_bytes());
        let text = t.text();
        assert!(text.starts_with("[output truncated]\né"), "{}", &text[..30]);
        assert!(!text.contains('\u{fffd}'));
        let mut t = Tail::default();
        t.push(b"short");
        assert_eq!(t.text(), "short");
    }

    #[test]
    fn globs() {
        let re = glob_regex("**/*.rs").unwrap();
        assert!(re.is_match("a.rs") && re.is_match("x/y/a.rs") && !re.is_match("a.rsx"));
        assert!(glob_regex("src/[ab]?.txt").unwrap().is_match("src/a1.txt"));
    }
}

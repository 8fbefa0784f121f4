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

/// Resolves `path` inside the sandbox: relative paths join the sandbox,
/// symlinks are resolved (also in the parts that exist of a path that does
/// not), and the result must stay under the sandbox.
pub fn resolve(sandbox: &Path, path: &str) -> Result<PathBuf, String> {
    if path.is_empty() {
        return Err("file_path is required".into());
    }
    let root = sandbox
        .canonicalize()
        .map_err(|e| format!("sandbox: {e}"))?;
    let joined = if Path::new(path).is_absolute() {
        PathBuf::from(path)
    } else {
        root.join(path)
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

async fn bash(command: &str, sandbox: &Path, allow: bool) -> (String, bool) {
    if !allow {
        return (
            "bash is disabled in ant-mock: restart it with --allow-bash to run shell commands in the session sandbox"
                .into(),
            true,
        );
    }
    let mut cmd = tokio::process::Command::new("/bin/bash");
    cmd.arg("--noprofile")
        .arg("--norc")
        .arg("-c")
        .arg(format!("exec 2>&1\n{command}"))
        .current_dir(sandbox)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .env("TERM", "dumb")
        .kill_on_drop(true);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ANTHROPIC_") {
            cmd.env_remove(k);
        }
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (format!("could not start bash: {e}"), true),
    };
    match tokio::time::timeout(Duration::from_secs(120), child.wait_with_output()).await {
        Err(_) => ("command timed out after 120 s".into(), true),
        Ok(Err(e)) => (format!("bash failed: {e}"), true),
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            if text.len() > MAX_OUTPUT {
                let mut cut = text.len() - MAX_OUTPUT;
                while !text.is_char_boundary(cut) {
                    cut += 1;
                }
                text = format!("[output truncated]\n{}", &text[cut..]);
            }
            match out.status.code() {
                Some(0) => (text, false),
                code => {
                    let code = code
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "signal".into());
                    (format!("{text}exit code: {code}"), true)
                }
            }
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
    let p = resolve(sandbox, path)?;
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{path}: {e}"))?;
    }
    let tmp = p.with_extension(format!("ant-mock-tmp-{}", fastrand::u32(..)));
    std::fs::write(&tmp, content).map_err(|e| format!("{path}: {e}"))?;
    std::fs::rename(&tmp, &p).map_err(|e| format!("{path}: {e}"))?;
    Ok(format!("Wrote {} bytes to {path}", content.len()))
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
        assert!(resolve(&dir, "/etc/passwd").is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", dir.join("link")).unwrap();
            assert!(resolve(&dir, "link/passwd").is_err());
            assert!(resolve(&dir, "link/new/file").is_err());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn globs() {
        let re = glob_regex("**/*.rs").unwrap();
        assert!(re.is_match("a.rs") && re.is_match("x/y/a.rs") && !re.is_match("a.rsx"));
        assert!(glob_regex("src/[ab]?.txt").unwrap().is_match("src/a1.txt"));
    }
}

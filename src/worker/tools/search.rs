//! The `glob` and `grep` tools. glob walks the tree (no symlinks, 50,000
//! entries at most, saying where it stopped when it had to) and lists
//! matches newest first (200 at most); grep runs ripgrep when it is on
//! `PATH` (in the tools' nested Landlock domain), else a built-in regex walk
//! with the same skips and the 100 KiB output budget.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::SystemTime;

use rustix::fs::OFlags;
use serde::Deserialize;
use serde_json::Value;

use super::{Output, Paths, decode, guard};
use crate::worker::confine::Nest;

pub const MAX_WALK: usize = 50_000;
pub const MAX_GLOB_RESULTS: usize = 200;
pub const OUTPUT_CAP: usize = 100 * 1024;
pub const MAX_GREP_FILE: u64 = 8 * 1024 * 1024;

#[derive(Deserialize)]
struct SearchIn {
    #[serde(default)]
    pattern: String,
    #[serde(default)]
    path: Option<String>,
}

/// Where a search walks, and the prefix of the paths it prints.
#[derive(Clone)]
pub struct Root {
    pub walk: PathBuf,
    pub shown: PathBuf,
}

impl Root {
    /// Walked and shown as it is (an absolute path).
    pub fn at(path: &Path) -> Root {
        Root {
            walk: path.to_path_buf(),
            shown: path.to_path_buf(),
        }
    }
}

/// The directory to search: the guarded `path`, or the workdir. The
/// official tools print the workdir as configured, so a relative `--workdir
/// work` gave `work/a.txt`, which neither `read` nor `bash` (both working
/// in the workdir) can open; paths under a relative workdir are printed
/// relative to it instead (`a.txt`; the same as the official for `.`).
fn search_root(paths: &Paths, tool: &str, path: &Option<String>) -> Result<Root, String> {
    match path.as_deref() {
        Some(p) if !p.is_empty() => guard::check(paths, tool, p).map(|p| Root::at(&p)),
        _ if paths.workdir.is_absolute() => Ok(Root::at(&paths.workdir)),
        _ => Ok(Root {
            walk: paths.root.clone(),
            shown: PathBuf::from("."),
        }),
    }
}

/// What a walk does after an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Continue,
    /// Do not descend into this directory.
    SkipDir,
    Stop,
}

/// The entries of `dir`, sorted by name, reversed (for a stack).
fn children(dir: &Path, rel: &str) -> Vec<(PathBuf, String)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    names.sort();
    names
        .into_iter()
        .rev()
        .map(|name| {
            let shown = name.to_string_lossy();
            let rel = if rel.is_empty() {
                shown.into_owned()
            } else {
                format!("{rel}/{shown}")
            };
            (dir.join(&name), rel)
        })
        .collect()
}

/// Walks `root` depth first in lexical order (as Go's `filepath.WalkDir`:
/// `a`, `a/x`, `b`) without following symlinks, calling `f` with each
/// entry's `/`-separated relative path; stops after `limit` entries or when
/// `f` says so. Unreadable entries are skipped. Returns the relative path
/// of the first entry past the limit when the limit cut the walk short.
fn walk(
    root: &Path,
    limit: usize,
    f: &mut dyn FnMut(&str, &Path, &std::fs::Metadata) -> Step,
) -> Option<String> {
    let mut stack = children(root, "");
    let mut count = 0;
    while let Some((path, rel)) = stack.pop() {
        let Ok(meta) = path.symlink_metadata() else {
            continue;
        };
        count += 1;
        if count > limit {
            return Some(rel);
        }
        match f(&rel, &path, &meta) {
            Step::Stop => return None,
            Step::SkipDir => continue,
            Step::Continue if meta.is_dir() => stack.extend(children(&path, &rel)),
            Step::Continue => {}
        }
    }
    None
}

/// The note for a walk cut short after `limit` entries at `rel`, below
/// `root` as shown.
fn cut_short(limit: usize, root: &Path, rel: &str) -> String {
    format!(
        "[glob stopped after {limit} entries, at {}: there may be more matches; give a narrower path or pattern]",
        shown(root, rel)
    )
}

/// How a matched entry is shown: the root joined with the relative path.
fn shown(root: &Path, rel: &str) -> String {
    guard::clean(&root.join(rel)).to_string_lossy().into_owned()
}

pub fn glob(paths: &Paths, input: &Value) -> Output {
    let inp: SearchIn = match decode("glob", input) {
        Ok(i) => i,
        Err(o) => return o,
    };
    match glob_inner(paths, &inp, MAX_WALK) {
        Ok(t) => Output::ok(t),
        Err(e) => Output::err(e),
    }
}

fn glob_inner(paths: &Paths, inp: &SearchIn, limit: usize) -> Result<String, String> {
    if inp.pattern.is_empty() {
        return Err("glob: pattern is required".into());
    }
    let (root, pattern) = if let Some(rest) = inp.pattern.strip_prefix('/') {
        if !paths.unrestricted {
            return Err("glob: absolute pattern not permitted".into());
        }
        (Root::at(Path::new("/")), rest.to_string())
    } else {
        (search_root(paths, "glob", &inp.path)?, inp.pattern.clone())
    };
    let segs: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    if !paths.unrestricted && segs.contains(&"..") {
        return Err(format!(
            "glob: pattern {:?} must not contain a \"..\" segment",
            inp.pattern
        ));
    }
    if segs
        .iter()
        .any(|s| *s != "**" && segment_match(s, "").is_none())
    {
        return Err("glob: syntax error in pattern".into());
    }
    let mut found: Vec<(SystemTime, String)> = Vec::new();
    let cut = walk(&root.walk, limit, &mut |rel, _, meta| {
        let parts: Vec<&str> = rel.split('/').collect();
        if path_match(&segs, &parts) {
            let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            found.push((mtime, shown(&root.shown, rel)));
        }
        Step::Continue
    });
    let note = cut.map(|rel| cut_short(limit, &root.shown, &rel));
    if found.is_empty() {
        return Ok(match note {
            Some(note) => format!("no matches\n{note}"),
            None => "no matches".into(),
        });
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.truncate(MAX_GLOB_RESULTS);
    let mut lines: Vec<String> = found.into_iter().map(|(_, p)| p).collect();
    lines.extend(note);
    Ok(lines.join("\n"))
}

/// Whether `text` matches `pattern`, where a star element matches any run
/// of text elements and every other one exactly one (`one` says whether it
/// does). Dynamic programming: time proportional to the two lengths'
/// product, however many stars (backtracking is exponential in them).
fn wildcard<P, T>(
    pattern: &[P],
    text: &[T],
    star: impl Fn(&P) -> bool,
    one: impl Fn(&P, &T) -> bool,
) -> bool {
    // done[j]: the pattern so far matches text[..j].
    let mut done = vec![false; text.len() + 1];
    done[0] = true;
    for p in pattern {
        let mut next = vec![false; text.len() + 1];
        if star(p) {
            let mut reached = false;
            for j in 0..=text.len() {
                reached |= done[j];
                next[j] = reached;
            }
        } else {
            for j in 1..=text.len() {
                next[j] = done[j - 1] && one(p, &text[j - 1]);
            }
        }
        done = next;
    }
    done[text.len()]
}

/// `**` matches zero or more segments; other segments match one each.
pub fn path_match(pat: &[&str], path: &[&str]) -> bool {
    wildcard(
        pat,
        path,
        |seg| *seg == "**",
        |seg, name| segment_match(seg, name).unwrap_or(false),
    )
}

/// One element of a segment pattern.
enum Tok<'a> {
    Star,
    Any,
    Class(&'a [char]),
    Lit(char),
}

/// Shell-style match of one segment (`*`, `?`, `[...]`, `[^...]`, `\`), as
/// Go's `path.Match`; `None` for a malformed pattern.
pub fn segment_match(pattern: &str, name: &str) -> Option<bool> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Validate the whole pattern first, so errors do not depend on the name.
    let mut toks = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' if i + 1 >= p.len() => return None,
            '\\' => {
                toks.push(Tok::Lit(p[i + 1]));
                i += 2;
            }
            '[' => {
                let end = class_end(&p, i)?;
                toks.push(Tok::Class(&p[i + 1..end - 1]));
                i = end;
            }
            '*' => {
                toks.push(Tok::Star);
                i += 1;
            }
            '?' => {
                toks.push(Tok::Any);
                i += 1;
            }
            c => {
                toks.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    Some(wildcard(
        &toks,
        &n,
        |t| matches!(t, Tok::Star),
        |t, c| match t {
            Tok::Star | Tok::Any => true,
            Tok::Class(class) => class_matches(class, *c),
            Tok::Lit(l) => l == c,
        },
    ))
}

/// Index just past the `]` closing the class opened at `start`.
fn class_end(p: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if p.get(i) == Some(&'^') {
        i += 1;
    }
    let mut first = true;
    loop {
        match p.get(i) {
            None => return None,
            Some(']') if !first => return Some(i + 1),
            Some('\\') => i += 2,
            Some(_) => i += 1,
        }
        first = false;
    }
}

fn class_matches(class: &[char], c: char) -> bool {
    let (negate, body) = match class.first() {
        Some('^') => (true, &class[1..]),
        _ => (false, class),
    };
    let mut i = 0;
    let mut hit = false;
    let unescape = |i: &mut usize| -> char {
        if body[*i] == '\\' && *i + 1 < body.len() {
            *i += 1;
        }
        let ch = body[*i];
        *i += 1;
        ch
    };
    while i < body.len() {
        let lo = unescape(&mut i);
        let hi = if i + 1 < body.len() && body[i] == '-' {
            i += 1;
            unescape(&mut i)
        } else {
            lo
        };
        if lo <= c && c <= hi {
            hit = true;
        }
    }
    hit != negate
}

/// The first executable named `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

pub async fn grep(paths: &Paths, input: &Value, nest: Option<&Nest>) -> Output {
    let inp: SearchIn = match decode("grep", input) {
        Ok(i) => i,
        Err(o) => return o,
    };
    if inp.pattern.is_empty() {
        return Output::err("grep: pattern is required");
    }
    let root = match search_root(paths, "grep", &inp.path) {
        Ok(r) => r,
        Err(e) => return Output::err(e),
    };
    match which("rg") {
        Some(rg) => ripgrep(&rg, &inp.pattern, &root, nest).await,
        None => builtin_grep_off_thread(inp.pattern, root).await,
    }
}

/// [`builtin_grep`] on a blocking thread.
async fn builtin_grep_off_thread(pattern: String, root: Root) -> Output {
    tokio::task::spawn_blocking(move || builtin_grep(&pattern, &root))
        .await
        .unwrap_or_else(|e| Output::err(format!("grep: {e}")))
}

async fn ripgrep(rg: &Path, pattern: &str, root: &Root, nest: Option<&Nest>) -> Output {
    let mut cmd = tokio::process::Command::new(rg);
    cmd.args([
        "-n",
        "--no-heading",
        "--max-filesize",
        "8388608",
        "-e",
        pattern,
        "--",
    ]);
    if root.shown.is_absolute() {
        cmd.arg(&root.walk);
    } else {
        // Relative paths (`./a.txt`): search `.` from the directory.
        cmd.current_dir(&root.walk).arg(&root.shown);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(nest) = nest {
        // SAFETY: the hook is one system call, safe between fork and exec.
        unsafe { cmd.pre_exec(nest.hook()) };
    }
    let child = cmd.spawn();
    let mut child = match child {
        Ok(c) => c,
        // An rg outside what the confinement lets us run: search ourselves.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return builtin_grep_off_thread(pattern.to_string(), root.clone()).await;
        }
        Err(e) => return Output::err(format!("grep: rg failed: {e}")),
    };
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Output::err("grep: rg failed: no output pipes");
    };
    // Only the first 100 KiB are kept: past that, the pipe is closed and rg
    // stops (however much a broad pattern would have printed).
    let (out, err) = tokio::join!(head(stdout, OUTPUT_CAP + 1), head(stderr, OUTPUT_CAP));
    let status = child.wait().await;
    let (mut out, err) = match (out, err) {
        (Ok(o), Ok(e)) => (o, e),
        (Err(e), _) | (_, Err(e)) => return Output::err(format!("grep: rg failed: {e}")),
    };
    let cut = out.len() > OUTPUT_CAP;
    let code = match status {
        _ if cut => Some(0),
        Ok(s) => s.code(),
        Err(e) => return Output::err(format!("grep: rg failed: {e}")),
    };
    match code {
        Some(0) => {
            out.truncate(OUTPUT_CAP);
            let mut s = String::from_utf8_lossy(&out).into_owned();
            if cut {
                s.push_str("\n[output truncated]");
            }
            Output::ok(s)
        }
        Some(1) => Output::ok("no matches"),
        code => {
            let status = match code {
                Some(c) => format!("exit status {c}"),
                None => "signal: killed".into(),
            };
            Output::err(format!(
                "grep: rg failed: {status}: {}",
                String::from_utf8_lossy(&err)
            ))
        }
    }
}

/// The first `cap` bytes of `r`. Stops reading (and drops `r`, closing a
/// pipe) once it has them; reads to the end otherwise.
async fn head(mut r: impl tokio::io::AsyncRead + Unpin, cap: usize) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    let mut chunk = [0u8; 16384];
    while out.len() < cap {
        let n = r.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    Ok(out)
}

/// The built-in search when ripgrep is missing.
pub fn builtin_grep(pattern: &str, root: &Root) -> Output {
    let re = match regex::Regex::new(pattern) {
        Ok(r) => r,
        Err(e) => return Output::err(format!("grep: invalid regex: {e}")),
    };
    let mut lines: Vec<String> = Vec::new();
    let mut budget = 0usize;
    let mut truncated = false;
    let mut files = 0usize;
    let mut cut = None;
    // Every regular file counts towards the 50,000, searched or too big.
    let mut search_file = |path: &Path, meta: &std::fs::Metadata, shown: &str| -> bool {
        if !meta.is_file() {
            return true;
        }
        files += 1;
        if files > MAX_WALK {
            cut = Some(shown.to_string());
            return false;
        }
        if meta.len() > MAX_GREP_FILE {
            return true;
        }
        // Opened once, not following a symlink swapped in since the walk
        // saw a file, never blocking on a FIFO, read up to the limit.
        let opened = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        );
        let Ok(bytes) = opened
            .map_err(std::io::Error::from)
            .map_err(super::fs::Refused::Io)
            .and_then(|fd| super::fs::read_capped(fd, MAX_GREP_FILE))
        else {
            return true;
        };
        if bytes[..bytes.len().min(512)].contains(&0) {
            return true;
        }
        // Split on every newline, as the official tool: a final newline
        // leaves an empty last line (which `^$` matches).
        let text = String::from_utf8_lossy(&bytes);
        for (i, line) in text.split('\n').enumerate() {
            if !re.is_match(line) {
                continue;
            }
            let entry = format!("{shown}:{}:{line}", i + 1);
            budget += entry.len() + 1;
            if budget > OUTPUT_CAP {
                truncated = true;
                return false;
            }
            lines.push(entry);
        }
        true
    };
    match root.walk.symlink_metadata() {
        Ok(m) if m.is_file() => {
            search_file(&root.walk, &m, &root.shown.to_string_lossy());
        }
        _ => {
            walk(&root.walk, usize::MAX, &mut |rel, path, meta| {
                let name = rel.rsplit('/').next().unwrap_or(rel);
                if meta.is_dir() && (name == ".git" || name == "node_modules") {
                    Step::SkipDir
                } else if search_file(path, meta, &shown(&root.shown, rel)) {
                    Step::Continue
                } else {
                    Step::Stop
                }
            });
        }
    }
    if truncated {
        lines.push("[output truncated]".into());
    }
    let note = cut.map(|at| {
        format!(
            "[grep stopped after {MAX_WALK} files, at {at}: there may be more matches; give a narrower path]"
        )
    });
    if lines.is_empty() {
        return Output::ok(match note {
            Some(note) => format!("no matches\n{note}"),
            None => "no matches".into(),
        });
    }
    lines.extend(note);
    Output::ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn segments_match_like_go_path_match() {
        let m = |p: &str, n: &str| segment_match(p, n).unwrap();
        assert!(m("*.rs", "main.rs"));
        assert!(!m("*.rs", "main.rsx"));
        assert!(m("a?c", "abc"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[^a-c]x", "bx"));
        assert!(m("\\*", "*"));
        assert!(segment_match("[a-", "a").is_none());
        assert!(segment_match("ab\\", "ab").is_none());
        let pm = |p: &str, n: &str| {
            path_match(
                &p.split('/').collect::<Vec<_>>(),
                &n.split('/').collect::<Vec<_>>(),
            )
        };
        assert!(pm("**/*.go", "a.go"));
        assert!(pm("**/*.go", "x/y/a.go"));
        assert!(pm("src/**", "src"));
        assert!(pm("src/**/b", "src/a/b"));
        assert!(!pm("*.go", "x/a.go"));
        assert!(pm("**/**/b/**", "a/b"));
    }

    #[test]
    fn many_stars_match_in_linear_time() {
        // Backtracking takes exponential time on these; the official matcher does not.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let name = "a".repeat(60);
            let stars = "*a".repeat(20) + "b";
            let deep: Vec<&str> = std::iter::repeat_n("d", 40).collect();
            let globs: Vec<&str> = std::iter::repeat_n("**", 20).chain(["z"]).collect();
            let _ = tx.send((segment_match(&stars, &name), path_match(&globs, &deep)));
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("matched within 10 s");
        assert_eq!(got, (Some(false), false));
    }

    #[test]
    fn glob_lists_newest_first_and_refuses_escapes() {
        let t = tempfile::tempdir().unwrap();
        let p = Paths::new(t.path(), false);
        std::fs::create_dir_all(t.path().join("sub")).unwrap();
        std::fs::write(t.path().join("old.txt"), "").unwrap();
        let old = std::fs::File::options()
            .write(true)
            .open(t.path().join("old.txt"))
            .unwrap();
        old.set_modified(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000))
            .unwrap();
        std::fs::write(t.path().join("sub/new.txt"), "").unwrap();
        let out = glob(&p, &json!({"pattern": "**/*.txt"}));
        let w = t.path().display();
        assert_eq!(out, Output::ok(format!("{w}/sub/new.txt\n{w}/old.txt")));
        assert_eq!(
            glob(&p, &json!({"pattern": "*.md"})),
            Output::ok("no matches")
        );
        assert_eq!(
            glob(&p, &json!({"pattern": "/etc/*"})),
            Output::err("glob: absolute pattern not permitted")
        );
        assert_eq!(
            glob(&p, &json!({"pattern": "../*"})),
            Output::err("glob: pattern \"../*\" must not contain a \"..\" segment")
        );
        assert_eq!(
            glob(&p, &json!({"pattern": "*", "path": "../"})).text,
            "glob: path \"../\" escapes workdir"
        );
    }

    #[test]
    fn a_walk_cut_short_says_so_and_where() {
        let t = tempfile::tempdir().unwrap();
        let p = Paths::new(t.path(), false);
        for d in ["a", "b", "c"] {
            std::fs::create_dir_all(t.path().join(d)).unwrap();
            std::fs::write(t.path().join(d).join("x.txt"), "").unwrap();
        }
        let inp = |pattern: &str| SearchIn {
            pattern: pattern.into(),
            path: None,
        };
        let w = t.path().display();
        // a, a/x.txt, b, b/x.txt: the walk stops at c.
        assert_eq!(
            glob_inner(&p, &inp("c/*.txt"), 4).unwrap(),
            format!(
                "no matches\n[glob stopped after 4 entries, at {w}/c: there may be more matches; give a narrower path or pattern]"
            )
        );
        let some = glob_inner(&p, &inp("*/x.txt"), 4).unwrap();
        assert!(
            some.starts_with(&format!("{w}/"))
                && some.ends_with(
                    "at {w}/c: there may be more matches; give a narrower path or pattern]"
                        .replace("{w}", &w.to_string())
                        .as_str()
                ),
            "{some}"
        );
        assert_eq!(some.lines().count(), 3, "{some}");
        assert_eq!(
            glob_inner(&p, &inp("c/*.txt"), 6).unwrap(),
            format!("{w}/c/x.txt")
        );
    }

    #[test]
    fn builtin_grep_skips_binaries_and_vcs_dirs() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let root = &Root::at(dir);
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join(".git/config"), "needle\n").unwrap();
        std::fs::write(dir.join("bin"), b"needle\0").unwrap();
        std::fs::write(dir.join("src/a.txt"), "x\nneedle one\nneedle two\n").unwrap();
        let w = dir.display();
        assert_eq!(
            builtin_grep("needle", root),
            Output::ok(format!(
                "{w}/src/a.txt:2:needle one\n{w}/src/a.txt:3:needle two"
            ))
        );
        assert_eq!(builtin_grep("absent", root), Output::ok("no matches"));
        // The empty line after the final newline is a line too.
        assert_eq!(
            builtin_grep("^$", root),
            Output::ok(format!("{w}/src/a.txt:4:"))
        );
        // Depth first in lexical order, as the official walk: src/ before z.txt.
        std::fs::write(dir.join("z.txt"), "needle z\n").unwrap();
        assert_eq!(
            builtin_grep("needle", root),
            Output::ok(format!(
                "{w}/src/a.txt:2:needle one\n{w}/src/a.txt:3:needle two\n{w}/z.txt:1:needle z"
            ))
        );
        std::fs::remove_file(dir.join("z.txt")).unwrap();
        assert!(
            builtin_grep("(", root)
                .text
                .starts_with("grep: invalid regex: ")
        );
        let big: String = (0..20_000).map(|i| format!("needle {i}\n")).collect();
        std::fs::write(dir.join("src/big.txt"), big).unwrap();
        let out = builtin_grep("needle", root).text;
        assert!(out.ends_with("\n[output truncated]"));
        assert!(out.len() <= OUTPUT_CAP + 64);
    }

    #[test]
    fn ripgrep_and_the_builtin_search_print_the_same_lines() {
        let Some(rg) = which("rg") else {
            eprintln!("skipped: ripgrep (rg) is not on PATH; only the built-in search was tested");
            return;
        };
        let t = tempfile::tempdir().unwrap();
        let root = &Root::at(t.path());
        std::fs::create_dir_all(t.path().join("src")).unwrap();
        std::fs::write(t.path().join("src/a.txt"), "x\nneedle one\nneedle two\n").unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // rg's lines as it prints them (ending in a newline), the built-in's
        // joined by newlines: both as the official tool gives them.
        let via_rg = rt.block_on(ripgrep(&rg, "needle", root, None)).text;
        assert_eq!(via_rg, builtin_grep("needle", root).text + "\n");
        // Under a relative workdir both print paths relative to it.
        let relative = &Root {
            walk: t.path().to_path_buf(),
            shown: PathBuf::from("."),
        };
        assert_eq!(
            rt.block_on(ripgrep(&rg, "two", relative, None)),
            Output::ok("./src/a.txt:3:needle two\n")
        );
        assert_eq!(
            builtin_grep("two", relative),
            Output::ok("src/a.txt:3:needle two")
        );
        assert_eq!(
            rt.block_on(ripgrep(&rg, "absent", root, None)),
            Output::ok("no matches")
        );
        let bad = rt.block_on(ripgrep(&rg, "(", root, None));
        assert!(
            bad.is_error && bad.text.starts_with("grep: rg failed: exit status 2: "),
            "{}",
            bad.text
        );
    }

    #[test]
    fn ripgrep_output_is_cut_at_100_kib_without_reading_the_rest() {
        let t = tempfile::tempdir().unwrap();
        // An `rg` that prints forever (a pattern matching everything in a huge tree).
        let rg = t.path().join("rg");
        std::fs::write(&rg, "#!/bin/sh\nexec yes 'a.txt:1:needle'\n").unwrap();
        std::fs::set_permissions(&rg, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let out = rt
            .block_on(async {
                tokio::time::timeout(
                    std::time::Duration::from_secs(20),
                    ripgrep(&rg, "needle", &Root::at(t.path()), None),
                )
                .await
            })
            .expect("returns once it has 100 KiB");
        assert!(!out.is_error);
        assert!(out.text.ends_with("\n[output truncated]"));
        assert_eq!(out.text.len(), OUTPUT_CAP + "\n[output truncated]".len());
    }
}

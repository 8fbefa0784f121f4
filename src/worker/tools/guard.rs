//! The workdir guard of the file tools (read, write, edit, glob and grep
//! paths): a path is joined to the workdir, every symlink on the way is
//! resolved (also dangling ones, whose target may not exist yet) and the
//! result must stay inside the workdir, else `<tool>: path "…" escapes workdir`.

use std::path::{Component, Path, PathBuf};

use super::Paths;

/// Max symlinks followed while resolving one path.
const MAX_HOPS: usize = 255;

/// Lexical clean: drops `.`, folds `..` (never above the root of an absolute path).
pub fn clean(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Resolves symlinks along `p` (absolute), following dangling links too;
/// components past the first missing one are kept as they are. `None` on a
/// symlink loop.
pub fn resolve(p: &Path) -> Option<PathBuf> {
    let mut done = PathBuf::from("/");
    let mut todo: Vec<std::ffi::OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .rev()
        .collect();
    let mut hops = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            done.pop();
            continue;
        }
        let next = done.join(&name);
        match std::fs::symlink_metadata(&next) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                if hops > MAX_HOPS {
                    return None;
                }
                let target = std::fs::read_link(&next).ok()?;
                if target.is_absolute() {
                    done = PathBuf::from("/");
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(s) => todo.push(s.to_os_string()),
                        Component::ParentDir => todo.push("..".into()),
                        _ => {}
                    }
                }
            }
            Ok(_) => done = next,
            Err(_) => {
                // Missing: the rest cannot contain symlinks yet.
                done = next;
                while let Some(rest) = todo.pop() {
                    if rest == ".." {
                        done.pop();
                    } else {
                        done.push(rest);
                    }
                }
            }
        }
    }
    Some(done)
}

/// The path a file tool may use for `input`, or the escape error.
pub fn check(paths: &Paths, tool: &str, input: &str) -> Result<PathBuf, String> {
    let raw = Path::new(input);
    let joined = if raw.is_absolute() {
        raw.to_path_buf()
    } else {
        paths.root.join(raw)
    };
    if paths.unrestricted {
        return Ok(clean(&joined));
    }
    let cleaned = clean(&joined);
    let resolved = resolve(&cleaned).unwrap_or(cleaned);
    if resolved == paths.root || resolved.starts_with(&paths.root) {
        Ok(resolved)
    } else {
        Err(format!("{tool}: path {input:?} escapes workdir"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn setup() -> (tempfile::TempDir, Paths) {
        let t = tempfile::tempdir().unwrap();
        let work = t.path().join("work");
        std::fs::create_dir_all(work.join("sub")).unwrap();
        std::fs::write(t.path().join("secret"), "s").unwrap();
        symlink(t.path().join("secret"), work.join("out")).unwrap();
        symlink("sub", work.join("in")).unwrap();
        symlink(t.path().join("nowhere/x"), work.join("dangling")).unwrap();
        symlink("../work/sub/later", work.join("dangling_in")).unwrap();
        symlink("loop2", work.join("loop1")).unwrap();
        symlink("loop1", work.join("loop2")).unwrap();
        let paths = Paths::new(&work, false);
        (t, paths)
    }

    #[test]
    fn paths_inside_pass_and_escapes_are_refused() {
        let (_t, p) = setup();
        let root = p.root.clone();
        assert_eq!(check(&p, "read", "a.txt").unwrap(), root.join("a.txt"));
        assert_eq!(check(&p, "read", "sub/../b").unwrap(), root.join("b"));
        assert_eq!(check(&p, "read", "in/x").unwrap(), root.join("sub/x"));
        assert_eq!(check(&p, "read", ".").unwrap(), root);
        assert_eq!(
            check(&p, "write", "dangling_in").unwrap(),
            root.join("sub/later")
        );
        let abs = root.join("sub/new.txt");
        assert_eq!(check(&p, "write", abs.to_str().unwrap()).unwrap(), abs);
        // A symlink loop is used unresolved (opening it fails later).
        assert_eq!(check(&p, "read", "loop1").unwrap(), root.join("loop1"));
        for bad in [
            "../secret",
            "out",
            "dangling",
            "/etc/passwd",
            "sub/../../secret",
        ] {
            assert_eq!(
                check(&p, "read", bad).unwrap_err(),
                format!("read: path {bad:?} escapes workdir"),
                "{bad}"
            );
        }
    }

    #[test]
    fn unrestricted_paths_are_only_cleaned() {
        let (_t, mut p) = setup();
        p.unrestricted = true;
        assert_eq!(
            check(&p, "read", "/etc/../etc/passwd").unwrap(),
            PathBuf::from("/etc/passwd")
        );
        assert_eq!(
            check(&p, "read", "../x").unwrap(),
            p.root.parent().unwrap().join("x")
        );
    }

    #[test]
    fn clean_folds_dots() {
        assert_eq!(clean(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(clean(Path::new("/../a")), PathBuf::from("/a"));
        assert_eq!(clean(Path::new("a/..")), PathBuf::from("."));
        assert_eq!(clean(Path::new("../a")), PathBuf::from("../a"));
    }
}

//! Filesystem operations beneath a directory file descriptor that never
//! follow a symlink. A path is walked one name at a time with
//! `openat(O_NOFOLLOW)`, so a symlink that an agent swaps in between a
//! check and a use makes the operation fail (`ELOOP`, `ENOTDIR`) instead of
//! leading it out of the directory. The worker uses it for skill set-up,
//! extraction and cleanup (unconfined, in the workdir the agent writes to),
//! the tool host for `read`, `write` and `edit`.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

/// Deepest tree [`Dir::remove_all`] descends into.
const MAX_DEPTH: usize = 256;

/// An open directory.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
}

/// The names of a relative path, without `.`; `..`, a root or a prefix is
/// refused (the caller resolved the path already).
pub fn names(rel: &Path) -> io::Result<Vec<&OsStr>> {
    rel.components()
        .filter(|c| *c != Component::CurDir)
        .map(|c| match c {
            Component::Normal(n) => Ok(n),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: not a plain relative path", rel.display()),
            )),
        })
        .collect()
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

impl Dir {
    /// Opens a directory the operator named (a workdir): symlinks on the
    /// way are followed, as the path is not the agent's.
    pub fn open(path: &Path) -> io::Result<Dir> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Dir { fd })
    }

    fn child(&self, name: &OsStr) -> io::Result<Dir> {
        let fd = rustix::fs::openat(&self.fd, name, dir_flags(), Mode::empty())?;
        Ok(Dir { fd })
    }

    /// Another handle on this directory.
    pub fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir {
            fd: self.fd.try_clone()?,
        })
    }

    /// The directory `rel` beneath this one, no name on the way a symlink.
    pub fn dir(&self, rel: &Path) -> io::Result<Dir> {
        let mut at = self.try_clone()?;
        for name in names(rel)? {
            at = at.child(name)?;
        }
        Ok(at)
    }

    /// [`Dir::dir`], creating missing directories with `mode`.
    pub fn create_dirs(&self, rel: &Path, mode: u32) -> io::Result<Dir> {
        let mut at = self.try_clone()?;
        for name in names(rel)? {
            match rustix::fs::mkdirat(&at.fd, name, Mode::from_raw_mode(mode)) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
            at = at.child(name)?;
        }
        Ok(at)
    }

    /// Opens the entry `name` of this directory with `flags` (plus
    /// `O_NOFOLLOW` and `O_CLOEXEC`), creating it with `mode` when asked.
    pub fn open_at(&self, name: &OsStr, flags: OFlags, mode: u32) -> io::Result<OwnedFd> {
        let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        Ok(rustix::fs::openat(
            &self.fd,
            name,
            flags,
            Mode::from_raw_mode(mode),
        )?)
    }

    /// Whether `name` exists here (a symlink counts as itself).
    pub fn exists(&self, name: &OsStr) -> io::Result<bool> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => Ok(true),
            Err(rustix::io::Errno::NOENT) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Renames the entry `from` to `to`, both in this directory (a symlink
    /// at `to` is replaced, never followed).
    pub fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        Ok(rustix::fs::renameat(&self.fd, from, &self.fd, to)?)
    }

    /// Removes the file, symlink or empty directory `name`.
    pub fn remove(&self, name: &OsStr) -> io::Result<()> {
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Err(rustix::io::Errno::ISDIR) => {
                Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR)?)
            }
            r => Ok(r?),
        }
    }

    /// Removes `name` and, when it is a directory, everything below it; a
    /// symlink is removed itself, never followed. A missing `name` is fine.
    pub fn remove_all(&self, name: &OsStr) -> io::Result<()> {
        self.remove_tree(name, 0)
    }

    fn remove_tree(&self, name: &OsStr, depth: usize) -> io::Result<()> {
        let stat = match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(s) => s,
            Err(rustix::io::Errno::NOENT) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
            if depth >= MAX_DEPTH {
                return Err(io::Error::other(format!(
                    "more than {MAX_DEPTH} directories deep"
                )));
            }
            let sub = self.child(name)?;
            for entry in sub.entries()? {
                sub.remove_tree(&entry, depth + 1)?;
            }
        }
        match self.remove(name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    /// The names in this directory (without `.` and `..`).
    pub fn entries(&self) -> io::Result<Vec<std::ffi::OsString>> {
        use std::os::unix::ffi::OsStrExt;
        let mut dir = rustix::fs::Dir::read_from(self.fd.as_fd())?;
        let mut out = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                out.push(OsStr::from_bytes(name).to_os_string());
            }
        }
        Ok(out)
    }
}

impl AsFd for Dir {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A symlink opened as a directory without following it: `ENOTDIR`
    /// (or `ELOOP` for a file).
    fn refused_link(e: &io::Error) -> bool {
        matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ELOOP))
    }

    #[test]
    fn no_walk_follows_a_symlink() {
        let t = tempfile::tempdir().unwrap();
        let (work, outside) = (t.path().join("work"), t.path().join("outside"));
        std::fs::create_dir_all(work.join("real/sub")).unwrap();
        std::fs::create_dir_all(outside.join("sub")).unwrap();
        std::fs::write(outside.join("sub/keep"), "x").unwrap();
        symlink(&outside, work.join("link")).unwrap();
        let root = Dir::open(&work).unwrap();
        assert!(root.dir(Path::new("real/sub")).is_ok());
        for rel in ["link", "link/sub"] {
            let e = root.dir(Path::new(rel)).unwrap_err();
            assert!(refused_link(&e), "{rel}: {e}");
        }
        let e = root
            .create_dirs(Path::new("link/sub/new"), 0o755)
            .unwrap_err();
        assert!(refused_link(&e), "{e}");
        assert!(!outside.join("sub/new").exists());
        assert!(root.dir(Path::new("../outside")).is_err());
        assert!(root.dir(Path::new("/etc")).is_err());
        let e = root
            .open_at(OsStr::new("link"), OFlags::RDONLY, 0)
            .unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ELOOP), "{e}");
        // Removing the link removes the link, not what it leads to.
        root.remove_all(OsStr::new("link")).unwrap();
        assert!(outside.join("sub/keep").exists());
        assert!(!root.exists(OsStr::new("link")).unwrap());
    }

    #[test]
    fn remove_all_removes_a_tree_and_leaves_links_targets_alone() {
        let t = tempfile::tempdir().unwrap();
        let (work, outside) = (t.path().join("work"), t.path().join("outside"));
        std::fs::create_dir_all(work.join("tree/a/b")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("keep"), "x").unwrap();
        std::fs::write(work.join("tree/a/b/f"), "x").unwrap();
        symlink(&outside, work.join("tree/a/out")).unwrap();
        let root = Dir::open(&work).unwrap();
        let made = root.create_dirs(Path::new("tree/a/c/d"), 0o700).unwrap();
        assert!(made.entries().unwrap().is_empty());
        root.remove_all(OsStr::new("tree")).unwrap();
        assert!(!work.join("tree").exists());
        assert!(outside.join("keep").exists());
        root.remove_all(OsStr::new("missing")).unwrap();
    }
}

//! While the explorer is on the screen, whatever `ant` writes to stderr
//! (`--debug` logs, retry notes, warnings) would land on top of it. When
//! stderr is a terminal, it goes to a scratch file instead while the
//! explorer is open, and is written to the terminal once that is back.
//! Redirected stderr (`2>log`) is left alone.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Mutex;

/// The real stderr and the scratch file standing in for it.
static HELD: Mutex<Option<(OwnedFd, File)>> = Mutex::new(None);

/// Sends stderr to a scratch file, if it is a terminal (and was not already).
pub fn hold() {
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: isatty on a descriptor number.
    if held.is_some() || unsafe { libc::isatty(libc::STDERR_FILENO) } != 1 {
        return;
    }
    let Ok(scratch) = scratch_file() else {
        return;
    };
    // SAFETY: duplicating stderr (to a new descriptor this function then
    // owns), and pointing descriptor 2 at the scratch file.
    unsafe {
        let saved = libc::fcntl(libc::STDERR_FILENO, libc::F_DUPFD_CLOEXEC, 3);
        if saved < 0 {
            return;
        }
        let saved = OwnedFd::from_raw_fd(saved);
        if libc::dup2(scratch.as_raw_fd(), libc::STDERR_FILENO) < 0 {
            return;
        }
        *held = Some((saved, scratch));
    }
}

/// Puts stderr back and writes out what was held meanwhile.
pub fn release() {
    let Some((saved, mut scratch)) = HELD.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return;
    };
    // SAFETY: pointing descriptor 2 back at the stderr `hold` saved.
    unsafe { libc::dup2(saved.as_raw_fd(), libc::STDERR_FILENO) };
    drop(saved);
    if scratch.seek(SeekFrom::Start(0)).is_ok() {
        let mut err = std::io::stderr().lock();
        let _ = std::io::copy(&mut scratch, &mut err);
        let _ = err.flush();
    }
}

/// A new, already unlinked file in the temporary directory, readable by
/// this user only.
fn scratch_file() -> std::io::Result<File> {
    let dir = std::env::temp_dir();
    let mut n = 0u32;
    loop {
        let path = dir.join(format!("ant-stderr-{}-{n}", std::process::id()));
        match File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => {
                let _ = std::fs::remove_file(&path);
                return Ok(f);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

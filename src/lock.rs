//! Job locks: while a process trains a job it holds that job's lock file,
//! so two `sweep run` processes sharing a results folder never train the
//! same job at once (shards never contend; unsharded runs share the work).
//!
//! A lock is an advisory `flock` on `<out>/.tmp/<job_id>.lock`, which holds
//! the owner's pid for messages. The kernel drops the lock when its process
//! dies, however it dies (SIGKILL included), so a lock left behind by a
//! killed run is stale at once and the next run takes it over: the file's
//! content is never trusted for that. Works across machines on NFS (Linux
//! emulates flock with NFS byte-range locks).
//!
//! Releasing removes the file *while still holding the lock*, and taking a
//! lock checks that the path still names the file that was locked; so a
//! process that opened the file just before it was removed retries instead
//! of holding a lock on a file nobody else can see. Where the file system
//! has no locks at all, jobs run unlocked (as before locks existed).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// A held lock; dropping it removes the file and releases the lock.
#[derive(Debug)]
pub struct FileLock {
    path: PathBuf,
    // Held for its flock; closed (so unlocked) on drop, after the removal.
    _file: File,
}

/// Who holds a lock, as its file says (best effort: the owner writes it
/// just after locking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner(pub String);

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() { f.write_str("another process") } else { write!(f, "pid {}", self.0) }
    }
}

impl FileLock {
    /// Takes the lock at `path` without waiting: `Ok(Err(owner))` when
    /// another process (or another handle in this one) holds it.
    pub fn try_acquire(path: &Path) -> io::Result<Result<FileLock, Owner>> {
        loop {
            let mut file =
                OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Ok(Err(read_owner(&mut file))),
                // A file system without locks (NFS mounted `nolock`, say):
                // run unlocked rather than not at all.
                Err(TryLockError::Error(e)) if unsupported(&e) => {}
                Err(TryLockError::Error(e)) => return Err(e),
            }
            if !same_file(&file, path) {
                // Released and removed between our open and our lock: the
                // lock we hold is on a file nobody else sees. Try again.
                continue;
            }
            // The pid is for messages only: a full disk must not fail the lock.
            let _ = file.set_len(0).and_then(|()| file.write_all(std::process::id().to_string().as_bytes()));
            return Ok(Ok(FileLock { path: path.to_path_buf(), _file: file }));
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Removed while locked; `_file` closes (unlocks) right after.
        let _ = fs::remove_file(&self.path);
    }
}

/// Locking is not available here (ENOLCK, EOPNOTSUPP: Linux numbers).
fn unsupported(e: &io::Error) -> bool {
    const ENOLCK: i32 = 37;
    const EOPNOTSUPP: i32 = 95;
    e.kind() == io::ErrorKind::Unsupported || matches!(e.raw_os_error(), Some(ENOLCK | EOPNOTSUPP))
}

fn read_owner(file: &mut File) -> Owner {
    let mut s = String::new();
    let _ = file.read_to_string(&mut s);
    Owner(s.trim().chars().filter(char::is_ascii_digit).take(12).collect())
}

/// Whether `path` still names the open `file`.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Elsewhere a lock file cannot be removed while open, so it always is.
#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_excludes_a_second_taker_and_vanishes_on_release() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("job.lock");
        let held = FileLock::try_acquire(&p).unwrap().unwrap();
        let busy = FileLock::try_acquire(&p).unwrap().unwrap_err();
        assert_eq!(busy, Owner(std::process::id().to_string()));
        assert_eq!(busy.to_string(), format!("pid {}", std::process::id()));
        drop(held);
        assert!(!p.exists(), "released locks leave no file");
        let again = FileLock::try_acquire(&p).unwrap().unwrap();
        assert_eq!(again.path(), p);
    }

    #[test]
    fn a_left_over_lock_file_is_taken_over() {
        // What a killed process leaves: the file, with its (dead) pid, unlocked.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("job.lock");
        fs::write(&p, "4194999").unwrap();
        let lock = FileLock::try_acquire(&p).unwrap().unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), std::process::id().to_string());
        drop(lock);
    }
}

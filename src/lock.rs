//! Locks: a claim on a chunk of jobs, held while a process trains them, so
//! two `sweep run` processes sharing a results folder never train the same
//! job at once (shards never contend; unsharded runs share the work); a
//! process's workspace lock; and the study lock.
//!
//! A lock is an advisory `flock` on a file in `<out>/.sweep/tmp/`, which
//! holds the owner's pid for messages. The kernel drops the lock when its
//! process dies, however it dies (SIGKILL included), so a lock left behind
//! by a killed run is stale at once and the next run takes it over: the
//! file's content is never trusted for that. Works across machines on NFS
//! (Linux emulates flock with NFS byte-range locks).
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

/// A results folder held for one study (SPEC 6, One study per folder):
/// every process running that study holds a shared lock on
/// `.sweep/run-<study>.lock`, so shards and second runs of one study share
/// the folder, while a process of another study finds the lock held and is
/// refused. Like job locks, the kernel drops it however the process dies.
#[derive(Debug)]
pub struct StudyLock {
    // Held for its shared flock; released when closed.
    _file: File,
}

/// Who holds a folder for another study.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyOwner {
    /// `pid N (study NAME)` lines its holders wrote, the first one.
    pub holder: String,
}

impl std::fmt::Display for StudyOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.holder.is_empty() { f.write_str("another process") } else { f.write_str(&self.holder) }
    }
}

/// Takes the folder `own` (sweep's own folder of a results folder) for the
/// study `study` (a short hash of the manifest as run; `name` is for
/// messages). `Ok(Err(owner))` when a live process holds it for another
/// study. Lock files of studies nobody runs any more are removed.
pub fn hold_study(own: &Path, study: &str, name: &str) -> io::Result<Result<StudyLock, StudyOwner>> {
    // One process at a time looks and takes: a short exclusive gate.
    let gate =
        OpenOptions::new().read(true).write(true).create(true).truncate(false).open(own.join("gate.lock"))?;
    match gate.lock() {
        Err(e) if unsupported(&e) => {}
        other => other?,
    }
    let mine = format!("run-{study}.lock");
    for e in fs::read_dir(own)?.flatten() {
        let file_name = e.file_name().to_string_lossy().into_owned();
        if file_name == mine || !file_name.starts_with("run-") || !file_name.ends_with(".lock") {
            continue;
        }
        let mut other = OpenOptions::new().read(true).write(true).open(e.path())?;
        match other.try_lock() {
            Ok(()) => {
                // Nobody runs that study any more.
                let _ = fs::remove_file(e.path());
            }
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = other.read_to_string(&mut text);
                let holder = text.lines().next().unwrap_or("").trim().to_string();
                return Ok(Err(StudyOwner { holder }));
            }
            Err(TryLockError::Error(e)) if unsupported(&e) => {}
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
    let mut file = OpenOptions::new().read(true).append(true).create(true).open(own.join(&mine))?;
    match file.try_lock_shared() {
        Ok(()) => {}
        Err(TryLockError::Error(e)) if unsupported(&e) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(io::Error::other("the study lock is held exclusively (a clean-up in progress)"));
        }
        Err(TryLockError::Error(e)) => return Err(e),
    }
    // For messages only: a full disk must not fail the lock.
    let _ = writeln!(file, "pid {} (study {name})", std::process::id());
    drop(gate);
    Ok(Ok(StudyLock { _file: file }))
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

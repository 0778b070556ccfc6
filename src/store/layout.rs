//! Every name in a results folder, and which folders sweep may write
//! into: a new or empty folder, one with sweep's marker, or an older sweep's
//! (SPEC 6). Nothing is changed while a folder is judged.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{StoreError, io_at};
use crate::lock::{FileLock, Owner};

pub const MANIFEST: &str = "manifest.toml";
pub const SUMMARY: &str = "summary.csv";
pub const TIMING: &str = "timing.csv";
pub const JOBS: &str = "jobs";
/// The packed layout's files (`layout = "packed"`, see [`super::pack`]).
pub const PACKS: &str = "packs";
/// sweep's own folder inside a results folder: the marker and the
/// temporary place.
pub const OWN: &str = ".sweep";
/// The marker file, inside [`OWN`].
pub const MARKER: &str = "results-folder";
const MARKER_TEXT: &str =
    "This folder is a sweep results folder. sweep keeps its temporary files in .sweep/tmp/.\n";
/// The temporary place, relative to the results folder.
pub const TMP: &str = ".sweep/tmp";
/// The SHA-256 of manifest.toml as `run` wrote it (`sha256sum` format), so
/// readers tell the study run from a manifest.toml edited since; relative to
/// the results folder. Folders of an older sweep have none.
pub const MANIFEST_HASH: &str = ".sweep/manifest.sha256";
/// The temporary place of an older sweep (before [`OWN`]).
const LEGACY_TMP: &str = ".tmp";
/// What a results folder of an older sweep (before the marker) may hold.
const LEGACY_ENTRIES: &[&str] = &[MANIFEST, SUMMARY, TIMING, JOBS, LEGACY_TMP, REPORT, FIGURES, OWN];
pub const PARAMS: &str = "params.toml";
pub const CURVE: &str = "curve.csv";
pub const PREDICTIONS: &str = "predictions.csv";
pub const MODEL: &str = "model.json";
/// The end of a lock file's name in the temporary place (see [`crate::lock`]).
pub const LOCK_SUFFIX: &str = ".lock";
/// A process's workspace in the temporary place: `run.<pid>.<n>`, held by
/// `run.<pid>.<n>.lock`.
pub const WORKSPACE_PREFIX: &str = "run.";
/// A claim on a chunk of jobs: `claim.<I>-<N>.<first index>.lock`.
pub const CLAIM_PREFIX: &str = "claim.";

pub const CURVE_HEADER: &str = "epoch,loss,accuracy,test_loss,test_accuracy";
/// Columns of summary.csv after `job_id`, `seed` and one per parameter.
pub const SUMMARY_RESULT_COLUMNS: &[&str] = &[
    "final_loss",
    "final_accuracy",
    "final_test_loss",
    "final_test_accuracy",
    "min_loss",
    "epoch_at_target",
    "status",
    "diverged_epoch",
    "curve",
];

/// The report (`sweep report`), by default beside summary.csv.
pub const REPORT: &str = "report.md";
/// The report as a page to explore in a browser.
pub const PAGE: &str = "report.html";
/// The report's figures.
pub const FIGURES: &str = "figures";
/// Inside [`FIGURES`]: the figures a report wrote, one name a line, so a
/// later report removes those it no longer draws and never touches
/// anything else there.
pub const FIGURE_LIST: &str = ".sweep-figures";
/// The scripts `sweep slurm` writes and submits, and the Slurm logs.
pub const SLURM_SCRIPTS: &str = "slurm";
/// What a results folder holds that an `--out FILE` may never replace or
/// land in (SPEC 6, Ownership): its study, its jobs, sweep's own folders
/// and the files sweep derives from them.
pub const OWN_ENTRIES: [&str; 11] =
    [MANIFEST, SUMMARY, TIMING, JOBS, PACKS, OWN, REPORT, PAGE, FIGURES, SLURM_SCRIPTS, LEGACY_TMP];

/// The files of a job folder whose hashes params.toml records, in the order
/// `verify` reports them.
pub const HASHED_FILES: [&str; 4] = [PARAMS, CURVE, PREDICTIONS, MODEL];

/// Where the hashes start in params.toml: what comes before is what
/// params.toml's own hash covers.
pub(super) const FILES_TABLE: &str = "\n[files]\n";

/// A results folder.
#[derive(Debug, Clone)]
pub struct ResultsDir {
    pub root: PathBuf,
}

impl ResultsDir {
    pub fn new(root: impl Into<PathBuf>) -> ResultsDir {
        ResultsDir { root: root.into() }
    }

    /// Opens `root` for writing: creates it (with the marker) when it does
    /// not exist, adopts an empty folder or an older sweep's results folder,
    /// and refuses anything else (a home folder, a project folder, `/`)
    /// with [`StoreError::Refused`], before changing anything.
    pub fn create(&self) -> Result<(), StoreError> {
        match self.kind()? {
            FolderKind::Results => {}
            FolderKind::Missing | FolderKind::Empty | FolderKind::Legacy => {
                let own = self.root.join(OWN);
                fs::create_dir_all(&own).map_err(io_at(&own))?;
                let marker = own.join(MARKER);
                fs::write(&marker, MARKER_TEXT).map_err(io_at(&marker))?;
            }
            FolderKind::Foreign(entries) => return Err(self.not_ours(&entries, "choose another --out")),
            FolderKind::File => return Err(self.refused(format!("is a file, not a folder: {TO_WRITE}"))),
        }
        for p in [self.root.join(JOBS), self.root.join(TMP)] {
            fs::create_dir_all(&p).map_err(io_at(&p))?;
        }
        self.check_no_links()?;
        self.create_timing()
    }

    /// Checks that `root` is a results folder (with the marker, or an older
    /// sweep's), for the commands that read one.
    pub fn open(&self) -> Result<(), StoreError> {
        match self.kind()? {
            FolderKind::Results | FolderKind::Legacy => Ok(()),
            FolderKind::Missing => {
                Err(self.refused(format!("not a results folder (no such directory): {TO_READ}")))
            }
            FolderKind::Empty => {
                Err(self.refused(format!("not a results folder (an empty folder): {TO_READ}")))
            }
            FolderKind::File => Err(self.refused(format!("is a file, not a results folder: {TO_READ}"))),
            FolderKind::Foreign(entries) => Err(self.not_ours(&entries, TO_READ)),
        }
    }

    fn refused(&self, message: String) -> StoreError {
        StoreError::Refused { path: self.root.clone(), message }
    }

    /// Whether sweep's own folder is there, so sweep may write into this one.
    pub fn has_marker(&self) -> bool {
        matches!(self.kind(), Ok(FolderKind::Results))
    }

    /// The refusal of a folder holding `entries` (sorted), ending with what
    /// to do instead.
    fn not_ours(&self, entries: &[String], instead: &str) -> StoreError {
        let shown: Vec<&str> = entries.iter().take(3).map(String::as_str).collect();
        let more = if entries.len() > 3 { format!(" and {} more", entries.len() - 3) } else { String::new() };
        StoreError::Refused {
            path: self.root.clone(),
            message: format!(
                "not a results folder (no {OWN}/{MARKER}, and it holds {}{more}); sweep writes only into a new \
                 or empty folder or one of its own: {instead}",
                shown.join(", ")
            ),
        }
    }

    /// What `root` is, judged without changing anything.
    fn kind(&self) -> Result<FolderKind, StoreError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FolderKind::Missing),
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Ok(FolderKind::File),
            Err(e) => return Err(StoreError::Io { path: self.root.clone(), source: e }),
        };
        let own = self.root.join(OWN);
        let own_is_dir = fs::symlink_metadata(&own).is_ok_and(|m| m.is_dir());
        if own_is_dir && fs::symlink_metadata(own.join(MARKER)).is_ok_and(|m| m.is_file()) {
            return Ok(FolderKind::Results);
        }
        let mut names: Vec<String> =
            entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        if names.is_empty() {
            return Ok(FolderKind::Empty);
        }
        let is_dir = |name: &str| fs::symlink_metadata(self.root.join(name)).is_ok_and(|m| m.is_dir());
        // Nothing but sweep's own names: an older sweep's folder, or one a
        // concurrent run (a shard) is creating right now.
        let legacy = names.iter().all(|n| LEGACY_ENTRIES.contains(&n.as_str()))
            && ((names.iter().any(|n| n == MANIFEST) && is_dir(JOBS)) || own_is_dir);
        Ok(if legacy { FolderKind::Legacy } else { FolderKind::Foreign(names) })
    }

    /// sweep's own folders must be folders, not links to somewhere else:
    /// it would create and delete files there.
    pub(super) fn check_no_links(&self) -> Result<(), StoreError> {
        for rel in [OWN, TMP, JOBS, PACKS] {
            let p = self.root.join(rel);
            if fs::symlink_metadata(&p).is_ok_and(|m| !m.is_dir()) {
                return Err(StoreError::Refused {
                    path: p,
                    message: "is not a folder (a symbolic link?): sweep never writes or deletes through a \
                              link in a results folder"
                        .into(),
                });
            }
        }
        Ok(())
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    pub fn job_dir(&self, id: &str) -> PathBuf {
        self.root.join(JOBS).join(id)
    }

    /// Whether a job folder exists at all (whole or damaged).
    pub fn has_job(&self, id: &str) -> bool {
        fs::symlink_metadata(self.job_dir(id)).is_ok()
    }

    /// Ids of all job folders present, sorted.
    pub fn job_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        self.each_job_id(&mut |id| ids.push(id))?;
        ids.sort();
        Ok(ids)
    }

    /// Hands over the id of each job folder present, in directory order,
    /// without holding them all.
    pub fn each_job_id(&self, f: &mut dyn FnMut(String)) -> Result<(), StoreError> {
        let dir = self.root.join(JOBS);
        match fs::read_dir(&dir) {
            Ok(entries) => {
                for e in entries {
                    let e = e.map_err(io_at(&dir))?;
                    if e.path().join(PARAMS).is_file() {
                        f(e.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::Io { path: dir, source: e }),
        }
        Ok(())
    }

    /// Removes what processes that no longer run left in the temporary
    /// place: their workspaces (a folder `run.<pid>.<n>` whose lock
    /// `run.<pid>.<n>.lock` nobody holds, or that has no lock: the lock is
    /// made first and removed last), claims nobody holds, and files named
    /// `<name>.<pid>.<n>` of processes not alive here. What a live process
    /// holds stays: its run is alive, on another machine sharing the folder,
    /// say.
    pub fn clean_stale_tmp(&self) {
        // Only inside sweep's own temporary place, and never through a link.
        if !self.has_marker() || self.check_no_links().is_err() {
            return;
        }
        let tmp = self.root.join(TMP);
        let Ok(entries) = fs::read_dir(&tmp) else { return };
        let names: Vec<String> =
            entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        for name in &names {
            let path = tmp.join(name);
            if let Some(stem) = name.strip_suffix(LOCK_SUFFIX) {
                // Taking a lock nobody holds, then dropping it, removes it:
                // its workspace (if it is one) goes first.
                // (A workspace of a process alive here stays even then: on a
                // file system without locks, every lock can be taken.)
                let pid = stem.strip_prefix(WORKSPACE_PREFIX).and_then(|r| r.split('.').next());
                if pid.and_then(|p| p.parse::<u32>().ok()).is_some_and(process_alive) {
                    continue;
                }
                if let Ok(Ok(lock)) = FileLock::try_acquire(&path) {
                    if stem.starts_with(WORKSPACE_PREFIX) {
                        let _ = fs::remove_dir_all(tmp.join(stem));
                    }
                    drop(lock);
                }
                continue;
            }
            if name.starts_with(WORKSPACE_PREFIX) {
                if !names.contains(&format!("{name}{LOCK_SUFFIX}")) {
                    let _ = fs::remove_dir_all(&path);
                }
                continue;
            }
            // Only sweep's own temporary names: `<name>.<pid>.<n>` (n a
            // counter), `<id>.<pid>.pruned`, `<id>.<pid>.<n>.replaced`; a
            // file of another shape (`notes.2024.txt`) is not sweep's.
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            let stem = name.strip_suffix(".replaced").unwrap_or(name);
            let mut parts = stem.rsplitn(3, '.');
            let pid = match (parts.next(), parts.next(), parts.next()) {
                (Some("pruned"), Some(pid), Some(_)) if stem == name => pid,
                (Some(n), Some(pid), Some(_)) if digits(n) => pid,
                _ => continue,
            };
            let Some(pid) = pid.parse::<u32>().ok() else { continue };
            if !process_alive(pid) {
                let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
            }
        }
    }

    /// Opens this process's workspace in the temporary place: the folder
    /// `run.<pid>.<n>` where its jobs are written before they move into
    /// jobs/, held by the lock `run.<pid>.<n>.lock` (taken first, so a
    /// workspace without its lock is stale). Dropped, it removes both; a
    /// killed process leaves them for [`ResultsDir::clean_stale_tmp`].
    pub fn workspace(&self) -> Result<Workspace, StoreError> {
        let tmp = self.root.join(TMP);
        fs::create_dir_all(&tmp).map_err(io_at(&tmp))?;
        let name = format!("{WORKSPACE_PREFIX}{}.{}", std::process::id(), super::write::unique());
        let lock_path = tmp.join(format!("{name}{LOCK_SUFFIX}"));
        let lock = match FileLock::try_acquire(&lock_path).map_err(io_at(&lock_path))? {
            Ok(lock) => lock,
            Err(owner) => {
                return Err(StoreError::Io {
                    path: lock_path,
                    source: io::Error::other(format!("held by {owner}")),
                });
            }
        };
        let dir = tmp.join(&name);
        fs::create_dir(&dir).map_err(io_at(&dir))?;
        let folders = JobFolders::open(dir.clone(), self.root.join(JOBS))?;
        Ok(Workspace { dir, folders: std::sync::Arc::new(folders), _lock: lock })
    }

    /// Claims the jobs of `shard` (`I-N`, `0-1` unsharded) from plan index
    /// `first` on (a chunk of the shard: see the runner) without waiting;
    /// `Ok(Err(owner))` when another process trains them now.
    pub fn claim(&self, shard: &str, first: usize) -> Result<Result<FileLock, Owner>, StoreError> {
        let path = self.claim_path(shard, first);
        FileLock::try_acquire(&path).map_err(io_at(&path))
    }

    /// The lock file of a claim: `.sweep/tmp/claim.<I>-<N>.<first>.lock`.
    pub fn claim_path(&self, shard: &str, first: usize) -> PathBuf {
        self.root.join(TMP).join(format!("{CLAIM_PREFIX}{shard}.{first}{LOCK_SUFFIX}"))
    }
}

/// A process's folder in the temporary place (see [`ResultsDir::workspace`]).
#[derive(Debug)]
pub struct Workspace {
    pub dir: PathBuf,
    /// The workspace and jobs/, open: where job folders are written and
    /// renamed to (shared with the jobs being written).
    pub(super) folders: std::sync::Arc<JobFolders>,
    // Released after the folder is removed (fields drop in order).
    _lock: FileLock,
}

/// A workspace and the jobs/ folder its jobs move into, each held open, so
/// a job's folder and files are made relative to them (`mkdirat`, `openat`,
/// `renameat`): no walk of the results folder's path per file, and nothing
/// followed through a link that replaced one of them since.
#[derive(Debug)]
pub(super) struct JobFolders {
    pub tmp: PathBuf,
    pub tmp_fd: std::os::fd::OwnedFd,
    pub jobs: PathBuf,
    pub jobs_fd: std::os::fd::OwnedFd,
}

impl JobFolders {
    fn open(tmp: PathBuf, jobs: PathBuf) -> Result<JobFolders, StoreError> {
        use rustix::fs::{Mode, OFlags};
        let open = |path: &Path| {
            rustix::fs::open(
                path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| StoreError::Io { path: path.to_path_buf(), source: e.into() })
        };
        Ok(JobFolders { tmp_fd: open(&tmp)?, tmp, jobs_fd: open(&jobs)?, jobs })
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// What to do instead, when a command that reads a results folder is given
/// something else.
const TO_READ: &str = "give the folder a run wrote (its --out; results/<name> by default)";
/// What to do instead, when `run` is given a place it may not write into.
const TO_WRITE: &str = "choose another --out (a new folder, or a results folder to resume)";

/// What a folder given as a results folder is.
#[derive(Debug)]
enum FolderKind {
    Missing,
    Empty,
    /// Has sweep's marker.
    Results,
    /// A results folder of a sweep before the marker.
    Legacy,
    /// Anything else; its entries, sorted.
    Foreign(Vec<String>),
    /// Not a folder at all (a manifest given where a results folder goes).
    File,
}

/// Whether a process id is alive (Linux /proc; elsewhere assume it is).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

//! The results folder (SPEC 6): every file name and CSV column, written and
//! read back, lives here and only here.
//!
//! ```text
//! <out>/manifest.toml  summary.csv  timing.csv
//! <out>/jobs/<job_id>/{params.toml, curve.csv, predictions.csv, model.json}
//! <out>/.sweep/results-folder   the marker: this folder is sweep's own
//! <out>/.sweep/tmp/              sweep's temporary place: job folders and
//!                                files being written (renamed when whole)
//! ```
//!
//! Ownership (SPEC 6): sweep writes into a folder only once it carries the
//! marker, which it adds to a new or empty folder (or a results folder of an
//! older sweep: `manifest.toml` and `jobs/` and nothing foreign). It cleans
//! up only inside its own temporary place, never through a symbolic link.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Value;

use sha2::{Digest, Sha256};

use crate::lock::{FileLock, Owner};
use crate::spec::KEYS;
use crate::train::{EpochRecord, Summary};

pub const MANIFEST: &str = "manifest.toml";
pub const SUMMARY: &str = "summary.csv";
pub const TIMING: &str = "timing.csv";
pub const JOBS: &str = "jobs";
/// sweep's own folder inside a results folder: the marker and the
/// temporary place.
pub const OWN: &str = ".sweep";
/// The marker file, inside [`OWN`].
pub const MARKER: &str = "results-folder";
const MARKER_TEXT: &str =
    "This folder is a sweep results folder. sweep keeps its temporary files in .sweep/tmp/.\n";
/// The temporary place, relative to the results folder.
pub const TMP: &str = ".sweep/tmp";
/// What a results folder of an older sweep (before the marker) may hold.
const LEGACY_ENTRIES: &[&str] =
    &["manifest.toml", "summary.csv", "timing.csv", "jobs", ".tmp", "report.md", "figures", ".sweep"];
pub const PARAMS: &str = "params.toml";
pub const CURVE: &str = "curve.csv";
pub const PREDICTIONS: &str = "predictions.csv";
pub const MODEL: &str = "model.json";
/// `.tmp/<job_id>.lock`: held while a process trains the job (see [`crate::lock`]).
pub const LOCK_SUFFIX: &str = ".lock";

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

/// An I/O failure, with the path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    /// A folder sweep may not write into (not a results folder, or a link
    /// where sweep keeps its own files): a usage error, nothing was changed.
    #[error("{}: {message}", path.display())]
    Refused { path: PathBuf, message: String },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

/// Shortest text that reads back to the same f64; `NaN`, `inf`, `-inf` for
/// the rest (pandas reads all of them).
pub fn fmt_f64(v: f64) -> String {
    let mut s = String::new();
    write_f64(&mut s, v);
    s
}

fn write_f64(out: &mut impl std::fmt::Write, v: f64) {
    let _ = if v.is_nan() {
        out.write_str("NaN")
    } else if v.is_infinite() {
        out.write_str(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        write!(out, "{v:?}")
    };
}

/// Parses what [`fmt_f64`] writes (and plain numbers).
pub fn parse_f64(s: &str) -> Option<f64> {
    match s.trim() {
        "NaN" | "nan" => Some(f64::NAN),
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

/// What a finished job records besides its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobOutcome {
    pub status: String,
    pub final_loss: f64,
    pub final_accuracy: f64,
    pub final_test_loss: Option<f64>,
    pub final_test_accuracy: Option<f64>,
    pub min_loss: f64,
    pub epoch_at_target: Option<u64>,
    pub diverged_epoch: Option<u64>,
    /// SHA-256 of the [`JobFile::files`] hashes of curve.csv,
    /// predictions.csv and model.json (first 16 hex digits): one value that
    /// says whether two jobs wrote the same bytes (`diff` compares it).
    pub files_hash: String,
}

impl JobOutcome {
    pub fn new(summary: &Summary, files_hash: String) -> JobOutcome {
        let last = &summary.last;
        JobOutcome {
            status: if summary.diverged() { "diverged" } else { "ok" }.to_string(),
            final_loss: last.loss,
            final_accuracy: last.accuracy,
            final_test_loss: last.test_loss,
            final_test_accuracy: last.test_accuracy,
            min_loss: summary.min_loss,
            epoch_at_target: summary.epoch_at_target.map(|e| e as u64),
            diverged_epoch: summary.diverged_epoch.map(|e| e as u64),
            files_hash,
        }
    }

    pub fn diverged(&self) -> bool {
        self.status == "diverged"
    }
}

/// The contents of a job's params.toml.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobFile {
    pub job_id: String,
    pub seed: u64,
    pub config_hash: String,
    /// The folder that relative paths in `params` (a CSV data set, a weights
    /// file) resolve against: the manifest's, absolute. Only jobs that read a
    /// file have it, so other results do not depend on where they ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths_relative_to: Option<String>,
    /// The classes of a CSV data set, as in the file (class i is target i).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// Every parameter, in SPEC order.
    pub params: toml::Table,
    pub result: JobOutcome,
    /// SHA-256 (hex) of every file of the job, by file name; params.toml's
    /// covers its own text above the `[files]` table. Empty in folders
    /// written before hashes were recorded.
    #[serde(default)]
    pub files: std::collections::BTreeMap<String, String>,
}

/// The files of a job folder whose hashes params.toml records, in the order
/// `verify` reports them.
pub const HASHED_FILES: [&str; 4] = [PARAMS, CURVE, PREDICTIONS, MODEL];

/// Where the hashes start in params.toml: what comes before is what
/// params.toml's own hash covers.
const FILES_TABLE: &str = "\n[files]\n";

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A job file that does not match its recorded hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    Missing(&'static str),
    Changed(&'static str),
    /// params.toml records no hashes (written by an older sweep).
    Unrecorded,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Missing(name) => write!(f, "MISSING {name}"),
            Damage::Changed(name) => write!(f, "CHANGED {name}"),
            Damage::Unrecorded => write!(f, "UNRECORDED {PARAMS} records no file hashes"),
        }
    }
}

impl JobFile {
    /// A parameter as a person reads it (strings bare, lists inline).
    pub fn param(&self, key: &str) -> String {
        self.params.get(key).map(crate::spec::display_value).unwrap_or_default()
    }

    /// The configuration as text: seed and every parameter in SPEC order,
    /// as [`crate::plan::Plan::config_text`] writes it for the plan's jobs.
    pub fn config_text(&self) -> String {
        let mut s = format!("seed = {}\n", self.seed);
        for k in KEYS {
            if let Some(v) = self.params.get(k.name) {
                s.push_str(&format!("{} = {v}\n", k.name));
            }
        }
        s
    }

    fn to_toml(&self) -> String {
        // Written by hand so parameters keep SPEC order (toml::Table sorts).
        let mut s = String::from("# One sweep job: its parameters, configuration hash and outcome.\n");
        s.push_str(&format!("job_id = {}\n", Value::String(self.job_id.clone())));
        s.push_str(&format!("seed = {}\n", self.seed));
        s.push_str(&format!("config_hash = \"{}\"\n", self.config_hash));
        if let Some(dir) = &self.paths_relative_to {
            s.push_str(&format!("paths_relative_to = {}\n", Value::String(dir.clone())));
        }
        if let Some(classes) = &self.classes {
            let list = Value::Array(classes.iter().map(|c| Value::String(c.clone())).collect());
            s.push_str(&format!("classes = {list}\n"));
        }
        s.push_str("\n[params]\n");
        for k in KEYS {
            if let Some(v) = self.params.get(k.name) {
                s.push_str(&format!("{} = {v}\n", k.name));
            }
        }
        s.push_str("\n[result]\n");
        s.push_str(&toml::to_string(&self.result).expect("outcome serializes"));
        let own = sha256_hex(s.as_bytes());
        s.push_str(FILES_TABLE);
        s.push_str(&format!("# SHA-256 of each file; {PARAMS}'s covers the lines above [files]\n"));
        for name in HASHED_FILES {
            let hash = if name == PARAMS { Some(&own) } else { self.files.get(name) };
            if let Some(h) = hash {
                s.push_str(&format!("\"{name}\" = \"{h}\"\n"));
            }
        }
        s
    }
}

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
            FolderKind::Foreign(entries) => return Err(self.not_ours(&entries)),
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
            FolderKind::Missing => Err(StoreError::Refused {
                path: self.root.clone(),
                message: "not a results folder (no such directory)".into(),
            }),
            FolderKind::Empty => Err(StoreError::Refused {
                path: self.root.clone(),
                message: "not a results folder (an empty folder)".into(),
            }),
            FolderKind::Foreign(entries) => Err(self.not_ours(&entries)),
        }
    }

    /// Whether sweep's own folder is there, so sweep may write into this one.
    pub fn has_marker(&self) -> bool {
        matches!(self.kind(), Ok(FolderKind::Results))
    }

    fn not_ours(&self, entries: &[String]) -> StoreError {
        let shown: Vec<&str> = entries.iter().take(3).map(String::as_str).collect();
        let more = if entries.len() > 3 { format!(" and {} more", entries.len() - 3) } else { String::new() };
        StoreError::Refused {
            path: self.root.clone(),
            message: format!(
                "not a results folder (no {OWN}/{MARKER}, and it holds {}{more}); sweep writes only into a new \
                 or empty folder or one of its own: choose another --out",
                shown.join(", ")
            ),
        }
    }

    /// What `root` is, judged without changing anything.
    fn kind(&self) -> Result<FolderKind, StoreError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FolderKind::Missing),
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
    fn check_no_links(&self) -> Result<(), StoreError> {
        for rel in [OWN, TMP, JOBS] {
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

    /// Creates timing.csv with its header, atomically: written aside, then
    /// hard-linked into place, which fails if another process (a second run
    /// or shard on this folder) got there first. So the header is written
    /// once, and appended rows never see an empty file.
    fn create_timing(&self) -> Result<(), StoreError> {
        let path = self.root.join(TIMING);
        if path.exists() {
            return Ok(());
        }
        let tmp = self.root.join(TMP).join(format!("{TIMING}.{}.{}", std::process::id(), unique()));
        fs::write(&tmp, "job_id,wall_ms,threads\n").map_err(io_at(&tmp))?;
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(StoreError::Io { path, source: e }),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    pub fn job_dir(&self, id: &str) -> PathBuf {
        self.root.join(JOBS).join(id)
    }

    /// A finished job's params.toml, if the job folder exists and every
    /// file matches its recorded hash.
    pub fn finished(&self, id: &str) -> Option<JobFile> {
        read_job_checked(&self.job_dir(id)).ok()?.ok()
    }

    /// Whether a job folder exists at all (whole or damaged).
    pub fn has_job(&self, id: &str) -> bool {
        fs::symlink_metadata(self.job_dir(id)).is_ok()
    }

    /// Ids of all job folders present, sorted.
    pub fn job_ids(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.root.join(JOBS);
        let mut ids = Vec::new();
        match fs::read_dir(&dir) {
            Ok(entries) => {
                for e in entries {
                    let e = e.map_err(io_at(&dir))?;
                    if e.path().join(PARAMS).is_file() {
                        ids.push(e.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::Io { path: dir, source: e }),
        }
        ids.sort();
        Ok(ids)
    }

    /// Writes `contents` to `name` (a path relative to the folder, such as
    /// `figures/seeds.svg`) whole or not at all: written and synced in the
    /// temporary place, then renamed over the old file. On failure (a full
    /// disk, say) the old file stays as it was; the error names `name`.
    pub fn write_atomic(&self, name: &str, contents: &[u8]) -> Result<(), StoreError> {
        write_whole(&self.root.join(name), contents, &self.root.join(TMP))
    }

    /// Appends one timing row (one `write` call, so concurrent shards'
    /// rows do not interleave).
    pub fn append_timing(&self, job_id: &str, wall_ms: f64, threads: usize) -> Result<(), StoreError> {
        self.create_timing()?; // in case it was deleted mid-run
        let path = self.root.join(TIMING);
        let mut f = OpenOptions::new().append(true).open(&path).map_err(io_at(&path))?;
        f.write_all(format!("{job_id},{wall_ms:.3},{threads}\n").as_bytes()).map_err(io_at(&path))
    }

    /// Removes what processes that no longer run left in .tmp/: their job
    /// folders and files (named `<name>.<pid>.<n>`), and lock files nobody
    /// holds. A folder whose job is locked right now stays: its run is alive,
    /// on another machine sharing the folder, say.
    pub fn clean_stale_tmp(&self) {
        // Only inside sweep's own temporary place, and never through a link.
        if !self.has_marker() || self.check_no_links().is_err() {
            return;
        }
        let Ok(entries) = fs::read_dir(self.root.join(TMP)) else { return };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(LOCK_SUFFIX) {
                // Taking a lock nobody holds, then dropping it, removes it.
                let _ = self.lock_job(id);
                continue;
            }
            let mut parts = name.rsplitn(3, '.');
            let (_, pid, stem) = (parts.next(), parts.next(), parts.next());
            let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok()) else { continue };
            let in_use = process_alive(pid) || stem.is_some_and(|id| matches!(self.lock_job(id), Ok(Err(_))));
            if !in_use {
                let _ = fs::remove_dir_all(e.path()).or_else(|_| fs::remove_file(e.path()));
            }
        }
    }

    /// Takes the lock of job `id` without waiting; `Ok(Err(owner))` when
    /// another process (or thread) trains it now.
    pub fn lock_job(&self, id: &str) -> Result<Result<FileLock, Owner>, StoreError> {
        let path = self.root.join(TMP).join(format!("{id}{LOCK_SUFFIX}"));
        FileLock::try_acquire(&path).map_err(io_at(&path))
    }

    /// Starts writing a job: a fresh folder under .tmp/ (removed again if
    /// the job does not finish: see [`JobWriter`]).
    pub fn begin_job(&self, id: &str) -> Result<JobWriter, StoreError> {
        let tmp = self.root.join(TMP).join(format!("{id}.{}.{}", std::process::id(), unique()));
        fs::create_dir_all(&tmp).map_err(io_at(&tmp))?;
        let curve_path = tmp.join(CURVE);
        let file = match File::create(&curve_path) {
            Ok(f) => f,
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(StoreError::Io { path: curve_path, source: e });
            }
        };
        let mut w = JobWriter {
            tmp,
            curve: HashingWriter { inner: BufWriter::new(file), hash: Sha256::new() },
            line: String::with_capacity(128),
            error: None,
            final_dir: self.job_dir(id),
            cancel: None,
            kept: false,
        };
        // On error `w` drops, taking its folder along.
        writeln!(w.curve, "{CURVE_HEADER}").map_err(io_at(&curve_path))?;
        Ok(w)
    }
}

/// Writes `contents` to `path` whole or not at all: into a fresh file in
/// `tmp_dir` (which must be on the same file system), synced, then renamed
/// over `path`. A failure removes the temporary file, leaves `path` as it
/// was, and names `path`.
pub fn write_whole(path: &Path, contents: &[u8], tmp_dir: &Path) -> Result<(), StoreError> {
    let file_name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    fs::create_dir_all(tmp_dir).map_err(io_at(path))?;
    let tmp = tmp_dir.join(format!("{file_name}.{}.{}", std::process::id(), unique()));
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(contents)?;
        sync(&f)?;
        fs::rename(&tmp, path)
    })()
    .map_err(io_at(path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// `fsync`, where the file system can; one that cannot is no reason to fail.
fn sync(f: &File) -> io::Result<()> {
    match f.sync_all() {
        Err(e) if matches!(e.kind(), io::ErrorKind::Unsupported | io::ErrorKind::InvalidInput) => Ok(()),
        other => other,
    }
}

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
}

/// Whether a process id is alive (Linux /proc; elsewhere assume it is).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// A process-wide counter for unique temporary names.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A writer that hashes what passes through it.
struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// One job's files being written; nothing is visible in jobs/ until
/// [`Prepared::commit`] renames the whole folder into place. A writer
/// dropped before `prepare` (a failed or stopped job, a write error)
/// removes its temporary folder.
pub struct JobWriter {
    tmp: PathBuf,
    curve: HashingWriter<BufWriter<File>>,
    /// Reused line buffer: recording an epoch allocates nothing.
    line: String,
    error: Option<io::Error>,
    final_dir: PathBuf,
    /// When set, training stops at the next epoch (Ctrl-C).
    pub cancel: Option<&'static std::sync::atomic::AtomicBool>,
    /// The folder was renamed into jobs/: nothing to clean up.
    kept: bool,
}

impl JobWriter {
    /// Appends one curve row. The first I/O error is kept for `prepare`.
    pub fn record(&mut self, r: &EpochRecord) {
        if self.error.is_some() {
            return;
        }
        use std::fmt::Write as _;
        self.line.clear();
        let _ = write!(self.line, "{},", r.epoch);
        write_f64(&mut self.line, r.loss);
        self.line.push(',');
        write_f64(&mut self.line, r.accuracy);
        self.line.push(',');
        if let Some(v) = r.test_loss {
            write_f64(&mut self.line, v);
        }
        self.line.push(',');
        if let Some(v) = r.test_accuracy {
            write_f64(&mut self.line, v);
        }
        self.line.push('\n');
        if let Err(e) = self.curve.write_all(self.line.as_bytes()) {
            self.error = Some(e);
        }
    }

    /// Writes the remaining files, still under .tmp/ (`job` gets its
    /// `files_hash` here): the job is complete
    /// but neither durable nor visible until [`Prepared::commit`], which a
    /// runner may leave to another thread so training never waits for the
    /// disk.
    pub fn prepare(
        mut self,
        mut job: JobFile,
        predictions: &str,
        model: &str,
    ) -> Result<Prepared, StoreError> {
        let curve_path = self.tmp.join(CURVE);
        if let Some(e) = self.error.take() {
            return Err(StoreError::Io { path: curve_path, source: e });
        }
        self.curve.flush().map_err(io_at(&curve_path))?;
        let curve_hash = hex(&std::mem::take(&mut self.curve.hash).finalize());
        job.files = [
            (CURVE.to_string(), curve_hash),
            (PREDICTIONS.to_string(), sha256_hex(predictions.as_bytes())),
            (MODEL.to_string(), sha256_hex(model.as_bytes())),
        ]
        .into();
        job.result.files_hash = files_digest(&job.files);
        for (name, text) in [(PREDICTIONS, predictions), (MODEL, model), (PARAMS, job.to_toml().as_str())] {
            let p = self.tmp.join(name);
            fs::write(&p, text).map_err(io_at(&p))?;
        }
        let curve = self.curve.inner.get_ref().try_clone().map_err(io_at(&curve_path))?;
        // From here on the folder is the Prepared's to keep or remove.
        self.kept = true;
        Ok(Prepared {
            tmp: self.tmp.clone(),
            final_dir: self.final_dir.clone(),
            curve,
            result: job.result,
            kept: false,
        })
    }
}

/// A job folder written under .tmp/, waiting to be made durable and moved
/// into jobs/. Dropped without `commit`, it removes its folder.
#[derive(Debug)]
pub struct Prepared {
    tmp: PathBuf,
    final_dir: PathBuf,
    curve: File,
    result: JobOutcome,
    kept: bool,
}

impl Prepared {
    /// Makes the files durable, then moves the folder into jobs/ (replacing
    /// an older result of the same id): [`commit_batch`] of one.
    pub fn commit(self) -> Result<JobOutcome, StoreError> {
        let mut results = commit_batch(vec![self]);
        results.pop().unwrap_or_else(|| {
            Err(StoreError::Format { path: PathBuf::new(), message: "empty batch".into() })
        })
    }

    /// Moves the (durable) folder into jobs/, replacing an older result.
    fn publish(mut self) -> Result<JobOutcome, StoreError> {
        let old = self.tmp.with_extension("old");
        let replaced = fs::symlink_metadata(&self.final_dir).is_ok();
        if replaced {
            fs::rename(&self.final_dir, &old).map_err(io_at(&self.final_dir))?;
        }
        if let Err(e) = fs::rename(&self.tmp, &self.final_dir) {
            if replaced {
                let _ = fs::rename(&old, &self.final_dir); // put the old result back
            }
            return Err(StoreError::Io { path: self.final_dir.clone(), source: e });
        }
        self.kept = true;
        if replaced {
            let _ = fs::remove_dir_all(&old);
        }
        Ok(self.result.clone())
    }
}

/// Makes a batch of prepared job folders durable and moves them into jobs/
/// (durability batched, not one `fsync` per job):
///
/// 1. every file of the batch reaches the disk: one `syncfs` of the results
///    folder's file system on Linux (elsewhere an `fsync` per file);
/// 2. each folder is renamed into jobs/;
/// 3. jobs/ is synced, so the renames are durable too.
///
/// So after a power cut, a job folder in jobs/ is whole, and a job whose
/// rename was not yet durable is absent (its temporary folder is cleaned up
/// and the job trained again). Some file systems report a full disk only
/// when syncing (NFS, delayed allocation): then the whole batch fails and
/// its temporary folders go. A file system that cannot sync is no reason to
/// fail a job.
pub fn commit_batch(batch: Vec<Prepared>) -> Vec<Result<JobOutcome, StoreError>> {
    if let Err((path, e)) = sync_files(&batch) {
        return batch
            .into_iter()
            .map(|_| {
                Err(StoreError::Io { path: path.clone(), source: io::Error::new(e.kind(), e.to_string()) })
            })
            .collect();
    }
    let jobs_dir = batch.first().and_then(|p| p.final_dir.parent().map(Path::to_path_buf));
    let results: Vec<_> = batch.into_iter().map(Prepared::publish).collect();
    if let Some(dir) = jobs_dir {
        // Best effort: the folders are in place whatever this says.
        let _ = File::open(&dir).and_then(|d| sync(&d));
    }
    results
}

/// Step 1 of [`commit_batch`].
fn sync_files(batch: &[Prepared]) -> Result<(), (PathBuf, io::Error)> {
    let Some(first) = batch.first() else { return Ok(()) };
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: `syncfs` takes any open file descriptor and only reads it;
        // `first.curve` stays open for the whole call.
        let rc = unsafe { libc::syncfs(first.curve.as_raw_fd()) };
        if rc == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if matches!(e.kind(), io::ErrorKind::Unsupported | io::ErrorKind::InvalidInput) {
            return Ok(());
        }
        Err((first.tmp.clone(), e))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = first;
        for p in batch {
            for name in HASHED_FILES {
                let path = p.tmp.join(name);
                File::open(&path).and_then(|f| sync(&f)).map_err(|e| (path, e))?;
            }
        }
        Ok(())
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

impl Drop for JobWriter {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

impl crate::train::Sink for JobWriter {
    fn record(&mut self, r: &EpochRecord) {
        JobWriter::record(self, r);
    }

    fn stop(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// The digest of a job's data files that [`JobOutcome::files_hash`] holds.
fn files_digest(files: &std::collections::BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for name in [CURVE, PREDICTIONS, MODEL] {
        h.update(name.as_bytes());
        h.update(b"=");
        h.update(files.get(name).map_or("", String::as_str).as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize()[..8])
}

/// A job folder read and checked: whole, or what does not match (with its
/// params.toml when that parses).
pub type Checked = Result<JobFile, (Vec<Damage>, Option<JobFile>)>;

/// Reads a job folder's params.toml and checks every file of the job against
/// its recorded hash. `Ok(Err(damage))` lists what does not match (the
/// params.toml read, when it parses, comes along for messages).
pub fn read_job_checked(dir: &Path) -> Result<Checked, StoreError> {
    let path = dir.join(PARAMS);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Err((vec![Damage::Missing(PARAMS)], None)));
        }
        Err(e) => return Err(StoreError::Io { path, source: e }),
    };
    let Ok(job) = toml::from_str::<JobFile>(&text) else {
        return Ok(Err((vec![Damage::Changed(PARAMS)], None)));
    };
    if job.files.is_empty() {
        return Ok(Err((vec![Damage::Unrecorded], Some(job))));
    }
    let mut damage = Vec::new();
    let own = text.find(FILES_TABLE).map(|at| sha256_hex(&text.as_bytes()[..at]));
    if own.as_ref() != job.files.get(PARAMS) {
        damage.push(Damage::Changed(PARAMS));
    }
    for name in [CURVE, PREDICTIONS, MODEL] {
        let p = dir.join(name);
        match fs::read(&p) {
            Ok(bytes) => {
                if job.files.get(name) != Some(&sha256_hex(&bytes)) {
                    damage.push(Damage::Changed(name));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => damage.push(Damage::Missing(name)),
            Err(e) => return Err(StoreError::Io { path: p, source: e }),
        }
    }
    Ok(if damage.is_empty() { Ok(job) } else { Err((damage, Some(job))) })
}

/// Reads a job folder's params.toml.
pub fn read_job(dir: &Path) -> Result<JobFile, StoreError> {
    let path = dir.join(PARAMS);
    let text = fs::read_to_string(&path).map_err(io_at(&path))?;
    toml::from_str(&text).map_err(|e| StoreError::Format { path, message: e.to_string() })
}

/// predictions.csv (SPEC 6): the input columns under their names (`raw`:
/// the values before scaling), `split` (rows from `test_from` on are
/// `test`), `label` and `predicted` as class names, then `output` for one
/// output unit or `p_<class>` per class for several. `labels` are class
/// indices into `classes`; `outputs` is (n, units). One output predicts the
/// second class when >= 0.5; several predict their argmax.
pub fn predictions_csv(
    columns: &[String],
    classes: &[String],
    raw: ndarray::ArrayView2<f64>,
    test_from: usize,
    labels: ndarray::ArrayView1<f64>,
    outputs: ndarray::ArrayView2<f64>,
) -> String {
    let class = |i: usize| classes.get(i).map_or_else(|| i.to_string(), String::clone);
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let mut header: Vec<String> = columns.to_vec();
    header.extend(["split", "label", "predicted"].map(String::from));
    if outputs.ncols() == 1 {
        header.push("output".to_string());
    } else {
        header.extend((0..outputs.ncols()).map(|c| format!("p_{}", class(c))));
    }
    let _ = w.write_record(&header);
    for (i, ((row, &y), out)) in raw.rows().into_iter().zip(labels).zip(outputs.rows()).enumerate() {
        let predicted = crate::nn::predicted_class(out.iter().copied());
        let mut rec: Vec<String> = row.iter().map(|&v| fmt_f64(v)).collect();
        rec.push(if i < test_from { "train" } else { "test" }.to_string());
        rec.push(class(y as usize));
        rec.push(class(predicted));
        rec.extend(out.iter().map(|&o| fmt_f64(o)));
        let _ = w.write_record(&rec);
    }
    // Writing to a Vec cannot fail; the text is UTF-8 since every cell is.
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// One row of summary.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub job_id: String,
    pub seed: u64,
    /// (key, value as displayed), SPEC order.
    pub params: Vec<(String, String)>,
    pub outcome: JobOutcome,
    /// curve.csv relative to the results folder.
    pub curve: String,
}

impl SummaryRow {
    pub fn from_job(job: &JobFile) -> SummaryRow {
        SummaryRow {
            job_id: job.job_id.clone(),
            seed: job.seed,
            params: KEYS.iter().map(|k| (k.name.to_string(), job.param(k.name))).collect(),
            outcome: job.result.clone(),
            curve: format!("{JOBS}/{}/{CURVE}", job.job_id),
        }
    }

    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

fn opt_f64(v: Option<f64>) -> String {
    v.map(fmt_f64).unwrap_or_default()
}

fn opt_u64(v: Option<u64>) -> String {
    v.map(|e| e.to_string()).unwrap_or_default()
}

/// summary.csv as bytes, rows in the order given.
pub fn summary_csv(rows: &[SummaryRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = vec!["job_id", "seed"];
    header.extend(KEYS.iter().map(|k| k.name));
    header.extend(SUMMARY_RESULT_COLUMNS);
    w.write_record(&header).expect("in-memory write");
    for r in rows {
        let o = &r.outcome;
        let mut rec: Vec<String> = vec![r.job_id.clone(), r.seed.to_string()];
        rec.extend(r.params.iter().map(|(_, v)| v.clone()));
        rec.extend([
            fmt_f64(o.final_loss),
            fmt_f64(o.final_accuracy),
            opt_f64(o.final_test_loss),
            opt_f64(o.final_test_accuracy),
            fmt_f64(o.min_loss),
            opt_u64(o.epoch_at_target),
            o.status.clone(),
            opt_u64(o.diverged_epoch),
            r.curve.clone(),
        ]);
        w.write_record(&rec).expect("in-memory write");
    }
    w.into_inner().expect("in-memory flush")
}

/// Reads summary.csv back.
pub fn read_summary(path: &Path) -> Result<Vec<SummaryRow>, StoreError> {
    let bad = |message: String| StoreError::Format { path: path.to_path_buf(), message };
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let header = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col =
        |name: &str| header.iter().position(|h| h == name).ok_or_else(|| bad(format!("no `{name}` column")));
    let (id_col, seed_col) = (col("job_id")?, col("seed")?);
    let param_cols: Vec<(String, usize)> = KEYS
        .iter()
        .filter_map(|k| header.iter().position(|h| h == k.name).map(|i| (k.name.to_string(), i)))
        .collect();
    let result_cols: Vec<usize> = SUMMARY_RESULT_COLUMNS.iter().map(|c| col(c)).collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let line = i + 2;
        let get = |c: usize| rec.get(c).unwrap_or("");
        let num = |c: usize| {
            parse_f64(get(c)).ok_or_else(|| bad(format!("line {line}: `{}` is not a number", get(c))))
        };
        let opt_num = |c: usize| if get(c).is_empty() { Ok(None) } else { num(c).map(Some) };
        let opt_int = |c: usize| -> Result<Option<u64>, StoreError> {
            if get(c).is_empty() {
                Ok(None)
            } else {
                get(c)
                    .parse()
                    .map(Some)
                    .map_err(|_| bad(format!("line {line}: `{}` is not an integer", get(c))))
            }
        };
        let rc = &result_cols;
        rows.push(SummaryRow {
            job_id: get(id_col).to_string(),
            seed: get(seed_col)
                .parse()
                .map_err(|_| bad(format!("line {line}: bad seed `{}`", get(seed_col))))?,
            params: param_cols.iter().map(|(k, c)| (k.clone(), get(*c).to_string())).collect(),
            outcome: JobOutcome {
                final_loss: num(rc[0])?,
                final_accuracy: num(rc[1])?,
                final_test_loss: opt_num(rc[2])?,
                final_test_accuracy: opt_num(rc[3])?,
                min_loss: num(rc[4])?,
                epoch_at_target: opt_int(rc[5])?,
                status: get(rc[6]).to_string(),
                diverged_epoch: opt_int(rc[7])?,
                files_hash: String::new(),
            },
            curve: get(rc[8]).to_string(),
        });
    }
    Ok(rows)
}

/// The plan a results folder was run with (its manifest.toml), if readable.
pub fn stored_plan(root: &Path) -> Option<crate::plan::Plan> {
    let manifest = crate::manifest::Manifest::load(&root.join(MANIFEST), &[]).ok()?;
    crate::plan::Plan::new(manifest).ok()
}

/// The summary rows of a plan: its jobs whose folder is whole (every file
/// matches its hash) and whose stored configuration is the plan's, in plan
/// order; a job folder of another configuration is left out, so a summary
/// never mixes studies. `damaged` gets the jobs of the plan's configuration
/// whose files do not match their hashes.
pub fn plan_rows(
    plan: &crate::plan::Plan,
    dir: &ResultsDir,
    damaged: &mut Vec<(String, Vec<Damage>)>,
) -> Result<Vec<SummaryRow>, StoreError> {
    let mut rows = Vec::new();
    for job in &plan.jobs {
        if !dir.has_job(&job.id) {
            continue;
        }
        match read_job_checked(&dir.job_dir(&job.id))? {
            Ok(f) if f.config_text() == plan.config_text(job) => rows.push(SummaryRow::from_job(&f)),
            Ok(_) => {}
            Err((damage, f)) => {
                if f.is_none_or(|f| f.config_text() == plan.config_text(job)) {
                    damaged.push((job.id.clone(), damage));
                }
            }
        }
    }
    Ok(rows)
}

/// The rows of a results folder, for the readers (report, export, diff):
/// the jobs of its manifest.toml (every whole job folder, sorted by id, when
/// there is none), each checked against its recorded hashes. A damaged job
/// stops the reader with a message naming the file. summary.csv is checked
/// against the rows: one that does not match is rebuilt (said on stderr),
/// or refused when the folder is not sweep's to write.
pub fn load_rows(root: &Path) -> Result<Vec<SummaryRow>, StoreError> {
    let dir = ResultsDir::new(root);
    let mut damaged = Vec::new();
    let rows = match stored_plan(root) {
        Some(plan) => plan_rows(&plan, &dir, &mut damaged)?,
        None => {
            let mut rows = Vec::new();
            for id in dir.job_ids()? {
                match read_job_checked(&dir.job_dir(&id))? {
                    Ok(f) => rows.push(SummaryRow::from_job(&f)),
                    Err((damage, _)) => damaged.push((id, damage)),
                }
            }
            rows
        }
    };
    if let Some((id, damage)) = damaged.first() {
        let what: Vec<String> = damage.iter().map(ToString::to_string).collect();
        return Err(StoreError::Format {
            path: dir.job_dir(id),
            message: format!(
                "{} (and {} more damaged job(s)): the files no longer match the hashes recorded when the \
                 job was written; `sweep verify {}` lists them, running the manifest again retrains them",
                what.join(", "),
                damaged.len() - 1,
                root.display()
            ),
        });
    }
    let summary = root.join(SUMMARY);
    let want = summary_csv(&rows);
    match fs::read(&summary) {
        Ok(have) if have == want => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Ok(_) if dir.has_marker() => {
            dir.write_atomic(SUMMARY, &want)?;
            eprintln!("note: {} did not match the job folders: rebuilt from them", summary.display());
        }
        Ok(_) => {
            return Err(StoreError::Format {
                path: summary,
                message: "does not match the job folders; `sweep summarize` rebuilds it".into(),
            });
        }
        Err(e) => return Err(StoreError::Io { path: summary, source: e }),
    }
    Ok(rows)
}

/// Reads a curve.csv.
pub fn read_curve(path: &Path) -> Result<Vec<EpochRecord>, StoreError> {
    let bad = |message: String| StoreError::Format { path: path.to_path_buf(), message };
    let text = fs::read_to_string(path).map_err(io_at(path))?;
    let mut lines = text.lines();
    if lines.next() != Some(CURVE_HEADER) {
        return Err(bad(format!("expected the header `{CURVE_HEADER}`")));
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            let cells: Vec<&str> = line.split(',').collect();
            let num =
                |c: &str| parse_f64(c).ok_or_else(|| bad(format!("line {}: `{c}` is not a number", i + 2)));
            let opt = |c: &str| if c.is_empty() { Ok(None) } else { num(c).map(Some) };
            if cells.len() != 5 {
                return Err(bad(format!("line {}: expected 5 cells, found {}", i + 2, cells.len())));
            }
            Ok(EpochRecord {
                epoch: cells[0]
                    .parse()
                    .map_err(|_| bad(format!("line {}: bad epoch `{}`", i + 2, cells[0])))?,
                loss: num(cells[1])?,
                accuracy: num(cells[2])?,
                test_loss: opt(cells[3])?,
                test_accuracy: opt(cells[4])?,
            })
        })
        .collect()
}

/// Points of a predictions.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// One row per sample: inputs (raw values).
    pub x: Vec<Vec<f64>>,
    /// Class index of the label (classes: the sorted distinct labels).
    pub label: Vec<f64>,
    /// The `output` column (one output unit), else NaN.
    pub output: Vec<f64>,
    /// Class index of the prediction.
    pub predicted: Vec<f64>,
    /// The `split` column is `test`.
    pub held_out: Vec<bool>,
}

/// Reads a predictions.csv written by [`predictions_csv`].
pub fn read_predictions(path: &Path) -> Result<Predictions, StoreError> {
    let bad = |message: String| StoreError::Format { path: path.to_path_buf(), message };
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let header = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(split), Some(label), Some(predicted)) = (col("split"), col("label"), col("predicted")) else {
        return Err(bad("expected the columns <inputs>,split,label,predicted,<outputs>".into()));
    };
    let output = col("output");
    let mut p = Predictions {
        x: Vec::new(),
        label: Vec::new(),
        output: Vec::new(),
        predicted: Vec::new(),
        held_out: Vec::new(),
    };
    let (mut labels, mut predictions) = (Vec::new(), Vec::new());
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let line = i + 2;
        let num = |c: usize| {
            let cell = rec.get(c).unwrap_or("");
            parse_f64(cell).ok_or_else(|| bad(format!("line {line}: `{cell}` is not a number")))
        };
        p.x.push((0..split).map(num).collect::<Result<_, _>>()?);
        p.output.push(match output {
            Some(c) => num(c)?,
            None => f64::NAN,
        });
        p.held_out.push(rec.get(split) == Some("test"));
        labels.push(rec.get(label).unwrap_or("").to_string());
        predictions.push(rec.get(predicted).unwrap_or("").to_string());
    }
    let classes = crate::data::classes_of(&labels);
    let index = |l: &String| classes.iter().position(|c| c == l).map_or(f64::NAN, |i| i as f64);
    p.label = labels.iter().map(index).collect();
    p.predicted = predictions.iter().map(index).collect();
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_through_text() {
        for v in [0.1, 1.0, 1e-20, 123456.789, f64::NAN, f64::INFINITY, -0.0, 5e-324] {
            let back = parse_f64(&fmt_f64(v)).unwrap();
            assert!(back.to_bits() == v.to_bits() || (v.is_nan() && back.is_nan()), "{v}");
        }
        assert_eq!(fmt_f64(1.0), "1.0");
        assert_eq!(fmt_f64(f64::NAN), "NaN");
    }

    #[test]
    fn a_job_folder_appears_whole_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = ResultsDir::new(dir.path());
        store.create().unwrap();
        let mut w = store.begin_job("a_seed-0").unwrap();
        assert!(store.finished("a_seed-0").is_none());
        let rec = EpochRecord { epoch: 0, loss: 0.5, accuracy: 1.0, test_loss: None, test_accuracy: None };
        w.record(&rec);
        let summary = Summary { last: rec, min_loss: 0.5, ..Summary::empty() };
        let mut params = toml::Table::new();
        params.insert("lr".into(), Value::Float(0.1));
        let job = JobFile {
            job_id: "a_seed-0".into(),
            seed: 0,
            config_hash: "abc".into(),
            paths_relative_to: None,
            classes: None,
            params,
            result: JobOutcome::new(&summary, String::new()),
            files: Default::default(),
        };
        w.prepare(job, "x0,label,output,predicted\n", "{}\n").unwrap().commit().unwrap();
        let back = store.finished("a_seed-0").unwrap();
        assert_eq!(back.config_hash, "abc");
        assert_eq!(back.result.final_loss, 0.5);
        assert_eq!(back.result.files_hash.len(), 16);
        assert_eq!(read_curve(&store.job_dir("a_seed-0").join(CURVE)).unwrap(), vec![rec]);
        assert_eq!(fs::read_dir(store.path(TMP)).unwrap().count(), 0, "no temporary folder left");

        let rows = vec![SummaryRow::from_job(&back)];
        let p = store.path(SUMMARY);
        fs::write(&p, summary_csv(&rows)).unwrap();
        let mut want = rows;
        want[0].outcome.files_hash.clear();
        assert_eq!(read_summary(&p).unwrap(), want);
    }

    /// A prepared job is invisible until committed, and a prepared job that
    /// is never committed (the run died first) leaves nothing behind.
    #[test]
    fn a_prepared_job_is_visible_only_once_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store = ResultsDir::new(dir.path());
        store.create().unwrap();
        let job = |id: &str| JobFile {
            job_id: id.into(),
            seed: 0,
            config_hash: "abc".into(),
            paths_relative_to: None,
            classes: None,
            params: toml::Table::new(),
            result: JobOutcome::new(&Summary::empty(), String::new()),
            files: Default::default(),
        };
        let prepared = store.begin_job("kept").unwrap().prepare(job("kept"), "p\n", "{}\n").unwrap();
        assert!(store.finished("kept").is_none(), "not visible before commit");
        let dropped = store.begin_job("dropped").unwrap().prepare(job("dropped"), "p\n", "{}\n").unwrap();
        assert_eq!(fs::read_dir(store.path(TMP)).unwrap().count(), 2);
        drop(dropped);
        let outcome = prepared.commit().unwrap();
        assert_eq!(store.finished("kept").unwrap().result.files_hash, outcome.files_hash);
        assert!(store.finished("dropped").is_none());
        assert_eq!(fs::read_dir(store.path(TMP)).unwrap().count(), 0, "no temporary folder left");
    }
}

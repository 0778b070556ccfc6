//! Writing a results folder: job folders written whole under the temporary
//! place and committed in durable batches, files replaced atomically, and
//! summary.csv / predictions.csv / timing.csv as text (SPEC 6).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::layout::{
    CURVE, CURVE_HEADER, HASHED_FILES, JobFolders, MODEL, PARAMS, PREDICTIONS, ResultsDir,
    SUMMARY_RESULT_COLUMNS, TIMING, TMP, Workspace,
};
use super::pack::{PackIndex, PackWriter};
use super::record::{
    JobFile, JobOutcome, SummaryRow, hex, sha256_hex, write_f64, write_f64_bytes, write_u64,
};
use super::{StoreError, io_at};
use crate::spec::KEYS;
use crate::train::EpochRecord;

impl ResultsDir {
    /// Creates timing.csv with its header, atomically: written aside, then
    /// hard-linked into place, which fails if another process (a second run
    /// or shard on this folder) got there first. So the header is written
    /// once, and appended rows never see an empty file.
    pub(super) fn create_timing(&self) -> Result<(), StoreError> {
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

    /// Writes `contents` to `name` (a path relative to the folder, such as
    /// `figures/seeds.svg`) whole or not at all: written and synced in the
    /// temporary place, then renamed over the old file. On failure (a full
    /// disk, say) the old file stays as it was; the error names `name`.
    pub fn write_atomic(&self, name: &str, contents: &[u8]) -> Result<(), StoreError> {
        write_whole(&self.root.join(name), contents, &self.root.join(TMP))
    }

    /// Writes `name` as [`ResultsDir::write_atomic`] does, streaming: `fill`
    /// writes the contents into a buffered temporary file.
    pub fn write_atomic_with(
        &self,
        name: &str,
        fill: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), StoreError> {
        let path = self.root.join(name);
        let tmp_dir = self.root.join(TMP);
        let file_name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
        let tmp = tmp_dir.join(format!("{file_name}.{}.{}", std::process::id(), unique()));
        let written = (|| {
            let mut w = BufWriter::with_capacity(256 * 1024, File::create(&tmp)?);
            fill(&mut w)?;
            let f = w.into_inner().map_err(io::IntoInnerError::into_error)?;
            sync(&f)?;
            fs::rename(&tmp, &path)
        })()
        .map_err(io_at(&path));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Appends timing rows (`job_id,wall_ms,threads` lines, as
    /// [`timing_row`] writes them) in one `write` call, so concurrent
    /// shards' rows do not interleave.
    pub fn append_timing(&self, rows: &str) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.create_timing()?; // in case it was deleted mid-run
        let path = self.root.join(TIMING);
        let mut f = OpenOptions::new().append(true).open(&path).map_err(io_at(&path))?;
        f.write_all(rows.as_bytes()).map_err(io_at(&path))
    }

    /// Starts writing a job: a folder `<id>` in this process's workspace
    /// (removed again if the job does not finish: see [`JobWriter`]), to be
    /// moved into jobs/. Its folder and files are made relative to the
    /// workspace's open folder (one `mkdirat`, then an `openat` per file).
    pub fn begin_job(&self, workspace: &Workspace, id: &str) -> Result<JobWriter<'static>, StoreError> {
        let folders = std::sync::Arc::clone(&workspace.folders);
        let folder = JobFolder { folders, id: id.to_string() };
        rustix::fs::mkdirat(&folder.folders.tmp_fd, id, rustix::fs::Mode::from_raw_mode(0o777))
            .map_err(|e| StoreError::Io { path: folder.tmp(), source: e.into() })?;
        let file = match folder.create(CURVE) {
            Ok(f) => f,
            Err(e) => {
                let _ = fs::remove_dir_all(folder.tmp());
                return Err(StoreError::Io { path: folder.tmp().join(CURVE), source: e });
            }
        };
        let target = Target::Folder { folder, curve: file, buffer: Vec::with_capacity(1024), kept: false };
        JobWriter::new(target)
    }
}

/// A job's folder in a workspace: `<id>` in the workspace's open folder,
/// moved to `<id>` in jobs/ when committed.
#[derive(Debug)]
struct JobFolder {
    folders: std::sync::Arc<JobFolders>,
    id: String,
}

impl JobFolder {
    /// Its path in the workspace (for messages and cleanup).
    fn tmp(&self) -> PathBuf {
        self.folders.tmp.join(&self.id)
    }

    /// Its path in jobs/.
    fn final_dir(&self) -> PathBuf {
        self.folders.jobs.join(&self.id)
    }

    /// Creates the new file `name` in it (`O_EXCL`: the folder is this
    /// process's own and new), by a path relative to the workspace.
    fn create(&self, name: &str) -> io::Result<File> {
        use rustix::fs::{Mode, OFlags};
        let mut rel = String::with_capacity(self.id.len() + 1 + name.len());
        rel.push_str(&self.id);
        rel.push('/');
        rel.push_str(name);
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
        Ok(File::from(rustix::fs::openat(
            &self.folders.tmp_fd,
            rel.as_str(),
            flags,
            Mode::from_raw_mode(0o666),
        )?))
    }

    /// Writes the new file `name` in it, whole; an error names it.
    fn write(&self, name: &str, contents: &[u8]) -> Result<(), StoreError> {
        self.create(name)
            .and_then(|mut f| f.write_all(contents))
            .map_err(|e| StoreError::Io { path: self.tmp().join(name), source: e })
    }
}

impl PackWriter {
    /// Starts appending the job `id` (plan index `plan_index`) to this
    /// pack; its bytes are dropped again if it does not finish. `replaces`:
    /// the job's folder, removed once the packed job is in place (so a job
    /// is in one place).
    pub fn begin_job(
        &mut self,
        id: &str,
        plan_index: usize,
        replaces: Option<PathBuf>,
    ) -> Result<JobWriter<'_>, StoreError> {
        self.begin();
        JobWriter::new(Target::Packed { pack: self, id: id.to_string(), plan_index, replaces, done: false })
    }
}

/// What a job folder holds that sweep did not write there, by name: every
/// entry but a regular file of [`HASHED_FILES`] (other files, folders,
/// symbolic links, each said), or the folder itself when it is a link or
/// no folder. Empty: sweep may replace or remove the folder (it removes
/// nothing else: [`remove_job_dir`]). Nothing is followed or changed.
pub fn foreign_entries(dir: &Path) -> Result<Vec<String>, StoreError> {
    let kind = |t: fs::FileType| {
        if t.is_symlink() {
            " (a symbolic link)"
        } else if t.is_dir() {
            " (a folder)"
        } else if t.is_file() {
            ""
        } else {
            " (not a regular file)"
        }
    };
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::Io { path: dir.to_path_buf(), source: e }),
    };
    if !meta.is_dir() {
        return Ok(vec![format!("the job folder itself{}", kind(meta.file_type()))]);
    }
    let mut foreign = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_at(dir))? {
        let entry = entry.map_err(io_at(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let t = entry.file_type().map_err(io_at(&entry.path()))?;
        if !(t.is_file() && HASHED_FILES.contains(&name.as_str())) {
            foreign.push(format!("{name}{}", kind(t)));
        }
    }
    foreign.sort();
    Ok(foreign)
}

/// Removes a job folder sweep wrote: the regular files of [`HASHED_FILES`]
/// in it, then the folder, which must then be empty. Anything else in it
/// (a file sweep did not write, a folder, a link) stays, and so does the
/// folder (an error): nothing is followed or removed whole.
pub fn remove_job_dir(dir: &Path) -> Result<(), StoreError> {
    if !fs::symlink_metadata(dir).map_err(io_at(dir))?.is_dir() {
        return Err(StoreError::Refused {
            path: dir.to_path_buf(),
            message: "is not a job folder sweep wrote (a link or a file): left as it is".into(),
        });
    }
    for name in HASHED_FILES {
        let path = dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => fs::remove_file(&path).map_err(io_at(&path))?,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::Io { path, source: e }),
        }
    }
    fs::remove_dir(dir).map_err(io_at(dir))
}

/// The refusal of a run or prune that would replace or remove job folders
/// holding entries sweep did not write: `found` is (the job folder as
/// shown, its [`foreign_entries`]); `root` the results folder; `what` says
/// what would happen to them, `again` what to do once they are moved out.
pub fn foreign_refusal(root: &Path, found: &[(String, Vec<String>)], what: &str, again: &str) -> StoreError {
    let shown: Vec<String> =
        found.iter().take(5).map(|(job, names)| format!("{job}: {}", names.join(", "))).collect();
    let more = if found.len() > 5 { format!("; and {} more", found.len() - 5) } else { String::new() };
    let (folders, hold) = if found.len() == 1 {
        ("1 job folder".to_string(), "holds")
    } else {
        (format!("{} job folders", found.len()), "hold")
    };
    StoreError::Refused {
        path: root.to_path_buf(),
        message: format!(
            "{folders} that {what} {hold} entries sweep did not write ({}{more}); sweep never removes what \
             it did not write: move them out of the job folder, then {again}; nothing was changed",
            shown.join("; ")
        ),
    }
}

/// The most of a curve held before it is written: a short curve is one
/// `write`, when the job is prepared.
const CURVE_BUFFER: usize = 64 * 1024;

/// One row of timing.csv.
pub fn timing_row(out: &mut String, job_id: &str, wall_ms: f64, threads: usize) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "{job_id},{wall_ms:.3},{threads}");
}

/// Writes `contents` to `path` whole or not at all: into a fresh file in
/// `tmp_dir` (which must be on the same file system), synced, then renamed
/// over `path`. A failure removes the temporary file, leaves `path` as it
/// was, and names `path`.
pub fn write_whole(path: &Path, contents: &[u8], tmp_dir: &Path) -> Result<(), StoreError> {
    write_whole_with(path, tmp_dir, &mut |w| w.write_all(contents))
}

/// [`write_whole`] of what `write` produces, streamed to the temporary file
/// through a buffer (a large file is never held in memory whole).
pub fn write_whole_with(
    path: &Path,
    tmp_dir: &Path,
    write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
) -> Result<(), StoreError> {
    let file_name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    fs::create_dir_all(tmp_dir).map_err(io_at(path))?;
    let tmp = tmp_dir.join(format!("{file_name}.{}.{}", std::process::id(), unique()));
    let written = (|| {
        let mut f = BufWriter::with_capacity(64 << 10, File::create(&tmp)?);
        write(&mut f)?;
        let f = f.into_inner().map_err(io::IntoInnerError::into_error)?;
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

/// A process-wide counter for unique temporary names.
pub(super) fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// One job's files being written; nothing is visible until
/// [`Prepared::commit`] (a folder renamed into jobs/, or a pack's index
/// row). A writer dropped before `prepare` (a failed or stopped job, a
/// write error) removes its temporary folder, or its bytes from the pack.
pub struct JobWriter<'a> {
    target: Target<'a>,
    /// SHA-256 of curve.csv, as it is written.
    curve_hash: Sha256,
    /// Reused line buffer: recording an epoch allocates nothing.
    line: String,
    error: Option<io::Error>,
    /// When set, training stops at the next epoch (Ctrl-C).
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

/// Where a [`JobWriter`] writes.
enum Target<'a> {
    /// A folder in the workspace, renamed into jobs/ when committed.
    Folder {
        folder: JobFolder,
        curve: File,
        /// The curve's bytes not yet written (up to [`CURVE_BUFFER`]).
        buffer: Vec<u8>,
        /// The folder is the [`Prepared`]'s now: nothing to clean up.
        kept: bool,
    },
    /// Appended to an open pack.
    Packed { pack: &'a mut PackWriter, id: String, plan_index: usize, replaces: Option<PathBuf>, done: bool },
}

impl<'a> JobWriter<'a> {
    fn new(target: Target<'a>) -> Result<JobWriter<'a>, StoreError> {
        let mut w = JobWriter {
            target,
            curve_hash: Sha256::new(),
            line: String::with_capacity(128),
            error: None,
            cancel: None,
        };
        // On error `w` drops, taking its folder (or bytes) along.
        w.write_curve(format!("{CURVE_HEADER}\n").as_bytes())
            .map_err(|e| StoreError::Io { path: w.curve_label(), source: e })?;
        Ok(w)
    }

    /// How messages name the curve being written.
    fn curve_label(&self) -> PathBuf {
        match &self.target {
            Target::Folder { folder, .. } => folder.tmp().join(CURVE),
            Target::Packed { pack, id, .. } => {
                let mut s = pack.data_path.as_os_str().to_owned();
                s.push(format!("[{id}/{CURVE}]"));
                PathBuf::from(s)
            }
        }
    }

    fn write_curve(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.curve_hash.update(bytes);
        match &mut self.target {
            Target::Folder { curve, buffer, .. } => {
                buffer.extend_from_slice(bytes);
                if buffer.len() >= CURVE_BUFFER {
                    curve.write_all(buffer)?;
                    buffer.clear();
                }
                Ok(())
            }
            Target::Packed { pack, .. } => pack.append(bytes),
        }
    }

    /// Appends one curve row. The first I/O error is kept for `prepare`.
    pub fn record(&mut self, r: &EpochRecord) {
        if self.error.is_some() {
            return;
        }
        use std::fmt::Write as _;
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        let _ = write!(line, "{},", r.epoch);
        write_f64(&mut line, r.loss);
        line.push(',');
        write_f64(&mut line, r.accuracy);
        line.push(',');
        if let Some(v) = r.test_loss {
            write_f64(&mut line, v);
        }
        line.push(',');
        if let Some(v) = r.test_accuracy {
            write_f64(&mut line, v);
        }
        line.push('\n');
        if let Err(e) = self.write_curve(line.as_bytes()) {
            self.error = Some(e);
        }
        self.line = line;
    }

    /// Writes the remaining files (`job` gets its `files_hash` here);
    /// predictions.csv and model.json only when given (the `save` key), and
    /// params.toml's `[files]` lists only the files written. The job is
    /// complete but neither durable nor visible until [`Prepared::commit`],
    /// which a runner may leave to another thread so training never waits
    /// for the disk.
    pub fn prepare(
        mut self,
        job: &mut JobFile,
        predictions: Option<&str>,
        model: Option<&str>,
    ) -> Result<Prepared, StoreError> {
        if let Some(e) = self.error.take() {
            return Err(StoreError::Io { path: self.curve_label(), source: e });
        }
        let curve_hash = hex(&std::mem::take(&mut self.curve_hash).finalize());
        let optional = [(PREDICTIONS, predictions), (MODEL, model)];
        job.files = std::iter::once((CURVE.to_string(), curve_hash))
            .chain(
                optional
                    .iter()
                    .filter_map(|&(name, text)| Some((name.to_string(), sha256_hex(text?.as_bytes())))),
            )
            .collect();
        job.result.files_hash = files_digest(&job.files);
        let params = job.to_toml();
        match &mut self.target {
            Target::Folder { folder, curve, buffer, kept } => {
                curve
                    .write_all(buffer)
                    .map_err(|e| StoreError::Io { path: folder.tmp().join(CURVE), source: e })?;
                for (name, text) in optional {
                    if let Some(text) = text {
                        folder.write(name, text.as_bytes())?;
                    }
                }
                folder.write(PARAMS, params.as_bytes())?;
                // From here on the folder is the Prepared's to keep or remove.
                *kept = true;
                let folder = JobFolder {
                    folders: std::sync::Arc::clone(&folder.folders),
                    id: std::mem::take(&mut folder.id),
                };
                Ok(Prepared { result: job.result.clone(), pending: Pending::Folder { folder, kept: false } })
            }
            Target::Packed { pack, id, plan_index, replaces, done } => {
                let data = pack.data_path.to_path_buf();
                let start = pack.job_start();
                let curve_len = pack.position() - start;
                let mut lens = [Some(curve_len), None, None, None];
                for (slot, (_, text)) in optional.iter().enumerate() {
                    if let Some(text) = text {
                        pack.append(text.as_bytes()).map_err(io_at(&data))?;
                        lens[slot + 1] = Some(text.len() as u64);
                    }
                }
                pack.append(params.as_bytes()).map_err(io_at(&data))?;
                lens[3] = Some(params.len() as u64);
                if let Some(big) = lens.iter().flatten().find(|&&l| l > super::pack::MAX_PACKED_FILE) {
                    return Err(StoreError::Format {
                        path: data,
                        message: format!(
                            "job {id}: a file of {big} bytes; a packed job's files must each be under 4 GiB \
                             (use layout = \"folders\")"
                        ),
                    });
                }
                pack.end_job().map_err(io_at(&data))?;
                *done = true;
                let mut row = String::with_capacity(96);
                super::pack::index_row(&mut row, id, *plan_index, start, lens);
                Ok(Prepared {
                    result: job.result.clone(),
                    pending: Pending::Packed {
                        index: std::sync::Arc::clone(pack.index()),
                        row,
                        replaces: replaces.take(),
                    },
                })
            }
        }
    }
}

/// A finished job waiting to be made durable and visible: a folder in the
/// workspace (dropped without `commit`, it removes its folder), or a job
/// appended to a pack whose index row is still to be written.
#[derive(Debug)]
pub struct Prepared {
    result: JobOutcome,
    pending: Pending,
}

#[derive(Debug)]
enum Pending {
    Folder { folder: JobFolder, kept: bool },
    Packed { index: std::sync::Arc<PackIndex>, row: String, replaces: Option<PathBuf> },
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

    /// Moves the (durable) folder into jobs/: one rename for a new job; an
    /// older result of the same id (or a folder another process put there
    /// first: a second run of the same study, which wrote the same bytes)
    /// is replaced.
    fn publish(mut self) -> Result<JobOutcome, StoreError> {
        let Pending::Folder { folder, kept } = &mut self.pending else {
            return Err(StoreError::Format { path: PathBuf::new(), message: "not a folder".into() });
        };
        let (id, folders) = (folder.id.as_str(), &*folder.folders);
        match rustix::fs::renameat(&folders.tmp_fd, id, &folders.jobs_fd, id).map_err(io::Error::from) {
            Ok(()) => {
                *kept = true;
                return Ok(self.result.clone());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::DirectoryNotEmpty
                        | io::ErrorKind::AlreadyExists
                        | io::ErrorKind::NotADirectory
                ) => {}
            Err(e) => return Err(StoreError::Io { path: folder.final_dir(), source: e }),
        }
        // The rare case (a job replaced, or published by another process
        // meanwhile) by paths.
        let (tmp, final_dir) = (&folder.tmp(), &folder.final_dir());
        // Checked again here (the run checked every job before training):
        // a folder holding anything sweep did not write is not replaced.
        let foreign = foreign_entries(final_dir)?;
        if !foreign.is_empty() {
            return Err(StoreError::Refused {
                path: final_dir.clone(),
                message: format!(
                    "holds {}, which sweep did not write: not replaced (move it out, then run again)",
                    foreign.join(", ")
                ),
            });
        }
        // `<id>.old` beside the new folder (an id may hold dots).
        let mut old_name = tmp.file_name().unwrap_or_default().to_os_string();
        old_name.push(".old");
        let old = tmp.with_file_name(old_name);
        let replaced = match fs::rename(final_dir, &old) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(StoreError::Io { path: final_dir.clone(), source: e }),
        };
        if let Err(e) = fs::rename(tmp, final_dir) {
            if replaced {
                let _ = fs::rename(&old, final_dir); // put the old result back
            } else if matches!(e.kind(), io::ErrorKind::DirectoryNotEmpty | io::ErrorKind::AlreadyExists) {
                // Another process published this job between our renames.
                return Ok(self.result.clone());
            }
            return Err(StoreError::Io { path: final_dir.clone(), source: e });
        }
        *kept = true;
        if replaced {
            let _ = remove_job_dir(&old);
        }
        Ok(self.result.clone())
    }
}

/// Makes a batch of prepared jobs durable and visible (durability batched,
/// not one `fsync` per job):
///
/// 1. every file of the batch reaches the disk: one `syncfs` of the results
///    folder's file system on Linux (elsewhere an `fsync` per file);
/// 2. each folder is renamed into jobs/; each packed job's index row is
///    appended (one `write` per run of rows of one pack), and a folder the
///    packed job replaces is removed;
/// 3. jobs/ is synced, so the renames are durable too (the packs' indexes
///    are synced before summary.csv is written: [`sync_packs`]).
///
/// So after a power cut, a job folder in jobs/ is whole, an indexed packed
/// job's bytes are on disk, and a job whose rename or row was not yet
/// durable is absent (its temporary folder is cleaned up, its bytes cut
/// from the pack, and the job trained again). Some file systems report a
/// full disk only when syncing (NFS, delayed allocation): then the whole
/// batch fails and its temporary folders go. A file system that cannot
/// sync is no reason to fail a job.
pub fn commit_batch(batch: Vec<Prepared>) -> Vec<Result<JobOutcome, StoreError>> {
    if let Err((path, e)) = sync_files(&batch) {
        return batch
            .into_iter()
            .map(|_| {
                Err(StoreError::Io { path: path.clone(), source: io::Error::new(e.kind(), e.to_string()) })
            })
            .collect();
    }
    let folders = batch.iter().find_map(|p| match &p.pending {
        Pending::Folder { folder, .. } => Some(std::sync::Arc::clone(&folder.folders)),
        Pending::Packed { .. } => None,
    });
    let mut results = Vec::with_capacity(batch.len());
    let mut batch = batch.into_iter().peekable();
    let mut rows = String::new();
    while let Some(p) = batch.next() {
        let Pending::Packed { index, row, replaces } = &p.pending else {
            results.push(p.publish());
            continue;
        };
        // The rows of a run of jobs of one pack go in one write.
        rows.clear();
        rows.push_str(row);
        let mut run = vec![(p.result.clone(), replaces.clone())];
        while let Some(next) = batch.next_if(|n| {
            matches!(&n.pending, Pending::Packed { index: other, .. } if std::sync::Arc::ptr_eq(index, other))
        }) {
            if let Pending::Packed { row, replaces, .. } = &next.pending {
                rows.push_str(row);
                run.push((next.result.clone(), replaces.clone()));
            }
        }
        match index.append(rows.as_bytes()) {
            Ok(()) => {
                for (result, replaces) in run {
                    if let Some(folder) = replaces {
                        remove_replaced(&folder);
                    }
                    results.push(Ok(result));
                }
            }
            Err(e) => results.extend(run.iter().map(|_| Err(e.duplicate()))),
        }
    }
    if let Some(folders) = folders {
        // Best effort: the folders are in place whatever this says.
        let _ = rustix::fs::fsync(&folders.jobs_fd);
    }
    results
}

/// Removes a job folder a packed job replaced (through the temporary
/// place, so no half folder stays in jobs/). Best effort: a folder left
/// there is found before the pack by readers only while it stays whole
/// and of the plan's configuration.
fn remove_replaced(folder: &Path) {
    let Some(jobs) = folder.parent() else { return };
    let Some(root) = jobs.parent() else { return };
    let name = folder.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let doomed = root.join(TMP).join(format!("{name}.{}.{}.replaced", std::process::id(), unique()));
    // Only a folder of sweep's own files goes (the run checked every one
    // before training).
    if foreign_entries(folder).is_ok_and(|f| f.is_empty()) && fs::rename(folder, &doomed).is_ok() {
        let _ = remove_job_dir(&doomed);
    }
}

/// Makes the indexes of the packs in `root` durable (before summary.csv
/// lists their jobs): one `syncfs` on Linux, an `fsync` per index elsewhere.
pub fn sync_packs(root: &Path) -> Result<(), StoreError> {
    let dir = root.join(super::layout::PACKS);
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let folder = File::open(&dir).map_err(io_at(&dir))?;
        // SAFETY: `syncfs` takes any open file descriptor and only reads it;
        // `folder` stays open for the whole call.
        let rc = unsafe { libc::syncfs(folder.as_raw_fd()) };
        if rc != 0 {
            let e = io::Error::last_os_error();
            if !matches!(e.kind(), io::ErrorKind::Unsupported | io::ErrorKind::InvalidInput) {
                return Err(StoreError::Io { path: dir, source: e });
            }
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        for e in fs::read_dir(&dir).map_err(io_at(&dir))?.flatten() {
            File::open(e.path()).and_then(|f| sync(&f)).map_err(io_at(&e.path()))?;
        }
        File::open(&dir).and_then(|d| sync(&d)).map_err(io_at(&dir))
    }
}

/// Step 1 of [`commit_batch`].
fn sync_files(batch: &[Prepared]) -> Result<(), (PathBuf, io::Error)> {
    let Some(first) = batch.first() else { return Ok(()) };
    #[cfg(target_os = "linux")]
    {
        // Any descriptor on the results folder's file system: the
        // workspace's open folder, or the pack's index.
        let synced = match &first.pending {
            Pending::Folder { folder, .. } => {
                rustix::fs::syncfs(&folder.folders.tmp_fd).map_err(|e| (folder.folders.tmp.clone(), e.into()))
            }
            Pending::Packed { index, .. } => {
                let fd = index.raw_fd().ok_or_else(|| (index.path.clone(), io::Error::other("poisoned")))?;
                // SAFETY: `syncfs` takes any open file descriptor and only
                // reads it; the pack's index, which `first` holds, stays open
                // for the whole call.
                if unsafe { libc::syncfs(fd) } == 0 {
                    Ok(())
                } else {
                    Err((index.path.clone(), io::Error::last_os_error()))
                }
            }
        };
        match synced {
            Err((_, e)) if matches!(e.kind(), io::ErrorKind::Unsupported | io::ErrorKind::InvalidInput) => {
                Ok(())
            }
            other => other,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = first;
        for p in batch {
            match &p.pending {
                Pending::Folder { folder, .. } => {
                    let tmp = folder.tmp();
                    for name in HASHED_FILES {
                        let path = tmp.join(name);
                        if path.exists() {
                            File::open(&path).and_then(|f| sync(&f)).map_err(|e| (path, e))?;
                        }
                    }
                }
                Pending::Packed { index, .. } => {
                    let data = index.path.with_extension("").with_extension("data");
                    File::open(&data).and_then(|f| sync(&f)).map_err(|e| (data, e))?;
                }
            }
        }
        Ok(())
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Pending::Folder { folder, kept: false } = &self.pending {
            let _ = fs::remove_dir_all(folder.tmp());
        }
    }
}

impl Drop for JobWriter<'_> {
    fn drop(&mut self) {
        match &mut self.target {
            Target::Folder { folder, kept: false, .. } => {
                let _ = fs::remove_dir_all(folder.tmp());
            }
            Target::Packed { pack, done: false, .. } => pack.abort(),
            _ => {}
        }
    }
}

impl crate::train::Sink for JobWriter<'_> {
    fn record(&mut self, r: &EpochRecord) {
        JobWriter::record(self, r);
    }

    fn stop(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// The digest of a job's data files that [`JobOutcome::files_hash`] holds
/// (an empty hash for a file not saved).
pub(super) fn files_digest(files: &std::collections::BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for name in [CURVE, PREDICTIONS, MODEL] {
        h.update(name.as_bytes());
        h.update(b"=");
        h.update(files.get(name).map_or("", String::as_str).as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize()[..8])
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
    // Written straight into one String, as the csv crate would write it
    // ([`push_csv_field`]); each class's field is made once.
    let mut out = String::with_capacity(24 * (raw.ncols() + outputs.ncols() + 3) * (raw.nrows() + 1));
    let class_fields: Vec<String> = classes
        .iter()
        .map(|c| {
            let mut f = String::new();
            push_csv_field(&mut f, c);
            f
        })
        .collect();
    let push_class = |out: &mut String, i: usize| match class_fields.get(i) {
        Some(f) => out.push_str(f),
        None => push_csv_field(out, &i.to_string()),
    };
    for c in columns {
        push_csv_field(&mut out, c);
        out.push(',');
    }
    out.push_str("split,label,predicted");
    if outputs.ncols() == 1 {
        out.push_str(",output");
    } else {
        for c in 0..outputs.ncols() {
            out.push(',');
            push_csv_field(&mut out, &format!("p_{}", class_name(classes, c)));
        }
    }
    out.push('\n');
    for (i, ((row, &y), o)) in raw.rows().into_iter().zip(labels).zip(outputs.rows()).enumerate() {
        let predicted = crate::nn::predicted_class(o.iter().copied());
        for &v in row {
            write_f64(&mut out, v);
            out.push(',');
        }
        out.push_str(if i < test_from { "train," } else { "test," });
        push_class(&mut out, y as usize);
        out.push(',');
        push_class(&mut out, predicted);
        for &v in o {
            out.push(',');
            write_f64(&mut out, v);
        }
        out.push('\n');
    }
    out
}

/// Appends one CSV field as the csv crate writes it (its default
/// `QuoteStyle::Necessary`): in double quotes, each `"` doubled, when it
/// holds a comma, a double quote, `\n` or `\r`; as it is otherwise.
pub fn push_csv_field(out: &mut String, field: &str) {
    csv_field(field, |part| out.push_str(part));
}

/// [`push_csv_field`] into bytes.
fn push_csv_field_bytes(out: &mut Vec<u8>, field: &str) {
    csv_field(field, |part| out.extend_from_slice(part.as_bytes()));
}

/// Hands [`push_csv_field`]'s text of `field` to `push`, in parts.
fn csv_field(field: &str, mut push: impl FnMut(&str)) {
    if !field.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        push(field);
        return;
    }
    push("\"");
    for (i, part) in field.split('"').enumerate() {
        if i > 0 {
            push("\"\"");
        }
        push(part);
    }
    push("\"");
}

/// Class `i`'s name (its index when there is no such class).
fn class_name(classes: &[String], i: usize) -> std::borrow::Cow<'_, str> {
    classes.get(i).map_or_else(|| i.to_string().into(), |c| c.as_str().into())
}

/// summary.csv as bytes, rows in the order given.
pub fn summary_csv(rows: &[SummaryRow]) -> Vec<u8> {
    let mut out = Vec::new();
    summary_header(&mut out);
    for r in rows {
        summary_record(&mut out, r);
    }
    out
}

/// Appends summary.csv's header line to `out`.
pub fn summary_header(out: &mut Vec<u8>) {
    let mut header: Vec<&str> = vec!["job_id", "seed"];
    header.extend(KEYS.iter().map(|k| k.name));
    header.extend(SUMMARY_RESULT_COLUMNS);
    let mut w = csv::WriterBuilder::new().buffer_capacity(1024).from_writer(out);
    // Into a Vec: cannot fail.
    let _ = w.write_record(&header).and_then(|()| w.flush().map_err(Into::into));
}

/// Appends one line of summary.csv to `out`: each field as the csv crate
/// writes it ([`push_csv_field`]), numbers and parameters written straight
/// into `out` (a parameter as [`crate::spec::Typed`]'s `Display` shows it).
pub fn summary_record(out: &mut Vec<u8>, r: &SummaryRow) {
    let o = &r.outcome;
    let mut cell = String::with_capacity(64);
    push_csv_field_bytes(out, &r.job_id);
    out.push(b',');
    write_u64(&mut cell, r.seed);
    out.extend_from_slice(cell.as_bytes());
    for (_, v) in r.params.typed() {
        out.push(b',');
        if let Some(v) = v {
            cell.clear();
            write_typed(&mut cell, v);
            push_csv_field_bytes(out, &cell);
        }
    }
    for v in [
        Some(o.final_loss),
        Some(o.final_accuracy),
        o.final_test_loss,
        o.final_test_accuracy,
        Some(o.min_loss),
    ] {
        out.push(b',');
        if let Some(v) = v {
            write_f64_bytes(out, v);
        }
    }
    let mut number = |out: &mut Vec<u8>, v: Option<u64>| {
        out.push(b',');
        if let Some(v) = v {
            cell.clear();
            write_u64(&mut cell, v);
            out.extend_from_slice(cell.as_bytes());
        }
    };
    number(out, o.epoch_at_target);
    out.push(b',');
    push_csv_field_bytes(out, &o.status);
    number(out, o.diverged_epoch);
    out.push(b',');
    push_csv_field_bytes(out, &r.curve);
    out.push(b'\n');
}

/// A parameter's text in summary.csv: [`crate::spec::Typed`]'s `Display`
/// (numbers through [`write_f64`], as `{:?}` writes them).
fn write_typed(out: &mut String, v: &crate::spec::Typed) {
    use crate::spec::Typed;
    fn list<T>(out: &mut String, items: &[T], one: impl Fn(&mut String, &T)) {
        out.push('[');
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            one(out, x);
        }
        out.push(']');
    }
    match v {
        Typed::Str(s) => out.push_str(s),
        Typed::Int(i) => write_u64(out, *i as u64),
        Typed::Float(x) => write_f64(out, *x),
        Typed::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Typed::Sizes(v) => list(out, v, |out, &i| write_u64(out, i as u64)),
        Typed::Numbers(v) => list(out, v, |out, &x| write_f64(out, x)),
        Typed::Texts(v) => list(out, v, |out, t| out.push_str(&crate::spec::list_element(t))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    /// predictions.csv as the csv crate wrote it, before [`push_csv_field`].
    fn predictions_by_csv_crate(
        columns: &[String],
        classes: &[String],
        raw: ndarray::ArrayView2<f64>,
        test_from: usize,
        labels: ndarray::ArrayView1<f64>,
        outputs: ndarray::ArrayView2<f64>,
    ) -> String {
        let class = |i: usize| class_name(classes, i).into_owned();
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
        let mut header: Vec<String> = columns.to_vec();
        header.extend(["split", "label", "predicted"].map(String::from));
        if outputs.ncols() == 1 {
            header.push("output".to_string());
        } else {
            header.extend((0..outputs.ncols()).map(|c| format!("p_{}", class(c))));
        }
        w.write_record(&header).unwrap();
        for (i, ((row, &y), out)) in raw.rows().into_iter().zip(labels).zip(outputs.rows()).enumerate() {
            let predicted = crate::nn::predicted_class(out.iter().copied());
            for &v in row {
                w.write_field(super::super::record::fmt_f64(v)).unwrap();
            }
            w.write_field(if i < test_from { "train" } else { "test" }).unwrap();
            w.write_field(class_name(classes, y as usize).as_bytes()).unwrap();
            w.write_field(class_name(classes, predicted).as_bytes()).unwrap();
            for &o in out {
                w.write_field(super::super::record::fmt_f64(o)).unwrap();
            }
            w.write_record(None::<&[u8]>).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    /// A summary.csv line as the csv crate wrote it, before [`push_csv_field`].
    fn summary_record_by_csv_crate(out: &mut Vec<u8>, r: &SummaryRow) {
        let o = &r.outcome;
        let opt_u64 = |v: Option<u64>| v.map(|e| e.to_string()).unwrap_or_default();
        let mut w = csv::WriterBuilder::new().buffer_capacity(1024).from_writer(out);
        w.write_field(&r.job_id).unwrap();
        w.write_field(r.seed.to_string()).unwrap();
        for (_, v) in r.params.typed() {
            w.write_field(v.map(ToString::to_string).unwrap_or_default()).unwrap();
        }
        for v in [
            Some(o.final_loss),
            Some(o.final_accuracy),
            o.final_test_loss,
            o.final_test_accuracy,
            Some(o.min_loss),
        ] {
            w.write_field(v.map(super::super::record::fmt_f64).unwrap_or_default()).unwrap();
        }
        w.write_field(opt_u64(o.epoch_at_target)).unwrap();
        w.write_field(&o.status).unwrap();
        w.write_field(opt_u64(o.diverged_epoch)).unwrap();
        w.write_field(&r.curve).unwrap();
        w.write_record(None::<&[u8]>).unwrap();
        w.flush().unwrap();
    }

    #[test]
    fn summary_record_is_the_bytes_the_csv_crate_wrote() {
        use crate::spec::{KEYS, Typed};
        let texts = ["relu", "a,b", "say \"hi\"", "line\nbreak", "cr\rhere", " x ", "", "ü"];
        let mut state = 11u64;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 11
        };
        for case in 0..2000u64 {
            let mut float = |k: u64| match k % 4 {
                0 => f64::from_bits(next() << 11 | next() >> 42),
                1 => (next() % 1000) as f64 * 1e-7,
                2 => f64::NAN,
                _ => next() as f64 * 2.0f64.powi(-53),
            };
            let text = |k: u64| texts[(k % texts.len() as u64) as usize].to_string();
            let values: Vec<Option<Typed>> = (0..KEYS.len() as u64)
                .map(|k| match (case + k) % 8 {
                    0 => None,
                    1 => Some(Typed::Str(text(case * 3 + k))),
                    2 => Some(Typed::Int((case * 977 + k) as usize)),
                    3 => Some(Typed::Float(float(case + k))),
                    4 => Some(Typed::Bool(case % 2 == 0)),
                    5 => Some(Typed::Sizes((0..case % 4).map(|i| (i * 13) as usize).collect())),
                    6 => Some(Typed::Numbers((0..case % 3).map(|i| float(i + k)).collect())),
                    _ => Some(Typed::Texts((0..case % 3).map(|i| text(i + k + case)).collect())),
                })
                .collect();
            let some = |k: u64| !(case + k).is_multiple_of(3);
            let row = SummaryRow {
                job_id: text(case) + "-" + &case.to_string(),
                seed: case * 0x9e37_79b9,
                params: crate::store::Params::from_values(values),
                outcome: JobOutcome {
                    status: text(case / 2),
                    final_loss: float(case),
                    final_accuracy: float(case + 1),
                    final_test_loss: some(1).then(|| float(case + 2)),
                    final_test_accuracy: some(2).then(|| float(case + 3)),
                    min_loss: float(case + 5),
                    epoch_at_target: some(3).then_some(case * 7),
                    diverged_epoch: some(4).then_some(case),
                    files_hash: "0123456789abcdef".into(),
                },
                curve: format!("jobs/{}/curve.csv", text(case + 4)),
                at: crate::store::JobRef::folder(PathBuf::new()),
            };
            let (mut ours, mut theirs) = (b"x,".to_vec(), b"x,".to_vec());
            summary_record(&mut ours, &row);
            summary_record_by_csv_crate(&mut theirs, &row);
            assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs), "case {case}");
        }
    }

    #[test]
    fn predictions_csv_is_the_bytes_the_csv_crate_wrote() {
        let names = [
            "x",
            "sepal length",
            "a,b",
            "say \"hi\"",
            "\"",
            "\"\"",
            "line\nbreak",
            "cr\rhere",
            " spaced ",
            "",
            "ü,日本",
            "tab\there",
            "it's",
            "#c",
            "a;b",
            ",",
            "\r\n",
        ];
        let mut state = 3u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 11
        };
        for case in 0..200usize {
            let n_cols = 1 + case % 4;
            let n_classes = 2 + case % 3;
            let units = if case % 2 == 0 { 1 } else { n_classes };
            let columns: Vec<String> =
                (0..n_cols).map(|c| names[(case + 3 * c) % names.len()].to_string()).collect();
            let classes: Vec<String> =
                (0..n_classes).map(|c| names[(case * 7 + 5 * c + 1) % names.len()].to_string()).collect();
            let rows = case % 9;
            let mut number = |i: u64| match i % 5 {
                0 => f64::from_bits(next()),
                1 => (next() % 1000) as f64,
                2 => -((next() % 100_000) as f64) * 1e-7,
                _ => (next() as f64) * 2.0f64.powi(-53),
            };
            let raw = Array2::from_shape_fn((rows, n_cols), |(r, c)| number((r + c) as u64));
            let outputs = Array2::from_shape_fn((rows, units), |(r, c)| number((r * 3 + c) as u64));
            // Labels past the classes are written as their index.
            let labels = Array1::from_shape_fn(rows, |r| ((r + case) % (n_classes + 1)) as f64);
            let test_from = rows / 2;
            let ours =
                predictions_csv(&columns, &classes, raw.view(), test_from, labels.view(), outputs.view());
            let theirs = predictions_by_csv_crate(
                &columns,
                &classes,
                raw.view(),
                test_from,
                labels.view(),
                outputs.view(),
            );
            assert_eq!(ours, theirs, "case {case}: columns {columns:?} classes {classes:?}");
        }
    }
}

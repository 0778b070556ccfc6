//! Writing a results folder: job folders written whole under the temporary
//! place and committed in durable batches, files replaced atomically, and
//! summary.csv / predictions.csv / timing.csv as text (SPEC 6).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::layout::{
    CURVE, CURVE_HEADER, MODEL, PARAMS, PREDICTIONS, ResultsDir, SUMMARY_RESULT_COLUMNS, TIMING, TMP,
    Workspace,
};
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
    /// (removed again if the job does not finish: see [`JobWriter`]).
    pub fn begin_job(&self, workspace: &Workspace, id: &str) -> Result<JobWriter, StoreError> {
        let tmp = workspace.dir.join(id);
        fs::create_dir(&tmp).map_err(io_at(&tmp))?;
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
            curve: HashingWriter { inner: BufWriter::with_capacity(CURVE_BUFFER, file), hash: Sha256::new() },
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

/// The curve's write buffer: a short curve is one `write`.
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

/// A process-wide counter for unique temporary names.
pub(super) fn unique() -> u64 {
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
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
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

    /// Writes the remaining files, still in the workspace (`job` gets its
    /// `files_hash` here); predictions.csv and model.json only when given
    /// (the `save` key), and params.toml's `[files]` lists only the files
    /// written. The job is complete but neither durable nor visible until
    /// [`Prepared::commit`], which a runner may leave to another thread so
    /// training never waits for the disk.
    pub fn prepare(
        mut self,
        mut job: JobFile,
        predictions: Option<&str>,
        model: Option<&str>,
    ) -> Result<Prepared, StoreError> {
        let curve_path = self.tmp.join(CURVE);
        if let Some(e) = self.error.take() {
            return Err(StoreError::Io { path: curve_path, source: e });
        }
        self.curve.flush().map_err(io_at(&curve_path))?;
        let curve_hash = hex(&std::mem::take(&mut self.curve.hash).finalize());
        let optional = [(PREDICTIONS, predictions), (MODEL, model)];
        job.files = std::iter::once((CURVE.to_string(), curve_hash))
            .chain(
                optional
                    .iter()
                    .filter_map(|&(name, text)| Some((name.to_string(), sha256_hex(text?.as_bytes())))),
            )
            .collect();
        job.result.files_hash = files_digest(&job.files);
        for (name, text) in optional {
            if let Some(text) = text {
                let p = self.tmp.join(name);
                fs::write(&p, text).map_err(io_at(&p))?;
            }
        }
        let p = self.tmp.join(PARAMS);
        fs::write(&p, job.to_toml()).map_err(io_at(&p))?;
        // From here on the folder is the Prepared's to keep or remove.
        self.kept = true;
        Ok(Prepared {
            tmp: self.tmp.clone(),
            final_dir: self.final_dir.clone(),
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

    /// Moves the (durable) folder into jobs/: one rename for a new job; an
    /// older result of the same id (or a folder another process put there
    /// first: a second run of the same study, which wrote the same bytes)
    /// is replaced.
    fn publish(mut self) -> Result<JobOutcome, StoreError> {
        match fs::rename(&self.tmp, &self.final_dir) {
            Ok(()) => {
                self.kept = true;
                return Ok(self.result.clone());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::DirectoryNotEmpty
                        | io::ErrorKind::AlreadyExists
                        | io::ErrorKind::NotADirectory
                ) => {}
            Err(e) => return Err(StoreError::Io { path: self.final_dir.clone(), source: e }),
        }
        let old = self.tmp.with_extension("old");
        let replaced = match fs::rename(&self.final_dir, &old) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(StoreError::Io { path: self.final_dir.clone(), source: e }),
        };
        if let Err(e) = fs::rename(&self.tmp, &self.final_dir) {
            if replaced {
                let _ = fs::rename(&old, &self.final_dir); // put the old result back
            } else if matches!(e.kind(), io::ErrorKind::DirectoryNotEmpty | io::ErrorKind::AlreadyExists) {
                // Another process published this job between our renames.
                return Ok(self.result.clone());
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
        let folder = File::open(&first.tmp).map_err(|e| (first.tmp.clone(), e))?;
        // SAFETY: `syncfs` takes any open file descriptor and only reads it;
        // `folder` stays open for the whole call.
        let rc = unsafe { libc::syncfs(folder.as_raw_fd()) };
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
            use super::layout::HASHED_FILES;
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
        Typed::Texts(v) => list(out, v, |out, t| out.push_str(t)),
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

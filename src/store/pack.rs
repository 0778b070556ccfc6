//! The packed layout (`layout = "packed"`): a job's files appended to a
//! pack instead of a folder per job, for sweeps where a folder (five
//! inodes, a rename and a directory entry) per job costs more than the job.
//!
//! A pack is one claim chunk of the runner (consecutive jobs of one shard,
//! trained in order by one process under the chunk's claim), two files in
//! `packs/`:
//!
//! - `<I>-<N>.<first index>.data`: each job's files verbatim, one after the
//!   other ([`PACK_FILES`] order: curve.csv, predictions.csv, model.json,
//!   params.toml), exactly the bytes the folder layout writes, so the
//!   hashes, `files_hash` and summary.csv are the same in both layouts;
//! - `<I>-<N>.<first index>.index.csv`: [`INDEX_HEADER`], then one row per
//!   job (`job_id,plan_index,offset,<length of each file>`; an empty length:
//!   not saved), appended only once the job's bytes are durable. A job
//!   trained again (damaged, `--force`) is appended again: the last row of
//!   an id is the job.
//!
//! Crash safety (SPEC 6, no half-written job): data is appended and synced
//! (one `syncfs` per commit batch) before its index rows are appended; a
//! job without an index row does not exist. Reopening a pack (resume after
//! a crash, under the chunk's claim) drops the index's torn tail (a last
//! line without its newline, or one that does not parse) and cuts the data
//! file back to the end of the last indexed job before appending.
//!
//! [`JobRef`] says where a job is (a folder or a pack entry): every reader
//! takes one, so commands above `src/store/` work on both layouts, and a
//! results folder may hold both. [`JobIndex`] finds a folder's packed jobs:
//! some 10 bytes per job, by plan index (no text per job: [`SlotRuns`]).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::layout::{CURVE, MODEL, PACKS, PARAMS, PREDICTIONS, ResultsDir};
use super::{StoreError, io_at};

/// The files of a packed job, in the order they are appended (params.toml
/// last: it records the others' hashes).
pub const PACK_FILES: [&str; 4] = [CURVE, PREDICTIONS, MODEL, PARAMS];

/// The first line of a pack's index.
pub const INDEX_HEADER: &str = "job_id,plan_index,offset,curve.csv,predictions.csv,model.json,params.toml\n";

/// The end of a pack's data file's name.
pub const DATA_SUFFIX: &str = ".data";
/// The end of a pack's index file's name.
pub const INDEX_SUFFIX: &str = ".index.csv";

/// A pack's name: `<I>-<N>.<first index>` (`0-1` unsharded).
pub fn pack_name(shard: &str, first: usize) -> String {
    format!("{shard}.{first}")
}

/// No length: the file was not saved (`save`).
const ABSENT: u32 = u32::MAX;

/// Where a packed job's bytes are in its pack's data file: where they
/// start and each file's length ([`PACK_FILES`] order; [`ABSENT`]: not
/// saved), 24 bytes. Files of a packed job are below 4 GiB (the writer
/// refuses larger); a job's files are one after the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    offset: u64,
    lens: [u32; 4],
}

impl Slot {
    /// A slot at `offset` with the files' lengths (None: not saved).
    #[cfg(test)]
    pub(crate) fn of(offset: u64, lens: [Option<u32>; 4]) -> Slot {
        Slot { offset, lens: lens.map(|l| l.unwrap_or(ABSENT)) }
    }

    /// Where the job's bytes end.
    pub fn end(&self) -> u64 {
        self.offset + self.lens.iter().filter(|&&l| l != ABSENT).map(|&l| u64::from(l)).sum::<u64>()
    }

    /// Offset and length of the file at `i` in [`PACK_FILES`] (None: not saved).
    fn file(&self, i: usize) -> Option<(u64, u64)> {
        let len = *self.lens.get(i).filter(|&&l| l != ABSENT)?;
        let before: u64 = self.lens[..i].iter().filter(|&&l| l != ABSENT).map(|&l| u64::from(l)).sum();
        Some((self.offset + before, u64::from(len)))
    }
}

/// One job's place among a folder's packs: the pack's number and the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    pack: u32,
    slot: Slot,
}

/// Jobs a [`SlotRuns`] run holds at most: finding a job decodes the
/// lengths of those before it in its run.
const RUN: u32 = 32;

/// Pack slots by key (a plan index, a report row's index), a few bytes a
/// job instead of 32 for a [`Slot`] and its pack number: jobs come in runs
/// (consecutive keys in one pack, each job's bytes right after the
/// previous one's: a pack's jobs, in the usual case), a run holds its first
/// key, its pack and where its bytes start, and a job only its four
/// lengths, as LEB128 varints (a tiny job's file is a few hundred bytes:
/// two bytes a length). Each key is pushed once; keys may come in any
/// order, [`SlotRuns::finish`] sorts the runs before [`SlotRuns::get`].
#[derive(Debug, Default)]
pub struct SlotRuns {
    runs: Vec<SlotRun>,
    /// Each job's lengths, plus 1 (0: not saved), run after run.
    lens: Vec<u8>,
    /// Where the last run's bytes end (while pushing).
    end: u64,
}

#[derive(Debug, Clone, Copy)]
struct SlotRun {
    first: usize,
    /// Where its jobs' lengths start in [`SlotRuns::lens`].
    at: usize,
    /// Where its first job's bytes start in its pack's data file.
    offset: u64,
    count: u32,
    pack: u32,
}

impl SlotRuns {
    /// Adds `key` at `slot` of the pack numbered `pack`.
    pub fn push(&mut self, key: usize, pack: u32, slot: Slot) {
        let extends = self.runs.last().is_some_and(|r| {
            r.pack == pack && r.count < RUN && r.first + r.count as usize == key && self.end == slot.offset
        });
        if !extends {
            self.runs.push(SlotRun { first: key, at: self.lens.len(), offset: slot.offset, count: 0, pack });
        }
        for l in slot.lens {
            super::varint::put(&mut self.lens, if l == ABSENT { 0 } else { l as usize + 1 });
        }
        if let Some(run) = self.runs.last_mut() {
            run.count += 1;
        }
        self.end = slot.end();
    }

    /// Sorts the runs by key (before [`SlotRuns::get`]) and frees the room
    /// left over.
    pub fn finish(&mut self) {
        self.runs.sort_unstable_by_key(|r| r.first);
        self.runs.shrink_to_fit();
        self.lens.shrink_to_fit();
    }

    /// The pack number and slot of `key` (None: not pushed).
    pub fn get(&self, key: usize) -> Option<(u32, Slot)> {
        let run = self.runs[..self.runs.partition_point(|r| r.first <= key)].last()?;
        let nth = key - run.first;
        if nth >= run.count as usize {
            return None;
        }
        let mut at = run.at;
        let mut offset = run.offset;
        for _ in 0..nth {
            for _ in 0..4 {
                offset += super::varint::get(&self.lens, &mut at)?.saturating_sub(1) as u64;
            }
        }
        let mut lens = [ABSENT; 4];
        for l in &mut lens {
            let n = super::varint::get(&self.lens, &mut at)?;
            if n > 0 {
                *l = u32::try_from(n - 1).ok()?;
            }
        }
        Some((run.pack, Slot { offset, lens }))
    }

    /// Whether no key was pushed.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.runs.capacity() * std::mem::size_of::<SlotRun>() + self.lens.capacity()
    }
}

/// Where a job's files are.
#[derive(Debug, Clone, PartialEq)]
pub enum JobRef {
    /// `jobs/<job_id>/`.
    Folder(PathBuf),
    /// An entry of a pack.
    Packed(PackedJob),
}

/// A job in a pack: its data file, its id, and where its files are there.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedJob {
    /// The pack's data file.
    pub data: Arc<Path>,
    pub job_id: String,
    slot: Slot,
}

impl PackedJob {
    /// The job `job_id` at `slot` of the pack whose data file is `data`.
    pub fn new(data: Arc<Path>, job_id: String, slot: Slot) -> PackedJob {
        PackedJob { data, job_id, slot }
    }

    /// Where the job's bytes are in its data file.
    pub fn slot(&self) -> Slot {
        self.slot
    }
}

impl JobRef {
    /// A job folder.
    pub fn folder(dir: impl Into<PathBuf>) -> JobRef {
        JobRef::Folder(dir.into())
    }

    /// How messages name the job's file `name`: its path, or
    /// `<pack>.data[<job_id>/<name>]`.
    pub fn label(&self, name: &str) -> PathBuf {
        match self {
            JobRef::Folder(dir) => dir.join(name),
            JobRef::Packed(p) => {
                let mut s = p.data.as_os_str().to_owned();
                s.push(format!("[{}/{name}]", p.job_id));
                PathBuf::from(s)
            }
        }
    }

    /// How messages name the job: its folder, or `<pack>.data[<job_id>]`.
    pub fn shown(&self) -> String {
        match self {
            JobRef::Folder(dir) => dir.display().to_string(),
            JobRef::Packed(p) => format!("{}[{}]", p.data.display(), p.job_id),
        }
    }

    /// How messages name the job within its results folder `root`:
    /// `jobs/<job_id>`, or `packs/<pack>.data[<job_id>]`.
    pub fn name_in(&self, root: &Path) -> String {
        match self {
            JobRef::Folder(dir) => dir.strip_prefix(root).unwrap_or(dir).display().to_string(),
            JobRef::Packed(p) => {
                format!("{}[{}]", p.data.strip_prefix(root).unwrap_or(&p.data).display(), p.job_id)
            }
        }
    }

    /// Whether the job holds the file `name` (a packed job: its index says so).
    pub fn has(&self, name: &str) -> bool {
        match self {
            JobRef::Folder(dir) => dir.join(name).is_file(),
            JobRef::Packed(p) => slot(name).is_some_and(|i| p.slot.file(i).is_some()),
        }
    }

    /// The job's file `name`, to read from its start; `Ok(None)` when there
    /// is no such file (not saved, missing from its folder, or its pack's
    /// data file gone).
    pub fn open(&self, name: &str) -> Result<Option<io::Take<File>>, StoreError> {
        match self {
            JobRef::Folder(dir) => {
                let path = dir.join(name);
                match File::open(&path) {
                    Ok(f) => Ok(Some(f.take(u64::MAX))),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(StoreError::Io { path, source: e }),
                }
            }
            JobRef::Packed(p) => {
                let Some((offset, len)) = slot(name).and_then(|i| p.slot.file(i)) else { return Ok(None) };
                // A deleted data file is its jobs' files missing, as for a
                // folder (readers name them, `run` trains them again).
                let mut f = match File::open(&p.data) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(StoreError::Io { path: p.data.to_path_buf(), source: e }),
                };
                use io::Seek as _;
                f.seek(io::SeekFrom::Start(offset)).map_err(io_at(&p.data))?;
                Ok(Some(f.take(len)))
            }
        }
    }

    /// The whole file `name` (None: no such file). A packed file cut short
    /// (its data file truncated) reads as what is there: its hash tells.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let JobRef::Folder(dir) = self {
            // fs::read sizes its buffer from the file: one read, where
            // reading an open file to its end probes again after it.
            let path = dir.join(name);
            return match fs::read(&path) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(StoreError::Io { path, source: e }),
            };
        }
        let Some(mut r) = self.open(name)? else { return Ok(None) };
        let mut bytes = Vec::with_capacity(usize::try_from(r.limit()).unwrap_or(0).min(1 << 30));
        r.read_to_end(&mut bytes).map_err(|source| StoreError::Io { path: self.label(name), source })?;
        Ok(Some(bytes))
    }
}

impl PackedJob {
    /// Why this job's row in its pack's index is out of line with the rows
    /// around it, when it is: (the index file, the row's line, why). Rows
    /// follow one another in the data file (each starts where the one
    /// before it ends; the last ends at the data file's end), so a row
    /// whose offset or a length was edited no longer meets its neighbours,
    /// and the job's files are read at the wrong places: they then fail
    /// their hashes although their bytes may be whole. Asked only of a job
    /// whose files do not match; reads the index again.
    pub fn index_fault(&self) -> Option<(PathBuf, usize, String)> {
        let data = self.data.to_str()?;
        let path = PathBuf::from(format!("{}{INDEX_SUFFIX}", data.strip_suffix(DATA_SUFFIX)?));
        let bytes = fs::read(&path).ok()?;
        let start = self.slot.offset;
        // (line, offset, end) of each row, in file order.
        let mut rows: Vec<(usize, u64, u64)> = Vec::new();
        let mut this = None;
        let text = std::str::from_utf8(bytes.strip_prefix(INDEX_HEADER.as_bytes())?).ok()?;
        for (i, line) in text.split_terminator('\n').enumerate() {
            let Some(row) = parse_row(line) else { continue };
            let end = Slot { offset: row.offset, lens: row.lens }.end();
            if row.id == self.job_id && row.offset == start {
                this = Some(rows.len());
            }
            rows.push((i + 2, row.offset, end));
        }
        let k = this?;
        let (line, offset, end) = rows[k];
        let why = if let Some(&(_, _, before)) = k.checked_sub(1).map(|p| &rows[p])
            && before != offset
        {
            format!("the row starts at byte {offset}, where the row above it ends at byte {before}")
        } else if let Some(&(_, next, _)) = rows.get(k + 1)
            && next != end
        {
            format!("its offset and lengths end at byte {end}, where the next row starts at byte {next}")
        } else {
            let len = fs::metadata(&self.data).ok()?.len();
            if k + 1 != rows.len() || len == end {
                return None;
            }
            format!("its offset and lengths end at byte {end}, but the data file holds {len} bytes")
        };
        Some((path, line, why))
    }
}

/// Index of `name` in [`PACK_FILES`].
fn slot(name: &str) -> Option<usize> {
    PACK_FILES.iter().position(|&f| f == name)
}

/// One parsed row of a pack's index.
struct Row<'a> {
    id: &'a str,
    plan_index: Option<usize>,
    offset: u64,
    lens: [u32; 4],
}

/// Parses an index row (without its newline); None when it does not parse.
fn parse_row(line: &str) -> Option<Row<'_>> {
    let mut cells = line.split(',');
    let id = cells.next().filter(|id| !id.is_empty())?;
    let plan_index = match cells.next()? {
        "" => None,
        i => Some(i.parse().ok()?),
    };
    let offset = cells.next()?.parse().ok()?;
    let mut lens = [ABSENT; 4];
    for l in &mut lens {
        let cell = cells.next()?;
        if !cell.is_empty() {
            *l = cell.parse().ok().filter(|&n| n != ABSENT)?;
        }
    }
    // curve.csv and params.toml are always written.
    if cells.next().is_some() || lens[0] == ABSENT || lens[3] == ABSENT {
        return None;
    }
    Some(Row { id, plan_index, offset, lens })
}

/// Reads a pack's index: each whole row in file order, and the length of
/// the file up to the end of its last whole row (0 when even the header is
/// not whole). A last line without its newline is a torn tail (a crash
/// while appending: dropped). A whole line that does not parse was changed
/// after sweep wrote it: its number (1 = the header) goes to `bad`.
fn read_index(path: &Path, f: &mut dyn FnMut(Row<'_>), bad: &mut Vec<usize>) -> Result<u64, StoreError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(StoreError::Io { path: path.to_path_buf(), source: e }),
    };
    parse_index(path, &bytes, f, bad)
}

/// [`read_index`] of the index's contents `bytes`.
fn parse_index(
    path: &Path,
    bytes: &[u8],
    f: &mut dyn FnMut(Row<'_>),
    bad: &mut Vec<usize>,
) -> Result<u64, StoreError> {
    if !bytes.starts_with(INDEX_HEADER.as_bytes()) {
        if INDEX_HEADER.as_bytes().starts_with(bytes) {
            return Ok(0); // the header itself torn (or the file empty)
        }
        return Err(StoreError::Format {
            path: path.to_path_buf(),
            message: format!("not a pack index: the first line is not `{}`", INDEX_HEADER.trim_end()),
        });
    }
    let mut whole = INDEX_HEADER.len();
    let mut at = whole;
    let mut number = 1;
    while let Some(nl) = bytes[at..].iter().position(|&b| b == b'\n') {
        let line = &bytes[at..at + nl];
        at += nl + 1;
        number += 1;
        match std::str::from_utf8(line).ok().and_then(parse_row) {
            Some(row) => {
                f(row);
                whole = at;
            }
            None => bad.push(number),
        }
    }
    // Unparsable lines after the last row are part of a torn tail, not a change.
    let rows_end = whole;
    let tail_lines = bytes[rows_end..at].iter().filter(|&&b| b == b'\n').count();
    bad.truncate(bad.len() - tail_lines.min(bad.len()));
    Ok(whole as u64)
}

/// The packs of a results folder (data file paths, sorted), by the name
/// before their suffix.
fn pack_names(root: &Path) -> Result<Vec<String>, StoreError> {
    let dir = root.join(PACKS);
    let mut names = Vec::new();
    match fs::read_dir(&dir) {
        Ok(entries) => {
            for e in entries {
                let e = e.map_err(io_at(&dir))?;
                if let Some(stem) = e.file_name().to_str().and_then(|n| n.strip_suffix(INDEX_SUFFIX)) {
                    names.push(stem.to_string());
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(StoreError::Io { path: dir, source: e }),
    }
    names.sort();
    Ok(names)
}

/// Where the jobs of a results folder are: folders are looked up in
/// `jobs/`, packed jobs in the packs' indexes, read once. With the plan
/// known, a packed job costs one entry per pack it is in, by plan index;
/// jobs outside the plan (or every job, without a plan) are kept by id.
pub struct JobIndex {
    root: PathBuf,
    /// Data files of the packs, by pack number.
    packs: Vec<Arc<Path>>,
    /// By plan index: the job's slot in the first pack holding it (in
    /// pack name order), some 10 bytes a job.
    by_plan: SlotRuns,
    /// Entries in further packs of jobs of the plan (rare: a job trained
    /// again under another shard count).
    more: HashMap<usize, Vec<Entry>>,
    /// Entries of jobs that are not the plan's (by id).
    others: std::collections::BTreeMap<String, Vec<Entry>>,
    /// Which plan jobs have a folder, from one listing of jobs/ (None
    /// without a plan: each job's folder is looked up).
    folders: Option<FolderListing>,
}

/// Which plan jobs have a folder in jobs/ (whole or not), from one listing
/// of jobs/: a bit per plan job; and how many job folders (with a
/// params.toml) are of no plan job. Instead of a `statx` per plan job: a
/// reader of a big plan, or an array task writing the plan's summary.csv,
/// would look up every job of the plan, most of them absent.
struct FolderListing {
    present: Vec<u64>,
    outside: usize,
}

impl FolderListing {
    /// Lists `root`/jobs/. Names are matched to the plan's jobs by
    /// [`crate::plan::IdLookup`] (8 bytes a plan job) when there are many;
    /// a few names (under a sixteenth of the plan) are kept and the plan's
    /// ids compared with them instead, so a listing of a few folders costs
    /// no memory per plan job. (A kept name costs some 70 bytes with its
    /// share of the map: a quarter of the plan kept was 18 bytes a plan
    /// job, twice the lookup.)
    fn read(root: &Path, plan: &crate::plan::Plan) -> Result<FolderListing, StoreError> {
        let mut listing = FolderListing { present: Vec::new(), outside: 0 };
        let jobs = root.join(super::layout::JOBS);
        let entries = match fs::read_dir(&jobs) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(listing),
            Err(e) => return Err(StoreError::Io { path: jobs, source: e }),
        };
        let few = plan.jobs.len() / 16;
        let mut names: Vec<std::ffi::OsString> = Vec::new();
        let mut ids = None;
        let is_job = |name: &std::ffi::OsStr| jobs.join(name).join(PARAMS).is_file();
        for entry in entries {
            let name = entry.map_err(io_at(&jobs))?.file_name();
            if ids.is_none() && names.len() < few {
                names.push(name);
                continue;
            }
            let ids = ids.get_or_insert_with(|| plan.id_lookup());
            for name in names.drain(..).chain(std::iter::once(name)) {
                match name.to_str().and_then(|n| ids.find(n)) {
                    Some(i) => listing.mark(i, plan.jobs.len()),
                    None => listing.outside += usize::from(is_job(&name)),
                }
            }
        }
        if !names.is_empty() {
            // Few names: each plan id is looked for among them.
            let mut found: HashMap<&str, bool> =
                names.iter().filter_map(|n| Some((n.to_str()?, false))).collect();
            for job in &plan.jobs {
                if let Some(seen) = found.get_mut(plan.id(job).as_str()) {
                    *seen = true;
                    listing.mark(job.index, plan.jobs.len());
                }
            }
            for name in &names {
                if !name.to_str().is_some_and(|n| found[n]) {
                    listing.outside += usize::from(is_job(name));
                }
            }
        }
        Ok(listing)
    }

    fn mark(&mut self, index: usize, jobs: usize) {
        if self.present.is_empty() {
            self.present = vec![0; jobs.div_ceil(64)];
        }
        self.present[index / 64] |= 1 << (index % 64);
    }

    fn has(&self, index: usize) -> bool {
        self.present.get(index / 64).is_some_and(|w| w & (1 << (index % 64)) != 0)
    }
}

impl JobIndex {
    /// Reads every pack index of the folder `root`; rows are matched to
    /// `plan`'s jobs by their plan index and id. An index with a line
    /// changed into something that is no row is an error naming the file
    /// and line (a reader cannot tell which job it lost); `run` opens it
    /// with [`JobIndex::open_to_run`].
    pub fn open(root: &Path, plan: Option<&crate::plan::Plan>) -> Result<JobIndex, StoreError> {
        JobIndex::read(root, plan, true)
    }

    /// [`JobIndex::open`] for a run, which skips a changed line: the job it
    /// named is not found, so it is trained again, and the pack's writer
    /// rewrites the index without the line ([`ResultsDir::open_pack`]).
    pub fn open_to_run(root: &Path, plan: &crate::plan::Plan) -> Result<JobIndex, StoreError> {
        JobIndex::read(root, Some(plan), false)
    }

    fn read(root: &Path, plan: Option<&crate::plan::Plan>, strict: bool) -> Result<JobIndex, StoreError> {
        let mut index = JobIndex {
            root: root.to_path_buf(),
            packs: Vec::new(),
            by_plan: SlotRuns::default(),
            more: HashMap::new(),
            others: Default::default(),
            folders: None,
        };
        let names = pack_names(root)?;
        if names.is_empty() {
            index.folders = plan.map(|plan| FolderListing::read(root, plan)).transpose()?;
            return Ok(index);
        }
        // Which plan jobs an earlier pack holds: a bit a plan job.
        let mut held: Vec<u64> = plan.map_or_else(Vec::new, |plan| vec![0; plan.jobs.len().div_ceil(64)]);
        // A pack's rows of plan jobs (plan index, slot), in file order.
        let mut planned: Vec<(usize, Slot)> = Vec::new();
        // Built only when a row's plan index does not name its job.
        let mut by_id = None;
        for (n, name) in names.iter().enumerate() {
            let dir = root.join(PACKS);
            index.packs.push(Arc::from(dir.join(format!("{name}{DATA_SUFFIX}")).as_path()));
            let pack = n as u32;
            let path = dir.join(format!("{name}{INDEX_SUFFIX}"));
            let mut bad = Vec::new();
            read_index(
                &path,
                &mut |row| {
                    let slot = Slot { offset: row.offset, lens: row.lens };
                    let at = plan.and_then(|plan| {
                        match row
                            .plan_index
                            .filter(|&i| plan.jobs.get(i).is_some_and(|j| plan.id(j) == row.id))
                        {
                            Some(i) => Some(i),
                            None => by_id.get_or_insert_with(|| plan.id_lookup()).find(row.id),
                        }
                    });
                    match at {
                        Some(i) => planned.push((i, slot)),
                        None => {
                            add_to(index.others.entry(row.id.to_string()).or_default(), Entry { pack, slot })
                        }
                    }
                },
                &mut bad,
            )?;
            index.add_planned(pack, &mut planned, &mut held);
            if strict && let Some(line) = bad.first() {
                return Err(StoreError::Format {
                    path,
                    message: format!(
                        "line {line} is not an index row ({}): the file was changed after sweep wrote it, \
                         and which job the row held is lost; running the manifest again trains that job \
                         again and rewrites the index without the line",
                        INDEX_HEADER.trim_end()
                    ),
                });
            }
        }
        // After the packs: a job packed again has its folder removed, so
        // it is found in one place or the other.
        index.by_plan.finish();
        drop(held);
        index.folders = plan.map(|plan| FolderListing::read(root, plan)).transpose()?;
        Ok(index)
    }

    /// Adds the rows of plan jobs of the pack numbered `pack` (`planned`,
    /// emptied): the last row of a job in a pack is the job; a job that an
    /// earlier pack holds (its bit in `held`) goes to [`JobIndex::more`].
    fn add_planned(&mut self, pack: u32, planned: &mut Vec<(usize, Slot)>, held: &mut [u64]) {
        // Stable: a job's rows stay in file order, the last one kept.
        planned.sort_by_key(|&(i, _)| i);
        for (k, &(i, slot)) in planned.iter().enumerate() {
            if planned.get(k + 1).is_some_and(|&(next, _)| next == i) {
                continue; // appended again later in this pack
            }
            let bit = 1u64 << (i % 64);
            match held.get_mut(i / 64) {
                Some(word) if *word & bit == 0 => {
                    *word |= bit;
                    self.by_plan.push(i, pack, slot);
                }
                _ => add_to(self.more.entry(i).or_default(), Entry { pack, slot }),
            }
        }
        planned.clear();
    }

    /// How many job folders (with a params.toml) in jobs/ are of no job of
    /// the plan the index was opened with (0 without a plan).
    pub fn folders_outside(&self) -> usize {
        self.folders.as_ref().map_or(0, |l| l.outside)
    }

    /// Whether the folder has any pack.
    pub fn has_packs(&self) -> bool {
        !self.packs.is_empty()
    }

    /// Every place the plan's job `job` is stored: its folder first (when
    /// there is one), then its pack entries (in pack name order).
    /// `plan` is the one the index was opened with: whether the job has a
    /// folder is known from the listing of jobs/ made then (no lookup per
    /// job); opened without a plan, its folder is looked up.
    pub fn places(&self, plan: &crate::plan::Plan, job: &crate::plan::Job) -> Vec<JobRef> {
        let packed = self.by_plan.get(job.index);
        let has_folder = match &self.folders {
            Some(listing) => listing.has(job.index),
            None => ResultsDir::new(&self.root).has_job(&plan.id(job)),
        };
        if !has_folder && packed.is_none() {
            return Vec::new(); // most jobs of a big plan read by one array task
        }
        let mut places = Vec::new();
        let id = plan.id(job);
        if has_folder {
            places.push(JobRef::Folder(ResultsDir::new(&self.root).job_dir(&id)));
        }
        if let Some((pack, slot)) = packed {
            let more = self.more.get(&job.index).map_or(&[][..], Vec::as_slice);
            for e in std::iter::once(Entry { pack, slot }).chain(more.iter().copied()) {
                let data = Arc::clone(&self.packs[e.pack as usize]);
                places.push(JobRef::Packed(PackedJob::new(data, id.clone(), e.slot)));
            }
        }
        places
    }

    /// Packed jobs that are not the plan's (every packed job, without a
    /// plan): id -> its places, sorted by id.
    pub fn others(&self) -> impl Iterator<Item = (&str, Vec<JobRef>)> + '_ {
        self.others.iter().map(|(id, entries)| {
            let places = entries
                .iter()
                .map(|e| {
                    JobRef::Packed(PackedJob::new(
                        Arc::clone(&self.packs[e.pack as usize]),
                        id.clone(),
                        e.slot,
                    ))
                })
                .collect();
            (id.as_str(), places)
        })
    }
}

/// Adds an entry to a job's list: replacing the one of the same pack (the
/// later row is the job), else after the others.
fn add_to(list: &mut Vec<Entry>, entry: Entry) {
    match list.iter_mut().find(|e| e.pack == entry.pack) {
        Some(e) => *e = entry,
        None => list.push(entry),
    }
}

/// The index side of an open pack, shared by the worker that appends the
/// data and the committer that appends the rows once the data is durable.
#[derive(Debug)]
pub struct PackIndex {
    pub path: PathBuf,
    file: Mutex<File>,
}

impl PackIndex {
    /// Appends whole rows (one `write`).
    pub(super) fn append(&self, rows: &[u8]) -> Result<(), StoreError> {
        use io::Write as _;
        let mut f = self.file.lock().map_err(|_| StoreError::Format {
            path: self.path.clone(),
            message: "a writer of this pack panicked".into(),
        })?;
        f.write_all(rows).map_err(io_at(&self.path))
    }

    /// A descriptor on the results folder's file system (for `syncfs`).
    #[cfg(target_os = "linux")]
    pub(super) fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.file.lock().ok().map(|f| f.as_raw_fd())
    }

    /// `fsync` of the index (elsewhere than Linux, where `syncfs` does it).
    #[cfg(not(target_os = "linux"))]
    pub(super) fn sync(&self) -> io::Result<()> {
        self.file.lock().map_err(|_| io::Error::other("poisoned"))?.sync_all()
    }
}

/// The write buffer of a pack's data file: a tiny job's files are one
/// `write` when it finishes.
const DATA_BUFFER: usize = 256 * 1024;

/// An open pack, held by the one process that holds its chunk's claim:
/// jobs' bytes are appended to its data file (buffered; one `write` per
/// job or per [`DATA_BUFFER`]); its index is appended by the committer.
pub struct PackWriter {
    pub data_path: Arc<Path>,
    data: File,
    buf: Vec<u8>,
    /// Bytes in the data file (written, not necessarily durable).
    written: u64,
    /// Where the job being written starts.
    job_start: u64,
    index: Arc<PackIndex>,
    /// The pack's entries when it was opened, by id (a chunk's worth).
    existing: HashMap<String, Slot>,
}

impl ResultsDir {
    /// Opens the pack of the chunk `first` of `shard` (`I-N`) to append to
    /// it; the caller holds the chunk's claim. A pack a crash left behind
    /// is repaired first: the index's torn tail dropped, the data cut back
    /// to the end of the last indexed job.
    pub fn open_pack(&self, shard: &str, first: usize) -> Result<PackWriter, StoreError> {
        let dir = self.root.join(PACKS);
        fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        self.check_no_links()?;
        let name = pack_name(shard, first);
        let index_path = dir.join(format!("{name}{INDEX_SUFFIX}"));
        let data_path = dir.join(format!("{name}{DATA_SUFFIX}"));
        // A pack's files are sweep's own: a link (or anything but a file)
        // in their place is never opened, cut or written through.
        for p in [&index_path, &data_path] {
            if fs::symlink_metadata(p).is_ok_and(|m| !m.is_file()) {
                return Err(StoreError::Refused {
                    path: p.clone(),
                    message:
                        "is not a pack file sweep wrote (a symbolic link?): sweep never writes, cuts or \
                              deletes through a link; move it out of the results folder, then run again"
                            .into(),
                });
            }
        }
        let open = |p: &Path| {
            use std::os::unix::fs::OpenOptionsExt as _;
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .custom_flags(libc::O_NOFOLLOW)
                .open(p)
                .map_err(io_at(p))
        };
        let mut index_file = open(&index_path)?;
        let mut bytes = Vec::new();
        index_file.read_to_end(&mut bytes).map_err(io_at(&index_path))?;
        let mut existing = HashMap::new();
        let mut bad = Vec::new();
        let whole = parse_index(
            &index_path,
            &bytes,
            &mut |row| {
                existing.insert(row.id.to_string(), Slot { offset: row.offset, lens: row.lens });
            },
            &mut bad,
        )?;
        if !bad.is_empty() {
            // Lines changed into no row: the index is written again without
            // them, whole or not at all (its jobs are those of its rows).
            let kept: Vec<&[u8]> = bytes[..whole as usize]
                .split_inclusive(|&b| b == b'\n')
                .enumerate()
                .filter(|(i, _)| !bad.contains(&(i + 1)))
                .map(|(_, line)| line)
                .collect();
            super::write::write_whole(&index_path, &kept.concat(), &self.path(super::layout::TMP))?;
            index_file = open(&index_path)?;
        } else if bytes.len() as u64 != whole {
            index_file.set_len(whole).map_err(io_at(&index_path))?;
        }
        if whole == 0 {
            index_file.write_all_at(INDEX_HEADER.as_bytes(), 0).map_err(io_at(&index_path))?;
        }
        let data = open(&data_path)?;
        let end = existing.values().map(Slot::end).max().unwrap_or(0);
        let data_len = data.metadata().map_err(io_at(&data_path))?.len();
        if data_len != end {
            // Longer: a job whose row never came (a crash). Shorter (the
            // file was cut): the rows past its end read as damaged; new
            // jobs go after every row's bytes.
            data.set_len(end).map_err(io_at(&data_path))?;
        }
        use io::Seek as _;
        index_file.seek(io::SeekFrom::End(0)).map_err(io_at(&index_path))?;
        Ok(PackWriter {
            data_path: Arc::from(data_path.as_path()),
            data,
            buf: Vec::with_capacity(DATA_BUFFER),
            written: end,
            job_start: end,
            index: Arc::new(PackIndex { path: index_path, file: Mutex::new(index_file) }),
            existing,
        })
    }
}

impl PackWriter {
    /// The job `id` as this pack held it when opened (written by another
    /// process of the same shard before this one took the claim).
    pub fn existing(&self, id: &str) -> Option<JobRef> {
        self.existing
            .get(id)
            .map(|&slot| JobRef::Packed(PackedJob::new(Arc::clone(&self.data_path), id.to_string(), slot)))
    }

    pub(super) fn index(&self) -> &Arc<PackIndex> {
        &self.index
    }

    /// Starts a job: what is appended from here on is its bytes.
    pub(super) fn begin(&mut self) {
        self.buf.clear();
        self.job_start = self.written;
    }

    /// Where the next byte goes.
    pub(super) fn position(&self) -> u64 {
        self.written + self.buf.len() as u64
    }

    pub(super) fn job_start(&self) -> u64 {
        self.job_start
    }

    /// Appends bytes of the current job.
    pub(super) fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.buf.len() + bytes.len() > DATA_BUFFER {
            self.flush()?;
            if bytes.len() > DATA_BUFFER {
                self.data.write_all_at(bytes, self.written)?;
                self.written += bytes.len() as u64;
                return Ok(());
            }
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Writes the buffer to the data file.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.data.write_all_at(&self.buf, self.written)?;
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// Drops the current job's bytes (it failed or was stopped).
    pub(super) fn abort(&mut self) {
        self.buf.clear();
        if self.written > self.job_start && self.data.set_len(self.job_start).is_ok() {
            self.written = self.job_start;
        }
        // (If the cut failed, the bytes stay unindexed: harmless, and the
        // next job starts after them.)
        self.job_start = self.written;
    }

    /// Ends the current job; its bytes are written (not yet durable).
    pub(super) fn end_job(&mut self) -> io::Result<()> {
        self.flush()?;
        self.job_start = self.written;
        Ok(())
    }
}

/// One index row: `job_id,plan_index,offset,<lengths>\n`; `lens` in
/// [`PACK_FILES`] order (None: not saved).
pub(super) fn index_row(out: &mut String, id: &str, plan_index: usize, offset: u64, lens: [Option<u64>; 4]) {
    use std::fmt::Write as _;
    let _ = write!(out, "{id},{plan_index},{offset}");
    for l in lens {
        out.push(',');
        if let Some(l) = l {
            let _ = write!(out, "{l}");
        }
    }
    out.push('\n');
}

/// The largest file a pack entry records.
pub(super) const MAX_PACKED_FILE: u64 = ABSENT as u64 - 1;

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys pushed in runs broken every way (a pack, a gap in the keys, a
    /// gap in the bytes, a full run), packs out of key order, lengths
    /// absent or near 4 GiB, offsets past 4 GiB: each comes back as pushed,
    /// and tiny jobs in packs cost a few bytes each.
    #[test]
    fn slot_runs_give_back_each_slot_as_pushed() {
        let mut pushed: Vec<(usize, u32, Slot)> = Vec::new();
        // Packs in name order, which is not key order.
        for (pack, first, count) in [(0u32, 640usize, 64usize), (1, 0, 64), (2, 100, 70), (3, 10_000, 5)] {
            let mut offset = u64::from(pack) << 33; // past 4 GiB for pack 1 on
            for k in 0..count {
                let key = first + k + usize::from(k >= 50) * 3; // a gap in the keys
                if k == 20 {
                    offset += 7; // a gap in the bytes
                }
                let big = (k == 30).then_some(MAX_PACKED_FILE as u32);
                let slot = Slot::of(
                    offset,
                    [Some(300 + k as u32), (k % 3 != 0).then_some(2000), big.or(Some(250)), Some(400)],
                );
                offset = slot.end();
                pushed.push((key, pack, slot));
            }
        }
        let mut runs = SlotRuns::default();
        for &(key, pack, slot) in &pushed {
            runs.push(key, pack, slot);
        }
        runs.finish();
        for &(key, pack, slot) in &pushed {
            assert_eq!(runs.get(key), Some((pack, slot)), "key {key}");
        }
        let keys: std::collections::HashSet<usize> = pushed.iter().map(|p| p.0).collect();
        for key in (0..11_000).filter(|k| !keys.contains(k)) {
            assert_eq!(runs.get(key), None, "key {key}");
        }
        // Tiny jobs in packs: 4 lengths of 2 bytes and a run per 32 jobs.
        let per_job = runs.heap_bytes() as f64 / pushed.len() as f64;
        assert!(per_job < 12.0, "{per_job} bytes a job");
    }

    /// A folder's packs as JobIndex reads them: a job in several packs
    /// (the first pack's entry first, then the others in name order), a job
    /// appended twice to one pack (the last row is the job), rows whose
    /// plan index does not name their job (found by id) and rows of no plan
    /// job (kept by id).
    #[test]
    fn the_index_finds_each_job_in_the_packs_that_hold_it() {
        let manifest = crate::manifest::Manifest::parse(
            Path::new("m.toml"),
            "seeds = 100\n[grid]\nlr = [0.1, 0.3]\n",
            &[],
        )
        .unwrap();
        let plan = crate::plan::Plan::new(manifest).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join(PACKS)).unwrap();
        let lens = |i: usize| [Some(300 + i as u64), None, Some(200), Some(400)];
        // Pack `name` holds `jobs` (plan index, plan index written, offset).
        let mut want: HashMap<usize, Vec<(String, Slot)>> = HashMap::new();
        type Rows = Vec<(usize, Option<usize>, u64)>;
        let packs: [(&str, Rows); 3] = [
            ("0-1.0", (0..64).map(|i| (i, Some(i), 0)).chain([(5, Some(5), 1)]).collect()),
            ("0-1.128", (128..200).map(|i| (i, if i == 150 { None } else { Some(i + 1) }, 0)).collect()),
            ("0-2.1", [(3, Some(3), 0), (199, Some(199), 0)].into_iter().collect()),
        ];
        for (name, jobs) in &packs {
            let (mut index, mut offset) = (INDEX_HEADER.to_string(), 0u64);
            let data = tmp.path().join(PACKS).join(format!("{name}{DATA_SUFFIX}"));
            for &(i, written, again) in jobs {
                let id = plan.id(&plan.jobs[i]);
                let mut row = String::new();
                index_row(&mut row, &id, written.unwrap_or(7), offset + again, lens(i));
                index.push_str(&row);
                let slot = Slot::of(offset + again, lens(i).map(|l| l.map(|l| l as u32)));
                let places = want.entry(i).or_default();
                match places.iter_mut().find(|(d, _)| *d == data.display().to_string()) {
                    Some(p) => p.1 = slot,
                    None => places.push((data.display().to_string(), slot)),
                }
                offset = slot.end();
            }
            index.push_str("not-of-the-plan,3,0,1,,1,1\n");
            fs::write(tmp.path().join(PACKS).join(format!("{name}{INDEX_SUFFIX}")), index).unwrap();
        }
        let index = JobIndex::open(tmp.path(), Some(&plan)).unwrap();
        for job in &plan.jobs {
            let got: Vec<(String, Slot)> = index
                .places(&plan, job)
                .into_iter()
                .map(|at| match at {
                    JobRef::Packed(p) => {
                        assert_eq!(p.job_id, plan.id(job));
                        (p.data.display().to_string(), p.slot())
                    }
                    other => panic!("{other:?}"),
                })
                .collect();
            assert_eq!(got, want.remove(&job.index).unwrap_or_default(), "job {}", job.index);
        }
        let others: Vec<(&str, usize)> = index.others().map(|(id, places)| (id, places.len())).collect();
        assert_eq!(others, [("not-of-the-plan", 3)]);
    }

    /// The listing of jobs/ (kept names for a few folders, the plan's id
    /// lookup for many) finds the folders a lookup per job finds, and
    /// counts the job folders of no plan job.
    #[test]
    fn one_listing_of_jobs_finds_what_a_lookup_per_job_finds() {
        let manifest = crate::manifest::Manifest::parse(
            Path::new("m.toml"),
            "seeds = 40\n[grid]\nlr = [0.1, 0.3]\ninit = [\"W.json\", \"w.json\"]\n",
            &[],
        )
        .unwrap();
        let plan = crate::plan::Plan::new(manifest).unwrap();
        // Up to 10 names (a sixteenth of 160 jobs) are kept; more: the lookup.
        for present in [vec![3], vec![0, 1, 159], (0..160).filter(|i| i % 3 != 1).collect::<Vec<_>>()] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = ResultsDir::new(tmp.path());
            fs::create_dir_all(tmp.path().join(super::super::layout::JOBS)).unwrap();
            for &i in &present {
                fs::create_dir(dir.job_dir(&plan.id(&plan.jobs[i]))).unwrap();
            }
            // Of no plan job: two folders with a params.toml, one without, a file.
            for (name, params) in [("lr-0.1_seed-77", true), ("x_seed-1", true), ("empty", false)] {
                fs::create_dir(dir.job_dir(name)).unwrap();
                if params {
                    fs::write(dir.job_dir(name).join(PARAMS), "").unwrap();
                }
            }
            fs::write(dir.job_dir("notes.txt"), "").unwrap();
            let index = JobIndex::open(tmp.path(), Some(&plan)).unwrap();
            let lookup = JobIndex::open(tmp.path(), None).unwrap();
            for job in &plan.jobs {
                let has = !index.places(&plan, job).is_empty();
                assert_eq!(has, present.contains(&job.index), "job {}", job.index);
                assert_eq!(has, !lookup.places(&plan, job).is_empty(), "job {}", job.index);
            }
            assert_eq!(index.folders_outside(), 2, "{present:?}");
        }
    }

    #[test]
    fn index_rows_parse_back_and_torn_or_foreign_lines_do_not() {
        let mut s = String::new();
        index_row(&mut s, "lr-0.1_seed-3", 7, 1234, [Some(100), None, Some(5), Some(700)]);
        assert_eq!(s, "lr-0.1_seed-3,7,1234,100,,5,700\n");
        let row = parse_row(s.trim_end()).unwrap();
        assert_eq!((row.id, row.plan_index, row.offset), ("lr-0.1_seed-3", Some(7), 1234));
        assert_eq!(row.lens, [100, ABSENT, 5, 700]);
        assert!(parse_row("lr-0.1_seed-3,7,1234,100,,5").is_none(), "a torn row");
        assert!(parse_row("a,1,2,,,,3").is_none(), "no curve");
        assert!(parse_row("a,1,2,3,,,").is_none(), "no params.toml");
        assert!(parse_row("a,x,2,3,,,4").is_none());
        assert!(parse_row("a,1,2,3,,,4,5").is_none(), "a cell too many");
    }
}

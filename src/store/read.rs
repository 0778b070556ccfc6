//! Reading a results folder back: job folders checked against the hashes
//! their params.toml records, summary.csv, curve.csv and predictions.csv
//! (with the csv crate), and the rows the readers (report, export, diff)
//! work on.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::layout::{
    CURVE, CURVE_HEADER, FILES_TABLE, MANIFEST, MANIFEST_HASH, MODEL, PARAMS, PREDICTIONS, ResultsDir,
    SUMMARY, SUMMARY_RESULT_COLUMNS,
};
use super::pack::{JobIndex, JobRef};
use super::record::{
    Damage, JobFile, JobOutcome, Params, SummaryRow, parse_f64, sha256_hex, write_files_table,
};
use super::write::{files_digest, summary_csv};
use super::{StoreError, io_at};
use toml::Value;

use crate::spec::{KEYS, Key, Kind, Typed};
use crate::train::EpochRecord;

impl ResultsDir {
    /// A finished job's params.toml, if the job folder exists and every
    /// file matches its recorded hash.
    pub fn finished(&self, id: &str) -> Option<JobFile> {
        read_job_checked(&self.job_dir(id)).ok()?.ok()
    }
}

/// A job read and checked: whole, or what does not match (with its
/// params.toml when that parses).
pub type Checked = Result<JobFile, (Vec<Damage>, Option<JobFile>)>;

/// Reads a job folder's params.toml and checks every file of the job against
/// its recorded hash: [`JobRef::checked`] of a folder.
pub fn read_job_checked(dir: &Path) -> Result<Checked, StoreError> {
    JobRef::folder(dir).checked()
}

/// Reads a job folder's params.toml: [`JobRef::params`] of a folder.
pub fn read_job(dir: &Path) -> Result<JobFile, StoreError> {
    JobRef::folder(dir).params()
}

impl JobRef {
    /// Reads the job's params.toml and checks every file of the job against
    /// its recorded hash. `Ok(Err(damage))` lists what does not match (the
    /// params.toml read, when it parses, comes along for messages).
    /// A packed job whose row in the pack's index no longer meets its
    /// neighbours' is [`Damage::Index`]: the index is blamed, not the files
    /// read at the places it gives.
    pub fn checked(&self) -> Result<Checked, StoreError> {
        let checked = self.check_files()?;
        if let (Err((_, job)), JobRef::Packed(p)) = (&checked, self)
            && let Some((index, line, why)) = p.index_fault()
        {
            let file = match (index.parent().and_then(Path::file_name), index.file_name()) {
                (Some(dir), Some(name)) => Path::new(dir).join(name).display().to_string(),
                _ => index.display().to_string(),
            };
            return Ok(Err((vec![Damage::Index { file, line, why }], job.clone())));
        }
        Ok(checked)
    }

    /// [`JobRef::checked`], of the files at the places the job's folder or
    /// its index row gives.
    fn check_files(&self) -> Result<Checked, StoreError> {
        let Some(bytes) = self.read(PARAMS)? else {
            return Ok(Err((vec![Damage::Missing(PARAMS)], None)));
        };
        let Ok(text) = String::from_utf8(bytes) else {
            return Ok(Err((vec![Damage::Changed(PARAMS)], None)));
        };
        let Ok(job) = toml::from_str::<JobFile>(&text) else {
            return Ok(Err((vec![Damage::Changed(PARAMS)], None)));
        };
        if job.files.is_empty() {
            return Ok(Err((vec![Damage::Unrecorded], Some(job))));
        }
        let mut damage = Vec::new();
        // params.toml is whole when the text above [files] matches its own
        // hash and [files] is the table that text makes (own hash, the other
        // files' hashes, whose digest `files_hash` above records): a byte
        // changed or added anywhere is CHANGED params.toml.
        let own = job.files.get(PARAMS).map_or("", String::as_str);
        let whole = text.find(FILES_TABLE).is_some_and(|at| {
            let (above, table) = text.split_at(at);
            let mut want = String::with_capacity(table.len());
            write_files_table(&mut want, own, &job.files);
            sha256_hex(above.as_bytes()) == own && table == want
        });
        // predictions.csv and model.json are optional (the `save` key): one
        // params.toml does not list was not written. The list and its hashes
        // are checked through `files_hash` (empty: written before it was).
        let unsaved = |name: &str| name != CURVE && !job.files.contains_key(name);
        let digest_recorded =
            !job.result.files_hash.is_empty() || [PREDICTIONS, MODEL].iter().any(|n| unsaved(n));
        let hashes_hold = !digest_recorded || files_digest(&job.files) == job.result.files_hash;
        if !whole || !hashes_hold {
            damage.push(Damage::Changed(PARAMS));
        }
        for name in [CURVE, PREDICTIONS, MODEL] {
            if unsaved(name) {
                continue;
            }
            match self.read(name)? {
                // A hash that was itself edited says nothing of the file.
                Some(bytes) => {
                    if hashes_hold && job.files.get(name) != Some(&sha256_hex(&bytes)) {
                        damage.push(Damage::Changed(name));
                    }
                }
                None => damage.push(Damage::Missing(name)),
            }
        }
        Ok(if damage.is_empty() { Ok(job) } else { Err((damage, Some(job))) })
    }

    /// Reads the job's params.toml (unchecked).
    pub fn params(&self) -> Result<JobFile, StoreError> {
        let path = self.label(PARAMS);
        let bytes = self.read(PARAMS)?.ok_or_else(|| missing(&path))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| StoreError::Format { path: path.clone(), message: "not UTF-8".into() })?;
        toml::from_str(&text).map_err(|e| StoreError::Format { path, message: e.to_string() })
    }

    /// The job's curve.csv, one logged epoch at a time.
    pub fn curve(&self) -> Result<CurveReader, StoreError> {
        let path = self.label(CURVE);
        let file = self.open(CURVE)?.ok_or_else(|| missing(&path))?;
        CurveReader::from_file(path, file)
    }

    /// The job's predictions.csv.
    pub fn predictions(&self) -> Result<Predictions, StoreError> {
        let path = self.label(PREDICTIONS);
        let file = self.open(PREDICTIONS)?.ok_or_else(|| missing(&path))?;
        predictions_from(&path, io::BufReader::new(file))
    }

    /// The first of `places` (a job's folder, its pack entries: see
    /// [`JobIndex::places`]) that is whole and whose configuration
    /// `config_text` accepts, with its params.toml; else the damage of
    /// the first damaged place of an accepted (or unknown) configuration.
    /// None: no place, or only jobs of other configurations (the last
    /// of them given as `Ok`, for messages).
    pub fn pick(
        places: Vec<JobRef>,
        accept: &dyn Fn(&JobFile) -> bool,
    ) -> Result<Option<(JobRef, Checked)>, StoreError> {
        let mut damaged = None;
        let mut other = None;
        for at in places {
            match at.checked()? {
                Ok(j) if accept(&j) => return Ok(Some((at, Ok(j)))),
                Ok(j) => other = Some((at, Ok(j))),
                Err((damage, j)) => {
                    if damaged.is_none() && of_the_job(&damage, j.as_ref(), accept) {
                        damaged = Some((at, Err((damage, j))));
                    } else if damaged.is_none() && other.is_none() {
                        other = Some((at, Err((damage, j))));
                    }
                }
            }
        }
        Ok(damaged.or(other))
    }
}

/// A job file that is not there (not saved, or deleted), as an I/O error
/// naming it.
fn missing(path: &Path) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::NotFound, "no such file"),
    }
}

/// Reads summary.csv back.
pub fn read_summary(path: &Path) -> Result<Vec<SummaryRow>, StoreError> {
    let root = path.parent().unwrap_or(Path::new("."));
    let bad = |message: String| StoreError::Format { path: path.to_path_buf(), message };
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let header = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col =
        |name: &str| header.iter().position(|h| h == name).ok_or_else(|| bad(format!("no `{name}` column")));
    let (id_col, seed_col) = (col("job_id")?, col("seed")?);
    let param_cols: Vec<(&str, usize)> =
        KEYS.iter().filter_map(|k| header.iter().position(|h| h == k.name).map(|i| (k.name, i))).collect();
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
            params: Params::from_values(
                KEYS.iter()
                    .map(|k| match param_cols.iter().find(|(name, _)| *name == k.name) {
                        Some((_, c)) => cell_value(k, get(*c))
                            .map_err(|p| bad(format!("line {line}, column `{}`: {p}", k.name))),
                        None => Ok(None),
                    })
                    .collect::<Result<_, _>>()?,
            ),
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
            at: JobRef::folder(root.join(get(rc[8])).parent().unwrap_or(root)),
        });
    }
    Ok(rows)
}

/// A parameter's cell of summary.csv, typed by its key (None: empty). The
/// one place displayed text becomes a value again; errors say what the key
/// allows.
fn cell_value(key: &Key, text: &str) -> Result<Option<Typed>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let not = |what: &str| format!("`{text}` is not {what}; allowed: {}", key.allowed());
    let value = match key.kind {
        Kind::Choice { .. } | Kind::Text { .. } => Value::String(text.to_string()),
        Kind::Int { .. } => Value::Integer(text.parse().map_err(|_| not("an integer"))?),
        Kind::Float { .. } => Value::Float(parse_f64(text).ok_or_else(|| not("a number"))?),
        Kind::Bool { .. } => Value::Boolean(text.parse().map_err(|_| not("true or false"))?),
        Kind::Sizes { .. } | Kind::Numbers { .. } => toml::from_str::<toml::Table>(&format!("v = {text}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .ok_or_else(|| not("a list of numbers"))?,
        Kind::Texts { .. } | Kind::Subset { .. } => {
            let names = crate::spec::list_elements(text).ok_or_else(|| not("a list"))?;
            let names: Option<Vec<Value>> =
                names.into_iter().map(|n| crate::spec::list_element_value(n).map(Value::String)).collect();
            Value::Array(names.ok_or_else(|| not("a list of names"))?)
        }
    };
    key.typed(&value).map(Some).map_err(|p| format!("{p}; allowed: {}", key.allowed()))
}

/// The plan a results folder was run with (its manifest.toml); None when
/// the folder has no manifest.toml and never recorded one (readers then
/// take every stored job). A manifest.toml that is not the one `run` wrote
/// (its SHA-256 differs from [`MANIFEST_HASH`]'s, or it is gone), or that
/// does not read as a manifest, is [`StoreError::Refused`] naming it: the
/// folder's study is then unknown, and guessing it would quietly drop or
/// add jobs.
pub fn stored_plan(root: &Path) -> Result<Option<crate::plan::Plan>, StoreError> {
    let path = root.join(MANIFEST);
    let recorded = recorded_manifest_hash(root)?;
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound && recorded.is_none() => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(StoreError::Refused {
                path,
                message: format!(
                    "MISSING manifest.toml: the folder's study is gone (the run recorded it in \
                     {MANIFEST_HASH}); restore it (from a copy or version control), or run the manifest \
                     again with `--out {}`, which rewrites it",
                    root.display()
                ),
            });
        }
        Err(e) => return Err(StoreError::Io { path, source: e }),
    };
    if let Some(want) = recorded
        && sha256_hex(&bytes) != want
    {
        return Err(StoreError::Refused {
            path: path.clone(),
            message: format!(
                "CHANGED manifest.toml: it is not the manifest this folder was run with (its SHA-256 no \
                 longer matches {MANIFEST_HASH}); readers cover exactly the study run, and an edited \
                 manifest.toml would quietly drop or add jobs. Restore it (from a copy or version control), \
                 or run the edited manifest into a new folder (`sweep run FILE --out NEW`). To make the \
                 edit this folder's study, make it in your own manifest, move {} out of the folder (sweep \
                 never writes over a file you edited), and run yours here: `sweep run YOURS.toml --out {}` \
                 (jobs outside its plan are kept; `sweep prune` lists them)",
                path.display(),
                root.display()
            ),
        });
    }
    let unreadable = |e: &dyn std::fmt::Display| StoreError::Refused {
        path: path.clone(),
        message: format!(
            "cannot be read as this folder's study, so it is not known which jobs to read: {e}; restore the \
             manifest as run (from a copy or version control)"
        ),
    };
    let text = String::from_utf8(bytes).map_err(|_| unreadable(&"not UTF-8 text"))?;
    let manifest = crate::manifest::Manifest::parse(&path, &text, &[]).map_err(|e| unreadable(&e))?;
    crate::plan::Plan::new(manifest).map(Some).map_err(|e| unreadable(&e))
}

/// The SHA-256 (hex) of manifest.toml that `run` recorded in
/// [`MANIFEST_HASH`], or None in a folder of an older sweep.
pub fn recorded_manifest_hash(root: &Path) -> Result<Option<String>, StoreError> {
    let path = root.join(MANIFEST_HASH);
    match fs::read_to_string(&path) {
        Ok(text) => match text.split_whitespace().next() {
            Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(Some(hex.to_ascii_lowercase()))
            }
            _ => Err(StoreError::Format {
                path,
                message: "is not a SHA-256 line (`<64 hex digits>  manifest.toml`), as `sweep run` writes \
                          it; run the manifest again to rewrite it"
                    .into(),
            }),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Io { path, source: e }),
    }
}

/// The line of [`MANIFEST_HASH`] for manifest.toml's text, as `sha256sum` prints it.
pub fn manifest_hash_line(text: &[u8]) -> String {
    format!("{}  {MANIFEST}\n", sha256_hex(text))
}

/// The note readers print when finished jobs of the folder are outside
/// the plan of its manifest.toml (`outside` of them), None when there are
/// none: such jobs are left out, and the reader says so rather than
/// letting the results quietly shrink.
pub fn outside_note(root: &Path, outside: usize) -> Result<Option<String>, StoreError> {
    if outside == 0 {
        return Ok(None);
    }
    let shown = crate::slurm::shell_quote(&root.display().to_string());
    let why = if recorded_manifest_hash(root)?.is_some() {
        "a run with a narrower plan keeps the jobs it no longer plans".to_string()
    } else {
        format!(
            "this folder records no hash of its manifest.toml (an older sweep), so an edit of it cannot be \
             told from a narrower run: if {MANIFEST} was edited, restore it"
        )
    };
    Ok(Some(format!(
        "{root}: {} in jobs/ or packs/ outside the plan of {MANIFEST} left out ({why}); `sweep prune {shown}` \
         lists them",
        crate::count(outside, "finished job"),
        root = root.display(),
    )))
}

/// The summary rows of a plan: its jobs that are whole (every file
/// matches its hash) and whose stored configuration is the plan's, in plan
/// order; a job of another configuration is left out, so a summary never
/// mixes studies. `damaged` gets the jobs of the plan's configuration whose
/// files do not match their hashes (id, where, what).
pub fn plan_rows(
    plan: &crate::plan::Plan,
    dir: &ResultsDir,
    damaged: &mut Vec<(String, String, Vec<Damage>)>,
) -> Result<Vec<SummaryRow>, StoreError> {
    let mut rows = Vec::new();
    let mut shared = SharedParams::default();
    let index = JobIndex::open(&dir.root, Some(plan))?;
    each_plan_row(plan, &index, damaged, &mut shared, &mut |row| {
        rows.push(row);
        Ok(())
    })?;
    Ok(rows)
}

/// The plan's job `job` as stored: the first whole place of the plan's
/// configuration (with its params.toml), or the damage of a place of that
/// configuration (or of one whose params.toml does not parse); None when
/// it is not stored, or only as another configuration.
pub fn plan_job(
    plan: &crate::plan::Plan,
    index: &JobIndex,
    job: &crate::plan::Job,
) -> Result<Option<(JobRef, Checked)>, StoreError> {
    let places = index.places(plan, job);
    if places.is_empty() {
        return Ok(None);
    }
    let want = plan.config_text(job);
    let accept = |j: &JobFile| j.config_text() == want;
    Ok(JobRef::pick(places, &accept)?.filter(|(_, checked)| match checked {
        Ok(j) => accept(j),
        Err((damage, j)) => of_the_job(damage, j.as_ref(), &accept),
    }))
}

/// Whether a damaged job's place counts as the plan's job (whose damage
/// readers name): its params.toml does not parse, says the plan's
/// configuration, or was itself changed (then what it says is no evidence
/// of another configuration: an edited `epochs` was silently left out).
fn of_the_job(damage: &[Damage], job: Option<&JobFile>, accept: &dyn Fn(&JobFile) -> bool) -> bool {
    damage.iter().any(|d| matches!(d, Damage::Changed(PARAMS) | Damage::Index { .. }))
        || job.is_none_or(accept)
}

/// [`plan_rows`], one row at a time.
fn each_plan_row(
    plan: &crate::plan::Plan,
    index: &JobIndex,
    damaged: &mut Vec<(String, String, Vec<Damage>)>,
    shared: &mut SharedParams,
    f: &mut dyn FnMut(SummaryRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    for job in &plan.jobs {
        match plan_job(plan, index, job)? {
            Some((at, Ok(j))) => f(shared.row(&j, at))?,
            Some((at, Err((damage, _)))) => damaged.push((plan.id(job), at.shown(), damage)),
            None => {}
        }
    }
    Ok(())
}

/// Every stored job of a folder without a readable plan, sorted by id
/// (folders and packed jobs): its place and what checking it gave.
pub fn all_jobs(dir: &ResultsDir, index: &JobIndex) -> Result<Vec<(String, JobRef, Checked)>, StoreError> {
    let mut out = Vec::new();
    for id in dir.job_ids()? {
        let at = JobRef::folder(dir.job_dir(&id));
        let checked = at.checked()?;
        out.push((id, at, checked));
    }
    for (id, places) in index.others() {
        if out.iter().any(|(have, _, _)| have == id) {
            continue; // the folder comes first
        }
        if let Some((at, checked)) = JobRef::pick(places, &|_| true)? {
            out.push((id.to_string(), at, checked));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Typed parameters shared by the rows of one configuration: a reader
/// holding many rows holds each configuration's parameters once.
#[derive(Default)]
struct SharedParams {
    /// The `[params]` table as text -> its typed values.
    seen: std::collections::HashMap<String, Params>,
}

impl SharedParams {
    /// At most this many configurations are remembered (memory stays
    /// bounded when every job is its own configuration).
    const MAX: usize = 4096;

    fn row(&mut self, job: &JobFile, at: JobRef) -> SummaryRow {
        let key = job.params.to_string();
        let params = match self.seen.get(&key) {
            Some(p) => p.clone(),
            None => {
                let p = Params::from_table(&job.params);
                if self.seen.len() < Self::MAX {
                    self.seen.insert(key, p.clone());
                }
                p
            }
        };
        SummaryRow { at, ..SummaryRow::with_params(job, params) }
    }
}

/// The rows of a results folder, for the readers (report, export, diff):
/// the jobs of its manifest.toml (every whole job, sorted by id, when
/// there is none), each checked against its recorded hashes. A damaged job
/// stops the reader with a message naming the file. summary.csv is checked
/// against the rows: one that does not match is rebuilt (said on stderr),
/// or refused when the folder is not sweep's to write.
pub fn load_rows(root: &Path) -> Result<Vec<SummaryRow>, StoreError> {
    let mut rows = Vec::new();
    each_row(root, &mut |row| {
        rows.push(row);
        Ok(())
    })?;
    Ok(rows)
}

/// [`load_rows`], one row at a time, in the same order: memory stays that
/// of one job whatever the number of jobs (summary.csv is compared as the
/// rows go, a buffered read against each row's bytes). `f` may see every
/// row before an error about the whole folder (a damaged job, a summary.csv
/// that does not match in a folder that is not sweep's): what it made of
/// them must then be dropped.
pub fn each_row(
    root: &Path,
    f: &mut dyn FnMut(SummaryRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    each_row_noting(root, true, f)
}

/// Every check a reader's refusal rests on ([`each_row`]'s: manifest.toml
/// against its record, the listing, every job's files against their
/// hashes, summary.csv), without reading any row, and quietly (the reader
/// that follows says the notes): for a reader whose output cannot be taken
/// back (`export` to standard output), before its first byte.
pub fn check_rows(root: &Path) -> Result<(), StoreError> {
    each_row_noting(root, false, &mut |_| Ok(()))
}

/// [`each_row`]; `notes`: whether to say on stderr what is left out.
fn each_row_noting(
    root: &Path,
    notes: bool,
    f: &mut dyn FnMut(SummaryRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let dir = ResultsDir::new(root);
    let mut damaged = Vec::new();
    let mut shared = SharedParams::default();
    let summary = root.join(SUMMARY);
    let mut check = SummaryCheck::open(&summary)?;
    let mut feed = |row: SummaryRow| -> Result<(), StoreError> {
        if let Some(c) = &mut check {
            c.row(&row)?;
        }
        f(row)
    };
    let plan = stored_plan(root)?;
    let index = JobIndex::open(root, plan.as_ref())?;
    if let Some(note) = outside_note(root, index.folders_outside() + index.others().count())?
        && notes
    {
        eprintln!("note: {note}");
    }
    match &plan {
        Some(plan) => each_plan_row(plan, &index, &mut damaged, &mut shared, &mut feed)?,
        None => {
            for (id, at, checked) in all_jobs(&dir, &index)? {
                match checked {
                    Ok(j) => feed(shared.row(&j, at))?,
                    Err((damage, _)) => damaged.push((id, at.shown(), damage)),
                }
            }
        }
    }
    if let Some((_, at, damage)) = damaged.first() {
        let what: Vec<String> = damage.iter().map(ToString::to_string).collect();
        // A refusal (exit 2), as for an edited manifest.toml: nothing is
        // read from a folder whose files were changed, and the message says
        // what to do.
        return Err(StoreError::Refused {
            path: PathBuf::from(at),
            message: format!(
                "{}{}: the files no longer match the hashes recorded when the job was written; `sweep \
                 verify {}` lists {}, running the manifest again retrains {}",
                what.join(", "),
                match damaged.len() - 1 {
                    0 => String::new(),
                    1 => " (and 1 more damaged job)".to_string(),
                    more => format!(" (and {more} more damaged jobs)"),
                },
                root.display(),
                if damaged.len() == 1 { "it" } else { "them" },
                if damaged.len() == 1 { "it" } else { "them" },
            ),
        });
    }
    match check.map(SummaryCheck::finish).transpose()? {
        None | Some(true) => {}
        Some(false) if dir.has_marker() => {
            // Rare: a second pass builds the file whole.
            let rows = match &plan {
                Some(plan) => plan_rows(plan, &dir, &mut Vec::new())?,
                None => all_jobs(&dir, &index)?
                    .into_iter()
                    .filter_map(|(_, at, checked)| Some(shared.row(&checked.ok()?, at)))
                    .collect(),
            };
            dir.write_atomic(SUMMARY, &summary_csv(&rows))?;
            eprintln!("note: {} did not match the job folders: rebuilt from them", summary.display());
        }
        Some(false) => {
            return Err(StoreError::Format {
                path: summary,
                message: "does not match the job folders; `sweep summarize` rebuilds it".into(),
            });
        }
    }
    Ok(())
}

/// summary.csv compared, row by row, with the rows the job folders give.
struct SummaryCheck {
    path: PathBuf,
    file: io::BufReader<fs::File>,
    /// The header's length: each row's bytes follow it in `summary_csv`'s output.
    header: usize,
    same: bool,
    buf: Vec<u8>,
}

impl SummaryCheck {
    /// None when there is no summary.csv (nothing to check).
    fn open(path: &Path) -> Result<Option<SummaryCheck>, StoreError> {
        let file = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::Io { path: path.to_path_buf(), source: e }),
        };
        let header = summary_csv(&[]);
        let mut c = SummaryCheck {
            path: path.to_path_buf(),
            file: io::BufReader::with_capacity(64 << 10, file),
            header: header.len(),
            same: true,
            buf: Vec::new(),
        };
        c.expect(&header)?;
        Ok(Some(c))
    }

    /// The next bytes of the file must be `want`.
    fn expect(&mut self, want: &[u8]) -> Result<(), StoreError> {
        use io::Read as _;
        if !self.same {
            return Ok(());
        }
        self.buf.resize(want.len(), 0);
        let mut got = 0;
        while got < want.len() {
            match self.file.read(&mut self.buf[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(StoreError::Io { path: self.path.clone(), source: e }),
            }
        }
        self.same = self.buf[..got] == *want;
        Ok(())
    }

    fn row(&mut self, row: &SummaryRow) -> Result<(), StoreError> {
        if !self.same {
            return Ok(());
        }
        let bytes = summary_csv(std::slice::from_ref(row));
        self.expect(&bytes[self.header..])
    }

    /// Whether the whole file matched (nothing left after the last row).
    fn finish(mut self) -> Result<bool, StoreError> {
        self.expect(&[])?;
        if !self.same {
            return Ok(false);
        }
        let mut one = [0u8; 1];
        use io::Read as _;
        loop {
            match self.file.read(&mut one) {
                Ok(k) => return Ok(k == 0),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(StoreError::Io { path: self.path, source: e }),
            }
        }
    }
}

/// Reads a curve.csv (columns [`CURVE_HEADER`]); errors name the line.
pub fn read_curve(path: &Path) -> Result<Vec<EpochRecord>, StoreError> {
    CurveReader::open(path)?.collect()
}

/// A curve.csv read one logged epoch at a time (memory: one record, however
/// long the curve); errors name the file and line.
pub struct CurveReader {
    path: PathBuf,
    r: csv::Reader<io::BufReader<io::Take<fs::File>>>,
    rec: csv::StringRecord,
}

impl CurveReader {
    /// Opens the curve.csv at `path` and checks its header.
    pub fn open(path: &Path) -> Result<CurveReader, StoreError> {
        let file = fs::File::open(path).map_err(io_at(path))?;
        CurveReader::from_file(path.to_path_buf(), io::Read::take(file, u64::MAX))
    }

    /// A curve in `file` (from its start to its end), named `path` in messages.
    fn from_file(path: PathBuf, file: io::Take<fs::File>) -> Result<CurveReader, StoreError> {
        let mut r = csv::ReaderBuilder::new().from_reader(io::BufReader::with_capacity(64 << 10, file));
        let bad = |message: String| StoreError::Format { path: path.clone(), message };
        let header = r.headers().map_err(|e| bad(e.to_string()))?;
        if !header.iter().eq(CURVE_HEADER.split(',')) {
            return Err(bad(format!("expected the header `{CURVE_HEADER}`")));
        }
        Ok(CurveReader { path, r, rec: csv::StringRecord::new() })
    }

    /// The next logged epoch, None at the end.
    pub fn next_record(&mut self) -> Result<Option<EpochRecord>, StoreError> {
        let bad = |message: String| StoreError::Format { path: self.path.clone(), message };
        if !self.r.read_record(&mut self.rec).map_err(|e| bad(e.to_string()))? {
            return Ok(None);
        }
        let rec = &self.rec;
        let line = rec.position().map_or(0, csv::Position::line);
        let cell = |c: usize| rec.get(c).unwrap_or("");
        let num = |c: usize| {
            parse_f64(cell(c)).ok_or_else(|| bad(format!("line {line}: `{}` is not a number", cell(c))))
        };
        let opt = |c: usize| if cell(c).is_empty() { Ok(None) } else { num(c).map(Some) };
        Ok(Some(EpochRecord {
            epoch: cell(0).parse().map_err(|_| bad(format!("line {line}: bad epoch `{}`", cell(0))))?,
            loss: num(1)?,
            accuracy: num(2)?,
            test_loss: opt(3)?,
            test_accuracy: opt(4)?,
        }))
    }
}

impl Iterator for CurveReader {
    type Item = Result<EpochRecord, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
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
    let file = fs::File::open(path).map_err(io_at(path))?;
    predictions_from(path, io::BufReader::new(file))
}

/// A predictions.csv from `input`, named `path` in messages.
fn predictions_from(path: &Path, input: impl io::Read) -> Result<Predictions, StoreError> {
    let bad = |message: String| StoreError::Format { path: path.to_path_buf(), message };
    let mut r = csv::Reader::from_reader(input);
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
    use std::fs;

    use super::SummaryCheck;
    use toml::Value;

    use crate::store::*;
    use crate::train::{EpochRecord, Summary};

    #[test]
    fn floats_round_trip_through_text() {
        for v in [0.1, 1.0, 1e-20, 123456.789, f64::NAN, f64::INFINITY, -0.0, 5e-324] {
            let back = parse_f64(&fmt_f64(v)).unwrap();
            let mut bytes = Vec::new();
            write_f64_bytes(&mut bytes, v);
            assert_eq!(bytes, fmt_f64(v).as_bytes(), "{v}");
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
        let workspace = store.workspace().unwrap();
        let mut w = store.begin_job(&workspace, "a_seed-0").unwrap();
        assert!(store.finished("a_seed-0").is_none());
        let rec = EpochRecord { epoch: 0, loss: 0.5, accuracy: 1.0, test_loss: None, test_accuracy: None };
        w.record(&rec);
        let summary = Summary { last: rec, min_loss: 0.5, ..Summary::empty() };
        let mut params = toml::Table::new();
        params.insert("lr".into(), Value::Float(0.1));
        let mut job = JobFile {
            job_id: "a_seed-0".into(),
            seed: 0,
            config_hash: "abc".into(),
            paths_relative_to: None,
            classes: None,
            params,
            inputs: Default::default(),
            result: JobOutcome::new(&summary, String::new()),
            files: Default::default(),
        };
        w.prepare(&mut job, Some("x0,label,output,predicted\n"), Some("{}\n")).unwrap().commit().unwrap();
        let back = store.finished("a_seed-0").unwrap();
        assert_eq!(back.config_hash, "abc");
        assert_eq!(back.result.final_loss, 0.5);
        assert_eq!(back.result.files_hash.len(), 16);
        assert_eq!(read_curve(&store.job_dir("a_seed-0").join(CURVE)).unwrap(), vec![rec]);
        assert_eq!(fs::read_dir(&workspace.dir).unwrap().count(), 0, "no temporary folder left");
        drop(workspace);
        assert_eq!(fs::read_dir(store.path(TMP)).unwrap().count(), 0, "no workspace left");

        let rows = vec![SummaryRow::from_job(&back)];
        let p = store.path(SUMMARY);
        fs::write(&p, summary_csv(&rows)).unwrap();
        let mut want = rows;
        want[0].outcome.files_hash.clear();
        assert_eq!(read_summary(&p).unwrap(), want);
    }

    /// summary.csv is compared with the rows as they go: the same bytes
    /// match; a changed byte, a missing row or one row too many do not.
    #[test]
    fn summary_csv_is_checked_row_by_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SUMMARY);
        let params: toml::Table = toml::from_str("lr = 0.1").unwrap();
        let row = |id: &str| SummaryRow {
            job_id: id.into(),
            seed: 0,
            params: Params::from_table(&params),
            outcome: JobOutcome::new(&Summary::empty(), String::new()),
            curve: format!("jobs/{id}/curve.csv"),
            at: JobRef::folder(format!("jobs/{id}")),
        };
        let rows = [row("a"), row("b")];
        let whole = summary_csv(&rows);
        let check = |bytes: &[u8]| {
            fs::write(&path, bytes).unwrap();
            let mut c = SummaryCheck::open(&path).unwrap().unwrap();
            for r in &rows {
                c.row(r).unwrap();
            }
            c.finish().unwrap()
        };
        assert!(check(&whole));
        assert!(!check(&whole[..whole.len() - 1]), "cut short");
        assert!(!check(&summary_csv(&rows[..1])), "a row missing");
        assert!(!check(&summary_csv(&[row("a"), row("b"), row("c")])), "a row too many");
        let mut changed = whole.clone();
        let at = changed.len() - 5;
        changed[at] ^= 1;
        assert!(!check(&changed), "a changed byte");
        assert!(SummaryCheck::open(&dir.path().join("none.csv")).unwrap().is_none());
    }

    /// A job's params.toml with no parameters and an empty outcome.
    fn bare_job(id: &str) -> JobFile {
        JobFile {
            job_id: id.into(),
            seed: 0,
            config_hash: "abc".into(),
            paths_relative_to: None,
            classes: None,
            params: toml::Table::new(),
            inputs: Default::default(),
            result: JobOutcome::new(&Summary::empty(), String::new()),
            files: Default::default(),
        }
    }

    /// A packed job: a stopped job's bytes are cut at once, a finished
    /// one is invisible until committed (its index row), then reads back
    /// whole from the pack, and a reopened pack knows it.
    #[test]
    fn a_packed_job_is_visible_only_once_committed_and_a_stopped_one_leaves_no_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = ResultsDir::new(dir.path());
        store.create().unwrap();
        let job = bare_job;
        let rec = EpochRecord { epoch: 0, loss: 0.5, accuracy: 1.0, test_loss: None, test_accuracy: None };
        let data = store.path(PACKS).join("0-1.0.data");
        let mut pack = store.open_pack("0-1", 0).unwrap();
        let mut stopped = pack.begin_job("stopped", 0, None).unwrap();
        stopped.record(&rec);
        drop(stopped);
        assert_eq!(fs::metadata(&data).unwrap().len(), 0, "a stopped job's bytes are cut");
        let mut w = pack.begin_job("kept", 1, None).unwrap();
        w.record(&rec);
        let prepared = w.prepare(&mut job("kept"), None, Some("{}\n")).unwrap();
        assert!(pack.existing("kept").is_none());
        let index = JobIndex::open(dir.path(), None).unwrap();
        assert_eq!(index.others().count(), 0, "not visible before commit");
        let outcome = prepared.commit().unwrap();
        drop(pack);
        let index = JobIndex::open(dir.path(), None).unwrap();
        let (id, places) = index.others().next().unwrap();
        assert_eq!(id, "kept");
        let back = places[0].checked().unwrap().unwrap();
        assert_eq!(back.result.files_hash, outcome.files_hash);
        assert!(!places[0].has(PREDICTIONS) && places[0].has(MODEL));
        assert_eq!(places[0].curve().unwrap().collect::<Result<Vec<_>, _>>().unwrap(), vec![rec]);
        let reopened = store.open_pack("0-1", 0).unwrap();
        assert_eq!(reopened.existing("kept"), Some(places[0].clone()));
        assert_eq!(fs::read_dir(store.path(TMP)).unwrap().count(), 0, "nothing in the temporary place");
    }

    /// A prepared job is invisible until committed, and a prepared job that
    /// is never committed (the run died first) leaves nothing behind.
    #[test]
    fn a_prepared_job_is_visible_only_once_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store = ResultsDir::new(dir.path());
        store.create().unwrap();
        let job = bare_job;
        let workspace = store.workspace().unwrap();
        let begin = |id: &str| store.begin_job(&workspace, id).unwrap();
        let prepared = begin("kept").prepare(&mut job("kept"), Some("p\n"), Some("{}\n")).unwrap();
        assert!(store.finished("kept").is_none(), "not visible before commit");
        let dropped = begin("dropped").prepare(&mut job("dropped"), Some("p\n"), Some("{}\n")).unwrap();
        assert_eq!(fs::read_dir(&workspace.dir).unwrap().count(), 2);
        drop(dropped);
        let outcome = prepared.commit().unwrap();
        assert_eq!(store.finished("kept").unwrap().result.files_hash, outcome.files_hash);
        assert!(store.finished("dropped").is_none());
        assert_eq!(fs::read_dir(&workspace.dir).unwrap().count(), 0, "no temporary folder left");
        drop(workspace);
        assert_eq!(fs::read_dir(store.path(TMP)).unwrap().count(), 0, "no workspace left");
    }

    /// A job's folder and files are made in the folders the workspace
    /// opened: a symbolic link put in place of jobs/ (or of the workspace)
    /// while the run goes is never followed; the long curve, written while
    /// the job trains, lands in its folder too.
    #[test]
    fn jobs_are_written_into_the_folders_opened_not_through_a_link_put_there_since() {
        let dir = tempfile::tempdir().unwrap();
        let store = ResultsDir::new(dir.path().join("r"));
        store.create().unwrap();
        let workspace = store.workspace().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        let mut w = store.begin_job(&workspace, "a_seed-0").unwrap();
        let rec =
            |epoch| EpochRecord { epoch, loss: 0.5, accuracy: 1.0, test_loss: None, test_accuracy: None };
        for epoch in 0..6000 {
            w.record(&rec(epoch));
        }
        // jobs/ and the workspace moved aside, links to `elsewhere` in their place.
        let (jobs, moved_jobs) = (store.path(JOBS), dir.path().join("jobs-moved"));
        fs::rename(&jobs, &moved_jobs).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &jobs).unwrap();
        let moved_workspace = dir.path().join("workspace-moved");
        fs::rename(&workspace.dir, &moved_workspace).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &workspace.dir).unwrap();
        w.prepare(&mut bare_job("a_seed-0"), Some("p\n"), Some("{}\n")).unwrap().commit().unwrap();
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0, "nothing written through a link");
        let job = moved_jobs.join("a_seed-0");
        assert_eq!(read_curve(&job.join(CURVE)).unwrap(), (0..6000).map(rec).collect::<Vec<_>>());
        assert!(read_job(&job).is_ok());
        assert_eq!(fs::read_dir(&moved_workspace).unwrap().count(), 0, "no temporary folder left");
        // Put back so the workspace removes its own folder.
        fs::remove_file(&workspace.dir).unwrap();
        fs::rename(&moved_workspace, &workspace.dir).unwrap();
    }
}

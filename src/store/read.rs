//! Reading a results folder back: job folders checked against the hashes
//! their params.toml records, summary.csv, curve.csv and predictions.csv
//! (with the csv crate), and the rows the readers (report, export, diff)
//! work on.

use std::fs;
use std::io;
use std::path::Path;

use super::layout::{
    CURVE, CURVE_HEADER, FILES_TABLE, MANIFEST, MODEL, PARAMS, PREDICTIONS, ResultsDir, SUMMARY,
    SUMMARY_RESULT_COLUMNS,
};
use super::record::{Damage, JobFile, JobOutcome, SummaryRow, parse_f64, sha256_hex};
use super::write::{files_digest, summary_csv};
use super::{StoreError, io_at};
use crate::spec::KEYS;
use crate::train::EpochRecord;

impl ResultsDir {
    /// A finished job's params.toml, if the job folder exists and every
    /// file matches its recorded hash.
    pub fn finished(&self, id: &str) -> Option<JobFile> {
        read_job_checked(&self.job_dir(id)).ok()?.ok()
    }
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
    // predictions.csv and model.json are optional (the `save` key): one
    // params.toml does not list was not written. That the list is whole is
    // checked through `files_hash`, which params.toml's own hash covers.
    let unsaved = |name: &str| name != CURVE && !job.files.contains_key(name);
    if [PREDICTIONS, MODEL].iter().any(|n| unsaved(n)) && files_digest(&job.files) != job.result.files_hash {
        damage.push(Damage::Changed(PARAMS));
    }
    for name in [CURVE, PREDICTIONS, MODEL] {
        if unsaved(name) {
            continue;
        }
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

/// Reads a curve.csv (columns [`CURVE_HEADER`]); errors name the line.
pub fn read_curve(path: &Path) -> Result<Vec<EpochRecord>, StoreError> {
    let bad = |message: String| StoreError::Format { path: path.to_path_buf(), message };
    let file = fs::File::open(path).map_err(io_at(path))?;
    let mut r = csv::ReaderBuilder::new().from_reader(io::BufReader::new(file));
    let header = r.headers().map_err(|e| bad(e.to_string()))?;
    if !header.iter().eq(CURVE_HEADER.split(',')) {
        return Err(bad(format!("expected the header `{CURVE_HEADER}`")));
    }
    let mut records = Vec::new();
    let mut rec = csv::StringRecord::new();
    while r.read_record(&mut rec).map_err(|e| bad(e.to_string()))? {
        let line = rec.position().map_or(0, csv::Position::line);
        let cell = |c: usize| rec.get(c).unwrap_or("");
        let num = |c: usize| {
            parse_f64(cell(c)).ok_or_else(|| bad(format!("line {line}: `{}` is not a number", cell(c))))
        };
        let opt = |c: usize| if cell(c).is_empty() { Ok(None) } else { num(c).map(Some) };
        records.push(EpochRecord {
            epoch: cell(0).parse().map_err(|_| bad(format!("line {line}: bad epoch `{}`", cell(0))))?,
            loss: num(1)?,
            accuracy: num(2)?,
            test_loss: opt(3)?,
            test_accuracy: opt(4)?,
        });
    }
    Ok(records)
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
    use std::fs;

    use toml::Value;

    use crate::store::*;
    use crate::train::{EpochRecord, Summary};

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
        let workspace = store.workspace().unwrap();
        let mut w = store.begin_job(&workspace, "a_seed-0").unwrap();
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
        w.prepare(job, Some("x0,label,output,predicted\n"), Some("{}\n")).unwrap().commit().unwrap();
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
        let workspace = store.workspace().unwrap();
        let begin = |id: &str| store.begin_job(&workspace, id).unwrap();
        let prepared = begin("kept").prepare(job("kept"), Some("p\n"), Some("{}\n")).unwrap();
        assert!(store.finished("kept").is_none(), "not visible before commit");
        let dropped = begin("dropped").prepare(job("dropped"), Some("p\n"), Some("{}\n")).unwrap();
        assert_eq!(fs::read_dir(&workspace.dir).unwrap().count(), 2);
        drop(dropped);
        let outcome = prepared.commit().unwrap();
        assert_eq!(store.finished("kept").unwrap().result.files_hash, outcome.files_hash);
        assert!(store.finished("dropped").is_none());
        assert_eq!(fs::read_dir(&workspace.dir).unwrap().count(), 0, "no temporary folder left");
        drop(workspace);
        assert_eq!(fs::read_dir(store.path(TMP)).unwrap().count(), 0, "no workspace left");
    }
}

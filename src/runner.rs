//! Runner: the plan's jobs -> trained job folders, in parallel. The only
//! rayon code. Progress goes out as [`Event`]s; the CLI draws them.
//!
//! Each job is single-threaded and deterministic, and writes its folder
//! atomically as soon as it finishes ("a later failure loses nothing"):
//! the worker writes the files under .tmp/, and one committer thread syncs
//! them and renames the folder into jobs/, so workers never wait for the
//! disk.
//! A job whose folder exists with the same configuration hash is skipped
//! (resume); `force` retrains it.
//!
//! Several processes may run on one results folder: a job is trained only
//! under its lock (`.tmp/<id>.lock`), so they never train the same job at
//! once. A job locked by another process is put off; once the rest is done
//! the run waits for those locks and trains whatever the other process did
//! not finish (it may have been killed). A disk error that will hit every
//! job (full, read-only, not permitted) stops the run from starting more.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant};

use ndarray::{Axis, concatenate};
use rayon::prelude::*;

use crate::plan::{Job, Plan, Shard};
use crate::spec::{DataSource, Init, JobSpec};
use crate::store::{self, JobFile, JobOutcome, ResultsDir, StoreError, SummaryRow};
use crate::train;
use crate::weights::WeightsFile;

/// How to run a plan.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// Worker threads; None = rayon's default (all cores, or RAYON_NUM_THREADS).
    pub threads: Option<usize>,
    pub force: bool,
    pub shard: Option<Shard>,
    /// Set (e.g. by a Ctrl-C handler) to stop starting new jobs.
    pub cancel: Option<&'static AtomicBool>,
}

/// What the runner reports while it works.
#[derive(Debug)]
pub enum Event<'a> {
    /// Before any training: jobs to train, jobs skipped, job-epochs to train.
    Planned {
        to_run: usize,
        skipped: usize,
        job_epochs: u64,
    },
    Finished {
        job: &'a Job,
        epochs: u64,
        diverged: bool,
    },
    Failed {
        job: &'a Job,
        error: String,
    },
    /// A job another process finished while this one was running.
    Skipped {
        job: &'a Job,
        epochs: u64,
    },
    /// The run waits for `jobs` jobs that another process (`owner`) trains.
    Waiting {
        jobs: usize,
        owner: String,
    },
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub out: PathBuf,
    pub ran: usize,
    pub skipped: usize,
    pub diverged: usize,
    /// (job id, error) of jobs that could not run.
    pub failed: Vec<(String, String)>,
    /// Jobs not started (or stopped and dropped) because the run was cancelled.
    pub cancelled: usize,
    /// Jobs not started because a disk error stopped the run.
    pub halted: usize,
    /// (job id, what did not match) of finished jobs retrained because
    /// their files no longer matched their recorded hashes.
    pub repaired: Vec<(String, String)>,
    /// Job folders of the results folder outside this plan: kept, counted
    /// by nothing (`sweep prune` removes them).
    pub outside: usize,
    /// Why summary.csv could not be written (the job folders are intact).
    pub summary_error: Option<String>,
    pub job_epochs: u64,
    pub wall: Duration,
    pub threads: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start {threads} worker threads: {message}")]
    Pool { threads: usize, message: String },
}

/// Trains every job of `plan` (in `opts.shard`) into the results folder `out`.
pub fn run_plan<'p>(
    plan: &'p Plan,
    out: &Path,
    opts: &RunOptions,
    on_event: &(dyn Fn(&Event) + Sync),
) -> Result<RunReport, RunError> {
    let start = Instant::now();
    let dir = ResultsDir::new(out);
    let manifest_text = plan.manifest.to_toml();
    refuse_overwriting_input(&dir, &plan.manifest.path, &manifest_text)?;
    dir.create()?;
    // One study per folder: held until the run ends.
    let study = store::sha256_hex(manifest_text.as_bytes())[..16].to_string();
    let own = dir.path(store::OWN);
    let _study_lock = match crate::lock::hold_study(&own, &study, &plan.manifest.name) {
        Ok(Ok(lock)) => lock,
        Ok(Err(owner)) => {
            return Err(StoreError::Refused {
                path: out.to_path_buf(),
                message: format!(
                    "{owner} is running another study in this folder (one study per folder); wait for it \
                     to finish, or choose another --out"
                ),
            }
            .into());
        }
        Err(source) => return Err(StoreError::Io { path: own, source }.into()),
    };
    dir.clean_stale_tmp();

    // Decide what to train before training anything. The shard's finished
    // jobs are remembered, for a quick summary.csv after Ctrl-C.
    let mut todo: Vec<(&Job, JobSpec, String)> = Vec::new();
    let mut skipped = 0;
    let mut known: HashMap<String, SummaryRow> = HashMap::new();
    let mut repaired = Vec::new();
    let mut other_study: Vec<(&Job, JobFile)> = Vec::new();
    let hashes = plan.config_hashes(opts.shard);
    for job in plan.shard(opts.shard) {
        let spec = plan.spec(job).expect("the plan validated every job");
        let hash = hashes[job.index].clone();
        match store::read_job_checked(&dir.job_dir(&job.id)) {
            Ok(Ok(f)) if f.config_hash == hash => {
                known.insert(job.id.clone(), SummaryRow::from_job(&f));
                if !opts.force {
                    skipped += 1;
                    continue;
                }
            }
            // A job of this configuration whose files were changed,
            // truncated or deleted since it was written: retrained, and said.
            Ok(Err((damage, Some(f)))) if f.config_hash == hash && !opts.force => {
                let what: Vec<String> = damage.iter().map(ToString::to_string).collect();
                repaired.push((job.id.clone(), what.join(", ")));
            }
            // A finished job of another configuration: replaced only with --force.
            Ok(Ok(f)) if f.config_text() != plan.config_text(job) => other_study.push((job, f)),
            _ => {}
        }
        todo.push((job, spec, hash));
    }
    if !other_study.is_empty() && !opts.force {
        return Err(StoreError::Refused {
            path: out.to_path_buf(),
            message: replaced_message(plan, &other_study),
        }
        .into());
    }
    dir.write_atomic(store::MANIFEST, manifest_text.as_bytes())?;
    let outside = jobs_outside(plan, &dir)?.len();
    let known = Mutex::new(known);
    let job_epochs: u64 = todo.iter().map(|(j, _, _)| plan.epochs_of(j)).sum();
    on_event(&Event::Planned { to_run: todo.len(), skipped, job_epochs });

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .map_err(|e| RunError::Pool { threads: opts.threads.unwrap_or(0), message: e.to_string() })?;
    let threads = pool.current_num_threads();
    let failed = Mutex::new(Vec::new());
    let counts = Mutex::new(Counts::default());
    let fatal = AtomicBool::new(false);
    let cancelled = || opts.cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let fail = |job: &Job, e: JobFailure| {
        fatal.fetch_or(stops_the_run(&e), Ordering::Relaxed);
        let error = e.to_string();
        on_event(&Event::Failed { job, error: error.clone() });
        failed.lock().expect("failures").push((job.id.clone(), error));
    };
    // Makes trained jobs' folders durable and moves them into place, a
    // batch at a time, on the committer thread: the workers never wait for
    // the disk. Each job's lock is released only once its folder is in place.
    let commit = |batch: Vec<Done>| {
        let (done, prepared): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|Done { job, epochs, file, prepared, wall_ms, lock }| {
                ((job, epochs, file, wall_ms, lock), prepared)
            })
            .unzip();
        for ((job, epochs, file, wall_ms, lock), committed) in
            done.into_iter().zip(store::commit_batch(prepared))
        {
            match committed {
                Ok(outcome) => {
                    let file = JobFile { result: outcome.clone(), ..file };
                    known.lock().expect("rows").insert(job.id.clone(), SummaryRow::from_job(&file));
                    // Timing is informative only; losing a row must not fail the job.
                    let _ = dir.append_timing(&job.id, wall_ms, threads);
                    let mut c = counts.lock().expect("counts");
                    c.ran += 1;
                    c.diverged += usize::from(outcome.diverged());
                    c.epochs += outcome.diverged_epoch.unwrap_or(epochs);
                    drop(c);
                    on_event(&Event::Finished { job, epochs, diverged: outcome.diverged() });
                }
                Err(e) => fail(job, JobFailure::Store { id: job.id.clone(), source: e }),
            }
            drop(lock);
        }
    };
    // Trains one job under its lock. Returns the lock's owner when another
    // process holds it and `wait` is false.
    let attempt = |(job, spec, hash): &(&'p Job, JobSpec, String),
                   wait: bool,
                   to_commit: &SyncSender<Done<'p>>|
     -> Option<String> {
        let stopped = || {
            let (c, f) = (cancelled(), fatal.load(Ordering::Relaxed));
            if c || f {
                let mut n = counts.lock().expect("counts");
                if c { n.cancelled += 1 } else { n.halted += 1 }
            }
            c || f
        };
        if stopped() {
            return None;
        }
        let lock = loop {
            match dir.lock_job(&job.id) {
                Ok(Ok(lock)) => break lock,
                Ok(Err(owner)) if !wait => return Some(owner.to_string()),
                Ok(Err(_)) => {
                    std::thread::sleep(Duration::from_millis(50));
                    if stopped() {
                        return None;
                    }
                }
                Err(e) => {
                    fail(job, JobFailure::Store { id: job.id.clone(), source: e });
                    return None;
                }
            }
        };
        // Another process may have finished it since we planned.
        if !opts.force
            && let Some(f) = dir.finished(&job.id).filter(|f| f.config_hash == *hash)
        {
            known.lock().expect("rows").insert(job.id.clone(), SummaryRow::from_job(&f));
            counts.lock().expect("counts").skipped += 1;
            on_event(&Event::Skipped { job, epochs: spec.train.epochs as u64 });
            return None;
        }
        let t0 = Instant::now();
        match prepare_job(spec, job_file(plan, job, spec, hash, &dir.root), &dir, opts.cancel) {
            Ok((file, prepared)) => {
                let wall_ms = t0.elapsed().as_secs_f64() * 1e3;
                let done = Done { job, epochs: spec.train.epochs as u64, file, prepared, wall_ms, lock };
                // The committer makes it durable and visible; if it is gone
                // (it panicked), do it here.
                if let Err(std::sync::mpsc::SendError(done)) = to_commit.send(done) {
                    commit(vec![done]);
                }
            }
            Err(JobFailure::Cancelled { .. }) => counts.lock().expect("counts").cancelled += 1,
            Err(e) => fail(job, e),
        }
        None
    };
    std::thread::scope(|scope| {
        // Jobs wait for the committer in batches: while one batch syncs,
        // the next gathers (bounded, so temporaries stay few).
        let (to_commit, committing) = std::sync::mpsc::sync_channel::<Done>(COMMIT_BATCH.max(2 * threads));
        let commit = &commit;
        let committer = scope.spawn(move || {
            while let Ok(first) = committing.recv() {
                let mut batch = vec![first];
                while batch.len() < COMMIT_BATCH
                    && let Ok(done) = committing.try_recv()
                {
                    batch.push(done);
                }
                commit(batch);
            }
        });
        pool.install(|| {
            let busy: Vec<(usize, String)> = todo
                .par_iter()
                .enumerate()
                .filter_map(|(i, t)| attempt(t, false, &to_commit).map(|o| (i, o)))
                .collect();
            if let Some((_, owner)) = busy.first() {
                on_event(&Event::Waiting { jobs: busy.len(), owner: owner.clone() });
                busy.par_iter().for_each(|(i, _)| {
                    attempt(&todo[*i], true, &to_commit);
                });
            }
        });
        drop(to_commit); // the committer drains the channel and ends
        if let Err(panic) = committer.join() {
            std::panic::resume_unwind(panic);
        }
    });

    // After Ctrl-C, be quick: the rows known in memory (reading every job
    // folder again takes seconds on a large plan); else read them all, so
    // jobs other processes finished are in too.
    let summary = if cancelled() {
        let known = known.into_inner().expect("rows");
        let in_shard = |j: &Job| opts.shard.is_none_or(|s| s.contains(j));
        let rows: Vec<SummaryRow> = plan
            .jobs
            .iter()
            .filter_map(|j| match known.get(&j.id) {
                Some(row) => Some(row.clone()),
                None if in_shard(j) => None,
                None => dir
                    .finished(&j.id)
                    .filter(|f| f.config_text() == plan.config_text(j))
                    .map(|f| SummaryRow::from_job(&f)),
            })
            .collect();
        dir.write_atomic(store::SUMMARY, &store::summary_csv(&rows))
    } else {
        summarize_plan(plan, &dir).map(|_| ())
    };
    let summary_error = summary.err().map(|e| e.to_string());
    let c = counts.into_inner().expect("counts");
    let mut failed = failed.into_inner().expect("failures");
    failed.sort();
    Ok(RunReport {
        out: out.to_path_buf(),
        ran: c.ran,
        skipped: skipped + c.skipped,
        diverged: c.diverged,
        failed,
        repaired,
        outside,
        cancelled: c.cancelled,
        halted: c.halted,
        summary_error,
        job_epochs: c.epochs,
        wall: start.elapsed(),
        threads,
    })
}

/// What differs between the plan and the finished jobs of another
/// configuration it would replace: `epochs: 3000 -> 10, 6 finished jobs`.
fn replaced_message(plan: &Plan, jobs: &[(&Job, JobFile)]) -> String {
    let mut changes: Vec<String> = Vec::new();
    for (job, stored) in jobs {
        for (key, now) in plan.values(job) {
            let before =
                stored.params.get(key).map_or_else(|| "(none)".to_string(), crate::spec::display_value);
            let now = crate::spec::display_value(&now);
            let change = format!("{key}: {before} -> {now}");
            if before != now && !changes.contains(&change) {
                changes.push(change);
            }
        }
    }
    let shown = changes.len().min(6);
    let more =
        if changes.len() > shown { format!(" and {} more", changes.len() - shown) } else { String::new() };
    format!(
        "holds finished jobs of another study that this run would replace ({}{more}; {} finished jobs); \
         run with --force to replace them, or choose another --out",
        changes[..shown].join(", "),
        jobs.len()
    )
}

/// Ids of the job folders of `dir` that are not jobs of `plan`, sorted.
pub fn jobs_outside(plan: &Plan, dir: &ResultsDir) -> Result<Vec<String>, StoreError> {
    let ids: std::collections::HashSet<&str> = plan.jobs.iter().map(|j| j.id.as_str()).collect();
    Ok(dir.job_ids()?.into_iter().filter(|id| !ids.contains(id.as_str())).collect())
}

/// Refuses a run whose manifest is the results folder's own manifest.toml
/// (`--out .` beside it) unless the run would write it back unchanged:
/// sweep never overwrites an input file.
fn refuse_overwriting_input(dir: &ResultsDir, manifest: &Path, text: &str) -> Result<(), StoreError> {
    let target = dir.path(store::MANIFEST);
    let same = match (std::fs::canonicalize(&target), std::fs::canonicalize(manifest)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same && std::fs::read(&target).ok().as_deref() != Some(text.as_bytes()) {
        return Err(StoreError::Refused {
            path: target,
            message: "is the manifest being run: the run would overwrite it with the manifest as run; \
                      choose another --out"
                .into(),
        });
    }
    Ok(())
}

/// The most finished jobs made durable by one sync.
const COMMIT_BATCH: usize = 256;

/// What the workers tally.
#[derive(Debug, Default)]
struct Counts {
    ran: usize,
    diverged: usize,
    epochs: u64,
    cancelled: usize,
    halted: usize,
    /// Finished by another process while this run was going.
    skipped: usize,
}

/// Whether a failure will hit every other job too (a full disk, a
/// read-only or forbidden folder), so starting more jobs is pointless.
fn stops_the_run(e: &JobFailure) -> bool {
    use std::io::ErrorKind::*;
    match e {
        JobFailure::Store { source: StoreError::Io { source, .. }, .. } => {
            matches!(source.kind(), StorageFull | QuotaExceeded | ReadOnlyFilesystem | PermissionDenied)
        }
        _ => false,
    }
}

/// A job that could not be trained or written.
#[derive(Debug, thiserror::Error)]
pub enum JobFailure {
    #[error("job {id}: {source}")]
    Train { id: String, source: train::JobError },
    #[error("job {id}: cannot write its results: {source}")]
    Store { id: String, source: StoreError },
    #[error("job {id}: stopped before it finished")]
    Cancelled { id: String },
}

/// A trained job waiting for the committer, with its lock.
struct Done<'p> {
    job: &'p Job,
    epochs: u64,
    file: JobFile,
    prepared: store::Prepared,
    wall_ms: f64,
    lock: crate::lock::FileLock,
}

/// Trains one job and writes its folder (`file` says everything but the
/// outcome); returns the outcome.
pub fn run_job(
    spec: &JobSpec,
    file: JobFile,
    dir: &ResultsDir,
    cancel: Option<&'static AtomicBool>,
) -> Result<JobOutcome, JobFailure> {
    let id = file.job_id.clone();
    let (_, prepared) = prepare_job(spec, file, dir, cancel)?;
    prepared.commit().map_err(|source| JobFailure::Store { id, source })
}

/// Trains one job and writes its files under .tmp/; returns its params
/// (with the outcome) and the folder, to be committed.
fn prepare_job(
    spec: &JobSpec,
    mut file: JobFile,
    dir: &ResultsDir,
    cancel: Option<&'static AtomicBool>,
) -> Result<(JobFile, store::Prepared), JobFailure> {
    let id = file.job_id.clone();
    let store_err = |source| JobFailure::Store { id: id.clone(), source };
    let mut writer = dir.begin_job(&id).map_err(store_err)?;
    writer.cancel = cancel;
    // On every early return `writer` drops, and its temporary folder with it.
    let trained =
        train::run(spec, &mut writer).map_err(|source| JobFailure::Train { id: id.clone(), source })?;
    if trained.summary.stopped {
        return Err(JobFailure::Cancelled { id });
    }
    file.result = JobOutcome::new(&trained.summary, String::new());
    let data = &trained.data;
    let (train_set, test_set) = (&data.train, &data.test);
    let x = concatenate(Axis(0), &[train_set.x.view(), test_set.x.view()]).expect("same input width");
    let raw = concatenate(Axis(0), &[data.train_raw.view(), data.test_raw.view()]).expect("same input width");
    let y = concatenate(Axis(0), &[train_set.y.view(), test_set.y.view()]).expect("1-d");
    let outputs = train::predict(&trained.network, x.view()); // (samples, output units)
    let predictions = store::predictions_csv(
        &data.columns,
        &data.classes,
        raw.view(),
        train_set.len(),
        y.view(),
        outputs.view(),
    );
    // Generated sets have the fixed classes 0 and 1: their files stay as they were.
    let classes = matches!(spec.data.source, DataSource::Csv(_)).then(|| data.classes.clone());
    file.classes = classes.clone();
    let mut model = WeightsFile::from_params(&trained.network.layout, &trained.network.params);
    model.classes = classes;
    model.scaling = data.scaling.clone();
    let model = model.to_json();
    let prepared = writer.prepare(file.clone(), &predictions, &model).map_err(store_err)?;
    Ok((file, prepared))
}

/// A job's params.toml before it has an outcome. A job that reads a file
/// records where the manifest's relative paths start, as a path relative to
/// the results folder (`../../experiments`), so the bytes do not depend on
/// where the project is checked out; `verify` resolves it from the folder.
fn job_file(plan: &Plan, job: &Job, spec: &JobSpec, hash: &str, results: &Path) -> JobFile {
    let reads_a_file =
        matches!(spec.data.source, DataSource::Csv(_)) || matches!(spec.model.init, Init::File(_));
    let canonical = |p: &Path| {
        std::fs::canonicalize(if p.as_os_str().is_empty() { Path::new(".") } else { p })
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let manifest_dir = canonical(&plan.manifest.dir);
    let base = relative_path(&manifest_dir, &canonical(results)).unwrap_or(manifest_dir);
    JobFile {
        job_id: job.id.clone(),
        seed: job.seed,
        config_hash: hash.to_string(),
        paths_relative_to: reads_a_file.then(|| base.to_string_lossy().replace('\\', "/")),
        classes: None,
        params: plan.values(job).into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        result: JobOutcome::new(&train::Summary::empty(), String::new()),
        files: Default::default(),
    }
}

/// Rewrites summary.csv: one row per plan job whose folder exists, in plan
/// order. Returns the number of rows.
pub fn summarize_plan(plan: &Plan, dir: &ResultsDir) -> Result<usize, StoreError> {
    let rows = store::plan_rows(plan, dir, &mut Vec::new())?;
    dir.write_atomic(store::SUMMARY, &store::summary_csv(&rows))?;
    Ok(rows.len())
}

/// A job `verify` found wrong: its problems, one line each (`MISSING
/// curve.csv`, `CHANGED model.json`, `DIFFERS predictions.csv`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub job_id: String,
    pub problems: Vec<String>,
}

/// Checks the finished jobs `ids`: first every file against the hash its
/// params.toml records, then (for whole jobs) retrains them from their own
/// params.toml into the temporary place and compares each file's hash. When
/// a retrained job differs and an input file (a CSV data set, a weights
/// file) changed since the job ran, the message names it as the cause.
pub fn verify(dir: &ResultsDir, ids: &[String], threads: Option<usize>) -> Result<Vec<Mismatch>, RunError> {
    let scratch = ResultsDir::new(dir.path(store::TMP).join(format!("verify.{}.0", std::process::id())));
    scratch.create()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| RunError::Pool { threads: threads.unwrap_or(0), message: e.to_string() })?;
    let result = pool.install(|| {
        ids.par_iter()
            .map(|id| -> Result<Option<Mismatch>, RunError> {
                let mismatch = |problems: Vec<String>| Some(Mismatch { job_id: id.clone(), problems });
                let stored = match store::read_job_checked(&dir.job_dir(id))? {
                    Ok(stored) => stored,
                    Err((damage, _)) => {
                        return Ok(mismatch(damage.iter().map(ToString::to_string).collect()));
                    }
                };
                // Relative to the results folder (absolute in older folders).
                let base = match &stored.paths_relative_to {
                    Some(p) => dir.root.join(p),
                    None => PathBuf::from("."),
                };
                let spec = match JobSpec::from_values(stored.seed, &|k| stored.params.get(k).cloned(), &base)
                {
                    Ok(spec) => spec,
                    Err(e) => return Ok(mismatch(vec![format!("INVALID {}: {e}", store::PARAMS)])),
                };
                let retrained = match run_job(
                    &spec,
                    JobFile { files: Default::default(), ..stored.clone() },
                    &scratch,
                    None,
                ) {
                    Ok(_) => match store::read_job(&scratch.job_dir(id)) {
                        Ok(f) => f,
                        Err(e) => return Ok(mismatch(vec![format!("FAILED retraining: {e}")])),
                    },
                    Err(e) => return Ok(mismatch(vec![format!("FAILED retraining: {e}")])),
                };
                let mut problems: Vec<String> = [store::CURVE, store::PREDICTIONS, store::MODEL]
                    .into_iter()
                    .filter(|name| stored.files.get(*name) != retrained.files.get(*name))
                    .map(|name| format!("DIFFERS {name} (retrained)"))
                    .collect();
                if !problems.is_empty() {
                    for input in changed_inputs(&stored, &spec) {
                        problems.push(format!("CAUSE {input} changed since the job ran"));
                    }
                }
                Ok((!problems.is_empty()).then(|| Mismatch { job_id: id.clone(), problems }))
            })
            .collect::<Result<Vec<_>, _>>()
    });
    let _ = std::fs::remove_dir_all(&scratch.root);
    Ok(result?.into_iter().flatten().collect())
}

/// The input files (CSV data, weights) of a job whose contents no longer
/// give the configuration hash the job recorded.
fn changed_inputs(stored: &JobFile, spec: &JobSpec) -> Vec<String> {
    let files = crate::plan::input_files(spec);
    let values: Vec<(&str, toml::Value)> = crate::spec::KEYS
        .iter()
        .filter_map(|k| stored.params.get(k.name).map(|v| (k.name, v.clone())))
        .collect();
    let now = crate::plan::config_hash_of(stored.seed, &values, &files, &mut HashMap::new());
    if now == stored.config_hash {
        Vec::new()
    } else {
        files.iter().map(|p| p.display().to_string()).collect()
    }
}

/// `path` as seen from the folder `from` (both absolute and canonical):
/// `/p/experiments` from `/p/results/lr` is `../../experiments`. None when
/// they share no root (another drive).
fn relative_path(path: &Path, from: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let (a, b): (Vec<Component>, Vec<Component>) = (path.components().collect(), from.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 || !matches!(a.first(), Some(Component::RootDir | Component::Prefix(_))) {
        return None;
    }
    let mut rel: PathBuf = b[common..].iter().map(|_| Component::ParentDir).collect();
    rel.extend(&a[common..]);
    Some(if rel.as_os_str().is_empty() { PathBuf::from(".") } else { rel })
}

#[cfg(test)]
mod path_tests {
    use super::relative_path;
    use std::path::{Path, PathBuf};

    #[test]
    fn the_manifest_folder_is_recorded_relative_to_the_results_folder() {
        let rel = |a: &str, b: &str| relative_path(Path::new(a), Path::new(b));
        assert_eq!(rel("/p/experiments", "/p/results/lr"), Some(PathBuf::from("../../experiments")));
        assert_eq!(rel("/p/results/lr", "/p/results/lr"), Some(PathBuf::from(".")));
        assert_eq!(rel("/p/results/lr/sub", "/p/results/lr"), Some(PathBuf::from("sub")));
        assert_eq!(rel("/x", "/p/q"), Some(PathBuf::from("../../x")));
    }
}

//! Runner: the plan's jobs -> trained job folders, in parallel. The only
//! rayon code. Progress goes out as [`Event`]s; the CLI draws them.
//!
//! Each job is single-threaded and deterministic, and writes its folder
//! atomically as soon as it finishes ("a later failure loses nothing"):
//! the worker writes the files in this process's workspace (one folder
//! under `.sweep/tmp/`), and one committer thread syncs them a batch at a
//! time and renames the folders into jobs/, so workers never wait for the
//! disk. A job whose folder exists with the same configuration hash is
//! skipped (resume); `force` retrains it. Every finished job is read and
//! checked once: its summary row is spilled to the workspace and
//! summary.csv is written from the spill, streaming, in plan order.
//!
//! Several processes may run on one results folder: the shard's jobs are
//! cut into chunks (up to 64 consecutive jobs), and a chunk is trained only
//! under its claim (`.sweep/tmp/claim.<I>-<N>.<first>.lock`), so processes
//! of the same shard never train the same job at once (shards partition the
//! plan). A chunk claimed by another process is put off; once the rest is
//! done the run waits for those claims and trains whatever the other
//! process did not finish (it may have been killed). A disk error that
//! will hit every job (full, read-only, not permitted) stops the run from
//! starting more.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ndarray::{Axis, concatenate};
use rayon::prelude::*;

use crate::plan::{Job, Plan, Shard};
use crate::spec::{DataSource, Init, JobSpec, Layout, Save};
use crate::store::{self, JobFile, JobOutcome, ResultsDir, StoreError, SummaryRow};
use crate::train;
use crate::weights::WeightsFile;

/// How to run a plan.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// Worker threads; None = all cores, or RAYON_NUM_THREADS. Never more
    /// than [`max_threads`] nor than the jobs to run (see [`worker_threads`]).
    pub threads: Option<usize>,
    pub force: bool,
    pub shard: Option<Shard>,
    /// Set (by the signal thread of [`crate::interrupt`]) to stop: no new
    /// job starts, running jobs stop at their next epoch.
    pub cancel: Option<Arc<AtomicBool>>,
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
    /// (the job within the results folder: `jobs/<id>`, or
    /// `packs/<pack>.data[<id>]`; what did not match) of finished jobs
    /// retrained because their files no longer matched their recorded hashes.
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

/// The most worker threads a run or verify starts: 4 x the cores this
/// process may use, and at least 16. Training is CPU-bound: threads beyond
/// the cores only share them, and thousands take minutes to start (`sweep
/// run` refuses more, [`worker_threads`] caps them).
pub fn max_threads() -> usize {
    (4 * cores()).max(16)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// RAYON_NUM_THREADS as rayon reads it: a whole number >= 1; None when it
/// is unset, 0 or not a number (all cores).
pub fn env_threads() -> Option<usize> {
    std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0)
}

/// The worker threads to start for `jobs` jobs: `requested` (`--threads`),
/// else RAYON_NUM_THREADS, else every core; never more than the jobs (at
/// least 1), nor than [`max_threads`].
pub fn worker_threads(requested: Option<usize>, jobs: usize) -> usize {
    requested.or_else(env_threads).unwrap_or_else(cores).min(max_threads()).min(jobs.max(1))
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
    refuse_overwriting_edited_manifest(&dir, &manifest_text)?;
    dir.create()?;
    // This process's own temporary place, made before it joins the study
    // (so a process that has joined is seen: see `OtherProcesses`).
    let workspace = dir.workspace()?;
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
    // Whatever dead processes left; then who else runs, before jobs/ is listed.
    dir.clean_stale_tmp();
    let others = OtherProcesses::watch(&dir, &own, &study);
    let save = files_to_save(plan)?;
    let layout = layout_of(plan)?;

    // Decide what to train before training anything. A finished job is read
    // and checked against its hashes here, once: its summary row goes to
    // the spill, from which summary.csv is written at the end.
    let mut spill = RowSpill::new(&workspace, plan.jobs.len())?;
    // Room for the whole shard at once: growing by doubling would copy it
    // and leave the smaller copies behind in the heap (pages not written
    // to cost no memory).
    let mut todo: Vec<(u32, u64)> = Vec::with_capacity(plan.shard(opts.shard).count());
    let mut skipped = 0;
    let mut repaired = Vec::new();
    let mut other_study: Vec<(&Job, JobFile, String)> = Vec::new();
    let mut inputs = HashMap::new();
    let mut hasher = plan.config_hasher(&mut inputs);
    // The packs' indexes and one listing of jobs/ (no lookup per job).
    let index = store::JobIndex::open_to_run(&dir.root, plan)?;
    // Jobs to train that have a folder, under the packed layout: the folder
    // goes once the job is packed (a job is in one place).
    let mut folders_to_replace = std::collections::HashSet::new();
    // Job folders to replace that hold entries sweep did not write.
    let mut foreign_folders: Vec<(String, Vec<String>)> = Vec::new();
    for (scanned, job) in plan.shard(opts.shard).enumerate() {
        // Ctrl-C while finished jobs are read back (seconds for a large
        // folder): stop at once, before anything is written.
        if opts.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Ok(RunReport {
                out: out.to_path_buf(),
                ran: 0,
                skipped: 0,
                diverged: 0,
                failed: Vec::new(),
                cancelled: plan.shard(opts.shard).count(),
                halted: 0,
                repaired: Vec::new(),
                outside: 0,
                summary_error: None,
                job_epochs: 0,
                wall: start.elapsed(),
                threads: worker_threads(opts.threads, scanned),
            });
        }
        let hash = hasher.hash(job);
        let hex = &format!("{hash:016x}");
        let places = index.places(plan, job);
        let has_folder = matches!(places.first(), Some(store::JobRef::Folder(_)));
        if layout == Layout::Packed && has_folder {
            folders_to_replace.insert(job.index);
        }
        if !places.is_empty() {
            let wanted = |f: &JobFile| f.config_hash == *hex && covers(saved(f), save);
            let picked = store::JobRef::pick(places, &wanted);
            let place = match &picked {
                Ok(Some((at, _))) => at.name_in(&dir.root),
                _ => String::new(),
            };
            match picked.as_ref().map(|p| p.as_ref().map(|(_, checked)| checked)) {
                // A finished job that lacks a file this run saves is trained again.
                Ok(Some(Ok(f))) if f.config_hash == *hex && covers(saved(f), save) => {
                    spill.add(job.index, &SummaryRow::from_job(f))?;
                    if !opts.force {
                        skipped += 1;
                        continue;
                    }
                }
                // A job whose files were changed, truncated or deleted
                // since it was written (of this configuration or another,
                // or whose params.toml was: what it says then is no
                // evidence of another configuration): retrained, and said.
                Ok(Some(Err((damage, _)))) if !opts.force => {
                    let what: Vec<String> = damage.iter().map(ToString::to_string).collect();
                    repaired.push((place, what.join(", ")));
                }
                // A whole finished job of another configuration hash (other
                // parameters, or a data or weights file whose contents
                // changed since it ran): replaced only with --force.
                Ok(Some(Ok(f))) if f.config_hash != *hex => {
                    other_study.push((job, (*f).clone(), hex.clone()))
                }
                _ => {}
            }
        }
        // Its folder will be replaced (or removed once packed): only when
        // it holds nothing but what sweep wrote there.
        if has_folder {
            let at = dir.job_dir(&plan.id(job));
            let foreign = store::foreign_entries(&at)?;
            if !foreign.is_empty() {
                let shown = at.strip_prefix(&dir.root).unwrap_or(&at).display().to_string();
                foreign_folders.push((shown, foreign));
            }
        }
        todo.push((job.index as u32, hash));
    }
    if !foreign_folders.is_empty() {
        let what = "this run would replace (damaged, of another configuration, or retrained by --force)";
        return Err(store::foreign_refusal(
            out,
            &foreign_folders,
            what,
            "run again (or choose another --out)",
        )
        .into());
    }
    // Input files read for the hashes serve the jobs too (an empty one is
    // read again, so an unreadable file fails its jobs with its error).
    // A job whose input file cannot be read fails with that file's error
    // and replaces nothing: it is not refused as changed.
    other_study.retain(|(job, ..)| {
        plan.spec(job).is_ok_and(|spec| {
            crate::plan::input_files(&spec).iter().all(|p| inputs.get(p).is_some_and(|b| !b.is_empty()))
        })
    });
    inputs.retain(|_, bytes| !bytes.is_empty());
    // What each job records of the files it reads: their contents' SHA-256.
    let input_hashes: HashMap<PathBuf, String> =
        inputs.iter().map(|(path, bytes)| (path.clone(), store::sha256_hex(bytes))).collect();
    let inputs = train::Inputs::with(inputs);
    if !other_study.is_empty() && !opts.force {
        return Err(StoreError::Refused {
            path: out.to_path_buf(),
            message: replaced_message(plan, &other_study),
        }
        .into());
    }
    dir.write_atomic(store::MANIFEST, manifest_text.as_bytes())?;
    // Its hash, so readers tell this study from a manifest.toml edited since.
    dir.write_atomic(store::MANIFEST_HASH, store::manifest_hash_line(manifest_text.as_bytes()).as_bytes())?;
    let outside = index.folders_outside() + index.others().count();
    drop(index);
    // Saturating: a plan of more job-epochs than u64 counts is refused
    // before a run (`Plan::total_epochs`), and a count cannot abort a run.
    let job_epochs =
        todo.iter().fold(0u64, |sum, &(i, _)| sum.saturating_add(plan.epochs_of(&plan.jobs[i as usize])));
    on_event(&Event::Planned { to_run: todo.len(), skipped, job_epochs });
    let chunks = claim_chunks(plan, opts.shard, layout, &todo);
    let shard_name = opts.shard.map_or_else(|| "0-1".to_string(), |s| format!("{}-{}", s.index, s.count));
    let paths_base = paths_base(plan, &dir.root);

    let threads = worker_threads(opts.threads, todo.len());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| RunError::Pool { threads, message: e.to_string() })?;
    let failed = Mutex::new(Vec::new());
    let counts = Mutex::new(Counts::default());
    let spill = Mutex::new(spill);
    let fatal = AtomicBool::new(false);
    let cancelled = || opts.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed));
    let fail = |job: &Job, e: JobFailure| {
        fatal.fetch_or(stops_the_run(&e), Ordering::Relaxed);
        let error = e.to_string();
        on_event(&Event::Failed { job, error: error.clone() });
        failed.lock().expect("failures").push((plan.id(job), error));
    };
    let keep_row = |job: &Job, row: &SummaryRow| {
        if let Err(e) = spill.lock().expect("spill").add(job.index, row) {
            fail(job, JobFailure::Store { id: plan.id(job), source: e });
        }
    };
    // Makes trained jobs' folders durable and moves them into place, a
    // batch at a time, on the committer thread: the workers never wait for
    // the disk. A chunk's claim is released once all its folders are in place.
    let commit = |batch: Vec<Done>| {
        let (done, prepared): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|Done { job, epochs, params, prepared, wall_ms, claim }| {
                ((job, epochs, params, wall_ms, claim), prepared)
            })
            .unzip();
        let mut timing = String::new();
        for ((job, epochs, params, wall_ms, claim), committed) in
            done.into_iter().zip(store::commit_batch(prepared))
        {
            match committed {
                Ok(outcome) => {
                    let diverged = outcome.diverged();
                    let diverged_epoch = outcome.diverged_epoch;
                    let id = plan.id(job);
                    // Only its cells go to the spill: where it is stored
                    // (`at`) is not one.
                    keep_row(
                        job,
                        &SummaryRow {
                            curve: format!("{}/{id}/{}", store::JOBS, store::CURVE),
                            at: store::JobRef::folder(PathBuf::new()),
                            job_id: id.clone(),
                            seed: job.seed,
                            params,
                            outcome,
                        },
                    );
                    store::timing_row(&mut timing, &id, wall_ms, threads);
                    let mut c = counts.lock().expect("counts");
                    c.ran += 1;
                    c.diverged += usize::from(diverged);
                    c.epochs = c.epochs.saturating_add(diverged_epoch.unwrap_or(epochs));
                    drop(c);
                    on_event(&Event::Finished { job, epochs, diverged });
                }
                Err(e) => fail(job, JobFailure::Store { id: plan.id(job), source: e }),
            }
            drop(claim);
        }
        // Timing is informative only; losing rows must not fail the jobs.
        let _ = dir.append_timing(&timing);
    };
    // Trains the jobs of one chunk under its claim. Returns the claim's
    // owner when another process holds it and `wait` is false.
    let attempt = |chunk: &Chunk, wait: bool, to_commit: &SyncSender<Vec<Done<'p>>>| -> Option<String> {
        let jobs = &todo[chunk.todo.clone()];
        let stopped = |left: usize| {
            let (c, f) = (cancelled(), fatal.load(Ordering::Relaxed));
            if c || f {
                let mut n = counts.lock().expect("counts");
                if c { n.cancelled += left } else { n.halted += left }
            }
            c || f
        };
        if stopped(jobs.len()) {
            return None;
        }
        let claim = loop {
            match dir.claim(&shard_name, chunk.first as usize) {
                Ok(Ok(lock)) => break Arc::new(lock),
                Ok(Err(owner)) if !wait => return Some(owner.to_string()),
                Ok(Err(_)) => {
                    std::thread::sleep(Duration::from_millis(50));
                    if stopped(jobs.len()) {
                        return None;
                    }
                }
                Err(e) => {
                    for &(i, _) in jobs {
                        let job = &plan.jobs[i as usize];
                        fail(job, JobFailure::Store { id: plan.id(job), source: e.duplicate() });
                    }
                    return None;
                }
            }
        };
        // The packed layout: the chunk's pack, opened (and repaired after a
        // crash) under the claim.
        let mut pack = match layout {
            Layout::Folders => None,
            Layout::Packed => match dir.open_pack(&shard_name, chunk.first as usize) {
                Ok(pack) => Some(pack),
                Err(e) => {
                    for &(i, _) in jobs {
                        let job = &plan.jobs[i as usize];
                        fail(job, JobFailure::Store { id: plan.id(job), source: e.duplicate() });
                    }
                    return None;
                }
            },
        };
        // Finished jobs go to the committer a few at a time; the rest when
        // this returns (the outbox drops).
        let mut outbox = Outbox { pending: Vec::new(), pending_ms: 0.0, to: to_commit, commit: &commit };
        // Another process may have finished some of them since we planned.
        let recheck = !opts.force && others.may_have_written();
        // The last job's configuration, its job file and typed parameters.
        let mut last: Option<(usize, JobFile, store::Params)> = None;
        for (n, &(i, hash)) in jobs.iter().enumerate() {
            if n > 0 && stopped(jobs.len() - n) {
                return None;
            }
            let job = &plan.jobs[i as usize];
            let spec = plan.spec(job).expect("the plan validated every job");
            let hex = format!("{hash:016x}");
            // Another process may have finished it since we planned (in
            // this chunk's pack, or its folder).
            let id = plan.id(job);
            let wanted = |f: &JobFile| f.config_hash == *hex && covers(saved(f), save);
            let finished = match &pack {
                _ if opts.force => None,
                Some(pack) => pack.existing(&id).and_then(|at| at.checked().ok()?.ok()).filter(wanted),
                None if recheck => dir.has_job(&id).then(|| dir.finished(&id)).flatten().filter(wanted),
                None => None,
            };
            if let Some(f) = finished {
                keep_row(job, &SummaryRow::from_job(&f));
                counts.lock().expect("counts").skipped += 1;
                on_event(&Event::Skipped { job, epochs: spec.train.epochs as u64 });
                continue;
            }
            let t0 = Instant::now();
            // Jobs of one configuration differ only in their id, seed and
            // hash: its parameters (table and typed) are made once.
            let config = plan.config_of(job);
            if last.as_ref().is_some_and(|(c, ..)| *c != config) {
                last = None;
            }
            let (_, file, params) = last.get_or_insert_with(|| {
                let file = job_file(plan, job, &spec, String::new(), &paths_base, &input_hashes);
                let params = store::Params::from_table(&file.params);
                (config, file, params)
            });
            file.job_id.clone_from(&id);
            file.seed = job.seed;
            file.config_hash = hex;
            let writer = match &mut pack {
                Some(pack) => {
                    let replaces = folders_to_replace.contains(&job.index).then(|| dir.job_dir(&id));
                    pack.begin_job(&id, job.index, replaces)
                }
                None => dir.begin_job(&workspace, &id),
            };
            let writer = match writer {
                Ok(w) => w,
                Err(source) => {
                    fail(job, JobFailure::Store { id: id.clone(), source });
                    continue;
                }
            };
            match prepare_job(&spec, file, save, &inputs, writer, opts.cancel.as_ref()) {
                Ok(prepared) => {
                    let wall_ms = t0.elapsed().as_secs_f64() * 1e3;
                    let epochs = spec.train.epochs as u64;
                    let params = params.clone();
                    outbox.push(Done { job, epochs, params, prepared, wall_ms, claim: Arc::clone(&claim) });
                }
                Err(JobFailure::Cancelled { .. }) => counts.lock().expect("counts").cancelled += 1,
                Err(e) => fail(job, e),
            }
        }
        None
    };
    std::thread::scope(|scope| {
        // Jobs wait for the committer in batches: while one batch syncs,
        // the next gathers (bounded, so temporaries stay few).
        let (to_commit, committing) =
            std::sync::mpsc::sync_channel::<Vec<Done>>((COMMIT_BATCH / OUTBOX_JOBS).max(2 * threads));
        let commit = &commit;
        let committer = scope.spawn(move || {
            while let Ok(mut batch) = committing.recv() {
                // Gathers for up to COMMIT_WAIT: one sync for many jobs
                // (a sync costs the same for one job or a hundred).
                let until = Instant::now() + COMMIT_WAIT;
                while batch.len() < COMMIT_BATCH {
                    match committing.recv_timeout(until.saturating_duration_since(Instant::now())) {
                        Ok(more) => batch.extend(more),
                        Err(_) => break, // the window closed, or every worker is done
                    }
                }
                commit(batch);
            }
        });
        pool.install(|| {
            let busy: Vec<(usize, String)> = chunks
                .par_iter()
                .enumerate()
                .filter_map(|(i, c)| attempt(c, false, &to_commit).map(|o| (i, o)))
                .collect();
            if let Some((_, owner)) = busy.first() {
                let jobs = busy.iter().map(|(i, _)| chunks[*i].todo.len()).sum();
                on_event(&Event::Waiting { jobs, owner: owner.clone() });
                busy.par_iter().for_each(|(i, _)| {
                    attempt(&chunks[*i], true, &to_commit);
                });
            }
        });
        drop(to_commit); // the committer drains the channel and ends
        if let Err(panic) = committer.join() {
            std::panic::resume_unwind(panic);
        }
    });

    // summary.csv in plan order: the rows of this run's jobs from the
    // spill; the plan's other jobs (other shards', other processes') read
    // from their folders.
    let mut spill = spill.into_inner().expect("spill");
    // The packs' index rows are durable before summary.csv lists their jobs.
    let packs_synced = if layout == Layout::Packed && dir.path(store::PACKS).is_dir() {
        store::sync_packs(&dir.root)
    } else {
        Ok(())
    };
    let summary = packs_synced
        .and_then(|()| spill.flush())
        .and_then(|()| write_summary(plan, &dir, |job, out| spill.row(job.index, out)).map(|_| ()));
    let summary_error = summary.err().map(|e| e.to_string());
    drop(spill);
    drop(workspace);
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

/// Whether another process of the study can have written job folders since
/// this run listed jobs/: one was alive then (a workspace of another
/// process in the temporary place, after the dead ones were cleaned up),
/// or one has joined since (every process appends a line to the study's
/// lock file when it starts: the file grew). One `fstat` per chunk instead
/// of a lookup per job.
struct OtherProcesses {
    alive_at_start: bool,
    study_file: Option<(std::fs::File, u64)>,
}

impl OtherProcesses {
    /// Called after this process joined the study and the dead processes'
    /// workspaces were removed, before jobs/ is listed. Every process makes
    /// its workspace before it joins, so one that joined before this call
    /// and still runs has a workspace here.
    fn watch(dir: &ResultsDir, own: &Path, study: &str) -> OtherProcesses {
        let study_file = std::fs::File::open(own.join(format!("run-{study}.lock")))
            .ok()
            .and_then(|f| Some((f.metadata().ok()?.len(), f)))
            .map(|(len, f)| (f, len));
        let mine = format!("{}{}.", store::WORKSPACE_PREFIX, std::process::id());
        let alive_at_start = match std::fs::read_dir(dir.path(store::TMP)) {
            Ok(entries) => entries.flatten().any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with(store::WORKSPACE_PREFIX) && !name.starts_with(&mine)
            }),
            Err(_) => true,
        };
        OtherProcesses { alive_at_start, study_file }
    }

    fn may_have_written(&self) -> bool {
        self.alive_at_start
            || self.study_file.as_ref().is_none_or(|(f, len)| f.metadata().map_or(true, |m| m.len() != *len))
    }
}

/// Jobs of one claim: a run of consecutive jobs of the shard (so every
/// process of that shard cuts the same chunks), those left to train.
#[derive(Debug)]
struct Chunk {
    /// Plan index of the chunk's first job: names its claim.
    first: u32,
    /// Its jobs, as a range of the runner's `todo`.
    todo: std::ops::Range<usize>,
}

/// Cuts the shard's jobs into runs of up to [`CLAIM_JOBS`] (about 256
/// chunks for a large shard; for a small one, one job each with folders, at
/// least [`PACK_JOBS`] a pack when packed: a pack per job would be two
/// files per job), and keeps those with jobs to train. `todo` is in shard
/// order.
fn claim_chunks(plan: &Plan, shard: Option<Shard>, layout: Layout, todo: &[(u32, u64)]) -> Vec<Chunk> {
    let in_shard = plan.shard(shard).count();
    let least = if layout == Layout::Packed { PACK_JOBS } else { 1 };
    let size = (in_shard / 256).clamp(least, CLAIM_JOBS);
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut next = todo.iter().peekable();
    let mut at = 0;
    for (position, job) in plan.shard(shard).enumerate() {
        if position % size == 0 {
            let start = at;
            chunks.push(Chunk { first: job.index as u32, todo: start..start });
        }
        if next.peek().is_some_and(|&&(i, _)| i as usize == job.index) {
            next.next();
            at += 1;
            if let Some(c) = chunks.last_mut() {
                c.todo.end = at;
            }
        }
    }
    chunks.retain(|c| !c.todo.is_empty());
    chunks
}

/// The most jobs under one claim.
const CLAIM_JOBS: usize = 64;

/// The fewest jobs under one claim, and so in one pack, when packed.
const PACK_JOBS: usize = 16;

/// Summary rows of jobs, spilled to a file in the workspace as they are
/// read or committed, so a run holds no row in memory: an offset and a
/// length per plan job, in 8 bytes.
struct RowSpill {
    file: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
    len: u64,
    /// Per plan index: `offset << LEN_BITS | length` of its row in the
    /// file (0: none; a row is never empty).
    at: Vec<u64>,
    /// Rows whose length or offset does not fit in `at` (rows of 16 MiB,
    /// a spill of 1 TiB: none in practice), by plan index.
    large: HashMap<usize, (u64, usize)>,
    /// One row's bytes, reused.
    line: Vec<u8>,
    /// The bytes of the file from `window_at` on, read at once when rows
    /// are read back: a chunk's rows are near each other in the file (its
    /// worker commits them in plan order), so one `pread` serves many rows.
    window: Vec<u8>,
    window_at: u64,
}

/// Bits of a row's length in [`RowSpill::at`].
const LEN_BITS: u32 = 24;
/// How much of the spill [`RowSpill::row`] reads at once.
const SPILL_WINDOW: usize = 64 * 1024;

impl RowSpill {
    fn new(workspace: &store::Workspace, jobs: usize) -> Result<RowSpill, StoreError> {
        let path = workspace.dir.join("summary-rows.csv");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| StoreError::Io { path: path.clone(), source })?;
        Ok(RowSpill {
            file: std::io::BufWriter::with_capacity(256 * 1024, file),
            path,
            len: 0,
            at: vec![0; jobs],
            large: HashMap::new(),
            line: Vec::with_capacity(512),
            window: Vec::new(),
            window_at: 0,
        })
    }

    fn add(&mut self, index: usize, row: &SummaryRow) -> Result<(), StoreError> {
        use std::io::Write;
        self.line.clear();
        store::summary_record(&mut self.line, row);
        self.file
            .write_all(&self.line)
            .map_err(|source| StoreError::Io { path: self.path.clone(), source })?;
        let len = self.line.len();
        if len < 1 << LEN_BITS && self.len < 1 << (64 - LEN_BITS) {
            self.at[index] = self.len << LEN_BITS | len as u64;
            self.large.remove(&index);
        } else {
            self.at[index] = 0;
            self.large.insert(index, (self.len, len));
        }
        self.len += len as u64;
        Ok(())
    }

    /// Appends the row of plan job `index` to `out`, if one was added (and
    /// can be read back: false otherwise). After [`RowSpill::flush`].
    fn row(&mut self, index: usize, out: &mut Vec<u8>) -> bool {
        let (offset, len) = match self.at[index] {
            0 => match self.large.get(&index) {
                Some(&at) => at,
                None => return false,
            },
            at => (at >> LEN_BITS, (at & ((1 << LEN_BITS) - 1)) as usize),
        };
        let in_window = |w: &RowSpill| {
            offset >= w.window_at && offset + len as u64 <= w.window_at + w.window.len() as u64
        };
        if !in_window(self) {
            use std::os::unix::fs::FileExt;
            let want = (self.len - offset).min(SPILL_WINDOW.max(len) as u64);
            self.window.resize(want as usize, 0);
            if self.file.get_ref().read_exact_at(&mut self.window, offset).is_err() {
                self.window.clear();
                return false;
            }
            self.window_at = offset;
        }
        let start = (offset - self.window_at) as usize;
        out.extend_from_slice(&self.window[start..start + len]);
        true
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        use std::io::Write;
        self.file.flush().map_err(|source| StoreError::Io { path: self.path.clone(), source })
    }
}

/// Writes summary.csv (whole or not at all), streaming: one row per plan
/// job, in plan order, from `known` (which appends a row's CSV bytes to
/// the buffer it is given, and says whether it did) or else from the job's
/// folder when it is whole and of the plan's configuration. Returns the
/// number of rows. The folder's packs and jobs/ are read only when a job's
/// row is not known (a run of the whole plan knows every row: no listing
/// of jobs/, no pack index held).
fn write_summary(
    plan: &Plan,
    dir: &ResultsDir,
    mut known: impl FnMut(&Job, &mut Vec<u8>) -> bool,
) -> Result<usize, StoreError> {
    let mut line = Vec::new();
    let mut rows = 0;
    let mut index = None;
    let mut index_error = None;
    let written = dir.write_atomic_with(store::SUMMARY, &mut |out| {
        store::summary_header(&mut line);
        out.write_all(&line)?;
        for job in &plan.jobs {
            line.clear();
            if known(job, &mut line) {
                out.write_all(&line)?;
                rows += 1;
            } else {
                if index.is_none() {
                    match store::JobIndex::open_to_run(&dir.root, plan) {
                        Ok(opened) => index = Some(opened),
                        Err(e) => {
                            let message = e.to_string();
                            index_error = Some(e);
                            return Err(std::io::Error::other(message));
                        }
                    }
                }
                let Some(index) = &index else { continue };
                let stored = store::plan_job(plan, index, job).map_err(std::io::Error::other)?;
                if let Some((_, Ok(f))) = stored {
                    line.clear();
                    store::summary_record(&mut line, &SummaryRow::from_job(&f));
                    out.write_all(&line)?;
                    rows += 1;
                }
            }
        }
        Ok(())
    });
    if let Some(e) = index_error {
        return Err(e); // as when the index was opened before the file
    }
    written?;
    Ok(rows)
}

/// What differs between the plan and the finished jobs of another
/// configuration it would replace: `epochs: 3000 -> 10, 6 finished jobs`.
fn replaced_message(plan: &Plan, jobs: &[(&Job, JobFile, String)]) -> String {
    let mut changes: Vec<String> = Vec::new();
    for (job, stored, _) in jobs {
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
    // Jobs whose parameters are the plan's: an input file's contents differ.
    let mut inputs: Vec<String> = Vec::new();
    for (job, stored, hash) in jobs {
        if stored.config_text() != plan.config_text(job) {
            continue;
        }
        let files: Vec<String> = ["dataset", "init"]
            .into_iter()
            .filter(|&key| match plan.spec(job) {
                Ok(spec) => match key {
                    "dataset" => matches!(spec.data.source, DataSource::Csv(_)),
                    _ => matches!(spec.model.init, Init::File(_)),
                },
                Err(_) => false,
            })
            .map(|key| format!("{} ({key})", crate::spec::display_value(&plan.value(job, key))))
            .collect();
        let change = if files.is_empty() {
            format!("configuration hash: {} -> {hash}", stored.config_hash)
        } else {
            format!("the contents of {} changed since the jobs ran", files.join(" or "))
        };
        if !inputs.contains(&change) {
            inputs.push(change);
        }
    }
    changes.extend(inputs);
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
    let ids = plan.id_lookup();
    let mut outside = Vec::new();
    dir.each_job_id(&mut |id| {
        if ids.find(&id).is_none() {
            outside.push(id);
        }
    })?;
    outside.sort();
    Ok(outside)
}

/// Ids of the packed jobs of a folder that are not jobs of the plan its
/// `index` was opened with, sorted.
pub fn packed_outside(index: &store::JobIndex, root: &Path) -> Vec<(String, String)> {
    index
        .others()
        .map(|(id, places)| {
            let packs: Vec<String> = places.iter().map(|p| p.name_in(root)).collect();
            (id.to_string(), packs.join(", "))
        })
        .collect()
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

/// Refuses a run that would write its manifest over a manifest.toml the
/// user changed since a run wrote it (its SHA-256 is no longer the one in
/// [`store::MANIFEST_HASH`]), with or without `--force`: sweep never
/// overwrites what it did not write. Writing the same bytes back, a
/// missing manifest.toml, and a folder of an older sweep (no record: an
/// edit cannot be told) are let through.
fn refuse_overwriting_edited_manifest(dir: &ResultsDir, text: &str) -> Result<(), StoreError> {
    let path = dir.path(store::MANIFEST);
    let Ok(Some(recorded)) = store::recorded_manifest_hash(&dir.root) else { return Ok(()) };
    let Ok(current) = std::fs::read(&path) else { return Ok(()) };
    if current == text.as_bytes() || store::sha256_hex(&current) == recorded {
        return Ok(());
    }
    Err(StoreError::Refused {
        path,
        message: format!(
            "CHANGED manifest.toml: it was edited since sweep wrote it (its SHA-256 no longer matches \
             {}), and this run would write its own manifest over it; sweep never overwrites a file it \
             did not write, with or without --force, so nothing was changed. Move the file out of the \
             folder (or restore it from a copy or version control), then run again; or choose another --out",
            store::MANIFEST_HASH
        ),
    })
}

/// The most finished jobs made durable by one sync.
const COMMIT_BATCH: usize = 256;
/// How long the committer gathers jobs for one sync after the first.
const COMMIT_WAIT: Duration = Duration::from_millis(10);

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

/// A worker's trained jobs on their way to the committer, sent together
/// (one channel send, and at most one wake-up of the committer, for up to
/// [`OUTBOX_JOBS`] quick jobs rather than one each). A job is held back
/// only while the held jobs took less than [`OUTBOX_MS`] to train, so a
/// slow job is sent at once; what is held is sent when the outbox drops
/// (its chunk is done, or the run stops).
struct Outbox<'s, 'p> {
    pending: Vec<Done<'p>>,
    /// Training time of the pending jobs.
    pending_ms: f64,
    to: &'s SyncSender<Vec<Done<'p>>>,
    /// Commits on this thread when the committer is gone (it panicked).
    commit: &'s dyn Fn(Vec<Done<'p>>),
}

impl<'p> Outbox<'_, 'p> {
    fn push(&mut self, done: Done<'p>) {
        self.pending_ms += done.wall_ms;
        self.pending.push(done);
        if self.pending.len() >= OUTBOX_JOBS || self.pending_ms >= OUTBOX_MS {
            self.send();
        }
    }

    fn send(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(OUTBOX_JOBS));
        self.pending_ms = 0.0;
        if let Err(std::sync::mpsc::SendError(batch)) = self.to.send(batch) {
            (self.commit)(batch);
        }
    }
}

impl Drop for Outbox<'_, '_> {
    fn drop(&mut self) {
        self.send();
    }
}

/// The most jobs a worker sends the committer at once.
const OUTBOX_JOBS: usize = 16;
/// The most training time (ms) of jobs a worker holds back.
const OUTBOX_MS: f64 = 5.0;

/// A trained job waiting for the committer, with its chunk's claim.
struct Done<'p> {
    job: &'p Job,
    epochs: u64,
    /// Its parameters, typed, for its summary row.
    params: store::Params,
    prepared: store::Prepared,
    wall_ms: f64,
    claim: Arc<crate::lock::FileLock>,
}

/// Trains one job and writes its folder (`file` says everything but the
/// outcome) through `workspace`; returns the outcome.
pub fn run_job(
    spec: &JobSpec,
    file: JobFile,
    save: Save,
    dir: &ResultsDir,
    workspace: &store::Workspace,
    cancel: Option<&Arc<AtomicBool>>,
) -> Result<JobOutcome, JobFailure> {
    let id = file.job_id.clone();
    let writer =
        dir.begin_job(workspace, &id).map_err(|source| JobFailure::Store { id: id.clone(), source })?;
    let mut file = file;
    let prepared = prepare_job(spec, &mut file, save, &train::Inputs::default(), writer, cancel)?;
    prepared.commit().map_err(|source| JobFailure::Store { id, source })
}

/// Trains one job and writes its files through `writer` (a folder in the
/// workspace, or a pack); returns the job, to be committed. `file` says
/// everything but the outcome, its classes and files (set here).
fn prepare_job(
    spec: &JobSpec,
    file: &mut JobFile,
    save: Save,
    inputs: &train::Inputs,
    mut writer: store::JobWriter<'_>,
    cancel: Option<&Arc<AtomicBool>>,
) -> Result<store::Prepared, JobFailure> {
    let id = file.job_id.clone();
    let store_err = |source| JobFailure::Store { id: id.clone(), source };
    writer.cancel = cancel.cloned();
    // On every early return `writer` drops, and its temporary folder (or
    // its bytes in the pack) with it.
    let trained = train::run_with(spec, inputs, &mut writer)
        .map_err(|source| JobFailure::Train { id: id.clone(), source })?;
    if trained.summary.stopped {
        return Err(JobFailure::Cancelled { id });
    }
    file.result = JobOutcome::new(&trained.summary, String::new());
    let data = &trained.data;
    let predictions = save.predictions.then(|| {
        let (train_set, test_set) = (&data.train, &data.test);
        let x = stacked(train_set.x.view(), test_set.x.view()).expect("same input width");
        let raw = stacked(data.train_raw.view(), data.test_raw.view()).expect("same input width");
        let y = stacked(train_set.y.view(), test_set.y.view()).expect("1-d");
        let outputs = train::predict(&trained.network, x.view()); // (samples, output units)
        store::predictions_csv(
            &data.columns,
            &data.classes,
            raw.view(),
            train_set.len(),
            y.view(),
            outputs.view(),
        )
    });
    // Generated sets have the fixed classes 0 and 1: their files stay as they were.
    let classes = matches!(spec.data.source, DataSource::Csv(_)).then(|| data.classes.clone());
    file.classes = classes.clone();
    let model = save.model.then(|| {
        let mut model = WeightsFile::from_params(&trained.network.layout, &trained.network.params);
        model.classes = classes;
        model.scaling = data.scaling.clone();
        model.to_json()
    });
    writer.prepare(file, predictions.as_deref(), model.as_deref()).map_err(store_err)
}

/// The rows of `a` then those of `b`, as `ndarray::concatenate` along axis 0
/// makes them (the same values, in standard layout), with one copy of each
/// when both are contiguous (`concatenate` copies element by element).
/// Errors as `concatenate` when the other axes differ.
fn stacked<D: ndarray::RemoveAxis>(
    a: ndarray::ArrayView<f64, D>,
    b: ndarray::ArrayView<f64, D>,
) -> Result<ndarray::Array<f64, D>, ndarray::ShapeError> {
    let same_rows = a.raw_dim().remove_axis(Axis(0)) == b.raw_dim().remove_axis(Axis(0));
    if let (true, Some(first), Some(second)) = (same_rows, a.as_slice(), b.as_slice()) {
        let mut dim = a.raw_dim();
        dim[0] += b.len_of(Axis(0));
        let mut values = Vec::with_capacity(first.len() + second.len());
        values.extend_from_slice(first);
        values.extend_from_slice(second);
        return ndarray::Array::from_shape_vec(dim, values);
    }
    concatenate(Axis(0), &[a, b])
}

/// The optional files the plan's jobs write (its `save` key, one value for
/// the whole run: a swept `save` is refused).
pub fn files_to_save(plan: &Plan) -> Result<Save, StoreError> {
    let refused = |message: String| StoreError::Refused { path: plan.manifest.path.clone(), message };
    if plan.swept_keys().iter().any(|k| k == "save") {
        return Err(refused(
            "`save` chooses the files of every job of the run: set it in [base] (or --set save=[..]), \
             not in [grid], [zip] or [[include]]"
                .into(),
        ));
    }
    let Some(first) = plan.jobs.first() else { return Ok(Save::default()) };
    Save::from_value(&plan.value(first, "save")).map_err(|e| refused(e.to_string()))
}

/// How the plan's jobs are stored (its `layout` key, one value for the
/// whole run: a swept `layout` is refused).
pub fn layout_of(plan: &Plan) -> Result<Layout, StoreError> {
    let refused = |message: String| StoreError::Refused { path: plan.manifest.path.clone(), message };
    if plan.swept_keys().iter().any(|k| k == "layout") {
        return Err(refused(
            "`layout` chooses how every job of the run is stored: set it in [base] (or --set \
             layout=packed), not in [grid], [zip] or [[include]]"
                .into(),
        ));
    }
    let Some(first) = plan.jobs.first() else { return Ok(Layout::Folders) };
    Layout::from_value(&plan.value(first, "layout")).map_err(|e| refused(e.to_string()))
}

/// Whether a job folder holding `have` holds every file of `want`.
fn covers(have: Save, want: Save) -> bool {
    (have.predictions || !want.predictions) && (have.model || !want.model)
}

/// The optional files a job folder holds (those its params.toml lists).
fn saved(f: &JobFile) -> Save {
    Save { predictions: f.files.contains_key(store::PREDICTIONS), model: f.files.contains_key(store::MODEL) }
}

/// Where a job that reads a file records the manifest's relative paths to
/// start: the manifest's folder as a path relative to the results folder
/// (`../../experiments`), so the bytes do not depend on where the project
/// is checked out; `verify` resolves it from the folder. Once per run.
fn paths_base(plan: &Plan, results: &Path) -> String {
    let canonical = |p: &Path| {
        std::fs::canonicalize(if p.as_os_str().is_empty() { Path::new(".") } else { p })
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let manifest_dir = canonical(&plan.manifest.dir);
    let base = relative_path(&manifest_dir, &canonical(results)).unwrap_or(manifest_dir);
    base.to_string_lossy().replace('\\', "/")
}

/// A job's params.toml before it has an outcome; `paths_base` from
/// [`paths_base`], recorded only by a job that reads a file, with the
/// SHA-256 of each file it reads (`input_hashes`, by resolved path).
fn job_file(
    plan: &Plan,
    job: &Job,
    spec: &JobSpec,
    hash: String,
    paths_base: &str,
    input_hashes: &HashMap<PathBuf, String>,
) -> JobFile {
    let reads_a_file =
        matches!(spec.data.source, DataSource::Csv(_)) || matches!(spec.model.init, Init::File(_));
    let data = match &spec.data.source {
        DataSource::Csv(path) => Some(("dataset", path)),
        _ => None,
    };
    let init = match &spec.model.init {
        Init::File(path) => Some(("init", path)),
        _ => None,
    };
    let inputs = data
        .into_iter()
        .chain(init)
        .filter_map(|(key, path)| Some((key.to_string(), input_hashes.get(path)?.clone())))
        .collect();
    JobFile {
        job_id: plan.id(job),
        seed: job.seed,
        config_hash: hash,
        paths_relative_to: reads_a_file.then(|| paths_base.to_string()),
        classes: None,
        params: plan.values(job).into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        inputs,
        result: JobOutcome::new(&train::Summary::empty(), String::new()),
        files: Default::default(),
    }
}

/// Rewrites summary.csv, streaming: one row per plan job whose folder is
/// whole and of the plan's configuration, in plan order. Returns the number
/// of rows.
pub fn summarize_plan(plan: &Plan, dir: &ResultsDir) -> Result<usize, StoreError> {
    write_summary(plan, dir, |_, _| false)
}

/// A job `verify` found wrong: its problems, one line each (`MISSING
/// curve.csv`, `CHANGED model.json`, `DIFFERS predictions.csv`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub job_id: String,
    /// Where the job is stored.
    pub at: store::JobRef,
    pub problems: Vec<String>,
    /// The input files (as resolved) whose contents changed since the job
    /// ran, when its retrained files differ: the likely cause, which one
    /// line can name for every job it explains.
    pub changed_inputs: Vec<String>,
    /// Not retrained: an input file (data, weights) cannot be read where
    /// the job read it (a folder copied elsewhere); `problems` says which.
    pub not_checked: bool,
}

/// Checks finished jobs: first every file against the hash its
/// params.toml records, then (for whole jobs) retrains them from their own
/// params.toml into the temporary place and compares each file's hash. When
/// a retrained job differs and an input file (a CSV data set, a weights
/// file) changed since the job ran, the message names it as the cause.
/// The jobs are asked one at a time (`job_of(0) .. job_of(count - 1)`: its
/// id and where it is stored, None to skip it), so a large folder needs no
/// list of them; only those whose files differ are returned.
pub fn verify(
    dir: &ResultsDir,
    count: usize,
    job_of: &(dyn Fn(usize) -> Result<Option<(String, store::JobRef)>, StoreError> + Sync),
    threads: Option<usize>,
) -> Result<Vec<Mismatch>, RunError> {
    let scratch = ResultsDir::new(dir.path(store::TMP).join(format!("verify.{}.0", std::process::id())));
    scratch.create()?;
    let workspace = scratch.workspace()?;
    let threads = worker_threads(threads, count);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| RunError::Pool { threads, message: e.to_string() })?;
    let result = pool.install(|| {
        (0..count)
            .into_par_iter()
            .map(|k| -> Result<Option<Mismatch>, RunError> {
                let Some((id, at)) = job_of(k)? else { return Ok(None) };
                let id = &id;
                let mismatch = |problems: Vec<String>| {
                    Some(Mismatch {
                        job_id: id.clone(),
                        at: at.clone(),
                        problems,
                        changed_inputs: Vec::new(),
                        not_checked: false,
                    })
                };
                let stored = match at.checked()? {
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
                // An input file that cannot be read is no difference: the
                // job cannot be retrained here, and is counted apart.
                let unreadable: Vec<String> = crate::plan::input_files(&spec)
                    .iter()
                    .filter_map(|p| {
                        let why = match std::fs::metadata(p) {
                            Ok(m) if !m.is_file() => "not a file".to_string(),
                            Ok(_) => std::fs::File::open(p).err()?.to_string(),
                            Err(e) => e.to_string(),
                        };
                        Some(format!(
                            "NOT CHECKED: cannot read {} ({why}), which the job read; run verify where the \
                             folder was made, or put that file back at that path",
                            p.display()
                        ))
                    })
                    .collect();
                if !unreadable.is_empty() {
                    return Ok(Some(Mismatch {
                        job_id: id.clone(),
                        at: at.clone(),
                        problems: unreadable,
                        changed_inputs: Vec::new(),
                        not_checked: true,
                    }));
                }
                let retrained = match run_job(
                    &spec,
                    JobFile { files: Default::default(), ..stored.clone() },
                    saved(&stored),
                    &scratch,
                    &workspace,
                    None,
                ) {
                    Ok(_) => match store::read_job(&scratch.job_dir(id)) {
                        Ok(f) => f,
                        Err(e) => return Ok(mismatch(vec![format!("FAILED retraining: {e}")])),
                    },
                    // An input file whose contents changed since is the
                    // cause, said once for every job it explains.
                    Err(e) => {
                        return Ok(Some(Mismatch {
                            job_id: id.clone(),
                            at: at.clone(),
                            problems: vec![format!("FAILED retraining: {e}")],
                            changed_inputs: changed_inputs(&stored, &spec),
                            not_checked: false,
                        }));
                    }
                };
                let problems: Vec<String> = [store::CURVE, store::PREDICTIONS, store::MODEL]
                    .into_iter()
                    .filter(|name| stored.files.get(*name) != retrained.files.get(*name))
                    .map(|name| format!("DIFFERS {name} (retrained)"))
                    .collect();
                if problems.is_empty() {
                    return Ok(None);
                }
                let changed_inputs = changed_inputs(&stored, &spec);
                Ok(Some(Mismatch {
                    job_id: id.clone(),
                    at: at.clone(),
                    problems,
                    changed_inputs,
                    not_checked: false,
                }))
            })
            // Only the mismatches are kept, not a slot per job.
            .filter_map(Result::transpose)
            .collect::<Result<Vec<_>, _>>()
    });
    drop(workspace);
    let _ = std::fs::remove_dir_all(&scratch.root);
    result
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
    fn jobs_outside_are_the_folders_whose_name_no_job_has() {
        // `W` and `w` name one folder on macOS: those ids get a suffix.
        let manifest = crate::manifest::Manifest::parse(
            Path::new("m.toml"),
            "seeds = 2\n[grid]\ninit = [\"W.json\", \"w.json\", \"x.json\"]\n",
            &[],
        )
        .unwrap();
        let plan = crate::plan::Plan::new(manifest).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = super::ResultsDir::new(tmp.path());
        let mut ids: Vec<String> = plan.jobs.iter().map(|j| plan.id(j)).collect();
        assert!(ids.iter().filter(|id| id.contains('~')).count() == 4, "{ids:?}");
        // Folders of other jobs: the plan's ids without their suffix, another seed.
        ids.extend(["init-W.json_seed-0", "init-x.json_seed-2"].map(String::from));
        for id in &ids {
            std::fs::create_dir_all(dir.job_dir(id)).unwrap();
            std::fs::write(dir.job_dir(id).join(crate::store::PARAMS), "").unwrap();
        }
        assert_eq!(super::jobs_outside(&plan, &dir).unwrap(), ["init-W.json_seed-0", "init-x.json_seed-2"]);
    }

    #[test]
    fn the_manifest_folder_is_recorded_relative_to_the_results_folder() {
        let rel = |a: &str, b: &str| relative_path(Path::new(a), Path::new(b));
        assert_eq!(rel("/p/experiments", "/p/results/lr"), Some(PathBuf::from("../../experiments")));
        assert_eq!(rel("/p/results/lr", "/p/results/lr"), Some(PathBuf::from(".")));
        assert_eq!(rel("/p/results/lr/sub", "/p/results/lr"), Some(PathBuf::from("sub")));
        assert_eq!(rel("/x", "/p/q"), Some(PathBuf::from("../../x")));
    }
}

#[cfg(test)]
mod other_process_tests {
    use super::*;

    #[test]
    fn a_process_that_ran_before_or_joined_since_is_seen() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ResultsDir::new(tmp.path().join("r"));
        dir.create().unwrap();
        let own = dir.path(store::OWN);
        let _workspace = dir.workspace().unwrap();
        let _mine = crate::lock::hold_study(&own, "s", "m").unwrap().unwrap();
        // Alone: no job of the plan can be written by anyone else.
        let alone = OtherProcesses::watch(&dir, &own, "s");
        assert!(!alone.may_have_written());
        // A second process of the study joins (after making its workspace).
        let _theirs = crate::lock::hold_study(&own, "s", "m").unwrap().unwrap();
        assert!(alone.may_have_written(), "a process that joined since is seen");
        // A process that had joined before the watch has a workspace.
        std::fs::create_dir(dir.path(store::TMP).join("run.4194999.0")).unwrap();
        assert!(OtherProcesses::watch(&dir, &own, "s").may_have_written());
    }
}

#[cfg(test)]
mod spill_tests {
    use super::*;

    /// Rows read back from the spill (through its read window) are the
    /// rows added, whatever the order they were added and read in, rows
    /// longer than the window included.
    #[test]
    fn the_spill_gives_back_each_row_added() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ResultsDir::new(tmp.path().join("r"));
        dir.create().unwrap();
        let workspace = dir.workspace().unwrap();
        let jobs = 3000;
        let mut spill = RowSpill::new(&workspace, jobs).unwrap();
        let row = |i: usize| SummaryRow {
            job_id: format!("job-{i}_{}", "x".repeat(if i == 1234 { 2 * SPILL_WINDOW } else { i % 97 })),
            seed: i as u64,
            params: store::Params::from_values(vec![None; crate::spec::KEYS.len()]),
            outcome: JobOutcome::new(&train::Summary::empty(), String::new()),
            curve: format!("jobs/job-{i}/curve.csv"),
            at: store::JobRef::folder(PathBuf::new()),
        };
        let bytes = |i: usize| {
            let mut line = Vec::new();
            store::summary_record(&mut line, &row(i));
            line
        };
        // Added as two workers would commit them: interleaved, every third left out.
        let (even, odd): (Vec<usize>, Vec<usize>) =
            (0..jobs).filter(|i| i % 3 != 2).partition(|i| i % 2 == 0);
        for (a, b) in even.chunks(16).zip(odd.chunks(16)) {
            for &i in a.iter().chain(b) {
                spill.add(i, &row(i)).unwrap();
            }
        }
        spill.flush().unwrap();
        for order in [(0..jobs).collect::<Vec<_>>(), (0..jobs).rev().collect()] {
            for i in order {
                let mut out = b"before,".to_vec();
                let found = spill.row(i, &mut out);
                assert_eq!(found, i % 3 != 2, "row {i}");
                let mut want = b"before,".to_vec();
                if found {
                    want.extend(bytes(i));
                }
                assert_eq!(out, want, "row {i}");
            }
        }
    }

    /// Rows come back from the spill as added, in any order, added again
    /// (the last kept), and a row too long for the packed offset and
    /// length (16 MiB) through the side map.
    #[test]
    fn spilled_rows_come_back_whatever_their_size() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ResultsDir::new(tmp.path().join("r"));
        dir.create().unwrap();
        let workspace = dir.workspace().unwrap();
        let mut spill = RowSpill::new(&workspace, 6).unwrap();
        let template = store::load_rows(Path::new("results/baseline")).unwrap().remove(0);
        let row = |id: String| SummaryRow { job_id: id, ..template.clone() };
        let bytes = |r: &SummaryRow| {
            let mut line = Vec::new();
            store::summary_record(&mut line, r);
            line
        };
        let rows = [
            (4, row("four".into())),
            (0, row("zero".into())),
            (2, row("y".repeat(1 << LEN_BITS))),
            (5, row("five".into())),
            (2, row("two, again".into())),
            (0, row("z".repeat(1 << LEN_BITS))),
        ];
        for (i, r) in &rows {
            spill.add(*i, r).unwrap();
        }
        spill.flush().unwrap();
        assert_eq!(spill.large.keys().collect::<Vec<_>>(), [&0], "only the last row of job 0 is large");
        for (i, want) in
            [(0, Some(&rows[5].1)), (1, None), (2, Some(&rows[4].1)), (3, None), (4, Some(&rows[0].1))]
        {
            let mut out = Vec::new();
            let found = spill.row(i, &mut out);
            assert_eq!(found.then_some(out), want.map(bytes), "job {i}");
        }
        let mut out = Vec::new();
        assert!(spill.row(5, &mut out));
        assert_eq!(out, bytes(&rows[3].1));
    }
}

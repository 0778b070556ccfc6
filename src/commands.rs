//! One function per subcommand: turn parsed arguments into library calls and
//! user-facing text. Errors get their context here (anyhow) and a kind that
//! decides the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};

use crate::cli::{
    DiffArgs, DiffFormat, ExportArgs, ExportFormat, PlanArgs, PlanFormat, ReportArgs, RunArgs, SlurmArgs,
};
use crate::interrupt;
use crate::manifest::Manifest;
use crate::plan::{CURVE_ROW_BYTES, LARGE_CURVES, LARGE_PLAN, Plan, Shard};
use crate::progress::Progress;
use crate::runner::{self, RunOptions};
use crate::slurm::{self, SlurmJob, SlurmSettings};
use crate::spec::display_value;
use crate::store::{self, ResultsDir};

/// Why a command failed: bad input (exit 2) or a run-time failure (exit 1).
#[derive(Debug)]
pub enum Failure {
    Usage(anyhow::Error),
    Runtime(anyhow::Error),
}

/// Anything the library reports at run time (I/O above all) exits with 1.
impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::Runtime(flatten(e.into()))
    }
}

fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure::Usage(flatten(e.into()))
}

/// The error's chain as one message, leaving out causes that a message
/// before them already quotes (our errors print their source inline, so
/// `{:#}` would say "Read-only file system" twice).
fn flatten(e: anyhow::Error) -> anyhow::Error {
    let mut message = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    anyhow!(message)
}

/// Writes to stdout; a closed pipe (`sweep plan | head`) ends quietly.
fn emit(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => other.context("cannot write to standard output").map_err(Failure::Runtime),
    }
}

fn load_plan(path: &Path, sets: &[String]) -> Result<Plan, Failure> {
    let manifest = Manifest::load(path, sets).map_err(usage)?;
    let plan = Plan::new(manifest).map_err(usage)?;
    plan.check_inputs().map_err(usage)?;
    Ok(plan)
}

/// `--shard I/N` or `--shard auto` (Slurm array or Kubernetes indexed job).
fn resolve_shard(args: &RunArgs) -> Result<Option<Shard>, Failure> {
    let Some(text) = &args.shard else { return Ok(None) };
    if text != "auto" {
        return text.parse().map(Some).map_err(|e: String| usage(anyhow!("--shard: {e}")));
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let num = |name: &str, v: String| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| usage(anyhow!("--shard auto: {name}=`{v}` is not a whole number")))
    };
    let (index, count) =
        if let (Some(id), Some(count)) = (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT")) {
            // Arrays may start at any index (--array=1-8): count from the minimum.
            let min = match var("SLURM_ARRAY_TASK_MIN") {
                Some(m) => num("SLURM_ARRAY_TASK_MIN", m)?,
                None => 0,
            };
            let id = num("SLURM_ARRAY_TASK_ID", id)?;
            (
                id.checked_sub(min).ok_or_else(|| {
                    usage(anyhow!("--shard auto: SLURM_ARRAY_TASK_ID below SLURM_ARRAY_TASK_MIN"))
                })?,
                num("SLURM_ARRAY_TASK_COUNT", count)?,
            )
        } else if let Some(index) = var("JOB_COMPLETION_INDEX") {
            let count = args.shard_count.ok_or_else(|| {
                usage(anyhow!(
                    "--shard auto with JOB_COMPLETION_INDEX needs --shard-count N (the job's completions)"
                ))
            })?;
            (num("JOB_COMPLETION_INDEX", index)?, count)
        } else {
            return Err(usage(anyhow!(
                "--shard auto: neither SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (a Slurm job array) nor \
             JOB_COMPLETION_INDEX (a Kubernetes indexed job) is set"
            )));
        };
    format!("{index}/{count}").parse().map(Some).map_err(|e: String| usage(anyhow!("--shard auto: {e}")))
}

/// A very large plan, or one whose curves would fill a disk, needs `--yes`.
fn check_plan_size(plan: &Plan, yes: bool) -> Result<(), Failure> {
    if plan.jobs.len() > LARGE_PLAN && !yes {
        return Err(usage(anyhow!(
            "{}: the plan has {} jobs (over {LARGE_PLAN}); check it with `sweep plan`, then pass --yes",
            plan.manifest.path.display(),
            plan.jobs.len()
        )));
    }
    let bytes = plan.curve_bytes();
    if bytes > LARGE_CURVES && !yes {
        return Err(usage(anyhow!(
            "{}: the curve files would take about {} ({} jobs, ~{} rows of ~{CURVE_ROW_BYTES} bytes), \
             over {}; raise `log_every` or check the plan with `sweep plan`, then pass --yes",
            plan.manifest.path.display(),
            human_bytes(bytes),
            plan.jobs.len(),
            bytes / CURVE_ROW_BYTES,
            human_bytes(LARGE_CURVES)
        )));
    }
    Ok(())
}

/// `sweep run`. Ctrl-C (or SIGTERM) stops it cleanly: see [`interrupt`];
/// the exit code is then 130.
pub fn run(args: &RunArgs) -> Result<ExitCode, Failure> {
    let cancel = interrupt::install();
    if args.out.is_some() && args.manifests.len() > 1 {
        return Err(usage(anyhow!("--out names one results folder: give a single manifest with it")));
    }
    let shard = resolve_shard(args)?;
    // Plan everything first: a bad second manifest fails before any training.
    let plans =
        args.manifests.iter().map(|m| load_plan(m, &args.sets.sets)).collect::<Result<Vec<_>, _>>()?;
    for plan in &plans {
        check_plan_size(plan, args.yes)?;
    }
    let mut any_failed = false;
    for (n, plan) in plans.iter().enumerate() {
        let out = args.out.clone().unwrap_or_else(|| PathBuf::from("results").join(&plan.manifest.name));
        let progress = Progress::new(args.quiet);
        let opts = RunOptions { threads: args.threads, force: args.force, shard, cancel: Some(cancel) };
        let run = runner::run_plan(plan, &out, &opts, &|e| progress.event(e));
        progress.finish();
        let report = run.with_context(|| format!("running {}", plan.manifest.path.display()))?;
        let secs = report.wall.as_secs_f64();
        let rate = report.job_epochs as f64 / secs.max(1e-9);
        emit(&format!(
            "{}: {} jobs run, {} skipped, {} diverged, {} failed in {secs:.2} s ({} job-epochs/s, {} threads) -> {}\n",
            plan.manifest.name,
            report.ran,
            report.skipped,
            report.diverged,
            report.failed.len(),
            human(rate),
            report.threads,
            out.join(store::SUMMARY).display()
        ))?;
        any_failed |= !report.failed.is_empty();
        if let Some(e) = &report.summary_error {
            any_failed = true;
            eprintln!(
                "error: cannot write summary.csv: {e}\nThe job folders are intact; `sweep summarize {}` rebuilds it.",
                out.display()
            );
        }
        if report.halted > 0 {
            eprintln!(
                "error: stopped after a disk error: {} jobs not started; the {} finished jobs are intact. \
                 Free space or fix permissions, then run the same command again to resume.",
                report.halted,
                report.ran + report.skipped
            );
        }
        if interrupt::interrupted() {
            let total = plan.shard(shard).count();
            let finished = report.ran + report.skipped;
            let later = plans.len() - n - 1;
            eprintln!(
                "interrupted: {finished} of {total} jobs finished ({} in this run), {} not run{}; \
                 nothing half-written was kept.\nresume with: {}",
                report.ran,
                total - finished,
                if later > 0 { format!(", {later} more manifest(s) not started") } else { String::new() },
                resume_command()
            );
            return Ok(ExitCode::from(interrupt::EXIT_CODE));
        }
    }
    Ok(if any_failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// This command line, quoted for a POSIX shell, without `--force` (which
/// would retrain what just finished): it resumes an interrupted run.
fn resume_command() -> String {
    std::env::args_os()
        .enumerate()
        .filter(|(i, a)| *i == 0 || a != "--force")
        .map(|(_, a)| crate::slurm::shell_quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// 6.1e9 -> "6.1 GB" (decimal units, as disks are sold).
fn human_bytes(b: u64) -> String {
    match b as f64 {
        v if v >= 1e12 => format!("{:.1} TB", v / 1e12),
        v if v >= 1e9 => format!("{:.1} GB", v / 1e9),
        v if v >= 1e6 => format!("{:.1} MB", v / 1e6),
        v if v >= 1e3 => format!("{:.1} kB", v / 1e3),
        v => format!("{v:.0} B"),
    }
}

/// 1234567 -> "1.23M".
fn human(v: f64) -> String {
    match v {
        v if v >= 1e9 => format!("{:.2}G", v / 1e9),
        v if v >= 1e6 => format!("{:.2}M", v / 1e6),
        v if v >= 1e3 => format!("{:.1}k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

pub fn plan(args: &PlanArgs) -> Result<ExitCode, Failure> {
    let plan = load_plan(&args.manifest, &args.sets.sets)?;
    let keys = plan.swept_keys();
    let cells = |j: &crate::plan::Job| -> Vec<String> {
        keys.iter()
            .map(|k| j.swept.iter().find(|(s, _)| s == k).map_or(String::new(), |(_, v)| display_value(v)))
            .collect()
    };
    let text = match args.format {
        PlanFormat::Json => {
            let jobs: Vec<serde_json::Value> = plan
                .jobs
                .iter()
                .map(|j| {
                    let params: serde_json::Map<String, serde_json::Value> = j
                        .swept
                        .iter()
                        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(serde_json::Value::Null)))
                        .collect();
                    serde_json::json!({"index": j.index, "job_id": j.id, "seed": j.seed, "params": params})
                })
                .collect();
            let doc = serde_json::json!({"name": plan.manifest.name, "count": plan.jobs.len(), "jobs": jobs});
            format!("{}\n", serde_json::to_string_pretty(&doc).expect("json"))
        }
        PlanFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut header = vec!["index".to_string(), "job_id".into(), "seed".into()];
            header.extend(keys.iter().cloned());
            w.write_record(&header).expect("in-memory");
            for j in &plan.jobs {
                let mut rec = vec![j.index.to_string(), j.id.clone(), j.seed.to_string()];
                rec.extend(cells(j));
                w.write_record(&rec).expect("in-memory");
            }
            String::from_utf8(w.into_inner().expect("in-memory")).expect("utf-8")
        }
        PlanFormat::Table => {
            let mut rows = vec![{
                let mut h = vec!["#".to_string(), "job_id".into(), "seed".into()];
                h.extend(keys.iter().cloned());
                h
            }];
            for j in &plan.jobs {
                let mut r = vec![j.index.to_string(), j.id.clone(), j.seed.to_string()];
                r.extend(cells(j));
                rows.push(r);
            }
            let mut out = align(&rows);
            let epochs: u64 = plan.jobs.iter().map(|j| plan.epochs_of(j)).sum();
            out.push_str(&format!(
                "{} jobs, {} job-epochs, ~{} of curves ({})\n",
                plan.jobs.len(),
                epochs,
                human_bytes(plan.curve_bytes()),
                plan.manifest.name
            ));
            out
        }
    };
    emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Left-aligned columns separated by two spaces.
fn align(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> =
            r.iter().enumerate().map(|(c, s)| format!("{s:<w$}", w = widths[c])).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn results_dir(dir: &Path) -> Result<ResultsDir, Failure> {
    if !dir.is_dir() {
        return Err(usage(anyhow!("{}: not a results folder (no such directory)", dir.display())));
    }
    Ok(ResultsDir::new(dir))
}

/// The plan a results folder was made from (its manifest.toml), if readable.
fn stored_plan(dir: &ResultsDir) -> Option<Plan> {
    let manifest = Manifest::load(&dir.path(store::MANIFEST), &[]).ok()?;
    Plan::new(manifest).ok()
}

pub fn summarize(dir: &Path) -> Result<ExitCode, Failure> {
    let rd = results_dir(dir)?;
    let n = match stored_plan(&rd) {
        Some(plan) => runner::summarize_plan(&plan, &rd)?,
        None => {
            // No readable manifest.toml: every job folder, sorted by id.
            let ids = rd.job_ids()?;
            let rows = ids
                .iter()
                .map(|id| store::read_job(&rd.job_dir(id)).map(|j| store::SummaryRow::from_job(&j)))
                .collect::<Result<Vec<_>, _>>()?;
            rd.write_atomic(store::SUMMARY, &store::summary_csv(&rows))?;
            rows.len()
        }
    };
    emit(&format!("{}: {n} jobs\n", rd.path(store::SUMMARY).display()))?;
    Ok(ExitCode::SUCCESS)
}

pub fn verify(dir: &Path, sample: Option<usize>, threads: Option<usize>) -> Result<ExitCode, Failure> {
    let rd = results_dir(dir)?;
    let all = rd.job_ids()?;
    let ids: Vec<String> = match sample {
        Some(n) if n < all.len() => (0..n).map(|i| all[i * all.len() / n].clone()).collect(),
        _ => all,
    };
    if ids.is_empty() {
        return Err(usage(anyhow!("{}: no finished jobs to verify", dir.display())));
    }
    let mismatches = runner::verify(&rd, &ids, threads)?;
    for m in &mismatches {
        emit(&format!("DIFFERS {}: stored {} retrained {}\n", m.job_id, m.stored, m.retrained))?;
    }
    emit(&format!(
        "verified {} jobs: {} identical, {} differ\n",
        ids.len(),
        ids.len() - mismatches.len(),
        mismatches.len()
    ))?;
    Ok(if mismatches.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub fn export(args: &ExportArgs) -> Result<ExitCode, Failure> {
    results_dir(&args.dir)?;
    let format = match args.format {
        ExportFormat::Csv => crate::export::ExportFormat::Csv,
        ExportFormat::Json => crate::export::ExportFormat::Json,
    };
    match &args.out {
        Some(path) => {
            let file =
                std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            let n = crate::export::export(&args.dir, format, &mut w)?;
            eprintln!("{}: {n} rows", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            match crate::export::export(&args.dir, format, &mut out) {
                Err(store::StoreError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => {
                    other?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn report(args: &ReportArgs) -> Result<ExitCode, Failure> {
    results_dir(&args.dir)?;
    let opts = crate::report::ReportOptions { out: args.out.clone() };
    let written = crate::report::write_report(&args.dir, &opts)
        .with_context(|| format!("cannot report on {}", args.dir.display()))?;
    let of_plan = match written.planned {
        Some(m) if m > written.jobs => format!("{} of {m} jobs of the plan (partial)", written.jobs),
        _ => format!("{} jobs", written.jobs),
    };
    emit(&format!(
        "{} and {}: {of_plan}, {} figures in {}\n",
        written.report.display(),
        written.page.display(),
        written.figures.len(),
        args.dir.join("figures").display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn diff(args: &DiffArgs) -> Result<ExitCode, Failure> {
    results_dir(&args.a)?;
    results_dir(&args.b)?;
    let metric = args.metric.parse().map_err(|e| usage(anyhow!("--metric: {e}")))?;
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(usage(anyhow!("--alpha must be in (0, 1), got {}", args.alpha)));
    }
    let format = match args.format {
        DiffFormat::Md => crate::diff::Format::Md,
        DiffFormat::Csv => crate::diff::Format::Csv,
    };
    let opts = crate::diff::DiffOptions { metric, alpha: args.alpha, format };
    let outcome = crate::diff::diff(&args.a, &args.b, &opts)
        .with_context(|| format!("cannot compare {} and {}", args.a.display(), args.b.display()))?;
    emit(&outcome.text)?;
    Ok(if args.fail_on_change && outcome.changed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `sweep slurm`: validates the plan as `sweep run` would, then submits it as
/// a Slurm job array plus a finishing job (or, with `--print`, shows them).
pub fn slurm(args: &SlurmArgs) -> Result<ExitCode, Failure> {
    let plan = load_plan(&args.manifest, &args.sets.sets)?;
    check_plan_size(&plan, args.yes)?;
    let jobs = plan.jobs.len();
    let tasks = match args.tasks {
        Some(n) if n > jobs => {
            eprintln!("note: --tasks {n} is more than the plan's {jobs} jobs; submitting {jobs} tasks");
            jobs
        }
        Some(n) => n,
        None => jobs.min(slurm::DEFAULT_MAX_TASKS),
    };
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("results").join(&plan.manifest.name));
    let absolute =
        |p: &Path| std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()));
    let job = SlurmJob::new(SlurmSettings {
        name: plan.manifest.name.clone(),
        sweep: std::env::current_exe().context("cannot find the path of this sweep binary")?,
        manifest: std::fs::canonicalize(&args.manifest)
            .with_context(|| format!("cannot resolve {}", args.manifest.display()))?,
        out: absolute(&out)?,
        sets: args.sets.sets.clone(),
        tasks,
        cpus_per_task: args.cpus_per_task,
        partition: args.partition.clone(),
        time: args.time.clone(),
        yes: args.yes,
    })
    .map_err(usage)?;
    if args.print {
        emit(&job.print_text())?;
        return Ok(ExitCode::SUCCESS);
    }
    let ids = slurm::submit(&job)?;
    emit(&format!(
        "{name}: {jobs} jobs in {tasks} array tasks of {cpus} CPU(s) -> {out}\n\
         submitted array job {array} and finishing job {finish} (summarize and report, once every task succeeded)\n\
         watch:   squeue -j {array},{finish}\n\
         history: sacct -j {array},{finish}   (needs Slurm accounting)\n\
         logs:    {logs}\n",
        name = plan.manifest.name,
        cpus = args.cpus_per_task,
        out = job.out.display(),
        array = ids.array,
        finish = ids.finish,
        logs = job.scripts_dir().display(),
    ))?;
    Ok(ExitCode::SUCCESS)
}

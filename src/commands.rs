//! One function per subcommand: turn parsed arguments into library calls and
//! user-facing text. Library errors keep the [`Kind`](crate::error::Kind)
//! they say (it decides the exit code) and get their context here; `main`
//! prints them.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{
    DiffArgs, DiffFormat, ExportArgs, ExportFormat, PlanArgs, PlanFormat, ReportArgs, RunArgs, SlurmArgs,
};
use crate::error::{Context, Error};
use crate::interrupt::{self, Interrupt};
use crate::plan::{LARGE_DISK, LARGE_PLAN, Plan, PlanSize, Shard};
use crate::progress::Progress;
use crate::runner::{self, RunOptions};
use crate::slurm::{self, SlurmJob, SlurmSettings};
use crate::spec::display_value;
use crate::store::{self, ResultsDir};

/// Writes to stdout. A closed pipe (`sweep plan | head`) is an error of kind
/// [`ClosedOutput`](crate::error::Kind::ClosedOutput), which `main` ends quietly.
fn emit(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).context("cannot write to standard output")
}

fn load_plan(path: &Path, sets: &[String]) -> Result<Plan, Error> {
    let plan = Plan::load(path, sets)?;
    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
    }
    runner::files_to_save(&plan)?;
    runner::layout_of(&plan)?;
    if plan.total_epochs().is_none() {
        let most = plan.jobs.iter().map(|j| plan.epochs_of(j)).max().unwrap_or(0);
        return Err(Error::usage(format!(
            "{}: its {} jobs (up to {most} epochs each) add up to more than {} job-epochs, more than \
             sweep can count (or train); use fewer epochs, values or seeds",
            plan.manifest.path.display(),
            plan.jobs.len(),
            u64::MAX
        )));
    }
    for note in plan.check_inputs()? {
        eprintln!("note: {note}");
    }
    Ok(plan)
}

/// `--shard I/N` or `--shard auto` (Slurm array or Kubernetes indexed job).
fn resolve_shard(args: &RunArgs) -> Result<Option<Shard>, Error> {
    let Some(text) = &args.shard else {
        return match args.shard_count {
            Some(n) => Err(Error::usage(format!(
                "--shard-count {n} is only for `--shard auto` (with JOB_COMPLETION_INDEX); to split the plan \
                 by hand give --shard I/N"
            ))),
            None => Ok(None),
        };
    };
    if text != "auto" {
        if let Some(n) = args.shard_count {
            return Err(Error::usage(format!(
                "--shard {text} and --shard-count {n} conflict: --shard I/N gives the count itself, and \
                 --shard-count is only for `--shard auto` (with JOB_COMPLETION_INDEX); give one of them"
            )));
        }
        return text.parse().map(Some).map_err(|e: String| Error::usage(format!("--shard: {e}")));
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let num = |name: &str, v: String| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| Error::usage(format!("--shard auto: {name}=`{v}` is not a whole number")))
    };
    let (index, count) =
        if let (Some(id), Some(count)) = (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT")) {
            // Arrays may start at any index (--array=1-8): count from the minimum.
            let min = match var("SLURM_ARRAY_TASK_MIN") {
                Some(m) => num("SLURM_ARRAY_TASK_MIN", m)?,
                None => 0,
            };
            let id = num("SLURM_ARRAY_TASK_ID", id)?;
            let count = num("SLURM_ARRAY_TASK_COUNT", count)?;
            if let Some(n) = args.shard_count.filter(|&n| n != count) {
                return Err(Error::usage(format!(
                    "--shard auto: --shard-count {n} conflicts with SLURM_ARRAY_TASK_COUNT={count} (a Slurm \
                     job array gives the count itself); drop --shard-count"
                )));
            }
            (
                id.checked_sub(min).ok_or_else(|| {
                    Error::usage("--shard auto: SLURM_ARRAY_TASK_ID below SLURM_ARRAY_TASK_MIN")
                })?,
                count,
            )
        } else if let Some(index) = var("JOB_COMPLETION_INDEX") {
            let count = args.shard_count.ok_or_else(|| {
                Error::usage(
                    "--shard auto with JOB_COMPLETION_INDEX needs --shard-count N (the job's completions)",
                )
            })?;
            (num("JOB_COMPLETION_INDEX", index)?, count)
        } else {
            return Err(Error::usage(
                "--shard auto: neither SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (a Slurm job array) nor \
             JOB_COMPLETION_INDEX (a Kubernetes indexed job) is set",
            ));
        };
    format!("{index}/{count}")
        .parse()
        .map(Some)
        .map_err(|e: String| Error::usage(format!("--shard auto: {e}")))
}

/// A very large run, or one whose curves would fill a disk, needs `--yes`.
/// With `--shard`, the run is the shard's jobs: an array task of a large
/// plan that trains a few of them asks for nothing.
fn check_plan_size(
    plan: &Plan,
    shard: Option<Shard>,
    yes: bool,
    threads: Option<usize>,
) -> Result<(), Error> {
    let jobs = plan.shard(shard).count();
    let what = match shard {
        Some(s) => format!("the shard {}/{} of the plan has", s.index, s.count),
        None => "the plan has".to_string(),
    };
    if jobs > LARGE_PLAN && !yes {
        return Err(Error::usage(format!(
            "{}: {what} {jobs} jobs (over {LARGE_PLAN}); check it with `sweep plan`, then pass --yes",
            plan.manifest.path.display(),
        )));
    }
    let size = plan.size_of(shard);
    // Memory: refused always (an allocation abort loses the run and leaves
    // temporaries); every worker may hold a job this size at once.
    if let Some(total) = machine_memory() {
        let at_once = runner::worker_threads(threads, jobs) as f64;
        if size.memory * at_once > total {
            return Err(Error::usage(format!(
                "{}: job {} needs about {} of memory (data, network buffers, predictions){}, beyond this \
                 machine's {}; use fewer samples or smaller layers{}",
                plan.manifest.path.display(),
                plan.id(&plan.jobs[size.memory_job]),
                human_bytes_f(size.memory),
                if at_once > 1.0 { format!(", {at_once} at once") } else { String::new() },
                human_bytes_f(total),
                if at_once > 1.0 { " (or fewer --threads)" } else { "" }
            )));
        }
    }
    if size.disk() > LARGE_DISK as f64 && !yes {
        return Err(Error::usage(format!(
            "{}: the results would take about {} on disk ({} jobs: {}; the largest, {}, {}), over {}; \
             raise `log_every`, use fewer samples, or check the plan with `sweep plan`, then pass --yes",
            plan.manifest.path.display(),
            human_bytes_f(size.disk()),
            jobs,
            disk_parts(&size),
            plan.id(&plan.jobs[size.disk_job]),
            human_bytes_f(size.largest_disk),
            human_bytes(LARGE_DISK)
        )));
    }
    Ok(())
}

/// `~6.0 GB of curves, ~12 kB of predictions, ~1.2 kB of models`.
fn disk_parts(size: &PlanSize) -> String {
    // A part of size 0 is a file the `save` key leaves out.
    let part = |bytes: f64, what: &str, file: &str| {
        if bytes > 0.0 { format!("~{} of {what}", human_bytes_f(bytes)) } else { format!("no {file} (save)") }
    };
    format!(
        "~{} of curves, {}, {}",
        human_bytes_f(size.curves),
        part(size.predictions, "predictions", "predictions.csv"),
        part(size.models, "models", "model.json")
    )
}

/// This machine's memory in bytes (Linux: MemTotal of /proc/meminfo).
fn machine_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

fn human_bytes_f(b: f64) -> String {
    if b >= 1e18 { format!("{b:.1e} B") } else { human_bytes(b as u64) }
}

/// A results folder path (`--out`, or the default `results/<name>`) must
/// name a folder or nothing yet: a file there is a usage error (exit 2).
fn check_out(out: &Path) -> Result<(), Error> {
    if let Ok(m) = std::fs::metadata(out)
        && !m.is_dir()
    {
        return Err(Error::usage(format!(
            "{}: is a file, not a results folder; give --out a folder (a new one, or a results folder \
             to resume), or move the file away",
            out.display()
        )));
    }
    // Inside another results folder (its jobs/, .sweep/, figures/ or any
    // other place in it): the folder is sweep's own, and its readers would
    // meet a study that is not theirs.
    let real = resolved(out).with_context(|| format!("cannot resolve {}", out.display()))?;
    if let Some(folder) = real.ancestors().skip(1).find(|f| is_results_folder(f)) {
        let inside = real.strip_prefix(folder).unwrap_or(&real);
        return Err(Error::usage(format!(
            "{}: is inside the results folder {} (at {}), which sweep keeps whole (its study, its jobs and \
             the files it derives from them); nothing was trained. Give --out a folder outside any results \
             folder (beside it, say)",
            out.display(),
            folder.display(),
            inside.display()
        )));
    }
    Ok(())
}

/// The output file of `report --out` or `export --out`, checked before
/// anything is read or written: a folder is refused, so is any path in a
/// results folder's own entries ([`store::OWN_ENTRIES`]: its manifest.toml,
/// summary.csv, jobs/, packs/, .sweep/, ...), in `dir` or any other results
/// folder, except `own` in `dir` (report.md for `report`: its default); an
/// existing file is replaced only with `force` (sweep cannot tell one it
/// wrote from the user's). All refusals are usage errors (exit 2) saying
/// what to do instead.
fn check_out_file(out: &Path, dir: &Path, own: Option<&str>, force: bool) -> Result<(), Error> {
    let shown = out.display();
    let ends_in_separator = out.as_os_str().to_string_lossy().ends_with(std::path::MAIN_SEPARATOR);
    if ends_in_separator || std::fs::metadata(out).is_ok_and(|m| m.is_dir()) {
        return Err(Error::usage(format!(
            "{shown}: is a folder; --out takes the path of a file to write (a new file, outside any \
             results folder's own files); nothing was written"
        )));
    }
    let target = resolved(out).with_context(|| format!("cannot resolve {shown}"))?;
    let real_dir = std::fs::canonicalize(dir).ok();
    for folder in target.ancestors().skip(1) {
        if !is_results_folder(folder) {
            continue;
        }
        let Ok(rel) = target.strip_prefix(folder) else { continue };
        let Some(first) = rel.components().next() else { continue };
        let first = first.as_os_str().to_string_lossy();
        if !store::OWN_ENTRIES.contains(&first.as_ref()) {
            continue;
        }
        let is_own = own.is_some_and(|o| rel == Path::new(o)) && real_dir.as_deref() == Some(folder);
        if is_own {
            return Ok(());
        }
        return Err(Error::usage(format!(
            "{shown}: is {} of the results folder {}, which sweep keeps whole (its study, its jobs and \
             the files it derives from them); nothing was written. Give --out a new file outside them",
            if rel == Path::new(first.as_ref()) {
                format!("the {first}")
            } else {
                format!("inside the {first}/")
            },
            folder.display(),
        )));
    }
    if !force && std::fs::symlink_metadata(out).is_ok() {
        return Err(Error::usage(format!(
            "{shown}: already exists, and sweep does not overwrite a file it may not have written; \
             nothing was written. Remove it, give --out a new path, or pass --force to replace it"
        )));
    }
    Ok(())
}

/// `path` made absolute with every link of its existing part resolved (the
/// part that does not exist yet appended as written).
fn resolved(path: &Path) -> std::io::Result<PathBuf> {
    if let Ok(real) = std::fs::canonicalize(path) {
        return Ok(real);
    }
    // `..` taken lexically first: a part that does not exist has no links.
    let mut absolute = PathBuf::new();
    for c in std::path::absolute(path)?.components() {
        match c {
            std::path::Component::ParentDir => {
                absolute.pop();
            }
            std::path::Component::CurDir => {}
            c => absolute.push(c),
        }
    }
    let mut rest = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return Ok(rest.iter().rev().fold(real, |p, c| p.join(c)));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return Ok(absolute),
        }
    }
}

/// Whether `folder` is a results folder (sweep's marker, or an older
/// sweep's manifest.toml beside jobs/).
fn is_results_folder(folder: &Path) -> bool {
    folder.join(store::OWN).join(store::MARKER).is_file()
        || (folder.join(store::MANIFEST).is_file() && folder.join(store::JOBS).is_dir())
}

/// `--threads N` (or RAYON_NUM_THREADS) beyond [`runner::max_threads`] is
/// refused (exit 2): thousands of threads take minutes to start and only
/// share the cores.
fn check_threads(threads: Option<usize>) -> Result<(), Error> {
    let max = runner::max_threads();
    let (n, from) = match threads {
        Some(n) => (n, format!("--threads {n}")),
        None => match runner::env_threads() {
            Some(n) => (n, format!("RAYON_NUM_THREADS={n}")),
            None => return Ok(()),
        },
    };
    if n <= max {
        return Ok(());
    }
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    Err(Error::usage(format!(
        "{from}: more worker threads than sweep starts (at most {max}: 4 x this machine's {cores} cores, \
         and at least 16); training is CPU-bound, so threads beyond the cores only share them. Give at \
         most {max}, or leave it out for one thread per core (a run never starts more threads than it has \
         jobs)"
    )))
}

/// Several manifests in one run must write into different results
/// folders: the second would otherwise replace (with `--force`) or be
/// refused by the results the first just trained. Folders are compared as
/// [`resolved`] paths (links of their existing part resolved), before
/// anything is trained; a clash is a usage error (exit 2).
fn check_distinct_outs(plans: &[Plan]) -> Result<(), Error> {
    let mut seen: Vec<(PathBuf, &Plan)> = Vec::with_capacity(plans.len());
    for plan in plans {
        let out = PathBuf::from("results").join(&plan.manifest.name);
        let real = resolved(&out).with_context(|| format!("cannot resolve {}", out.display()))?;
        if let Some((_, first)) = seen.iter().find(|(r, _)| *r == real) {
            let names = if first.manifest.name == plan.manifest.name {
                format!("both have `name = \"{}\"`", plan.manifest.name)
            } else {
                format!("`name = \"{}\"` and `name = \"{}\"`", first.manifest.name, plan.manifest.name)
            };
            return Err(Error::usage(format!(
                "{} and {} would both write into {} ({names}): the second would replace or be refused by \
                 the results the first trains; nothing was trained. Give one of them another \
                 `name = \"...\"`, or run them one at a time, each with its own `--out DIR`",
                first.manifest.path.display(),
                plan.manifest.path.display(),
                out.display()
            )));
        }
        seen.push((real, plan));
    }
    Ok(())
}

/// `sweep run`. Ctrl-C (or SIGTERM) stops it cleanly: see [`interrupt`];
/// the exit code is then 130.
pub fn run(args: &RunArgs) -> Result<ExitCode, Error> {
    let interrupt = Interrupt::install();
    if args.out.is_some() && args.manifests.len() > 1 {
        return Err(Error::usage("--out names one results folder: give a single manifest with it"));
    }
    let shard = resolve_shard(args)?;
    check_threads(args.threads)?;
    // Plan everything first: a bad second manifest fails before any training.
    let plans =
        args.manifests.iter().map(|m| load_plan(m, &args.sets.sets)).collect::<Result<Vec<_>, _>>()?;
    for plan in &plans {
        check_plan_size(plan, shard, args.yes, args.threads)?;
        check_out(&args.out.clone().unwrap_or_else(|| PathBuf::from("results").join(&plan.manifest.name)))?;
    }
    check_distinct_outs(&plans)?;
    let mut any_failed = false;
    for (n, plan) in plans.iter().enumerate() {
        let out = args.out.clone().unwrap_or_else(|| PathBuf::from("results").join(&plan.manifest.name));
        let progress = Progress::new(args.quiet, &interrupt);
        let opts =
            RunOptions { threads: args.threads, force: args.force, shard, cancel: Some(interrupt.flag()) };
        let run = runner::run_plan(plan, &out, &opts, &|e| progress.event(e));
        progress.finish();
        let report = run.with_context(|| format!("running {}", plan.manifest.path.display()))?;
        let secs = report.wall.as_secs_f64();
        let rate = report.job_epochs as f64 / secs.max(1e-9);
        let outside = if report.outside > 0 {
            format!(
                "; {} outside this plan kept (`sweep prune {}` lists them)",
                crate::count(report.outside, "job"),
                crate::slurm::shell_quote(&out.display().to_string())
            )
        } else {
            String::new()
        };
        // The line says so when the run stopped early (stdout alone, in a
        // log, read like a finished run).
        let stopped = if interrupt.interrupted() {
            let total = plan.shard(shard).count();
            format!(
                " (interrupted: {} of {total} jobs not run)",
                total.saturating_sub(report.ran + report.skipped)
            )
        } else {
            String::new()
        };
        emit(&format!(
            "{}: {} run, {} skipped, {} diverged, {} failed{stopped} in {secs:.2} s ({} job-epochs/s, {}) -> {}{outside}\n",
            plan.manifest.name,
            crate::count(report.ran, "job"),
            report.skipped,
            report.diverged,
            report.failed.len(),
            human(rate),
            crate::count(report.threads, "thread"),
            out.join(store::SUMMARY).display()
        ))?;
        any_failed |= !report.failed.is_empty();
        if !report.repaired.is_empty() {
            let (job, what) = &report.repaired[0];
            let more = report.repaired.len() - 1;
            eprintln!(
                "note: retrained {} finished job(s) whose files no longer matched their recorded hashes \
                 ({job}: {what}{})",
                report.repaired.len(),
                if more > 0 { format!("; and {more} more") } else { String::new() }
            );
        }
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
        if interrupt.interrupted() {
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

pub fn plan(args: &PlanArgs) -> Result<ExitCode, Error> {
    let plan = load_plan(&args.manifest, &args.sets.sets)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match args.format {
        PlanFormat::Json => write_plan_json(&plan, &mut out),
        PlanFormat::Csv => write_plan_csv(&plan, &mut out),
        PlanFormat::Table => write_plan_table(&plan, &mut out),
    }
    .and_then(|()| out.flush())
    .context("cannot write to standard output")?;
    Ok(ExitCode::SUCCESS)
}

/// The displayed value of each swept key (`keys`) for a job's
/// configuration: one list per configuration, reused by its every seed.
struct Cells<'p> {
    plan: &'p Plan,
    keys: Vec<String>,
    of: Option<(&'p Swept, Vec<String>)>,
}

/// A job's swept values.
type Swept = [(String, toml::Value)];

impl<'p> Cells<'p> {
    fn new(plan: &'p Plan) -> Self {
        Cells { plan, keys: plan.swept_keys(), of: None }
    }

    fn of(&mut self, job: &crate::plan::Job) -> &[String] {
        let swept: &'p Swept = self.plan.swept(job);
        if !self.of.as_ref().is_some_and(|(s, _)| std::ptr::eq(*s, swept)) {
            let cells = self
                .keys
                .iter()
                .map(|k| swept.iter().find(|(s, _)| s == k).map_or(String::new(), |(_, v)| display_value(v)))
                .collect();
            self.of = Some((swept, cells));
        }
        &self.of.as_ref().expect("set above").1
    }
}

/// `sweep plan --format csv`, a row per job as it goes.
fn write_plan_csv(plan: &Plan, out: &mut impl Write) -> std::io::Result<()> {
    let io = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    };
    let mut cells = Cells::new(plan);
    let mut w = csv::Writer::from_writer(out);
    let header = ["index", "job_id", "seed"].into_iter().chain(cells.keys.iter().map(String::as_str));
    w.write_record(header).map_err(io)?;
    let (mut index, mut seed) = (String::new(), String::new());
    for j in &plan.jobs {
        index.clear();
        seed.clear();
        let _ = write!(index, "{}", j.index);
        let _ = write!(seed, "{}", j.seed);
        let id = plan.id(j);
        let fixed = [index.as_str(), id.as_str(), seed.as_str()];
        w.write_record(fixed.into_iter().chain(cells.of(j).iter().map(String::as_str))).map_err(io)?;
    }
    w.flush()
}

/// `sweep plan` (the table): left-aligned columns separated by two spaces,
/// a row per job as it goes (widths from a first pass); then the totals.
fn write_plan_table(plan: &Plan, out: &mut impl Write) -> std::io::Result<()> {
    let mut cells = Cells::new(plan);
    let header: Vec<String> =
        ["#", "job_id", "seed"].into_iter().map(str::to_string).chain(cells.keys.iter().cloned()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for j in &plan.jobs {
        let digits = |n: u64| n.checked_ilog10().map_or(1, |d| d as usize + 1);
        widths[0] = widths[0].max(digits(j.index as u64));
        widths[1] = widths[1].max(plan.id(j).chars().count());
        widths[2] = widths[2].max(digits(j.seed));
        for (w, c) in widths[3..].iter_mut().zip(cells.of(j)) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut line = String::new();
    let mut row = |out: &mut dyn Write, row: &mut dyn Iterator<Item = &dyn std::fmt::Display>| {
        line.clear();
        for (c, (s, w)) in row.zip(&widths).enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let _ = write!(line, "{s:<w$}");
        }
        out.write_all(line.trim_end().as_bytes())?;
        out.write_all(b"\n")
    };
    row(out, &mut header.iter().map(|h| h as &dyn std::fmt::Display))?;
    for j in &plan.jobs {
        let id = plan.id(j);
        let fixed: [&dyn std::fmt::Display; 3] = [&j.index, &id, &j.seed];
        row(out, &mut fixed.into_iter().chain(cells.of(j).iter().map(|c| c as &dyn std::fmt::Display)))?;
    }
    // Checked by `load_plan`: every plan shown counts its job-epochs.
    let epochs = plan.total_epochs().unwrap_or(u64::MAX);
    let size = plan.size();
    writeln!(
        out,
        "{} jobs, {} job-epochs, ~{} on disk ({}), up to ~{} of memory per job ({})",
        plan.jobs.len(),
        epochs,
        human_bytes_f(size.disk()),
        disk_parts(&size),
        human_bytes_f(size.memory),
        plan.manifest.name
    )
}

/// `sweep plan --format json`: `{"count", "jobs": [{"index", "job_id",
/// "params", "seed"}], "name"}`, pretty-printed, a job at a time.
fn write_plan_json(plan: &Plan, out: &mut impl Write) -> std::io::Result<()> {
    use serde::ser::{SerializeMap, SerializeSeq};

    struct Doc<'p>(&'p Plan);
    struct Jobs<'p>(&'p Plan);
    struct OneJob<'a>(&'a crate::plan::Job, &'a str, &'a serde_json::Value);

    impl serde::Serialize for Doc<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            // In key order, as a serde_json map prints.
            let mut m = s.serialize_map(Some(3))?;
            m.serialize_entry("count", &self.0.jobs.len())?;
            m.serialize_entry("jobs", &Jobs(self.0))?;
            m.serialize_entry("name", &self.0.manifest.name)?;
            m.end()
        }
    }
    impl serde::Serialize for Jobs<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(self.0.jobs.len()))?;
            let mut params: Option<(&Swept, serde_json::Value)> = None;
            for j in &self.0.jobs {
                let swept: &Swept = self.0.swept(j);
                if !params.as_ref().is_some_and(|(s, _)| std::ptr::eq(*s, swept)) {
                    let map: serde_json::Map<String, serde_json::Value> = swept
                        .iter()
                        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(serde_json::Value::Null)))
                        .collect();
                    params = Some((swept, serde_json::Value::Object(map)));
                }
                seq.serialize_element(&OneJob(j, &self.0.id(j), &params.as_ref().expect("set above").1))?;
            }
            seq.end()
        }
    }
    impl serde::Serialize for OneJob<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(4))?;
            m.serialize_entry("index", &self.0.index)?;
            m.serialize_entry("job_id", self.1)?;
            m.serialize_entry("params", self.2)?;
            m.serialize_entry("seed", &self.0.seed)?;
            m.end()
        }
    }

    serde_json::to_writer_pretty(&mut *out, &Doc(plan)).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// A results folder to read (SPEC 6, Ownership): anything else is refused.
fn results_dir(dir: &Path) -> Result<ResultsDir, Error> {
    let rd = ResultsDir::new(dir);
    rd.open()?;
    Ok(rd)
}

/// A results folder to write into: an older sweep's folder gets the marker;
/// anything that is not a results folder is refused before any change.
fn results_dir_to_write(dir: &Path) -> Result<ResultsDir, Error> {
    let rd = results_dir(dir)?;
    rd.create()?;
    Ok(rd)
}

/// How messages name a stored job: `jobs/<id>`, or `<pack>.data[<id>]`
/// relative to the results folder.
fn shown_job(rd: &ResultsDir, at: &store::JobRef, id: &str) -> String {
    match at {
        store::JobRef::Folder(_) => format!("{}/{id}", store::JOBS),
        store::JobRef::Packed(_) => at.name_in(&rd.root),
    }
}

/// `sweep summarize DIR`: rewrites summary.csv from the whole job folders.
/// A job whose files do not match their hashes is left out and named, with
/// its damage and how to repair it; the command then exits 1.
pub fn summarize(dir: &Path) -> Result<ExitCode, Error> {
    let rd = results_dir_to_write(dir)?;
    // (where, its damage) for each job left out.
    let mut damaged: Vec<(String, Vec<store::Damage>)> = Vec::new();
    let n = match store::stored_plan(dir)? {
        Some(plan) => {
            let n = runner::summarize_plan(&plan, &rd)?;
            let index = store::JobIndex::open(&rd.root, Some(&plan))?;
            let outside = index.folders_outside() + index.others().count();
            if let Some(note) = store::outside_note(dir, outside)? {
                eprintln!("note: {note}");
            }
            for job in &plan.jobs {
                if let Some((at, Err((damage, _)))) = store::plan_job(&plan, &index, job)? {
                    damaged.push((shown_job(&rd, &at, &plan.id(job)), damage));
                }
            }
            n
        }
        None => {
            // No readable manifest.toml: every whole job, sorted by id.
            let mut rows = Vec::new();
            let index = store::JobIndex::open(&rd.root, None)?;
            for (id, at, checked) in store::all_jobs(&rd, &index)? {
                match checked {
                    Ok(job) => rows.push(store::SummaryRow::from_job(&job)),
                    Err((damage, _)) => damaged.push((shown_job(&rd, &at, &id), damage)),
                }
            }
            rd.write_atomic(store::SUMMARY, &store::summary_csv(&rows))?;
            rows.len()
        }
    };
    emit(&format!("{}: {n} jobs\n", rd.path(store::SUMMARY).display()))?;
    if damaged.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut text =
        format!("left out {}, whose files do not match their hashes:\n", crate::count(damaged.len(), "job"));
    for (shown, damage) in &damaged {
        let what: Vec<String> = damage.iter().map(ToString::to_string).collect();
        text.push_str(&format!("  {shown}: {}\n", what.join(", ")));
    }
    let shown = crate::slurm::shell_quote(&dir.display().to_string());
    text.push_str(&format!(
        "to repair: `sweep verify {shown}` checks every job; running the manifest again retrains the \
         damaged ones, then summary.csv is whole\n"
    ));
    emit(&text)?;
    Ok(ExitCode::from(1))
}

pub fn verify(dir: &Path, sample: Option<usize>, threads: Option<usize>) -> Result<ExitCode, Error> {
    check_threads(threads)?;
    let rd = results_dir_to_write(dir)?;
    // The study's jobs (SPEC 6): every job of the plan that is stored (a
    // folder or packed), whole or not, by plan index (no string per job);
    // without a readable manifest.toml, every stored job.
    let plan = store::stored_plan(dir)?;
    let index = store::JobIndex::open(&rd.root, plan.as_ref())?;
    // Finished jobs outside the plan are not the study's; an older folder's
    // manifest.toml has no recorded hash, so there they may be jobs an edit
    // of it dropped: verify cannot vouch for the folder and fails.
    let outside = index.folders_outside() + index.others().count();
    let unvouched = outside > 0 && store::recorded_manifest_hash(dir)?.is_none();
    if let Some(note) = store::outside_note(dir, outside)? {
        eprintln!("{}: {note}", if unvouched { "error" } else { "note" });
    }
    let (in_plan, others): (Vec<usize>, Vec<(String, store::JobRef)>) = match &plan {
        Some(plan) => (
            plan.jobs.iter().filter(|j| !index.places(plan, j).is_empty()).map(|j| j.index).collect(),
            Vec::new(),
        ),
        None => (Vec::new(), store::all_jobs(&rd, &index)?.into_iter().map(|(id, at, _)| (id, at)).collect()),
    };
    let count = in_plan.len() + others.len();
    // Job k: its id, where it is stored and its check; None when only a
    // job of another configuration is stored under its id.
    let job_of = |k: usize| -> Result<Option<(String, store::JobRef, store::Checked)>, store::StoreError> {
        match &plan {
            Some(plan) => {
                let job = &plan.jobs[in_plan[k]];
                Ok(store::plan_job(plan, &index, job)?.map(|(at, checked)| (plan.id(job), at, checked)))
            }
            None => {
                let (id, at) = &others[k];
                Ok(Some((id.clone(), at.clone(), at.checked()?)))
            }
        }
    };
    if count == 0 {
        return Err(Error::usage(format!("{}: no finished jobs to verify", dir.display())));
    }
    // --sample limits the retraining to N jobs evenly spread over the
    // folder; every other job's files are still checked against their hashes.
    let sampled: Vec<usize> = match sample {
        Some(n) if n < count => (0..n).map(|i| i * count / n).collect(),
        _ => (0..count).collect(),
    };
    let retrain = sampled.len();
    let mut mismatches =
        runner::verify(&rd, retrain, &|i| Ok(job_of(sampled[i])?.map(|(id, at, _)| (id, at))), threads)?;
    let not_checked = mismatches.iter().filter(|m| m.not_checked).count();
    let retrained = mismatches.len() - not_checked;
    let mut checked = 0;
    for k in (0..count).filter(|k| sampled.binary_search(k).is_err()) {
        let Some((id, at, check)) = job_of(k)? else { continue };
        checked += 1;
        if let Err((damage, _)) = check {
            let problems = damage.iter().map(ToString::to_string).collect();
            mismatches.push(runner::Mismatch {
                job_id: id,
                at,
                problems,
                changed_inputs: Vec::new(),
                not_checked: false,
            });
        }
    }
    // Jobs whose retrained files differ because an input file changed are
    // one cause, said once (a linter's summary), not four lines a job.
    // So are the jobs one unreadable input file leaves not checked.
    let mut by_cause: Vec<(&[String], Vec<&runner::Mismatch>)> = Vec::new();
    let mut unreadable: Vec<(&[String], Vec<&runner::Mismatch>)> = Vec::new();
    for m in &mismatches {
        let (groups, key) = match (m.not_checked, m.changed_inputs.is_empty()) {
            (true, _) => (&mut unreadable, m.problems.as_slice()),
            (false, false) => (&mut by_cause, m.changed_inputs.as_slice()),
            (false, true) => {
                for problem in &m.problems {
                    emit(&format!("{problem} in {}\n", shown_job(&rd, &m.at, &m.job_id)))?;
                }
                continue;
            }
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, jobs)) => jobs.push(m),
            None => groups.push((key, vec![m])),
        }
    }
    for (cause, jobs) in &by_cause {
        emit(&cause_line(&rd, cause, jobs))?;
    }
    for (problems, jobs) in &unreadable {
        for problem in *problems {
            emit(&format!("{problem}: {}, e.g. {}\n", crate::count(jobs.len(), "job"), examples(&rd, jobs)))?;
        }
    }
    let unchecked = if not_checked > 0 {
        format!(", {not_checked} not checked (an input file cannot be read: see above)")
    } else {
        String::new()
    };
    emit(&format!(
        "verified {}: {} identical, {} differ{unchecked}\n",
        crate::count(retrain, "job"),
        retrain - retrained - not_checked,
        retrained
    ))?;
    if checked > 0 {
        emit(&format!(
            "checked the files of {} more against their hashes (not retrained): {} intact, {} damaged\n",
            crate::count(checked, "job"),
            checked - (mismatches.len() - retrained - not_checked),
            mismatches.len() - retrained - not_checked
        ))?;
    }
    Ok(if mismatches.is_empty() && !unvouched { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The shown jobs of a group that share a cause.
const CAUSE_EXAMPLES: usize = 3;

/// One line for every job whose retrained files differ because the input
/// files `cause` changed since it ran: the files, how many jobs, and the
/// first few of them.
fn cause_line(rd: &ResultsDir, cause: &[String], jobs: &[&runner::Mismatch]) -> String {
    // Jobs whose retrained files differ (and which files), and jobs that
    // could not be retrained at all (the first one's error says why).
    let mut files: Vec<&str> = Vec::new();
    let (mut failed, mut first_error) = (0, None);
    for m in jobs {
        for p in &m.problems {
            if let Some(error) = p.strip_prefix("FAILED retraining: ") {
                failed += 1;
                first_error.get_or_insert(error);
                continue;
            }
            let name = p.strip_prefix("DIFFERS ").and_then(|p| p.split(' ').next()).unwrap_or(p);
            if !files.contains(&name) {
                files.push(name);
            }
        }
    }
    let differ = jobs.len() - failed;
    let mut what = Vec::new();
    if differ > 0 {
        what.push(format!(
            "{} when retrained ({})",
            count_verb(differ, "differs", "differ"),
            files.join(", ")
        ));
    }
    if let Some(error) = first_error {
        what.push(format!("{} cannot be retrained ({error})", crate::count(failed, "job")));
    }
    format!(
        "CAUSE {} changed since the jobs ran: {}, e.g. {}\n",
        cause.join(", "),
        what.join("; "),
        examples(rd, jobs)
    )
}

/// The first [`CAUSE_EXAMPLES`] of `jobs` by place, and how many more:
/// `jobs/a, jobs/b, jobs/c and 9997 more`.
fn examples(rd: &ResultsDir, jobs: &[&runner::Mismatch]) -> String {
    let shown: Vec<String> =
        jobs.iter().take(CAUSE_EXAMPLES).map(|m| shown_job(rd, &m.at, &m.job_id)).collect();
    match jobs.len().saturating_sub(CAUSE_EXAMPLES) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// "1 job differs", "3 jobs differ".
fn count_verb(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", crate::count(n, "job"), if n == 1 { one } else { many })
}

/// `sweep prune DIR [--delete]`: the job folders outside the folder's plan,
/// listed, or removed with `--delete`. Only whole job folders sweep wrote
/// (params.toml and every file matching its hashes, not a link) are removed,
/// and only their files: one holding anything else refuses the prune before
/// any folder goes. Each goes through the temporary place, so a kill never
/// leaves half a job in jobs/.
pub fn prune(dir: &Path, delete: bool) -> Result<ExitCode, Error> {
    let rd = if delete { results_dir_to_write(dir)? } else { results_dir(dir)? };
    let plan = store::stored_plan(dir)?.ok_or_else(|| {
        Error::usage(format!(
            "{}: no {}: cannot tell which jobs are in the plan",
            dir.display(),
            store::MANIFEST
        ))
    })?;
    if delete && store::recorded_manifest_hash(dir)?.is_none() {
        // An older sweep's folder: an edited manifest.toml cannot be told
        // from the one run, and its jobs would be offered for deletion.
        let shown = crate::slurm::shell_quote(&dir.display().to_string());
        return Err(Error::usage(format!(
            "{shown}: no record of the manifest.toml it was run with ({} is written by `sweep run` since \
             this check exists), so an edited manifest.toml cannot be told from the study run and the jobs \
             it leaves out are not removed; nothing was removed. If {shown}/{} is the study, run it once \
             (`sweep run {shown}/{} --out {shown}`: finished jobs are skipped, the record is written), \
             then prune",
            store::MANIFEST_HASH,
            store::MANIFEST,
            store::MANIFEST
        )));
    }
    let outside = runner::jobs_outside(&plan, &rd)?;
    let index = store::JobIndex::open(&rd.root, Some(&plan))?;
    let packed = runner::packed_outside(&index, &rd.root);
    if !packed.is_empty() {
        // A pack holds the jobs of a chunk in one file: one job cannot be
        // taken out of it.
        let shown = crate::slurm::shell_quote(&dir.display().to_string());
        let more = if packed.len() > 3 { format!(" and {} more", packed.len() - 3) } else { String::new() };
        let first: Vec<&str> = packed.iter().take(3).map(|(id, _)| id.as_str()).collect();
        if delete {
            return Err(Error::usage(format!(
                "{shown}: {} outside the plan are packed ({}{more}, in {}/), and a packed job cannot be \
                 removed from its pack; nothing was removed. To keep only the plan's jobs, run the manifest \
                 into a new folder (`--out`), or export what you need (`sweep export`); readers already \
                 leave jobs outside the plan out",
                crate::count(packed.len(), "job"),
                first.join(", "),
                store::PACKS
            )));
        }
        for (_, at) in &packed {
            emit(&format!("outside the plan (packed, kept): {at}\n"))?;
        }
    }
    let ours = |job: &Path, id: &str| {
        std::fs::symlink_metadata(job).is_ok_and(|m| m.is_dir())
            && matches!(store::read_job_checked(job), Ok(Ok(f)) if f.job_id == id)
    };
    if delete {
        // Every folder to remove is checked before any is: one holding
        // anything sweep did not write refuses the whole prune.
        let mut foreign = Vec::new();
        for id in &outside {
            let job = rd.job_dir(id);
            if ours(&job, id) {
                let entries = store::foreign_entries(&job)?;
                if !entries.is_empty() {
                    foreign.push((format!("{}/{id}", store::JOBS), entries));
                }
            }
        }
        if !foreign.is_empty() {
            let again = "prune again";
            return Err(
                store::foreign_refusal(dir, &foreign, "`sweep prune --delete` would remove", again).into()
            );
        }
    }
    let mut removed = 0;
    for id in &outside {
        let job = rd.job_dir(id);
        if !ours(&job, id) {
            emit(&format!("kept {}/{id}: not a whole job folder written by sweep\n", store::JOBS))?;
            continue;
        }
        if !delete {
            emit(&format!("outside the plan: {}/{id}\n", store::JOBS))?;
            continue;
        }
        let doomed = rd.path(store::TMP).join(format!("{id}.{}.pruned", std::process::id()));
        std::fs::rename(&job, &doomed).with_context(|| format!("cannot remove {}", job.display()))?;
        store::remove_job_dir(&doomed)?;
        removed += 1;
    }
    let shown = crate::slurm::shell_quote(&dir.display().to_string());
    let folders = |n: usize| if n == 1 { "1 job folder".to_string() } else { format!("{n} job folders") };
    // Packed jobs are only listed (see above): the closing line counts them apart.
    let packed_kept = if packed.is_empty() {
        String::new()
    } else {
        format!(
            "; {} packed outside the plan kept (a pack cannot lose one job)",
            crate::count(packed.len(), "job")
        )
    };
    emit(&if delete {
        format!("removed {} outside the plan of {shown}\n", folders(removed))
    } else if outside.is_empty() {
        format!("{} outside the plan of {shown}{packed_kept}\n", folders(0))
    } else {
        format!(
            "{} outside the plan of {shown}; `sweep prune {shown} --delete` removes them{packed_kept}\n",
            folders(outside.len())
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn export(args: &ExportArgs) -> Result<ExitCode, Error> {
    results_dir(&args.dir)?;
    if let Some(out) = &args.out {
        check_out_file(out, &args.dir, None, args.force)?;
    }
    let format = match args.format {
        ExportFormat::Csv => crate::export::ExportFormat::Csv,
        ExportFormat::Json => crate::export::ExportFormat::Json,
    };
    match &args.out {
        Some(path) => {
            let n = export_whole(&args.dir, format, path)?;
            eprintln!("{}: {}", path.display(), crate::count(n, "row"));
        }
        None => {
            // What reaches standard output cannot be taken back: the
            // folder is checked whole first (a second read of every job,
            // from the page cache), so a damaged one is refused before the
            // first row, as with --out.
            store::check_rows(&args.dir)?;
            crate::export::export(&args.dir, format, &mut std::io::stdout().lock())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `export --out FILE`, whole or not at all: streamed into a temporary file
/// beside FILE, synced, then renamed over it. Errors name FILE.
fn export_whole(dir: &Path, format: crate::export::ExportFormat, path: &Path) -> Result<usize, Error> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    let tmp = parent.join(format!(".{name}.sweep-{}.tmp", std::process::id()));
    let cannot = |e: std::io::Error| Error::runtime(format!("cannot write {}: {e}", path.display()));
    let result = (|| -> Result<usize, Error> {
        let file = std::fs::File::create(&tmp).map_err(cannot)?;
        let mut w = WriteErrors { inner: std::io::BufWriter::new(file), error: None };
        let n = match crate::export::export(dir, format, &mut w) {
            Ok(n) => n,
            Err(e) => match w.error.take() {
                Some(io) => return Err(cannot(io)),
                None => return Err(e.into()),
            },
        };
        let file = w.inner.into_inner().map_err(|e| cannot(e.into_error()))?;
        file.sync_all().map_err(cannot)?;
        std::fs::rename(&tmp, path).map_err(cannot)?;
        Ok(n)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A writer that remembers its first error, so a failed export names the
/// file being written rather than the folder being read.
struct WriteErrors<W> {
    inner: W,
    error: Option<std::io::Error>,
}

impl<W: Write> Write for WriteErrors<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| {
            self.error.get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| {
            self.error.get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
        })
    }
}

pub fn report(args: &ReportArgs) -> Result<ExitCode, Error> {
    results_dir(&args.dir)?;
    if let Some(out) = &args.out {
        // DIR/report.md, given explicitly, is the default: sweep's own.
        check_out_file(out, &args.dir, Some(store::REPORT), args.force)?;
    }
    results_dir_to_write(&args.dir)?;
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
        args.dir.join(crate::store::FIGURES).display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn diff(args: &DiffArgs) -> Result<ExitCode, Error> {
    use crate::cli::DiffCorrection;
    use std::io::IsTerminal;

    results_dir(&args.a)?;
    results_dir(&args.b)?;
    let metric = args.metric.parse::<crate::diff::Metric>()?;
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(Error::usage(format!("--alpha must be in (0, 1), got {}", args.alpha)));
    }
    let format = match args.format {
        Some(DiffFormat::Text) => crate::diff::Format::Text,
        Some(DiffFormat::Md) => crate::diff::Format::Md,
        Some(DiffFormat::Csv) => crate::diff::Format::Csv,
        None if std::io::stdout().is_terminal() => crate::diff::Format::Text,
        None => crate::diff::Format::Md,
    };
    let correction = match args.correction {
        DiffCorrection::Holm => crate::diff::Correction::Holm,
        DiffCorrection::None => crate::diff::Correction::None,
    };
    let opts = crate::diff::DiffOptions { metric, alpha: args.alpha, format, correction };
    let outcome = crate::diff::diff(&args.a, &args.b, &opts).map_err(|e| match e {
        // A metric these folders do not hold is a question they cannot answer.
        e @ crate::diff::DiffError::NoTestSplit { .. } => Error::from(e).context("--metric"),
        e => Error::from(e).context(format!("cannot compare {} and {}", args.a.display(), args.b.display())),
    })?;
    emit(&outcome.text)?;
    if !args.fail_on_change {
        return Ok(ExitCode::SUCCESS);
    }
    // A CI guard must not pass on a broken run: one-sided configurations
    // and an empty match fail it too.
    let mut reasons = Vec::new();
    if outcome.configs == 0 {
        reasons.push("nothing matched: no configuration is in both folders".to_string());
    }
    if outcome.changed > 0 {
        reasons.push(format!(
            "{} configuration(s) changed ({} better, {} worse)",
            outcome.changed, outcome.improved, outcome.worsened
        ));
    }
    if outcome.only_a + outcome.only_b > 0 && !args.allow_missing {
        reasons.push(format!(
            "configurations in one folder only: {} only in A, {} only in B (--allow-missing accepts them)",
            outcome.only_a, outcome.only_b
        ));
    }
    if reasons.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("--fail-on-change: {}", reasons.join("; "));
    Ok(ExitCode::from(1))
}

/// `sweep slurm`: validates the plan as `sweep run` would, then submits it as
/// a Slurm job array plus a finishing job (or, with `--print`, shows them).
pub fn slurm(args: &SlurmArgs) -> Result<ExitCode, Error> {
    let plan = load_plan(&args.manifest, &args.sets.sets)?;
    check_plan_size(&plan, None, args.yes, Some(args.cpus_per_task))?;
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
    check_out(&out)?;
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
    })?;
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

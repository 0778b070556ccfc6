//! The command line (clap derive). Parsing only: `main.rs` dispatches.

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::spec::did_you_mean;

/// Train many small neural networks from a TOML manifest and compare them.
///
/// A manifest declares a grid of parameters; `sweep` expands it into jobs,
/// trains them in parallel with seeded RNGs, and writes one folder per job
/// under results/<name>/jobs/ (params.toml, curve.csv, predictions.csv,
/// model.json; with `layout = "packed"`, the same files appended to a few
/// packs in packs/) plus summary.csv. Re-running skips finished jobs.
///
/// Without a command, `sweep MANIFEST... [OPTIONS]` is `sweep run`: the
/// options listed below are run's.
#[derive(Debug, Parser)]
#[command(name = "sweep", version, max_term_width = 100)]
// `run` is the default: arguments before any subcommand name are run's, and a
// subcommand name first picks that subcommand (a manifest named like one is
// `sweep run plan`).
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    arg_required_else_help = true
)]
#[command(subcommand_value_name = "COMMAND", subcommand_help_heading = "Commands")]
#[command(after_help = "Examples:
  sweep experiments/lr.toml                   train a sweep (same as `sweep run ...`)
  sweep experiments/lr.toml --threads 2 -q    options of run work without `run`
  sweep plan experiments/lr.toml              list its jobs without training
  sweep run experiments/lr.toml --set epochs=500 --set 'grid.lr=[0.1, 0.01]'
  sweep report results/lr                     report.md, report.html, figures/*.svg in results/lr
  sweep diff results/a results/b              what changed beyond seed noise

Exit codes: 0 success (also when a reader such as `head` closes the output early),
1 a run-time failure, 2 bad usage, a bad manifest or a refusal (a huge plan without
--yes), 130 interrupted (Ctrl-C or SIGTERM; finished jobs are kept, a rerun resumes).")]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `sweep MANIFEST...`: run's arguments, when no command is named.
    #[command(flatten)]
    run: RunArgs,
}

impl Cli {
    /// The command to execute: the one named, else `run`. A first argument
    /// that is no file but close to a command's name (`sweep plann m.toml`)
    /// is a mistyped command, reported as clap reports bad usage.
    pub fn into_command(self) -> Result<Command, clap::Error> {
        if let Some(command) = self.command {
            return Ok(command);
        }
        if let Some(first) = self.run.manifests.first().filter(|m| !m.exists()) {
            let cli = Cli::command();
            let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
            let first = first.to_string_lossy();
            let message = match did_you_mean(&first, &names) {
                // `sweep --quiet plan m.toml`: options first make every word a manifest.
                Some(name) if name == first => format!(
                    "`{first}` after an option is read as a manifest, and there is no such file; \
                     a command goes first: `sweep {first} ...`"
                ),
                Some(name) => format!(
                    "`{first}` is neither a manifest file nor a command (did you mean `sweep {name}`?); \
                     commands: {}",
                    names.join(", ")
                ),
                None => return Ok(Command::Run(self.run)),
            };
            return Err(cli.clone().error(ErrorKind::InvalidSubcommand, message));
        }
        Ok(Command::Run(self.run))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train every job of one or more manifests (the default command).
    ///
    /// Jobs run in parallel, each into results/<name>/jobs/<job_id>/ (or its
    /// pack in packs/, `layout = "packed"`) as soon as it finishes; a rerun
    /// skips finished jobs whose configuration (parameters, seed, the
    /// contents of data and weights files) did not change and whose files
    /// still match their hashes, so an interrupted run resumes where it
    /// stopped.
    #[command(after_help = "Examples:
  sweep run experiments/lr.toml                      train into results/lr
  sweep experiments/lr.toml                          the same: run is the default command
  sweep run a.toml b.toml --threads 4 --quiet        several manifests, one after the other
  sweep run m.toml --set epochs=500 --out /tmp/try   a variant, in a folder of its own
  sweep run m.toml --shard 0/4                       the jobs whose plan index is 0 mod 4")]
    Run(RunArgs),
    /// Show the jobs a manifest expands to, without training.
    ///
    /// One row per job in plan order (the order --shard splits), with its id,
    /// seed and swept values; the table ends with the number of jobs and
    /// job-epochs, the size the files will take on disk (curves,
    /// predictions, models) and the memory one job needs.
    #[command(after_help = "Examples:
  sweep plan experiments/lr.toml                     the jobs as a table
  sweep plan experiments/lr.toml --set seeds=3 --format csv
  sweep plan experiments/lr.toml | head              a closed pipe is a quiet exit")]
    Plan(PlanArgs),
    /// Write report.md, report.html and SVG figures for a results folder.
    ///
    /// report.md holds the tables and links the figures (figures/*.svg);
    /// report.html is one self-contained page that works offline: every
    /// job's learning curve (hover, zoom, filter), a table of every job,
    /// then the whole Markdown report with its figures.
    #[command(after_help = "Examples:
  sweep report results/lr                  -> results/lr/report.md, report.html and figures/*.svg
  sweep report results/lr --out lr.md      the Markdown elsewhere (the rest stays in results/lr)")]
    Report(ReportArgs),
    /// Compare two results folders, configuration by configuration, across seeds.
    ///
    /// Configurations are matched on every parameter but the seed; the metric
    /// (--metric) is compared across seeds (a paired t-test over the seeds
    /// both ran when their data and initial weights are the same draw,
    /// Welch's otherwise; the share of diverged seeds by Fisher's exact
    /// test), and a change counts when it is beyond seed noise at --alpha
    /// after the --correction for testing every configuration.
    #[command(after_help = "Examples:
  sweep diff results/lr-old results/lr                 Markdown: what changed beyond seed noise
  sweep diff results/a results/b --metric final_accuracy --format csv
  sweep diff results/main results/pr --fail-on-change  exit 1 when any configuration changed (CI)")]
    Diff(DiffArgs),
    /// Rebuild summary.csv from the jobs' own files (job folders and packs).
    ///
    /// Writes a row for each whole job. A job whose files no longer match
    /// their hashes is left out and listed (MISSING / CHANGED, naming the
    /// file), with how to repair it, and the exit code is then 1.
    #[command(after_help = "Example:
  sweep summarize results/lr     after a run could not write summary.csv (a full disk, say)")]
    Summarize {
        /// A results folder, e.g. results/lr.
        dir: PathBuf,
    },
    /// Check files against their hashes, then retrain jobs and compare byte for byte.
    ///
    /// Every job's files are checked against the SHA-256 its params.toml
    /// records (MISSING / CHANGED, naming the file), and each finished job
    /// (or a --sample of them) is retrained and its files compared byte for
    /// byte. Jobs that differ because a data or weights file changed since
    /// they ran are one CAUSE line (the file, how many jobs, a few of them).
    /// A packed job whose index row was edited names the index file and
    /// line. A job whose data or weights file cannot be read where it ran (a
    /// folder copied elsewhere) is not retrained and is counted as not
    /// checked, with the reason. Exit code 1 when a file is missing, changed
    /// or differs, or a job is not checked.
    #[command(after_help = "Examples:
  sweep verify results/lr                  retrain every job; exit 1 if any file differs
  sweep verify results/lr --sample 10      10 jobs evenly spread over the folder")]
    Verify {
        /// A results folder, e.g. results/lr.
        dir: PathBuf,
        /// Retrain only N jobs (N >= 1), evenly spread over the folder (default: all); every
        /// job's files are still checked against their hashes.
        #[arg(long, value_name = "N", value_parser = at_least_one)]
        sample: Option<usize>,
        /// Worker threads [default: all cores, or RAYON_NUM_THREADS]: at most 4 x the cores
        /// (and at least 16 are allowed), and never more than the jobs to retrain.
        #[arg(long, value_name = "N", value_parser = at_least_one)]
        threads: Option<usize>,
    },
    /// Every curve in one long (tidy) table with its parameters, for pandas/seaborn.
    ///
    /// One row per job and logged epoch: the job's id, seed and every
    /// parameter, its status, then epoch, train_loss, train_accuracy,
    /// test_loss and test_accuracy. With `layout = "packed"` this is how to read the curves.
    /// The folder is checked (manifest.toml, every job's hashes) before the
    /// first row: a damaged one is refused with nothing written.
    #[command(after_help = "Examples:
  sweep export results/lr --out lr.csv          then pandas.read_csv(\"lr.csv\")
  sweep export results/lr --format json | head  a closed pipe is a quiet exit")]
    Export(ExportArgs),
    /// List the jobs outside the folder's plan (its manifest.toml); --delete removes their folders.
    ///
    /// Job folders outside the plan are those of values since taken out of
    /// the manifest: a run keeps them and names them in its closing line.
    /// Jobs in packs (`layout = "packed"`) are listed but cannot be taken
    /// out of their pack: --delete then refuses, and removes nothing.
    #[command(after_help = "Examples:
  sweep prune results/lr               list the jobs outside the plan
  sweep prune results/lr --delete      remove their folders")]
    Prune {
        /// A results folder, e.g. results/lr.
        dir: PathBuf,
        /// Remove them: only the files sweep wrote in each job folder, then the empty folder; a
        /// folder holding anything else is refused (exit 2) before anything is removed.
        /// Without it, only list them.
        #[arg(long)]
        delete: bool,
    },
    /// Submit a manifest to Slurm: a job array of `sweep run --shard auto` tasks,
    /// then a job that summarizes and reports once they all succeeded.
    Slurm(SlurmArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Manifest files (TOML).
    #[arg(required = true, value_name = "MANIFEST")]
    pub manifests: Vec<PathBuf>,
    /// Results folder [default: results/<name>]; only with a single manifest.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads [default: all cores, or RAYON_NUM_THREADS]: at most 4 x the cores
    /// (and at least 16 are allowed; more is refused), and never more than the jobs to run.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub sets: SetArgs,
    /// Run only the jobs whose plan index is I mod N (0 <= I < N), or `auto`:
    /// from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX
    /// with --shard-count (Kubernetes indexed jobs).
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,
    /// N for `--shard auto` with JOB_COMPLETION_INDEX (refused with --shard I/N, which gives N,
    /// and when it differs from SLURM_ARRAY_TASK_COUNT).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub shard_count: Option<usize>,
    /// Retrain jobs that already have results, and replace finished jobs of
    /// another study in the folder (which a run refuses without it). Never
    /// a manifest.toml edited since a run wrote it: that is refused.
    #[arg(long)]
    pub force: bool,
    /// No progress bar (the closing summary line is still printed).
    #[arg(long, short)]
    pub quiet: bool,
    /// Run a very large plan (over 100,000 jobs, or over 5 GB of files:
    /// curves, predictions, models) without asking; with --shard, the
    /// shard's jobs are counted.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Override a manifest value, VALUE in TOML syntax: `epochs=500` (= base.epochs),
    /// `grid.lr=[0.1,0.01]`, `seeds=3`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Manifest file (TOML).
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    #[command(flatten)]
    pub sets: SetArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    pub format: PlanFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results folder, e.g. results/lr.
    pub dir: PathBuf,
    /// Where to write the Markdown report [default: DIR/report.md]: a new file, outside
    /// any results folder's own files; report.html and the figures are always written in DIR.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace the --out file when it already exists (refused otherwise: sweep does not
    /// overwrite a file it may not have written).
    #[arg(long, requires = "out")]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The baseline results folder.
    pub a: PathBuf,
    /// The results folder compared with it.
    pub b: PathBuf,
    /// Any numeric result column of summary.csv: final_loss, final_accuracy,
    /// final_test_loss, final_test_accuracy, min_loss or epoch_at_target.
    #[arg(long, default_value = "final_loss")]
    pub metric: String,
    /// Output format [default: text on a terminal, md otherwise].
    #[arg(long, value_enum)]
    pub format: Option<DiffFormat>,
    /// Exit with 1 when any configuration changed beyond seed noise, when a
    /// configuration is in one folder only, or when nothing matched.
    #[arg(long)]
    pub fail_on_change: bool,
    /// With --fail-on-change: accept configurations present in one folder only.
    #[arg(long)]
    pub allow_missing: bool,
    /// Family-wise significance level of the tests.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Adjustment for testing many configurations at once.
    #[arg(long, value_enum, default_value_t = DiffCorrection::Holm)]
    pub correction: DiffCorrection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Aligned plain text within 100 columns, with a legend.
    Text,
    /// A Markdown page: header, one table row per configuration.
    Md,
    /// One row per configuration, every figure (raw and adjusted p) in its own column.
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffCorrection {
    /// Holm-Bonferroni: family-wise error at --alpha over every test.
    Holm,
    /// Each test at --alpha on its own.
    None,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A results folder, e.g. results/lr.
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Output file [default: standard output]: a new file, outside any results folder's own
    /// files.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace the --out file when it already exists (refused otherwise: sweep does not
    /// overwrite a file it may not have written).
    #[arg(long, requires = "out")]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// `sweep slurm`. The results folder must be on a filesystem every node sees.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  sweep slurm experiments/lr.toml --print           show the sbatch scripts, submit nothing
  sweep slurm experiments/lr.toml --tasks 64 --partition short --time 1:00:00 \\
      --out /scratch/$USER/results/lr")]
pub struct SlurmArgs {
    /// Manifest file (TOML).
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// Array tasks; task i trains the jobs whose plan index is i mod N
    /// [default: the number of jobs, at most 32].
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub tasks: Option<usize>,
    /// Results folder, shared by every node [default: results/<name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Slurm partition [default: the cluster's default].
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,
    /// Time limit of each task, in Slurm's format: 30, 2:00:00, 1-12:00:00.
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    /// CPUs of each task, which trains with that many threads.
    #[arg(long, value_name = "C", default_value_t = 1, value_parser = at_least_one)]
    pub cpus_per_task: usize,
    #[command(flatten)]
    pub sets: SetArgs,
    /// Print the sbatch scripts and submit nothing (writes nothing either).
    #[arg(long)]
    pub print: bool,
    /// Submit a very large plan (over 100,000 jobs, or over 5 GB of files)
    /// without asking.
    #[arg(long)]
    pub yes: bool,
}

/// A count of at least 1 (threads, tasks, a sample).
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number; allowed: 1, 2, 3, ...")),
    }
}

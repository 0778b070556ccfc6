//! The command line (clap derive). Parsing only: `main.rs` dispatches.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Train many small neural networks from a TOML manifest and compare them.
///
/// A manifest declares a grid of parameters; `sweep` expands it into jobs,
/// trains them in parallel with seeded RNGs, and writes one folder per job
/// under results/<name>/ (params.toml, curve.csv, predictions.csv,
/// model.json) plus summary.csv. Re-running skips finished jobs.
#[derive(Debug, Parser)]
#[command(name = "sweep", version, max_term_width = 100)]
#[command(after_help = "Examples:
  sweep experiments/lr.toml                   train a sweep (same as `sweep run ...`)
  sweep plan experiments/lr.toml              list its jobs without training
  sweep run experiments/lr.toml --set epochs=500 --set 'grid.lr=[0.1, 0.01]'
  sweep report results/lr                     tables and figures -> results/lr/report.md
  sweep diff results/a results/b              what changed beyond seed noise

Exit codes: 0 success, 1 a run-time failure, 2 bad usage or a bad manifest,
130 interrupted (Ctrl-C or SIGTERM; finished jobs are kept, a rerun resumes).")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train every job of one or more manifests (the default command).
    Run(RunArgs),
    /// Show the jobs a manifest expands to, without training.
    Plan(PlanArgs),
    /// Write report.md and SVG figures for a results folder.
    Report(ReportArgs),
    /// Compare two results folders, configuration by configuration, across seeds.
    Diff(DiffArgs),
    /// Rebuild summary.csv from the job folders.
    Summarize {
        /// A results folder, e.g. results/lr.
        dir: PathBuf,
    },
    /// Retrain finished jobs and check that their files come out byte-identical.
    Verify {
        /// A results folder, e.g. results/lr.
        dir: PathBuf,
        /// Retrain only N jobs, evenly spread over the folder (default: all).
        #[arg(long, value_name = "N")]
        sample: Option<usize>,
        /// Worker threads (default: all cores).
        #[arg(long, value_name = "N", value_parser = parse_threads)]
        threads: Option<usize>,
    },
    /// Every curve in one long (tidy) table with its parameters, for pandas/seaborn.
    Export(ExportArgs),
    /// List the job folders outside the folder's plan (its manifest.toml); --delete removes them.
    Prune {
        /// A results folder, e.g. results/lr.
        dir: PathBuf,
        /// Remove them (only whole job folders sweep wrote); without it, only list them.
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
    /// Worker threads [default: all cores, or RAYON_NUM_THREADS].
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub sets: SetArgs,
    /// Run only the jobs whose plan index is I mod N (0 <= I < N), or `auto`:
    /// from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX
    /// with --shard-count (Kubernetes indexed jobs).
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,
    /// N for `--shard auto` with JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "N")]
    pub shard_count: Option<usize>,
    /// Retrain jobs that already have results.
    #[arg(long)]
    pub force: bool,
    /// No progress bar (the closing summary line is still printed).
    #[arg(long, short)]
    pub quiet: bool,
    /// Run a very large plan (over 100,000 jobs, or over 5 GB of curve files)
    /// without asking.
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
    /// Where to write the Markdown report [default: DIR/report.md].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The baseline results folder.
    pub a: PathBuf,
    /// The results folder compared with it.
    pub b: PathBuf,
    /// final_loss, final_accuracy, min_loss or epoch_at_target.
    #[arg(long, default_value = "final_loss")]
    pub metric: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Md)]
    pub format: DiffFormat,
    /// Exit with 1 when any configuration changed beyond seed noise.
    #[arg(long)]
    pub fail_on_change: bool,
    /// Significance level of the tests.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Md,
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A results folder, e.g. results/lr.
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Output file [default: standard output].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
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
    #[arg(long, value_name = "N", value_parser = parse_threads)]
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
    #[arg(long, value_name = "C", default_value_t = 1, value_parser = parse_threads)]
    pub cpus_per_task: usize,
    #[command(flatten)]
    pub sets: SetArgs,
    /// Print the sbatch scripts and submit nothing (writes nothing either).
    #[arg(long)]
    pub print: bool,
    /// Submit a very large plan (over 100,000 jobs) without asking.
    #[arg(long)]
    pub yes: bool,
}

fn parse_threads(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

/// Subcommand names, so `sweep MANIFEST` can mean `sweep run MANIFEST`.
pub const SUBCOMMANDS: &[&str] =
    &["run", "plan", "report", "diff", "summarize", "verify", "export", "prune", "slurm", "help"];

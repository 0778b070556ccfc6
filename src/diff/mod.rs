//! `sweep diff A B` (SPEC 7): match the configurations of two results
//! folders, compare one metric across seeds, and give each configuration a
//! verdict a reader can take at its word: `better` or `worse` (beyond seed
//! noise, at a family-wise level), `no detectable change` (the tests found
//! nothing; the interval says how large a change could hide), `no verdict`
//! (too few seeds to estimate the noise) or `identical` (the same seeds gave
//! byte-identical files).
//!
//! Why these tests:
//! - A seed fixes a job's data and initial weights (SPEC 5, common random
//!   numbers), so when both folders ran the same seeds the per-seed
//!   differences are paired and far less noisy than two independent samples:
//!   the paired t-test, over the shared seeds only, and the means shown are
//!   over those seeds, so `B − A` is the difference of the two means shown.
//!   Otherwise Welch's t-test, which does not assume equal variances. When a
//!   base parameter changes the data or the initial weights, a seed is a
//!   different draw on each side: Welch's test throughout, and a warning.
//! - One shared seed is compared exactly (same data, same start); one seed
//!   a side on different seeds has no noise estimate at all: no verdict.
//! - Diverged seeds are an outcome, not missing data: the shares of seeds
//!   that failed (diverged; for `epoch_at_target` also never reached the
//!   target) are compared by Fisher's exact test, and a configuration whose
//!   share rises is worse whatever its survivors do.
//! - Every p-value of the comparison (t-tests and Fisher tests, over all
//!   configurations) is one family: Holm's adjustment keeps the chance of any
//!   false `better`/`worse` at alpha, however many configurations there are.
//!
//! Matching: every parameter but the seed is part of a configuration's key,
//! except the parameters that are constant within each folder yet differ
//! between them (`epochs: 300 -> 3000`): those are the difference under
//! study, printed once at the top.
//!
//! This module reads and decides; `render` turns the decisions into text;
//! the statistics live in [`crate::stats`].

mod render;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::spec::{KEYS, did_you_mean};
use crate::stats::{self, Test};
use crate::store::{self, JobOutcome, StoreError, SummaryRow};

/// What is compared across seeds: a numeric result column of summary.csv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metric {
    #[default]
    FinalLoss,
    FinalAccuracy,
    /// Held-out metrics: only in folders trained with `test_fraction > 0`.
    FinalTestLoss,
    FinalTestAccuracy,
    MinLoss,
    /// First epoch whose loss reached `target_loss`; jobs that never reached
    /// it are an outcome (counted with the diverged ones), not averaged.
    EpochAtTarget,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::FinalLoss,
        Metric::FinalAccuracy,
        Metric::FinalTestLoss,
        Metric::FinalTestAccuracy,
        Metric::MinLoss,
        Metric::EpochAtTarget,
    ];

    /// The summary.csv column name, which is also the `--metric` value.
    pub fn name(self) -> &'static str {
        match self {
            Metric::FinalLoss => "final_loss",
            Metric::FinalAccuracy => "final_accuracy",
            Metric::FinalTestLoss => "final_test_loss",
            Metric::FinalTestAccuracy => "final_test_accuracy",
            Metric::MinLoss => "min_loss",
            Metric::EpochAtTarget => "epoch_at_target",
        }
    }

    /// Accuracies improve upwards; losses and epochs-to-target downwards.
    pub fn higher_is_better(self) -> bool {
        matches!(self, Metric::FinalAccuracy | Metric::FinalTestAccuracy)
    }

    /// A finished job's value (None: the target was never reached, or the
    /// folder has no test split).
    fn value(self, o: &JobOutcome) -> Option<f64> {
        match self {
            Metric::FinalLoss => Some(o.final_loss),
            Metric::FinalAccuracy => Some(o.final_accuracy),
            Metric::FinalTestLoss => o.final_test_loss,
            Metric::FinalTestAccuracy => o.final_test_accuracy,
            Metric::MinLoss => Some(o.min_loss),
            Metric::EpochAtTarget => o.epoch_at_target.map(|e| e as f64),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = DiffError;

    fn from_str(s: &str) -> Result<Metric, DiffError> {
        if let Some(m) = Metric::ALL.into_iter().find(|m| m.name() == s) {
            return Ok(m);
        }
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        let why = match s {
            "diverged_epoch" => {
                Some("diverged jobs are compared as a share in every diff (Fisher's exact test)")
            }
            "seed" => Some("seeds are the repetitions the statistics run over"),
            _ if crate::spec::KEYS.iter().any(|k| k.name == s) => {
                Some("it is a parameter: configurations are matched on it")
            }
            _ => None,
        };
        Err(match why {
            Some(why) => DiffError::NotAMetric { got: s.to_string(), why, choices: names },
            None => DiffError::UnknownChoice { what: "metric", got: s.to_string(), choices: names },
        })
    }
}

/// How the comparison is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned plain text for a terminal, within 100 columns, with a legend.
    #[default]
    Text,
    /// A Markdown report: header, one table row per configuration, a closing line.
    Md,
    /// One row per configuration with every figure in its own column.
    Csv,
}

impl FromStr for Format {
    type Err = DiffError;

    fn from_str(s: &str) -> Result<Format, DiffError> {
        match s {
            "text" => Ok(Format::Text),
            "md" => Ok(Format::Md),
            "csv" => Ok(Format::Csv),
            _ => Err(DiffError::UnknownChoice {
                what: "format",
                got: s.to_string(),
                choices: vec!["text", "md", "csv"],
            }),
        }
    }
}

/// How the p-values of many configurations are adjusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Correction {
    /// Holm-Bonferroni: family-wise error at alpha over every test printed.
    #[default]
    Holm,
    /// Each test at alpha on its own (more false alarms as configurations grow).
    None,
}

/// What `sweep diff` was asked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiffOptions {
    pub metric: Metric,
    /// Family-wise significance level; the intervals are at 1 − alpha.
    pub alpha: f64,
    pub format: Format,
    pub correction: Correction,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            metric: Metric::FinalLoss,
            alpha: 0.05,
            format: Format::Text,
            correction: Correction::Holm,
        }
    }
}

/// The rendered comparison and its counts (`--fail-on-change` reads them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOutcome {
    pub text: String,
    /// Configurations whose verdict is `better` or `worse`...
    pub changed: usize,
    /// ...of which B is better...
    pub improved: usize,
    /// ...or worse.
    pub worsened: usize,
    /// Configurations present in both folders (those compared).
    pub configs: usize,
    /// Compared configurations without a verdict (too few seeds).
    pub no_verdict: usize,
    /// Configurations present in A only, and in B only.
    pub only_a: usize,
    pub only_b: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{}: not a results folder (no such directory)", path.display())]
    NotAFolder { path: PathBuf },
    #[error("{}: no finished jobs (no rows in summary.csv and no jobs/*/params.toml)", path.display())]
    NoJobs { path: PathBuf },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("alpha {alpha}: expected a number strictly between 0 and 1")]
    Alpha { alpha: f64 },
    #[error("unknown {what} \"{got}\"{}; choose one of: {}", suggestion(got, choices), choices.join(", "))]
    UnknownChoice { what: &'static str, got: String, choices: Vec<&'static str> },
    #[error("\"{got}\" is not a metric: {why}; choose one of: {}", choices.join(", "))]
    NotAMetric { got: String, why: &'static str, choices: Vec<&'static str> },
    #[error(
        "neither {} nor {} has a {metric} value: held-out metrics need a test split (test_fraction > 0)",
        a.display(),
        b.display()
    )]
    NoTestSplit { metric: Metric, a: PathBuf, b: PathBuf },
}

fn suggestion(got: &str, choices: &[&str]) -> String {
    did_you_mean(got, choices).map(|m| format!(" (did you mean \"{m}\"?)")).unwrap_or_default()
}

/// Compares results folder `b` against `a` (differences are B − A).
pub fn diff(a: &Path, b: &Path, opts: &DiffOptions) -> Result<DiffOutcome, DiffError> {
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(DiffError::Alpha { alpha: opts.alpha });
    }
    let (side_a, side_b) = (Folder::load(a, opts.metric)?, Folder::load(b, opts.metric)?);
    if matches!(opts.metric, Metric::FinalTestLoss | Metric::FinalTestAccuracy)
        && !side_a.has_value
        && !side_b.has_value
    {
        return Err(DiffError::NoTestSplit { metric: opts.metric, a: a.to_path_buf(), b: b.to_path_buf() });
    }
    let report = Report::build(side_a, side_b, opts);
    let count = |v: Verdict| report.matched.iter().filter(|c| c.verdict == v).count();
    Ok(DiffOutcome {
        text: match opts.format {
            Format::Text => render::text(&report),
            Format::Md => render::markdown(&report),
            Format::Csv => render::csv(&report),
        },
        changed: count(Verdict::Better) + count(Verdict::Worse),
        improved: count(Verdict::Better),
        worsened: count(Verdict::Worse),
        configs: report.matched.len(),
        no_verdict: count(Verdict::Undecided),
        only_a: report.only_a.len(),
        only_b: report.only_b.len(),
    })
}

/// One results folder, read row by row into its configurations: memory is
/// the seed and metric value of each job with a value (16 bytes), never the
/// rows.
struct Folder<'p> {
    root: &'p Path,
    /// Jobs read.
    jobs: usize,
    /// Configurations in order of first appearance.
    configs: Vec<FolderConfig>,
    /// Whether any job has a value of the metric.
    has_value: bool,
    /// The input files (CSV data sets, weights files) read while loading,
    /// by resolved path: their bytes, and their SHA-256.
    inputs: HashMap<PathBuf, Vec<u8>>,
    input_hashes: HashMap<PathBuf, String>,
    /// The file-valued parameters (index in [`KEYS`]: `dataset`, `init`)
    /// whose file some job is known by its contents.
    by_contents: BTreeSet<usize>,
    /// The file-valued parameters whose file some job cannot be known by
    /// (its params.toml records no SHA-256 of it, and the file is gone or
    /// changed since): the first such job's reason, by key, in short
    /// (`dataset ../data/x.csv: data file not found`) and in full.
    unknown: std::collections::BTreeMap<usize, (String, String)>,
}

/// One configuration of a folder: every parameter as displayed ([`KEYS`]
/// order; empty where absent), what it is matched on, and its jobs reduced
/// to the metric.
struct FolderConfig {
    params: Vec<String>,
    /// The typed values `params` display: what rows are grouped by.
    typed: store::Params,
    /// What the configuration is matched on: each typed value (never its
    /// displayed text), an input file by its contents ([`Folder::identity`]).
    ident: Vec<String>,
    side: Side,
}

/// What must agree for two jobs of one seed to be identical: the seed, the
/// outcome that matters (status, the metric's bits) and the files' hash
/// (`target_loss` changes `epoch_at_target` but no file), as 128 bits of
/// SHA-256 of them. A configuration sums its jobs' prints (wrapping), so
/// two configurations whose jobs agree seed by seed have equal sums, and
/// others differ but with a chance of 2^-128.
fn print(seed: u64, diverged: bool, value: Option<u64>, files: u64) -> u128 {
    use sha2::Digest as _;
    let mut bytes = [0u8; 26];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8] = u8::from(diverged);
    bytes[9] = u8::from(value.is_some());
    bytes[10..18].copy_from_slice(&value.unwrap_or(0).to_le_bytes());
    bytes[18..].copy_from_slice(&files.to_le_bytes());
    let digest = sha2::Sha256::digest(bytes);
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_le_bytes(first)
}

impl<'p> Folder<'p> {
    fn load(root: &'p Path, metric: Metric) -> Result<Folder<'p>, DiffError> {
        if !root.is_dir() {
            return Err(DiffError::NotAFolder { path: root.to_path_buf() });
        }
        let mut f = Folder::new(root);
        store::each_row(root, &mut |row| {
            f.push(&row, metric);
            Ok(())
        })?;
        if f.jobs == 0 {
            return Err(DiffError::NoJobs { path: root.to_path_buf() });
        }
        f.inputs = HashMap::new();
        // The other folder grows next: give back what doubling left unused.
        for c in &mut f.configs {
            c.side.values.shrink_to_fit();
            c.side.value_seeds.runs.shrink_to_fit();
            c.side.seeds_without_value.shrink_to_fit();
        }
        Ok(f)
    }

    fn new(root: &'p Path) -> Folder<'p> {
        Folder {
            root,
            jobs: 0,
            configs: Vec::new(),
            has_value: false,
            inputs: HashMap::new(),
            input_hashes: HashMap::new(),
            by_contents: BTreeSet::new(),
            unknown: Default::default(),
        }
    }

    fn push(&mut self, row: &SummaryRow, metric: Metric) {
        // Rows come grouped by plan order more often than not: look back
        // first. Grouped by typed value, never by displayed text.
        let at = match self.configs.iter().rposition(|c| c.typed == row.params) {
            Some(i) => i,
            None => {
                // One file written two ways (`data/x.csv`, `./data/x.csv`)
                // is one configuration.
                let ident = self.identity(row);
                match self.configs.iter().position(|c| c.ident == ident) {
                    Some(i) => i,
                    None => {
                        let params: Vec<String> = row.params.iter().map(|(_, v)| v).collect();
                        let typed = row.params.clone();
                        self.configs.push(FolderConfig { params, typed, ident, side: Side::default() });
                        self.configs.len() - 1
                    }
                }
            }
        };
        let files = self.files_hash(row).and_then(|h| u64::from_str_radix(&h, 16).ok());
        let value = metric.value(&row.outcome);
        self.has_value |= value.is_some();
        let side = &mut self.configs[at].side;
        side.push(row, metric);
        match files {
            Some(files) => {
                let p = print(row.seed, row.outcome.diverged(), value.map(f64::to_bits), files);
                side.prints = side.prints.wrapping_add(p);
            }
            None => side.files_unknown = true,
        }
        self.jobs += 1;
    }

    /// A job's `files_hash`: summary.csv does not carry it, so it comes from
    /// the job's params.toml. None when that cannot be read: the job then
    /// cannot be called identical, but it can still be compared.
    fn files_hash(&self, row: &SummaryRow) -> Option<String> {
        let hash = if row.outcome.files_hash.is_empty() {
            row.at.params().ok()?.result.files_hash
        } else {
            row.outcome.files_hash.clone()
        };
        (!hash.is_empty()).then_some(hash)
    }

    /// What the configuration of `row` is matched on: each typed value
    /// (written out with its type, so `["a, b", "c"]` and `["a", "b", "c"]`
    /// differ), but a CSV data set and a weights
    /// file by their contents (SHA-256), not by the path as written. The
    /// data stream depends on a file's contents, never its path (SPEC 5), so
    /// `data/x.csv` and `./data/x.csv`, one file reached from two working
    /// directories, or a folder moved with (or without) its data, are the
    /// same data and seeds pair. A file is known by the SHA-256 the job's
    /// params.toml records (`[inputs]`); in a folder written before that
    /// record, by its current contents while they still give the
    /// configuration hash the job recorded. Otherwise (the file is gone or
    /// changed since) it cannot be known: the key goes to `unknown`, with
    /// why, and keeps the path as written.
    fn identity(&mut self, row: &SummaryRow) -> Vec<String> {
        let mut ident: Vec<String> = row.params.typed().map(|(_, v)| format!("{v:?}")).collect();
        let Ok(file) = row.at.params() else { return ident };
        let base = file.paths_relative_to.as_ref().map_or_else(|| PathBuf::from("."), |p| self.root.join(p));
        let Ok(spec) = crate::spec::JobSpec::from_values(file.seed, &|k| file.params.get(k).cloned(), &base)
        else {
            return ident;
        };
        let data = match &spec.data.source {
            crate::spec::DataSource::Csv(path) => Some(("dataset", path)),
            _ => None,
        };
        let init = match &spec.model.init {
            crate::spec::Init::File(path) => Some(("init", path)),
            _ => None,
        };
        let named: Vec<(&str, &PathBuf)> = data.into_iter().chain(init).collect();
        // Whether the files as they are now are what the job read (asked
        // once, of a job that records no hash).
        let mut current = None;
        for (key, path) in named {
            let Some(k) = KEYS.iter().position(|x| x.name == key) else { continue };
            if let Some(hash) = file.inputs.get(key) {
                ident[k] = format!("file with SHA-256 {hash}");
                self.by_contents.insert(k);
                continue;
            }
            let read_now = *current.get_or_insert_with(|| {
                let files = crate::plan::input_files(&spec);
                let values: Vec<(&str, toml::Value)> = KEYS
                    .iter()
                    .filter_map(|k| file.params.get(k.name).map(|v| (k.name, v.clone())))
                    .collect();
                crate::plan::config_hash_of(file.seed, &values, &files, &mut self.inputs) == file.config_hash
            });
            if read_now {
                let bytes = self.inputs.get(path).map_or(&[][..], Vec::as_slice);
                let hash = self.input_hashes.entry(path.clone()).or_insert_with(|| store::sha256_hex(bytes));
                ident[k] = format!("file with SHA-256 {hash}");
                self.by_contents.insert(k);
                continue;
            }
            self.unknown.entry(k).or_insert_with(|| {
                let (what, detail) = if path.exists() {
                    ("changed since its jobs ran", String::new())
                } else {
                    ("data file not found", format!(" (looked for {})", path.display()))
                };
                let short = format!("{key} {}: {what}", row.params.shown(key));
                let full = format!(
                    "{short}{detail}, and its jobs record no SHA-256 of it (written before sweep recorded one)"
                );
                (short, full)
            });
        }
        ident
    }

    /// The single value `key` (index in [`KEYS`]) takes across the folder's
    /// jobs, if it takes only one: (what configurations are matched on, as
    /// displayed).
    fn constant(&self, key: usize) -> Option<(&str, &str)> {
        let first = self.configs.first()?;
        let ident = first.ident[key].as_str();
        self.configs.iter().all(|c| c.ident[key] == ident).then_some((ident, first.params[key].as_str()))
    }
}

/// One side of a configuration, reduced to the metric.
#[derive(Debug, Clone, Default)]
struct Side {
    /// Jobs of the configuration on this side (whatever their outcome).
    jobs: usize,
    /// (seed, value) of the jobs that have a value.
    values: Vec<f64>,
    /// Their seeds, in the same order.
    value_seeds: Seeds,
    /// Diverged jobs (or a non-finite metric value): an outcome, never averaged.
    diverged: usize,
    /// Jobs that never reached `target_loss` (epoch_at_target only).
    not_reached: usize,
    /// Jobs without the metric at all (a held-out metric without a test split).
    missing: usize,
    /// The seed of every job without a value, in row order (the others'
    /// are in `values`).
    seeds_without_value: Vec<u64>,
    /// The first job's seed.
    first_seed: Option<u64>,
    /// The sum of the jobs' [`print`]s.
    prints: u128,
    /// Whether the files' hash of some job is unknown (it cannot be called
    /// identical).
    files_unknown: bool,
}

impl Side {
    /// Counts one more job of the configuration.
    fn push(&mut self, r: &SummaryRow, metric: Metric) {
        self.jobs += 1;
        self.first_seed.get_or_insert(r.seed);
        if r.outcome.diverged() {
            self.diverged += 1;
            self.seeds_without_value.push(r.seed);
            return;
        }
        match metric.value(&r.outcome) {
            // A non-finite value in an `ok` row would poison the mean:
            // count it with the diverged ones.
            Some(v) if !v.is_finite() => self.diverged += 1,
            Some(v) => {
                self.values.push(v);
                return self.value_seeds.push(r.seed);
            }
            None if metric == Metric::EpochAtTarget => self.not_reached += 1,
            None => self.missing += 1,
        }
        self.seeds_without_value.push(r.seed);
    }

    /// Whether no seed appears twice.
    fn seeds_distinct(&self) -> bool {
        let mut seeds: Vec<u64> =
            self.value_seeds.iter().chain(self.seeds_without_value.iter().copied()).collect();
        seeds.sort_unstable();
        seeds.windows(2).all(|w| w[0] != w[1])
    }

    /// (seed, value) of the jobs that have a value, in row order.
    fn seeded_values(&self) -> impl Iterator<Item = (u64, f64)> + '_ {
        self.value_seeds.iter().zip(self.values.iter().copied())
    }

    /// The only job's seed, if there is one job.
    fn only_seed(&self) -> Option<u64> {
        self.first_seed.filter(|_| self.jobs == 1)
    }

    fn n(&self) -> usize {
        self.values.len()
    }

    /// Jobs whose outcome was a failure: diverged, or never reached the target.
    fn failed(&self) -> usize {
        self.diverged + self.not_reached
    }

    /// Jobs with an outcome (a value or a failure), the denominator of the
    /// failure share.
    fn outcomes(&self) -> usize {
        self.jobs - self.missing
    }
}

/// Seeds in row order, as runs of consecutive seeds (`0, 1, .., 9999` is
/// one run): a few bytes per configuration instead of 8 per job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Seeds {
    /// (first seed, number of seeds) of each run.
    runs: Vec<(u64, u64)>,
    len: usize,
}

impl Seeds {
    fn push(&mut self, seed: u64) {
        match self.runs.last_mut() {
            Some((first, n)) if first.checked_add(*n) == Some(seed) => *n += 1,
            _ => self.runs.push((seed, 1)),
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }

    fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.runs.iter().flat_map(|&(first, n)| (0..n).map(move |i| first + i))
    }
}

impl FromIterator<u64> for Seeds {
    fn from_iter<I: IntoIterator<Item = u64>>(seeds: I) -> Seeds {
        let mut s = Seeds::default();
        for seed in seeds {
            s.push(seed);
        }
        s
    }
}

/// What a row shows for one side: the values the test used.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Shown {
    n: usize,
    mean: Option<f64>,
    /// None with fewer than two values.
    std: Option<f64>,
}

impl Shown {
    fn of(xs: &[f64]) -> Shown {
        Shown { n: xs.len(), mean: stats::mean(xs), std: stats::sample_std(xs) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Identical,
    Better,
    Worse,
    NoDetectableChange,
    /// Too few seeds to estimate the noise ("no verdict"): never a change.
    Undecided,
}

impl Verdict {
    fn words(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::NoDetectableChange => "no detectable change",
            Verdict::Undecided => "no verdict",
        }
    }

    fn csv_name(self) -> &'static str {
        match self {
            Verdict::NoDetectableChange => "no_detectable_change",
            Verdict::Undecided => "no_verdict",
            v => v.words(),
        }
    }
}

/// How the metric was compared.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Method {
    /// The same seeds with byte-identical files: no test needed.
    Identical,
    /// Paired t-test over these shared seeds (ascending).
    Paired(Seeds),
    Welch,
    /// One shared seed: its two values compared exactly.
    OneSeed(u64),
    /// No comparison of the metric (a side has no value, or one unpaired seed).
    None,
}

impl Method {
    fn csv_name(&self) -> &'static str {
        match self {
            Method::Identical => "identical",
            Method::Paired(_) => "paired",
            Method::Welch => "welch",
            Method::OneSeed(_) => "exact",
            Method::None => "none",
        }
    }
}

/// A p-value, before and after the adjustment for many tests.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PValue {
    raw: f64,
    adjusted: f64,
}

/// Fisher's exact test on the shares of failed jobs.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ShareTest {
    p: PValue,
    /// Whether B's share is the higher one.
    b_higher: bool,
}

/// One configuration present in both folders.
#[derive(Debug, Clone)]
struct ConfigDiff {
    /// Values of [`Report::columns`].
    params: Vec<String>,
    a: Side,
    b: Side,
    method: Method,
    /// The values each row shows: over the paired seeds when paired.
    shown_a: Shown,
    shown_b: Shown,
    /// The metric's test (None when identical or not compared).
    test: Option<Test>,
    metric_p: Option<PValue>,
    /// Fisher's test on the failure shares (None when no job failed).
    share: Option<ShareTest>,
    /// Paired seeds where B is better, and where B is worse.
    seeds_better: usize,
    seeds_worse: usize,
    verdict: Verdict,
    /// Why the verdict is `no verdict`, or what decided a change.
    notes: Vec<String>,
}

impl ConfigDiff {
    /// B's mean minus A's, as shown (None when a side has no value).
    fn shown_difference(&self) -> Option<f64> {
        Some(self.shown_b.mean? - self.shown_a.mean?)
    }
}

/// A configuration present in one folder only.
#[derive(Debug, Clone)]
struct OneSided {
    params: Vec<String>,
    side: Side,
}

/// Everything the renderers print.
struct Report<'p> {
    a: &'p Path,
    b: &'p Path,
    jobs_a: usize,
    jobs_b: usize,
    metric: Metric,
    alpha: f64,
    correction: Correction,
    /// p-values in the family (t-tests and Fisher tests).
    tests: usize,
    /// (key, value in A, value in B): constant within each folder, differing between.
    base: Vec<(String, String, String)>,
    /// Why the seeds are not common random numbers across the folders (a
    /// base parameter changes the data or the initial weights), printed at
    /// the top; `None` when seeds pair.
    unpaired: Option<String>,
    /// Whether the folders read the same data files, when a job reads one:
    /// "same data (by contents)", "different data", or "can't tell".
    data: Option<String>,
    /// The parameters that tell configurations apart (SPEC order).
    columns: Vec<String>,
    matched: Vec<ConfigDiff>,
    only_a: Vec<OneSided>,
    only_b: Vec<OneSided>,
}

impl<'p> Report<'p> {
    /// Compares the folders' configurations, taking their jobs' values over
    /// (not copying them).
    fn build(mut a: Folder<'p>, mut b: Folder<'p>, opts: &DiffOptions) -> Report<'p> {
        // A file that cannot be known by its contents on one side is
        // matched by the path as written on both, and said to be unknown:
        // never called other data (nor the same).
        let unknown: Vec<(String, String)> = [("A", &a), ("B", &b)]
            .iter()
            .flat_map(|(side, f)| {
                f.unknown
                    .values()
                    .map(move |(short, full)| (format!("{side}'s {short}"), format!("{side}'s {full}")))
            })
            .collect();
        let unknown_keys: BTreeSet<usize> = a.unknown.keys().chain(b.unknown.keys()).copied().collect();
        for c in a.configs.iter_mut().chain(b.configs.iter_mut()) {
            for &k in &unknown_keys {
                c.ident[k].clone_from(&c.params[k]);
            }
        }
        // Every parameter either folder knows (a value is never displayed
        // empty), in SPEC (column) order, by index in KEYS.
        let known = |f: &Folder, k: usize| f.configs.iter().any(|c| !c.params[k].is_empty());
        let mut keys: Vec<usize> = (0..KEYS.len()).filter(|&k| known(&a, k) || known(&b, k)).collect();
        let mut base = Vec::new();
        keys.retain(|&k| match (a.constant(k), b.constant(k)) {
            (Some((va, shown_a)), Some((vb, shown_b))) if va != vb => {
                let shown_b = if shown_a == shown_b {
                    // One path, but not (known to be) one file's contents.
                    format!("{shown_b} (other contents, or changed since a run)")
                } else {
                    shown_b.to_string()
                };
                base.push((KEYS[k].name.to_string(), shown_a.to_string(), shown_b));
                false
            }
            _ => true,
        });
        let unpaired = unpaired_why(&base, &unknown_keys, &unknown);
        let data = data_verdict(&a, &b, &unknown);
        let constant_in_both =
            |k: usize| matches!((a.constant(k), b.constant(k)), (Some((va, _)), Some((vb, _))) if va == vb);
        let column_keys: Vec<usize> = keys.iter().copied().filter(|&k| !constant_in_both(k)).collect();
        let columns: Vec<String> = column_keys.iter().map(|&k| KEYS[k].name.to_string()).collect();
        fn key_of(keys: &[usize], c: &FolderConfig) -> Vec<String> {
            keys.iter().map(|&k| c.ident[k].clone()).collect()
        }
        let shown =
            |c: &FolderConfig| -> Vec<String> { column_keys.iter().map(|&k| c.params[k].clone()).collect() };

        let in_b: HashMap<Vec<String>, usize> =
            b.configs.iter().enumerate().map(|(i, c)| (key_of(&keys, c), i)).collect();
        let in_a: BTreeSet<Vec<String>> = a.configs.iter().map(|c| key_of(&keys, c)).collect();
        let mut report = Report {
            a: a.root,
            b: b.root,
            jobs_a: a.jobs,
            jobs_b: b.jobs,
            metric: opts.metric,
            alpha: opts.alpha,
            correction: opts.correction,
            tests: 0,
            base,
            unpaired,
            data,
            columns,
            matched: Vec::new(),
            only_a: Vec::new(),
            only_b: Vec::new(),
        };
        for ca in &mut a.configs {
            let side = std::mem::take(&mut ca.side);
            match in_b.get(&key_of(&keys, ca)) {
                Some(&i) => {
                    let sb = std::mem::take(&mut b.configs[i].side);
                    let same = identical(&side, &sb);
                    let pairable = report.unpaired.is_none();
                    report.matched.push(compare(shown(ca), side, sb, same, pairable, opts));
                }
                None => report.only_a.push(OneSided { params: shown(ca), side }),
            }
        }
        for cb in b.configs.iter_mut().filter(|c| !in_a.contains(&key_of(&keys, c))) {
            report.only_b.push(OneSided { params: shown(cb), side: std::mem::take(&mut cb.side) });
        }
        report.tests = adjust(&mut report.matched, opts.correction);
        for c in &mut report.matched {
            decide(c, opts);
        }
        report
    }
}

/// The parameters a job's data stream depends on (SPEC 5: the data set, its
/// split, its columns and its preprocessing).
const DATA_KEYS: [&str; 10] = [
    "dataset",
    "n_samples",
    "noise",
    "test_fraction",
    "stratify",
    "label_column",
    "feature_columns",
    "missing",
    "conv",
    "scale",
];

/// The parameters a job's initial weights depend on (SPEC 5), besides the
/// data's number of inputs and classes.
const INIT_KEYS: [&str; 3] = ["hidden", "bias", "init"];

/// The data verdict of the header, when a job on either side reads a file
/// (a CSV data set, a weights file): "can't tell" when a side's file cannot
/// be known by its contents (`unknown`: why, per side, short and in
/// full); "same data (by contents)" when both sides read the same data
/// sets and weights files ([`data_read`]: files by SHA-256, whatever their
/// paths); else "different data", naming what differs (a file of one path
/// with other contents, a data set one side only reads), up to four.
fn data_verdict(a: &Folder, b: &Folder, unknown: &[(String, String)]) -> Option<String> {
    if !unknown.is_empty() {
        let why: Vec<&str> = unknown.iter().map(|(short, _)| short.as_str()).collect();
        return Some(format!(
            "data: {}: can't tell whether it is the same (no SHA-256 recorded; see the warning)",
            why.join("; ")
        ));
    }
    if a.by_contents.is_empty() && b.by_contents.is_empty() {
        return None;
    }
    let (read_a, read_b) = (data_read(a), data_read(b));
    if read_a.keys().eq(read_b.keys()) {
        return Some(
            "data: same data (by contents: each file known by its SHA-256, not its path)".to_string(),
        );
    }
    // What one side reads and the other does not: a file of one path with
    // other contents, or a data set only one side has (an axis's value
    // as much as a value constant in the folder).
    let mut differ = Vec::new();
    for ((k, id), shown) in &read_a {
        if read_b.contains_key(&(*k, *id)) {
            continue;
        }
        let name = KEYS[*k].name;
        if read_b.iter().any(|((kb, _), sb)| kb == k && sb == shown) {
            differ.push(format!("{name} {shown}: other contents in B"));
        } else {
            differ.push(format!("{name} {shown}: only in A"));
        }
    }
    for ((k, id), shown) in &read_b {
        let name = KEYS[*k].name;
        if !read_a.contains_key(&(*k, *id)) && !read_a.iter().any(|((ka, _), sa)| ka == k && sa == shown) {
            differ.push(format!("{name} {shown}: only in B"));
        }
    }
    const SHOWN: usize = 4;
    let more = differ.len().saturating_sub(SHOWN);
    differ.truncate(SHOWN);
    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
    Some(format!("data: different data ({}{more})", differ.join("; ")))
}

/// What a folder's configurations read, by (parameter index, identity) ->
/// the value as shown: every `dataset` (a file by its SHA-256, a generated
/// set by its name), and every `init` that is a file. Two folders read the
/// same data when these keys agree, whatever the paths.
fn data_read<'a>(f: &'a Folder) -> std::collections::BTreeMap<(usize, &'a str), &'a str> {
    let mut read = std::collections::BTreeMap::new();
    for c in &f.configs {
        for key in ["dataset", "init"] {
            let Some(k) = KEYS.iter().position(|x| x.name == key) else { continue };
            let (Some(id), Some(shown)) = (c.ident.get(k), c.params.get(k)) else { continue };
            if key == "dataset" || f.by_contents.contains(&k) && id.starts_with("file with SHA-256") {
                read.entry((k, id.as_str())).or_insert(shown.as_str());
            }
        }
    }
    read
}

/// Why one seed in A and the same seed in B are not common random numbers,
/// given the base parameters (key, A's value, B's value): a changed data set
/// or initial weights make the seeds independent draws, so the pairs would
/// compare nothing in common; a file that cannot be known by its contents
/// (`unknown_keys`; `unknown`: why) may be either. `None` when the seeds
/// pair.
fn unpaired_why(
    base: &[(String, String, String)],
    unknown_keys: &BTreeSet<usize>,
    unknown: &[(String, String)],
) -> Option<String> {
    let changed = |keys: &[&str]| -> Vec<&str> {
        base.iter()
            .map(|(k, _, _)| k.as_str())
            .filter(|k| keys.contains(k) && !unknown_keys.iter().any(|&u| KEYS[u].name == *k))
            .collect()
    };
    let (data, init) = (changed(&DATA_KEYS), changed(&INIT_KEYS));
    if !unknown.is_empty() {
        let mut why = format!(
            "warning: can't tell whether both folders read the same data ({}), so a seed may not give both \
             sides the same data and start: seeds are not paired, every row uses Welch's t-test",
            unknown.iter().map(|(_, full)| full.as_str()).collect::<Vec<_>>().join("; ")
        );
        if !data.is_empty() || !init.is_empty() {
            let what: Vec<&str> = data.iter().chain(&init).copied().collect();
            why.push_str(&format!("; and {} differ between the folders", what.join(", ")));
        }
        return Some(why);
    }
    if data.is_empty() && init.is_empty() {
        return None;
    }
    let what = match (data.is_empty(), init.is_empty()) {
        (false, false) => {
            format!("the data ({}) and the initial weights ({})", data.join(", "), init.join(", "))
        }
        (false, true) => format!("the data ({})", data.join(", ")),
        _ => format!("the initial weights ({})", init.join(", ")),
    };
    let mut why = format!(
        "warning: {what} differ between the folders, so a seed does not give both sides the same data \
         and start: seeds are not paired, every row uses Welch's t-test"
    );
    if data.contains(&"dataset") {
        why.push_str("; a loss on one data set and a loss on another are different quantities");
    }
    Some(why)
}

/// The same seeds on both sides, each once, with byte-identical files and
/// the same outcome (the sums of the jobs' [`print`]s agree).
fn identical(a: &Side, b: &Side) -> bool {
    a.jobs == b.jobs
        && !a.files_unknown
        && !b.files_unknown
        && a.prints == b.prints
        && a.seeds_distinct()
        && b.seeds_distinct()
}

/// (seed, A's value, B's value) for the seeds both sides have a value for,
/// by ascending seed (a seed listed twice counts once).
fn pairs(a: &Side, b: &Side) -> Vec<(u64, f64, f64)> {
    let mut in_b: HashMap<u64, f64> = HashMap::with_capacity(b.values.len());
    for (s, v) in b.seeded_values() {
        in_b.entry(s).or_insert(v);
    }
    let mut seen = BTreeSet::new();
    let mut out: Vec<(u64, f64, f64)> = a
        .seeded_values()
        .filter(|(s, _)| seen.insert(*s))
        .filter_map(|(s, va)| in_b.get(&s).map(|vb| (s, va, *vb)))
        .collect();
    out.sort_by_key(|p| p.0);
    out
}

/// Seeds as a short list: `0-3, 7, 9`.
fn seed_list(seeds: &[u64]) -> String {
    crate::report::seed_runs(seeds, "-")
}

/// Picks the test and runs it; the verdict waits for the adjustment. The
/// seeds pair only when `pairable` (the same seed gives both sides the same
/// data and start).
fn compare(
    params: Vec<String>,
    a: Side,
    b: Side,
    identical: bool,
    pairable: bool,
    opts: &DiffOptions,
) -> ConfigDiff {
    let mut d = ConfigDiff {
        params,
        method: Method::None,
        shown_a: Shown::of(&a.values),
        shown_b: Shown::of(&b.values),
        test: None,
        metric_p: None,
        share: None,
        seeds_better: 0,
        seeds_worse: 0,
        verdict: Verdict::Undecided,
        notes: Vec::new(),
        a,
        b,
    };
    if identical {
        d.method = Method::Identical;
        d.verdict = Verdict::Identical;
        return d;
    }
    let (a, b) = (&d.a, &d.b);
    let p = if pairable { pairs(a, b) } else { Vec::new() };
    if a.n() == 0 || b.n() == 0 {
        // Nothing to average on a side: the failure shares decide, if anything.
    } else if p.len() >= 2 {
        let (pa, pb): (Vec<f64>, Vec<f64>) = p.iter().map(|&(_, va, vb)| (va, vb)).unzip();
        let seeds: Vec<u64> = p.iter().map(|&(s, _, _)| s).collect();
        let better = |va: f64, vb: f64| if opts.metric.higher_is_better() { vb > va } else { vb < va };
        d.seeds_better = p.iter().filter(|&&(_, va, vb)| better(va, vb)).count();
        d.seeds_worse = p.iter().filter(|&&(_, va, vb)| better(vb, va)).count();
        let unpaired = |s: &Side| {
            let paired: BTreeSet<u64> = seeds.iter().copied().collect();
            let mut left: Vec<u64> = s.value_seeds.iter().filter(|x| !paired.contains(x)).collect();
            left.sort_unstable();
            left.dedup();
            left
        };
        let (left_a, left_b) = (unpaired(a), unpaired(b));
        if !left_a.is_empty() || !left_b.is_empty() {
            let list = |side: &str, l: &[u64]| {
                (!l.is_empty()).then(|| format!("{side}'s seed{} {}", plural(l.len()), seed_list(l)))
            };
            let unused: Vec<String> =
                [list("A", &left_a), list("B", &left_b)].into_iter().flatten().collect();
            d.notes.push(format!(
                "paired over seeds {} (a value on both sides); {} not used",
                seed_list(&seeds),
                unused.join(" and ")
            ));
        }
        d.test = Some(stats::paired(&pa, &pb, opts.alpha));
        (d.shown_a, d.shown_b) = (Shown::of(&pa), Shown::of(&pb));
        d.method = Method::Paired(seeds.into_iter().collect());
    } else if a.n() >= 2 && b.n() >= 2 {
        d.test = Some(stats::welch(&a.values, &b.values, opts.alpha));
        d.method = Method::Welch;
    } else if let [(seed, va, vb)] = p[..] {
        // One shared seed: same data, same start, so the values compare exactly.
        d.test = Some(Test::NoVariance { estimate: vb - va });
        (d.shown_a, d.shown_b) = (Shown::of(&[va]), Shown::of(&[vb]));
        d.method = Method::OneSeed(seed);
        d.notes.push(format!("1 shared seed ({seed}): compared exactly, no noise estimate"));
    }
    if matches!(d.test, Some(Test::NoVariance { .. })) && !matches!(d.method, Method::OneSeed(_)) {
        d.notes.push("zero variance: compared exactly".into());
    }
    let (a, b) = (&d.a, &d.b);
    if a.failed() + b.failed() > 0 && a.outcomes() > 0 && b.outcomes() > 0 {
        let (fa, na, fb, nb) = (a.failed(), a.outcomes(), b.failed(), b.outcomes());
        let raw = stats::fisher_exact(fa as u64, na as u64, fb as u64, nb as u64);
        // Compare the shares fb/nb and fa/na without division.
        d.share = Some(ShareTest { p: PValue { raw, adjusted: raw }, b_higher: fb * na > fa * nb });
    }
    d
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Adjusts every p-value of the family together; returns the family's size.
fn adjust(matched: &mut [ConfigDiff], correction: Correction) -> usize {
    let mut raw: Vec<f64> = Vec::new();
    for c in matched.iter_mut() {
        if let Some(p) = c.test.as_ref().and_then(Test::p) {
            c.metric_p = Some(PValue { raw: p, adjusted: p });
            raw.push(p);
        }
        if let Some(s) = &c.share {
            raw.push(s.p.raw);
        }
    }
    if correction == Correction::Holm {
        let mut adjusted = stats::holm(&raw).into_iter();
        for c in matched.iter_mut() {
            if let Some(p) = &mut c.metric_p {
                p.adjusted = adjusted.next().unwrap_or(1.0);
            }
            if let Some(s) = &mut c.share {
                s.p.adjusted = adjusted.next().unwrap_or(1.0);
            }
        }
    }
    raw.len()
}

/// Words the verdict from the adjusted p-values: a failure share that
/// changed decides first, then the metric.
fn decide(d: &mut ConfigDiff, opts: &DiffOptions) {
    if d.verdict == Verdict::Identical {
        return;
    }
    let alpha = opts.alpha;
    let failure = if opts.metric == Metric::EpochAtTarget {
        "failed (diverged or never reached the target)"
    } else {
        "diverged"
    };
    let share_text = |d: &ConfigDiff| {
        format!(
            "{failure}: {} of {} in A, {} of {} in B",
            d.a.failed(),
            d.a.outcomes(),
            d.b.failed(),
            d.b.outcomes()
        )
    };
    let metric_direction = |d: &ConfigDiff| {
        let est = d.test.map(|t| t.estimate()).unwrap_or(0.0);
        if est == 0.0 {
            None
        } else if (est > 0.0) == opts.metric.higher_is_better() {
            Some(Verdict::Better)
        } else {
            Some(Verdict::Worse)
        }
    };
    let metric_significant = |d: &ConfigDiff| match (d.test, d.metric_p) {
        (Some(Test::NoVariance { estimate }), _) => estimate != 0.0,
        (_, Some(p)) => p.adjusted < alpha,
        _ => false,
    };

    if let Some(s) = d.share.filter(|s| s.p.adjusted < alpha) {
        d.verdict = if s.b_higher { Verdict::Worse } else { Verdict::Better };
        let text = share_text(d);
        d.notes.insert(
            0,
            if s.b_higher {
                format!("more seeds {failure} in B ({text}): worse whatever its survivors do")
            } else {
                format!("fewer seeds {failure} in B ({text})")
            },
        );
        if metric_significant(d) && metric_direction(d) != Some(d.verdict) {
            let how = if d.verdict == Verdict::Worse { "better" } else { "worse" };
            d.notes.push(format!("its survivors are {how} on {}", opts.metric));
        }
        return;
    }
    if d.test.is_some() {
        d.verdict = match metric_significant(d).then(|| metric_direction(d)).flatten() {
            Some(v) => v,
            None => Verdict::NoDetectableChange,
        };
        if let Some(p) = d.metric_p
            && d.verdict == Verdict::NoDetectableChange
            && p.raw < alpha
        {
            d.notes.push(format!(
                "p = {} for this row alone, {} after Holm's adjustment: not beyond noise over all tests",
                render::p_value(p.raw),
                render::p_value(p.adjusted)
            ));
        }
        let paired = match &d.method {
            Method::Paired(s) => s.len(),
            _ => 0,
        };
        if paired > 0 && d.verdict == Verdict::NoDetectableChange {
            let (k, how) = if d.seeds_worse >= d.seeds_better {
                (d.seeds_worse, "worse")
            } else {
                (d.seeds_better, "better")
            };
            if k * 2 > paired {
                d.notes.push(format!(
                    "B {how} on {k} of {paired} paired seeds, but the differences vary too much in size to call it"
                ));
            }
        }
    } else if let (Some(seed), true) =
        (d.a.only_seed(), d.a.only_seed() == d.b.only_seed() && d.a.failed() != d.b.failed())
    {
        // One shared seed that failed on one side only: the same data and
        // start gave a different outcome, compared exactly.
        let (side, verdict) = if d.b.failed() > 0 { ("B", Verdict::Worse) } else { ("A", Verdict::Better) };
        d.verdict = verdict;
        d.notes
            .insert(0, format!("1 shared seed ({seed}), which {failure} in {side} only: compared exactly"));
        return;
    } else {
        // No comparison of the metric: say why.
        d.verdict = Verdict::Undecided;
        let (a, b) = (&d.a, &d.b);
        let why = if a.n() == 0 || b.n() == 0 {
            let empty = match (a.n(), b.n()) {
                (0, 0) => "either side",
                (0, _) => "A",
                _ => "B",
            };
            format!("no {} value in {empty}", opts.metric)
        } else if a.n() == 1 && b.n() == 1 {
            "1 seed each, not paired: no verdict".to_string()
        } else {
            let one = if a.n() == 1 { "A" } else { "B" };
            format!("1 seed in {one}, not shared with the other side: no noise estimate")
        };
        d.notes.insert(0, why);
    }
    if let Some(s) = d.share {
        d.notes.push(format!("{}; Fisher p = {}", share_text(d), render::p_value(s.p.adjusted)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seed: u64, lr: &str, epochs: &str, loss: f64) -> SummaryRow {
        SummaryRow {
            job_id: format!("lr-{lr}_seed-{seed}"),
            seed,
            params: crate::store::Params::from_table(
                &toml::from_str(&format!("lr = {lr}\nepochs = {epochs}")).unwrap(),
            ),
            outcome: JobOutcome {
                status: "ok".into(),
                final_loss: loss,
                final_accuracy: 1.0,
                final_test_loss: None,
                final_test_accuracy: None,
                min_loss: loss,
                epoch_at_target: None,
                diverged_epoch: None,
                files_hash: String::new(),
            },
            curve: String::new(),
            at: crate::store::JobRef::folder("jobs"),
        }
    }

    fn report<'p>(a: Vec<SummaryRow>, b: Vec<SummaryRow>, metric: Metric) -> Report<'p> {
        let folder = |root: &'static str, rows: Vec<SummaryRow>| {
            let mut f = Folder::new(Path::new(root));
            for r in &rows {
                f.push(r, metric);
            }
            f
        };
        let (fa, fb) = (folder("a", a), folder("b", b));
        Report::build(fa, fb, &DiffOptions { metric, ..DiffOptions::default() })
    }

    #[test]
    fn identical_needs_every_seed_alike_once_with_known_files() {
        let with = |seed: u64, files: &str| {
            let mut r = row(seed, "0.1", "300", 0.5 + seed as f64);
            r.outcome.files_hash = files.to_string();
            r
        };
        let a: Vec<SummaryRow> = (0..4).map(|s| with(s, &format!("{:016x}", 0xa0 + s))).collect();
        let verdict = |a: &[SummaryRow], b: &[SummaryRow]| {
            report(a.to_vec(), b.to_vec(), Metric::FinalLoss).matched[0].verdict
        };
        assert_eq!(verdict(&a, &a), Verdict::Identical);
        let reversed: Vec<SummaryRow> = a.iter().rev().cloned().collect();
        assert_eq!(verdict(&a, &reversed), Verdict::Identical, "row order does not matter");
        let mut changed = a.clone();
        changed[2].outcome.files_hash = format!("{:016x}", 0xff);
        assert_ne!(verdict(&a, &changed), Verdict::Identical);
        // The same files and values, but on other seeds.
        let mut swapped = a.clone();
        (swapped[0].seed, swapped[1].seed) = (1, 0);
        assert_ne!(verdict(&a, &swapped), Verdict::Identical);
        let mut fewer = a.clone();
        fewer.pop();
        assert_ne!(verdict(&a, &fewer), Verdict::Identical);
        let twice = vec![with(0, "00000000000000a0"), with(0, "00000000000000a0")];
        assert_ne!(verdict(&twice, &twice), Verdict::Identical, "a seed listed twice");
        // No files hash in the row, and no job folder to read it from.
        let unknown: Vec<SummaryRow> = (0..4).map(|s| with(s, "")).collect();
        assert_ne!(verdict(&unknown, &unknown), Verdict::Identical);
    }

    #[test]
    fn seeds_are_kept_as_runs_in_row_order() {
        let order = [0, 1, 2, 3, 7, 8, 5, 5, u64::MAX, 0];
        let seeds: Seeds = order.into_iter().collect();
        assert_eq!(seeds.iter().collect::<Vec<u64>>(), order);
        assert_eq!((seeds.len(), seeds.runs.len()), (10, 6));
        let many: Seeds = (0..100_000).collect();
        assert_eq!(many.runs, [(0, 100_000)]);
    }

    #[test]
    fn metric_names_parse_and_others_say_why_not() {
        for m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>().unwrap(), m);
        }
        let err = "final_los".parse::<Metric>().unwrap_err().to_string();
        assert!(err.contains("did you mean \"final_loss\"?"), "{err}");
        assert!(err.contains("final_loss, final_accuracy, final_test_loss"), "{err}");
        let err = "lr".parse::<Metric>().unwrap_err().to_string();
        assert!(err.contains("is a parameter"), "{err}");
        let err = "diverged_epoch".parse::<Metric>().unwrap_err().to_string();
        assert!(err.contains("Fisher"), "{err}");
        assert!(Metric::FinalTestAccuracy.higher_is_better() && !Metric::FinalTestLoss.higher_is_better());
        assert_eq!("text".parse::<Format>().unwrap(), Format::Text);
        assert!("json".parse::<Format>().unwrap_err().to_string().contains("text, md, csv"));
    }

    #[test]
    fn constant_parameters_that_differ_between_folders_are_the_base_difference() {
        let a = vec![row(0, "0.1", "300", 0.5), row(0, "0.5", "300", 0.4)];
        let b = vec![row(0, "0.1", "3000", 0.1), row(0, "0.5", "3000", 0.05), row(0, "0.9", "3000", 0.01)];
        let r = report(a, b, Metric::FinalLoss);
        assert_eq!(r.base, vec![("epochs".to_string(), "300".to_string(), "3000".to_string())]);
        assert_eq!(r.columns, vec!["lr".to_string()]);
        assert_eq!(r.matched.len(), 2);
        assert_eq!(r.only_b.len(), 1);
        assert_eq!(r.only_b[0].params, vec!["0.9".to_string()]);
    }

    #[test]
    fn partly_shared_seeds_are_paired_and_shown_over_the_shared_ones() {
        // A: seeds 0-3, B: seeds 2-5; shared 2 and 3.
        let a: Vec<_> = (0..4).map(|s| row(s, "0.1", "300", 0.5 + s as f64 * 0.01)).collect();
        let b: Vec<_> = (2..6).map(|s| row(s, "0.1", "300", 0.4 + s as f64 * 0.011)).collect();
        let c = &report(a, b, Metric::FinalLoss).matched[0];
        assert_eq!(c.method, Method::Paired([2, 3].into_iter().collect()));
        assert_eq!((c.shown_a.n, c.shown_b.n), (2, 2));
        let diff = c.shown_b.mean.unwrap() - c.shown_a.mean.unwrap();
        assert!((c.test.unwrap().estimate() - diff).abs() < 1e-15, "the row adds up");
        assert!(
            c.notes[0].contains(
                "paired over seeds 2, 3 (a value on both sides); A's seeds 0, 1 and B's seeds 4, 5 not used"
            ),
            "{:?}",
            c.notes
        );
    }

    #[test]
    fn one_seed_each_gives_no_verdict_unless_it_is_the_same_seed() {
        let c = &report(vec![row(0, "0.1", "300", 0.5)], vec![row(1, "0.1", "300", 0.6)], Metric::FinalLoss)
            .matched[0];
        assert_eq!(c.verdict, Verdict::Undecided);
        assert_eq!(c.notes[0], "1 seed each, not paired: no verdict");
        let c = &report(vec![row(1, "0.1", "300", 0.5)], vec![row(1, "0.1", "300", 0.6)], Metric::FinalLoss)
            .matched[0];
        assert_eq!((c.method.clone(), c.verdict), (Method::OneSeed(1), Verdict::Worse));
        // The same seed diverging on one side only is an exact change too.
        let mut b = vec![row(1, "0.1", "300", 0.6)];
        b[0].outcome.status = "diverged".into();
        let c = &report(vec![row(1, "0.1", "300", 0.5)], b.clone(), Metric::FinalLoss).matched[0];
        assert_eq!(c.verdict, Verdict::Worse, "{:?}", c.notes);
        assert_eq!(c.notes[0], "1 shared seed (1), which diverged in B only: compared exactly");
        // On different seeds it is not.
        let c = &report(vec![row(0, "0.1", "300", 0.5)], b, Metric::FinalLoss).matched[0];
        assert_eq!(c.verdict, Verdict::Undecided, "{:?}", c.notes);
    }

    #[test]
    fn a_rising_divergence_share_is_worse_whatever_the_survivors_do() {
        let a: Vec<_> = (0..12).map(|s| row(s, "0.1", "300", 0.5 + s as f64 * 0.01)).collect();
        let mut b: Vec<_> = (0..12).map(|s| row(s, "0.1", "300", 0.1 + s as f64 * 0.001)).collect();
        for r in &mut b[..10] {
            r.outcome.status = "diverged".into();
            r.outcome.final_loss = f64::NAN;
        }
        let c = &report(a, b, Metric::FinalLoss).matched[0];
        assert_eq!(c.verdict, Verdict::Worse);
        assert!(c.notes[0].starts_with("more seeds diverged in B (diverged: 0 of 12 in A, 10 of 12 in B)"));
        assert!(c.notes.iter().any(|n| n == "its survivors are better on final_loss"), "{:?}", c.notes);
    }

    #[test]
    fn epoch_at_target_counts_never_reached_as_failures() {
        let mut a: Vec<_> = (0..6).map(|s| row(s, "0.1", "300", 0.5)).collect();
        for (i, r) in a.iter_mut().enumerate() {
            r.outcome.epoch_at_target = Some(40 + i as u64);
        }
        let b: Vec<_> = (0..6).map(|s| row(s, "0.1", "300", 0.5)).collect();
        let c = &report(a, b, Metric::EpochAtTarget).matched[0];
        assert_eq!((c.a.n(), c.b.not_reached), (6, 6));
        // 0 of 6 vs 6 of 6 failed: Fisher p = 0.002, worse.
        assert_eq!(c.verdict, Verdict::Worse, "{:?}", c.notes);
    }

    /// `--metric epoch_at_target`: the `diverged` column counts diverged
    /// jobs only; jobs that never reached the target have their own column.
    #[test]
    fn never_reached_is_not_shown_as_diverged() {
        let mut a: Vec<_> = (0..6).map(|s| row(s, "0.1", "300", 0.5)).collect();
        for (i, r) in a.iter_mut().enumerate() {
            r.outcome.epoch_at_target = Some(40 + i as u64);
        }
        let mut b: Vec<_> = (0..6).map(|s| row(s, "0.1", "300", 0.5)).collect();
        b[0].outcome.status = "diverged".into();
        let r = report(a, b, Metric::EpochAtTarget);
        let text = render::text(&r);
        assert!(text.contains("0/6 → 1/6") && text.contains("0/6 → 5/6"), "{text}");
        assert!(text.contains("not reached"), "{text}");
        let md = render::markdown(&r);
        assert!(md.contains("| diverged A → B | not reached A → B |"), "{md}");
        assert!(md.contains("| 0/6 → 1/6 | 0/6 → 5/6 |"), "{md}");
    }
}

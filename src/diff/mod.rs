//! `sweep diff A B` (SPEC 7): match the configurations of two results
//! folders, compare one metric across seeds, and give each configuration a
//! verdict: `identical` (the same seeds gave byte-identical files), `same`
//! (within seed noise) or `changed` (beyond it, at level alpha).
//!
//! Why these tests: a seed fixes a job's data and initial weights (SPEC 5,
//! common random numbers), so when both folders ran the same seeds the
//! per-seed differences are paired and far less noisy than two independent
//! samples: the paired t-test. Otherwise Welch's t-test, which does not
//! assume equal variances (300 and 3000 epochs rarely have them). With one
//! value on a side there is no noise estimate; the values are compared
//! exactly and the verdict says it is weak.
//!
//! Matching: every parameter but the seed is part of a configuration's key,
//! except the parameters that are constant within each folder yet differ
//! between them (`epochs: 300 -> 3000`): those are the difference under
//! study, printed once at the top.
//!
//! This module reads and decides; `render` turns the decisions into text,
//! `stats` holds the tests.

mod render;
mod stats;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::spec::did_you_mean;
use crate::store::{self, JobOutcome, ResultsDir, StoreError, SummaryRow};
use stats::Test;

/// What is compared across seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metric {
    #[default]
    FinalLoss,
    FinalAccuracy,
    MinLoss,
    /// First epoch whose loss reached `target_loss`; jobs that never reached
    /// it are counted, not averaged.
    EpochAtTarget,
}

impl Metric {
    pub const ALL: [Metric; 4] =
        [Metric::FinalLoss, Metric::FinalAccuracy, Metric::MinLoss, Metric::EpochAtTarget];

    /// The summary.csv column name, which is also the `--metric` value.
    pub fn name(self) -> &'static str {
        match self {
            Metric::FinalLoss => "final_loss",
            Metric::FinalAccuracy => "final_accuracy",
            Metric::MinLoss => "min_loss",
            Metric::EpochAtTarget => "epoch_at_target",
        }
    }

    /// Accuracy improves upwards; losses and epochs-to-target downwards.
    pub fn higher_is_better(self) -> bool {
        self == Metric::FinalAccuracy
    }

    /// A finished job's value (None: the target was never reached).
    fn value(self, o: &JobOutcome) -> Option<f64> {
        match self {
            Metric::FinalLoss => Some(o.final_loss),
            Metric::FinalAccuracy => Some(o.final_accuracy),
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
        Metric::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            DiffError::UnknownChoice { what: "metric", got: s.to_string(), choices: names }
        })
    }
}

/// How the comparison is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A Markdown report: header, one table row per configuration, a closing line.
    #[default]
    Md,
    /// One row per configuration with every figure in its own column.
    Csv,
}

impl FromStr for Format {
    type Err = DiffError;

    fn from_str(s: &str) -> Result<Format, DiffError> {
        match s {
            "md" => Ok(Format::Md),
            "csv" => Ok(Format::Csv),
            _ => Err(DiffError::UnknownChoice {
                what: "format",
                got: s.to_string(),
                choices: vec!["md", "csv"],
            }),
        }
    }
}

/// What `sweep diff` was asked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiffOptions {
    pub metric: Metric,
    /// Significance level of the tests; the intervals are at 1 − alpha.
    pub alpha: f64,
    pub format: Format,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions { metric: Metric::FinalLoss, alpha: 0.05, format: Format::Md }
    }
}

/// The rendered comparison and its counts (`--fail-on-change` reads `changed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOutcome {
    pub text: String,
    /// Configurations whose verdict is `changed`...
    pub changed: usize,
    /// ...of which B is better...
    pub improved: usize,
    /// ...or worse.
    pub worsened: usize,
    /// Configurations present in both folders (those compared).
    pub configs: usize,
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
}

fn suggestion(got: &str, choices: &[&str]) -> String {
    did_you_mean(got, choices).map(|m| format!(" (did you mean \"{m}\"?)")).unwrap_or_default()
}

/// Compares results folder `b` against `a` (differences are B − A).
pub fn diff(a: &Path, b: &Path, opts: &DiffOptions) -> Result<DiffOutcome, DiffError> {
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(DiffError::Alpha { alpha: opts.alpha });
    }
    let (side_a, side_b) = (Folder::load(a)?, Folder::load(b)?);
    let report = Report::build(&side_a, &side_b, opts);
    let changed: Vec<&ConfigDiff> = report.matched.iter().filter(|c| c.verdict == Verdict::Changed).collect();
    Ok(DiffOutcome {
        text: match opts.format {
            Format::Md => render::markdown(&report),
            Format::Csv => render::csv(&report),
        },
        changed: changed.len(),
        improved: changed.iter().filter(|c| c.direction == Some(Direction::Improved)).count(),
        worsened: changed.iter().filter(|c| c.direction == Some(Direction::Worsened)).count(),
        configs: report.matched.len(),
    })
}

/// One results folder's rows.
struct Folder<'p> {
    root: &'p Path,
    rows: Vec<SummaryRow>,
}

impl<'p> Folder<'p> {
    fn load(root: &'p Path) -> Result<Folder<'p>, DiffError> {
        if !root.is_dir() {
            return Err(DiffError::NotAFolder { path: root.to_path_buf() });
        }
        let rows = store::load_rows(root)?;
        if rows.is_empty() {
            return Err(DiffError::NoJobs { path: root.to_path_buf() });
        }
        Ok(Folder { root, rows })
    }

    /// A job's `files_hash`: summary.csv does not carry it, so it comes from
    /// the job's params.toml. None when that cannot be read: the job then
    /// cannot be called identical, but it can still be compared.
    fn files_hash(&self, row: &SummaryRow) -> Option<String> {
        let hash = if row.outcome.files_hash.is_empty() {
            store::read_job(&ResultsDir::new(self.root).job_dir(&row.job_id)).ok()?.result.files_hash
        } else {
            row.outcome.files_hash.clone()
        };
        (!hash.is_empty()).then_some(hash)
    }
}

/// One side of a configuration, reduced to the metric.
#[derive(Debug, Clone, Default)]
struct Side {
    /// Jobs of the configuration on this side (whatever their outcome).
    jobs: usize,
    /// (seed, value) of the jobs that have a value.
    values: Vec<(u64, f64)>,
    /// Diverged jobs: counted, never averaged.
    diverged: usize,
    /// Jobs that never reached `target_loss` (epoch_at_target only).
    not_reached: usize,
    mean: Option<f64>,
    /// None with fewer than two values: no noise estimate.
    std: Option<f64>,
}

impl Side {
    fn new(rows: &[&SummaryRow], metric: Metric) -> Side {
        let mut side = Side { jobs: rows.len(), ..Side::default() };
        for r in rows {
            if r.outcome.diverged() {
                side.diverged += 1;
                continue;
            }
            match metric.value(&r.outcome) {
                // A non-finite value in an `ok` row would poison the mean:
                // count it with the diverged ones.
                Some(v) if !v.is_finite() => side.diverged += 1,
                Some(v) => side.values.push((r.seed, v)),
                None => side.not_reached += 1,
            }
        }
        let xs: Vec<f64> = side.values.iter().map(|(_, v)| *v).collect();
        (side.mean, side.std) = stats::mean_std(&xs);
        side
    }

    fn n(&self) -> usize {
        self.values.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Identical,
    Same,
    Changed,
}

impl Verdict {
    fn name(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::Same => "same",
            Verdict::Changed => "changed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Improved,
    Worsened,
}

/// How a configuration was compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// The same seeds with byte-identical files: no test needed.
    Identical,
    /// Paired t-test over this many shared seeds.
    Paired(usize),
    Welch,
    /// One value on a side: no noise estimate, compared exactly.
    Exact,
    /// A side without any value (all diverged, or never reached the target).
    NoValues,
}

impl Method {
    fn name(self) -> String {
        match self {
            Method::Identical => "identical files".into(),
            Method::Paired(n) => format!("paired ({n} seeds)"),
            Method::Welch => "Welch".into(),
            Method::Exact => "exact".into(),
            Method::NoValues => "none".into(),
        }
    }

    fn csv_name(self) -> &'static str {
        match self {
            Method::Identical => "identical",
            Method::Paired(_) => "paired",
            Method::Welch => "welch",
            Method::Exact => "exact",
            Method::NoValues => "none",
        }
    }
}

/// One configuration present in both folders.
#[derive(Debug, Clone)]
struct ConfigDiff {
    /// Values of [`Report::columns`].
    params: Vec<String>,
    a: Side,
    b: Side,
    method: Method,
    /// The test's figures (None for identical or value-less sides).
    test: Option<Test>,
    /// Share of shared seeds where B beats A, ties counting half (paired only).
    p_improvement: Option<f64>,
    verdict: Verdict,
    /// For `changed`: whether B is better.
    direction: Option<Direction>,
    notes: Vec<String>,
    /// Fewer than 3 seeds a side (or no noise estimate): the verdict is weak.
    weak: bool,
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
    /// (key, value in A, value in B): constant within each folder, differing between.
    base: Vec<(String, String, String)>,
    /// The parameters that tell configurations apart (SPEC order).
    columns: Vec<String>,
    matched: Vec<ConfigDiff>,
    only_a: Vec<OneSided>,
    only_b: Vec<OneSided>,
}

/// Rows grouped by configuration key, in order of first appearance.
struct Groups<'r> {
    order: Vec<Vec<String>>,
    rows: HashMap<Vec<String>, Vec<&'r SummaryRow>>,
}

impl<'r> Groups<'r> {
    fn new(rows: &'r [SummaryRow], keys: &[String]) -> Groups<'r> {
        let mut g = Groups { order: Vec::new(), rows: HashMap::new() };
        for r in rows {
            let key = config_key(r, keys);
            g.rows
                .entry(key.clone())
                .or_insert_with(|| {
                    g.order.push(key);
                    Vec::new()
                })
                .push(r);
        }
        g
    }
}

/// A row's value of every key (empty when its folder lacks the column).
fn config_key(row: &SummaryRow, keys: &[String]) -> Vec<String> {
    keys.iter().map(|k| row.param(k).unwrap_or("").to_string()).collect()
}

/// The single value `key` takes across `rows`, if it takes only one.
fn constant<'r>(rows: &'r [SummaryRow], key: &str) -> Option<&'r str> {
    let first = rows.first()?.param(key).unwrap_or("");
    rows.iter().all(|r| r.param(key).unwrap_or("") == first).then_some(first)
}

impl<'p> Report<'p> {
    fn build(a: &Folder<'p>, b: &Folder<'p>, opts: &DiffOptions) -> Report<'p> {
        // Every parameter either folder knows, in SPEC (column) order.
        let mut keys: Vec<String> = Vec::new();
        for r in a.rows.iter().chain(&b.rows) {
            for (k, _) in &r.params {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
        let mut base = Vec::new();
        keys.retain(|k| match (constant(&a.rows, k), constant(&b.rows, k)) {
            (Some(va), Some(vb)) if va != vb => {
                base.push((k.clone(), va.to_string(), vb.to_string()));
                false
            }
            _ => true,
        });
        let all: Vec<SummaryRow> = a.rows.iter().chain(&b.rows).cloned().collect();
        let columns: Vec<String> = keys.iter().filter(|k| constant(&all, k).is_none()).cloned().collect();
        let column_idx: Vec<usize> =
            columns.iter().filter_map(|c| keys.iter().position(|k| k == c)).collect();
        let shown = |key: &[String]| -> Vec<String> { column_idx.iter().map(|&i| key[i].clone()).collect() };

        let (ga, gb) = (Groups::new(&a.rows, &keys), Groups::new(&b.rows, &keys));
        let mut report = Report {
            a: a.root,
            b: b.root,
            jobs_a: a.rows.len(),
            jobs_b: b.rows.len(),
            metric: opts.metric,
            alpha: opts.alpha,
            base,
            columns,
            matched: Vec::new(),
            only_a: Vec::new(),
            only_b: Vec::new(),
        };
        for key in &ga.order {
            let rows_a = &ga.rows[key];
            let side_a = Side::new(rows_a, opts.metric);
            match gb.rows.get(key) {
                Some(rows_b) => {
                    let identical = identical(a, rows_a, b, rows_b, opts.metric);
                    let side_b = Side::new(rows_b, opts.metric);
                    report.matched.push(compare(shown(key), side_a, side_b, identical, opts));
                }
                None => report.only_a.push(OneSided { params: shown(key), side: side_a }),
            }
        }
        for key in gb.order.iter().filter(|k| !ga.rows.contains_key(*k)) {
            report.only_b.push(OneSided { params: shown(key), side: Side::new(&gb.rows[key], opts.metric) });
        }
        report
    }
}

/// The same seeds on both sides, each with byte-identical files (and the
/// same outcome: `target_loss` changes `epoch_at_target` but no file).
fn identical(a: &Folder, rows_a: &[&SummaryRow], b: &Folder, rows_b: &[&SummaryRow], metric: Metric) -> bool {
    let seeds = |rows: &[&SummaryRow]| rows.iter().map(|r| r.seed).collect::<BTreeSet<u64>>();
    let (sa, sb) = (seeds(rows_a), seeds(rows_b));
    if sa != sb || sa.len() != rows_a.len() || sb.len() != rows_b.len() {
        return false;
    }
    rows_a.iter().all(|ra| {
        let Some(rb) = rows_b.iter().find(|rb| rb.seed == ra.seed) else { return false };
        let same_outcome = ra.outcome.status == rb.outcome.status
            && metric.value(&ra.outcome).map(f64::to_bits) == metric.value(&rb.outcome).map(f64::to_bits);
        same_outcome && a.files_hash(ra).is_some_and(|h| b.files_hash(rb) == Some(h))
    })
}

/// Values of the seeds both sides have a value for, in A's order.
fn pairs(a: &Side, b: &Side) -> (Vec<f64>, Vec<f64>) {
    let mut seen = BTreeSet::new();
    a.values
        .iter()
        .filter(|(s, _)| seen.insert(*s))
        .filter_map(|(s, va)| b.values.iter().find(|(sb, _)| sb == s).map(|(_, vb)| (*va, *vb)))
        .unzip()
}

/// Picks the test, runs it, and words the verdict.
fn compare(params: Vec<String>, a: Side, b: Side, identical: bool, opts: &DiffOptions) -> ConfigDiff {
    let better = |estimate: f64| {
        if opts.metric.higher_is_better() { estimate > 0.0 } else { estimate < 0.0 }
    };
    let mut d = ConfigDiff {
        params,
        method: Method::NoValues,
        test: None,
        p_improvement: None,
        verdict: Verdict::Same,
        direction: None,
        notes: Vec::new(),
        weak: false,
        a,
        b,
    };
    let (a, b) = (&d.a, &d.b);
    let (pa, pb) = pairs(a, b);
    if identical {
        d.method = Method::Identical;
        d.verdict = Verdict::Identical;
    } else if a.n() == 0 || b.n() == 0 {
        // Nothing to average on a side: every job diverged or never reached
        // the target. A side with values is better than one without.
        if a.n() != b.n() {
            d.verdict = Verdict::Changed;
            d.direction = Some(if b.n() > 0 { Direction::Improved } else { Direction::Worsened });
        }
        let empty = if a.n() == 0 && b.n() == 0 {
            "either side"
        } else if a.n() == 0 {
            "A"
        } else {
            "B"
        };
        d.notes.push(format!("no {} value on {empty}", opts.metric));
    } else {
        let test = if pa.len() >= 2 {
            d.method = Method::Paired(pa.len());
            let wins: f64 = pa
                .iter()
                .zip(&pb)
                .map(|(&va, &vb)| {
                    if vb == va {
                        0.5
                    } else if better(vb - va) {
                        1.0
                    } else {
                        0.0
                    }
                })
                .sum();
            d.p_improvement = Some(wins / pa.len() as f64);
            stats::paired(&pa, &pb, opts.alpha)
        } else if a.n() >= 2 && b.n() >= 2 {
            d.method = Method::Welch;
            let xs = |s: &Side| s.values.iter().map(|(_, v)| *v).collect::<Vec<f64>>();
            stats::welch(&xs(a), &xs(b), opts.alpha)
        } else {
            d.method = Method::Exact;
            d.notes.push("no noise estimate (n = 1): compared exactly".into());
            Test::NoVariance { estimate: b.mean.unwrap_or(0.0) - a.mean.unwrap_or(0.0) }
        };
        if matches!(test, Test::NoVariance { .. }) && d.method != Method::Exact {
            d.notes.push("zero variance: compared exactly".into());
        }
        if test.significant(opts.alpha) {
            d.verdict = Verdict::Changed;
            d.direction =
                Some(if better(test.estimate()) { Direction::Improved } else { Direction::Worsened });
        }
        d.test = Some(test);
        let fewest = match d.method {
            Method::Paired(n) => n,
            _ => a.n().min(b.n()),
        };
        if fewest < 3 {
            d.weak = true;
            d.notes.push("weak verdict: fewer than 3 seeds a side".into());
        }
    }
    let counted = |what: &str, na: usize, nb: usize| format!("{what}: A {na}, B {nb}");
    if d.a.diverged + d.b.diverged > 0 {
        d.notes.push(counted("diverged", d.a.diverged, d.b.diverged));
    }
    if d.a.not_reached + d.b.not_reached > 0 {
        d.notes.push(counted("target never reached", d.a.not_reached, d.b.not_reached));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seed: u64, lr: &str, epochs: &str, loss: f64) -> SummaryRow {
        SummaryRow {
            job_id: format!("lr-{lr}_seed-{seed}"),
            seed,
            params: vec![("lr".into(), lr.into()), ("epochs".into(), epochs.into())],
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
        }
    }

    fn report<'p>(a: Vec<SummaryRow>, b: Vec<SummaryRow>, metric: Metric) -> Report<'p> {
        let (fa, fb) = (Folder { root: Path::new("a"), rows: a }, Folder { root: Path::new("b"), rows: b });
        Report::build(&fa, &fb, &DiffOptions { metric, ..DiffOptions::default() })
    }

    #[test]
    fn metric_names_parse_and_unknown_ones_list_the_choices() {
        for m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>().unwrap(), m);
        }
        let err = "final_los".parse::<Metric>().unwrap_err().to_string();
        assert!(err.contains("did you mean \"final_loss\"?"), "{err}");
        assert!(err.contains("final_loss, final_accuracy, min_loss, epoch_at_target"), "{err}");
        assert_eq!("csv".parse::<Format>().unwrap(), Format::Csv);
        assert!("json".parse::<Format>().unwrap_err().to_string().contains("md, csv"));
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
    fn shared_seeds_are_paired_and_disjoint_seeds_use_welch() {
        let a: Vec<_> = (0..4).map(|s| row(s, "0.1", "300", 0.5 + s as f64 * 0.01)).collect();
        let b: Vec<_> = (0..4).map(|s| row(s, "0.1", "300", 0.4 + s as f64 * 0.011)).collect();
        let r = report(a.clone(), b, Metric::FinalLoss);
        let c = &r.matched[0];
        assert_eq!(c.method, Method::Paired(4));
        assert_eq!(c.verdict, Verdict::Changed);
        assert_eq!(c.direction, Some(Direction::Improved));
        assert_eq!(c.p_improvement, Some(1.0));

        let b: Vec<_> = (10..13).map(|s| row(s, "0.1", "300", 0.5 + s as f64 * 0.001)).collect();
        let c = &report(a, b, Metric::FinalLoss).matched[0];
        assert_eq!(c.method, Method::Welch);
        assert_eq!((c.a.n(), c.b.n()), (4, 3));
        assert_eq!(c.p_improvement, None);
    }

    #[test]
    fn single_values_are_compared_exactly_and_flagged_weak() {
        let c = &report(vec![row(0, "0.1", "300", 0.5)], vec![row(1, "0.1", "300", 0.5)], Metric::FinalLoss)
            .matched[0];
        assert_eq!((c.method, c.verdict, c.weak), (Method::Exact, Verdict::Same, true));
        let c = &report(vec![row(0, "0.1", "300", 0.5)], vec![row(1, "0.1", "300", 0.6)], Metric::FinalLoss)
            .matched[0];
        assert_eq!((c.verdict, c.direction), (Verdict::Changed, Some(Direction::Worsened)));
    }

    #[test]
    fn diverged_and_unreached_jobs_are_counted_not_averaged() {
        let mut a: Vec<_> = (0..3).map(|s| row(s, "0.1", "300", 0.5)).collect();
        a[0].outcome.status = "diverged".into();
        a[0].outcome.final_loss = f64::NAN;
        a[1].outcome.epoch_at_target = Some(40);
        a[2].outcome.epoch_at_target = Some(60);
        let b: Vec<_> = (0..3).map(|s| row(s, "0.1", "300", 0.5)).collect();
        let r = report(a.clone(), b.clone(), Metric::FinalLoss);
        let c = &r.matched[0];
        assert_eq!((c.a.n(), c.a.diverged, c.a.mean), (2, 1, Some(0.5)));
        assert!(c.notes.iter().any(|n| n == "diverged: A 1, B 0"), "{:?}", c.notes);

        let c = &report(a, b, Metric::EpochAtTarget).matched[0];
        assert_eq!((c.a.n(), c.a.mean, c.b.not_reached), (2, Some(50.0), 3));
        // B never reaches the target where A does: worse, though nothing is averaged.
        assert_eq!((c.verdict, c.direction), (Verdict::Changed, Some(Direction::Worsened)));
    }

    #[test]
    fn accuracy_improves_upwards() {
        let mut a: Vec<_> = (0..3).map(|s| row(s, "0.1", "300", 0.5)).collect();
        let mut b = a.clone();
        for (i, r) in a.iter_mut().enumerate() {
            r.outcome.final_accuracy = 0.5 + i as f64 * 0.01;
        }
        for (i, r) in b.iter_mut().enumerate() {
            r.outcome.final_accuracy = 0.9 + i as f64 * 0.012;
        }
        let c = &report(a, b, Metric::FinalAccuracy).matched[0];
        assert_eq!((c.verdict, c.direction), (Verdict::Changed, Some(Direction::Improved)));
        assert_eq!(c.p_improvement, Some(1.0));
    }
}

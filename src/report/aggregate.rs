//! Aggregation for the report: which parameters are swept, how jobs group
//! (by one axis value, or by whole configuration), the statistics of a group,
//! the mean and min–max band of learning curves, and number formatting.
//!
//! Everything here is pure (no files; but a large group's curves, which
//! [`Curves`] may keep in an anonymous temporary file), so the figures and
//! tables can be checked against hand-worked numbers.
//!
//! Conventions, chosen so a reader can trust a table without reading code:
//! - A job is *diverged* when its status says so or its final loss is not
//!   finite. Diverged jobs are counted, never averaged: a single NaN would
//!   otherwise erase a whole row.
//! - `std` is the sample standard deviation (divisor n - 1): the seeds are a
//!   sample of the seeds one could have run. It is undefined for n < 2.
//! - The median of an even count is the mean of the two middle values.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::hash::Hasher as _;
use std::io::{self, Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use super::rows::Row;
use crate::spec::{self, Typed};

/// A parameter whose value varies across the jobs, and its values in
/// reading order (numeric order when every value is a number or a list of
/// numbers, else order of first appearance, which is plan order when the
/// rows come from summary.csv).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    /// The values as displayed, in reading order.
    pub values: Vec<String>,
    /// The same values, typed (None: rows without the key).
    pub typed: Vec<Option<Typed>>,
}

impl Axis {
    /// Builds an axis from its distinct typed values (first-appearance order).
    pub fn new(key: &str, mut typed: Vec<Option<Typed>>) -> Axis {
        let numbers: Option<Vec<Vec<f64>>> =
            typed.iter().map(|v| v.as_ref().and_then(Typed::numbers)).collect();
        if let Some(numbers) = numbers {
            let mut order: Vec<usize> = (0..typed.len()).collect();
            order.sort_by(|&a, &b| numbers[a].partial_cmp(&numbers[b]).unwrap_or(Ordering::Equal));
            typed = order.into_iter().map(|i| typed[i].clone()).collect();
        }
        let values = typed.iter().map(|v| v.as_ref().map(ToString::to_string).unwrap_or_default()).collect();
        Axis { key: key.to_string(), values, typed }
    }

    /// The index of a row's value in [`Axis::values`].
    pub fn position(&self, r: &Row) -> Option<usize> {
        let v = r.param(&self.key);
        self.typed.iter().position(|t| t.as_ref() == v)
    }
}

/// The swept axes of `rows`, in SPEC (summary.csv column) order. The seed is
/// never an axis: it is what the statistics run over.
pub fn swept_axes(rows: &[Row]) -> Vec<Axis> {
    let Some(first) = rows.first() else { return Vec::new() };
    let mut axes = Vec::new();
    for (key, _) in first.params.typed() {
        let mut values: Vec<Option<Typed>> = Vec::new();
        for r in rows {
            let v = r.param(key.name);
            if !values.iter().any(|x| x.as_ref() == v) {
                values.push(v.cloned());
            }
        }
        if values.len() > 1 {
            axes.push(Axis::new(key.name, values));
        }
    }
    axes
}

/// Parameters that are the same for every job, as (key, value displayed).
pub fn fixed_params(rows: &[Row], axes: &[Axis]) -> Vec<(String, String)> {
    let Some(first) = rows.first() else { return Vec::new() };
    first
        .params
        .typed()
        .filter(|(k, v)| v.is_some() && !axes.iter().any(|a| a.key == k.name))
        .map(|(k, v)| (k.name.to_string(), v.map(ToString::to_string).unwrap_or_default()))
        .collect()
}

/// Whether a displayed value is the key's default (so titles can name only
/// what a reader could not guess).
pub fn is_default(key: &str, value: &str) -> bool {
    match spec::find_key(key) {
        Some(k) => spec::display_value(&spec::canonical(key, &spec::default_value(k))) == value,
        None => false,
    }
}

/// `key = value` for the fixed parameters that differ from their defaults.
pub fn non_default(fixed: &[(String, String)]) -> Vec<String> {
    fixed.iter().filter(|(k, v)| !is_default(k, v)).map(|(k, v)| format!("{k} = {v}")).collect()
}

/// Whether a job counts as diverged (status, or a non-finite final loss).
pub fn diverged(r: &Row) -> bool {
    r.outcome().diverged() || !r.outcome().final_loss().is_finite()
}

/// Jobs grouped by their value of `axis`, in the axis's value order: by
/// the typed value, never by its displayed text.
pub fn by_axis<'a>(rows: &'a [Row], axis: &Axis) -> Vec<(String, Vec<&'a Row>)> {
    axis.values
        .iter()
        .enumerate()
        .map(|(i, v)| (v.clone(), rows.iter().filter(|r| axis.position(r) == Some(i)).collect()))
        .collect()
}

/// A configuration: one value per swept axis (every parameter but the seed,
/// since the others are constant), and its jobs in seed order.
#[derive(Debug, Clone)]
pub struct Config<'a> {
    /// (axis key, value), in axis order.
    pub values: Vec<(String, String)>,
    pub rows: Vec<&'a Row>,
}

impl Config<'_> {
    /// `lr=0.1, hidden=[2, 2]`, or `all jobs` when nothing is swept.
    pub fn label(&self) -> String {
        if self.values.is_empty() {
            return "all jobs".to_string();
        }
        self.values.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    }
}

/// Every configuration, ordered by the axes' value orders (first axis
/// slowest), jobs within one ordered by seed.
pub fn configurations<'a>(rows: impl IntoIterator<Item = &'a Row>, axes: &[Axis]) -> Vec<Config<'a>> {
    let mut groups: BTreeMap<Vec<usize>, Config<'a>> = BTreeMap::new();
    for r in rows {
        let mut pos = Vec::with_capacity(axes.len());
        let mut values = Vec::with_capacity(axes.len());
        for a in axes {
            let at = a.position(r);
            pos.push(at.unwrap_or(usize::MAX));
            values.push((a.key.clone(), at.map_or_else(|| r.shown(&a.key), |i| a.values[i].clone())));
        }
        groups.entry(pos).or_insert_with(|| Config { values, rows: Vec::new() }).rows.push(r);
    }
    let mut configs: Vec<Config<'a>> = groups.into_values().collect();
    for c in &mut configs {
        c.rows.sort_by_key(|r| r.seed);
        c.rows.shrink_to_fit();
    }
    configs
}

/// The mean and sample std every table prints: one implementation, shared
/// with `sweep diff` (overflow-safe; see [`crate::stats`]).
pub use crate::stats::{mean, sample_std};

/// Median (mean of the two middle values for an even count); None if empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// What a table row says about a group of jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Jobs in the group.
    pub n: usize,
    pub diverged: usize,
    /// Over the jobs that did not diverge.
    pub loss_mean: Option<f64>,
    pub loss_std: Option<f64>,
    pub accuracy_mean: Option<f64>,
    /// Mean final accuracy on the held-out samples (None without a test split).
    pub test_accuracy_mean: Option<f64>,
    /// Jobs (not diverged) whose final training accuracy is 100%.
    pub perfect: usize,
    /// Jobs whose training loss reached `target_loss` at some epoch.
    pub reached: usize,
    pub median_epoch_at_target: Option<f64>,
    /// Seeds that diverged or ended below 100% accuracy, ascending.
    pub failed_seeds: Vec<u64>,
}

/// The statistics of a group of jobs.
pub fn stats(rows: &[&Row]) -> Stats {
    let ok: Vec<&&Row> = rows.iter().filter(|r| !diverged(r)).collect();
    let losses: Vec<f64> = ok.iter().map(|r| r.outcome().final_loss()).collect();
    let accs: Vec<f64> = ok.iter().map(|r| r.outcome().final_accuracy()).filter(|a| a.is_finite()).collect();
    let test_accs: Vec<f64> =
        ok.iter().filter_map(|r| r.outcome().final_test_accuracy()).filter(|a| a.is_finite()).collect();
    let epochs: Vec<f64> =
        rows.iter().filter_map(|r| r.outcome().epoch_at_target()).map(|e| e as f64).collect();
    let perfect = |r: &Row| !diverged(r) && r.outcome().final_accuracy() >= 1.0;
    let mut failed_seeds: Vec<u64> = rows.iter().filter(|r| !perfect(r)).map(|r| r.seed).collect();
    failed_seeds.sort_unstable();
    failed_seeds.dedup();
    Stats {
        n: rows.len(),
        diverged: rows.len() - ok.len(),
        loss_mean: mean(&losses),
        loss_std: sample_std(&losses),
        accuracy_mean: mean(&accs),
        test_accuracy_mean: mean(&test_accs),
        perfect: rows.iter().filter(|r| perfect(r)).count(),
        reached: epochs.len(),
        median_epoch_at_target: median(&epochs),
        failed_seeds,
    }
}

/// One job's training-loss curve: (epoch, loss) in epoch order. A job that
/// diverged ends on a non-finite loss.
pub type Curve = Vec<(f64, f64)>;

/// Median and interquartile range of several curves on one epoch grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub epoch: Vec<f64>,
    pub median: Vec<f64>,
    /// First and third quartiles.
    pub q1: Vec<f64>,
    pub q3: Vec<f64>,
    /// Curves that went into it.
    pub curves: usize,
}

/// Curves held for a band, flat: each curve's values one after the other,
/// its epochs shared with every curve logged at the same epochs (the usual
/// case: one list for a whole group). A curve of `n` records costs `8 n`
/// bytes of values and 5 bytes, not a [`Curve`]'s `16 n` plus its own
/// allocation. A group with more than [`SPILL_VALUES`] values, made with
/// [`Curves::spilling_to`], keeps them in an anonymous temporary file
/// instead, and [`band_of`] reads them back in passes over blocks of epochs
/// (memory: [`SPILL_VALUES`] values, or one value per curve).
#[derive(Debug, Default)]
pub struct Curves {
    /// The distinct epoch lists.
    epochs: Vec<Vec<f64>>,
    /// Epoch lists by a hash of their bits (candidates compared whole).
    known: HashMap<u64, Vec<u32>>,
    /// Per curve, its epoch list: its values are as many, after the
    /// previous curve's.
    lists: Vec<u32>,
    /// Per curve, whether its last value is not finite (its job diverged).
    diverged: Vec<bool>,
    /// The values, in memory ...
    values: Vec<f64>,
    /// ... or in a temporary file in `spill_dir` (little-endian f64s).
    spill: Option<io::BufWriter<fs::File>>,
    spill_dir: Option<PathBuf>,
    /// The curve being pushed (reused).
    scratch: Vec<f64>,
    scratch_values: Vec<f64>,
    /// Curves expected ([`Curves::with_capacity`]).
    expected: usize,
}

/// Values of a group held in memory, at most, before they go to a
/// temporary file ([`Curves::spilling_to`]): 1 MB.
pub const SPILL_VALUES: usize = 1 << 17;

impl Curves {
    /// Room for `curves` curves; once the first is pushed, room for that
    /// many values each (exact, not doubled: curves of a group are usually
    /// all as long).
    pub fn with_capacity(curves: usize) -> Curves {
        Curves {
            lists: Vec::with_capacity(curves),
            diverged: Vec::with_capacity(curves),
            expected: curves,
            ..Curves::default()
        }
    }

    /// As [`Curves::with_capacity`], the values in a temporary file in
    /// `dir` when they would be more than [`SPILL_VALUES`].
    pub fn spilling_to(curves: usize, dir: &Path) -> Curves {
        Curves { spill_dir: Some(dir.to_path_buf()), ..Curves::with_capacity(curves) }
    }

    /// Appends a curve given as (epoch, value) in epoch order; an empty
    /// one is not kept. Errors: the temporary file cannot be made or
    /// written.
    pub fn push(&mut self, points: impl IntoIterator<Item = (f64, f64)>) -> io::Result<()> {
        self.scratch.clear();
        self.scratch_values.clear();
        for (e, v) in points {
            self.scratch.push(e);
            self.scratch_values.push(v);
        }
        let Some(&last) = self.scratch_values.last() else { return Ok(()) };
        if self.lists.is_empty() {
            let all = self.expected.max(1).saturating_mul(self.scratch.len());
            match &self.spill_dir {
                Some(dir) if all > SPILL_VALUES => {
                    fs::create_dir_all(dir)?;
                    self.spill = Some(io::BufWriter::new(tempfile::tempfile_in(dir)?));
                }
                _ => self.values.reserve_exact(all),
            }
        }
        let list = self.epoch_list();
        self.lists.push(list);
        self.diverged.push(!last.is_finite());
        match &mut self.spill {
            Some(file) => {
                for v in &self.scratch_values {
                    file.write_all(&v.to_le_bytes())?;
                }
            }
            None => self.values.extend_from_slice(&self.scratch_values),
        }
        Ok(())
    }

    /// The index of the scratch epochs among the distinct lists (added when new).
    fn epoch_list(&mut self) -> u32 {
        if let Some(&last) = self.lists.last()
            && self.epochs[last as usize] == self.scratch
        {
            return last;
        }
        let mut h = std::hash::DefaultHasher::new();
        for e in &self.scratch {
            h.write_u64(e.to_bits());
        }
        let candidates = self.known.entry(h.finish()).or_default();
        if let Some(&i) = candidates.iter().find(|&&i| self.epochs[i as usize] == self.scratch) {
            return i;
        }
        let i = u32::try_from(self.epochs.len()).unwrap_or(u32::MAX);
        candidates.push(i);
        self.epochs.push(self.scratch.clone());
        i
    }

    /// Curves held.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Each curve in order, as (its index, epochs, values): from memory, or
    /// read back from the temporary file.
    fn each(&mut self, mut f: impl FnMut(usize, &[f64], &[f64])) -> io::Result<()> {
        let Some(spill) = &mut self.spill else {
            let mut at = 0;
            for (i, &list) in self.lists.iter().enumerate() {
                let epochs = &self.epochs[list as usize];
                f(i, epochs, &self.values[at..at + epochs.len()]);
                at += epochs.len();
            }
            return Ok(());
        };
        spill.flush()?;
        let mut file = spill.get_ref();
        file.seek(io::SeekFrom::Start(0))?;
        let mut reader = io::BufReader::new(file);
        let mut bytes = [0u8; 8];
        for (i, &list) in self.lists.iter().enumerate() {
            let epochs = &self.epochs[list as usize];
            self.scratch_values.clear();
            for _ in 0..epochs.len() {
                reader.read_exact(&mut bytes)?;
                self.scratch_values.push(f64::from_le_bytes(bytes));
            }
            f(i, epochs, &self.scratch_values);
        }
        Ok(())
    }

    /// Every curve as a [`Curve`] (a figure's thin lines, for few jobs).
    pub fn to_curves(&mut self) -> io::Result<Vec<Curve>> {
        let mut out = Vec::with_capacity(self.len());
        self.each(|_, e, v| out.push(e.iter().copied().zip(v.iter().copied()).collect()))?;
        Ok(out)
    }

    /// The curves of `curves` that are not empty, in memory.
    pub fn of(curves: &[&Curve]) -> Curves {
        let mut set = Curves::default();
        for c in curves {
            // In memory (no spill directory): nothing to fail.
            let _ = set.push(c.iter().copied());
        }
        set
    }
}

/// Whether a curve's values end on a non-finite loss (its job diverged).
fn ended_diverged(values: &[f64]) -> bool {
    values.last().is_some_and(|v| !v.is_finite())
}

/// The median and interquartile range over `curves`, at each epoch (see
/// [`band_of`]).
pub fn band(curves: &[&Curve]) -> Option<Band> {
    // In memory: reading them back cannot fail.
    band_of(&mut Curves::of(curves)).ok().flatten()
}

/// The median and interquartile range over `curves`, at each epoch.
///
/// Why these and not mean and min–max: losses span decades and are drawn on
/// a log axis, where one stalled seed drags a mean up by orders of magnitude
/// and a min–max band over many jobs covers the whole plot. The median and
/// quartiles are order statistics, so they are the same on a log or a linear
/// axis, and the band holds the middle half of the jobs whatever the rest do.
///
/// A diverged job counts as an infinite loss from the epoch it diverged on:
/// it pushes the median and the upper quartile up instead of silently
/// leaving the group (a quartile that is infinite is drawn at the top edge).
/// The grid is every epoch any curve logged, from the latest first epoch to
/// the earliest last epoch of the jobs that did not diverge, so each point
/// summarises the same jobs. Curves logged at the same epochs (the usual
/// case) are used exactly; elsewhere a curve is interpolated linearly
/// between its two neighbouring logged epochs. Quartiles interpolate
/// linearly between order statistics (Hyndman & Fan type 7, numpy's default),
/// except next to a diverged job, where the nearer order statistic is taken.
///
/// Errors: a spilled group's temporary file cannot be read back.
pub fn band_of(curves: &mut Curves) -> io::Result<Option<Band>> {
    if curves.is_empty() {
        return Ok(None);
    }
    let n = curves.len();
    let lists = || curves.lists.iter().map(|&l| &curves.epochs[l as usize]);
    let start = lists().map(|e| e[0]).fold(f64::NEG_INFINITY, f64::max);
    let last = |e: &Vec<f64>| e[e.len() - 1];
    let mut end = lists()
        .zip(&curves.diverged)
        .filter(|(_, d)| !**d)
        .map(|(e, _)| last(e))
        .fold(f64::INFINITY, f64::min);
    if !end.is_finite() {
        end = lists().map(last).fold(f64::NEG_INFINITY, f64::max);
    }
    if start > end {
        return Ok(None);
    }
    // Every epoch of the distinct epoch lists in the range, once (sorted
    // and deduplicated as it grows).
    let mut grid: Vec<f64> = Vec::new();
    let mut distinct = 0;
    for list in &curves.epochs {
        grid.extend(list.iter().copied().filter(|e| (start..=end).contains(e)));
        if grid.len() >= 2 * distinct.max(1024) {
            grid.sort_by(f64::total_cmp);
            grid.dedup();
            distinct = grid.len();
        }
    }
    grid.sort_by(f64::total_cmp);
    grid.dedup();

    let mut b = Band {
        epoch: Vec::with_capacity(grid.len()),
        median: Vec::with_capacity(grid.len()),
        q1: Vec::with_capacity(grid.len()),
        q3: Vec::with_capacity(grid.len()),
        curves: n,
    };
    // The values at a block of epochs, a column of `n` per epoch: one
    // epoch at a time for curves in memory, as many as SPILL_VALUES holds
    // for a pass over a spilled group's file.
    let block = if curves.spill.is_some() { (SPILL_VALUES / n).max(1) } else { 1 };
    let mut columns: Vec<f64> = vec![0.0; block.min(grid.len()) * n];
    for epochs in grid.chunks(block) {
        curves.each(|i, e, v| {
            for (k, &at) in epochs.iter().enumerate() {
                columns[k * n + i] = value_at(e, v, at);
            }
        })?;
        for (k, &e) in epochs.iter().enumerate() {
            let at = &mut columns[k * n..(k + 1) * n];
            if at.iter().any(|v| v.is_nan()) {
                continue;
            }
            at.sort_by(f64::total_cmp);
            b.epoch.push(e);
            b.q1.push(quantile(at, 0.25));
            b.median.push(quantile(at, 0.5));
            b.q3.push(quantile(at, 0.75));
        }
    }
    Ok(Some(b))
}

/// Quantile `p` of sorted values (type 7: linear between order statistics);
/// next to an infinite value (a diverged job) the nearest order statistic.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else { return f64::NAN };
    let h = p * last as f64;
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    if frac == 0.0 || lo == last {
        return sorted[lo];
    }
    let (a, z) = (sorted[lo], sorted[lo + 1]);
    match (a.is_infinite(), z.is_infinite()) {
        (false, false) => a + (z - a) * frac,
        // Next to a diverged job: the nearer of the two (half-way goes up),
        // so one diverged job in four leaves the middle half finite.
        (false, true) if frac < 0.5 => a,
        _ => f64::INFINITY,
    }
}

/// A curve's value at epoch `e`: exact at a logged epoch, linear between
/// neighbours; +inf where it is not finite or after a divergence; NaN
/// outside its range otherwise.
fn value_at(epochs: &[f64], values: &[f64], e: f64) -> f64 {
    let finite_or_inf = |v: f64| if v.is_finite() { v } else { f64::INFINITY };
    let i = epochs.partition_point(|&x| x < e);
    match epochs.get(i) {
        Some(&ei) if ei == e => finite_or_inf(values[i]),
        Some(&e1) if i > 0 => {
            let (e0, v0, v1) = (epochs[i - 1], values[i - 1], values[i]);
            if v0.is_finite() && v1.is_finite() {
                v0 + (v1 - v0) * (e - e0) / (e1 - e0)
            } else {
                f64::INFINITY
            }
        }
        None if ended_diverged(values) => f64::INFINITY,
        _ => f64::NAN,
    }
}

/// A number to three significant digits, for reading: `0.0123`, `1.23`,
/// `123`, `1230`; scientific (`1.23e-5`, `4.56e7`) below 0.001 and from
/// 10000 on. Trailing zeros are dropped (`0.5`, not `0.500`). Non-finite
/// values print as `NaN`, `inf`, `-inf`.
pub fn fmt_sig(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    // Round to 3 significant digits first, so 9.996 becomes 10.0 (exponent 1).
    let e0 = x.abs().log10().floor() as i32;
    let scale = 10f64.powi(2 - e0);
    let rounded = (x * scale).round() / scale;
    let e = rounded.abs().log10().floor() as i32;
    if (-3..4).contains(&e) {
        let decimals = (2 - e).max(0) as usize;
        trim_zeros(format!("{rounded:.decimals$}"))
    } else {
        let mantissa = rounded / 10f64.powi(e);
        format!("{}e{e}", trim_zeros(format!("{mantissa:.2}")))
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// An epoch count to three significant digits, written out in full:
/// `484`, `1970` (for 1973.5), `15500`; `1.23e6` from a million on.
pub fn fmt_epoch(x: f64) -> String {
    if !x.is_finite() || x == 0.0 || x.abs() >= 1e6 {
        return fmt_sig(x);
    }
    let e = x.abs().log10().floor() as i32;
    let scale = 10f64.powi(2 - e);
    let rounded = (x * scale).round() / scale;
    if rounded.abs() >= 100.0 { format!("{rounded:.0}") } else { fmt_sig(rounded) }
}

#[cfg(test)]
mod tests {
    use super::super::rows::Rows;
    use super::*;
    use crate::store::{JobOutcome, SummaryRow};
    use approx::assert_relative_eq;

    fn row(id: &str, seed: u64, lr: &str, loss: f64, acc: f64, target: Option<u64>) -> SummaryRow {
        let diverged = !loss.is_finite();
        SummaryRow {
            job_id: id.into(),
            seed,
            params: crate::store::Params::from_table(
                &toml::from_str(&format!("dataset = \"xor\"\nlr = {lr}")).unwrap(),
            ),
            outcome: JobOutcome {
                status: if diverged { "diverged" } else { "ok" }.into(),
                final_loss: loss,
                final_accuracy: acc,
                final_test_loss: None,
                final_test_accuracy: None,
                min_loss: loss,
                epoch_at_target: target,
                diverged_epoch: diverged.then_some(7),
                files_hash: String::new(),
            },
            curve: format!("jobs/{id}/curve.csv"),
            at: crate::store::JobRef::folder(format!("jobs/{id}")),
        }
    }

    /// The rows as the report holds them.
    fn held(rows: &[SummaryRow]) -> Rows {
        Rows::from_rows(std::path::Path::new("r"), rows)
    }

    #[test]
    fn mean_and_sample_std_match_hand_worked_numbers() {
        // 1, 2, 3, 4: mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5;
        // sample variance 5 / 3; std sqrt(5/3) = 1.2909944...
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(mean(&xs), Some(2.5));
        assert_relative_eq!(sample_std(&xs).unwrap(), (5.0f64 / 3.0).sqrt(), max_relative = 1e-15);
        assert_relative_eq!(sample_std(&xs).unwrap(), 1.290_994_448_735_805_6, max_relative = 1e-15);
        assert_eq!(sample_std(&[3.0]), None, "undefined for one value");
        assert_eq!(mean(&[]), None);
        let huge = sample_std(&[1e300, 3e300]).unwrap();
        assert_relative_eq!(huge, 2f64.sqrt() * 1e300, max_relative = 1e-12);
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn diverged_jobs_are_counted_not_averaged() {
        let rows = [
            row("a", 0, "0.1", 0.02, 1.0, Some(40)),
            row("b", 1, "0.1", 0.04, 0.9, None),
            row("c", 2, "0.1", f64::NAN, 0.5, Some(10)),
            row("d", 3, "0.1", 0.06, 1.0, Some(60)),
        ];
        let rows = held(&rows);
        let refs: Vec<&Row> = rows.iter().collect();
        let s = stats(&refs);
        assert_eq!((s.n, s.diverged), (4, 1));
        // losses 0.02, 0.04, 0.06: mean 0.04, sample std sqrt((0.0004 + 0 + 0.0004) / 2) = 0.02
        assert_relative_eq!(s.loss_mean.unwrap(), 0.04, max_relative = 1e-12);
        assert_relative_eq!(s.loss_std.unwrap(), 0.02, max_relative = 1e-12);
        // accuracies 1.0, 0.9, 1.0 (the diverged job's 0.5 is not averaged)
        assert_relative_eq!(s.accuracy_mean.unwrap(), 2.9 / 3.0, max_relative = 1e-12);
        assert_eq!(s.perfect, 2);
        // epoch_at_target 40, 10, 60 -> 3 reached, median 40
        assert_eq!(s.reached, 3);
        assert_eq!(s.median_epoch_at_target, Some(40.0));
        assert_eq!(s.failed_seeds, vec![1, 2]);
    }

    #[test]
    fn all_diverged_gives_no_mean() {
        let rows = [row("a", 0, "100.0", f64::NAN, 0.5, None)];
        let rows = held(&rows);
        let s = stats(&rows.iter().collect::<Vec<_>>());
        assert_eq!((s.n, s.diverged, s.loss_mean, s.loss_std, s.accuracy_mean), (1, 1, None, None, None));
    }

    #[test]
    fn band_is_median_and_quartiles_over_seeds_at_each_epoch() {
        let a: Curve = vec![(0.0, 1.0), (10.0, 0.5), (20.0, 0.1)];
        let b: Curve = vec![(0.0, 3.0), (10.0, 0.3), (20.0, 0.4)];
        let c: Curve = vec![(0.0, 2.0), (10.0, 0.1), (20.0, 0.1)];
        let band = band(&[&a, &b, &c]).unwrap();
        assert_eq!(band.epoch, vec![0.0, 10.0, 20.0]);
        // Epoch 0: sorted 1, 2, 3. Type 7: q1 at h = 0.5 -> 1.5, median 2, q3 at h = 1.5 -> 2.5.
        assert_eq!((band.q1[0], band.median[0], band.q3[0]), (1.5, 2.0, 2.5));
        // Epoch 10: sorted 0.1, 0.3, 0.5 -> 0.2, 0.3, 0.4.
        assert_relative_eq!(band.q1[1], 0.2, max_relative = 1e-12);
        assert_eq!(band.median[1], 0.3);
        assert_relative_eq!(band.q3[1], 0.4, max_relative = 1e-12);
        // Epoch 20: sorted 0.1, 0.1, 0.4 -> 0.1, 0.1, 0.25.
        assert_eq!((band.q1[2], band.median[2]), (0.1, 0.1));
        assert_relative_eq!(band.q3[2], 0.25, max_relative = 1e-12);
        assert_eq!(band.curves, 3);
    }

    #[test]
    fn one_stalled_seed_does_not_move_the_median() {
        let good: Vec<Curve> = (0..4).map(|k| vec![(0.0, 1.0), (10.0, 1e-4 * (k + 1) as f64)]).collect();
        let stalled: Curve = vec![(0.0, 1.0), (10.0, 0.25)];
        let mut all: Vec<&Curve> = good.iter().collect();
        all.push(&stalled);
        let band = band(&all).unwrap();
        // Sorted 1e-4, 2e-4, 3e-4, 4e-4, 0.25: median 3e-4 (a mean would be 0.05).
        assert_relative_eq!(band.median[1], 3e-4, max_relative = 1e-12);
        assert_relative_eq!(band.q3[1], 4e-4, max_relative = 1e-12);
    }

    #[test]
    fn band_uses_the_shared_range_and_interpolates_between_logged_epochs() {
        // a logs every 10 epochs up to 30; b every 20 up to 20 (shorter).
        let a: Curve = vec![(0.0, 1.0), (10.0, 0.8), (20.0, 0.6), (30.0, 0.4)];
        let b: Curve = vec![(0.0, 2.0), (20.0, 1.0)];
        let band = band(&[&a, &b]).unwrap();
        assert_eq!(band.epoch, vec![0.0, 10.0, 20.0], "only what both cover");
        // At epoch 10, b is interpolated halfway between 2.0 and 1.0: the
        // median of 0.8 and 1.5 is their mean.
        assert_relative_eq!(band.median[1], (0.8 + 1.5) / 2.0, max_relative = 1e-12);
        assert_relative_eq!(band.q1[1], 0.8 + 0.25 * 0.7, max_relative = 1e-12);
        assert_relative_eq!(band.q3[1], 0.8 + 0.75 * 0.7, max_relative = 1e-12);
    }

    #[test]
    fn a_diverged_job_counts_as_infinite_loss_from_where_it_ended() {
        let a: Curve = vec![(0.0, 1.0), (1.0, 0.5), (2.0, 0.4), (3.0, 0.3)];
        let b: Curve = vec![(0.0, 1.0), (1.0, 0.6), (2.0, 0.5), (3.0, 0.2)];
        let blew: Curve = vec![(0.0, 1.0), (1.0, f64::INFINITY)];
        let band = band(&[&a, &b, &blew]).unwrap();
        assert_eq!(band.epoch, vec![0.0, 1.0, 2.0, 3.0], "the diverged job does not cut the range short");
        // Epoch 2: 0.4, 0.5, inf -> median 0.5, q3 infinite (drawn at the top edge).
        assert_eq!(band.median[2], 0.5);
        assert!(band.q3[2].is_infinite());
        assert_relative_eq!(band.q1[2], 0.45, max_relative = 1e-12);
        assert_eq!(quantile(&[1.0, 2.0, f64::INFINITY, f64::INFINITY], 0.5), f64::INFINITY);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, f64::INFINITY], 0.5), 2.5);
        // One diverged job in four: the upper quartile (h = 2.25) stays finite.
        assert_eq!(quantile(&[1.0, 2.0, 3.0, f64::INFINITY], 0.75), 3.0);
        assert_eq!(quantile(&[1.0, 2.0, f64::INFINITY, f64::INFINITY], 0.75), f64::INFINITY);
    }

    /// The band over curves held flat equals a naive computation over the
    /// same curves held whole (each value looked up by a linear scan), on
    /// random curves: shared and own epoch lists, interpolation, divergence.
    #[test]
    fn band_of_flat_curves_equals_a_naive_band_on_random_curves() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let naive = |curves: &[Curve]| -> Vec<(f64, f64, f64, f64)> {
            let start = curves.iter().map(|c| c[0].0).fold(f64::NEG_INFINITY, f64::max);
            let ok: Vec<&Curve> = curves.iter().filter(|c| c.last().unwrap().1.is_finite()).collect();
            let mut end = ok.iter().map(|c| c.last().unwrap().0).fold(f64::INFINITY, f64::min);
            if !end.is_finite() {
                end = curves.iter().map(|c| c.last().unwrap().0).fold(f64::NEG_INFINITY, f64::max);
            }
            let mut grid: Vec<f64> =
                curves.iter().flatten().map(|p| p.0).filter(|e| (start..=end).contains(e)).collect();
            grid.sort_by(f64::total_cmp);
            grid.dedup();
            let at = |c: &Curve, e: f64| -> f64 {
                let inf = |v: f64| if v.is_finite() { v } else { f64::INFINITY };
                for (k, &(ek, vk)) in c.iter().enumerate() {
                    if ek == e {
                        return inf(vk);
                    }
                    if ek > e {
                        if k == 0 {
                            return f64::NAN;
                        }
                        let (e0, v0) = c[k - 1];
                        return if v0.is_finite() && vk.is_finite() {
                            v0 + (vk - v0) * (e - e0) / (ek - e0)
                        } else {
                            f64::INFINITY
                        };
                    }
                }
                if c.last().unwrap().1.is_finite() { f64::NAN } else { f64::INFINITY }
            };
            let mut out = Vec::new();
            for e in grid {
                let mut v: Vec<f64> = curves.iter().map(|c| at(c, e)).collect();
                if v.iter().any(|x| x.is_nan()) {
                    continue;
                }
                v.sort_by(f64::total_cmp);
                out.push((e, quantile(&v, 0.25), quantile(&v, 0.5), quantile(&v, 0.75)));
            }
            out
        };
        for round in 0..200 {
            let n = 1 + (next() % 40) as usize;
            let every = [1.0, 2.0, 5.0][(next() % 3) as usize];
            let mut curves: Vec<Curve> = Vec::new();
            for _ in 0..n {
                // Most curves on the shared grid; some on their own stride
                // or start; some diverged (ending on inf or NaN).
                let own = next() % 4 == 0;
                let step = if own { [1.0, 3.0, 4.0][(next() % 3) as usize] } else { every };
                let first = if own { (next() % 3) as f64 } else { 0.0 };
                let len = 2 + (next() % 12) as usize;
                let mut c: Curve = (0..len)
                    .map(|k| (first + step * k as f64, (next() % 1000) as f64 / 997.0 + 1e-3))
                    .collect();
                if next() % 6 == 0 {
                    let cut = 1 + (next() as usize) % (len - 1);
                    c.truncate(cut + 1);
                    c[cut].1 = if next() % 2 == 0 { f64::INFINITY } else { f64::NAN };
                }
                curves.push(c);
            }
            let refs: Vec<&Curve> = curves.iter().collect();
            let mut flat = Curves::of(&refs);
            assert_eq!(flat.len(), n);
            let backs = flat.to_curves().unwrap();
            for (back, c) in backs.iter().zip(&curves) {
                assert_eq!(back.len(), c.len());
                assert!(back.iter().zip(c).all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits()));
            }
            let want = naive(&curves);
            match band_of(&mut flat).unwrap() {
                None => assert!(want.is_empty(), "round {round}: no band, naive has {want:?}"),
                Some(b) => {
                    let got: Vec<(f64, f64, f64, f64)> =
                        (0..b.epoch.len()).map(|i| (b.epoch[i], b.q1[i], b.median[i], b.q3[i])).collect();
                    let bits = |v: &[(f64, f64, f64, f64)]| -> Vec<[u64; 4]> {
                        v.iter()
                            .map(|t| [t.0.to_bits(), t.1.to_bits(), t.2.to_bits(), t.3.to_bits()])
                            .collect()
                    };
                    assert_eq!(bits(&got), bits(&want), "round {round}");
                    assert_eq!(b.curves, n);
                }
            }
        }
        // Curves logged at the same epochs share one epoch list.
        let same: Vec<Curve> = (0..100).map(|k| vec![(0.0, 1.0), (10.0, k as f64)]).collect();
        let flat = Curves::of(&same.iter().collect::<Vec<_>>());
        assert_eq!((flat.len(), flat.epochs.len(), flat.values.len()), (100, 1, 200));
        // Room for a group's values is made once, exactly, from its first curve.
        let mut sized = Curves::with_capacity(same.len());
        for c in &same {
            sized.push(c.iter().copied()).unwrap();
        }
        assert_eq!((sized.values.len(), sized.values.capacity()), (200, 200));

        // A group of more than SPILL_VALUES values goes to a temporary file
        // and its band, read back in passes over blocks of epochs, is the
        // same to the bit as the band of the same curves in memory.
        let tmp = tempfile::tempdir().unwrap();
        let mut curves: Vec<Curve> = Vec::new();
        for k in 0..12_000usize {
            let own = k % 7 == 3;
            let step = if own { 2.0 } else { 1.0 };
            let mut c: Curve =
                (0..12).map(|e| (step * e as f64, (next() % 10_000) as f64 / 9_973.0 + 1e-3)).collect();
            if k % 11 == 5 {
                c.truncate(6);
                c[5].1 = f64::INFINITY;
            }
            curves.push(c);
        }
        let mut spilled = Curves::spilling_to(curves.len(), tmp.path());
        for c in &curves {
            spilled.push(c.iter().copied()).unwrap();
        }
        assert!(spilled.spill.is_some() && spilled.values.is_empty(), "spilled, not held");
        let mut held = Curves::of(&curves.iter().collect::<Vec<_>>());
        assert!(held.spill.is_none());
        let (a, b) = (band_of(&mut spilled).unwrap().unwrap(), band_of(&mut held).unwrap().unwrap());
        let bits = |b: &Band| -> Vec<[u64; 4]> {
            (0..b.epoch.len())
                .map(|i| [b.epoch[i], b.q1[i], b.median[i], b.q3[i]].map(f64::to_bits))
                .collect()
        };
        assert!(a.epoch.len() > SPILL_VALUES / curves.len(), "more than one pass");
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(spilled.to_curves().unwrap().len(), curves.len());
        // A small group stays in memory even when it could spill.
        let mut small = Curves::spilling_to(same.len(), tmp.path());
        for c in &same {
            small.push(c.iter().copied()).unwrap();
        }
        assert!(small.spill.is_none() && small.values.len() == 200);
    }

    #[test]
    fn three_significant_digits() {
        let cases = [
            (0.0, "0"),
            (1.0, "1"),
            (0.5, "0.5"),
            (0.012345, "0.0123"),
            (1.2345, "1.23"),
            (12.345, "12.3"),
            (123.45, "123"),
            (1234.5, "1230"),
            (9.996, "10"),
            (0.0009996, "0.001"),
            (0.00012345, "1.23e-4"),
            (12345.0, "1.23e4"),
            (-0.5678, "-0.568"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
        ];
        for (x, want) in cases {
            assert_eq!(fmt_sig(x), want, "{x}");
        }
        assert_eq!(fmt_epoch(40.0), "40");
        assert_eq!(fmt_epoch(40.5), "40.5");
        assert_eq!(fmt_epoch(1973.5), "1970", "three significant digits, not 1973.5");
        assert_eq!(fmt_epoch(15542.0), "15500");
        assert_eq!(fmt_epoch(484.0), "484");
    }

    #[test]
    fn axes_are_the_parameters_that_vary_and_sort_numerically() {
        let rows = [
            row("a", 0, "0.1", 0.1, 1.0, None),
            row("b", 0, "0.01", 0.1, 1.0, None),
            row("c", 0, "1.0", 0.1, 1.0, None),
            row("d", 1, "0.1", 0.1, 1.0, None),
        ];
        let rows = held(&rows);
        let axes = swept_axes(&rows);
        assert_eq!(
            axes,
            vec![Axis {
                key: "lr".into(),
                values: vec!["0.01".into(), "0.1".into(), "1.0".into()],
                typed: [0.01, 0.1, 1.0].map(|x| Some(Typed::Float(x))).to_vec(),
            }]
        );
        assert_eq!(fixed_params(&rows, &axes), vec![("dataset".to_string(), "xor".to_string())]);
        let configs = configurations(&rows, &axes);
        assert_eq!(configs.len(), 3);
        assert_eq!(configs[1].label(), "lr=0.1");
        assert_eq!(configs[1].rows.len(), 2);
        let sizes = |v: &[usize]| Some(Typed::Sizes(v.to_vec()));
        let lists = Axis::new("hidden", vec![sizes(&[10, 10]), sizes(&[2, 2]), sizes(&[4])]);
        assert_eq!(lists.values, vec!["[2, 2]", "[4]", "[10, 10]"]);
        let word = |w: &str| Some(Typed::Str(w.to_string()));
        let words = Axis::new("activation", vec![word("tanh"), word("sigmoid")]).values;
        assert_eq!(words, vec!["tanh", "sigmoid"], "first appearance kept");
    }
}

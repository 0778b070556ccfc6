//! A job's data (SPEC 4): the built-in data sets, CSV loading, input noise,
//! the conv pre-filter and the train/test split.
//!
//! Everything random here comes from one seeded data stream (SPEC 5), drawn
//! in a fixed order whose length does not depend on `noise` or
//! `test_fraction`. That is what makes comparisons paired: for one seed, jobs
//! that differ only in noise see the same base points, and jobs that differ
//! only in test_fraction use the same permutation.

use std::fs::File;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, Axis};

use crate::rng::{self, Rng};
use crate::spec::{DataSource, DataSpec, Generated};

/// Inputs (n, d) and 0/1 labels (n) as f64.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// x: (n, d)
    pub x: Array2<f64>,
    /// y: (n), each 0.0 or 1.0
    pub y: Array1<f64>,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no samples (an empty test part, say).
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Number of input columns (the network's input width).
    pub fn n_inputs(&self) -> usize {
        self.x.ncols()
    }

    /// The rows `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Dataset {
        Dataset { x: self.x.select(Axis(0), idx), y: self.y.select(Axis(0), idx) }
    }
}

/// Training part and held-out part (test may have 0 rows).
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
}

/// Why a data file could not be used. Every message names the file, and the
/// line (1-based, the header is line 1) when one line is at fault.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{}: cannot read the file: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: the file is empty (expected a header row, then data rows)", .path.display())]
    Empty { path: PathBuf },
    #[error(
        "{}: needs at least one input column and a final `label` column (header: `{header}`)",
        .path.display()
    )]
    Columns { path: PathBuf, header: String },
    #[error("{}: no data rows", .path.display())]
    NoRows { path: PathBuf },
    #[error("{}: line {line}: expected {expected} cells, found {found}", .path.display())]
    Cells { path: PathBuf, line: u64, expected: usize, found: usize },
    #[error("{}: line {line}, column `{column}`: `{value}` is not a number", .path.display())]
    NotANumber { path: PathBuf, line: u64, column: String, value: String },
    #[error("{}: line {line}, column `{column}`: `{value}` is not finite", .path.display())]
    NotFinite { path: PathBuf, line: u64, column: String, value: String },
    #[error("{}: line {line}: label must be 0 or 1, found {value}", .path.display())]
    Label { path: PathBuf, line: u64, value: String },
    /// Anything else the CSV parser rejects (invalid UTF-8, say).
    #[error("{}: line {line}: {message}", .path.display())]
    Malformed { path: PathBuf, line: u64, message: String },
}

/// Builds the job's data: generate (or load the CSV), add noise (generated
/// sets only), apply the conv pre-filter, then split.
///
/// All randomness comes from one data stream keyed by the data set and
/// `n_samples` only. Noise and test_fraction are deliberately not in the key,
/// and the number of draws does not depend on them: the points are drawn,
/// then one normal per input cell (even when noise = 0), then a full
/// permutation of the samples (even when test_fraction = 0). So for one seed,
/// jobs differing only in noise share their base points and jobs differing
/// only in test_fraction share their permutation (common random numbers).
pub fn build(spec: &DataSpec, seed: u64) -> Result<Split, DataError> {
    let n_key = spec.n_samples.to_string();
    let name = match &spec.source {
        DataSource::Csv(path) => format!("csv:{}", path.to_string_lossy()),
        DataSource::Generated(set) => set.name().to_string(),
    };
    let mut rng = rng::stream(seed, "data", &[&name, &n_key]);

    let mut data = match &spec.source {
        DataSource::Csv(path) => load_csv(path)?,
        DataSource::Generated(set) => {
            let mut data = generate(*set, spec.n_samples, &mut rng);
            // Drawn whatever `noise` is, so the permutation below does not move.
            for v in data.x.iter_mut() {
                *v += spec.noise * rng::normal(&mut rng);
            }
            data
        }
    };
    conv_filter(&mut data.x, &spec.conv);

    let mut order: Vec<usize> = (0..data.len()).collect();
    rng::shuffle(&mut rng, &mut order);
    Ok(split(&data, &order, spec.test_fraction))
}

/// Generates a built-in data set of `n` points (2 inputs each), without noise.
///
/// "xor" is fixed and ignores `n`.
pub fn generate(set: Generated, n: usize, rng: &mut Rng) -> Dataset {
    match set {
        Generated::Xor => xor(),
        Generated::Linear => uniform_square(n, rng, 0.0, 1.0, |x0, x1| x0 <= x1),
        Generated::XorHard => uniform_square(n, rng, 0.0, 1.0, |x0, x1| (x0 > 0.5) != (x1 > 0.5)),
        Generated::Circle => {
            uniform_square(n, rng, -1.0, 1.0, |x0, x1| x0 * x0 + x1 * x1 < 2.0 / std::f64::consts::PI)
        }
        Generated::Spiral => spiral(n),
    }
}

/// `n` points uniform in [lo, hi)^2, drawn x0 then x1 per point; `positive`
/// decides which get label 1.
fn uniform_square(n: usize, rng: &mut Rng, lo: f64, hi: f64, positive: impl Fn(f64, f64) -> bool) -> Dataset {
    let mut x = Array2::zeros((n, 2));
    let mut y = Array1::zeros(n);
    for i in 0..n {
        let x0 = lo + (hi - lo) * rng::uniform01(rng);
        let x1 = lo + (hi - lo) * rng::uniform01(rng);
        x[[i, 0]] = x0;
        x[[i, 1]] = x1;
        y[i] = if positive(x0, x1) { 1.0 } else { 0.0 };
    }
    Dataset { x, y }
}

/// The lab's fixed XOR set: the 21 points on the two diagonals of the unit
/// square, interleaved, with the centre (0.5, 0.5) only once (label 0).
/// `0.1 * i` is computed as the lab's code does, so 0.1 * 3 is
/// 0.30000000000000004, not 0.3.
pub fn xor() -> Dataset {
    let mut points: Vec<[f64; 3]> = Vec::with_capacity(21);
    for i in 0..=10 {
        let t = 0.1 * i as f64;
        points.push([t, t, 0.0]);
        if i != 5 {
            points.push([t, 1.0 - t, 1.0]);
        }
    }
    from_points(&points)
}

/// Two interleaved spirals, alternating class 0, 1, 0, ... (class 0 gets the
/// extra point when `n` is odd). Point k of a class sits at t = k / per_class,
/// radius 0.05 + 0.95 t, angle 3 pi t + class pi. No jitter: that is `noise`.
fn spiral(n: usize) -> Dataset {
    let per_class = [n.div_ceil(2), n / 2];
    let points: Vec<[f64; 3]> = (0..n)
        .map(|p| {
            let class = p % 2;
            let t = (p / 2) as f64 / per_class[class] as f64;
            let r = 0.05 + 0.95 * t;
            let a = 3.0 * std::f64::consts::PI * t + class as f64 * std::f64::consts::PI;
            [r * a.cos(), r * a.sin(), class as f64]
        })
        .collect();
    from_points(&points)
}

/// A 2-input set from `[x0, x1, label]` rows.
fn from_points(points: &[[f64; 3]]) -> Dataset {
    Dataset {
        x: Array2::from_shape_fn((points.len(), 2), |(i, j)| points[i][j]),
        y: points.iter().map(|p| p[2]).collect(),
    }
}

/// Loads a CSV data set: a header row, input columns (numbers), then a final
/// column named `label` (any case) holding 0 or 1. Cells are trimmed.
///
/// Every error names the file and, for a bad row, its line, so a user can go
/// straight to the cell at fault.
pub fn load_csv(path: &Path) -> Result<Dataset, DataError> {
    let io_err = |source| DataError::Io { path: path.to_path_buf(), source };
    let file = File::open(path).map_err(io_err)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        // Row lengths are checked below, to report them in our own words.
        .flexible(true)
        .from_reader(file);

    let header = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    let width = header.len();
    if width < 2 || !header[width - 1].eq_ignore_ascii_case("label") {
        return Err(DataError::Columns {
            path: path.to_path_buf(),
            header: header.iter().collect::<Vec<_>>().join(","),
        });
    }
    let d = width - 1;

    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error(path, e))?;
        // Fallback only: the reader records each row's position.
        let line = record.position().map_or(k as u64 + 2, |p| p.line());
        if record.len() != width {
            return Err(DataError::Cells {
                path: path.to_path_buf(),
                line,
                expected: width,
                found: record.len(),
            });
        }
        for (column, cell) in header.iter().zip(record.iter()).take(d) {
            let bad = |finite: bool| {
                let (path, column, value) = (path.to_path_buf(), column.to_string(), cell.to_string());
                if finite {
                    DataError::NotFinite { path, line, column, value }
                } else {
                    DataError::NotANumber { path, line, column, value }
                }
            };
            let v: f64 = cell.parse().map_err(|_| bad(false))?;
            if !v.is_finite() {
                return Err(bad(true));
            }
            xs.push(v);
        }
        let label = &record[d];
        match label.parse::<f64>() {
            Ok(v) if v == 0.0 || v == 1.0 => ys.push(v),
            _ => {
                return Err(DataError::Label { path: path.to_path_buf(), line, value: label.to_string() });
            }
        }
    }
    if ys.is_empty() {
        return Err(DataError::NoRows { path: path.to_path_buf() });
    }
    let x = Array2::from_shape_vec((ys.len(), d), xs).expect("every row has d inputs");
    Ok(Dataset { x, y: Array1::from(ys) })
}

/// Maps a CSV parser error to ours, keeping the line when the parser knows it.
fn csv_error(path: &Path, err: csv::Error) -> DataError {
    let line = err.position().map_or(0, |p| p.line());
    let message = err.to_string();
    match err.into_kind() {
        csv::ErrorKind::Io(source) => DataError::Io { path: path.to_path_buf(), source },
        _ => DataError::Malformed { path: path.to_path_buf(), line, message },
    }
}

/// The conv pre-filter (SPEC 4), in place, down each input column in data-set
/// order: `x'[i] = sum_j k[j] x[i-K+1+j]` for i >= K-1; rows i < K-1 stay.
///
/// Rows are rewritten from the last to the first: row i reads only rows <= i,
/// none of which has been rewritten yet, so every sum sees the ORIGINAL values
/// without any temporary buffer. An empty kernel is a no-op.
pub fn conv_filter(x: &mut Array2<f64>, kernel: &[f64]) {
    let k = kernel.len();
    if k == 0 {
        return;
    }
    for mut col in x.columns_mut() {
        for i in (k - 1..col.len()).rev() {
            let start = i + 1 - k;
            col[i] = kernel.iter().enumerate().map(|(j, kj)| kj * col[start + j]).sum();
        }
    }
}

/// How many of `n` samples `test_fraction` holds out: round(n * fraction).
pub fn held_out(n: usize, test_fraction: f64) -> usize {
    ((n as f64 * test_fraction).round() as usize).min(n)
}

/// Splits by a permutation: the last round(n * test_fraction) indices of
/// `order` are the test part, the rest training. Both parts keep the data's
/// original relative order (the index sets are sorted), so a conv-filtered or
/// time-ordered set stays in order within each part.
pub fn split(data: &Dataset, order: &[usize], test_fraction: f64) -> Split {
    let n = order.len();
    let n_test = held_out(n, test_fraction);
    let mut train_idx = order[..n - n_test].to_vec();
    let mut test_idx = order[n - n_test..].to_vec();
    train_idx.sort_unstable();
    test_idx.sort_unstable();
    Split { train: data.select(&train_idx), test: data.select(&test_idx) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn spec(source: DataSource, n: usize, noise: f64, test_fraction: f64) -> DataSpec {
        DataSpec { source, n_samples: n, noise, test_fraction, conv: vec![] }
    }

    fn everything(s: &Split) -> Dataset {
        let x = ndarray::concatenate(Axis(0), &[s.train.x.view(), s.test.x.view()]).unwrap();
        let y = ndarray::concatenate(Axis(0), &[s.train.y.view(), s.test.y.view()]).unwrap();
        Dataset { x, y }
    }

    #[test]
    fn xor_has_the_labs_21_points_interleaved_with_exact_values() {
        let d = xor();
        assert_eq!(d.x.dim(), (21, 2));
        assert_eq!(d.y.len(), 21);
        let mut row = 0;
        for i in 0..=10 {
            let t = 0.1 * i as f64;
            assert_eq!((d.x[[row, 0]], d.x[[row, 1]], d.y[row]), (t, t, 0.0), "row {row}");
            row += 1;
            if i != 5 {
                assert_eq!((d.x[[row, 0]], d.x[[row, 1]], d.y[row]), (t, 1.0 - t, 1.0), "row {row}");
                row += 1;
            }
        }
        // Literal anchors, independent of the loop above.
        assert_eq!(d.x.row(0).to_vec(), vec![0.0, 0.0]);
        assert_eq!(d.x.row(1).to_vec(), vec![0.0, 1.0]);
        assert_eq!(d.x.row(6).to_vec(), vec![0.30000000000000004, 0.30000000000000004]);
        assert_eq!(d.x.row(7).to_vec(), vec![0.30000000000000004, 0.7]);
        assert_eq!((d.y[6], d.y[7]), (0.0, 1.0));
        assert_eq!(d.x.row(10).to_vec(), vec![0.5, 0.5]);
        assert_eq!(d.y[10], 0.0);
        assert_eq!(d.x.row(11).to_vec(), vec![0.6000000000000001, 0.6000000000000001]);
        assert_eq!(d.x.row(20).to_vec(), vec![1.0, 0.0]);
        assert_eq!(d.y.iter().filter(|&&v| v == 1.0).count(), 10);
    }

    #[test]
    fn linear_labels_follow_x0_greater_than_x1() {
        let d = generate(Generated::Linear, 500, &mut rng::stream(1, "t", &[]));
        assert_eq!(d.x.dim(), (500, 2));
        for (p, &y) in d.x.rows().into_iter().zip(&d.y) {
            assert!((0.0..1.0).contains(&p[0]) && (0.0..1.0).contains(&p[1]));
            assert_eq!(y, if p[0] > p[1] { 0.0 } else { 1.0 });
        }
        let ones = d.y.sum();
        assert!(ones > 200.0 && ones < 300.0, "{ones}");
    }

    #[test]
    fn xor_hard_labels_follow_the_quadrants() {
        let d = generate(Generated::XorHard, 300, &mut rng::stream(2, "t", &[]));
        for (p, &y) in d.x.rows().into_iter().zip(&d.y) {
            assert_eq!(y == 1.0, (p[0] > 0.5) ^ (p[1] > 0.5));
        }
    }

    #[test]
    fn circle_is_about_half_positive_inside_radius_sqrt_2_over_pi() {
        let d = generate(Generated::Circle, 2000, &mut rng::stream(3, "t", &[]));
        assert!(d.x.iter().all(|v| (-1.0..1.0).contains(v)));
        assert!(d.x.iter().any(|&v| v < -0.5), "inputs must cover [-1, 0) too");
        let share = d.y.sum() / 2000.0;
        assert!((0.45..0.55).contains(&share), "{share}");
        for (p, &y) in d.x.rows().into_iter().zip(&d.y) {
            assert_eq!(y == 1.0, p[0] * p[0] + p[1] * p[1] < 2.0 / std::f64::consts::PI);
        }
    }

    #[test]
    fn spiral_alternates_classes_and_gives_class_0_the_odd_point() {
        let d = generate(Generated::Spiral, 7, &mut rng::stream(0, "t", &[]));
        assert_eq!(d.y.to_vec(), vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        // First point of each class: t = 0, r = 0.05, angle 0 or pi.
        assert!((d.x[[0, 0]] - 0.05).abs() < 1e-15 && d.x[[0, 1]].abs() < 1e-15);
        assert!((d.x[[1, 0]] + 0.05).abs() < 1e-15 && d.x[[1, 1]].abs() < 1e-15);
        // Class 0 has 4 points: its last is at t = 3/4, radius 0.05 + 0.95 * 0.75.
        let r = d.x.row(6).dot(&d.x.row(6)).sqrt();
        assert!((r - (0.05 + 0.95 * 0.75)).abs() < 1e-12, "{r}");
        // Class 1 has 3 points: its last is at t = 2/3.
        let r = d.x.row(5).dot(&d.x.row(5)).sqrt();
        assert!((r - (0.05 + 0.95 * 2.0 / 3.0)).abs() < 1e-12, "{r}");
    }

    #[test]
    fn same_seed_gives_identical_data_and_different_seed_different() {
        let s = spec(DataSource::Generated(Generated::Linear), 50, 0.1, 0.2);
        assert_eq!(build(&s, 7).unwrap(), build(&s, 7).unwrap());
        assert_ne!(build(&s, 7).unwrap().train.x, build(&s, 8).unwrap().train.x);
        let n51 = spec(DataSource::Generated(Generated::Linear), 51, 0.1, 0.2);
        assert_ne!(build(&s, 7).unwrap().train.x.row(0), build(&n51, 7).unwrap().train.x.row(0));
    }

    #[test]
    fn noise_moves_inputs_not_labels_and_keeps_the_base_points() {
        let clean = build(&spec(DataSource::Generated(Generated::Linear), 80, 0.0, 0.0), 5).unwrap().train;
        let noisy = build(&spec(DataSource::Generated(Generated::Linear), 80, 0.1, 0.0), 5).unwrap().train;
        let noisier = build(&spec(DataSource::Generated(Generated::Linear), 80, 0.2, 0.0), 5).unwrap().train;
        assert_eq!(clean.y, noisy.y);
        assert_ne!(clean.x, noisy.x);
        // Same draws scaled: the offsets at noise 0.2 are twice those at 0.1.
        let d1 = &noisy.x - &clean.x;
        let d2 = &noisier.x - &clean.x;
        for (a, b) in d1.iter().zip(&d2) {
            assert!((2.0 * a - b).abs() < 1e-12, "{a} {b}");
        }
        // The clean set is exactly the generated one (the first draws of the stream).
        let mut r = rng::stream(5, "data", &["linear", "80"]);
        assert_eq!(clean, generate(Generated::Linear, 80, &mut r));
    }

    #[test]
    fn noise_does_not_change_the_split() {
        let clean = build(&spec(DataSource::Generated(Generated::Linear), 60, 0.0, 0.25), 9).unwrap();
        let noisy = build(&spec(DataSource::Generated(Generated::Linear), 60, 0.3, 0.25), 9).unwrap();
        assert_eq!(clean.train.y, noisy.train.y);
        assert_eq!(clean.test.y, noisy.test.y);
    }

    #[test]
    fn larger_test_fraction_holds_out_a_superset() {
        let full = build(&spec(DataSource::Generated(Generated::Circle), 40, 0.0, 0.0), 3).unwrap();
        assert_eq!(full.test.len(), 0);
        assert_eq!(full.test.n_inputs(), 2);
        let small = build(&spec(DataSource::Generated(Generated::Circle), 40, 0.0, 0.2), 3).unwrap();
        let big = build(&spec(DataSource::Generated(Generated::Circle), 40, 0.0, 0.4), 3).unwrap();
        assert_eq!((small.test.len(), big.test.len()), (8, 16));
        for row in small.test.x.rows() {
            assert!(big.test.x.rows().into_iter().any(|r| r == row));
        }
    }

    #[test]
    fn split_sizes_order_and_partition() {
        let n = 10;
        let data = Dataset {
            x: Array2::from_shape_fn((n, 1), |(i, _)| i as f64),
            y: Array1::from_shape_fn(n, |i| (i % 2) as f64),
        };
        let order = [3, 9, 0, 7, 1, 8, 2, 6, 5, 4];
        for (f, n_test) in [(0.0, 0), (0.25, 3), (0.3, 3), (0.35, 4), (0.9, 9)] {
            let s = split(&data, &order, f);
            assert_eq!(s.test.len(), n_test, "f = {f}");
            assert_eq!(s.train.len(), n - n_test);
            let test: Vec<usize> = s.test.x.iter().map(|&v| v as usize).collect();
            let train: Vec<usize> = s.train.x.iter().map(|&v| v as usize).collect();
            let mut expected_test = order[n - n_test..].to_vec();
            expected_test.sort_unstable();
            assert_eq!(test, expected_test);
            assert!(train.windows(2).all(|w| w[0] < w[1]), "{train:?}");
            let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..n).collect::<Vec<_>>());
            for (&x, &y) in s.train.x.iter().zip(&s.train.y) {
                assert_eq!(y, (x as usize % 2) as f64, "labels travel with their rows");
            }
        }
    }

    #[test]
    fn build_split_is_a_partition_of_the_generated_points() {
        let s = build(&spec(DataSource::Generated(Generated::Linear), 30, 0.0, 0.3), 11).unwrap();
        let mut r = rng::stream(11, "data", &["linear", "30"]);
        let base = generate(Generated::Linear, 30, &mut r);
        let mut got: Vec<Vec<f64>> = everything(&s).x.rows().into_iter().map(|r| r.to_vec()).collect();
        let mut want: Vec<Vec<f64>> = base.x.rows().into_iter().map(|r| r.to_vec()).collect();
        got.sort_by(|a, b| a.partial_cmp(b).unwrap());
        want.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(got, want);
        assert_eq!(s.test.len(), 9);
    }

    #[test]
    fn conv_two_tap_hand_worked() {
        let mut x = Array2::from_shape_vec((3, 2), vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0]).unwrap();
        conv_filter(&mut x, &[0.2, 0.8]);
        let want = [1.0, 10.0, 1.8, 18.0, 2.8, 28.0];
        for (got, want) in x.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{x}");
        }
    }

    #[test]
    fn conv_three_tap_reads_original_values() {
        let mut x = Array2::from_shape_vec((5, 1), vec![1.0, 2.0, 4.0, 8.0, 16.0]).unwrap();
        conv_filter(&mut x, &[1.0, 2.0, 3.0]);
        // Rows 0 and 1 stay; x'[2] = 1*1 + 2*2 + 3*4 = 17; x'[3] = 2 + 8 + 24 = 34;
        // x'[4] = 4 + 16 + 48 = 68 (all from the original column).
        assert_eq!(x.column(0).to_vec(), vec![1.0, 2.0, 17.0, 34.0, 68.0]);
    }

    #[test]
    fn conv_empty_kernel_and_kernel_longer_than_data_are_no_ops() {
        let orig = Array2::from_shape_vec((2, 2), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let mut x = orig.clone();
        conv_filter(&mut x, &[]);
        assert_eq!(x, orig);
        conv_filter(&mut x, &[1.0, 1.0, 1.0]);
        assert_eq!(x, orig);
    }

    #[test]
    fn build_applies_conv_before_the_split() {
        let mut s = spec(DataSource::Generated(Generated::Xor), 21, 0.0, 0.0);
        s.conv = vec![0.5, 0.5];
        let got = build(&s, 0).unwrap().train;
        let mut want = xor();
        conv_filter(&mut want.x, &[0.5, 0.5]);
        assert_eq!(got, want);
        assert_eq!(got.x[[1, 1]], 0.5);
    }

    fn write_csv(dir: &tempfile::TempDir, name: &str, body: &str) -> PathBuf {
        let path = dir.path().join(name);
        File::create(&path).unwrap().write_all(body.as_bytes()).unwrap();
        path
    }

    #[test]
    fn csv_good_file_loads_with_trimmed_cells() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_csv(&dir, "good.csv", "x0, x1 ,LABEL\n0.5,1.5,0\n -2 , 3e-1 , 1.0 \n4,5,1\n");
        let d = load_csv(&path).unwrap();
        assert_eq!(d.x, Array2::from_shape_vec((3, 2), vec![0.5, 1.5, -2.0, 0.3, 4.0, 5.0]).unwrap());
        assert_eq!(d.y.to_vec(), vec![0.0, 1.0, 1.0]);
    }

    #[test]
    fn csv_build_uses_the_file_and_splits_it() {
        let dir = tempfile::tempdir().unwrap();
        let rows: String = (0..10).map(|i| format!("{i},{}\n", i % 2)).collect();
        let path = write_csv(&dir, "d.csv", &format!("a,label\n{rows}"));
        let s = build(&spec(DataSource::Csv(path), 100, 0.5, 0.2), 1).unwrap();
        assert_eq!((s.train.len(), s.test.len()), (8, 2));
        let mut xs: Vec<f64> = everything(&s).x.iter().copied().collect();
        xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(xs, (0..10).map(f64::from).collect::<Vec<_>>(), "no noise on CSV data");
    }

    #[test]
    fn csv_errors_name_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "bad-number.csv",
                "x0,x1,label\n1,2,0\nabc_row,1,1\n",
                Some("line 3"),
                "`x0`: `abc_row` is not a number",
            ),
            ("label-two.csv", "x0,label\n1,0\n2,1\n3,2\n", Some("line 4"), "label must be 0 or 1, found 2"),
            ("cells.csv", "x0,x1,label\n1,2,0\n1,1\n", Some("line 3"), "expected 3 cells, found 2"),
            ("no-label.csv", "x0,x1\n1,2\n", None, "final `label` column"),
            ("only-label.csv", "label\n1\n", None, "at least one input column"),
            ("empty.csv", "", None, "empty"),
            ("header-only.csv", "x0,label\n", None, "no data rows"),
            ("inf.csv", "x0,label\n1,0\ninf,1\n", Some("line 3"), "not finite"),
        ];
        for (name, body, line, what) in cases {
            let path = write_csv(&dir, name, body);
            let msg = load_csv(&path).unwrap_err().to_string();
            assert!(msg.contains(name), "{msg}");
            assert!(msg.contains(what), "{msg}");
            if let Some(line) = line {
                assert!(msg.contains(line), "{msg}");
            }
        }
        let missing = dir.path().join("missing.csv");
        let err = load_csv(&missing).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        assert!(err.to_string().contains("missing.csv"), "{err}");
        let err = build(&spec(DataSource::Csv(missing), 10, 0.0, 0.0), 0).unwrap_err();
        assert!(err.to_string().contains("missing.csv"), "{err}");
    }
}

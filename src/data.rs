//! A job's data (SPEC 4): the built-in data sets, CSV loading (named
//! columns, class labels, missing cells), input noise, the conv pre-filter,
//! the train/test split (stratified or not) and the input scaling fitted on
//! the training part.
//!
//! Everything random here comes from one seeded data stream (SPEC 5), keyed
//! by a generated set's name or a CSV file's contents (never its path), and
//! drawn in a fixed order whose length does not depend on `noise`,
//! `test_fraction`, `stratify` or `scale`. That is what makes comparisons
//! paired: for one seed, jobs that differ only in noise see the same base
//! points, and jobs that differ only in how they split or scale use the same
//! permutation.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::rng::{self, Rng};
use crate::spec::{DataSource, DataSpec, Generated, Missing, Scale};

/// Inputs (n, d) and class indices (n) as f64.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// x: (n, d)
    pub x: Array2<f64>,
    /// y: (n), each a class index 0.0, 1.0, .., k-1
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

/// Training part and held-out part (test may have 0 rows), the inputs'
/// names, the classes, and the scaling fitted on the training part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Split {
    /// The network's inputs: scaled when `scaling` is set.
    pub train: Dataset,
    pub test: Dataset,
    /// Input column names, in input order (`x0`, `x1` for generated sets).
    pub columns: Vec<String>,
    /// Class names as in the data (`0`, `1` for generated sets); class i is
    /// target i.
    pub classes: Vec<String>,
    /// Fitted on `train` (after conv, before scaling), applied to both.
    pub scaling: Option<Scaling>,
    /// Inputs before scaling (after conv): (n_train, d) and (n_test, d).
    pub train_raw: Array2<f64>,
    pub test_raw: Array2<f64>,
    /// Rows of the file left out by `missing = "drop-rows"`.
    pub dropped_rows: usize,
}

impl Split {
    /// Number of classes (2 for every generated set).
    pub fn n_classes(&self) -> usize {
        self.classes.len()
    }
}

/// Per-feature scaling `x' = (x - offset) / divisor`, fitted on a training
/// split (SPEC 4, `scale`). Saved in model.json so a saved model predicts
/// from raw inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scaling {
    /// "standard" or "minmax" (what was fitted; the formula is the same).
    pub method: String,
    /// Per input: the mean (standard) or the minimum (minmax).
    pub offset: Vec<f64>,
    /// Per input: the population std (standard) or max - min (minmax); 1
    /// for a constant input.
    pub divisor: Vec<f64>,
}

impl Scaling {
    /// Fits `method` on `x` (n, d); None for `Scale::None`. An input with
    /// zero spread gets divisor 1 (it is centred, not blown up).
    pub fn fit(method: Scale, x: &Array2<f64>) -> Option<Scaling> {
        let n = x.nrows() as f64;
        let (offset, divisor): (Vec<f64>, Vec<f64>) = match method {
            Scale::None => return None,
            Scale::Standard => x
                .columns()
                .into_iter()
                .map(|c| {
                    let mean = c.sum() / n;
                    let var = c.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                    (mean, var.sqrt())
                })
                .unzip(),
            Scale::Minmax => x
                .columns()
                .into_iter()
                .map(|c| {
                    let lo = c.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    (lo, hi - lo)
                })
                .unzip(),
        };
        let divisor = divisor.into_iter().map(|s| if s > 0.0 && s.is_finite() { s } else { 1.0 }).collect();
        Some(Scaling { method: method.name().to_string(), offset, divisor })
    }

    /// `x' = (x - offset) / divisor`, column by column; `x` is (n, d) with d
    /// = the fitted width (the caller checks it).
    pub fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        let mut out = x.clone();
        for ((mut col, &o), &s) in out.columns_mut().into_iter().zip(&self.offset).zip(&self.divisor) {
            col.mapv_inplace(|v| (v - o) / s);
        }
        out
    }
}

/// Why a data file could not be used. Every message names the file, and the
/// line (1-based, the header is line 1) and column when one cell is at fault.
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
    #[error("{}: line 1: {problem}{}", .path.display(), shown_header(.header))]
    Columns {
        path: PathBuf,
        /// The manifest key whose value is at fault ([`DataError::key`]).
        key: &'static str,
        /// The header row as read, shown after the problem; empty when the
        /// problem lists the columns itself.
        header: String,
        problem: String,
    },
    #[error("{}: no data rows{why}", .path.display())]
    NoRows { path: PathBuf, why: String },
    #[error("{}: line {line}: expected {expected} cells, found {found}", .path.display())]
    Cells { path: PathBuf, line: u64, expected: usize, found: usize },
    #[error("{}: line {line}, column `{column}`: `{value}` is not a number", .path.display())]
    NotANumber { path: PathBuf, line: u64, column: String, value: String },
    #[error("{}: line {line}, column `{column}`: `{value}` is not finite", .path.display())]
    NotFinite { path: PathBuf, line: u64, column: String, value: String },
    #[error(
        "{}: line {line}, column `{column}`: missing value {}; allowed: a value, or missing = \"drop-rows\" to leave such rows out",
        .path.display(), if value.is_empty() { "(an empty cell)".to_string() } else { format!("`{value}`") }
    )]
    Missing { path: PathBuf, line: u64, column: String, value: String },
    #[error("{}: column `{column}`: {problem}", .path.display())]
    Classes { path: PathBuf, column: String, problem: String },
    #[error(
        "{}: line {line}, column `{column}`: label `{value}` differs from `{first}` (line {first_line}) only by spaces; \
         write every label of a class the same way (pandas would read two classes here; sweep does not guess)",
        .path.display()
    )]
    Spaces { path: PathBuf, line: u64, column: String, value: String, first: String, first_line: u64 },
    /// Anything else the CSV parser rejects.
    #[error("{}: line {line}: {message}", .path.display())]
    Malformed { path: PathBuf, line: u64, message: String },
    /// Bytes that are not UTF-8 (a Latin-1 or UTF-16 file, say).
    #[error("{}: line {line}, byte {byte}: {problem}", .path.display())]
    NotUtf8 { path: PathBuf, line: u64, byte: usize, problem: String },
    /// A test split sklearn's `train_test_split` would refuse: no held-out
    /// sample, a class too small to stratify, a class never trained on.
    #[error("{}: {problem}", .path.display())]
    Split { path: PathBuf, key: &'static str, problem: String },
}

impl DataError {
    /// The manifest key whose value the error is about, for pointing at
    /// its line: `label_column` or `feature_columns` for a column that is
    /// not there, `test_fraction` or `stratify` for a split, else `dataset`
    /// (the file's contents).
    pub fn key(&self) -> &'static str {
        match self {
            DataError::Columns { key, .. } | DataError::Split { key, .. } => key,
            _ => "dataset",
        }
    }
}

/// " (header: `a,b,c`)" after a column problem, or nothing when the problem
/// names the columns itself.
fn shown_header(header: &str) -> String {
    if header.is_empty() { String::new() } else { format!(" (header: `{header}`)") }
}

/// Builds the job's data: generate (or load the CSV), add noise (generated
/// sets only), apply the conv pre-filter, split (stratified or not), then
/// fit the scaling on the training part and apply it to both.
///
/// All randomness comes from one data stream keyed by the data set (a CSV
/// file by its contents, never its path) and `n_samples` only. Noise and
/// test_fraction are deliberately not in the key, and the number of draws
/// does not depend on them: the points are drawn, then one normal per input
/// cell (even when noise = 0), then a full permutation of the samples (even
/// when test_fraction = 0). So for one seed, jobs differing only in noise
/// share their base points and jobs differing only in test_fraction, scale
/// or stratify share their permutation (common random numbers).
pub fn build(spec: &DataSpec, seed: u64) -> Result<Split, DataError> {
    build_with(spec, seed, &|path| std::fs::read(path).map(std::sync::Arc::new))
}

/// [`build`], with the CSV file's bytes from `read` (a run reads each input
/// file once and shares it: see [`crate::train::Inputs`]).
pub fn build_with(
    spec: &DataSpec,
    seed: u64,
    read: &dyn Fn(&Path) -> std::io::Result<std::sync::Arc<Vec<u8>>>,
) -> Result<Split, DataError> {
    let n_key = spec.n_samples.to_string();
    let (table, mut rng) = match &spec.source {
        DataSource::Csv(path) => {
            let bytes = read(path).map_err(|source| DataError::Io { path: path.clone(), source })?;
            let key = format!("csv:{}", rng::hex_hash(&bytes));
            (parse_csv(path, &bytes, spec)?, rng::stream(seed, "data", &[&key, &n_key]))
        }
        DataSource::Generated(set) => {
            let mut rng = rng::stream(seed, "data", &[set.name(), &n_key]);
            let mut data = generate(*set, spec.n_samples, &mut rng);
            // Drawn whatever `noise` is, so the permutation below does not move.
            for v in data.x.iter_mut() {
                *v += spec.noise * rng::normal(&mut rng);
            }
            let table = Table {
                columns: (0..data.n_inputs()).map(|j| format!("x{j}")).collect(),
                classes: vec!["0".to_string(), "1".to_string()],
                data,
                dropped_rows: 0,
            };
            (table, rng)
        }
    };
    let Table { mut data, columns, classes, dropped_rows } = table;
    conv_filter(&mut data.x, &spec.conv);

    let mut order: Vec<usize> = (0..data.len()).collect();
    rng::shuffle(&mut rng, &mut order);
    let mut split = if spec.stratify {
        split_stratified(&data, &order, spec.test_fraction)
    } else {
        split(&data, &order, spec.test_fraction)
    };
    split.columns = columns;
    split.classes = classes;
    split.dropped_rows = dropped_rows;
    if spec.test_fraction > 0.0 {
        let source = match &spec.source {
            DataSource::Csv(path) => path.clone(),
            DataSource::Generated(set) => PathBuf::from(set.name()),
        };
        check_trained_classes(&source, &split, &class_counts(&data), seed)?;
    }
    Ok(scale(split, spec.scale))
}

/// Fits `method` on the training inputs and applies it to both parts; the
/// unscaled inputs stay in `train_raw` / `test_raw`.
pub fn scale(mut split: Split, method: Scale) -> Split {
    split.train_raw = split.train.x.clone();
    split.test_raw = split.test.x.clone();
    split.scaling = Scaling::fit(method, &split.train.x);
    if let Some(s) = &split.scaling {
        split.train.x = s.apply(&split.train.x);
        split.test.x = s.apply(&split.test.x);
    }
    split
}

/// A loaded data set before the split: samples, input names, classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub data: Dataset,
    pub columns: Vec<String>,
    pub classes: Vec<String>,
    pub dropped_rows: usize,
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

/// Loads a CSV data set (SPEC 4): a header row naming every column, the
/// class labels in `spec.label_column` (anywhere), and the numeric inputs in
/// `spec.feature_columns` (default: every other column, in file order).
/// Names match exactly, case included (`Cultivar` is not `cultivar`: an
/// error with a "did you mean"), and a column is an input once. The file
/// must be UTF-8 (else an error naming the line and byte, and how to
/// convert it). Cells are trimmed (pandas keeps a string's spaces: two labels that
/// differ only by them, `cat` and ` cat`, are refused rather than merged or
/// split). A file whose header is one column holding `;` or a tab gets a
/// hint about its separator. A missing cell (empty, `NA`, `NaN`, any case) in a
/// column that is used is an error, or with `missing = "drop-rows"` drops
/// its row. Classes are the sorted distinct labels: numerically when every
/// label is a number, else bytewise; class i is target i.
///
/// Every error names the file and, for a bad cell, its line and column, so
/// a user can go straight to the cell at fault.
pub fn load_csv(path: &Path, spec: &DataSpec) -> Result<Table, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    parse_csv(path, &bytes, spec)
}

/// A missing cell, as pandas writes one or a person leaves one.
fn is_missing(cell: &str) -> bool {
    cell.is_empty() || ["na", "nan", "n/a", "null"].iter().any(|m| cell.eq_ignore_ascii_case(m))
}

/// [`load_csv`] on the file's bytes.
pub fn parse_csv(path: &Path, bytes: &[u8], spec: &DataSpec) -> Result<Table, DataError> {
    check_utf8(path, bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        // Fields are trimmed below, where a label's spaces are compared.
        .trim(csv::Trim::Headers)
        // Row lengths are checked below, to report them in our own words.
        .flexible(true)
        .from_reader(bytes);

    let header = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    let width = header.len();
    let names: Vec<&str> = header.iter().collect();
    let columns_err = |key: &'static str, problem: String| DataError::Columns {
        path: path.to_path_buf(),
        key,
        header: names.join(","),
        problem,
    };
    // One column whose name holds another separator: a file saved with `;`
    // (a spreadsheet in many locales) or tabs reads as one column.
    if let [only] = names[..]
        && let Some((sep, shown)) =
            [(';', "`;`"), ('\t', "tabs")].into_iter().find(|(c, _)| only.contains(*c))
    {
        let parts = only.split(sep).count();
        return Err(columns_err(
            "dataset",
            format!(
                "one column, whose name holds {parts} names: the file seems to be separated by {shown}; sweep \
             reads comma-separated values: write it with commas (pandas: df.to_csv(path, index=False); \
             a spreadsheet: save as \"CSV (comma delimited)\")"
            ),
        ));
    }
    // A name matches exactly: one equal but for case (`Cultivar` for
    // `cultivar`) is an error with a "did you mean", never a silent match.
    let find = |name: &str, what: &'static str| -> Result<usize, DataError> {
        match names.iter().position(|h| *h == name) {
            Some(j) if names[j + 1..].contains(&names[j]) => {
                Err(columns_err(what, format!("two columns are named `{name}`; rename one")))
            }
            Some(j) => Ok(j),
            None => {
                let named: Vec<&str> = names.iter().copied().filter(|h| !h.is_empty()).collect();
                let hint = match named.iter().find(|h| h.eq_ignore_ascii_case(name)) {
                    Some(m) => format!(" (did you mean `{m}`? names match exactly, case included)"),
                    None => crate::spec::did_you_mean(name, &named)
                        .map_or(String::new(), |m| format!(" (did you mean `{m}`?)")),
                };
                // Every column up to ALL (the right one is then in view,
                // whatever its name); the first SHOWN of a wider table.
                const ALL: usize = 30;
                const SHOWN: usize = 12;
                let shown = if named.len() <= ALL { named.len() } else { SHOWN };
                let more = named.len() - shown;
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                Err(DataError::Columns {
                    path: path.to_path_buf(),
                    key: what,
                    header: String::new(),
                    problem: format!(
                        "no column `{name}` for {what}{hint}; columns: {}{more}",
                        named[..shown].join(", ")
                    ),
                })
            }
        }
    };
    let label = find(&spec.label_column, "label_column")?;
    let features: Vec<usize> = if spec.feature_columns.is_empty() {
        let mut features = Vec::with_capacity(width - 1);
        for (j, name) in names.iter().enumerate().filter(|&(j, _)| j != label) {
            if name.is_empty() {
                return Err(columns_err(
                    "dataset",
                    format!(
                        "column {} has no name (the index pandas.DataFrame.to_csv writes?); \
                     write the file with index=False, or list the inputs in feature_columns",
                        j + 1
                    ),
                ));
            }
            if names[j + 1..].contains(name) {
                return Err(columns_err("dataset", format!("two columns are named `{name}`; rename one")));
            }
            features.push(j);
        }
        features
    } else {
        let mut features = Vec::with_capacity(spec.feature_columns.len());
        for name in &spec.feature_columns {
            let j = find(name, "feature_columns")?;
            if j == label {
                return Err(columns_err(
                    "feature_columns",
                    format!("`{name}` is the label column; it cannot be an input too"),
                ));
            }
            if let Some(&k) = features.iter().find(|&&k| k == j) {
                return Err(columns_err(
                    "feature_columns",
                    format!("`{name}` and `{}` are one column; list each input once", names[k]),
                ));
            }
            features.push(j);
        }
        features
    };
    if features.is_empty() {
        return Err(columns_err(
            "feature_columns",
            format!("needs at least one input column besides `{}`", spec.label_column),
        ));
    }
    let d = features.len();

    let mut xs: Vec<f64> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    // Each label (trimmed) as first written, untrimmed, and its line.
    let mut first_seen: std::collections::HashMap<String, (String, u64)> = std::collections::HashMap::new();
    let mut dropped_rows = 0;
    let mut row = vec![0.0; d];
    'rows: for (k, record) in reader.records().enumerate() {
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
        let cell = |j: usize| record[j].trim();
        for &j in features.iter().chain([&label]) {
            if is_missing(cell(j)) {
                if spec.missing == Missing::DropRows {
                    dropped_rows += 1;
                    continue 'rows;
                }
                return Err(DataError::Missing {
                    path: path.to_path_buf(),
                    line,
                    column: names[j].to_string(),
                    value: cell(j).to_string(),
                });
            }
        }
        for (slot, &j) in row.iter_mut().zip(&features) {
            let (cell, column) = (cell(j), names[j].to_string());
            let v: f64 = cell.parse().map_err(|_| DataError::NotANumber {
                path: path.to_path_buf(),
                line,
                column: column.clone(),
                value: cell.to_string(),
            })?;
            if !v.is_finite() {
                return Err(DataError::NotFinite {
                    path: path.to_path_buf(),
                    line,
                    column,
                    value: cell.to_string(),
                });
            }
            *slot = v;
        }
        // A label is trimmed, like every cell; two labels that differ only
        // by those spaces (`cat`, ` cat`) are refused: pandas reads them as
        // two classes, trimming would merge them, and either silently
        // would surprise someone.
        let (raw, trimmed) = (&record[label], cell(label));
        let (first, first_line) =
            first_seen.entry(trimmed.to_string()).or_insert_with(|| (raw.to_string(), line));
        if first != raw {
            return Err(DataError::Spaces {
                path: path.to_path_buf(),
                line,
                column: names[label].to_string(),
                value: raw.to_string(),
                first: first.clone(),
                first_line: *first_line,
            });
        }
        xs.extend_from_slice(&row);
        labels.push(trimmed.to_string());
    }
    if labels.is_empty() {
        let why = if dropped_rows > 0 {
            format!(" ({dropped_rows} dropped for missing cells)")
        } else {
            String::new()
        };
        return Err(DataError::NoRows { path: path.to_path_buf(), why });
    }
    let (classes, index) = class_indices(&labels);
    let class_err = |problem: String| DataError::Classes {
        path: path.to_path_buf(),
        column: spec.label_column.clone(),
        problem,
    };
    if classes.len() < 2 {
        return Err(class_err(format!(
            "every label is `{}`: a classifier needs two classes or more",
            classes[0]
        )));
    }
    let y: Array1<f64> = index.iter().map(|&i| i as f64).collect();
    let x = Array2::from_shape_vec((labels.len(), d), xs).map_err(|e| class_err(e.to_string()))?;
    Ok(Table {
        data: Dataset { x, y },
        columns: features.iter().map(|&j| names[j].to_string()).collect(),
        classes,
        dropped_rows,
    })
}

/// The sorted distinct labels (SPEC 4): in numeric order when every label
/// is a number (`1` and `1.0` are then one class, named as first written),
/// else in byte order.
pub fn classes_of(labels: &[String]) -> Vec<String> {
    class_indices(labels).0
}

/// The classes of `labels` and each label's class index.
pub fn class_indices(labels: &[String]) -> (Vec<String>, Vec<usize>) {
    let numbers: Option<Vec<f64>> =
        labels.iter().map(|l| l.parse::<f64>().ok().filter(|v| v.is_finite())).collect();
    match numbers {
        Some(values) => {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            sorted.dedup_by(|a, b| a == b);
            let index: Vec<usize> = values.iter().map(|v| sorted.partition_point(|s| s < v)).collect();
            let mut names: Vec<Option<&String>> = vec![None; sorted.len()];
            for (&i, l) in index.iter().zip(labels) {
                names[i].get_or_insert(l);
            }
            (names.into_iter().map(|n| n.cloned().unwrap_or_default()).collect(), index)
        }
        None => {
            let mut classes = labels.to_vec();
            classes.sort();
            classes.dedup();
            let index = labels.iter().map(|l| classes.partition_point(|c| c < l)).collect();
            (classes, index)
        }
    }
}

/// A file that is not UTF-8 is refused where its first bad byte is, with
/// how to convert it: a UTF-16 file (a byte-order mark, or NUL bytes:
/// Excel's "Unicode text") or, most often, Latin-1 / Windows-1252.
fn check_utf8(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    let bad = match std::str::from_utf8(bytes) {
        Ok(_) => match bytes.iter().position(|&b| b == 0) {
            Some(at) => at,
            None => return Ok(()),
        },
        Err(e) => e.valid_up_to(),
    };
    let utf16 = utf16 || bytes.contains(&0);
    let line = 1 + bytes[..bad].iter().filter(|&&b| b == b'\n').count() as u64;
    let (encoding, from) = if utf16 { ("UTF-16", "utf-16") } else { ("Latin-1 or Windows-1252", "latin1") };
    Err(DataError::NotUtf8 {
        path: path.to_path_buf(),
        line,
        byte: bad,
        problem: format!(
            "the file is not UTF-8 (byte 0x{:02X}; {encoding}?); sweep reads UTF-8 CSV: convert it, e.g. \
             `iconv -f {from} -t utf-8 {name} > utf8.csv`, or in pandas \
             `pd.read_csv(path, encoding=\"{from}\").to_csv(\"utf8.csv\", index=False, encoding=\"utf-8\")`",
            bytes[bad],
            name = path.file_name().map_or_else(|| "in.csv".into(), |n| n.to_string_lossy()),
        ),
    })
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

/// Each class's number of samples (class i at index i) in `data`.
pub fn class_counts(data: &Dataset) -> Vec<usize> {
    let mut counts = Vec::new();
    for &y in &data.y {
        let c = y as usize;
        if counts.len() <= c {
            counts.resize(c + 1, 0);
        }
        counts[c] += 1;
    }
    counts
}

/// Checks a split from the class sizes alone, before anything trains, and
/// refuses what scikit-learn's `train_test_split` refuses: a positive
/// `test_fraction` that holds out no sample; `stratify` with a class of fewer than 2
/// members; a stratified class held out whole (never trained on). Returns
/// notes: a label column where most classes have one sample (a continuous
/// value read as classes?). `counts[i]`: samples of `classes[i]`.
pub fn check_split(
    path: &Path,
    classes: &[String],
    counts: &[usize],
    spec: &DataSpec,
) -> Result<Vec<String>, DataError> {
    let tf = spec.test_fraction;
    let n: usize = counts.iter().sum();
    let err =
        |key: &'static str, problem: String| DataError::Split { path: path.to_path_buf(), key, problem };
    let name = |c: usize| classes.get(c).map_or_else(|| c.to_string(), Clone::clone);
    if tf > 0.0 && spec.stratify {
        if let Some((c, &k)) = counts.iter().enumerate().filter(|&(_, &k)| k > 0).min_by_key(|&(_, &k)| k)
            && k < 2
        {
            return Err(err(
                "stratify",
                format!(
                    "the least populated class in `{}` (`{}`) has only {k} member: stratify = true needs at \
                     least 2 of each class (scikit-learn refuses it too); drop that class's rows, or set \
                     stratify = false",
                    spec.label_column,
                    name(c)
                ),
            ));
        }
        if let Some((c, &k)) = counts.iter().enumerate().find(|&(_, &k)| k > 0 && held_out(k, tf) >= k) {
            return Err(err(
                "test_fraction",
                format!(
                    "test_fraction = {tf} with stratify holds out every sample of class `{}` (round({k} × {tf}) = {k}): \
                     it would never be trained on; allowed: a smaller test_fraction",
                    name(c)
                ),
            ));
        }
    }
    let held: usize =
        if spec.stratify { counts.iter().map(|&k| held_out(k, tf)).sum() } else { held_out(n, tf) };
    if tf > 0.0 && held == 0 {
        let how = if spec.stratify {
            "round(n_c × test_fraction) is 0 for every class".to_string()
        } else {
            format!("round({n} × {tf}) = 0")
        };
        return Err(err(
            "test_fraction",
            format!(
                "test_fraction = {tf} holds out no sample of the {n} ({how}); allowed: a share that \
                 holds out at least one sample (test_fraction >= {}), or 0 for no test split",
                fraction_for_one_sample(if spec.stratify {
                    counts.iter().copied().max().unwrap_or(n)
                } else {
                    n
                })
            ),
        ));
    }
    let single = counts.iter().filter(|&&k| k == 1).count();
    let mut notes = Vec::new();
    if counts.len() >= 10 && 2 * single > counts.len() {
        notes.push(format!(
            "{}: {single} of the {} classes of label_column `{}` have a single sample: is it a continuous \
             value? sweep trains classifiers, and every distinct label is a class",
            path.display(),
            counts.len(),
            spec.label_column
        ));
    }
    Ok(notes)
}

/// Refuses a split whose training part lacks a class the data has (the
/// seed's shuffle held all its samples out): the network could never
/// learn it. `seed` is named, as only some seeds may do it.
fn check_trained_classes(path: &Path, split: &Split, all: &[usize], seed: u64) -> Result<(), DataError> {
    let trained = class_counts(&split.train);
    let missing = all.iter().enumerate().find(|&(c, &k)| k > 0 && trained.get(c).is_none_or(|&t| t == 0));
    match missing {
        None => Ok(()),
        Some((c, &k)) => Err(DataError::Split {
            path: path.to_path_buf(),
            key: "test_fraction",
            problem: format!(
                "seed {seed}: every sample of class `{}` ({k}) fell in the held-out part, \
                 so it is never trained on; allowed: stratify = true, or a smaller test_fraction",
                split.classes.get(c).map_or_else(|| c.to_string(), Clone::clone)
            ),
        }),
    }
}

/// The smallest test_fraction with three significant digits that holds
/// out one of `n` samples: round(n x f) >= 1 from f = 0.5/n on, so 0.5/n
/// rounded up to three digits (one unit more when the product of the
/// rounded value still falls below a half in floating point).
fn fraction_for_one_sample(n: usize) -> String {
    let n = n.max(1);
    let f = 0.5 / n as f64;
    let decimals = (2 - f.log10().floor() as i32).max(0);
    let scale = 10f64.powi(decimals);
    let mut units = (f * scale).ceil();
    let text = |units: f64| format!("{:.*}", decimals as usize, units / scale);
    while held_out(n, text(units).parse().unwrap_or(1.0)) == 0 {
        units += 1.0;
    }
    let text = text(units);
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    text.to_string()
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
    parts(data, order[..n - n_test].to_vec(), order[n - n_test..].to_vec())
}

/// The stratified split (SPEC 4): for each class c, the last
/// round(n_c * test_fraction) of that class's samples in `order` are held
/// out. Both parts keep the data's original relative order.
pub fn split_stratified(data: &Dataset, order: &[usize], test_fraction: f64) -> Split {
    let classes = data.y.iter().fold(0usize, |k, &y| k.max(y as usize + 1));
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for &i in order {
        by_class[data.y[i] as usize].push(i);
    }
    let (mut train_idx, mut test_idx) = (Vec::new(), Vec::new());
    for members in &by_class {
        let n_test = held_out(members.len(), test_fraction);
        train_idx.extend_from_slice(&members[..members.len() - n_test]);
        test_idx.extend_from_slice(&members[members.len() - n_test..]);
    }
    parts(data, train_idx, test_idx)
}

/// The two parts, each in the data's original order.
fn parts(data: &Dataset, mut train_idx: Vec<usize>, mut test_idx: Vec<usize>) -> Split {
    train_idx.sort_unstable();
    test_idx.sort_unstable();
    let (train, test) = (data.select(&train_idx), data.select(&test_idx));
    Split { train_raw: train.x.clone(), test_raw: test.x.clone(), train, test, ..Split::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The suggested test_fraction reads short, holds out a sample, and is
    /// the least that does at three digits (it printed 0.5/n to seventeen
    /// digits, then 1/n, which refused shares that hold one out).
    #[test]
    fn the_fraction_suggested_for_one_sample_holds_one_out() {
        for (n, want) in
            [(150, "0.00334"), (120, "0.00417"), (2, "0.25"), (3, "0.167"), (1, "0.5"), (100, "0.005")]
        {
            assert_eq!(fraction_for_one_sample(n), want, "n = {n}");
        }
        // The least such three-digit share, for every size up to 20,000:
        // it holds one out, and one unit less holds none.
        for n in 1..20_000 {
            let shown = fraction_for_one_sample(n);
            let f: f64 = shown.parse().unwrap();
            assert!(held_out(n, f) >= 1, "n = {n}: {shown}");
            let digits = shown.split('.').nth(1).map_or(0, str::len) as i32;
            let less = f - 10f64.powi(-digits);
            assert!(held_out(n, less) == 0, "n = {n}: {shown} is not the least");
        }
    }

    fn spec(source: DataSource, n: usize, noise: f64, test_fraction: f64) -> DataSpec {
        DataSpec {
            source,
            n_samples: n,
            noise,
            test_fraction,
            ..crate::spec::JobSpec::default_with_seed(0).data
        }
    }

    fn csv_spec() -> DataSpec {
        crate::spec::JobSpec::default_with_seed(0).data
    }

    /// Without stratify, a seed whose shuffle holds a class's every sample
    /// out is refused (that class would never be trained on), naming the
    /// seed; other seeds train on it.
    #[test]
    fn a_class_the_training_split_lacks_is_refused_with_its_seed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let mut text = String::from("x,label\n");
        for i in 0..40 {
            text.push_str(&format!("{},{}\n", i as f64 / 40.0, i % 2));
        }
        text.push_str("0.5,lonely\n");
        std::fs::write(&path, text).unwrap();
        let spec = DataSpec { test_fraction: 0.5, ..spec(DataSource::Csv(path), 0, 0.0, 0.5) };
        let (mut refused, mut trained) = (0, 0);
        for seed in 0..20 {
            match build(&spec, seed) {
                Ok(split) => {
                    assert_eq!(class_counts(&split.train).len(), 3, "seed {seed}");
                    trained += 1;
                }
                Err(e) => {
                    let text = e.to_string();
                    assert!(text.contains(&format!("seed {seed}: every sample of class `lonely`")), "{text}");
                    assert_eq!(e.key(), "test_fraction");
                    refused += 1;
                }
            }
        }
        assert!(refused > 0 && trained > 0, "{refused} refused, {trained} trained");
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
        std::fs::write(&path, body).unwrap();
        path
    }

    /// The data keys of a job on a CSV file (the loaders are given its path).
    fn csv_with(pairs: &[(&str, &str)]) -> DataSpec {
        let keys: String = pairs.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        let table: toml::Table = toml::from_str(&format!("dataset = \"d.csv\"\n{keys}")).unwrap();
        crate::spec::JobSpec::from_values(0, &|k| table.get(k).cloned(), Path::new("/")).unwrap().data
    }

    #[test]
    fn csv_good_file_loads_with_trimmed_cells() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_csv(&dir, "good.csv", "x0, x1 ,label\n0.5,1.5,0\n -2 , 3e-1 , 1.0 \n4,5,1\n");
        let d = load_csv(&path, &csv_spec()).unwrap();
        assert_eq!(d.data.x, Array2::from_shape_vec((3, 2), vec![0.5, 1.5, -2.0, 0.3, 4.0, 5.0]).unwrap());
        assert_eq!(d.data.y.to_vec(), vec![0.0, 1.0, 1.0]);
        assert_eq!(d.columns, ["x0", "x1"]);
        assert_eq!(d.classes, ["0", "1.0"], "1.0 and 1 are one class, named as first written");
        // A name equal but for case is not the column: refused, with the name.
        let path = write_csv(&dir, "upper.csv", "x0,x1,LABEL\n0.5,1.5,0\n4,5,1\n");
        let e = load_csv(&path, &csv_spec()).unwrap_err();
        assert!(e.to_string().contains("did you mean `LABEL`? names match exactly, case included"), "{e}");
        assert_eq!(e.key(), "label_column");
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

    /// The split depends on the file's contents, not on where it lies.
    #[test]
    fn the_csv_data_stream_is_keyed_by_contents_not_path() {
        let dir = tempfile::tempdir().unwrap();
        let rows: String = (0..40).map(|i| format!("{i},{}\n", i % 2)).collect();
        let a = write_csv(&dir, "a.csv", &format!("a,label\n{rows}"));
        let b = write_csv(&dir, "b.csv", &format!("a,label\n{rows}"));
        let changed = write_csv(&dir, "c.csv", &format!("a,label\n{rows}40,0\n"));
        let split = |p: &PathBuf| build(&spec(DataSource::Csv(p.clone()), 100, 0.0, 0.25), 3).unwrap();
        assert_eq!(split(&a), split(&b));
        assert_ne!(split(&a).test.x, split(&changed).test.x.slice(ndarray::s![..10, ..]));
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
            ("one-class.csv", "x0,label\n1,a\n2,a\n", None, "every label is `a`"),
            ("cells.csv", "x0,x1,label\n1,2,0\n1,1\n", Some("line 3"), "expected 3 cells, found 2"),
            ("no-label.csv", "x0,x1\n1,2\n", Some("line 1"), "no column `label` for label_column"),
            ("only-label.csv", "label\n1\n", Some("line 1"), "at least one input column"),
            ("empty.csv", "", None, "empty"),
            ("header-only.csv", "x0,label\n", None, "no data rows"),
            ("inf.csv", "x0,label\n1,0\ninf,1\n", Some("line 3"), "not finite"),
            ("twice.csv", "x0,x0,label\n1,2,0\n", Some("line 1"), "two columns are named `x0`"),
            ("tabs.csv", "x0\tx1\tlabel\n1\t2\t0\n", Some("line 1"), "seems to be separated by tabs"),
            ("semicolons.csv", "x0;label\n1;0\n", Some("line 1"), "seems to be separated by `;`"),
            ("spaces.csv", "x0,label\n1,cat\n2, dog\n3,dog\n", Some("line 4"), "`dog` differs from ` dog`"),
        ];
        for (name, body, line, what) in cases {
            let path = write_csv(&dir, name, body);
            let msg = load_csv(&path, &csv_spec()).unwrap_err().to_string();
            assert!(msg.contains(name), "{msg}");
            assert!(msg.contains(what), "{msg}");
            if let Some(line) = line {
                assert!(msg.contains(line), "{msg}");
            }
        }
        let missing = dir.path().join("missing.csv");
        let err = load_csv(&missing, &csv_spec()).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }));
        assert!(err.to_string().contains("missing.csv"), "{err}");
        let err = build(&spec(DataSource::Csv(missing), 10, 0.0, 0.0), 0).unwrap_err();
        assert!(err.to_string().contains("missing.csv"), "{err}");
    }

    /// `pandas.DataFrame.to_csv()` writes an unnamed index column first.
    #[test]
    fn an_unnamed_column_is_refused_unless_feature_columns_leaves_it_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_csv(&dir, "pandas.csv", ",x0,x1,label\n0,0.238,0.5442,1\n1,0.5,0.1,0\n");
        let msg = load_csv(&path, &csv_spec()).unwrap_err().to_string();
        assert!(msg.contains("pandas.csv: line 1: column 1 has no name"), "{msg}");
        assert!(msg.contains("index=False"), "{msg}");
        let t = load_csv(&path, &csv_with(&[("feature_columns", r#"["x0", "x1"]"#)])).unwrap();
        assert_eq!(t.columns, ["x0", "x1"]);
        assert_eq!(t.data.x.row(0).to_vec(), vec![0.238, 0.5442], "the file's x0 stays x0");
    }

    #[test]
    fn label_column_anywhere_and_feature_columns_in_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_csv(&dir, "d.csv", "species,a,b,c\nx,1,2,3\ny,4,5,6\n");
        let s = csv_with(&[("label_column", r#""species""#), ("feature_columns", r#"["c", "a"]"#)]);
        let t = load_csv(&path, &s).unwrap();
        assert_eq!(t.columns, ["c", "a"]);
        assert_eq!(t.data.x, ndarray::array![[3.0, 1.0], [6.0, 4.0]]);
        let msg = load_csv(&path, &csv_with(&[("label_column", r#""specie""#)])).unwrap_err().to_string();
        assert!(msg.contains("no column `specie` for label_column (did you mean `species`?)"), "{msg}");
        let s = csv_with(&[("label_column", r#""species""#), ("feature_columns", r#"["a", "species"]"#)]);
        let msg = load_csv(&path, &s).unwrap_err().to_string();
        assert!(msg.contains("`species` is the label column"), "{msg}");
    }

    /// A missing label column lists the file's columns once (not again as
    /// the raw header), at most twelve of them.
    #[test]
    fn a_missing_label_column_lists_the_columns_once_and_briefly() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..64).map(|i| format!("px{i}")).collect();
        let text = format!("{},digit\n{},3\n", names.join(","), vec!["0"; 64].join(","));
        let path = write_csv(&dir, "wide.csv", &text);
        let msg = load_csv(&path, &csv_with(&[("label_column", r#""label""#)])).unwrap_err().to_string();
        assert!(msg.contains("no column `label` for label_column"), "{msg}");
        assert!(msg.contains("columns: px0, px1,") && msg.contains("and 53 more"), "{msg}");
        assert_eq!(msg.matches("px1,").count(), 1, "listed once: {msg}");
        assert!(!msg.contains("header:"), "{msg}");
    }

    /// Labels are trimmed like every cell: written with the same spaces
    /// throughout, they are one class each, named without them.
    #[test]
    fn labels_padded_alike_are_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_csv(&dir, "p.csv", "x, label\n1, cat\n2, dog\n3, cat\n");
        let t = load_csv(&path, &csv_spec()).unwrap();
        assert_eq!(t.classes, ["cat", "dog"]);
        assert_eq!(t.data.y.to_vec(), vec![0.0, 1.0, 0.0]);
    }

    #[test]
    fn string_labels_map_to_sorted_classes() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_csv(&dir, "s.csv", "x,label\n1,malignant\n2,benign\n3,malignant\n");
        let t = load_csv(&path, &csv_spec()).unwrap();
        assert_eq!(t.classes, ["benign", "malignant"]);
        assert_eq!(t.data.y.to_vec(), vec![1.0, 0.0, 1.0]);
        // Numbers sort numerically (10 after 9), strings bytewise (`B` before `a`).
        let s = |v: &[&str]| classes_of(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["10", "9", "-1", "9"]), ["-1", "9", "10"]);
        assert_eq!(s(&["a", "B", "10", "9"]), ["10", "9", "B", "a"]);
    }

    #[test]
    fn missing_cells_are_errors_with_line_and_column_or_dropped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_csv(&dir, "m.csv", "a,b,label\n1,2,0\n3,,1\n4,NA,0\n5,6,1\n7,8,NaN\n9,1,0\n");
        let msg = load_csv(&path, &csv_spec()).unwrap_err().to_string();
        assert!(msg.contains("m.csv: line 3, column `b`: missing value"), "{msg}");
        assert!(msg.contains("drop-rows"), "{msg}");
        let t = load_csv(&path, &csv_with(&[("missing", r#""drop-rows""#)])).unwrap();
        assert_eq!(t.dropped_rows, 3);
        assert_eq!(t.data.x.column(0).to_vec(), vec![1.0, 5.0, 9.0]);
        // A column left out of feature_columns is not read at all.
        let t = load_csv(&path, &csv_with(&[("feature_columns", r#"["a"]"#), ("missing", r#""drop-rows""#)]))
            .unwrap();
        assert_eq!(t.dropped_rows, 1, "only the missing label");
    }

    #[test]
    fn stratified_split_holds_out_each_class_share_from_its_shuffled_order() {
        let n = 20;
        // 14 of class 0, 6 of class 1.
        let data = Dataset {
            x: Array2::from_shape_fn((n, 1), |(i, _)| i as f64),
            y: Array1::from_shape_fn(n, |i| if i % 10 < 3 { 1.0 } else { 0.0 }),
        };
        let order: Vec<usize> = (0..n).rev().collect();
        let s = split_stratified(&data, &order, 0.25);
        // round(14 * 0.25) = 4 (3.5 rounds up), round(6 * 0.25) = 2 (1.5 rounds up).
        let held: Vec<f64> = s.test.x.column(0).to_vec();
        assert_eq!(held, vec![0.0, 1.0, 3.0, 4.0, 5.0, 6.0], "the last of each class in `order`, data order");
        assert_eq!(s.train.len(), 14);
    }

    /// Changing a held-out row leaves the fitted scaling unchanged: it is
    /// fitted on the training part only.
    #[test]
    fn scaling_is_fitted_on_the_training_split_only() {
        let n = 10;
        let mut data = Dataset {
            x: Array2::from_shape_fn((n, 2), |(i, j)| (i * (j + 1)) as f64),
            y: Array1::from_shape_fn(n, |i| (i % 2) as f64),
        };
        let order = [3, 9, 0, 7, 1, 8, 2, 6, 5, 4];
        for method in [Scale::Standard, Scale::Minmax] {
            let before = scale(split(&data, &order, 0.3), method);
            let held = order[order.len() - 1];
            data.x[[held, 0]] = 1e6;
            let after = scale(split(&data, &order, 0.3), method);
            assert_eq!(before.scaling, after.scaling, "{method}");
            assert_ne!(before.test.x, after.test.x);
            assert_eq!(after.test_raw[[0, 0]], 1e6, "raw values kept");
            data.x[[held, 0]] = held as f64;
        }
    }

    #[test]
    fn standard_and_minmax_scaling_by_hand() {
        let x = ndarray::array![[1.0, 5.0], [3.0, 5.0]];
        let s = Scaling::fit(Scale::Standard, &x).unwrap();
        assert_eq!((s.offset.clone(), s.divisor.clone()), (vec![2.0, 5.0], vec![1.0, 1.0]), "constant: 1");
        assert_eq!(s.apply(&x), ndarray::array![[-1.0, 0.0], [1.0, 0.0]]);
        let m = Scaling::fit(Scale::Minmax, &ndarray::array![[1.0, 5.0], [5.0, 5.0], [2.0, 5.0]]).unwrap();
        assert_eq!((m.offset, m.divisor), (vec![1.0, 5.0], vec![4.0, 1.0]));
        assert!(Scaling::fit(Scale::None, &x).is_none());
    }
}

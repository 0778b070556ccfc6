//! `sweep report DIR` (SPEC 7): reads a results folder back (summary.csv,
//! or the job folders when it is missing), and writes `report.md` with a
//! table per swept axis, a table of every configuration and SVG figures
//! under `DIR/figures/`, and `report.html`, one self-contained interactive
//! page of the same.
//!
//! This module owns the order of the report and is the only place that
//! writes its files; [`aggregate`] computes, [`labels`] names values,
//! [`tables`], [`figures`] and [`html`] render, [`boundary`] rebuilds saved
//! models. A report is a view of what is there: a missing or unreadable
//! per-job file becomes a note in the report instead of an error, so
//! partial folders and folders with diverged jobs always report, and say
//! how much of the plan they cover.
//!
//! Values of different data sets are never summarised together: every
//! learning-curve figure has one panel per data set (and per value of any
//! other parameter that changes the task: [`PANEL_KEYS`]), and every table
//! row holds one data set.

pub mod aggregate;
pub mod boundary;
pub mod figures;
pub mod html;
pub mod labels;
pub mod projection;
pub mod rows;
pub mod tables;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::manifest::Manifest;
use crate::plan::Plan;
use crate::spec;
use crate::store::{self, StoreError};
use crate::train::EpochRecord;

use aggregate::{Axis, Curves, fmt_sig};
use figures::{CurvesFigure, FigureError, Panel, Points, PredictionFigure, SeedRow, SeedsFigure, Series};
use rows::{Row, Rows};

pub use crate::store::layout::{FIGURE_LIST, FIGURES, PAGE, REPORT};
/// Parameters that change the task or the loss's units: learning curves get
/// one panel per value of each that is swept, and tables keep them apart.
pub const PANEL_KEYS: &[&str] = &["dataset", "n_samples", "noise", "test_fraction", "loss"];
/// Cells per side of the decision-boundary grid.
const GRID_CELLS: usize = 200;
/// Records read of a curve for the figures and the page (no figure is this
/// many pixels wide): see `Report::records`.
const MAX_CURVE_POINTS: usize = 4096;
/// Notes listed before the rest are counted.
const MAX_NOTES: usize = 20;

/// What `sweep report` was asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The Markdown file to write (default `DIR/report.md`). Figures always
    /// go to `DIR/figures/`, and the report links them relative to itself;
    /// report.html always goes to `DIR/report.html` (the report says where).
    pub out: Option<PathBuf>,
}

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub report: PathBuf,
    pub page: PathBuf,
    pub figures: Vec<PathBuf>,
    /// Figures of an earlier report that this one no longer draws, removed.
    pub removed: Vec<PathBuf>,
    /// Jobs reported on.
    pub jobs: usize,
    /// Jobs in the folder's plan (manifest.toml), when it could be read.
    pub planned: Option<usize>,
}

/// Why no report could be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// summary.csv or a job's params.toml could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{}: no finished job to report: neither summary.csv nor jobs/ or packs/ holds one (an empty \
         shard, or a run stopped before its first job); train some first (`sweep run MANIFEST --out {}`)",
        dir.display(),
        dir.display()
    )]
    NoJobs { dir: PathBuf },
    #[error("{}: cannot write: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{}: cannot draw the figure: {source}", path.display())]
    Figure { path: PathBuf, source: FigureError },
}

/// A rendered figure, not yet written.
pub struct Figure {
    pub file: String,
    pub svg: String,
}

/// The figure names an earlier report recorded in `figures/.sweep-figures`
/// (plain file names only; anything else in the list is ignored).
fn figures_written_before(fig_dir: &Path) -> Vec<String> {
    let Ok(text) = fs::read_to_string(fig_dir.join(FIGURE_LIST)) else { return Vec::new() };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.starts_with('.') && !l.contains(['/', '\\']))
        .map(str::to_string)
        .collect()
}

/// Removes the figures sweep wrote before and did not write now: regular
/// files only (never through a symbolic link), and only names on its list.
fn remove_stale(fig_dir: &Path, before: &[String], now: &[String]) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for name in before.iter().filter(|n| !now.contains(n)) {
        let path = fig_dir.join(name);
        let is_file = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file());
        if is_file && fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Jobs in the plan of the folder's manifest.toml, or None when there is
/// none or it does not parse (the report then counts what it finds).
fn planned_jobs(dir: &Path) -> Option<usize> {
    let path = dir.join(store::MANIFEST);
    let text = fs::read_to_string(&path).ok()?;
    let manifest = Manifest::parse(&path, &text, &[]).ok()?;
    Plan::new(manifest).ok().map(|p| p.jobs.len())
}

/// Writes the report of the results folder `dir`.
pub fn write_report(dir: &Path, opts: &ReportOptions) -> Result<Written, ReportError> {
    // The plan's size first (its plan freed before the rows are read): the
    // rows are then held in a vector of that size, not one grown by doubling.
    let planned = planned_jobs(dir);
    let rows = Rows::read(dir, planned.unwrap_or(0))?;
    if rows.is_empty() {
        return Err(ReportError::NoJobs { dir: dir.to_path_buf() });
    }
    let report_path = opts.out.clone().unwrap_or_else(|| dir.join(REPORT));
    let fig_dir = dir.join(FIGURES);
    let parent = match report_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|source| ReportError::Write { path: parent.clone(), source })?;
    fs::create_dir_all(&fig_dir).map_err(|source| ReportError::Write { path: fig_dir.clone(), source })?;
    // The page is the results folder's (sweep's own): never beside a report
    // written elsewhere, where it could replace a file sweep did not make.
    let page_path = dir.join(PAGE);
    // Links are relative to where the report really is: through the real
    // paths, so a linked folder of another depth still reaches DIR.
    let real = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (real_parent, real_dir) = (real(&parent), real(dir));

    let mut report = Report::new(dir, &rows, planned);
    if real_parent != real_dir {
        report.page_at = Some(format!("{}/{PAGE}", relative(&real_dir, &real_parent)));
    }
    let body = report.render()?;

    let before = figures_written_before(&fig_dir);
    let now: Vec<String> = report.figures.iter().map(|f| f.file.clone()).collect();
    let mut written = Vec::with_capacity(report.figures.len());
    for f in &report.figures {
        let path = fig_dir.join(&f.file);
        // Whole or not at all (SPEC 6): a full disk or a kill keeps the old figure.
        store::write_whole(&path, f.svg.as_bytes(), &dir.join(store::TMP))?;
        written.push(path);
    }
    let removed = remove_stale(&fig_dir, &before, &now);
    let list = format!(
        "# The figures `sweep report` wrote here; it removes only these when it no longer draws them.\n{}\n",
        now.join("\n")
    );
    store::write_whole(&fig_dir.join(FIGURE_LIST), list.as_bytes(), &dir.join(store::TMP))?;

    let prefix = relative(&real(&fig_dir), &real_parent);
    let markdown = body.replace(LINK_PREFIX, &prefix);
    // The temporary file must be on the report's file system for the rename.
    let tmp_dir = if real_parent.starts_with(&real_dir) { dir.join(store::TMP) } else { parent.clone() };
    store::write_whole(&report_path, markdown.as_bytes(), &tmp_dir)?;

    let title = body.lines().next().and_then(|l| l.strip_prefix("# ")).unwrap_or("Report").to_string();
    // The page does not point to itself.
    let page_body = body.replace(&report.page_sentence(), "");
    let tmp = dir.join(store::TMP);
    store::write_whole_with(&page_path, &tmp, &mut |w| {
        html::write_page(w, &title, &mut |d| report.write_page_data(d, &tmp), &page_body, &report.figures)
    })?;
    Ok(Written {
        report: report_path,
        page: page_path,
        figures: written,
        removed,
        jobs: rows.len(),
        planned: report.planned,
    })
}

/// Placeholder for the figures folder as seen from the report, filled in
/// once the report's location is known.
const LINK_PREFIX: &str = "\u{0}FIGURES\u{0}";

/// `to` relative to the folder `from`, with `/` separators (for Markdown
/// links); absolute when the two share no root.
fn relative(to: &Path, from: &Path) -> String {
    let norm = |p: &Path| -> Vec<String> {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let mut parts: Vec<String> = Vec::new();
        for c in abs.components() {
            match c {
                Component::ParentDir => {
                    parts.pop();
                }
                Component::CurDir => {}
                Component::RootDir => parts.push(String::new()),
                other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
            }
        }
        parts
    };
    let (to, from) = (norm(to), norm(from));
    let common = to.iter().zip(&from).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return to.join("/");
    }
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(to[common..].iter().cloned());
    if parts.is_empty() { ".".to_string() } else { parts.join("/") }
}

/// A name safe as a file name: letters, digits, `.`, `_`, `-`.
fn file_safe(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .collect();
    let t = t.trim_matches(|c| c == '-' || c == '.').to_string();
    if t.is_empty() { "data".to_string() } else { t }
}

/// `0–9` style ranges for a sorted list of seeds.
fn seed_ranges(seeds: &[u64]) -> String {
    seed_runs(seeds, "–")
}

/// Runs of consecutive seeds joined by `dash`: `0-3, 7, 9` (a sorted list;
/// two in a row are listed, not joined). Shared with `sweep diff`.
pub(crate) fn seed_runs(seeds: &[u64], dash: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < seeds.len() {
        let mut j = i;
        while j + 1 < seeds.len() && seeds[j + 1] == seeds[j] + 1 {
            j += 1;
        }
        parts.push(match j - i {
            0 => seeds[i].to_string(),
            1 => format!("{}, {}", seeds[i], seeds[j]),
            _ => format!("{}{dash}{}", seeds[i], seeds[j]),
        });
        i = j + 1;
    }
    parts.join(", ")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn percent(a: f64) -> String {
    format!("{}%", fmt_sig(100.0 * a))
}

/// A job's logged records as (epoch, value) for one metric.
fn metric_points(records: &[EpochRecord], metric: Metric) -> impl Iterator<Item = (f64, f64)> + '_ {
    records.iter().filter_map(move |r| {
        let v = match metric {
            Metric::Loss => Some(r.loss),
            Metric::TestLoss => r.test_loss,
        };
        v.map(|v| (r.epoch as f64, v))
    })
}

/// A panel's (key, value) pairs and its jobs.
type PanelJobs<'a> = (Vec<(String, String)>, Vec<&'a Row>);

/// Which loss a learning-curve figure shows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Metric {
    Loss,
    TestLoss,
}

impl Metric {
    fn noun(self) -> &'static str {
        match self {
            Metric::Loss => "training loss",
            Metric::TestLoss => "held-out loss",
        }
    }
}

/// The report being assembled: rows, what was derived, figures, notes.
struct Report<'a> {
    dir: &'a Path,
    rows: &'a Rows,
    planned: Option<usize>,
    axes: Vec<Axis>,
    /// The swept axes that split panels ([`PANEL_KEYS`]), and the others.
    panel_axes: Vec<Axis>,
    other_axes: Vec<Axis>,
    /// Per axis key: value -> label ([`labels::short_labels`]).
    labels: HashMap<String, HashMap<String, String>>,
    fixed: Vec<(String, String)>,
    /// Jobs whose curve.csv could not be read (each noted once).
    unreadable: RefCell<HashSet<String>>,
    /// Where report.html is, relative to a report written outside the
    /// results folder (None: beside it).
    page_at: Option<String>,
    /// Notes about unreadable curves, found while drawing.
    curve_notes: RefCell<Vec<String>>,
    figures: Vec<Figure>,
    notes: Vec<String>,
}

impl<'a> Report<'a> {
    fn new(dir: &'a Path, rows: &'a Rows, planned: Option<usize>) -> Report<'a> {
        let axes = aggregate::swept_axes(rows);
        let fixed = aggregate::fixed_params(rows, &axes);
        let (panel_axes, other_axes): (Vec<Axis>, Vec<Axis>) =
            axes.iter().cloned().partition(|a| PANEL_KEYS.contains(&a.key.as_str()));
        let mut labels = HashMap::new();
        for a in &axes {
            let short = labels::short_labels(&a.values);
            labels.insert(a.key.clone(), a.values.iter().cloned().zip(short).collect());
        }
        // A single data set's name is shortened too (titles never show `../`).
        for (k, v) in &fixed {
            let short = labels::short_labels(std::slice::from_ref(v));
            labels.insert(k.clone(), std::iter::once((v.clone(), short[0].clone())).collect());
        }
        let mut r = Report {
            dir,
            rows,
            planned,
            axes,
            panel_axes,
            other_axes,
            labels,
            fixed,
            unreadable: RefCell::new(HashSet::new()),
            page_at: None,
            curve_notes: RefCell::new(Vec::new()),
            figures: Vec::new(),
            notes: Vec::new(),
        };
        r.check_curves();
        r
    }

    /// How `value` of `key` is shown.
    fn label(&self, key: &str, value: &str) -> String {
        self.labels.get(key).and_then(|m| m.get(value)).cloned().unwrap_or_else(|| value.to_string())
    }

    /// `key = label` for each (key, value).
    fn describe(&self, values: &[(String, String)], sep: &str) -> String {
        values.iter().map(|(k, v)| format!("{k}{sep}{}", self.label(k, v))).collect::<Vec<_>>().join(", ")
    }

    /// What a panel of the page shows: its panel axes' values
    /// (`dataset = xor`); for the single panel of a study that sweeps none,
    /// the task every job shares (its fixed [`PANEL_KEYS`]: the data set
    /// always, the others when not at their defaults) and `all n jobs`.
    fn panel_title(&self, values: &[(String, String)], jobs: usize) -> String {
        if !values.is_empty() {
            return self.describe(values, " = ");
        }
        let task: Vec<(String, String)> = PANEL_KEYS
            .iter()
            .filter_map(|k| self.fixed.iter().find(|(f, _)| f == k))
            .filter(|(k, v)| k == "dataset" || !aggregate::is_default(k, v))
            .cloned()
            .collect();
        let all = if jobs == 1 { "the only job".to_string() } else { format!("all {jobs} jobs") };
        if task.is_empty() { all } else { format!("{} ({all})", self.describe(&task, " = ")) }
    }

    /// Where a row's job is stored ([`Rows::place`]).
    fn at(&self, row: &Row) -> std::borrow::Cow<'a, store::JobRef> {
        self.rows.place(self.dir, row)
    }

    /// A row's job id.
    fn id(&self, row: &Row) -> String {
        self.rows.id(row)
    }

    /// Opens every job's curve.csv once, so the notes list the unreadable
    /// ones in row order (the figures then leave them out).
    fn check_curves(&mut self) {
        for row in self.rows {
            if let Err(e) = self.at(row).curve() {
                let id = self.id(row);
                self.unreadable.get_mut().insert(id);
                self.notes.push(format!("{e} (left out of the learning curves)"));
            }
        }
    }

    /// A job's logged records, read from its curve.csv when a figure needs
    /// them (a diverged job's end where it diverged). Curves are read again
    /// for each figure rather than all held: memory is that of one group's
    /// curves, and at most [`MAX_CURVE_POINTS`] records of each: a curve
    /// logged more often keeps every epoch that is a multiple of a stride
    /// (the same epochs for every job of the same `epochs` and
    /// `log_every`, so a band's quantiles stay exact at them), plus its
    /// last record.
    fn records(&self, row: &Row) -> Option<Vec<EpochRecord>> {
        if !self.unreadable.borrow().is_empty() && self.unreadable.borrow().contains(&self.id(row)) {
            return None;
        }
        let int = |key: &str| match row.param(key) {
            Some(spec::Typed::Int(i)) => Some(*i),
            _ => None,
        };
        let every = int("log_every").unwrap_or(1).max(1);
        let logged = int("epochs").map_or(0, |e| e / every + 1);
        let stride = every * logged.div_ceil(MAX_CURVE_POINTS).max(1);
        let read = || -> Result<Vec<EpochRecord>, StoreError> {
            let mut reader = self.at(row).curve()?;
            let mut kept = Vec::new();
            let mut last = None;
            while let Some(r) = reader.next_record()? {
                if stride == every || r.epoch % stride == 0 {
                    kept.push(r);
                    last = None;
                } else {
                    last = Some(r);
                }
            }
            kept.extend(last);
            Ok(kept)
        };
        match read() {
            Ok(records) => Some(records),
            Err(e) => {
                if self.unreadable.borrow_mut().insert(self.id(row)) {
                    self.curve_notes.borrow_mut().push(format!("{e} (left out of the learning curves)"));
                }
                None
            }
        }
    }

    fn add_figure(
        &mut self,
        file: String,
        alt: String,
        svg: Result<String, FigureError>,
    ) -> Result<String, ReportError> {
        let svg =
            svg.map_err(|source| ReportError::Figure { path: self.dir.join(FIGURES).join(&file), source })?;
        let link = format!("![{alt}]({LINK_PREFIX}/{file})\n");
        self.figures.push(Figure { file, svg });
        Ok(link)
    }

    /// `dataset = xor, epochs = 2000` for the fixed non-default parameters.
    fn fixed_text(&self) -> String {
        let nd: Vec<(String, String)> =
            self.fixed.iter().filter(|(k, v)| !aggregate::is_default(k, v)).cloned().collect();
        if nd.is_empty() {
            "every other parameter at its default".to_string()
        } else {
            format!("{} (others at their defaults)", self.describe(&nd, " = "))
        }
    }

    /// Where a row's panel is among the panels: its position on each panel
    /// axis (as [`aggregate::configurations`] orders them).
    fn panel_position(&self, r: &Row) -> Vec<usize> {
        self.panel_axes.iter().map(|a| a.position(r).unwrap_or(usize::MAX)).collect()
    }

    /// The panels: one per combination of the panel axes' values (in axis
    /// order), with its jobs; a single untitled panel when none is swept.
    fn panels(&self) -> Vec<PanelJobs<'a>> {
        aggregate::configurations(self.rows, &self.panel_axes)
            .into_iter()
            .map(|c| (c.values, c.rows))
            .collect()
    }

    fn render(&mut self) -> Result<String, ReportError> {
        let mut md = String::new();
        self.intro(&mut md);
        let any_test = self.rows.iter().any(|r| r.outcome().final_test_loss().is_some());
        if !self.panel_axes.is_empty() {
            self.panel_section(&mut md);
        }
        if self.other_axes.is_empty() {
            let _ = writeln!(md, "## Learning curves\n");
            for metric in
                [Metric::Loss, Metric::TestLoss].into_iter().filter(|m| any_test || *m == Metric::Loss)
            {
                self.curves_figure(None, metric, &mut md)?;
            }
        }
        for axis in self.other_axes.clone() {
            self.axis_section(&axis, any_test, &mut md)?;
        }
        self.configurations_section(&mut md)?;
        self.predictions_section(&mut md)?;
        self.notes_section(&mut md);
        Ok(md)
    }

    fn intro(&self, md: &mut String) {
        let manifest: Option<toml::Table> =
            fs::read_to_string(self.dir.join(store::MANIFEST)).ok().and_then(|t| toml::from_str(&t).ok());
        let get =
            |k: &str| manifest.as_ref().and_then(|m| m.get(k)).and_then(|v| v.as_str()).map(str::to_string);
        let name = get("name")
            .or_else(|| self.dir.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "results".to_string());
        let _ = writeln!(md, "# Report: {}\n", tables::cell(&name));
        if let Some(d) = get("description") {
            let _ = writeln!(md, "{d}\n");
        }
        let n = self.rows.len();
        match self.planned {
            Some(m) if n < m => {
                let _ = writeln!(
                    md,
                    "**Partial report: {n} of {m} jobs of the plan** have finished (a shard, a running or an \
                     interrupted sweep); every number below is over these {n} jobs only.\n"
                );
            }
            _ => {}
        }
        let diverged = self.rows.iter().filter(|r| aggregate::diverged(r)).count();
        let mut seeds: Vec<u64> = self.rows.iter().map(|r| r.seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        let source = if self.dir.join(store::SUMMARY).is_file() {
            "summary.csv".to_string()
        } else {
            "the job folders (there is no summary.csv: a partial or running sweep)".to_string()
        };
        let of_plan = match self.planned {
            Some(m) => format!("{n} of {m} jobs of the plan"),
            None => format!("{n} jobs"),
        };
        let _ = writeln!(
            md,
            "{of_plan} ({diverged} diverged), read from {source}. Seeds: {} ({}).\n",
            seed_ranges(&seeds),
            seeds.len()
        );
        let swept: Vec<String> =
            self.axes.iter().map(|a| format!("`{}` ({} values)", a.key, a.values.len())).collect();
        if swept.is_empty() {
            let _ = writeln!(md, "Swept: nothing but the seed.\n");
        } else {
            let _ = writeln!(md, "Swept: {}.\n", swept.join(", "));
        }
        let _ = writeln!(md, "Fixed: {}.\n", self.fixed_text());
        self.shortened_values(md);
        let target = self.fixed.iter().find(|(k, _)| k == "target_loss").map(|(_, v)| v.clone());
        let _ = writeln!(
            md,
            "How to read the tables: each row holds the jobs of one data set (never a mix). *Final loss* is \
             the mean per-sample training loss at the last epoch, shown as mean ± sample standard deviation \
             (divisor n − 1) over the jobs that did not diverge; diverged jobs (a non-finite loss) are \
             counted in their own column and never averaged. *Mean accuracy* is the final training accuracy \
             over the same jobs (and *mean test accuracy*, when samples were held out, the accuracy on \
             those). *100% accuracy* and *reached target* count jobs whose final training accuracy is 100% \
             and whose training loss reached `target_loss`{} at some epoch; the median epoch is over the \
             jobs that reached it. Numbers have three significant digits.\n",
            target.map(|t| format!(" ({t})")).unwrap_or_default()
        );
        let _ = writeln!(
            md,
            "How to read the learning curves: one panel per data set, sharing one log-scale loss axis. In \
             each, per value of the axis, the line is the median over its jobs and the band the middle half \
             of them (interquartile range); with {} jobs or fewer, every job's own curve is drawn thin and \
             faint. A diverged job counts as larger than any finite loss from the epoch it diverged, and \
             is marked × there at the top edge.{}\n",
            figures::FEW_JOBS,
            self.page_sentence()
        );
    }

    /// The sentence of report.md that points to the interactive page (with
    /// its leading space); the page itself leaves it out.
    fn page_sentence(&self) -> String {
        format!(
            " The interactive page {}, draws every job's curve and lists every job.",
            match &self.page_at {
                Some(at) => format!("`{at}`, in the results folder"),
                None => "`report.html`, beside this report".to_string(),
            }
        )
    }

    /// The footnote of shortened values: label = full value.
    fn shortened_values(&self, md: &mut String) {
        let mut rows: Vec<String> = Vec::new();
        let keys: Vec<String> =
            self.axes.iter().map(|a| a.key.clone()).chain(self.fixed.iter().map(|f| f.0.clone())).collect();
        for key in keys {
            let values: Vec<String> = match self.axes.iter().find(|a| a.key == key) {
                Some(a) => a.values.clone(),
                None => self.fixed.iter().filter(|f| f.0 == key).map(|f| f.1.clone()).collect(),
            };
            for v in values {
                let l = self.label(&key, &v);
                if l != v {
                    rows.push(format!("| `{key}` | `{}` | `{}` |", tables::cell(&l), tables::cell(&v)));
                }
            }
        }
        if !rows.is_empty() {
            let _ = writeln!(md, "Values shown shortened in the tables and figures:\n");
            let _ = writeln!(md, "| parameter | shown as | full value |\n| :-- | :-- | :-- |");
            let _ = writeln!(md, "{}\n", rows.join("\n"));
        }
    }

    /// A learning-curve series over `rows`: the band, each job's curve
    /// when there are few, and where diverged jobs ended.
    fn series<'r>(
        &self,
        rows: impl Iterator<Item = &'r Row> + Clone,
        metric: Metric,
    ) -> Result<Series, ReportError> {
        let tmp = self.dir.join(store::TMP);
        let failed = |source| ReportError::Write { path: tmp.clone(), source };
        let jobs = rows.clone().count();
        // Few jobs' curves are drawn one by one: those stay in memory.
        let mut curves = if jobs > figures::FEW_JOBS {
            Curves::spilling_to(jobs, &tmp)
        } else {
            Curves::with_capacity(jobs)
        };
        let mut ends = Vec::new();
        let mut diverged = 0;
        for r in rows {
            let recs = self.records(r);
            if aggregate::diverged(r) {
                diverged += 1;
                let last = recs.as_ref().and_then(|c| c.last()).map(|l| l.epoch as f64);
                if let Some(epoch) = r.outcome().diverged_epoch().map(|e| e as f64).or(last) {
                    ends.push((epoch, f64::NAN));
                }
            }
            if let Some(recs) = recs {
                curves.push(metric_points(&recs, metric)).map_err(failed)?;
            }
        }
        Ok(Series {
            band: aggregate::band_of(&mut curves).map_err(failed)?,
            lines: if jobs <= figures::FEW_JOBS { curves.to_curves().map_err(failed)? } else { Vec::new() },
            ends,
            jobs,
            diverged,
        })
    }

    /// The learning-curve figure of `axis` (None: every job of a panel as
    /// one group), one panel per data set; appends its link to `md`.
    fn curves_figure(
        &mut self,
        axis: Option<&Axis>,
        metric: Metric,
        md: &mut String,
    ) -> Result<(), ReportError> {
        let panels = self.panels();
        let values: Vec<String> = axis.map_or_else(|| vec![String::new()], |a| a.values.clone());
        let labels: Vec<String> = match axis {
            Some(a) => values.iter().map(|v| self.label(&a.key, v)).collect(),
            None => vec!["every job".to_string()],
        };
        let mut fig_panels = Vec::with_capacity(panels.len());
        let mut largest = 0;
        for (values_of_panel, rows) in &panels {
            let series = (0..values.len())
                .map(|i| {
                    // The group's rows are filtered as they are read, not
                    // collected (a group is up to every job); by typed
                    // value, never by displayed text.
                    let group =
                        rows.iter().copied().filter(|r| axis.is_none_or(|a| a.position(r) == Some(i)));
                    let series = self.series(group, metric)?;
                    largest = largest.max(series.jobs);
                    Ok(series)
                })
                .collect::<Result<_, ReportError>>()?;
            fig_panels.push(Panel { title: self.describe(values_of_panel, " = "), series });
        }
        let others: Vec<String> = self
            .other_axes
            .iter()
            .filter(|a| axis.is_none_or(|x| x.key != a.key))
            .map(|a| format!("{} ({} values)", a.key, a.values.len()))
            .collect();
        let over =
            if others.is_empty() { "seeds".to_string() } else { format!("seeds and {}", others.join(", ")) };
        let per = match axis {
            Some(a) => format!(" per value of {}", a.key),
            None => String::new(),
        };
        let panel_word = match self.panel_axes.len() {
            0 => String::new(),
            _ => format!(
                "One panel per {}. ",
                self.panel_axes.iter().map(|a| a.key.as_str()).collect::<Vec<_>>().join(" × ")
            ),
        };
        let noun = metric.noun();
        let title = match axis {
            Some(a) => format!("{} by {}", capitalise(noun), a.key),
            None => capitalise(noun),
        };
        let fig = CurvesFigure {
            title: title.clone(),
            subtitle: format!(
                "{panel_word}Line: median{per} over its jobs ({over}); band: middle half of the same jobs{}. \
                 Fixed: {}.",
                if largest <= figures::FEW_JOBS { "; thin lines: each job" } else { "" },
                self.fixed_text()
            ),
            legend_title: axis.map_or_else(|| "jobs".to_string(), |a| a.key.clone()),
            labels,
            panels: fig_panels,
            y_desc: format!("{noun} (mean per sample)"),
        };
        let suffix = if metric == Metric::TestLoss { "-test" } else { "" };
        let file = match axis {
            Some(a) => format!("curves-{}{suffix}.svg", file_safe(&a.key)),
            None => format!("curves{suffix}.svg"),
        };
        let link = self.add_figure(file, title, figures::curves_svg(&fig))?;
        let _ = writeln!(md, "{link}");
        Ok(())
    }

    /// The table of the panel axes: one row per data set (per combination
    /// of the panel axes), every other axis and the seeds pooled.
    fn panel_section(&mut self, md: &mut String) {
        let keys: Vec<String> = self.panel_axes.iter().map(|a| a.key.clone()).collect();
        let heading = if keys.len() == 1 { format!("`{}`", keys[0]) } else { "data set".to_string() };
        let _ = writeln!(md, "## By {heading}\n");
        let groups: Vec<(Vec<String>, Vec<&Row>)> = self
            .panels()
            .into_iter()
            .map(|(values, rows)| (values.iter().map(|(k, v)| self.label(k, v)).collect(), rows))
            .collect();
        md.push_str(&tables::group_table(&keys, &groups, false));
        md.push('\n');
    }

    fn axis_section(&mut self, axis: &Axis, any_test: bool, md: &mut String) -> Result<(), ReportError> {
        let _ = writeln!(md, "## By `{}`\n", axis.key);
        let mut keys: Vec<String> = self.panel_axes.iter().map(|a| a.key.clone()).collect();
        keys.push(axis.key.clone());
        // The table's groups are dropped before the figures are drawn.
        {
            let mut groups: Vec<(Vec<String>, Vec<&Row>)> = Vec::new();
            for (panel_values, rows) in self.panels() {
                for (i, v) in axis.values.iter().enumerate() {
                    let group: Vec<&Row> =
                        rows.iter().copied().filter(|r| axis.position(r) == Some(i)).collect();
                    if group.is_empty() {
                        continue;
                    }
                    let mut cells: Vec<String> =
                        panel_values.iter().map(|(k, pv)| self.label(k, pv)).collect();
                    cells.push(self.label(&axis.key, v));
                    groups.push((cells, group));
                }
            }
            md.push_str(&tables::group_table(&keys, &groups, false));
            md.push('\n');
        }
        for metric in [Metric::Loss, Metric::TestLoss].into_iter().filter(|m| any_test || *m == Metric::Loss)
        {
            self.curves_figure(Some(axis), metric, md)?;
        }
        md.push('\n');
        Ok(())
    }

    fn configurations_section(&mut self, md: &mut String) -> Result<(), ReportError> {
        let configs = aggregate::configurations(self.rows, &self.axes);
        let _ = writeln!(md, "## Every configuration\n");
        let keys: Vec<String> = if self.axes.is_empty() {
            vec!["configuration".to_string()]
        } else {
            self.axes.iter().map(|a| a.key.clone()).collect()
        };
        {
            // The table's copies of the row lists go before the seeds' figure.
            let groups: Vec<(Vec<String>, Vec<&Row>)> = configs
                .iter()
                .map(|c| {
                    let cells = if c.values.is_empty() {
                        vec![c.label()]
                    } else {
                        c.values.iter().map(|(k, v)| self.label(k, v)).collect()
                    };
                    (cells, c.rows.clone())
                })
                .collect();
            md.push_str(&tables::group_table(&keys, &groups, true));
            md.push('\n');
        }

        // With a test split on every job, the accuracy that matters is the
        // held-out one (training accuracy of a real data set is mostly 100%).
        let held_out = self.rows.iter().all(|r| r.outcome().final_test_accuracy().is_some());
        let accuracy = |r: &Row| {
            if held_out { r.outcome().final_test_accuracy() } else { Some(r.outcome().final_accuracy()) }
        };
        let rows: Vec<SeedRow> = configs
            .iter()
            .map(|c| {
                let label = if c.values.is_empty() { c.label() } else { self.describe(&c.values, "=") };
                let seed = |r: &Row| (r.seed, accuracy(r).unwrap_or(f64::NAN), aggregate::diverged(r));
                if c.rows.len() <= figures::MANY_SEEDS {
                    return SeedRow {
                        label,
                        seeds: c.rows.iter().map(|r| seed(r)).collect(),
                        counts: Vec::new(),
                    };
                }
                // A histogram: each distinct (accuracy, diverged) once, counted.
                let mut distinct = BTreeMap::new();
                for r in &c.rows {
                    let s = seed(r);
                    distinct.entry((s.1.to_bits(), s.2)).or_insert((s, 0usize)).1 += 1;
                }
                let (seeds, counts) = distinct.into_values().unzip();
                SeedRow { label, seeds, counts }
            })
            .collect();
        let failed: usize = rows
            .iter()
            .flat_map(SeedRow::weighted)
            .filter(|&(&(_, acc, diverged), _)| diverged || acc < 1.0)
            .map(|(_, count)| count)
            .sum();
        let many = configs.iter().any(|c| c.rows.len() > figures::MANY_SEEDS);
        let fig = SeedsFigure {
            title: "Final accuracy of every seed".to_string(),
            subtitle: format!(
                "One row per configuration, {}; {failed} of {} jobs ended below 100%{} or diverged. Fixed: {}.",
                if many { "a histogram of its seeds where it has many" } else { "one point per seed" },
                self.rows.len(),
                if held_out { " held-out accuracy" } else { "" },
                self.fixed_text()
            ),
            held_out,
            rows,
        };
        let link =
            self.add_figure("seeds.svg".into(), "Final accuracy per seed".into(), figures::seeds_svg(&fig))?;
        let _ = writeln!(
            md,
            "{link}\n*Each point is one seed's final {} accuracy: circles reached 100%, triangles did \
             not, crosses diverged. The accuracy axis spans the seeds' range. A claim resting on one seed \
             shows here as one point among many.*{}\n",
            if held_out { "held-out" } else { "training" },
            if many {
                format!(
                    " *A configuration with more than {} seeds is drawn as a histogram instead: one bar per \
                     final accuracy, as tall as its share of the seeds (blue at 100%, vermillion below), and \
                     the number of diverged seeds beside a cross.*",
                    figures::MANY_SEEDS
                )
            } else {
                String::new()
            }
        );
        Ok(())
    }

    /// The job shown for a data set: among the configurations with a
    /// non-diverged job, the one with the lowest mean final loss; within
    /// it, the seed with the median final loss (the lower middle one for an
    /// even count) — typical of the best setting, not its luckiest seed.
    /// One job to draw for a data set: the seed with the median final loss
    /// within the configuration with the lowest mean final loss, over the
    /// seeds that did not diverge. The loss is the held-out one when the
    /// jobs have a test split (issue 14: a job is shown for how it does on
    /// data it did not train on), else the training one.
    fn representative(&self, rows: &[&'a Row]) -> Option<(&'a Row, String)> {
        let held_out = rows.iter().any(|r| r.outcome().final_test_loss().is_some());
        let loss = |r: &Row| {
            if held_out {
                r.outcome().final_test_loss().unwrap_or(f64::NAN)
            } else {
                r.outcome().final_loss()
            }
        };
        let which_loss = if held_out { "held-out loss" } else { "final loss" };
        let configs = aggregate::configurations(rows.iter().copied(), &self.axes);
        let best = configs
            .iter()
            .filter_map(|c| {
                let ok: Vec<f64> =
                    c.rows.iter().filter(|r| !aggregate::diverged(r)).map(|r| loss(r)).collect();
                let mean = ok.iter().sum::<f64>() / ok.len() as f64;
                (!ok.is_empty() && mean.is_finite()).then_some((mean, c))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        match best {
            Some((_, c)) => {
                let mut ok: Vec<&'a Row> =
                    c.rows.iter().copied().filter(|r| !aggregate::diverged(r)).collect();
                ok.sort_by(|a, b| loss(a).total_cmp(&loss(b)));
                let pick = *ok.get(ok.len().saturating_sub(1) / 2)?;
                let which = if configs.len() > 1 {
                    format!(
                        "the configuration with the lowest mean {which_loss} ({})",
                        self.describe(&c.values, "=")
                    )
                } else {
                    "the only configuration".to_string()
                };
                let why = format!(
                    "Chosen as the seed with the median {which_loss} in {which}; {} of its {} seeds did not diverge.",
                    ok.len(),
                    c.rows.len()
                );
                Some((pick, why))
            }
            None => rows
                .first()
                .map(|r| (*r, "Every job of this data set diverged; this is the first.".to_string())),
        }
    }

    fn predictions_section(&mut self, md: &mut String) -> Result<(), ReportError> {
        // Data sets by typed value (never by displayed text).
        let mut datasets: Vec<Option<&spec::Typed>> = Vec::new();
        for r in self.rows {
            let d = r.param("dataset");
            if !datasets.contains(&d) {
                datasets.push(d);
            }
        }
        let _ = writeln!(md, "## Ground truth vs prediction\n");
        let _ = writeln!(
            md,
            "For each data set, one representative job: the seed with the median final loss within the \
             configuration with the lowest mean final loss (the held-out loss when there is a test split). Left: the samples' labels; right: the trained \
             network's predictions, with the plane shaded by the class `model.json` predicts there \
             (2-input data only) and misclassified samples ringed.\n"
        );
        let mut used_files: Vec<String> = Vec::new();
        for typed in datasets {
            let rows: Vec<&'a Row> = self.rows.iter().filter(|r| r.param("dataset") == typed).collect();
            let d = typed.map(ToString::to_string).unwrap_or_default();
            let Some((job, why)) = self.representative(&rows) else { continue };
            let shown = if d.is_empty() { "data".to_string() } else { self.label("dataset", &d) };
            let _ = writeln!(md, "### `{}`\n", tables::cell(&shown));
            let (preds, columns) = match job_predictions(self.dir, &self.at(job)) {
                Ok(p) => p,
                Err(e) => {
                    let _ = writeln!(md, "No figure: {e}.\n");
                    self.notes.push(format!("{e} (no prediction figure for {shown})"));
                    continue;
                }
            };
            // Class names as recorded with the job (CSV data: as in the file).
            let mut class_names = self.at(job).params().ok().and_then(|j| j.classes).unwrap_or_default();
            let classes = preds
                .label
                .iter()
                .chain(&preds.predicted)
                .filter(|c| c.is_finite())
                .fold(class_names.len().max(2), |k, &c| k.max(c as usize + 1));
            class_names.extend((class_names.len()..classes).map(|c| c.to_string()));
            let o = job.outcome();
            let status = if aggregate::diverged(job) {
                format!("diverged at epoch {}", o.diverged_epoch().map_or("?".to_string(), |e| e.to_string()))
            } else {
                // With a test split, the figure rings held-out samples too:
                // both accuracies, each named.
                let accuracy = match o.final_test_accuracy() {
                    Some(t) => format!(
                        "training accuracy {}, held-out accuracy {}",
                        percent(o.final_accuracy()),
                        percent(t)
                    ),
                    None => format!("accuracy {}", percent(o.final_accuracy())),
                };
                format!("final loss {}, {accuracy}", fmt_sig(o.final_loss()))
            };
            let _ = writeln!(md, "Job `{}` (seed {}): {status}. {why}\n", self.id(job), job.seed);
            if !self.at(job).has(store::PREDICTIONS) {
                let _ = writeln!(
                    md,
                    "The job saved no `{}` (`save`): its predictions are its `{}` run on its data set, \
                     rebuilt from its `{}` as training built it.\n",
                    store::PREDICTIONS,
                    store::MODEL,
                    store::PARAMS
                );
            }
            if classes > 2 {
                // Rows: true class, columns: predicted, beside the figure.
                let _ = writeln!(md, "{}", confusion_matrix(&preds, &class_names));
            }
            let width = preds.x.first().map_or(0, Vec::len);
            if width < 2 {
                let _ = writeln!(md, "No figure: the data has {width} input(s); the scatter plot needs 2.\n");
                continue;
            }
            // Two inputs are drawn as they are; more on their first two
            // principal components, with no decision boundary.
            let (xy, axes, projected) = if width == 2 {
                let xy = preds.x.iter().map(|x| (x[0], x[1])).collect();
                (xy, (columns[0].clone(), columns[1].clone()), None)
            } else {
                match self.projection(job, &preds.x) {
                    Some((mut p, mut how)) => {
                        let pc =
                            |k: usize| format!("PC{} ({:.1}% of variance)", k + 1, 100.0 * p.explained[k]);
                        let axes = (pc(0), pc(1));
                        let moved = projection::clamp_far_out(&mut p.xy);
                        if moved > 0 {
                            let _ = write!(
                                how,
                                "; {} far out drawn at the edge",
                                if moved == 1 { "1 sample".to_string() } else { format!("{moved} samples") }
                            );
                        }
                        (p.xy, axes, Some(how))
                    }
                    None => {
                        let _ = writeln!(md, "No figure: the inputs have no principal components to draw.\n");
                        continue;
                    }
                }
            };
            // A missing class (NaN) is drawn as the last class + 1 would be:
            // it cannot happen in a file sweep wrote.
            let class_of = |c: f64| if c.is_finite() { c as usize } else { classes };
            let points = Points {
                xy,
                label: preds.label.iter().map(|&y| class_of(y)).collect(),
                predicted: preds.predicted.iter().map(|&c| class_of(c)).collect(),
                // The file's own `split` column (right for stratified splits too).
                held_out: preds.held_out.clone(),
            };
            let grid = if width == 2 { self.grid(job, &points) } else { None };
            let mut subtitle = format!("Job {} (seed {}): {status}.", self.id(job), job.seed);
            if let Some(how) = &projected {
                let _ =
                    write!(subtitle, " The {width} inputs on their first two principal components ({how}).");
            }
            let fig = PredictionFigure {
                title: format!("{shown}: ground truth vs prediction"),
                subtitle: if projected.is_some() { subtitle } else { format!("{subtitle} {why}") },
                axes,
                classes: class_names,
                points,
                grid,
                projected: projected.is_some(),
            };
            let mut file = format!("predictions-{}.svg", file_safe(&shown));
            while used_files.contains(&file) {
                file = format!("predictions-{}-{}.svg", file_safe(&shown), used_files.len());
            }
            used_files.push(file.clone());
            let alt = format!("{shown}: ground truth vs prediction");
            let link = self.add_figure(file, alt, figures::prediction_svg(&fig))?;
            if let Some(how) = projected {
                let _ = writeln!(
                    md,
                    "More than two inputs: the samples are drawn on the first two principal components of \
                     the {width} inputs ({how}), true class left, predicted right.\n"
                );
            }
            let _ = writeln!(md, "{link}");
        }
        Ok(())
    }

    /// The job's inputs projected on their first two principal components,
    /// scaled as the network saw them (the scaling saved in model.json), and
    /// how they were scaled; None when there is nothing to project.
    fn projection(&mut self, job: &Row, raw: &[Vec<f64>]) -> Option<(projection::Projection, String)> {
        let scaling = match crate::weights::WeightsFile::of_job(&self.at(job)) {
            Ok(file) => file.scaling,
            Err(e) => {
                self.notes.push(format!("{e} (job {}: its inputs are projected unscaled)", self.id(job)));
                None
            }
        };
        let how = match &scaling {
            Some(s) if s.offset.len() == raw.first().map_or(0, Vec::len) => {
                let rows = ndarray::Array2::from_shape_fn((raw.len(), s.offset.len()), |(i, j)| raw[i][j]);
                let scaled = s.apply(&rows);
                let rows: Vec<Vec<f64>> = scaled.rows().into_iter().map(|r| r.to_vec()).collect();
                return projection::principal_components(&rows)
                    .map(|p| (p, format!("inputs scaled: {}", s.method)));
            }
            Some(_) => {
                self.notes
                    .push(format!("job {}: model.json's scaling does not fit its inputs", self.id(job)));
                "raw inputs"
            }
            None => "raw inputs, as trained",
        };
        projection::principal_components(raw).map(|p| (p, how.to_string()))
    }

    /// The job's decision grid, or None with a note saying why not.
    fn grid(&mut self, job: &Row, points: &Points) -> Option<boundary::Grid> {
        let (Some(hidden), Some(output)) = (job.choice("activation"), job.choice("output_activation")) else {
            self.notes.push(format!("job {}: unknown activation; no decision boundary drawn", self.id(job)));
            return None;
        };
        let (x, y) = figures::plane_of(&points.xy);
        match boundary::load_job_network(&self.at(job), hidden, output)
            .and_then(|m| boundary::grid(&m, x, y, GRID_CELLS))
        {
            Ok(g) => Some(g),
            Err(e) => {
                self.notes.push(format!("{e} (no decision boundary drawn for job {})", self.id(job)));
                None
            }
        }
    }

    fn notes_section(&mut self, md: &mut String) {
        self.notes.append(self.curve_notes.get_mut());
        if self.notes.is_empty() {
            return;
        }
        let _ = writeln!(md, "## Notes\n");
        for n in self.notes.iter().take(MAX_NOTES) {
            let _ = writeln!(md, "- {}", n.replace('\n', " "));
        }
        if self.notes.len() > MAX_NOTES {
            let _ = writeln!(md, "- … and {} more.", self.notes.len() - MAX_NOTES);
        }
        md.push('\n');
    }
}

/// A job's predictions and the names of its inputs: its predictions.csv,
/// or, for a job whose params.toml lists model.json but no predictions.csv
/// (`save` without "predictions"), what that file would have held, rebuilt
/// by [`rebuilt_predictions`]. Errors are the message to show.
fn job_predictions(results: &Path, job: &store::JobRef) -> Result<(store::Predictions, Vec<String>), String> {
    if let Ok(file) = job.params()
        && !file.files.contains_key(store::PREDICTIONS)
        && file.files.contains_key(store::MODEL)
    {
        return rebuilt_predictions(results, &file, job);
    }
    let preds = job.predictions().map_err(|e| e.to_string())?;
    let columns = input_columns(job, preds.x.first().map_or(0, Vec::len));
    Ok((preds, columns))
}

/// What predictions.csv would hold for the job `file` in `job_dir`
/// (results folder `results`): its data set rebuilt from its parameters as
/// training built it ([`crate::data::build`]: the same file, seed, split
/// and scaling; the CSV path resolved against `paths_relative_to`), and
/// the outputs of its model.json (weights and input scaling) on the raw
/// inputs, by the same forward pass ([`crate::train::predict`]). Rows in
/// the file's order: training rows, then held-out ones. Errors when
/// params.toml or model.json cannot be read, or when an input file (the
/// data set, a weights file) changed since the job ran: its contents are in
/// the configuration hash, and a changed file would give another split.
fn rebuilt_predictions(
    results: &Path,
    file: &store::JobFile,
    at: &store::JobRef,
) -> Result<(store::Predictions, Vec<String>), String> {
    let params = at.label(store::PARAMS);
    let base = file.paths_relative_to.as_ref().map_or_else(|| PathBuf::from("."), |p| results.join(p));
    let job = spec::JobSpec::from_values(file.seed, &|k| file.params.get(k).cloned(), &base)
        .map_err(|e| format!("{}: {e}", params.display()))?;
    let inputs = crate::plan::input_files(&job);
    if let Some(missing) = inputs.iter().find(|p| !p.is_file()) {
        return Err(format!(
            "job {} saved no {}, and {} is not there (it is found relative to the results folder: was the \
             folder moved or copied away from its project?), so its predictions cannot be rebuilt from {}",
            file.job_id,
            store::PREDICTIONS,
            missing.display(),
            store::MODEL
        ));
    }
    let values: Vec<(&str, toml::Value)> =
        spec::KEYS.iter().filter_map(|k| file.params.get(k.name).map(|v| (k.name, v.clone()))).collect();
    if crate::plan::config_hash_of(file.seed, &values, &inputs, &mut HashMap::new()) != file.config_hash {
        let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "job {} saved no {}, and {} changed since it ran (the configuration hash in {} differs), so its \
             predictions cannot be rebuilt from {}",
            file.job_id,
            store::PREDICTIONS,
            names.join(" or "),
            params.display(),
            store::MODEL
        ));
    }
    let data = crate::data::build(&job.data, job.seed).map_err(|e| e.to_string())?;
    let model = boundary::load_job_network(at, job.model.activation, job.model.output_activation)?;
    let raw = ndarray::concatenate(ndarray::Axis(0), &[data.train_raw.view(), data.test_raw.view()])
        .map_err(|e| format!("{}: {e}", params.display()))?;
    let labels = ndarray::concatenate(ndarray::Axis(0), &[data.train.y.view(), data.test.y.view()])
        .map_err(|e| format!("{}: {e}", params.display()))?;
    let x = match &model.scaling {
        Some(s) => s.apply(&raw),
        None => raw.clone(),
    };
    if x.ncols() != model.net.layout.sizes()[0] {
        return Err(format!(
            "{}: the model takes {} inputs, the data set has {}",
            at.label(store::MODEL).display(),
            model.net.layout.sizes()[0],
            x.ncols()
        ));
    }
    let outputs = crate::train::predict(&model.net, x.view()); // (samples, output units)
    let preds = store::Predictions {
        x: raw.rows().into_iter().map(|r| r.to_vec()).collect(),
        label: labels.to_vec(),
        output: outputs.rows().into_iter().map(|o| if o.len() == 1 { o[0] } else { f64::NAN }).collect(),
        predicted: outputs
            .rows()
            .into_iter()
            .map(|o| crate::nn::predicted_class(o.iter().copied()) as f64)
            .collect(),
        held_out: (0..raw.nrows()).map(|i| i >= data.train.len()).collect(),
    };
    Ok((preds, data.columns))
}

/// The names of the first `width` columns of a predictions.csv (the
/// inputs, as in the data), or `x0`, `x1`, .. where the header cannot be
/// read.
fn input_columns(job: &store::JobRef, width: usize) -> Vec<String> {
    let header = job
        .open(store::PREDICTIONS)
        .ok()
        .flatten()
        .and_then(|f| csv::Reader::from_reader(f).headers().cloned().ok());
    (0..width)
        .map(|j| header.as_ref().and_then(|h| h.get(j)).map_or_else(|| format!("x{j}"), str::to_string))
        .collect()
}

/// A Markdown confusion matrix of `preds` over the classes `names` (as in
/// the data): rows the true class, columns the predicted one, counts of
/// training / held-out samples (`12 / 3`; one count without a test split).
fn confusion_matrix(preds: &store::Predictions, names: &[String]) -> String {
    let classes = names.len();
    let mut counts = vec![[0usize; 2]; classes * classes];
    for ((&y, &p), &test) in preds.label.iter().zip(&preds.predicted).zip(&preds.held_out) {
        let (y, p) = (y as usize, p as usize);
        if y < classes && p < classes {
            counts[y * classes + p][usize::from(test)] += 1;
        }
    }
    let split = preds.held_out.iter().any(|&t| t);
    let mut out = format!(
        "Confusion matrix (rows: true class, columns: predicted; {}):\n\n| true \\ predicted |",
        if split { "training / held-out samples" } else { "samples" }
    );
    for name in names {
        let _ = write!(out, " {} |", tables::cell(name));
    }
    out.push_str("\n| :-- |");
    out.push_str(&" --: |".repeat(classes));
    for (y, name) in names.iter().enumerate() {
        let _ = write!(out, "\n| {} |", tables::cell(name));
        for p in 0..classes {
            let [train, test] = counts[y * classes + p];
            let cell = if split { format!("{train} / {test}") } else { train.to_string() };
            let _ = write!(out, " {} |", if y == p { format!("**{cell}**") } else { cell });
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_links_are_relative_to_the_report() {
        assert_eq!(relative(Path::new("/r/x/figures"), Path::new("/r/x")), "figures");
        assert_eq!(relative(Path::new("/r/x/figures"), Path::new("/r/docs")), "../x/figures");
        assert_eq!(relative(Path::new("/r/x/figures"), Path::new("/r/x/figures")), ".");
    }

    /// A curve logged at 10,001 epochs is read as at most
    /// MAX_CURVE_POINTS records on one stride, with its last record.
    #[test]
    fn long_curves_are_read_on_a_stride_with_their_last_record() {
        let dir = tempfile::tempdir().unwrap();
        let job = dir.path().join("jobs/j");
        fs::create_dir_all(&job).unwrap();
        let mut text = format!("{}\n", store::CURVE_HEADER);
        for e in 0..=10_000 {
            text.push_str(&format!("{e},{},1.0,,\n", 1.0 / (e + 1) as f64));
        }
        fs::write(job.join(store::CURVE), text).unwrap();
        let params: toml::Table = toml::from_str("epochs = 10000\nlog_every = 1").unwrap();
        let row = store::SummaryRow {
            job_id: "j".into(),
            seed: 0,
            params: store::Params::from_table(&params),
            outcome: store::JobOutcome {
                status: "ok".into(),
                final_loss: 1e-4,
                final_accuracy: 1.0,
                final_test_loss: None,
                final_test_accuracy: None,
                min_loss: 1e-4,
                epoch_at_target: None,
                diverged_epoch: None,
                files_hash: String::new(),
            },
            curve: "jobs/j/curve.csv".into(),
            at: store::JobRef::folder(&job),
        };
        // The same curve, its job's parameters saying 100 epochs.
        let mut short = row.clone();
        let params: toml::Table = toml::from_str("epochs = 100\nlog_every = 1").unwrap();
        short.params = store::Params::from_table(&params);
        let rows = Rows::from_rows(dir.path(), &[row, short]);
        let report = Report::new(dir.path(), &rows, None);
        let recs = report.records(&rows[0]).unwrap();
        assert!(recs.len() <= MAX_CURVE_POINTS + 1, "{}", recs.len());
        assert_eq!(recs.len(), 3335, "every third epoch (stride 3) and the last");
        assert_eq!(recs.last().unwrap().epoch, 10_000);
        assert!(recs.windows(2).all(|w| w[1].epoch - w[0].epoch <= 3));
        // A short curve is read whole.
        assert_eq!(
            report.records(&rows[1]).unwrap().len(),
            10_001,
            "logged epochs within the budget: all of them"
        );
    }

    #[test]
    fn seeds_print_as_ranges() {
        assert_eq!(seed_ranges(&[0, 1, 2, 3, 7, 9, 10]), "0–3, 7, 9, 10");
        assert_eq!(seed_ranges(&[]), "");
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_safe("xor-hard"), "xor-hard");
        assert_eq!(file_safe("../data/my set.csv"), "data-my-set.csv");
        assert_eq!(file_safe(""), "data");
    }
}

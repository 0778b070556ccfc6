//! `sweep report DIR` (SPEC 7): reads a results folder back (summary.csv,
//! or the job folders when it is missing), and writes `report.md` with a
//! table per swept axis, a table of every configuration, and SVG figures
//! under `DIR/figures/`.
//!
//! This module owns the order of the report and is the only place that
//! writes its files; [`aggregate`] computes, [`tables`] and [`figures`]
//! render, [`boundary`] rebuilds saved models. A report is a view of what
//! is there: a missing or unreadable per-job file becomes a note in the
//! report instead of an error, so partial folders and folders with diverged
//! jobs always report.

pub mod aggregate;
pub mod boundary;
pub mod figures;
pub mod tables;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::store::{self, StoreError, SummaryRow};

use aggregate::{Axis, Curve, fmt_sig};
use figures::{CurvesFigure, FigureError, Points, PredictionFigure, SeedRow, SeedsFigure, Series};

/// Default file name of the report, in the results folder.
pub const REPORT: &str = "report.md";
/// Folder of the figures, in the results folder.
pub const FIGURES: &str = "figures";
/// Cells per side of the decision-boundary grid.
const GRID_CELLS: usize = 120;
/// Notes listed before the rest are counted.
const MAX_NOTES: usize = 20;

/// What `sweep report` was asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The Markdown file to write (default `DIR/report.md`). Figures always
    /// go to `DIR/figures/`, and the report links them relative to itself.
    pub out: Option<PathBuf>,
}

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub report: PathBuf,
    pub figures: Vec<PathBuf>,
    /// Jobs reported on.
    pub jobs: usize,
}

/// Why no report could be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// summary.csv or a job's params.toml could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: no finished jobs to report (no summary.csv and no jobs/*/params.toml)", dir.display())]
    NoJobs { dir: PathBuf },
    #[error("{}: cannot write: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{}: cannot draw the figure: {source}", path.display())]
    Figure { path: PathBuf, source: FigureError },
}

/// A rendered figure, not yet written.
struct Figure {
    file: String,
    svg: String,
}

/// Writes the report of the results folder `dir`.
pub fn write_report(dir: &Path, opts: &ReportOptions) -> Result<Written, ReportError> {
    let rows = store::load_rows(dir)?;
    if rows.is_empty() {
        return Err(ReportError::NoJobs { dir: dir.to_path_buf() });
    }
    let report_path = opts.out.clone().unwrap_or_else(|| dir.join(REPORT));
    let fig_dir = dir.join(FIGURES);

    let mut report = Report::new(dir, &rows);
    let body = report.render()?;

    fs::create_dir_all(&fig_dir).map_err(|source| ReportError::Write { path: fig_dir.clone(), source })?;
    let mut written = Vec::with_capacity(report.figures.len());
    for f in &report.figures {
        let path = fig_dir.join(&f.file);
        // Whole or not at all (SPEC 6): a full disk or a kill keeps the old figure.
        store::write_whole(&path, f.svg.as_bytes(), &dir.join(store::TMP))?;
        written.push(path);
    }

    let parent = match report_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|source| ReportError::Write { path: parent.clone(), source })?;
    let prefix = relative(&fig_dir, &parent);
    let markdown = body.replace(LINK_PREFIX, &prefix);
    // The temporary file must be on the report's file system for the rename.
    let tmp_dir = if parent.starts_with(dir) { dir.join(store::TMP) } else { parent.clone() };
    store::write_whole(&report_path, markdown.as_bytes(), &tmp_dir)?;
    Ok(Written { report: report_path, figures: written, jobs: rows.len() })
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
            _ => format!("{}–{}", seeds[i], seeds[j]),
        });
        i = j + 1;
    }
    parts.join(", ")
}

fn percent(a: f64) -> String {
    format!("{}%", fmt_sig(100.0 * a))
}

/// The report being assembled: rows, what was derived, figures, notes.
struct Report<'a> {
    dir: &'a Path,
    rows: &'a [SummaryRow],
    axes: Vec<Axis>,
    fixed: Vec<(String, String)>,
    curves: HashMap<String, Curve>,
    figures: Vec<Figure>,
    notes: Vec<String>,
}

impl<'a> Report<'a> {
    fn new(dir: &'a Path, rows: &'a [SummaryRow]) -> Report<'a> {
        let axes = aggregate::swept_axes(rows);
        let fixed = aggregate::fixed_params(rows, &axes);
        let mut r =
            Report { dir, rows, axes, fixed, curves: HashMap::new(), figures: Vec::new(), notes: Vec::new() };
        r.load_curves();
        r
    }

    /// A job's folder: where its curve is, else `jobs/<id>`.
    fn job_dir(&self, row: &SummaryRow) -> PathBuf {
        if !row.curve.is_empty()
            && let Some(p) = self.dir.join(&row.curve).parent()
        {
            return p.to_path_buf();
        }
        self.dir.join(store::JOBS).join(&row.job_id)
    }

    /// Training-loss curves of the jobs that did not diverge.
    fn load_curves(&mut self) {
        for row in self.rows.iter().filter(|r| !aggregate::diverged(r)) {
            let path = self.job_dir(row).join(store::CURVE);
            match store::read_curve(&path) {
                Ok(records) => {
                    let curve: Curve = records.iter().map(|r| (r.epoch as f64, r.loss)).collect();
                    self.curves.insert(row.job_id.clone(), curve);
                }
                Err(e) => self.notes.push(format!("{e} (left out of the learning curves)")),
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
        let nd = aggregate::non_default(&self.fixed);
        if nd.is_empty() {
            "every other parameter at its default".to_string()
        } else {
            format!("{} (others at their defaults)", nd.join(", "))
        }
    }

    fn render(&mut self) -> Result<String, ReportError> {
        let mut md = String::new();
        self.intro(&mut md);
        if self.axes.is_empty() {
            let _ = writeln!(md, "## Learning curves\n");
            let all: Vec<&SummaryRow> = self.rows.iter().collect();
            let fig = CurvesFigure {
                title: "Training loss".to_string(),
                subtitle: format!(
                    "Line: mean over {} jobs; band: min–max. Fixed: {}.",
                    all.len(),
                    self.fixed_text()
                ),
                legend_title: "jobs".to_string(),
                series: vec![self.series("all jobs", &all)],
            };
            let link =
                self.add_figure("curves.svg".into(), "Training loss".into(), figures::curves_svg(&fig))?;
            md.push_str(&link);
            md.push('\n');
        }
        for axis in self.axes.clone() {
            self.axis_section(&axis, &mut md)?;
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
        let diverged = self.rows.iter().filter(|r| aggregate::diverged(r)).count();
        let mut seeds: Vec<u64> = self.rows.iter().map(|r| r.seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        let source = if self.dir.join(store::SUMMARY).is_file() {
            "summary.csv".to_string()
        } else {
            "the job folders (there is no summary.csv: a partial or running sweep)".to_string()
        };
        let _ = writeln!(
            md,
            "{} jobs ({} diverged), read from {source}. Seeds: {} ({}).\n",
            self.rows.len(),
            diverged,
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
        let target = self.fixed.iter().find(|(k, _)| k == "target_loss").map(|(_, v)| v.clone());
        let _ = writeln!(
            md,
            "How to read the tables: *final loss* is the mean per-sample training loss at the last epoch, \
             shown as mean ± sample standard deviation (divisor n − 1) over the jobs that did not diverge; \
             diverged jobs (a non-finite loss) are counted in their own column and never averaged. \
             *Mean accuracy* is the final training accuracy over the same jobs (and *mean test accuracy*, when samples were held out, the accuracy on those). *100% accuracy* and \
             *reached target* count jobs whose final training accuracy is 100% and whose training loss \
             reached `target_loss`{} at some epoch; the median epoch is over the jobs that reached it. \
             Numbers have three significant digits.\n",
            target.map(|t| format!(" ({t})")).unwrap_or_default()
        );
    }

    /// A learning-curve series over `rows`.
    fn series(&self, label: &str, rows: &[&SummaryRow]) -> Series {
        let curves: Vec<&Curve> = rows.iter().filter_map(|r| self.curves.get(&r.job_id)).collect();
        Series {
            label: label.to_string(),
            band: aggregate::band(&curves),
            jobs: rows.len(),
            diverged: rows.iter().filter(|r| aggregate::diverged(r)).count(),
        }
    }

    fn axis_section(&mut self, axis: &Axis, md: &mut String) -> Result<(), ReportError> {
        let groups = aggregate::by_axis(self.rows, axis);
        let _ = writeln!(md, "## By `{}`\n", axis.key);
        md.push_str(&tables::axis_table(axis, &groups));
        md.push('\n');

        let others: Vec<String> = self
            .axes
            .iter()
            .filter(|a| a.key != axis.key)
            .map(|a| format!("{} ({} values)", a.key, a.values.len()))
            .collect();
        let pooled =
            if others.is_empty() { "seeds".to_string() } else { format!("seeds and {}", others.join(", ")) };
        let fig = CurvesFigure {
            title: format!("Training loss by {}", axis.key),
            subtitle: format!(
                "Line: mean over {pooled}; band: min–max over the same jobs; diverged jobs left out. Fixed: {}.",
                self.fixed_text()
            ),
            legend_title: axis.key.clone(),
            series: groups.iter().map(|(v, rows)| self.series(v, rows)).collect(),
        };
        let alt = format!("Training loss by {}", axis.key);
        let link =
            self.add_figure(format!("curves-{}.svg", file_safe(&axis.key)), alt, figures::curves_svg(&fig))?;
        let _ = writeln!(
            md,
            "{link}\n*Training loss per epoch (log scale): the line is the mean over {pooled} for each value \
             of `{}`, the band spans the lowest to the highest job.*\n",
            axis.key
        );
        Ok(())
    }

    fn configurations_section(&mut self, md: &mut String) -> Result<(), ReportError> {
        let configs = aggregate::configurations(self.rows, &self.axes);
        let _ = writeln!(md, "## Every configuration\n");
        md.push_str(&tables::config_table(&self.axes, &configs));
        md.push('\n');

        let rows: Vec<SeedRow> = configs
            .iter()
            .map(|c| SeedRow {
                label: c.label(),
                seeds: c
                    .rows
                    .iter()
                    .map(|r| (r.seed, r.outcome.final_accuracy, aggregate::diverged(r)))
                    .collect(),
            })
            .collect();
        let failed: usize = configs.iter().map(|c| aggregate::stats(&c.rows).failed_seeds.len()).sum();
        let fig = SeedsFigure {
            title: "Final accuracy of every seed".to_string(),
            subtitle: format!(
                "One row per configuration, one point per seed; {failed} of {} jobs ended below 100% or diverged. \
                 Fixed: {}.",
                self.rows.len(),
                self.fixed_text()
            ),
            rows,
        };
        let link =
            self.add_figure("seeds.svg".into(), "Final accuracy per seed".into(), figures::seeds_svg(&fig))?;
        let _ = writeln!(
            md,
            "{link}\n*Each point is one seed's final training accuracy: circles reached 100%, triangles did \
             not, crosses diverged. A claim resting on one seed shows here as one point among many.*\n"
        );
        Ok(())
    }

    /// The job shown for a data set: among the configurations with a
    /// non-diverged job, the one with the lowest mean final loss; within
    /// it, the seed with the median final loss (the lower middle one for an
    /// even count) — typical of the best setting, not its luckiest seed.
    fn representative(&self, rows: &[&'a SummaryRow]) -> Option<(&'a SummaryRow, String)> {
        let configs = aggregate::configurations(rows.iter().copied(), &self.axes);
        let best = configs
            .iter()
            .filter_map(|c| aggregate::stats(&c.rows).loss_mean.map(|m| (m, c)))
            .min_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
        match best {
            Some((_, c)) => {
                let mut ok: Vec<&'a SummaryRow> =
                    c.rows.iter().copied().filter(|r| !aggregate::diverged(r)).collect();
                ok.sort_by(|a, b| {
                    a.outcome
                        .final_loss
                        .partial_cmp(&b.outcome.final_loss)
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                let pick = *ok.get(ok.len().saturating_sub(1) / 2)?;
                let which = if configs.len() > 1 {
                    format!("the configuration with the lowest mean final loss ({})", c.label())
                } else {
                    "the only configuration".to_string()
                };
                let why = format!(
                    "Chosen as the seed with the median final loss in {which}; {} of its {} seeds did not diverge.",
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
        let mut datasets: Vec<String> = Vec::new();
        for r in self.rows {
            let d = r.param("dataset").unwrap_or("").to_string();
            if !datasets.contains(&d) {
                datasets.push(d);
            }
        }
        let _ = writeln!(md, "## Ground truth vs prediction\n");
        let _ = writeln!(
            md,
            "For each data set, one representative job: the seed with the median final loss within the \
             configuration with the lowest mean final loss. Left: the samples' labels; right: the trained \
             network's predictions, with the plane shaded by the class `model.json` predicts there \
             (2-input data only) and misclassified samples ringed.\n"
        );
        let mut used_files: Vec<String> = Vec::new();
        for d in datasets {
            let rows: Vec<&'a SummaryRow> =
                self.rows.iter().filter(|r| r.param("dataset").unwrap_or("") == d).collect();
            let Some((job, why)) = self.representative(&rows) else { continue };
            let shown = if d.is_empty() { "data".to_string() } else { d.clone() };
            let _ = writeln!(md, "### `{}`\n", tables::cell(&shown));
            let job_dir = self.job_dir(job);
            let pred_path = job_dir.join(store::PREDICTIONS);
            let preds = match store::read_predictions(&pred_path) {
                Ok(p) => p,
                Err(e) => {
                    let _ = writeln!(md, "No figure: {e}.\n");
                    self.notes.push(format!("{e} (no prediction figure for {shown})"));
                    continue;
                }
            };
            let width = preds.x.first().map_or(0, Vec::len);
            if width < 2 {
                let _ = writeln!(md, "No figure: the data has {width} input(s); the scatter plot needs 2.\n");
                continue;
            }
            let points = Points {
                xy: preds
                    .x
                    .iter()
                    .map(|x| (x.first().copied().unwrap_or(f64::NAN), x.get(1).copied().unwrap_or(f64::NAN)))
                    .collect(),
                label: preds.label.iter().map(|&y| y >= 0.5).collect(),
                predicted: preds.output.iter().map(|&o| o >= 0.5).collect(),
                held_out: {
                    // predictions.csv lists the training samples, then the held-out ones.
                    let n = preds.x.len();
                    let fraction = job.param("test_fraction").and_then(|v| v.parse().ok()).unwrap_or(0.0);
                    let test = crate::data::held_out(n, fraction);
                    (0..n).map(|i| i >= n - test).collect()
                },
            };
            let grid = if width == 2 { self.grid(job, &job_dir, &points) } else { None };
            let o = &job.outcome;
            let status = if aggregate::diverged(job) {
                format!("diverged at epoch {}", o.diverged_epoch.map_or("?".to_string(), |e| e.to_string()))
            } else {
                format!("final loss {}, accuracy {}", fmt_sig(o.final_loss), percent(o.final_accuracy))
            };
            let fig = PredictionFigure {
                title: format!("{shown}: ground truth vs prediction"),
                subtitle: format!("Job {} (seed {}): {status}. {why}", job.job_id, job.seed),
                points,
                grid,
            };
            let mut file = format!("predictions-{}.svg", file_safe(&shown));
            while used_files.contains(&file) {
                file = format!("predictions-{}-{}.svg", file_safe(&shown), used_files.len());
            }
            used_files.push(file.clone());
            let alt = format!("{shown}: ground truth vs prediction");
            let link = self.add_figure(file, alt, figures::prediction_svg(&fig))?;
            let _ = writeln!(md, "Job `{}` (seed {}): {status}. {why}\n\n{link}", job.job_id, job.seed);
        }
        Ok(())
    }

    /// The job's decision grid, or None with a note saying why not.
    fn grid(&mut self, job: &SummaryRow, job_dir: &Path, points: &Points) -> Option<boundary::Grid> {
        let model = job_dir.join(store::MODEL);
        let act = |key: &str| boundary::activation(job.param(key).unwrap_or("sigmoid"));
        let (Some(hidden), Some(output)) = (act("activation"), act("output_activation")) else {
            self.notes.push(format!("job {}: unknown activation; no decision boundary drawn", job.job_id));
            return None;
        };
        let (x, y) = figures::plane_of(&points.xy);
        match boundary::load_network(&model, hidden, output)
            .and_then(|net| boundary::grid(&net, x, y, GRID_CELLS))
        {
            Ok(g) => Some(g),
            Err(e) => {
                self.notes.push(format!("{e} (no decision boundary drawn for job {})", job.job_id));
                None
            }
        }
    }

    fn notes_section(&self, md: &mut String) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_links_are_relative_to_the_report() {
        assert_eq!(relative(Path::new("/r/x/figures"), Path::new("/r/x")), "figures");
        assert_eq!(relative(Path::new("/r/x/figures"), Path::new("/r/docs")), "../x/figures");
        assert_eq!(relative(Path::new("/r/x/figures"), Path::new("/r/x/figures")), ".");
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

//! `sweep report` through the library: results folders are trained with the
//! runner from small manifests (a few dozen epochs, so this runs in seconds
//! in debug builds), then reported on. The checks are what a reader relies
//! on: a table per swept axis, every linked figure present and well-formed
//! with one line per series, and no failure on diverged jobs or on a
//! partial folder.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sweep::manifest::Manifest;
use sweep::plan::Plan;
use sweep::report::{self, ReportOptions, figures};
use sweep::runner::{self, RunOptions};
use sweep::store;

/// Trains `manifest` into `root/name` and returns the results folder.
fn run(root: &Path, name: &str, manifest: &str) -> PathBuf {
    let path = root.join(format!("{name}.toml"));
    std::fs::write(&path, manifest).unwrap();
    let plan = Plan::new(Manifest::parse(&path, manifest, &[]).unwrap()).unwrap();
    let out = root.join(name);
    let opts = RunOptions { threads: Some(2), ..RunOptions::default() };
    let done = runner::run_plan(&plan, &out, &opts, &|_| {}).unwrap();
    assert!(done.failed.is_empty(), "{:?}", done.failed);
    out
}

const SMALL: &str = r#"
seeds = 3
[base]
epochs = 40
log_every = 5
n_samples = 30
[grid]
dataset = ["xor", "linear"]
lr = [0.1, 1.0]
hidden = [[2, 2], [3]]
"#;

/// Targets of the `![alt](target)` images in a Markdown text.
fn image_links(md: &str) -> Vec<String> {
    md.split("](").skip(1).filter_map(|rest| rest.split(')').next()).map(str::to_string).collect()
}

/// An SVG document, checked minimally: one root element, closed.
fn read_svg(path: &Path) -> String {
    let svg = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(svg.starts_with("<svg"), "{} does not start with <svg", path.display());
    assert!(svg.trim_end().ends_with("</svg>"), "{} does not end with </svg>", path.display());
    assert_eq!(svg.matches("<svg").count(), 1, "{}", path.display());
    svg
}

/// Colours of the data lines drawn in a curve figure (series lines are the
/// only polylines of width [`figures::SERIES_STROKE`]; legend swatches are
/// wider, axes thinner).
fn series_colours(svg: &str) -> BTreeSet<String> {
    let width = format!("stroke-width=\"{}\"", figures::SERIES_STROKE);
    svg.split("<polyline")
        .skip(1)
        .map(|el| el.split("/>").next().unwrap_or(""))
        .filter(|el| el.contains(&width))
        .filter_map(|el| el.split("stroke=\"").nth(1).and_then(|s| s.split('"').next()).map(str::to_string))
        .collect()
}

/// Whether the SVG has a text element reading exactly `text` (plotters
/// writes the text on its own line).
fn has_text(svg: &str, text: &str) -> bool {
    svg.contains(&format!(">\n{text}\n</text>"))
}

fn palette_hex(i: usize) -> String {
    let c = figures::colour(i);
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

#[test]
fn a_small_sweep_reports_a_table_per_axis_and_well_formed_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "small", SMALL);
    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    assert_eq!(written.report, dir.join("report.md"));
    assert_eq!(written.jobs, 24);
    let md = std::fs::read_to_string(&written.report).unwrap();

    assert!(md.contains("## By `dataset`\n\n| dataset | jobs | diverged |"), "no table for dataset:\n{md}");
    // The other axes' tables keep the data sets apart: a row per data set and value.
    for axis in ["lr", "hidden"] {
        assert!(
            md.contains(&format!("## By `{axis}`\n\n| dataset | {axis} | jobs | diverged |")),
            "no table for {axis}:\n{md}"
        );
    }
    assert!(md.contains("| `xor` | `[2, 2]` | 6 |"), "hidden values as rows, per data set:\n{md}");
    assert!(md.contains("## Every configuration"));
    assert_eq!(
        md.matches("\n| `").count(),
        2 + 4 + 4 + 8,
        "one row per data set and axis value, and per configuration"
    );

    let links = image_links(&md);
    // Two learning-curve figures (lr, hidden; the data sets are their
    // panels), the seed panel, and one prediction pair per data set.
    assert_eq!(links.len(), 5, "{links:?}");
    assert_eq!(written.figures.len(), 5);
    for link in &links {
        assert!(link.starts_with("figures/") && link.ends_with(".svg"), "{link}");
        let path = dir.join(link);
        assert!(written.figures.contains(&path), "{link} was not reported as written");
        read_svg(&path);
    }

    // One line per axis value, each in its own palette colour.
    for (axis, n) in [("lr", 2), ("hidden", 2)] {
        let svg = read_svg(&dir.join(format!("figures/curves-{axis}.svg")));
        let want: BTreeSet<String> = (0..n).map(palette_hex).collect();
        assert_eq!(series_colours(&svg), want, "curves-{axis}.svg");
        assert!(
            has_text(&svg, "epoch") && has_text(&svg, "training loss (mean per sample)"),
            "axes are labelled"
        );
    }
    // The prediction pair: both panels, the decision boundary shaded.
    let xor = read_svg(&dir.join("figures/predictions-xor.svg"));
    assert!(has_text(&xor, "ground truth") && has_text(&xor, "prediction"));
    assert!(has_text(&xor, "shading: predicted class"), "model.json gave a boundary");
    let seeds = read_svg(&dir.join("figures/seeds.svg"));
    assert!(has_text(&seeds, "dataset=xor, hidden=[2, 2], lr=0.1"), "configurations are labelled");

    // --out elsewhere: the report links the figures relative to itself.
    let other = tmp.path().join("docs/small.md");
    let w = report::write_report(&dir, &ReportOptions { out: Some(other.clone()) }).unwrap();
    assert_eq!(w.report, other);
    let md = std::fs::read_to_string(&other).unwrap();
    for link in image_links(&md) {
        assert!(link.starts_with("../small/figures/"), "{link}");
        assert!(other.parent().unwrap().join(&link).is_file(), "{link}");
    }
}

#[test]
fn a_folder_with_a_diverged_job_reports_it_without_breaking() {
    let tmp = tempfile::tempdir().unwrap();
    // A linear output with a huge step size blows up to a non-finite loss
    // (for seed 1; seed 0 saturates its sigmoid layers and stalls instead).
    let dir = run(
        tmp.path(),
        "diverged",
        r#"
seeds = 2
[base]
dataset = "xor"
epochs = 100
output_activation = "none"
[grid]
lr = [0.1, 100.0]
"#,
    );
    let rows = store::load_rows(&dir).unwrap();
    assert!(rows.iter().any(|r| r.param("lr") == Some("100.0") && r.outcome.diverged()), "lr = 100 diverged");

    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(&written.report).unwrap();
    let row = md.lines().find(|l| l.starts_with("| `100.0` |")).expect("a row for lr = 100");
    assert!(row.starts_with("| `100.0` | 2 | **1** |"), "the diverged job is counted: {row}");
    assert!(!md.contains("NaN") && !md.contains("inf"), "no non-finite number reaches a table:\n{md}");
    for link in image_links(&md) {
        read_svg(&dir.join(link));
    }
    let curves = read_svg(&dir.join("figures/curves-lr.svg"));
    assert_eq!(series_colours(&curves).len(), 2, "both values still have a curve");
    assert!(has_text(&curves, "2 jobs, 1 diverged"), "the legend says lr = 100 lost a job");
}

#[test]
fn a_partial_folder_without_summary_reports_what_is_there() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "partial", SMALL);
    std::fs::remove_file(dir.join(store::SUMMARY)).unwrap();
    let ids = store::ResultsDir::new(&dir).job_ids().unwrap();
    for id in ids.iter().step_by(3) {
        std::fs::remove_dir_all(dir.join("jobs").join(id)).unwrap();
    }
    let left = ids.len() - ids.iter().step_by(3).count();

    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    assert_eq!(written.jobs, left);
    let md = std::fs::read_to_string(&written.report).unwrap();
    assert!(md.contains("there is no summary.csv"), "{md}");
    for link in image_links(&md) {
        read_svg(&dir.join(link));
    }
}

#[test]
fn a_summary_naming_missing_job_folders_still_reports_with_notes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "stale", SMALL);
    let ids = store::ResultsDir::new(&dir).job_ids().unwrap();
    std::fs::remove_dir_all(dir.join("jobs").join(&ids[0])).unwrap();

    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    assert_eq!(written.jobs, 24, "summary.csv still lists every job");
    let md = std::fs::read_to_string(&written.report).unwrap();
    assert!(md.contains("## Notes") && md.contains(&ids[0]), "the missing curve is noted:\n{md}");
}

#[test]
fn an_empty_folder_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let e = report::write_report(tmp.path(), &ReportOptions::default()).unwrap_err();
    assert!(e.to_string().contains(&tmp.path().display().to_string()), "{e}");
}

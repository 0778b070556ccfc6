//! `sweep report` through the library: results folders are trained with the
//! runner from small manifests (a few dozen epochs, so this runs in seconds
//! in debug builds), then reported on. The checks are what a reader relies
//! on: a table per swept axis, every linked figure present and well-formed
//! with one line per series, and no failure on diverged jobs or on a
//! partial folder.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::{stderr, sweep, write};
use sweep::manifest::Manifest;
use sweep::plan::{Plan, Shard};
use sweep::report::{self, ReportOptions, figures};
use sweep::runner::{self, RunOptions};
use sweep::store;

/// Trains `manifest` into `root/name` and returns the results folder.
pub fn run(root: &Path, name: &str, manifest: &str) -> PathBuf {
    run_shard(root, name, manifest, None)
}

/// Trains the jobs of `shard` (all when None) of `manifest` into `root/name`.
fn run_shard(root: &Path, name: &str, manifest: &str, shard: Option<Shard>) -> PathBuf {
    let path = root.join(format!("{name}.toml"));
    std::fs::write(&path, manifest).unwrap();
    let plan = Plan::new(Manifest::parse(&path, manifest, &[]).unwrap()).unwrap();
    let out = root.join(name);
    let opts = RunOptions { threads: Some(2), shard, ..RunOptions::default() };
    let done = runner::run_plan(&plan, &out, &opts, &|_| {}).unwrap();
    assert!(done.failed.is_empty(), "{:?}", done.failed);
    out
}

pub const SMALL: &str = r#"
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

/// A report written elsewhere (here through a linked folder of another
/// depth) links the figures where they are, and the page stays in the
/// results folder, which the report names: nothing is written beside the
/// report but the report itself.
#[test]
fn the_page_does_not_point_to_itself_but_report_md_points_to_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "small", SMALL);
    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(&written.report).unwrap();
    assert!(md.contains("The interactive page `report.html`, beside this report"), "{md}");
    let page = std::fs::read_to_string(&written.page).unwrap();
    assert!(page.contains("How to read the learning curves"), "the page holds the report");
    assert!(!page.contains("The interactive page"), "the page names itself");
}

/// The data report.html carries (its `<script id="data">`), parsed.
pub fn page_data(page: &Path) -> serde_json::Value {
    let html = std::fs::read_to_string(page).unwrap();
    let from = html.find("<script id=\"data\" type=\"application/json\">").unwrap();
    let json = &html[from..];
    let json = &json[json.find('>').unwrap() + 1..json.find("</script>").unwrap()];
    serde_json::from_str(json).unwrap()
}

/// A study of one data set has one panel on the page, titled with what it
/// shows (the data set, and that every job is in it), not "every job".
#[test]
fn the_single_panel_of_a_study_of_one_data_set_names_the_data_set() {
    let tmp = tempfile::tempdir().unwrap();
    let one = "seeds = 2\n[base]\nepochs = 20\ndataset = \"linear\"\nnoise = 0.2\n[grid]\nlr = [0.1, 1.0]\n";
    let dir = run(tmp.path(), "one", one);
    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    let data = page_data(&written.page);
    let titles: Vec<&str> =
        data["panels"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap()).collect();
    assert_eq!(titles, vec!["dataset = linear, noise = 0.2 (all 4 jobs)"]);
    // A study of several data sets: one panel each, titled by its own.
    let dir = run(tmp.path(), "small", SMALL);
    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    let data = page_data(&written.page);
    let titles: Vec<&str> =
        data["panels"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap()).collect();
    assert_eq!(titles, vec!["dataset = xor", "dataset = linear"]);
}

#[test]
fn the_prediction_figure_gives_the_held_out_accuracy_beside_the_training_one() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = "seeds = 2\n[base]\nepochs = 40\nlog_every = 5\nn_samples = 40\ndataset = \"linear\"\n\
                    test_fraction = 0.25\n[grid]\nlr = [0.1, 1.0]\n";
    let dir = run(tmp.path(), "held", manifest);
    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(&written.report).unwrap();
    let line = md.lines().find(|l| l.starts_with("Job `")).expect("a representative job");
    assert!(line.contains(", training accuracy ") && line.contains(", held-out accuracy "), "{line}");
    let svg = read_svg(&dir.join("figures/predictions-linear.svg"));
    assert!(svg.contains("held-out accuracy"), "the subtitle says it too");
}

#[test]
fn a_report_written_elsewhere_links_into_the_results_folder_and_names_its_page() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "small", SMALL);
    let deep = tmp.path().join("a/b/c");
    std::fs::create_dir_all(&deep).unwrap();
    std::os::unix::fs::symlink(&deep, tmp.path().join("link")).unwrap();
    std::fs::write(deep.join("report.html"), "the user's own page").unwrap();
    let out = tmp.path().join("link/elsewhere.md");
    let w = report::write_report(&dir, &ReportOptions { out: Some(out.clone()) }).unwrap();
    let md = std::fs::read_to_string(&out).unwrap();
    let links = image_links(&md);
    assert!(!links.is_empty());
    for link in links {
        assert!(deep.join(&link).is_file(), "{link} from {}", deep.display());
    }
    assert_eq!(std::fs::read_to_string(deep.join("report.html")).unwrap(), "the user's own page");
    assert_eq!(w.page, dir.join("report.html"));
    assert!(dir.join("report.html").is_file());
    assert!(
        md.contains("`../../../small/report.html`, in the results folder"),
        "the report says where the page is"
    );
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
    assert!(
        rows.iter().any(|r| r.param("lr") == Some(&sweep::spec::Typed::Float(100.0)) && r.outcome.diverged()),
        "lr = 100 diverged"
    );

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
fn a_summary_naming_missing_job_folders_is_rebuilt_from_the_job_folders() {
    // SPEC 6 (Integrity): readers never trust summary.csv silently.
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "stale", SMALL);
    let ids = store::ResultsDir::new(&dir).job_ids().unwrap();
    std::fs::remove_dir_all(dir.join("jobs").join(&ids[0])).unwrap();

    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    assert_eq!(written.jobs, 23, "the report covers the job folders that exist");
    let summary = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(!summary.contains(&ids[0]) && summary.lines().count() == 24, "summary.csv rebuilt:\n{summary}");
}

#[test]
fn an_empty_folder_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let e = report::write_report(tmp.path(), &ReportOptions::default()).unwrap_err();
    assert!(e.to_string().contains(&tmp.path().display().to_string()), "{e}");
}

/// A shard that got no job leaves a summary.csv of its header alone: the
/// refusal must not claim there is no summary.csv, and must say what to do.
#[test]
fn a_folder_whose_summary_has_no_row_is_refused_truthfully() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "one.toml", "seeds = 1\n[base]\nepochs = 5\n");
    sweep(tmp.path()).args(["run", "one.toml", "--out", "r", "--shard", "1/4"]).assert().success();
    assert!(tmp.path().join("r/summary.csv").is_file());
    let out = sweep(tmp.path()).args(["report", "r"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(!err.contains("no summary.csv"), "{err}");
    assert!(err.contains("no finished job") && err.contains("sweep run"), "{err}");
}

/// The text elements of an SVG (plotters writes each text on its own line).
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| t.split_once(">\n"))
        .map(|(_, rest)| rest.split("\n</text>").next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn two_data_sets_give_two_panels_and_no_mean_across_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "small", SMALL);
    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(&written.report).unwrap();

    for axis in ["lr", "hidden"] {
        let svg = read_svg(&dir.join(format!("figures/curves-{axis}.svg")));
        assert!(
            has_text(&svg, "dataset = xor") && has_text(&svg, "dataset = linear"),
            "a panel per data set"
        );
        let texts = svg_texts(&svg).join("\n");
        assert!(
            !texts.contains("mean over") && !texts.contains("dataset ("),
            "nothing pooled over data sets:\n{texts}"
        );
        // Two medians per panel (one per axis value), in two panels.
        let medians = svg.matches(&format!("stroke-width=\"{}\"", figures::SERIES_STROKE)).count();
        assert!(medians >= 4, "{medians} median lines in curves-{axis}.svg");

        // Every row of the axis's table names one data set.
        let table = md.split(&format!("## By `{axis}`\n\n")).nth(1).unwrap();
        let rows: Vec<&str> = table.lines().skip(2).take_while(|l| l.starts_with('|')).collect();
        assert_eq!(rows.len(), 4, "{table}");
        for row in rows {
            assert!(row.starts_with("| `xor` |") || row.starts_with("| `linear` |"), "{row}");
        }
    }
    assert!(!md.contains("mean over"), "{md}");
}

#[test]
fn long_paths_with_a_common_prefix_get_distinct_short_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = "data/a_rather_long_folder_name_shared_by_both_sets";
    let mut points = String::from("x0,x1,label\n");
    for i in 0..12 {
        let (a, b) = ((i % 4) as f64 / 3.0, (i / 4) as f64 / 2.0);
        points.push_str(&format!("{a},{b},{}\n", u8::from(a + b > 0.9)));
    }
    for set in ["set_one.csv", "set_two.csv"] {
        let path = tmp.path().join(folder).join(set);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &points).unwrap();
    }
    let exp = tmp.path().join("exp");
    std::fs::create_dir_all(&exp).unwrap();
    let manifest = format!(
        "seeds = 2\n[base]\nepochs = 20\n[grid]\ndataset = [\"../{folder}/set_one.csv\", \"../{folder}/set_two.csv\"]\nlr = [0.1, 1.0]\n"
    );
    let dir = run(&exp, "paths", &manifest);
    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(&written.report).unwrap();

    let svg = read_svg(&dir.join("figures/curves-lr.svg"));
    assert!(has_text(&svg, "dataset = set_one.csv") && has_text(&svg, "dataset = set_two.csv"), "{svg}");
    for f in &written.figures {
        let texts = svg_texts(&std::fs::read_to_string(f).unwrap());
        assert!(texts.iter().all(|t| !t.contains("../")), "{}: {texts:?}", f.display());
    }
    let seeds = read_svg(&dir.join("figures/seeds.svg"));
    let rows: Vec<String> = svg_texts(&seeds).into_iter().filter(|t| t.starts_with("dataset=")).collect();
    assert_eq!(rows.len(), 4, "{rows:?}");
    let mut unique = rows.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "no two equal labels: {rows:?}");
    // The footnote gives the full values.
    assert!(md.contains(&format!("| `dataset` | `set_one.csv` | `../{folder}/set_one.csv` |")), "{md}");
    assert!(md.contains("### `set_two.csv`"), "headings use the short label:\n{md}");
}

#[test]
fn a_shards_report_says_it_is_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run_shard(tmp.path(), "shard", SMALL, Some(Shard { index: 0, count: 2 }));
    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    assert_eq!((written.jobs, written.planned), (12, Some(24)));
    let md = std::fs::read_to_string(&written.report).unwrap();
    assert!(md.contains("**Partial report: 12 of 24 jobs of the plan**"), "{md}");

    // The whole plan: no longer partial.
    let dir = run(tmp.path(), "shard", SMALL);
    report::write_report(&dir, &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(!md.contains("Partial") && md.contains("24 of 24 jobs of the plan"), "{md}");
}

#[test]
fn a_stale_figure_is_removed_and_a_users_file_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "small", SMALL);
    report::write_report(&dir, &ReportOptions::default()).unwrap();
    assert!(dir.join("figures/curves-hidden.svg").is_file());
    let mine = dir.join("figures/my-notes.svg");
    std::fs::write(&mine, "<svg>mine</svg>").unwrap();
    let legacy = dir.join("figures/curves-dataset.svg");
    std::fs::write(&legacy, "<svg>not on sweep's list</svg>").unwrap();

    // A figure an earlier report wrote (on sweep's list) that this one
    // does not draw, e.g. of an axis the study no longer sweeps.
    let stale = dir.join("figures/curves-activation.svg");
    std::fs::write(&stale, "<svg>old</svg>").unwrap();
    let list = dir.join("figures/.sweep-figures");
    let mut text = std::fs::read_to_string(&list).unwrap();
    assert!(text.contains("\ncurves-hidden.svg\n"), "sweep lists what it wrote: {text}");
    text.push_str("curves-activation.svg\n");
    std::fs::write(&list, text).unwrap();

    let written = report::write_report(&dir, &ReportOptions::default()).unwrap();
    assert_eq!(written.removed, vec![stale.clone()]);
    assert!(!stale.exists(), "the stale figure is gone");
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "<svg>mine</svg>", "the user's file stays");
    assert!(legacy.is_file(), "a file sweep did not record writing stays");
    assert!(!std::fs::read_to_string(&list).unwrap().contains("curves-activation"), "the list is rewritten");
    assert!(dir.join("figures/curves-lr.svg").is_file());
}

/// With a test split, the representative job is chosen by the held-out
/// loss (issue 14): its configuration has the lowest mean held-out loss
/// over the seeds that did not diverge (computed here from summary.csv),
/// and the report says which loss chose it.
#[test]
fn the_representative_job_is_chosen_by_the_held_out_loss_when_there_is_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(
        tmp.path(),
        "held",
        "seeds = 3\n[base]\ndataset = \"xor-hard\"\nn_samples = 60\nnoise = 0.3\ntest_fraction = 0.5\n\
         epochs = 300\nlog_every = 50\nbias = true\n[grid]\nhidden = [[2], [16, 16]]\nlr = [0.5, 2.0]\n",
    );
    report::write_report(&dir, &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("Chosen as the seed with the median held-out loss in the configuration"), "{md}");

    let mut r = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (id, hid, lr, test, status) =
        (col("job_id"), col("hidden"), col("lr"), col("final_test_loss"), col("status"));
    let mut by_config: std::collections::BTreeMap<(String, String), Vec<f64>> = Default::default();
    let mut jobs = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        jobs.push((rec[id].to_string(), rec[hid].to_string(), rec[lr].to_string()));
        if &rec[status] == "ok" {
            by_config
                .entry((rec[hid].to_string(), rec[lr].to_string()))
                .or_default()
                .push(rec[test].parse().unwrap());
        }
    }
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let best = by_config.iter().min_by(|a, b| mean(a.1).total_cmp(&mean(b.1))).unwrap().0.clone();
    let chosen = jobs.iter().find(|(j, ..)| md.contains(&format!("Job `{j}`"))).expect("a job is named");
    assert_eq!((chosen.1.clone(), chosen.2.clone()), best, "{md}");
}

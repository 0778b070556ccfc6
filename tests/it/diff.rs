//! `sweep::diff` on real results folders, trained through the library: the
//! three situations issue 5 names (identical folders, disjoint seed sets,
//! 300 vs 3000 epochs) and a missing folder.

use std::path::{Path, PathBuf};

use sweep::diff::{DiffError, DiffOptions, Format, Metric, diff};
use sweep::manifest::Manifest;
use sweep::plan::Plan;
use sweep::runner::{RunOptions, run_plan};

/// A small lab network: debug builds train about 10k of its epochs a second.
const BASE: &str = "dataset = \"linear\"\nn_samples = 20\nhidden = [2, 2]\nlog_every = 50\n";

/// Trains a manifest (`seeds`, `BASE` plus `base` under [base], and `grid`
/// under [grid]) into `root/results/name` and returns the folder.
fn run(root: &Path, name: &str, seeds: &str, base: &str, grid: &str, threads: usize) -> PathBuf {
    let text = format!("seeds = {seeds}\n[base]\n{BASE}{base}\n[grid]\n{grid}\n");
    let path = crate::common::write(root, &format!("{name}.toml"), &text);
    let plan = Plan::new(Manifest::load(&path, &[]).expect("manifest")).expect("plan");
    let out = root.join("results").join(name);
    let opts = RunOptions { threads: Some(threads), ..RunOptions::default() };
    let report = run_plan(&plan, &out, &opts, &|_| {}).expect("run");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    out
}

fn csv_rows(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            header.iter().zip(rec.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()
        })
        .collect()
}

fn csv_opts() -> DiffOptions {
    DiffOptions { format: Format::Csv, ..DiffOptions::default() }
}

#[test]
fn identical_folders_give_every_configuration_the_verdict_identical() {
    let tmp = tempfile::tempdir().unwrap();
    // Different thread counts: the bytes must not depend on them (SPEC 5).
    let a = run(tmp.path(), "a", "3", "epochs = 100", "lr = [0.5, 0.05]", 1);
    let b = run(tmp.path(), "b", "3", "epochs = 100", "lr = [0.5, 0.05]", 2);

    let md = diff(&a, &b, &DiffOptions::default()).unwrap();
    assert_eq!((md.configs, md.changed, md.improved, md.worsened), (2, 0, 0, 0), "{}", md.text);
    assert!(md.text.contains("No base parameter differs"), "{}", md.text);
    assert!(md.text.contains("0 of 2 configurations changed"), "{}", md.text);
    assert!(!md.text.contains("NaN"), "{}", md.text);

    let rows = csv_rows(&diff(&a, &b, &csv_opts()).unwrap().text);
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row["verdict"], "identical", "{row:?}");
        assert_eq!((row["n_a"].as_str(), row["n_b"].as_str()), ("3", "3"));
    }
    assert_eq!(rows.iter().map(|r| r["lr"].as_str()).collect::<Vec<_>>(), ["0.5", "0.05"]);
}

#[test]
fn disjoint_seed_sets_take_the_welch_path_and_show_n_per_side() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run(tmp.path(), "a", "[0, 1, 2]", "epochs = 100", "lr = [0.5, 0.05]", 2);
    let b = run(tmp.path(), "b", "[3, 4, 5, 6]", "epochs = 100", "lr = [0.5, 0.05]", 2);

    let md = diff(&a, &b, &DiffOptions::default()).unwrap();
    assert_eq!(md.configs, 2, "{}", md.text);
    // The seeds are not part of the match: the folders share both configurations.
    assert!(!md.text.contains("Only in"), "{}", md.text);
    for line in md.text.lines().filter(|l| l.starts_with("| 0.")) {
        assert!(line.contains("| 3 |") && line.contains("| 4 |") && line.contains("| Welch |"), "{line}");
    }

    let rows = csv_rows(&diff(&a, &b, &csv_opts()).unwrap().text);
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row["test"], "welch", "{row:?}");
        assert_eq!((row["n_a"].as_str(), row["n_b"].as_str()), ("3", "4"), "{row:?}");
        assert_eq!(row["pairs"], "", "no pairs without shared seeds");
        assert_eq!(row["p_improvement"], "", "probability of improvement needs pairs");
        assert!(row["p_value"].parse::<f64>().is_ok_and(|p| (0.0..=1.0).contains(&p)), "{row:?}");
    }
}

#[test]
fn more_epochs_are_the_base_difference_and_lower_the_loss_beyond_noise() {
    let tmp = tempfile::tempdir().unwrap();
    // At lr 0.05 and 0.01 the 300-epoch runs are still on the sigmoid
    // plateau for every seed, so 3000 epochs lower the loss consistently.
    // A also tries an lr B never ran: listed, not compared.
    let a = run(tmp.path(), "a", "4", "epochs = 300", "lr = [0.05, 0.01, 0.02]", 2);
    let b = run(tmp.path(), "b", "4", "epochs = 3000", "lr = [0.05, 0.01]", 2);

    let md = diff(&a, &b, &DiffOptions::default()).unwrap();
    assert!(md.text.contains("`epochs: 300 -> 3000`"), "{}", md.text);
    assert_eq!((md.configs, md.changed, md.improved, md.worsened), (2, 2, 2, 0), "{}", md.text);
    assert!(md.text.contains("Only in A"), "{}", md.text);
    assert!(md.text.contains("- lr = 0.02: n = 4"), "{}", md.text);
    assert!(
        md.text.contains("2 of 2 configurations changed: 2 improved, 0 worsened; 1 only in A, 0 only in B.")
    );

    let rows = csv_rows(&diff(&a, &b, &csv_opts()).unwrap().text);
    let compared: Vec<_> = rows.iter().filter(|r| r["verdict"] != "only_a").collect();
    assert_eq!(compared.len(), 2);
    for row in compared {
        // Both folders ran seeds 0..3: the paired test.
        assert_eq!((row["test"].as_str(), row["pairs"].as_str()), ("paired", "4"), "{row:?}");
        assert_eq!((row["verdict"].as_str(), row["direction"].as_str()), ("changed", "improved"), "{row:?}");
        assert_eq!(row["p_improvement"], "1.0", "every seed improves: {row:?}");
        let (lo, hi): (f64, f64) = (row["ci_low"].parse().unwrap(), row["ci_high"].parse().unwrap());
        assert!(lo <= hi && hi < 0.0, "the interval excludes 0: {row:?}");
    }
    assert!(rows.iter().any(|r| r["verdict"] == "only_a" && r["lr"] == "0.02" && r["n_a"] == "4"));

    // Accuracy is higher-is-better: the same runs must not read as worse.
    let acc = diff(&a, &b, &DiffOptions { metric: Metric::FinalAccuracy, ..DiffOptions::default() }).unwrap();
    assert_eq!(acc.worsened, 0, "{}", acc.text);

    // The binary: --fail-on-change turns a change into exit code 1 ...
    let out = crate::common::sweep(tmp.path())
        .args(["diff", "results/a", "results/b", "--fail-on-change"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", crate::common::stdout(&out));
    assert!(crate::common::stdout(&out).contains("`epochs: 300 -> 3000`"));
    // ... and a folder compared with itself passes the guard.
    let out = crate::common::sweep(tmp.path())
        .args(["diff", "results/b", "results/b", "--fail-on-change"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", crate::common::stdout(&out));
    let out = crate::common::sweep(tmp.path())
        .args(["diff", "results/a", "results/b", "--metric", "final_los"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::common::stderr(&out).contains("did you mean \"final_loss\""),
        "{}",
        crate::common::stderr(&out)
    );
}

#[test]
fn a_missing_folder_is_named_in_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let err = diff(&missing, tmp.path(), &DiffOptions::default()).unwrap_err();
    assert!(matches!(err, DiffError::NotAFolder { .. }));
    assert!(err.to_string().contains("nope"), "{err}");
    let empty = diff(tmp.path(), tmp.path(), &DiffOptions::default()).unwrap_err();
    assert!(matches!(empty, DiffError::NoJobs { .. }), "{empty}");
}

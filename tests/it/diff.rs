//! `sweep diff` on real results folders trained from small manifests, read
//! through the real binary: the three situations issue 5 names (identical
//! folders, disjoint seed sets, 300 vs 3000 epochs), a missing folder, and
//! the eight cases of issue 15, each of which the diff before it got wrong
//! (dropped diverged seeds, verdicts from one seed a side, no correction for
//! many configurations, a CI guard that passed on broken runs, rows that did
//! not add up, `same` claimed from a failed test, training metrics only, two
//! std implementations), plus the `--fail-on-change` exit codes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sweep::diff::{DiffError, DiffOptions, Format, Metric, diff};
use sweep::manifest::Manifest;
use sweep::plan::Plan;
use sweep::runner::{RunOptions, run_plan};

use crate::common::{stderr, stdout};

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

type Row = HashMap<String, String>;

fn csv_rows(text: &str) -> Vec<Row> {
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

/// `sweep diff results/A results/B ARGS...` run from `root`: (exit code, stdout, stderr).
fn sweep_diff(root: &Path, a: &str, b: &str, args: &[&str]) -> (i32, String, String) {
    let out = crate::common::sweep(root)
        .args(["diff", &format!("results/{a}"), &format!("results/{b}")])
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

fn num(row: &Row, key: &str) -> f64 {
    row[key].parse().unwrap_or_else(|_| panic!("{key} is not a number: {row:?}"))
}

/// The rows of the terminal format wider than 100 characters (none allowed).
fn too_wide(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.chars().count() > 100).collect()
}

#[test]
fn identical_folders_give_every_configuration_the_verdict_identical() {
    let tmp = tempfile::tempdir().unwrap();
    // Different thread counts: the bytes must not depend on them (SPEC 5).
    let a = run(tmp.path(), "a", "3", "epochs = 100", "lr = [0.5, 0.05]", 1);
    let b = run(tmp.path(), "b", "3", "epochs = 100", "lr = [0.5, 0.05]", 2);

    let md = diff(&a, &b, &DiffOptions { format: Format::Md, ..DiffOptions::default() }).unwrap();
    assert_eq!((md.configs, md.changed, md.improved, md.worsened), (2, 0, 0, 0), "{}", md.text);
    assert!(md.text.contains("no base parameter differs"), "{}", md.text);
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

    let text = diff(&a, &b, &DiffOptions::default()).unwrap();
    assert_eq!(text.configs, 2, "{}", text.text);
    // The seeds are not part of the match: the folders share both configurations.
    assert!(!text.text.contains("Only in"), "{}", text.text);
    for lr in ["0.5 ", "0.05"] {
        let line = text.text.lines().find(|l| l.starts_with(lr)).expect("a row per lr");
        assert!(line.contains(" 3/4 "), "n is A/B: {line}");
    }

    let rows = csv_rows(&diff(&a, &b, &csv_opts()).unwrap().text);
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row["test"], "welch", "{row:?}");
        assert_eq!((row["n_a"].as_str(), row["n_b"].as_str()), ("3", "4"), "{row:?}");
        assert_eq!(row["pairs"], "", "no pairs without shared seeds");
        assert_eq!(row["seeds_b_better"], "", "seed-by-seed counts need pairs");
        assert!((0.0..=1.0).contains(&num(row, "p_value")), "{row:?}");
        assert!(num(row, "p_adjusted") >= num(row, "p_value"), "{row:?}");
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

    let md = diff(&a, &b, &DiffOptions { format: Format::Md, ..DiffOptions::default() }).unwrap();
    assert!(md.text.contains("base: epochs: 300 -> 3000"), "{}", md.text);
    assert_eq!((md.configs, md.changed, md.improved, md.worsened), (2, 2, 2, 0), "{}", md.text);
    assert_eq!((md.only_a, md.only_b), (1, 0));
    assert!(md.text.contains("Only in A"), "{}", md.text);
    assert!(md.text.contains("- lr = 0.02: n = 4"), "{}", md.text);
    assert!(md.text.contains("2 of 2 configurations changed: 2 better, 0 worse; 1 only in A, 0 only in B."));

    let rows = csv_rows(&diff(&a, &b, &csv_opts()).unwrap().text);
    let compared: Vec<_> = rows.iter().filter(|r| r["verdict"] != "only_a").collect();
    assert_eq!(compared.len(), 2);
    for row in compared {
        // Both folders ran seeds 0..3: the paired test.
        assert_eq!((row["test"].as_str(), row["pairs"].as_str()), ("paired", "4"), "{row:?}");
        assert_eq!(row["paired_seeds"], "0 1 2 3", "{row:?}");
        assert_eq!(row["verdict"], "better", "{row:?}");
        assert_eq!((row["seeds_b_better"].as_str(), row["seeds_b_worse"].as_str()), ("4", "0"), "{row:?}");
        let (lo, hi) = (num(row, "ci_low"), num(row, "ci_high"));
        assert!(lo <= hi && hi < 0.0, "the interval excludes 0: {row:?}");
    }
    assert!(rows.iter().any(|r| r["verdict"] == "only_a" && r["lr"] == "0.02" && r["n_a"] == "4"));

    // Accuracy is higher-is-better: the same runs must not read as worse.
    let acc = diff(&a, &b, &DiffOptions { metric: Metric::FinalAccuracy, ..DiffOptions::default() }).unwrap();
    assert_eq!(acc.worsened, 0, "{}", acc.text);

    let (code, out, _) = sweep_diff(tmp.path(), "a", "a", &["--metric", "final_los"]);
    assert_eq!(code, 2, "{out}");
    let (_, _, err) = sweep_diff(tmp.path(), "a", "b", &["--metric", "final_los"]);
    assert!(err.contains("did you mean \"final_loss\""), "{err}");
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

/// With no hidden or output activation the network is linear, and a large
/// learning rate makes its loss overflow: at lr 0.05, 9 of these 12 seeds
/// diverge; at 0.002 none does.
const LINEAR_NET: &str = "epochs = 200\nactivation = \"none\"\noutput_activation = \"none\"\n";

#[test]
fn case_1_diverged_seeds_make_a_configuration_worse_whatever_its_survivors_do() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), "a", "12", &format!("{LINEAR_NET}lr = 0.002"), "", 2);
    run(tmp.path(), "b", "12", &format!("{LINEAR_NET}lr = 0.05"), "", 2);

    let (code, text, _) = sweep_diff(tmp.path(), "a", "b", &["--format", "text"]);
    assert_eq!(code, 0, "{text}");
    let row = text.lines().find(|l| l.contains("0/12 → 9/12")).unwrap_or_else(|| panic!("{text}"));
    assert!(row.trim_end().ends_with("worse"), "{row}");
    assert!(
        text.contains(
            "more seeds diverged in B (diverged: 0 of 12 in A, 9 of 12 in B): worse whatever its survivors do"
        ),
        "{text}"
    );

    let rows = csv_rows(&sweep_diff(tmp.path(), "a", "b", &["--format", "csv"]).1);
    let row = &rows[0];
    assert_eq!((row["diverged_a"].as_str(), row["diverged_b"].as_str()), ("0", "9"), "{row:?}");
    assert_eq!(row["verdict"], "worse", "{row:?}");
    // SciPy 1.17.1: scipy.stats.fisher_exact([[0, 12], [9, 3]]).pvalue
    approx::assert_relative_eq!(num(row, "failed_p_value"), 0.000336519046978059, max_relative = 1e-9);
    // The survivors' test still runs, over the 3 seeds that survived in B.
    assert_eq!(row["paired_seeds"].split(' ').count(), 3, "{row:?}");

    let (code, _, err) = sweep_diff(tmp.path(), "a", "b", &["--format", "csv", "--fail-on-change"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("1 configuration(s) changed (0 better, 1 worse)"), "{err}");
}

#[test]
fn case_2_one_seed_a_side_on_different_seeds_gives_no_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = "lr = [0.5, 0.2]\nactivation = [\"sigmoid\", \"tanh\"]";
    run(tmp.path(), "a", "[0]", "epochs = 100", grid, 2);
    run(tmp.path(), "b", "[3]", "epochs = 100", grid, 2);

    let (code, text, err) = sweep_diff(tmp.path(), "a", "b", &["--format", "text", "--fail-on-change"]);
    assert_eq!(code, 0, "seed noise is no change: {text}{err}");
    assert_eq!(text.matches("1 seed each, not paired: no verdict").count(), 4, "{text}");
    assert!(text.contains("0 of 4 configurations changed: 0 better, 0 worse; 4 no verdict."), "{text}");
    // The values are still shown, and their difference beside them.
    let rows = csv_rows(&sweep_diff(tmp.path(), "a", "b", &["--format", "csv"]).1);
    for row in &rows {
        assert_eq!(row["verdict"], "no_verdict", "{row:?}");
        approx::assert_relative_eq!(
            num(row, "difference"),
            num(row, "mean_b") - num(row, "mean_a"),
            max_relative = 1e-15
        );
    }

    // One *shared* seed is compared exactly: same data, same start.
    run(tmp.path(), "c", "[0]", "epochs = 300", grid, 2);
    let rows = csv_rows(&sweep_diff(tmp.path(), "a", "c", &["--format", "csv"]).1);
    for row in &rows {
        assert_eq!((row["test"].as_str(), row["paired_seeds"].as_str()), ("exact", "0"), "{row:?}");
        assert!(["better", "worse"].contains(&row["verdict"].as_str()), "{row:?}");
    }
}

#[test]
fn case_3_many_configurations_are_held_to_a_family_wise_level() {
    let tmp = tempfile::tempdir().unwrap();
    // Nothing systematic differs: the same manifest on two disjoint seed
    // sets. Alone, lr 0.2 with sigmoid reaches p = 0.038 by chance.
    let grid = "lr = [0.5, 0.2, 0.1, 0.05]\nactivation = [\"sigmoid\", \"tanh\"]";
    run(tmp.path(), "a", "[0, 1, 2, 3]", "epochs = 100", grid, 2);
    run(tmp.path(), "b", "[16, 17, 18, 19]", "epochs = 100", grid, 2);

    let (code, text, _) = sweep_diff(tmp.path(), "a", "b", &["--format", "text", "--fail-on-change"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("level: Holm-Bonferroni over 8 tests, family-wise error 5%"), "{text}");
    assert!(text.contains("0 of 8 configurations changed"), "{text}");

    let rows = csv_rows(&sweep_diff(tmp.path(), "a", "b", &["--format", "csv"]).1);
    assert_eq!(rows.len(), 8);
    let lucky: Vec<&Row> = rows.iter().filter(|r| num(r, "p_value") < 0.05).collect();
    assert_eq!(lucky.len(), 1, "{rows:?}");
    let row = lucky[0];
    assert_eq!((row["lr"].as_str(), row["activation"].as_str()), ("0.2", "sigmoid"));
    assert_eq!((row["correction"].as_str(), row["verdict"].as_str()), ("holm", "no_detectable_change"));
    // SciPy 1.17.1 on this row's final losses (from the two summary.csv
    // files): scipy.stats.ttest_ind(b, a, equal_var=False), confidence_interval(0.95).
    let close = |key: &str, want: f64| approx::assert_relative_eq!(num(row, key), want, max_relative = 1e-9);
    close("t", 2.7089231139014935);
    close("p_value", 0.0383886392030612);
    close("df", 5.498495185096274);
    close("ci_low", 0.004041635897546185);
    close("ci_high", 0.10180182939653837);
    // Holm: the smallest of 8 p-values is multiplied by 8.
    approx::assert_relative_eq!(num(row, "p_adjusted"), 8.0 * num(row, "p_value"), max_relative = 1e-12);
    assert!(row["notes"].contains("for this row alone"), "{row:?}");

    // Without the correction the same row would be called a change.
    let rows = csv_rows(&sweep_diff(tmp.path(), "a", "b", &["--format", "csv", "--correction", "none"]).1);
    let row = rows.iter().find(|r| r["lr"] == "0.2" && r["activation"] == "sigmoid").unwrap();
    assert_eq!(row["verdict"], "worse", "{row:?}");
}

#[test]
fn case_4_fail_on_change_exit_codes_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    // 300 -> 3000 epochs at these rates lowers every seed's loss (see above).
    run(tmp.path(), "a", "4", "epochs = 300", "lr = [0.05, 0.01]", 2);
    run(tmp.path(), "wider", "4", "epochs = 300", "lr = [0.05, 0.01, 0.02]", 2);
    run(tmp.path(), "longer", "4", "epochs = 3000", "lr = [0.05, 0.01]", 2);
    run(tmp.path(), "other", "4", "epochs = 300", "lr = [0.2, 0.1]", 2);
    let guard = |a: &str, b: &str, extra: &[&str]| {
        let mut args = vec!["--format", "csv", "--fail-on-change"];
        args.extend(extra);
        let (code, _, err) = sweep_diff(tmp.path(), a, b, &args);
        (code, err)
    };

    // No change.
    assert_eq!(guard("a", "a", &[]), (0, String::new()));
    // A change.
    let (code, err) = guard("a", "longer", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("changed"), "{err}");
    // One-sided: B has an lr A lacks; nothing else differs.
    let (code, err) = guard("a", "wider", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("in one folder only: 0 only in A, 1 only in B (--allow-missing accepts them)"),
        "{err}"
    );
    assert_eq!(guard("a", "wider", &["--allow-missing"]).0, 0);
    // Nothing matched: no configuration in both, even with --allow-missing.
    for extra in [&[][..], &["--allow-missing"][..]] {
        let (code, err) = guard("a", "other", extra);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("nothing matched: no configuration is in both folders"), "{err}");
    }
    let (_, text, _) = sweep_diff(tmp.path(), "a", "other", &["--format", "text"]);
    assert!(
        text.contains("Nothing matched: no configuration is in both folders (2 only in A, 2 only in B)."),
        "{text}"
    );
}

#[test]
fn case_5_partly_shared_seeds_show_the_means_the_pairs_compare() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), "a", "8", "epochs = 100", "lr = [0.5, 0.05]", 2);
    run(tmp.path(), "b", "[4, 5, 6, 7, 8, 9, 10, 11]", "epochs = 300", "lr = [0.5, 0.05]", 2);

    let rows = csv_rows(&sweep_diff(tmp.path(), "a", "b", &["--format", "csv"]).1);
    for row in &rows {
        assert_eq!((row["test"].as_str(), row["paired_seeds"].as_str()), ("paired", "4 5 6 7"), "{row:?}");
        assert_eq!((row["jobs_a"].as_str(), row["n_a"].as_str(), row["n_b"].as_str()), ("8", "4", "4"));
        // The row adds up: the difference is the difference of the means beside it.
        approx::assert_relative_eq!(
            num(row, "difference"),
            num(row, "mean_b") - num(row, "mean_a"),
            max_relative = 1e-12
        );
    }
    // SciPy 1.17.1 on these rows' final losses (seeds 4-7, from the two
    // summary.csv files): scipy.stats.ttest_rel(b, a), confidence_interval(0.95);
    // statsmodels 0.15.0 multipletests([p_lr_0.5, p_lr_0.05], method="holm").
    let row = rows.iter().find(|r| r["lr"] == "0.5").unwrap();
    let close = |key: &str, want: f64| approx::assert_relative_eq!(num(row, key), want, max_relative = 1e-9);
    close("t", -2.009289219496086);
    close("p_value", 0.13807837705815504);
    close("ci_low", -0.05244066729456358);
    close("ci_high", 0.01184982172655219);
    close("p_adjusted", 0.19229397045529917);

    let (_, text, _) = sweep_diff(tmp.path(), "a", "b", &["--format", "text"]);
    assert!(text.contains("4 paired"), "{text}");
    assert!(
        text.contains(
            "paired over seeds 4-7 (a value on both sides); A's seeds 0-3 and B's seeds 8-11 not used"
        ),
        "{text}"
    );
}

#[test]
fn case_6_verdicts_never_claim_equality_and_the_terminal_format_fits_100_columns() {
    let tmp = tempfile::tempdir().unwrap();
    // 70 instead of 100 epochs leaves every seed's loss higher at lr 1.0
    // (sigmoid), but by amounts so uneven that the t-test cannot call it.
    let grid = "lr = [1.0, 0.5, 0.2, 0.1, 0.05]\nactivation = [\"sigmoid\", \"tanh\"]";
    run(tmp.path(), "a", "10", "epochs = 100", grid, 2);
    run(tmp.path(), "b", "10", "epochs = 70", grid, 2);

    let (_, text, _) = sweep_diff(tmp.path(), "a", "b", &["--format", "text"]);
    assert!(too_wide(&text).is_empty(), "{:?}", too_wide(&text));
    assert!(!text.contains("same"), "{text}");
    assert!(text.contains("Legend:\n  n: seeds compared"), "{text}");
    assert!(text.contains("no detectable change: none found, not proof of none (see the CI)"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("activation = sigmoid, lr = 1.0"));
    let at = at.unwrap_or_else(|| panic!("{text}"));
    let row = lines[at + 1];
    assert!(row.contains("10 paired") && row.contains('[') && row.ends_with("no detectable change"), "{row}");
    assert!(lines[at + 2].contains("B worse on 10 of 10 paired seeds"), "{text}");

    // Markdown when stdout is not a terminal and no format is asked for.
    let (_, md, _) = sweep_diff(tmp.path(), "a", "b", &[]);
    assert!(md.starts_with("# sweep diff: final_loss"), "{md}");
    assert!(md.contains("| p | p (Holm) | verdict | notes |"), "{md}");
}

#[test]
fn case_7_held_out_metrics_can_be_compared_and_accuracy_is_higher_is_better() {
    let tmp = tempfile::tempdir().unwrap();
    let split = "test_fraction = 0.25\nn_samples = 40\n";
    // BASE sets n_samples = 20; a manifest key given twice is an error, so
    // these runs spell their own base.
    let manifest = |epochs: u32| {
        format!(
            "seeds = 6\n[base]\ndataset = \"linear\"\nhidden = [2, 2]\nlog_every = 50\n{split}epochs = {epochs}\n\
             [grid]\nlr = [0.5, 0.05]\n"
        )
    };
    for (name, epochs) in [("a", 30), ("b", 400)] {
        let path = crate::common::write(tmp.path(), &format!("{name}.toml"), &manifest(epochs));
        let plan = Plan::new(Manifest::load(&path, &[]).unwrap()).unwrap();
        let opts = RunOptions { threads: Some(2), ..RunOptions::default() };
        run_plan(&plan, &tmp.path().join("results").join(name), &opts, &|_| {}).unwrap();
    }
    let (code, text, err) =
        sweep_diff(tmp.path(), "a", "b", &["--metric", "final_test_accuracy", "--format", "text"]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("metric: final_test_accuracy, higher is better"), "{text}");
    let rows = csv_rows(
        &sweep_diff(tmp.path(), "a", "b", &["--metric", "final_test_accuracy", "--format", "csv"]).1,
    );
    let row = rows.iter().find(|r| r["lr"] == "0.05").unwrap();
    assert_eq!(
        (row["metric"].as_str(), row["verdict"].as_str()),
        ("final_test_accuracy", "better"),
        "{row:?}"
    );
    assert!(num(row, "difference") > 0.0);
    for metric in ["final_test_loss", "min_loss", "epoch_at_target"] {
        let (code, _, err) = sweep_diff(tmp.path(), "a", "b", &["--metric", metric, "--format", "csv"]);
        assert_eq!(code, 0, "{metric}: {err}");
    }

    // A folder without a test split has no held-out metric: bad usage, said.
    run(tmp.path(), "plain", "2", "epochs = 50", "lr = [0.5]", 2);
    let (code, _, err) = sweep_diff(tmp.path(), "plain", "plain", &["--metric", "final_test_loss"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("held-out metrics need a test split (test_fraction > 0)"), "{err}");
    let (code, _, err) = sweep_diff(tmp.path(), "plain", "plain", &["--metric", "lr"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("it is a parameter"), "{err}");
}

#[test]
fn case_8_report_and_diff_print_one_std_for_one_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(tmp.path(), "a", "3", "epochs = 20", "lr = [0.5]", 2);
    // summary.csv is checked against the job folders by every reader, so the
    // folder's own values are compared; the overflow case (losses near the top
    // of f64, where a plain sum of squares overflows) on the one implementation.
    let rows = sweep::store::read_summary(&dir.join("summary.csv")).unwrap();
    let rows = sweep::report::rows::Rows::from_rows(&dir, &rows);
    let refs: Vec<&sweep::report::rows::Row> = rows.iter().collect();
    let report_std = sweep::report::aggregate::stats(&refs).loss_std.expect("3 values");
    let diff_rows = csv_rows(&sweep_diff(tmp.path(), "a", "a", &["--format", "csv"]).1);
    assert_eq!(diff_rows[0]["std_a"], sweep::store::fmt_f64(report_std), "{:?}", diff_rows[0]);
    let huge = [1e300, 3e300, 2e300];
    approx::assert_relative_eq!(sweep::stats::sample_std(&huge).unwrap(), 1e300, max_relative = 1e-12);
    assert_eq!(sweep::stats::mean(&huge), Some(2e300));
}

/// Trains the manifest `text` into `root/results/name`.
fn run_manifest(root: &Path, name: &str, text: &str) -> PathBuf {
    let path = crate::common::write(root, &format!("{name}.toml"), text);
    let plan = Plan::new(Manifest::load(&path, &[]).expect("manifest")).expect("plan");
    let out = root.join("results").join(name);
    let opts = RunOptions { threads: Some(2), ..RunOptions::default() };
    let report = run_plan(&plan, &out, &opts, &|_| {}).expect("run");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    out
}

#[test]
fn seeds_on_different_data_or_a_different_start_are_not_paired() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = |base: &str| {
        format!(
            "seeds = 3\n[base]\nhidden = [2, 2]\nlog_every = 50\nepochs = 100\n{base}\n[grid]\nlr = [0.5, 0.05]\n"
        )
    };
    run_manifest(tmp.path(), "linear", &manifest("dataset = \"linear\"\nn_samples = 20"));
    run_manifest(tmp.path(), "linear-40", &manifest("dataset = \"linear\"\nn_samples = 40"));
    run_manifest(tmp.path(), "circle", &manifest("dataset = \"circle\"\nn_samples = 20"));
    run_manifest(tmp.path(), "xavier", &manifest("dataset = \"linear\"\nn_samples = 20\ninit = \"xavier\""));
    run_manifest(tmp.path(), "lr-base", &manifest("dataset = \"linear\"\nn_samples = 20\nl2 = 0.001"));

    // (B, the words the warning must hold, whether it names different quantities)
    for (b, names, quantities) in [
        ("linear-40", "the data (n_samples)", false),
        ("circle", "the data (dataset)", true),
        ("xavier", "the initial weights (init)", false),
    ] {
        let (_, text, _) = sweep_diff(tmp.path(), "linear", b, &["--format", "text"]);
        let first = text.lines().nth(1).unwrap_or_default();
        assert!(first.starts_with("warning: ") && first.contains(names), "{b}: {text}");
        assert!(text.contains("seeds are not paired"), "{b}: {text}");
        assert_eq!(text.contains("different quantities"), quantities, "{b}: {text}");
        assert!(!text.contains("paired t over"), "{b}: {text}");
        let rows = csv_rows(&sweep_diff(tmp.path(), "linear", b, &["--format", "csv"]).1);
        assert_eq!(rows.len(), 2, "{b}");
        for row in &rows {
            assert_eq!((row["test"].as_str(), row["pairs"].as_str()), ("welch", ""), "{b}: {row:?}");
        }
        let (_, md, _) = sweep_diff(tmp.path(), "linear", b, &["--format", "md"]);
        assert!(md.contains("- warning: "), "{b}: {md}");
    }
    // An optimizer parameter leaves data and start alone: the seeds pair.
    let (_, text, _) = sweep_diff(tmp.path(), "linear", "lr-base", &["--format", "text"]);
    assert!(!text.contains("warning"), "{text}");
    assert!(text.contains("3 paired"), "{text}");
}

/// A small two-class CSV data set (`shift` moves one point: other data).
fn csv_data(shift: f64) -> String {
    let mut text = String::from("x0,x1,label\n");
    for i in 0..30 {
        let (x0, x1) = (f64::from(i % 6) / 6.0, f64::from(i / 6) / 5.0);
        let x0 = if i == 7 { x0 + shift } else { x0 };
        text.push_str(&format!("{x0},{x1},{}\n", u8::from(x0 > x1)));
    }
    text
}

/// Trains the manifest `text`, written as `root/dir/name.toml`, into
/// `root/results/name`.
fn run_from(root: &Path, dir: &str, name: &str, text: &str) {
    let path = crate::common::write(&root.join(dir), &format!("{name}.toml"), text);
    let plan = Plan::new(Manifest::load(&path, &[]).expect("manifest")).expect("plan");
    let opts = RunOptions { threads: Some(2), ..RunOptions::default() };
    let report = run_plan(&plan, &root.join("results").join(name), &opts, &|_| {}).expect("run");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
}

/// The manifest of the CSV tests: `dataset` as written, and more `[base]`.
fn csv_manifest(dataset: &str, base: &str) -> String {
    format!(
        "seeds = 3\n[base]\ndataset = \"{dataset}\"\nhidden = [2, 2]\nlog_every = 50\nepochs = 100\n{base}\n\
         [grid]\nlr = [0.5, 0.05]\n"
    )
}

/// A CSV data set is known by its contents, never its path (SPEC 5): one
/// file written `data/x.csv` and `./data/x.csv`, or reached from a manifest
/// in another folder, was "different data" to diff, which then compared
/// every seed unpaired (Welch) with a warning. Now the seeds pair, and only
/// the real difference (`l2`) is the base.
#[test]
fn one_csv_file_reached_by_two_paths_is_the_same_data_and_seeds_pair() {
    let tmp = tempfile::tempdir().unwrap();
    crate::common::write(tmp.path(), "data/x.csv", &csv_data(0.0));
    run_manifest(tmp.path(), "plain", &csv_manifest("data/x.csv", ""));
    run_manifest(tmp.path(), "dot", &csv_manifest("./data/x.csv", "l2 = 0.001"));
    run_from(tmp.path(), "sub", "up", &csv_manifest("../data/x.csv", "l2 = 0.001"));
    for b in ["dot", "up"] {
        let (_, text, _) = sweep_diff(tmp.path(), "plain", b, &["--format", "text"]);
        assert!(!text.contains("warning"), "{b}: {text}");
        assert!(text.contains("base: l2: 0.0 -> 0.001"), "{b}: {text}");
        assert!(!text.contains("dataset"), "{b}: {text}");
        let rows = csv_rows(&sweep_diff(tmp.path(), "plain", b, &["--format", "csv"]).1);
        assert_eq!(rows.len(), 2, "{b}");
        for row in &rows {
            assert_eq!((row["test"].as_str(), row["pairs"].as_str()), ("paired", "3"), "{b}: {row:?}");
        }
    }
    // The same folder under two spellings of the path: identical.
    run_manifest(tmp.path(), "dot-same", &csv_manifest("./data/x.csv", ""));
    let rows = csv_rows(&sweep_diff(tmp.path(), "plain", "dot-same", &["--format", "csv"]).1);
    assert!(rows.iter().all(|r| r["verdict"] == "identical"), "{rows:?}");
}

/// Other contents are other data, whether under another path or the same
/// one: the seeds do not pair, and the warning says why.
#[test]
fn a_csv_file_with_other_contents_is_other_data_even_under_the_same_path() {
    let tmp = tempfile::tempdir().unwrap();
    crate::common::write(tmp.path(), "data/x.csv", &csv_data(0.0));
    crate::common::write(tmp.path(), "data/y.csv", &csv_data(0.05));
    crate::common::write(tmp.path(), "sub/data/x.csv", &csv_data(0.05));
    run_manifest(tmp.path(), "x", &csv_manifest("data/x.csv", ""));
    run_manifest(tmp.path(), "y", &csv_manifest("data/y.csv", ""));
    run_from(tmp.path(), "sub", "sub-x", &csv_manifest("data/x.csv", ""));
    for (b, base) in [
        ("y", "base: dataset: data/x.csv -> data/y.csv"),
        ("sub-x", "base: dataset: data/x.csv -> data/x.csv (other contents"),
    ] {
        let (_, text, _) = sweep_diff(tmp.path(), "x", b, &["--format", "text"]);
        assert!(text.contains("warning: the data (dataset) differ"), "{b}: {text}");
        assert!(text.contains(base), "{b}: {text}");
        let rows = csv_rows(&sweep_diff(tmp.path(), "x", b, &["--format", "csv"]).1);
        assert_eq!(rows.len(), 2, "{b}");
        for row in &rows {
            assert_eq!(row["test"], "welch", "{b}: {row:?}");
        }
    }
    // A file changed since a run is not what that run read.
    crate::common::write(tmp.path(), "data/y.csv", &csv_data(0.0));
    let (_, text, _) = sweep_diff(tmp.path(), "x", "y", &["--format", "text"]);
    assert!(text.contains("warning: the data (dataset) differ"), "{text}");
}

//! The command line as a user meets it: exit codes, how errors are printed,
//! and the default subcommand.

use crate::common::{stderr, sweep, write};

/// Every `error:`/`caused by:` line of stderr.
fn error_lines(err: &str) -> Vec<&str> {
    err.lines().filter(|l| l.starts_with("error: ") || l.starts_with("caused by: ")).collect()
}

#[test]
fn diff_of_two_empty_folders_is_a_refusal_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("empty1")).unwrap();
    std::fs::create_dir_all(tmp.path().join("empty2")).unwrap();
    let out = sweep(tmp.path()).args(["diff", "empty1", "empty2"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        error_lines(&err),
        [
            "error: empty1: not a results folder (an empty folder): give the folder a run wrote (its --out; results/<name> by default)"
        ],
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_run_time_failure_exits_1_and_says_its_cause_once() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", TINY);
    let out = sweep(tmp.path()).args(["run", "m.toml", "--out", "r", "--quiet"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sweep(tmp.path()).args(["export", "r", "--out", "no/such/folder/x.csv"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines = error_lines(&err);
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains("no/such/folder/x.csv"),
        "the file is named:\n{err}"
    );
    assert!(lines.iter().any(|l| l.contains("No such file or directory")), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "the cause is said once:\n{err}");
}

#[test]
fn a_bad_manifest_exits_2_with_file_line_column_and_what_is_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "[base]\nepochs = 3\nactivaton = \"tanh\"\n");
    for cmd in ["run", "plan"] {
        let out = sweep(tmp.path()).args([cmd, "m.toml"]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        let lines = error_lines(&err);
        assert_eq!(lines.len(), 1, "{cmd}: {err}");
        assert!(lines[0].starts_with("error: m.toml:3:1: [base] unknown key `activaton`"), "{cmd}: {err}");
        assert!(lines[0].contains("(did you mean `activation`?); allowed: "), "{cmd}: {err}");
    }
}

const TINY: &str = "seeds = 2\n[base]\nepochs = 3\n";

/// `sweep ARGS` in a fresh folder holding m.toml; asserts it trained both
/// jobs into `r/` and returns its stdout.
fn runs(args: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", TINY);
    let out = sweep(tmp.path()).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let text = crate::common::stdout(&out);
    assert!(text.contains("2 jobs run, 0 skipped"), "{args:?}: {text}");
    assert!(tmp.path().join("r/summary.csv").is_file(), "{args:?}");
    text
}

#[test]
fn run_is_the_default_command_with_its_options_before_or_after_the_manifest() {
    runs(&["run", "m.toml", "--out", "r"]);
    runs(&["m.toml", "--out", "r"]);
    runs(&["--quiet", "m.toml", "--out", "r"]);
    runs(&["-q", "--out", "r", "m.toml"]);
    runs(&["m.toml", "--threads", "2", "--out", "r"]);
    runs(&["--threads", "1", "m.toml", "--set", "epochs=2", "--out", "r"]);
}

#[test]
fn a_subcommand_name_first_picks_that_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", TINY);
    let out = sweep(tmp.path()).args(["plan", "m.toml", "--format", "csv"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(crate::common::stdout(&out).starts_with("index,job_id,seed\n0,seed-0,0\n"));
    assert!(!tmp.path().join("results").exists(), "plan trained something");
}

#[test]
fn bad_usage_exits_2_and_says_what_is_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", TINY);
    for (args, needle) in [
        (&["m.toml", "--threads", "0"][..], "must be at least 1"),
        (&["m.toml", "--threads", "two"][..], "`two` is not a whole number"),
        (&["m.toml", "--no-such-flag"][..], "--no-such-flag"),
        (&["plan", "m.toml", "--format", "yaml"][..], "possible values: table, csv, json"),
    ] {
        let out = sweep(tmp.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    assert!(!tmp.path().join("results").exists(), "bad usage trained something");
}

#[test]
fn help_teaches_the_default_command() {
    let tmp = tempfile::tempdir().unwrap();
    let out = sweep(tmp.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = crate::common::stdout(&out);
    assert!(help.contains("Usage: sweep [OPTIONS] <MANIFEST>...\n       sweep <COMMAND>"), "{help}");
    assert!(help.contains("`sweep MANIFEST... [OPTIONS]` is `sweep run`"), "{help}");
    assert!(help.contains("--threads <N>") && help.contains("-q, --quiet"), "run's options: {help}");
    // Without arguments: the help, on stderr, as bad usage.
    let bare = sweep(tmp.path()).output().unwrap();
    assert_eq!(bare.status.code(), Some(2));
    assert!(stderr(&bare).contains("Usage: sweep [OPTIONS] <MANIFEST>..."), "{}", stderr(&bare));
}

#[test]
fn every_command_s_help_shows_an_example_of_itself() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["run", "plan", "report", "diff", "summarize", "verify", "export", "slurm"] {
        let out = sweep(tmp.path()).args([name, "--help"]).output().unwrap();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let help = crate::common::stdout(&out);
        assert!(help.contains("Example"), "{name} --help has no example:\n{help}");
        assert!(
            help.contains(&format!("\n  sweep {name} ")),
            "{name} --help shows no `sweep {name} ...`:\n{help}"
        );
    }
}

#[test]
fn a_mistyped_command_is_named_as_one_not_read_as_a_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", TINY);
    let out = sweep(tmp.path()).args(["plann", "m.toml"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`plann` is neither a manifest file nor a command (did you mean `sweep plan`?)"),
        "{err}"
    );
    assert!(
        err.contains("commands: run, plan, report, diff, summarize, verify, export, prune, slurm"),
        "{err}"
    );
    assert!(!tmp.path().join("results").exists());
    let out = sweep(tmp.path()).args(["--quiet", "plan", "m.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("a command goes first: `sweep plan ...`"), "{}", stderr(&out));
    // A manifest that is a file is run, whatever its name.
    write(tmp.path(), "plann", TINY);
    let out = sweep(tmp.path()).args(["plann", "--out", "r"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn counts_must_be_at_least_one() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [&["verify", ".", "--sample", "0"][..], &["m.toml", "--shard", "auto", "--shard-count", "0"]]
    {
        let out = sweep(tmp.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("must be at least 1"), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn an_exclude_that_matches_no_job_is_a_warning_naming_it_and_the_allowed_values() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "m.toml",
        "[grid]\nlr = [0.1, 0.01]\nactivation = [\"sigmoid\", \"tanh\"]\n\
         [[exclude]]\nlr = 0.1\n[[exclude]]\nlr = 0.01\nactivation = \"tahn\"\n",
    );
    let out = sweep(tmp.path()).args(["plan", "m.toml"]).output().unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(
        warnings,
        ["warning: m.toml:6:1: [[exclude]] #2 (lr = 0.01, activation = \"tahn\") matches no job: \
             `activation` = \"tahn\" is not a value of its axis (allowed: \"sigmoid\", \"tanh\")"],
        "{err}"
    );
    // A --set that shrinks an axis leaves an exclude with nothing to do: a
    // warning, not an error.
    let out = sweep(tmp.path()).args(["plan", "m.toml", "--set", "grid.lr=[0.01]"]).output().unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: m.toml:4:1: [[exclude]] #1 (lr = 0.1) matches no job: `lr` = 0.1 is not a value of its axis (allowed: 0.01)"), "{err}");
}

/// A count of one is singular: "verified 1 job", "(1 job)".
#[test]
fn counts_of_one_are_singular() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "[base]\nepochs = 3\nn_samples = 10\n");
    let out = sweep(tmp.path()).args(["run", "m.toml", "--out", "r", "--quiet"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sweep(tmp.path()).args(["verify", "r"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("verified 1 job: 1 identical, 0 differ"), "{text}");
    let out = sweep(tmp.path()).args(["diff", "r", "r"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("(1 job)") && !text.contains("1 jobs"), "{text}");
    assert_eq!(sweep::count(1, "row"), "1 row");
    assert_eq!(sweep::count(2, "row"), "2 rows");
}

/// A grid axis that lists a value twice (`0.1` and `1e-1`, `[2,2]` and
/// `[2, 2]`, `1` and `1.0`) plans it once: a warning says so, naming the
/// place and the positions, so the study is not smaller than it looks
/// without a word.
#[test]
fn a_value_listed_twice_on_an_axis_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "m.toml",
        "[base]\nepochs = 2\n[grid]\nlr = [0.1, 1e-1, 1, 1.0]\nhidden = [[2,2], [3], [2, 2]]\n",
    );
    let out = sweep(tmp.path()).args(["plan", "m.toml", "--format", "csv"]).output().unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(
        warnings,
        [
            "warning: m.toml:4:1: `lr` lists 0.1 again (values #1 and #2): the plan keeps it once",
            "warning: m.toml:4:1: `lr` lists 1 again (values #3 and #4): the plan keeps it once",
            "warning: m.toml:5:1: `hidden` lists [2, 2] again (values #1 and #3): the plan keeps it once",
        ],
        "{err}"
    );
    let rows = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(rows, 1 + 2 * 2, "two values of lr x two of hidden");
}

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
            "error: cannot compare empty1 and empty2",
            "caused by: empty1: no finished jobs (no rows in summary.csv and no jobs/*/params.toml)"
        ],
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_run_time_failure_exits_1_and_says_its_cause_once() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("r")).unwrap();
    let out = sweep(tmp.path()).args(["export", "r", "--out", "no/such/folder/x.csv"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines = error_lines(&err);
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(lines[0], "error: cannot create no/such/folder/x.csv");
    assert!(lines[1].starts_with("caused by: ") && lines[1].contains("No such file or directory"), "{err}");
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

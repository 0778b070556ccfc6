//! A newcomer's trial of `run`, `plan` and the report: what it found lost
//! or let through, each pinned here.

use std::fs;

use crate::common::{stderr, stdout, sweep, write};

const TINY: &str = "seeds = 1\n[base]\nepochs = 3\n";

/// Repro: `sweep a.toml b.toml --force` with one `name` in both trained a,
/// then replaced a's results with b's, silently. Now refused before any
/// training, naming both manifests, the folder and what to do.
#[test]
fn two_manifests_into_one_results_folder_are_refused_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "a.toml", &format!("name = \"same\"\n{TINY}"));
    write(cwd, "b.toml", &format!("name = \"same\"\n{}", TINY.replace('3', "4")));
    let out = sweep(cwd).args(["a.toml", "b.toml", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("a.toml")
            && err.contains("b.toml")
            && err.contains("results/same")
            && err.contains("name = ")
            && err.contains("--out")
            && err.contains("nothing was trained"),
        "{err}"
    );
    assert!(!cwd.join("results/same").exists(), "nothing trained");

    // Different names, one folder through a link: compared by real path.
    write(cwd, "c.toml", &format!("name = \"c\"\n{TINY}"));
    write(cwd, "d.toml", &format!("name = \"d\"\n{TINY}"));
    sweep(cwd).args(["c.toml"]).assert().success();
    std::os::unix::fs::symlink("c", cwd.join("results/d")).unwrap();
    let before = fs::read(cwd.join("results/c/jobs/seed-0/curve.csv")).unwrap();
    let out = sweep(cwd).args(["c.toml", "d.toml", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("c.toml") && stderr(&out).contains("d.toml"), "{}", stderr(&out));
    assert_eq!(fs::read(cwd.join("results/c/jobs/seed-0/curve.csv")).unwrap(), before);
    // Two names, two folders: both run.
    fs::remove_file(cwd.join("results/d")).unwrap();
    sweep(cwd).args(["c.toml", "d.toml"]).assert().success();
}

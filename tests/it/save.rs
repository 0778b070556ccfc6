//! The `save` key (issue 17): large sweeps may skip predictions.csv and
//! model.json; every reader accepts such jobs, and a later run that saves
//! them trains the jobs again.

use std::fs;

use crate::common::{assert_same_tree, stderr, stdout, sweep, write};

const SMALL: &str = "seeds = 2\n[base]\nepochs = 20\n[grid]\nlr = [0.1, 0.5]\n";

#[test]
fn save_nothing_optional_writes_curves_only_and_every_reader_accepts_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    sweep(cwd).args(["m.toml", "--out", "r", "--set", "save=[]"]).assert().success();
    let job = cwd.join("r/jobs/lr-0.1_seed-0");
    let mut files: Vec<String> =
        fs::read_dir(&job).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    assert_eq!(files, ["curve.csv", "params.toml"]);
    let params = fs::read_to_string(job.join("params.toml")).unwrap();
    let listed = &params[params.find("[files]").unwrap()..];
    assert!(listed.contains("\"curve.csv\"") && listed.contains("\"params.toml\""), "{listed}");
    assert!(!listed.contains("predictions.csv") && !listed.contains("model.json"), "{listed}");
    assert!(!params.contains("save"), "save is not a parameter of the job:\n{params}");

    // Readers take the folder as it is: nothing MISSING, nothing rebuilt.
    let out = sweep(cwd).args(["verify", "r"]).output().unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(!stdout(&out).contains("MISSING"), "{}", stdout(&out));
    assert!(stdout(&out).contains("verified 4 jobs: 4 identical"), "{}", stdout(&out));
    for args in
        [&["report", "r"][..], &["export", "r", "--out", "e.csv"], &["diff", "r", "r"], &["summarize", "r"]]
    {
        let out = sweep(cwd).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("rebuilt"), "{args:?}: {}", stderr(&out));
    }
    // The summary and curves are those of a run that saves everything.
    sweep(cwd).args(["m.toml", "--out", "full"]).assert().success();
    for f in ["summary.csv", "jobs/lr-0.5_seed-1/curve.csv"] {
        assert_eq!(
            fs::read(cwd.join("r").join(f)).unwrap(),
            fs::read(cwd.join("full").join(f)).unwrap(),
            "{f}"
        );
    }

    // A run that saves them trains the jobs that lack them, to the same bytes.
    let out = sweep(cwd).args(["m.toml", "--out", "r"]).output().unwrap();
    assert!(stdout(&out).contains("4 jobs run, 0 skipped"), "{}", stdout(&out));
    fs::remove_dir_all(cwd.join("r/figures")).unwrap();
    for f in ["report.md", "report.html"] {
        fs::remove_file(cwd.join("r").join(f)).unwrap();
    }
    assert_same_tree(&cwd.join("r"), &cwd.join("full"));
    // ... and a run that saves less keeps them (nothing to train).
    let out = sweep(cwd).args(["m.toml", "--out", "r", "--set", "save=[\"model\"]"]).output().unwrap();
    assert!(stdout(&out).contains("0 jobs run, 4 skipped"), "{}", stdout(&out));
}

#[test]
fn an_unsaved_file_still_counts_when_its_hash_line_is_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    sweep(cwd).args(["m.toml", "--out", "r"]).assert().success();
    // Deleting model.json and its line in [files] (which params.toml's own
    // hash does not cover) is damage, not a job that did not save it.
    let job = cwd.join("r/jobs/lr-0.1_seed-0");
    fs::remove_file(job.join("model.json")).unwrap();
    let params = fs::read_to_string(job.join("params.toml")).unwrap();
    let kept: Vec<&str> = params.lines().filter(|l| !l.starts_with("\"model.json\"")).collect();
    fs::write(job.join("params.toml"), kept.join("\n") + "\n").unwrap();
    let out = sweep(cwd).args(["verify", "r"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("CHANGED params.toml in jobs/lr-0.1_seed-0"), "{}", stdout(&out));
}

#[test]
fn save_is_refused_when_swept_or_naming_an_unknown_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "swept.toml", "[grid]\nsave = [[\"model\"], []]\n");
    write(cwd, "bad.toml", "[base]\nsave = [\"curve\"]\n");
    for (m, says) in [("swept.toml", "set it in [base]"), ("bad.toml", "\"predictions\", \"model\"")] {
        for command in [&["run", m][..], &["plan", m]] {
            let out = sweep(cwd).args(command).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{command:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(says), "{command:?}: {}", stderr(&out));
        }
    }
    assert!(!cwd.join("results").exists());
}

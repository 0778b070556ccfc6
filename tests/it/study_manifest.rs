//! A results folder's manifest.toml is its study (SPEC 6): an edited,
//! missing or unreadable one never makes results quietly shrink. Each test
//! runs the real binary on a temporary folder.

use std::fs;
use std::path::Path;

use crate::common::{stderr, sweep, tree, write};

const STUDY: &str = "name = \"ed\"\nseeds = 5\n[base]\nepochs = 300\nlog_every = 50\ndataset = \"xor\"\n[grid]\nlr = [0.5, 0.1]\n";

/// `m.toml` run into `cwd/R`.
fn run_study(cwd: &Path) {
    write(cwd, "m.toml", STUDY);
    sweep(cwd).args(["m.toml", "--out", "R", "-q"]).assert().success();
}

fn edit_seeds(cwd: &Path) {
    let path = cwd.join("R/manifest.toml");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("seeds = 5"), "{text}");
    fs::write(&path, text.replace("seeds = 5", "seeds = 3")).unwrap();
}

/// Every reader, then `prune --delete`: the argument lists, run in `cwd`.
const READERS: [&[&str]; 7] = [
    &["summarize", "R"],
    &["report", "R"],
    &["export", "R"],
    &["verify", "R"],
    &["diff", "R", "R"],
    &["prune", "R"],
    &["prune", "R", "--delete"],
];

/// The newcomer's repro: `seeds = 5` -> `seeds = 3` in R/manifest.toml made
/// report show fewer jobs, summarize drop the valid ones, verify pass and
/// prune offer them for deletion. Now every reader refuses (exit 2) naming
/// `CHANGED manifest.toml`, and nothing in the folder changes.
#[test]
fn an_edited_manifest_toml_is_refused_by_every_reader() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    run_study(cwd);
    edit_seeds(cwd);
    let before = tree(&cwd.join("R"));
    for args in READERS {
        let out = sweep(cwd).args(args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("CHANGED manifest.toml"), "{args:?}: {err}");
        assert!(err.contains("R/manifest.toml"), "{args:?}: {err}");
    }
    assert!(tree(&cwd.join("R")) == before, "a reader changed the folder");
    assert_eq!(fs::read_dir(cwd.join("R/jobs")).unwrap().count(), 10);
}

/// `echo garbage > R/manifest.toml` was silently ignored (summarize and
/// report read every job instead); a deleted one too. Now both are errors
/// naming the file, exit 2, with or without the recorded hash.
#[test]
fn an_unreadable_or_missing_manifest_toml_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    run_study(cwd);
    fs::write(cwd.join("R/manifest.toml"), "garbage\n").unwrap();
    for recorded in [true, false] {
        if !recorded {
            // An older sweep's folder, which records no hash of it.
            fs::remove_file(cwd.join("R/.sweep/manifest.sha256")).unwrap();
        }
        for args in READERS {
            let out = sweep(cwd).args(args).output().unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?} (hash recorded: {recorded}): {err}");
            assert!(err.contains("R/manifest.toml"), "{args:?}: {err}");
        }
    }

    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    run_study(cwd);
    fs::remove_file(cwd.join("R/manifest.toml")).unwrap();
    for args in READERS {
        let out = sweep(cwd).args(args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("MISSING manifest.toml"), "{args:?}: {err}");
    }
}

/// In a folder of an older sweep (no recorded hash) an edit cannot be told
/// from a narrower run: readers say how many finished jobs they leave out
/// and why, verify fails, and prune lists them but will not delete them.
#[test]
fn jobs_outside_an_unrecorded_manifest_are_named_and_never_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    run_study(cwd);
    fs::remove_file(cwd.join("R/.sweep/manifest.sha256")).unwrap();
    edit_seeds(cwd);
    for args in [&["summarize", "R"][..], &["report", "R"], &["export", "R"]] {
        let out = sweep(cwd).args(args).output().unwrap();
        let err = stderr(&out);
        assert!(out.status.success(), "{args:?}: {err}");
        assert!(err.contains("4 finished jobs") && err.contains("outside the plan"), "{args:?}: {err}");
        assert!(err.contains("if manifest.toml was edited, restore it"), "{args:?}: {err}");
    }
    let out = sweep(cwd).args(["verify", "R"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("4 finished jobs"), "{}", stderr(&out));
    let out = sweep(cwd).args(["prune", "R", "--delete"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("nothing was removed"), "{}", stderr(&out));
    assert_eq!(fs::read_dir(cwd.join("R/jobs")).unwrap().count(), 10);
}

/// A run with a narrower plan (`--set seeds=3`) records its manifest: the
/// jobs it no longer plans are a note for readers, verify passes, and
/// prune may remove them.
#[test]
fn a_narrower_run_records_its_manifest_and_prune_may_remove_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    run_study(cwd);
    sweep(cwd).args(["m.toml", "--out", "R", "-q", "--set", "seeds=3"]).assert().success();
    let out = sweep(cwd).args(["verify", "R"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("note: R: 4 finished jobs"), "{}", stderr(&out));
    sweep(cwd).args(["prune", "R", "--delete"]).assert().success();
    assert_eq!(fs::read_dir(cwd.join("R/jobs")).unwrap().count(), 6);
}

/// The second trial: the refusal of an edited manifest.toml advised
/// `sweep run R/manifest.toml --out R`, which `run` refuses (it never
/// writes over an edited file): a loop. The advice given now works as
/// written: the edit made in one's own manifest, the edited file moved out,
/// that manifest run into the folder; then the readers read the new study.
#[test]
fn the_advice_for_an_edited_manifest_toml_works_when_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    run_study(cwd);
    edit_seeds(cwd);
    let out = sweep(cwd).args(["report", "R"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("sweep run R/manifest.toml"), "advice that run refuses: {err}");
    assert!(err.contains("move R/manifest.toml out of the folder") && err.contains("--out R"), "{err}");
    // As advised.
    write(cwd, "m.toml", &STUDY.replace("seeds = 5", "seeds = 3"));
    fs::rename(cwd.join("R/manifest.toml"), cwd.join("edited.toml")).unwrap();
    let out = sweep(cwd).args(["run", "m.toml", "--out", "R", "-q"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = sweep(cwd).args(["report", "R"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

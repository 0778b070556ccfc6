//! A run never replaces results it should not (SPEC 6, "Ownership"): a
//! finished job of another configuration hash is refused like another
//! study, whatever made the hash change; a job folder holding anything
//! sweep did not write there is never replaced or deleted.

use std::fs;
use std::path::Path;

use crate::common::{snapshot, stderr, stdout, sweep, write};

const IRIS: &str = "seeds = 2\n[base]\ndataset = \"../iris_copy.csv\"\nlabel_column = \"species\"\n\
                    output_activation = \"softmax\"\nloss = \"ce\"\nepochs = 30\n[grid]\nlr = [0.1, 0.01]\n";

/// Repro: editing one cell of the CSV a study trained on, then running the
/// same command again, replaced every finished job ("4 jobs run, 0
/// skipped", exit 0). Now it is refused as another study is, naming the
/// file, and nothing changes; --force retrains.
#[test]
fn a_changed_data_file_is_refused_like_another_study() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let iris = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/iris.csv")).unwrap();
    write(cwd, "iris_copy.csv", &iris);
    write(cwd, "exp/m.toml", IRIS);
    sweep(cwd).args(["exp/m.toml", "--out", "R"]).assert().success();
    let before = snapshot(&cwd.join("R/jobs"));
    write(cwd, "iris_copy.csv", &iris.replacen("5.1,3.5", "5.2,3.5", 1));
    let out = sweep(cwd).args(["exp/m.toml", "--out", "R"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("another study")
            && err.contains("../iris_copy.csv (dataset) changed since the jobs ran")
            && err.contains("4 finished jobs")
            && err.contains("--force")
            && err.contains("--out"),
        "{err}"
    );
    assert_eq!(snapshot(&cwd.join("R/jobs")), before, "nothing replaced");
    let out = sweep(cwd).args(["exp/m.toml", "--out", "R", "--force"]).output().unwrap();
    assert!(out.status.success() && stdout(&out).contains("4 jobs run"), "{}", stderr(&out));
}

/// The same for a weights file given as `init`: an edited weight is another
/// configuration, refused and named.
#[test]
fn a_changed_weights_file_is_refused_like_another_study() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "first.toml", "seeds = 1\n[base]\nepochs = 5\n");
    sweep(cwd).args(["first.toml", "--out", "first"]).assert().success();
    let weights = fs::read_to_string(cwd.join("first/jobs/seed-0/model.json")).unwrap();
    write(cwd, "w.json", &weights);
    write(cwd, "m.toml", "seeds = 2\n[base]\ninit = \"w.json\"\nepochs = 20\n");
    sweep(cwd).args(["m.toml", "--out", "R"]).assert().success();
    let before = snapshot(&cwd.join("R/jobs"));
    // One weight changed: the first number of the first row.
    let at = weights.find("\"w\": [").unwrap();
    let at = at + weights[at..].find("[-").or_else(|| weights[at..].find("[0")).unwrap() + 1;
    let end = at + weights[at..].find(',').unwrap();
    let edited = format!("{}0.125{}", &weights[..at], &weights[end..]);
    assert_ne!(edited, weights);
    write(cwd, "w.json", &edited);
    let out = sweep(cwd).args(["m.toml", "--out", "R"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("w.json (init) changed since the jobs ran") && err.contains("2 finished jobs"),
        "{err}"
    );
    assert_eq!(snapshot(&cwd.join("R/jobs")), before, "nothing replaced");
}

const SMALL: &str = "seeds = 2\n[base]\nepochs = 20\n[grid]\nlr = [0.1, 0.5]\n";

/// Repro: a note beside a damaged job's files was deleted with the folder
/// when the job was retrained (and by --force, a layout switch, and `prune
/// --delete`). Now every job folder to be replaced or removed is checked
/// before anything starts; one holding anything sweep did not write there
/// (a file, a folder, a link, or the folder itself a link) is refused
/// (exit 2) with its entries named, and nothing changes.
#[test]
fn a_job_folder_holding_files_sweep_did_not_write_is_never_replaced_or_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    write(cwd, "elsewhere/mine.txt", "the user's\n");
    sweep(cwd).args(["m.toml", "--out", "R"]).assert().success();
    let job = cwd.join("R/jobs/lr-0.1_seed-0");
    write(&job, "NOTES.txt", "notes\n");
    let mut curve = fs::read_to_string(job.join("curve.csv")).unwrap();
    curve.push_str("x\n");
    fs::write(job.join("curve.csv"), curve).unwrap();
    fs::create_dir(job.join("sub")).unwrap();
    std::os::unix::fs::symlink(cwd.join("elsewhere"), job.join("link")).unwrap();
    let before = snapshot(&cwd.join("R/jobs"));
    for args in [
        &["m.toml", "--out", "R"][..],
        &["m.toml", "--out", "R", "--force"],
        &["m.toml", "--out", "R", "--set", "layout=packed"],
        &["m.toml", "--out", "R", "--set", "layout=packed", "--force"],
    ] {
        let out = sweep(cwd).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("jobs/lr-0.1_seed-0: NOTES.txt, link (a symbolic link), sub (a folder)")
                && err.contains("move them out")
                && err.contains("nothing was changed"),
            "{args:?}: {err}"
        );
        assert_eq!(snapshot(&cwd.join("R/jobs")), before, "{args:?}");
        assert!(!cwd.join("R/packs").exists(), "{args:?}: nothing trained");
    }
    // Moved out, the damaged job is retrained as documented.
    for name in ["NOTES.txt", "sub", "link"] {
        fs::rename(job.join(name), cwd.join(name)).unwrap();
    }
    let out = sweep(cwd).args(["m.toml", "--out", "R"]).output().unwrap();
    assert!(out.status.success() && stdout(&out).contains("1 job run"), "{}", stderr(&out));
    assert!(stderr(&out).contains("CHANGED curve.csv"), "{}", stderr(&out));

    // A job folder that is itself a link to the user's folder.
    fs::rename(&job, cwd.join("moved")).unwrap();
    std::os::unix::fs::symlink(cwd.join("elsewhere"), &job).unwrap();
    let out = sweep(cwd).args(["m.toml", "--out", "R"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("the job folder itself (a symbolic link)"), "{}", stderr(&out));
    assert!(fs::symlink_metadata(&job).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(cwd.join("elsewhere/mine.txt")).unwrap(), "the user's\n");
}

/// `sweep prune --delete` checks every folder it would remove first: one
/// holding a file sweep did not write refuses the whole prune (exit 2),
/// and no folder is removed.
#[test]
fn prune_delete_refuses_before_removing_anything_when_a_folder_holds_a_user_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    sweep(cwd).args(["m.toml", "--out", "R"]).assert().success();
    sweep(cwd).args(["m.toml", "--out", "R", "--set", "grid.lr=[0.1]"]).assert().success();
    write(cwd, "R/jobs/lr-0.5_seed-1/NOTES.txt", "notes\n");
    let before = snapshot(&cwd.join("R/jobs"));
    let out = sweep(cwd).args(["prune", "R", "--delete"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("jobs/lr-0.5_seed-1: NOTES.txt") && err.contains("move them out"), "{err}");
    assert_eq!(snapshot(&cwd.join("R/jobs")), before, "nothing removed");
    fs::remove_file(cwd.join("R/jobs/lr-0.5_seed-1/NOTES.txt")).unwrap();
    let out = sweep(cwd).args(["prune", "R", "--delete"]).output().unwrap();
    assert!(stdout(&out).contains("removed 2 job folders"), "{}", stdout(&out));
}

/// A pack file replaced by a link to a user's file is never opened, cut or
/// written through (the pack's data file was cut back to its indexed end
/// and appended to: the user's file was overwritten).
#[test]
fn a_link_in_place_of_a_pack_file_is_never_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", &SMALL.replace("[base]\n", "[base]\nlayout = \"packed\"\n"));
    write(cwd, "precious.txt", "the user's\n");
    sweep(cwd).args(["m.toml", "--out", "R"]).assert().success();
    let data = fs::read_dir(cwd.join("R/packs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".data"))
        .unwrap();
    fs::remove_file(&data).unwrap();
    std::os::unix::fs::symlink(cwd.join("precious.txt"), &data).unwrap();
    let out = sweep(cwd).args(["m.toml", "--out", "R", "--force"]).output().unwrap();
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stderr(&out).contains("never writes, cuts or deletes through a link"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(cwd.join("precious.txt")).unwrap(), "the user's\n");
    assert!(fs::symlink_metadata(&data).unwrap().file_type().is_symlink());
}

/// The temporary place is cleaned of what dead processes of sweep left,
/// by sweep's own names only: a file there of another shape, whose middle
/// part reads like a process id (`notes.999999999.txt`), stays.
#[test]
fn cleaning_the_temporary_place_takes_only_sweeps_own_names() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    sweep(cwd).args(["m.toml", "--out", "R"]).assert().success();
    write(cwd, "R/.sweep/tmp/notes.999999999.txt", "the user's\n");
    write(cwd, "R/.sweep/tmp/summary.csv.999999999.7", "a dead run's\n");
    sweep(cwd).args(["m.toml", "--out", "R"]).assert().success();
    assert!(cwd.join("R/.sweep/tmp/notes.999999999.txt").exists());
    assert!(!cwd.join("R/.sweep/tmp/summary.csv.999999999.7").exists(), "a dead run's file is cleaned up");
}

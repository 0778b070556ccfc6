//! `report --out FILE` and `export --out FILE` (SPEC 6, Ownership): never
//! into a results folder's own files, never over an existing file without
//! `--force`, never a folder. Each runs the real binary on a temporary folder.

use std::fs;

use crate::common::{stderr, sweep, tree, write};

const STUDY: &str = "name = \"ed\"\nseeds = 2\n[base]\nepochs = 300\nlog_every = 50\ndataset = \"xor\"\n[grid]\nlr = [0.5, 0.1]\n";

/// The newcomer's repro: `report R --out R/jobs/<id>/params.toml` exited 0
/// and damaged the job; `--out R/summary.csv` and `--out R/manifest.toml`
/// were accepted. Every path among a results folder's own files is now
/// refused with exit 2 and the folder is unchanged, for both commands,
/// also when the folder written into is another results folder.
#[test]
fn an_out_file_among_a_results_folders_own_files_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", STUDY);
    sweep(cwd).args(["m.toml", "--out", "R", "-q"]).assert().success();
    sweep(cwd).args(["m.toml", "--out", "R2", "-q"]).assert().success();
    sweep(cwd).args(["report", "R"]).assert().success();
    let before = (tree(&cwd.join("R")), tree(&cwd.join("R2")));
    let own = [
        "R/jobs/lr-0.5_seed-0/params.toml",
        "R/jobs/lr-0.5_seed-0/notes.md",
        "R/jobs/new.csv",
        "R/summary.csv",
        "R/manifest.toml",
        "R/timing.csv",
        "R/report.html",
        "R/figures/seeds.svg",
        "R/.sweep/x.csv",
        "R/./jobs/../summary.csv",
        "R2/report.md",
        "R2/summary.csv",
    ];
    for command in ["report", "export"] {
        for out in own {
            for force in [false, true] {
                let mut args = vec![command, "R", "--out", out];
                if force {
                    args.push("--force");
                }
                let res = sweep(cwd).args(&args).output().unwrap();
                let err = stderr(&res);
                assert_eq!(res.status.code(), Some(2), "{args:?}: {err}");
                assert!(err.contains(out) && err.contains("nothing was written"), "{args:?}: {err}");
            }
        }
    }
    assert!((tree(&cwd.join("R")), tree(&cwd.join("R2"))) == before, "a results folder changed");
}

/// `export R --out m.toml` replaced the user's manifest with CSV; `report
/// --out` replaced any file. An existing file is now refused (exit 2,
/// saying how to proceed) unless `--force`; a new path is written.
#[test]
fn an_existing_out_file_is_replaced_only_with_force() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", STUDY);
    sweep(cwd).args(["m.toml", "--out", "R", "-q"]).assert().success();
    for command in ["report", "export"] {
        let res = sweep(cwd).args([command, "R", "--out", "m.toml"]).output().unwrap();
        let err = stderr(&res);
        assert_eq!(res.status.code(), Some(2), "{command}: {err}");
        assert!(err.contains("already exists") && err.contains("--force"), "{command}: {err}");
        assert_eq!(fs::read_to_string(cwd.join("m.toml")).unwrap(), STUDY, "{command}");
    }
    sweep(cwd).args(["export", "R", "--out", "e.csv"]).assert().success();
    assert_eq!(sweep(cwd).args(["export", "R", "--out", "e.csv"]).output().unwrap().status.code(), Some(2));
    sweep(cwd).args(["export", "R", "--out", "e.csv", "--force"]).assert().success();
    sweep(cwd).args(["report", "R", "--out", "docs/r.md"]).assert().success();
    sweep(cwd).args(["report", "R", "--out", "docs/r.md", "--force"]).assert().success();
    // The defaults are sweep's own and rewritten as before, also when named.
    sweep(cwd).args(["report", "R"]).assert().success();
    sweep(cwd).args(["report", "R"]).assert().success();
    sweep(cwd).args(["report", "R", "--out", "R/report.md"]).assert().success();
    sweep(cwd).args(["report", "R", "--out", "./R/report.md"]).assert().success();
}

/// `report R --out R` failed with "Is a directory (os error 21)" and exit
/// 1. A folder given for a file is now a clear refusal, exit 2.
#[test]
fn a_folder_given_for_an_out_file_is_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", STUDY);
    sweep(cwd).args(["m.toml", "--out", "R", "-q"]).assert().success();
    fs::create_dir(cwd.join("docs")).unwrap();
    for command in ["report", "export"] {
        for out in ["R", "docs", "docs/", "new/"] {
            let res = sweep(cwd).args([command, "R", "--out", out]).output().unwrap();
            let err = stderr(&res);
            assert_eq!(res.status.code(), Some(2), "{command} --out {out}: {err}");
            assert!(err.contains("is a folder") && !err.contains("os error"), "{command} --out {out}: {err}");
        }
    }
}

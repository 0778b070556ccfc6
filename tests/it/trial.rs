//! What the second newcomer's trial found, each through the real binary:
//! diff's verdict on the data of a moved folder or a gone data file, one
//! CAUSE line for the jobs one changed data file explains, an edited pack
//! index named as the culprit, export to standard output refusing a
//! damaged folder before its first byte, an edited manifest.toml never
//! overwritten by a run, and the size gate counting the shard's jobs.

use std::fs;

use crate::common::{stderr, stdout, sweep, tree, write};

/// A small two-class CSV data set; `shift` moves one point (other data).
fn csv_data(shift: f64) -> String {
    let mut text = String::from("x0,x1,label\n");
    for i in 0..30 {
        let (x0, x1) = (f64::from(i % 6) / 6.0 + if i == 7 { shift } else { 0.0 }, f64::from(i / 6) / 5.0);
        text.push_str(&format!("{x0},{x1},{}\n", u8::from(x0 > x1)));
    }
    text
}

/// `exp/m.toml`, reading `data/x.csv` (relative to the manifest: `../data/x.csv`).
const CSV_STUDY: &str = "seeds = 3\n[base]\ndataset = \"../data/x.csv\"\nepochs = 100\nlog_every = 50\n\
                         [grid]\nlr = [0.5, 0.05]\n";

/// A changed data file made verify print four lines per job (DIFFERS x3
/// and CAUSE): 40,000 lines for 10,000 jobs. Now one CAUSE line names the
/// file, the number of jobs it explains and a few of them.
#[test]
fn verify_says_a_changed_data_file_once_for_every_job_it_explains() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "data/x.csv", &csv_data(0.0));
    write(cwd, "exp/m.toml", &CSV_STUDY.replace("seeds = 3", "seeds = 4"));
    sweep(cwd).args(["exp/m.toml", "--out", "R", "-q"]).assert().success();
    write(cwd, "data/x.csv", &csv_data(0.05));
    let out = sweep(cwd).args(["verify", "R"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let causes: Vec<&str> = text.lines().filter(|l| l.starts_with("CAUSE")).collect();
    assert_eq!(causes.len(), 1, "{text}");
    assert!(causes[0].contains("data/x.csv changed since the jobs ran: 8 jobs differ"), "{text}");
    assert!(causes[0].contains("curve.csv") && causes[0].contains("e.g. jobs/lr-0.5_seed-0"), "{text}");
    assert!(causes[0].contains("and 5 more"), "{text}");
    assert!(!text.contains("DIFFERS"), "{text}");
    assert!(text.contains("verified 8 jobs: 0 identical, 8 differ"), "{text}");
}

const SMALL: &str = "seeds = 3\n[base]\nepochs = 60\nlog_every = 7\nlayout = \"packed\"\n\
                     [grid]\ndataset = [\"linear\", \"xor\"]\nlr = [1.0, 0.1]\n";

/// An edited length in a pack's index was blamed on the job's files
/// (CHANGED predictions.csv, model.json or params.toml: whole files read
/// at the wrong places): now the index file and its line are named.
#[test]
fn an_edited_pack_index_row_is_blamed_on_the_index_not_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    sweep(cwd).args(["m.toml", "--out", "R", "-q"]).assert().success();
    let index = cwd.join("R/packs/0-1.0.index.csv");
    let clean = fs::read_to_string(&index).unwrap();
    // (line to edit, 1-based; what the message says)
    for (line, why) in [(3, "where the next row starts"), (13, "but the data file holds")] {
        let mut lines: Vec<String> = clean.lines().map(String::from).collect();
        let mut cells: Vec<String> = lines[line - 1].split(',').map(String::from).collect();
        let id = cells[0].clone();
        // predictions.csv's length, one byte longer.
        cells[4] = (cells[4].parse::<u64>().unwrap() + 1).to_string();
        lines[line - 1] = cells.join(",");
        fs::write(&index, lines.join("\n") + "\n").unwrap();
        let out = sweep(cwd).args(["verify", "R"]).output().unwrap();
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        let named = format!("CHANGED packs/0-1.0.index.csv line {line}: ");
        assert!(text.contains(&named) && text.contains(why), "{text}");
        assert!(text.contains(&format!("in packs/0-1.0.data[{id}]")), "{text}");
        for file in ["curve.csv", "predictions.csv", "model.json", "params.toml"] {
            assert!(!text.contains(&format!("CHANGED {file}")), "{text}");
        }
        let out = sweep(cwd).args(["export", "R"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(&named), "{}", stderr(&out));
        fs::write(&index, &clean).unwrap();
    }
    sweep(cwd).args(["verify", "R"]).assert().success();
}

/// `export` to standard output streamed the rows of the jobs before a
/// damaged one, then failed: a partial table in `> file.csv`. Now the
/// folder is checked first, and nothing is written.
#[test]
fn export_to_standard_output_refuses_a_damaged_folder_before_its_first_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "seeds = 3\n[base]\nepochs = 20\nlog_every = 5\n[grid]\nlr = [1.0, 0.1]\n");
    sweep(cwd).args(["m.toml", "--out", "R", "-q"]).assert().success();
    // The last job of the plan: every other row would come first.
    let curve = cwd.join("R/jobs/lr-0.1_seed-2/curve.csv");
    let text = fs::read_to_string(&curve).unwrap();
    fs::write(&curve, text.replace("epoch,", "epoch ,")).unwrap();
    for format in ["csv", "json"] {
        let out = sweep(cwd).args(["export", "R", "--format", format]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("CHANGED curve.csv"), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "{format}: {}", stdout(&out));
    }
}

/// `run --force` of another study into a folder whose manifest.toml the
/// user edited wrote its own manifest over the edit. A manifest.toml that
/// no longer matches the recorded hash is the user's: refused (exit 2),
/// with or without --force, and nothing in the folder changes.
#[test]
fn a_run_never_writes_over_a_manifest_toml_the_user_edited() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "seeds = 2\n[base]\nepochs = 20\n");
    write(cwd, "other.toml", "seeds = 2\n[base]\nepochs = 30\n");
    sweep(cwd).args(["m.toml", "--out", "R", "-q"]).assert().success();
    let manifest = cwd.join("R/manifest.toml");
    let edited = fs::read_to_string(&manifest).unwrap() + "# my note on this study\n";
    fs::write(&manifest, &edited).unwrap();
    let before = tree(&cwd.join("R"));
    for args in [&["other.toml", "--force"][..], &["other.toml"], &["m.toml", "--force"], &["m.toml"]] {
        let out = sweep(cwd).args(args).args(["--out", "R", "-q"]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("CHANGED manifest.toml") && err.contains("R/manifest.toml"), "{args:?}: {err}");
        assert!(err.contains("never overwrites"), "{args:?}: {err}");
        assert_eq!(fs::read_to_string(&manifest).unwrap(), edited, "{args:?}");
        assert!(tree(&cwd.join("R")) == before, "{args:?}: the folder changed");
    }
    // Moved out of the way, the run goes ahead.
    fs::rename(&manifest, cwd.join("my-manifest.toml")).unwrap();
    sweep(cwd).args(["other.toml", "--force", "--out", "R", "-q"]).assert().success();
}

/// `--shard 7/50000` of a 200,000-job plan asked for --yes for its 4 jobs:
/// the gate counted the whole plan. It counts the shard's jobs (a shard of
/// over 100,000 jobs still needs --yes).
#[test]
fn the_size_gate_counts_the_jobs_of_the_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "seeds = 200004\n[base]\nepochs = 1\nn_samples = 10\n");
    let out = sweep(cwd).args(["m.toml", "--out", "R", "-q", "--shard", "7/50000"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("4 jobs run"), "{}", stdout(&out));
    let out = sweep(cwd).args(["m.toml", "--out", "R", "-q", "--shard", "0/2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("the shard 0/2 of the plan has 100002 jobs"), "{}", stderr(&out));
}

//! What the second newcomer's trial found, each through the real binary:
//! diff's verdict on the data of a moved folder or a gone data file, one
//! CAUSE line for the jobs one changed data file explains, an edited pack
//! index named as the culprit, export to standard output refusing a
//! damaged folder before its first byte, an edited manifest.toml never
//! overwritten by a run, and the size gate counting the shard's jobs.

use std::fs;
use std::path::Path;

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

/// Copies the folder `from` to `to` (files and folders).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &target);
        } else {
            fs::copy(&p, &target).unwrap();
        }
    }
}

/// Every job folder's params.toml under `dir/jobs`.
fn params_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> =
        fs::read_dir(dir.join("jobs")).unwrap().map(|e| e.unwrap().path().join("params.toml")).collect();
    out.sort();
    out
}

/// Makes `dir` a folder of an older sweep, whose jobs record no SHA-256 of
/// their data: `[inputs]` taken out of each params.toml, whose own hash is
/// written again (as that sweep wrote it).
fn forget_input_hashes(dir: &Path) {
    for path in params_files(dir) {
        let text = fs::read_to_string(&path).unwrap();
        let start = text.find("\n[inputs]\n").expect("the job records its data's hash");
        let end = start + text[start + 1..].find("\n[").unwrap() + 1;
        let text = format!("{}{}", &text[..start], &text[end..]);
        let at = text.find("\n[files]\n").unwrap();
        let own = sweep::store::sha256_hex(&text.as_bytes()[..at]);
        let line = text.lines().find(|l| l.starts_with("\"params.toml\" = ")).unwrap().to_string();
        fs::write(&path, text.replace(&line, &format!("\"params.toml\" = \"{own}\""))).unwrap();
    }
}

/// `sweep diff a b --format F` in `cwd`: (exit code, stdout).
fn diff(cwd: &Path, a: &str, b: &str, format: &str) -> (Option<i32>, String) {
    let out = sweep(cwd).args(["diff", a, b, "--format", format]).output().unwrap();
    assert!(out.status.code() != Some(2), "{}", stderr(&out));
    (out.status.code(), stdout(&out))
}

/// The trial's repro: a results folder moved with its data (the relative
/// path then resolves to nothing), or whose data file is gone, made diff
/// warn "the data (dataset) differ" while every row read identical: the
/// data's SHA-256 was not recorded. Each job now records it (`[inputs]` in
/// params.toml), and diff says "same data (by contents)"; a folder of an
/// older sweep (no record) with its data gone is "can't tell", never
/// "different data".
#[test]
fn diff_knows_the_data_of_a_moved_folder_by_the_sha256_its_jobs_record() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let data = csv_data(0.0);
    write(cwd, "data/x.csv", &data);
    write(cwd, "exp/m.toml", CSV_STUDY);
    sweep(cwd).args(["exp/m.toml", "--out", "R", "-q"]).assert().success();
    let params = fs::read_to_string(&params_files(&cwd.join("R"))[0]).unwrap();
    let recorded = format!(
        "[inputs]\n# SHA-256 of the contents of each file the job read, by the parameter naming it\ndataset = \"{}\"\n",
        sweep::store::sha256_hex(data.as_bytes())
    );
    assert!(params.contains(&recorded), "{params}");

    // Moved: its relative path to the data no longer resolves; or copied
    // with the manifest's folder and the data, where it resolves to a copy.
    copy_tree(&cwd.join("R"), &cwd.join("moved/deeper/R"));
    copy_tree(&cwd.join("data"), &cwd.join("moved/deeper/data"));
    for part in ["R", "exp", "data"] {
        copy_tree(&cwd.join(part), &cwd.join("copy").join(part));
    }
    for b in ["moved/deeper/R", "copy/R"] {
        let (code, text) = diff(cwd, "R", b, "text");
        assert_eq!(code, Some(0), "{text}");
        assert!(!text.contains("warning"), "{text}");
        assert!(text.contains("data: same data (by contents"), "{text}");
        let (_, csv) = diff(cwd, "R", b, "csv");
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(csv.lines().skip(1).all(|l| l.contains(",identical,")), "{csv}");
    }
    // The data file gone: what the jobs read is still known.
    fs::remove_file(cwd.join("data/x.csv")).unwrap();
    let (_, text) = diff(cwd, "R", "moved/deeper/R", "text");
    assert!(!text.contains("warning") && text.contains("data: same data (by contents"), "{text}");

    // An older sweep's folder records no hash: with its data gone, diff
    // says it cannot tell, matches by the path as written and pairs nothing.
    copy_tree(&cwd.join("R"), &cwd.join("old"));
    forget_input_hashes(&cwd.join("old"));
    let (_, text) = diff(cwd, "R", "old", "text");
    assert!(
        text.contains(
            "data: B's dataset ../data/x.csv: data file not found: can't tell whether it is the same"
        ),
        "{text}"
    );
    assert!(text.contains("B's dataset ../data/x.csv: data file not found"), "{text}");
    assert!(text.contains("record no SHA-256"), "{text}");
    assert!(!text.contains("differ between the folders") && !text.contains("different data"), "{text}");
    let (_, csv) = diff(cwd, "R", "old", "csv");
    assert_eq!(csv.lines().count(), 3, "both configurations matched: {csv}");
    // Its data back in place (unchanged): known by its contents again.
    write(cwd, "data/x.csv", &data);
    let (_, text) = diff(cwd, "R", "old", "text");
    assert!(!text.contains("warning") && text.contains("data: same data (by contents"), "{text}");

    // Other contents: different data.
    write(cwd, "data/x.csv", &csv_data(0.05));
    sweep(cwd).args(["exp/m.toml", "--out", "S", "-q"]).assert().success();
    let (_, text) = diff(cwd, "R", "S", "text");
    assert!(text.contains("data: different data (dataset ../data/x.csv: other contents in B)"), "{text}");
    assert!(text.contains("warning: the data (dataset) differ"), "{text}");
}

/// The second trial: with `dataset` on an axis, a file whose contents
/// changed between two folders (or a data set only one folder reads) left
/// the header saying "same data": the verdict looked only at parameters
/// constant in each folder. It now compares what each side reads.
#[test]
fn diff_says_different_data_when_a_data_set_on_an_axis_differs() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "data/a.csv", &csv_data(0.0));
    write(cwd, "data/b.csv", &csv_data(0.02));
    let axis = "seeds = 2\n[base]\nepochs = 20\n[grid]\ndataset = [\"../data/a.csv\", \"../data/b.csv\"]\n";
    write(cwd, "exp/m.toml", axis);
    sweep(cwd).args(["exp/m.toml", "--out", "R1", "-q"]).assert().success();
    sweep(cwd).args(["exp/m.toml", "--out", "R2", "-q"]).assert().success();
    let (_, text) = diff(cwd, "R1", "R2", "text");
    assert!(text.contains("data: same data (by contents"), "{text}");
    write(cwd, "data/b.csv", &csv_data(0.05));
    sweep(cwd).args(["exp/m.toml", "--out", "R3", "-q"]).assert().success();
    let (_, text) = diff(cwd, "R1", "R3", "text");
    assert!(text.contains("data: different data (dataset ../data/b.csv: other contents in B)"), "{text}");
    // Generated data sets on one side, a CSV file on the other.
    write(cwd, "exp/g.toml", "seeds = 2\n[base]\nepochs = 20\n[grid]\ndataset = [\"xor\", \"linear\"]\n");
    sweep(cwd).args(["exp/g.toml", "--out", "G", "-q"]).assert().success();
    let (_, text) = diff(cwd, "R1", "G", "text");
    assert!(!text.contains("same data"), "{text}");
    assert!(text.contains("data: different data (") && text.contains("xor: only in B"), "{text}");
}

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

/// The second trial: a data file replaced by a folder was "FAILED
/// retraining ... Is a directory" and counted as differing (it is "not
/// checked": the job cannot be retrained here); a data file changed so that
/// it no longer loads gave one FAILED line a job, not the one CAUSE line a
/// changed file gets.
#[test]
fn verify_says_an_unloadable_data_file_once_and_a_folder_in_its_place_is_not_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "data/x.csv", &csv_data(0.0));
    write(cwd, "exp/m.toml", CSV_STUDY);
    sweep(cwd).args(["exp/m.toml", "--out", "R", "-q"]).assert().success();

    write(cwd, "data/x.csv", "x\n1\n");
    let out = sweep(cwd).args(["verify", "R"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let causes: Vec<&str> = text.lines().filter(|l| l.starts_with("CAUSE")).collect();
    assert_eq!(causes.len(), 1, "{text}");
    assert!(
        causes[0].contains("data/x.csv changed since the jobs ran: 6 jobs cannot be retrained ("),
        "{text}"
    );
    assert!(!text.contains("FAILED"), "{text}");

    fs::remove_file(cwd.join("data/x.csv")).unwrap();
    fs::create_dir(cwd.join("data/x.csv")).unwrap();
    let out = sweep(cwd).args(["verify", "R"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("verified 6 jobs: 0 identical, 0 differ, 6 not checked"), "{text}");
    assert!(text.contains("(not a file)"), "{text}");
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

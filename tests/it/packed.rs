//! `layout = "packed"`: a chunk's jobs appended to one data file and its
//! index in packs/. The same summary.csv, export, report and diff as the
//! folder layout; packs byte-identical across threads and resume; a torn
//! tail repaired, a damaged job retrained; every reader works on packs.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{assert_same_tree, stderr, stdout, sweep, tree, write};

const SMALL: &str = r#"
seeds = 3
[base]
epochs = 60
log_every = 7
[grid]
dataset = ["linear", "xor"]
lr = [1.0, 0.1]
"#;

/// 600 jobs: packs of 16 jobs (the fewest a pack holds), so a pack is
/// appended to.
const MANY: &str = "seeds = 300\n[base]\nepochs = 30\nn_samples = 40\n[grid]\nlr = [0.3, 0.1]\n";

fn run(cwd: &Path, manifest: &str, out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", manifest, "--out", out, "--quiet"];
    args.extend_from_slice(extra);
    let o = sweep(cwd).args(&args).output().unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    o
}

fn packed(cwd: &Path, manifest: &str, out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["--set", "layout=\"packed\""];
    args.extend_from_slice(extra);
    run(cwd, manifest, out, &args)
}

/// The files under `dir/packs`, name -> bytes.
fn packs(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    tree(dir).into_iter().filter(|(k, _)| k.starts_with("packs/")).collect()
}

fn index_rows(dir: &Path) -> usize {
    fs::read_dir(dir.join("packs")).map_or(0, |d| {
        d.flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".index.csv"))
            .map(|e| fs::read_to_string(e.path()).unwrap_or_default().lines().count().saturating_sub(1))
            .sum()
    })
}

fn export(cwd: &Path, dir: &str) -> Vec<u8> {
    let o = sweep(cwd).args(["export", dir]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    o.stdout
}

/// A pack holds at least 16 jobs: a small sweep cut into one pack per job
/// (600 jobs: 600 packs, 1,200 files) got nothing from packing.
#[test]
fn a_small_packed_sweep_is_a_few_packs_not_one_per_job() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "many.toml", MANY);
    write(cwd, "small.toml", SMALL);
    packed(cwd, "many.toml", "many", &[]);
    packed(cwd, "small.toml", "small", &[]);
    let data_files = |dir: &str| packs(&cwd.join(dir)).keys().filter(|k| k.ends_with(".data")).count();
    assert_eq!(data_files("many"), 600usize.div_ceil(16));
    assert_eq!(data_files("small"), 1, "12 jobs, one pack");
    assert_eq!(index_rows(&cwd.join("many")), 600);

    // A pack's data file deleted: its jobs' files are missing, named as for
    // a folder (it was a bare "No such file or directory"), and run trains
    // them again.
    fs::remove_file(cwd.join("small/packs/0-1.0.data")).unwrap();
    let o = sweep(cwd).args(["summarize", "small"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("packs/0-1.0.data[dataset-linear_lr-1.0_seed-0]: MISSING params.toml"),
        "{}",
        stdout(&o)
    );
    let o = packed(cwd, "small.toml", "small", &[]);
    assert!(stdout(&o).contains("12 jobs run, 0 skipped"), "{}", stdout(&o));
    sweep(cwd).args(["verify", "small"]).assert().success();
}

#[test]
fn a_packed_run_gives_the_summary_export_report_and_diff_of_a_folder_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    run(cwd, "m.toml", "f", &[]);
    packed(cwd, "m.toml", "p", &[]);
    let p = cwd.join("p");
    assert!(!packs(&p).is_empty(), "the jobs are in packs/");
    assert_eq!(fs::read_dir(p.join("jobs")).unwrap().count(), 0, "no job folder");
    let summary = fs::read(cwd.join("f/summary.csv")).unwrap();
    assert_eq!(fs::read(p.join("summary.csv")).unwrap(), summary);
    assert_eq!(export(cwd, "p"), export(cwd, "f"));
    // Every reader on the packed folder: summarize, report, diff, verify.
    let o = sweep(cwd).args(["summarize", "p"]).output().unwrap();
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(fs::read(p.join("summary.csv")).unwrap(), summary, "summarize rebuilds the same bytes");
    for dir in ["f", "p"] {
        sweep(cwd).args(["report", dir]).assert().success();
    }
    assert_eq!(fs::read(p.join("report.md")).unwrap(), fs::read(cwd.join("f/report.md")).unwrap());
    assert!(p.join("figures/predictions-linear.svg").is_file(), "the prediction figure from the pack");
    let o = sweep(cwd).args(["diff", "f", "p"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("4 identical"), "{}", stdout(&o));
    let o = sweep(cwd).args(["verify", "p"]).output().unwrap();
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("verified 12 jobs: 12 identical, 0 differ"), "{}", stdout(&o));
    // Resume finds the packed jobs (in either layout).
    for layout in ["packed", "folders"] {
        let o = run(cwd, "m.toml", "p", &["--set", &format!("layout=\"{layout}\"")]);
        assert!(stdout(&o).contains("0 jobs run, 12 skipped"), "{}", stdout(&o));
    }
}

#[test]
fn packs_are_identical_across_threads_shards_summaries_and_a_killed_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", MANY);
    packed(cwd, "m.toml", "one", &["--threads", "1"]);
    packed(cwd, "m.toml", "two", &["--threads", "2"]);
    assert_same_tree(&cwd.join("one"), &cwd.join("two"));
    let data = packs(&cwd.join("one")).keys().filter(|k| k.ends_with(".data")).count();
    assert_eq!(data, 38, "packs of 16 jobs (a chunk: a 256th of the shard, at least 16 when packed)");

    // Shards: other packs, the same summary.csv and export.
    for i in 0..3 {
        packed(cwd, "m.toml", "shards", &["--shard", &format!("{i}/3")]);
    }
    assert_eq!(
        fs::read(cwd.join("shards/summary.csv")).unwrap(),
        fs::read(cwd.join("one/summary.csv")).unwrap()
    );
    assert_eq!(export(cwd, "shards"), export(cwd, "one"));

    // Killed mid-run (SIGKILL), then resumed: the same packs.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sweep"))
        .current_dir(cwd)
        .args(["m.toml", "--out", "killed", "--threads", "2", "--quiet", "--set", "layout=\"packed\""])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while index_rows(&cwd.join("killed")) < 20 {
        assert!(Instant::now() < deadline, "no 20 jobs indexed in two minutes: the run hangs");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let finished = index_rows(&cwd.join("killed"));
    assert!(finished < 600, "the run ended before the kill ({finished} done)");
    let o = packed(cwd, "m.toml", "killed", &[]);
    assert!(
        stdout(&o).contains(&format!("{} jobs run, {finished} skipped", 600 - finished)),
        "{}",
        stdout(&o)
    );
    assert_same_tree(&cwd.join("killed"), &cwd.join("one"));
}

#[test]
fn a_torn_pack_tail_is_cut_and_its_job_trained_again() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", MANY);
    packed(cwd, "m.toml", "clean", &[]);
    packed(cwd, "m.toml", "r", &[]);
    // A crash in the middle of a chunk: its last job's row torn (no
    // newline), or lost with its bytes half written.
    let index = cwd.join("r/packs/0-1.0.index.csv");
    let text = fs::read_to_string(&index).unwrap();
    let last = text.trim_end().rsplit('\n').next().unwrap().to_string();
    assert!(text.lines().count() == 17, "16 jobs in the pack:\n{text}");
    fs::write(&index, format!("{}{}", &text[..text.len() - last.len() - 1], &last[..last.len() / 2]))
        .unwrap();
    let data = cwd.join("r/packs/0-1.0.data");
    let mut bytes = fs::read(&data).unwrap();
    bytes.truncate(bytes.len() - 100);
    bytes.extend_from_slice(b"half a job");
    fs::write(&data, bytes).unwrap();
    // Another pack with a torn row (a run writing it now, say).
    let other = cwd.join("r/packs/0-1.16.index.csv");
    let whole = fs::read_to_string(&other).unwrap();
    fs::write(&other, format!("{whole}garbage,")).unwrap();
    // Readers see the whole rows only.
    let o = sweep(cwd).args(["summarize", "r"]).output().unwrap();
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("599 jobs"), "{}", stdout(&o));
    fs::write(&other, whole).unwrap(); // (a pack is repaired by the run that reopens it)
    let o = packed(cwd, "m.toml", "r", &[]);
    assert!(stdout(&o).contains("1 job run, 599 skipped"), "{}", stdout(&o));
    assert_same_tree(&cwd.join("r"), &cwd.join("clean"));
}

#[test]
fn a_damaged_packed_job_is_named_by_readers_and_retrained_by_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    run(cwd, "m.toml", "f", &[]);
    packed(cwd, "m.toml", "p", &[]);
    // A changed byte in the first job's curve (its first bytes are the header).
    let data = cwd.join("p/packs/0-1.0.data");
    let mut bytes = fs::read(&data).unwrap();
    bytes[60] ^= 1;
    fs::write(&data, bytes).unwrap();
    let o = sweep(cwd).args(["verify", "p"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("CHANGED curve.csv in packs/0-1.0.data[dataset-linear_lr-1.0_seed-0]"),
        "{}",
        stdout(&o)
    );
    let o = sweep(cwd).args(["summarize", "p"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("packs/0-1.0.data[dataset-linear_lr-1.0_seed-0]: CHANGED curve.csv"),
        "{}",
        stdout(&o)
    );
    let o = sweep(cwd).args(["export", "p"]).output().unwrap();
    assert!(!o.status.success() && stderr(&o).contains("CHANGED curve.csv"), "{}", stderr(&o));
    let o = packed(cwd, "m.toml", "p", &[]);
    assert!(stdout(&o).contains("1 job run, 11 skipped"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("(packs/0-1.0.data[dataset-linear_lr-1.0_seed-0]: CHANGED curve.csv)"),
        "the repair is said: {}",
        stderr(&o)
    );
    assert_eq!(
        fs::read_to_string(cwd.join("p/packs/0-1.0.index.csv")).unwrap().lines().count(),
        14,
        "appended: the header, 12 jobs and the retrained one"
    );
    sweep(cwd).args(["verify", "p"]).assert().success();
    assert_eq!(fs::read(cwd.join("p/summary.csv")).unwrap(), fs::read(cwd.join("f/summary.csv")).unwrap());
    assert_eq!(export(cwd, "p"), export(cwd, "f"));
}

#[test]
fn a_folder_may_hold_job_folders_and_packs_and_prune_refuses_packed_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    run(cwd, "m.toml", "f", &[]);
    // Half the jobs as folders, the rest packed: read as one study.
    run(cwd, "m.toml", "mixed", &["--set", "grid.lr=[1.0]"]);
    let o = packed(cwd, "m.toml", "mixed", &[]);
    assert!(stdout(&o).contains("6 jobs run, 6 skipped"), "{}", stdout(&o));
    assert_eq!(
        fs::read(cwd.join("mixed/summary.csv")).unwrap(),
        fs::read(cwd.join("f/summary.csv")).unwrap()
    );
    assert_eq!(export(cwd, "mixed"), export(cwd, "f"));
    // --force under the packed layout moves the folders into packs.
    packed(cwd, "m.toml", "mixed", &["--force"]);
    assert_eq!(
        fs::read_dir(cwd.join("mixed/jobs")).unwrap().count(),
        0,
        "{:?}",
        tree(&cwd.join("mixed")).keys()
    );
    assert_eq!(export(cwd, "mixed"), export(cwd, "f"));

    // Packed jobs outside the plan cannot be pruned one by one: refused.
    let o = packed(cwd, "m.toml", "mixed", &["--set", "grid.lr=[0.1]"]);
    assert!(stdout(&o).contains("0 jobs run, 6 skipped"), "{}", stdout(&o));
    let before = tree(&cwd.join("mixed"));
    let o = sweep(cwd).args(["prune", "mixed"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // Each named by its pack (the file there is), and the closing line
    // does not offer to --delete what it cannot.
    let listed = stdout(&o);
    assert!(listed.contains("outside the plan (packed, kept): packs/0-1."), "{listed}");
    assert!(listed.contains(".data[dataset-linear_lr-1.0_seed-0]"), "{listed}");
    assert!(
        listed.contains("0 job folders outside the plan of mixed; 6 jobs packed outside the plan kept"),
        "{listed}"
    );
    assert!(!listed.contains("--delete"), "{listed}");
    let o = sweep(cwd).args(["prune", "mixed", "--delete"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("6 jobs outside the plan are packed"), "{}", stderr(&o));
    assert!(stderr(&o).contains("run the manifest into a new folder"), "{}", stderr(&o));
    assert_eq!(tree(&cwd.join("mixed")), before, "nothing removed");
}

#[test]
fn layout_is_an_output_key_not_a_parameter() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "[base]\nepochs = 5\n[grid]\nlayout = [\"packed\", \"folders\"]\n");
    let o = sweep(cwd).args(["run", "m.toml", "--out", "r"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("m.toml:4:1: `layout` chooses for every job of the run: set it in [base]"),
        "{}",
        stderr(&o)
    );
    let o =
        sweep(cwd).args(["run", "m.toml", "--out", "r", "--set", "grid.layout=[\"pack\"]"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    write(cwd, "ok.toml", "[base]\nepochs = 5\nlayout = \"packed\"\n");
    run(cwd, "ok.toml", "r", &[]);
    let summary = fs::read_to_string(cwd.join("r/summary.csv")).unwrap();
    assert!(!summary.lines().next().unwrap().contains("layout"), "not a column: {summary}");
    let data = fs::read_dir(cwd.join("r/packs"))
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "data"))
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&fs::read(data.path()).unwrap()).contains("layout"),
        "not in params.toml"
    );
}

/// A whole line of an index changed into something that is no row: readers
/// said nothing and left its job out (it was skipped like a torn tail); now
/// they name the file and line, and `run` trains the lost job again and
/// rewrites the index without the line.
#[test]
fn a_changed_index_line_is_named_and_repaired_by_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    packed(cwd, "m.toml", "clean", &[]);
    packed(cwd, "m.toml", "r", &[]);
    let index = cwd.join("r/packs/0-1.0.index.csv");
    let text = fs::read_to_string(&index).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "garbage,line";
    fs::write(&index, lines.join("\n") + "\n").unwrap();
    for reader in [&["summarize", "r"][..], &["export", "r"], &["verify", "r"], &["report", "r"]] {
        let o = sweep(cwd).args(reader).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{reader:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("0-1.0.index.csv: line 3 is not an index row"),
            "{reader:?}: {}",
            stderr(&o)
        );
    }
    let o = packed(cwd, "m.toml", "r", &[]);
    assert!(stdout(&o).contains("1 job run, 11 skipped"), "{}", stdout(&o));
    assert!(!fs::read_to_string(&index).unwrap().contains("garbage"));
    sweep(cwd).args(["verify", "r"]).assert().success();
    assert_eq!(
        fs::read(cwd.join("r/summary.csv")).unwrap(),
        fs::read(cwd.join("clean/summary.csv")).unwrap()
    );
    assert_eq!(export(cwd, "r"), export(cwd, "clean"));
}

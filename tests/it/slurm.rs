//! `sweep slurm`: the scripts it prints, its errors without Slurm, and
//! (against a running Slurm, such as the one-node Slurm of
//! scripts/slurm-local.sh) a job array whose results are byte-identical to
//! a local run. Without Slurm that test fails, unless SWEEP_SKIP_SLURM=1.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{stderr, stdout, sweep, tree, write};

/// 36 short jobs: a few seconds of training in all.
const GRID: &str = r#"
seeds = 6
[base]
epochs = 150
log_every = 10
[grid]
dataset = ["linear", "xor"]
lr = [1.0, 0.1, 0.01]
"#;

#[test]
fn print_shows_the_array_and_the_finishing_job_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "grid.toml", GRID);
    let out = sweep(tmp.path())
        .args(["slurm", "grid.toml", "--tasks", "4", "--cpus-per-task", "2", "--print", "--set", "epochs=20"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let root = tmp.path().canonicalize().unwrap();
    let binary = std::fs::canonicalize(assert_cmd::cargo::cargo_bin("sweep")).unwrap();
    assert!(text.contains("#SBATCH --array=0-3\n"), "{text}");
    assert!(text.contains("#SBATCH --cpus-per-task=2\n"), "{text}");
    assert!(
        text.contains(&format!(
            "exec {bin} run {root}/grid.toml --shard auto --out {root}/results/grid --threads 2 --quiet \
             --set epochs=20\n",
            bin = binary.display(),
            root = root.display()
        )),
        "{text}"
    );
    assert!(text.contains(&format!("{} summarize {}/results/grid\n", binary.display(), root.display())));
    assert!(!tmp.path().join("results").exists(), "--print wrote files");
}

#[test]
fn the_default_task_count_is_the_job_count_up_to_32_and_never_more() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "grid.toml", GRID);
    let tasks = |extra: &[&str]| {
        let out = sweep(tmp.path()).args(["slurm", "grid.toml", "--print"]).args(extra).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        text.lines().find_map(|l| l.strip_prefix("#SBATCH --array=0-")).unwrap().parse::<usize>().unwrap() + 1
    };
    assert_eq!(tasks(&[]), 32);
    assert_eq!(tasks(&["--set", "seeds=2"]), 12);
    assert_eq!(tasks(&["--tasks", "100"]), 36);
}

#[test]
fn without_sbatch_on_path_it_says_so_and_suggests_print() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "grid.toml", GRID);
    let out = sweep(tmp.path()).args(["slurm", "grid.toml"]).env("PATH", tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("sbatch") && err.contains("not found on PATH") && err.contains("--print"), "{err}");
    assert!(!tmp.path().join("results").exists(), "wrote scripts without Slurm");
}

#[test]
fn a_bad_manifest_is_refused_before_anything_is_submitted() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "bad.toml", "[base]\nepoch = 3\n");
    let out = sweep(tmp.path()).args(["slurm", "bad.toml", "--print"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("epoch"), "{}", stderr(&out));
}

/// Job state from squeue (`-t all` keeps finished jobs, for MinJobAge);
/// empty once Slurm has forgotten the job.
fn job_states(id: &str) -> Vec<String> {
    let out = Command::new("squeue").args(["-h", "-t", "all", "-j", id, "-o", "%T"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_string()).collect()
}

fn is_final(state: &str) -> bool {
    !matches!(state, "PENDING" | "CONFIGURING" | "RUNNING" | "COMPLETING" | "SUSPENDED" | "REQUEUED")
}

/// Every Slurm log of a results folder, for a failure message.
fn logs(dir: &Path) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(dir.join("slurm")).into_iter().flatten().flatten() {
        if e.path().extension().is_some_and(|x| x == "out") {
            let body = std::fs::read_to_string(e.path()).unwrap_or_default();
            text.push_str(&format!("--- {}\n{body}", e.path().display()));
        }
    }
    text
}

/// What must match between a Slurm run and a local one: the job folders,
/// manifest.toml and summary.csv (the Slurm folder also has its scripts,
/// logs, report.md and figures; timing.csv is wall-clock).
fn results(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(dir)
        .into_iter()
        .filter(|(k, _)| k.starts_with("jobs/") || k == "manifest.toml" || k == "summary.csv")
        .collect()
}

/// Whether a Slurm cluster answers (`sinfo` lists a node that is up). When
/// none does, the test fails, unless `SWEEP_SKIP_SLURM=1`: then it says it
/// skipped where the runner shows it, and returns false.
fn slurm_is_up() -> bool {
    let nodes = Command::new("sinfo").args(["--noheader", "--responding", "--format=%N"]).output();
    let why = match nodes {
        Ok(o) if o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty() => return true,
        Ok(o) if o.status.success() => "sinfo lists no responding node".to_string(),
        Ok(o) => format!("sinfo failed: {}", String::from_utf8_lossy(&o.stderr).trim()),
        Err(e) => format!("sinfo cannot run: {e}"),
    };
    if std::env::var("SWEEP_SKIP_SLURM").is_ok_and(|v| v == "1") {
        // Straight to stderr: the test harness captures eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "\n!!! SKIPPED a_slurm_job_array_gives_the_same_bytes_as_a_local_run: no Slurm ({why}) and \
             SWEEP_SKIP_SLURM=1 (`scripts/slurm-local.sh start` runs one here, as .ci/run does) !!!\n"
        );
        return false;
    }
    panic!(
        "the Slurm test needs a running Slurm ({why}): start one with `scripts/slurm-local.sh start` \
         (Debian, root; .ci/run does), or set SWEEP_SKIP_SLURM=1 to skip it"
    );
}

#[test]
fn a_slurm_job_array_gives_the_same_bytes_as_a_local_run() {
    if !slurm_is_up() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // Spaces in every path: the scripts must quote them, and Slurm runs the
    // tasks from another working directory (as root here), so all are absolute.
    let root = tmp.path().join("a sweep");
    write(&root, "my manifests/grid.toml", GRID);
    let started = Instant::now();
    let out = sweep(&root)
        .args([
            "slurm",
            "my manifests/grid.toml",
            "--tasks",
            "3",
            "--out",
            "slurm out/A",
            "--set",
            "epochs=120",
        ])
        .args(["--set", "grid.lr=[1.0, 0.1, 0.01]"])
        .output()
        .unwrap();
    assert!(out.status.success(), "sweep slurm failed: {}", stderr(&out));
    let text = stdout(&out);
    eprintln!("{text}");
    let ids: Vec<String> = text
        .lines()
        .find_map(|l| l.strip_prefix("submitted array job "))
        .and_then(|l| {
            let (array, rest) = l.split_once(" and finishing job ")?;
            Some(vec![array.to_string(), rest.split_whitespace().next()?.to_string()])
        })
        .unwrap_or_else(|| panic!("no job ids in:\n{text}"));
    let (array, finish) = (&ids[0], &ids[1]);
    let a = root.join("slurm out/A");

    let deadline = started + Duration::from_secs(180);
    let state = loop {
        let states = job_states(finish);
        match states.first() {
            Some(s) if !is_final(s) => {}
            other => break other.cloned().unwrap_or_else(|| "(forgotten by Slurm)".into()),
        }
        if Instant::now() > deadline {
            let _ = Command::new("scancel").args([array, finish]).status();
            panic!("the finishing job {finish} did not end in 180 s: {states:?}\n{}", logs(&a));
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    eprintln!(
        "slurm: array {array} and finishing job {finish} done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let tasks = job_states(array);
    assert_eq!(tasks, ["COMPLETED"; 3], "array tasks\n{}", logs(&a));
    assert_eq!(state, "COMPLETED", "finishing job\n{}", logs(&a));
    for file in ["report.md", "slurm/array.sbatch", "slurm/finish.sbatch"] {
        assert!(a.join(file).is_file(), "no {file} in {}", a.display());
    }
    let finish_log = std::fs::read_to_string(a.join(format!("slurm/finish-{finish}.out"))).unwrap();
    assert!(finish_log.contains("36 jobs"), "{finish_log}");

    // The tasks run the manifest by its absolute path; a local run by a
    // relative one must still give the same bytes.
    let b = root.join("B");
    sweep(&root)
        .arg("run")
        .arg("my manifests/grid.toml")
        .args(["--out", "B", "--quiet", "--set", "epochs=120"])
        .args(["--set", "grid.lr=[1.0, 0.1, 0.01]"])
        .assert()
        .success();
    let (ra, rb) = (results(&a), results(&b));
    assert_eq!(ra.keys().filter(|k| k.ends_with("/curve.csv")).count(), 36);
    assert_eq!(ra.keys().collect::<Vec<_>>(), rb.keys().collect::<Vec<_>>(), "different files");
    for (k, v) in &ra {
        assert!(rb[k] == *v, "{k} differs between the Slurm run and the local run");
    }
}

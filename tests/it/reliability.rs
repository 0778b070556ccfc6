//! Reliability on the real binary: Ctrl-C, concurrent runs on one folder,
//! disk errors, divergence everywhere, hostile paths and size guards. A run
//! must never lose finished work, never leave a half result, and say what
//! happened.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::common::{assert_same_tree, stderr, stdout, sweep, tree, write};

/// About 0.1 s a job in a release build, 40 jobs: long enough to interrupt.
const LONG: &str =
    "seeds = 20\n[base]\nepochs = 3000\nhidden = [16, 16]\nlog_every = 10\n[grid]\nlr = [0.1, 0.01]\n";

/// Starts `sweep ARGS` in `cwd`, stdout and stderr into files there.
fn spawn(cwd: &Path, args: &[&str], tag: &str) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("sweep"))
        .current_dir(cwd)
        .args(args)
        .env_remove("RAYON_NUM_THREADS")
        .stdin(Stdio::null())
        .stdout(fs::File::create(cwd.join(format!("{tag}.out"))).unwrap())
        .stderr(fs::File::create(cwd.join(format!("{tag}.err"))).unwrap())
        .spawn()
        .unwrap()
}

fn read(cwd: &Path, name: &str) -> String {
    fs::read_to_string(cwd.join(name)).unwrap_or_default()
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").arg(format!("-{sig}")).arg(child.id().to_string()).status().unwrap();
    assert!(ok.success(), "kill -{sig} failed");
}

/// The child's exit status, or None if it is still running after `limit`: a
/// hang guard (callers fail with a message), never a claim about speed.
fn wait_for(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

/// Polls `cond` every few milliseconds for up to a minute.
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn count(dir: &Path) -> usize {
    fs::read_dir(dir).map_or(0, |d| d.count())
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Every job folder holds its four files.
fn assert_whole_jobs(results: &Path) {
    for id in entries(&results.join("jobs")) {
        for f in ["params.toml", "curve.csv", "predictions.csv", "model.json"] {
            assert!(results.join("jobs").join(&id).join(f).is_file(), "{id} lacks {f}");
        }
    }
}

/// `resume with: CMD` from a run's stderr.
fn resume_command(err: &str) -> String {
    err.lines()
        .find_map(|l| l.strip_prefix("resume with: "))
        .unwrap_or_else(|| panic!("no resume command in:\n{err}"))
        .to_string()
}

#[test]
fn ctrl_c_stops_keeps_finished_jobs_and_prints_the_command_that_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", LONG);
    // --force: the resume command must drop it, or it would retrain everything.
    let mut child = spawn(cwd, &["run", "m.toml", "--out", "r", "--threads", "2", "--force"], "run");
    wait_until("3 finished jobs", || count(&cwd.join("r/jobs")) >= 3);
    signal(&child, "INT");
    let status = wait_for(&mut child, Duration::from_secs(60)).expect("the run did not stop after Ctrl-C");
    assert_eq!(status.code(), Some(130));

    let err = read(cwd, "run.err");
    let finished = count(&cwd.join("r/jobs"));
    assert!(finished < 40, "the run ended before the interrupt; make the jobs longer");
    assert!(err.contains(&format!("interrupted: {finished} of 40 jobs finished")), "{err}");
    assert_whole_jobs(&cwd.join("r"));
    assert_eq!(entries(&cwd.join("r/.sweep/tmp")), Vec::<String>::new(), "no temporary files left");
    let summary = fs::read_to_string(cwd.join("r/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), finished + 1, "summary.csv lists the finished jobs");
    assert!(read(cwd, "run.out").contains(&format!("{finished} jobs run")), "the summary line is printed");
    assert!(
        read(cwd, "run.out").contains(&format!("(interrupted: {} of 40 jobs not run)", 40 - finished)),
        "stdout alone says the run stopped early: {}",
        read(cwd, "run.out")
    );

    let resume = resume_command(&err);
    assert!(resume.contains("m.toml") && !resume.contains("--force"), "{resume}");
    let out = Command::new("sh").arg("-c").arg(&resume).current_dir(cwd).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("{} jobs run, {finished} skipped", 40 - finished)),
        "{}",
        stdout(&out)
    );
    sweep(cwd).args(["m.toml", "--out", "clean"]).assert().success();
    assert_same_tree(&cwd.join("r"), &cwd.join("clean"));
}

#[test]
fn ctrl_c_stops_a_running_job_at_its_next_epoch_not_at_its_end() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    // A billion epochs: hours of training, so only a stop between epochs
    // ends this run; a run that finished the job first would hang here.
    write(cwd, "m.toml", "[base]\nepochs = 1000000000\nlog_every = 1000000000\n");
    let mut child = spawn(cwd, &["m.toml", "--out", "r"], "run");
    wait_until("the job to start", || !entries(&cwd.join("r/.sweep/tmp")).is_empty());
    signal(&child, "INT");
    let Some(status) = wait_for(&mut child, Duration::from_secs(120)) else {
        let _ = child.kill();
        panic!("a running job did not stop at its next epoch after Ctrl-C");
    };
    assert_eq!(status.code(), Some(130));
    let err = read(cwd, "run.err");
    assert!(err.contains("interrupted: 0 of 1 jobs finished"), "{err}");
    assert!(!err.contains("interrupted again"), "one Ctrl-C was enough: {err}");
    assert_eq!(entries(&cwd.join("r/jobs")), Vec::<String>::new(), "the stopped job is not kept");
    assert_eq!(entries(&cwd.join("r/.sweep/tmp")), Vec::<String>::new(), "its temporary folder is dropped");
}

#[test]
fn sigterm_stops_like_ctrl_c() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", LONG);
    let mut child = spawn(cwd, &["m.toml", "--out", "r", "--threads", "2"], "run");
    wait_until("a finished job", || count(&cwd.join("r/jobs")) >= 1);
    signal(&child, "TERM");
    let status = wait_for(&mut child, Duration::from_secs(60)).expect("the run did not stop after SIGTERM");
    assert_eq!(status.code(), Some(130));
    assert!(read(cwd, "run.err").contains("resume with: "), "{}", read(cwd, "run.err"));
    assert_whole_jobs(&cwd.join("r"));
    assert_eq!(entries(&cwd.join("r/.sweep/tmp")), Vec::<String>::new());
}

#[test]
fn a_second_ctrl_c_exits_at_once_and_the_next_run_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    // Epochs of seconds: the first Ctrl-C alone would wait for the epoch's end.
    write(cwd, "slow.toml", "[base]\nepochs = 1000\nn_samples = 50000\nhidden = [256, 256]\n");
    let mut child = spawn(cwd, &["slow.toml", "--out", "r", "--threads", "1"], "run");
    wait_until("the job to start", || !entries(&cwd.join("r/.sweep/tmp")).is_empty());
    // Past the data's generation (50,000 samples: slow on a loaded machine),
    // well inside the first epoch: a Ctrl-C seen before training starts ends
    // the run at once, before the second one is sent.
    std::thread::sleep(Duration::from_millis(1000));
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(20));
    signal(&child, "INT");
    let status =
        wait_for(&mut child, Duration::from_secs(60)).expect("the run did not stop after two Ctrl-Cs");
    assert_eq!(status.code(), Some(130));
    let err = read(cwd, "run.err");
    assert!(err.contains("interrupted again: exiting now"), "{err}");
    // At once: not after the epoch (the first Ctrl-C's way, which ends with
    // the resume line and removes the job's temporary folder).
    assert!(!err.contains("resume with: "), "the run waited for the epoch to end: {err}");
    assert_eq!(count(&cwd.join("r/jobs")), 0);
    // The job's temporary folder (and lock file) stayed; any next run on the
    // folder removes them.
    assert!(!entries(&cwd.join("r/.sweep/tmp")).is_empty());
    sweep(cwd)
        .args(["slow.toml", "--out", "r", "--set", "epochs=1", "--set", "n_samples=10"])
        .assert()
        .success();
    assert_eq!(entries(&cwd.join("r/.sweep/tmp")), Vec::<String>::new());
}

/// job_id -> rows in timing.csv (one per time the job was trained).
fn trainings(results: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut n = std::collections::BTreeMap::new();
    for line in fs::read_to_string(results.join("timing.csv")).unwrap().lines().skip(1) {
        *n.entry(line.split(',').next().unwrap().to_string()).or_insert(0) += 1;
    }
    n
}

/// "N jobs run" from a summary line.
fn jobs_run(out: &str) -> usize {
    let line =
        out.lines().find(|l| l.contains(" jobs run, ")).unwrap_or_else(|| panic!("no summary in {out}"));
    let before = line.split(" jobs run").next().unwrap();
    before.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn two_unsharded_runs_on_one_folder_train_every_job_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(
        cwd,
        "m.toml",
        "seeds = 8\n[base]\nepochs = 3000\nhidden = [16, 16]\nlog_every = 10\n[grid]\nlr = [0.1, 0.01]\n",
    );
    let args = ["m.toml", "--out", "r", "--threads", "1"];
    let mut a = spawn(cwd, &args, "a");
    let mut b = spawn(cwd, &args, "b");
    let (sa, sb) = (a.wait().unwrap(), b.wait().unwrap());
    assert!(sa.success() && sb.success(), "{}\n{}", read(cwd, "a.err"), read(cwd, "b.err"));
    let counts = trainings(&cwd.join("r"));
    assert_eq!(counts.len(), 16, "{counts:?}");
    assert!(counts.values().all(|&n| n == 1), "a job was trained twice: {counts:?}");
    assert_eq!(jobs_run(&read(cwd, "a.out")) + jobs_run(&read(cwd, "b.out")), 16);
    assert_eq!(entries(&cwd.join("r/.sweep/tmp")), Vec::<String>::new());
    sweep(cwd).args(["m.toml", "--out", "clean"]).assert().success();
    assert_same_tree(&cwd.join("r"), &cwd.join("clean"));
}

#[test]
fn a_job_claimed_by_a_live_process_is_waited_for_and_a_dead_ones_claim_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "seeds = 4\n[base]\nepochs = 50\n");
    fs::create_dir_all(cwd.join("r/.sweep/tmp")).unwrap();
    fs::write(cwd.join("r/.sweep/results-folder"), "").unwrap();
    let results = sweep::store::ResultsDir::new(cwd.join("r"));
    // A killed run's claim on job 0 (4 jobs: a claim each): the file with a
    // dead pid, locked by nobody; and its workspace, with half a job.
    fs::write(results.claim_path("0-1", 0), "4194999").unwrap();
    write(cwd, "r/.sweep/tmp/run.4194999.0/seed-0/curve.csv", "epoch\n");
    write(cwd, "r/.sweep/tmp/run.4194999.0.lock", "4194999");
    // A live holder: this test process, on job 1.
    let held = results.claim("0-1", 1).unwrap().unwrap();
    let mut child = spawn(cwd, &["m.toml", "--out", "r"], "run");
    wait_until("the run to wait", || read(cwd, "run.err").contains("waiting for 1 job(s)"));
    let err = read(cwd, "run.err");
    assert!(err.contains(&format!("pid {}", std::process::id())), "names the holder: {err}");
    // The jobs it trained reach jobs/ as the committer thread renames them,
    // while the run keeps waiting for the held one.
    wait_until("the other jobs in place", || entries(&cwd.join("r/jobs")) == ["seed-0", "seed-2", "seed-3"]);
    assert!(child.try_wait().unwrap().is_none(), "it waits while the claim is held");
    drop(held); // the holder ends without finishing the job: the run trains it
    let status = wait_for(&mut child, Duration::from_secs(30)).expect("the run ends");
    assert!(status.success(), "{}", read(cwd, "run.err"));
    assert_eq!(entries(&cwd.join("r/jobs")).len(), 4);
    assert_eq!(entries(&cwd.join("r/.sweep/tmp")), Vec::<String>::new());
}

#[test]
fn shards_share_a_folder_while_running_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "seeds = 6\n[base]\nepochs = 500\n[grid]\nlr = [0.1, 1.0]\n");
    let mut kids: Vec<Child> = (0..3)
        .map(|i| {
            spawn(
                cwd,
                &["m.toml", "--out", "r", "--threads", "1", "--shard", &format!("{i}/3")],
                &format!("s{i}"),
            )
        })
        .collect();
    for k in &mut kids {
        assert!(k.wait().unwrap().success());
    }
    assert!(trainings(&cwd.join("r")).values().all(|&n| n == 1));
    sweep(cwd).args(["summarize", "r"]).assert().success();
    sweep(cwd).args(["m.toml", "--out", "clean"]).assert().success();
    assert_same_tree(&cwd.join("r"), &cwd.join("clean"));
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs of `size` (e.g. "200k") at `dir`, or says why not.
    fn tmpfs(dir: &Path, size: &str) -> Result<Mount, String> {
        let uid = Command::new("id").arg("-u").output().map_err(|e| format!("cannot run `id`: {e}"))?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return Err("not root: cannot mount a tmpfs".into());
        }
        fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run `mount`: {e}"))?;
        if !out.status.success() {
            return Err(format!("mount not allowed here: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(Mount(dir.to_path_buf()))
    }

    fn remount(&self, options: &str) {
        let ok =
            Command::new("mount").args(["-o", &format!("remount,{options}")]).arg(&self.0).status().unwrap();
        assert!(ok.success(), "remount {options}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount").arg(&self.0).status().is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

macro_rules! mount_or_skip {
    ($dir:expr, $size:expr) => {
        match Mount::tmpfs($dir, $size) {
            Ok(m) => m,
            Err(why) => {
                eprintln!("SKIPPED {}: {why}", module_path!());
                return;
            }
        }
    };
}

/// Every job folder of `a` is byte-identical to the same job in `b`.
fn assert_jobs_match(a: &Path, b: &Path) {
    for id in entries(&a.join("jobs")) {
        for f in entries(&a.join("jobs").join(&id)) {
            let (x, y) = (a.join("jobs").join(&id).join(&f), b.join("jobs").join(&id).join(&f));
            assert!(fs::read(&x).unwrap() == fs::read(&y).unwrap(), "{} differs", x.display());
        }
    }
}

#[test]
fn a_full_disk_fails_the_job_with_its_path_keeps_finished_jobs_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    // ~30 kB a job on a 200 kB disk: a handful fit.
    write(cwd, "m.toml", "seeds = 15\n[base]\nepochs = 400\n[grid]\nlr = [0.1, 1.0]\n");
    let mnt = mount_or_skip!(&cwd.join("disk"), "200k");
    let out = sweep(cwd).args(["m.toml", "--out", "disk/r", "--threads", "1"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("disk/r/"), "the message names the path: {err}");
    assert!(err.contains("stopped after a disk error"), "{err}");
    let kept = entries(&cwd.join("disk/r/jobs"));
    assert!(!kept.is_empty() && kept.len() < 30, "{} jobs fit", kept.len());
    assert_whole_jobs(&cwd.join("disk/r"));
    let tmp_left: Vec<String> = entries(&cwd.join("disk/r/.sweep/tmp"))
        .into_iter()
        .filter(|e| !e.starts_with("summary.csv"))
        .collect();
    assert_eq!(tmp_left, Vec::<String>::new(), "no half-written job is left");

    sweep(cwd).args(["m.toml", "--out", "clean"]).assert().success();
    assert_jobs_match(&cwd.join("disk/r"), &cwd.join("clean"));
    // With room again, the same command finishes the rest.
    mnt.remount("size=20m");
    let out = sweep(cwd).args(["m.toml", "--out", "disk/r", "--threads", "1"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("{} skipped", kept.len())), "{}", stdout(&out));
    assert_same_tree(&cwd.join("disk/r"), &cwd.join("clean"));
}

#[test]
fn a_read_only_results_folder_fails_with_its_path_and_exit_1_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "seeds = 2\n[base]\nepochs = 50\n[grid]\nlr = [0.1, 1.0]\n");
    let mnt = mount_or_skip!(&cwd.join("disk"), "2m");
    sweep(cwd).args(["m.toml", "--out", "disk/r"]).assert().success();
    let before = tree(&cwd.join("disk/r"));
    mnt.remount("ro");
    let out =
        sweep(cwd).args(["m.toml", "--out", "disk/r", "--set", "grid.lr=[0.1, 1.0, 0.5]"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("Read-only file system") && err.contains("disk/r/"), "{err}");
    assert!(tree(&cwd.join("disk/r")) == before, "nothing changed");
    mnt.remount("rw");
}

#[test]
fn an_unwritable_jobs_folder_fails_each_job_naming_it_and_keeps_the_rest() {
    // jobs/ read-only (a bind mount as root, where permissions do not bind;
    // chmod otherwise): training works, moving results into place does not.
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "seeds = 2\n[base]\nepochs = 20\n");
    sweep(cwd).args(["m.toml", "--out", "r"]).assert().success();
    let jobs = cwd.join("r/jobs");
    let root = Command::new("id").arg("-u").output().unwrap().stdout.starts_with(b"0");
    let bound = root
        && Command::new("mount").arg("--bind").arg(&jobs).arg(&jobs).status().unwrap().success()
        && Command::new("mount").args(["-o", "remount,bind,ro"]).arg(&jobs).status().unwrap().success();
    let _guard = bound.then(|| Mount(jobs.clone()));
    if root && !bound {
        eprintln!("SKIPPED: cannot bind-mount read-only here");
        return;
    }
    if !root {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&jobs, fs::Permissions::from_mode(0o555)).unwrap();
    }
    let out = sweep(cwd).args(["m.toml", "--out", "r", "--set", "seeds=4"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("r/jobs/seed-2") || err.contains("r/jobs/seed-3"), "names the path: {err}");
    assert!(stdout(&out).contains("0 jobs run, 2 skipped"), "{}", stdout(&out));
    assert_eq!(entries(&jobs), ["seed-0", "seed-1"]);
    assert_eq!(entries(&cwd.join("r/.sweep/tmp")), Vec::<String>::new());
    if !root {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&jobs, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn divergence_everywhere_ends_jobs_diverged_at_their_epoch_and_no_nan_reaches_a_mean() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    // Huge weights: relu with a linear output overflows at once; bce with a
    // sigmoid output saturates (computed from the logit, it stays finite).
    let big = r#"{"layers": [{"w": [[1e100, -1e100], [1e100, 1e100]], "b": null},
        {"w": [[1e100, 1e100], [-1e100, 1e100]], "b": null}, {"w": [[1e100], [1e100]], "b": null}]}"#;
    write(cwd, "big.json", big);
    let manifest = "seeds = 3\n[base]\nepochs = 300\noutput_activation = \"none\"\n\
        [grid]\nactivation = [\"none\", \"tanh\", \"relu\"]\nlr = [0.1, 100.0]\n\
        dataset = [\"linear\", \"xor\", \"xor-hard\", \"circle\", \"spiral\"]\n\
        [[include]]\nactivation = \"relu\"\ninit = \"big.json\"\n\
        [[include]]\nactivation = \"relu\"\nlr = 1e6\nhidden = [32, 32]\n\
        [[include]]\noutput_activation = \"sigmoid\"\nloss = \"bce\"\nlr = 1e6\n\
        [[include]]\noutput_activation = \"sigmoid\"\nloss = \"bce\"\ninit = \"big.json\"\n";
    write(cwd, "m.toml", manifest);
    let out = sweep(cwd).args(["m.toml", "--out", "a"]).output().unwrap();
    assert!(out.status.success(), "a diverged job is a result, not a failure: {}", stderr(&out));
    sweep(cwd).args(["m.toml", "--out", "b", "--set", "epochs=200"]).assert().success();

    let mut diverged = 0;
    let mut rdr = csv::Reader::from_path(cwd.join("a/summary.csv")).unwrap();
    let header = rdr.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let (id, loss) = (&rec[col("job_id")], &rec[col("final_loss")]);
        let curve = fs::read_to_string(cwd.join("a").join(&rec[col("curve")])).unwrap();
        let last = curve.lines().last().unwrap();
        match &rec[col("status")] {
            "diverged" => {
                diverged += 1;
                let epoch: usize =
                    rec[col("diverged_epoch")].parse().unwrap_or_else(|_| panic!("{id}: no epoch"));
                assert!(epoch <= 300, "{id}");
                assert!(
                    last.starts_with(&format!("{epoch},")),
                    "{id}: curve ends at the diverged epoch: {last}"
                );
            }
            "ok" => {
                assert!(loss.parse::<f64>().unwrap().is_finite(), "{id}: ok with loss {loss}");
                assert_eq!(&rec[col("diverged_epoch")], "", "{id}");
                assert!(last.starts_with("300,"), "{id}: {last}");
            }
            other => panic!("{id}: status {other}"),
        }
    }
    assert!(diverged >= 20, "only {diverged} diverged: make the manifest harsher");
    let first_epochs: Vec<&str> = vec!["0", "3", "34"];
    let summary = fs::read_to_string(cwd.join("a/summary.csv")).unwrap();
    assert!(first_epochs.iter().any(|e| summary.contains(&format!(",diverged,{e},"))), "epochs vary");

    for dir in ["a", "b"] {
        let out = sweep(cwd).args(["report", dir]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let md = fs::read_to_string(cwd.join(dir).join("report.md")).unwrap();
        assert!(!md.contains("NaN") && !md.contains("| inf"), "a NaN reached report.md:\n{md}");
    }
    for metric in ["final_loss", "min_loss", "final_accuracy", "epoch_at_target"] {
        for format in ["md", "csv"] {
            let out =
                sweep(cwd).args(["diff", "a", "b", "--metric", metric, "--format", format]).output().unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            assert!(
                !stdout(&out).contains("NaN"),
                "diff --metric {metric} --format {format}:\n{}",
                stdout(&out)
            );
        }
    }
    sweep(cwd).args(["summarize", "a"]).assert().success();
    sweep(cwd).args(["export", "a", "--out", "a.csv"]).assert().success();
    let out = sweep(cwd).args(["verify", "a", "--sample", "10"]).output().unwrap();
    assert!(out.status.success(), "diverged jobs retrain to the same bytes: {}", stdout(&out));
}

#[test]
fn job_ids_from_any_value_are_safe_unique_and_stay_inside_the_results_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let csv = "x0,x1,label\n0.1,0.2,0\n0.9,0.8,1\n0.3,0.1,0\n0.7,0.9,1\n";
    // Paths that climb out, unicode that sanitizes alike, names that differ
    // only in case (one folder on macOS), and a long kernel list.
    for name in ["data/x.csv", "exp/ü.csv", "exp/é.csv", "exp/A.csv", "exp/a.csv", "exp/sp ace;rm -rf.csv"]
    {
        write(cwd, name, csv);
    }
    let kernel: Vec<String> = (0..300).map(|i| format!("{}", 1.0 / (i + 1) as f64)).collect();
    let kernel2: Vec<String> = (0..301).map(|i| format!("{}", 1.0 / (i + 1) as f64)).collect();
    write(
        cwd,
        "exp/m.toml",
        &format!(
            "seeds = 2\n[base]\nepochs = 5\nn_samples = 400\n[grid]\n\
             dataset = [\"../data/x.csv\", \"ü.csv\", \"é.csv\", \"A.csv\", \"a.csv\", \"sp ace;rm -rf.csv\"]\n\
             [[include]]\nconv = [{}]\n[[include]]\nconv = [{}]\n",
            kernel.join(", "),
            kernel2.join(", ")
        ),
    );
    let out = sweep(cwd).args(["run", "exp/m.toml", "--out", "r"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let plan = sweep(cwd).args(["plan", "exp/m.toml", "--format", "csv"]).output().unwrap();
    let planned: Vec<String> =
        stdout(&plan).lines().skip(1).map(|l| l.split(',').nth(1).unwrap().to_string()).collect();
    assert_eq!(planned.len(), 16);
    let mut ids = entries(&cwd.join("r/jobs"));
    let mut want = planned.clone();
    want.sort();
    assert_eq!(ids, want, "one folder per planned job, named by its id");
    for id in &ids {
        assert!(id.len() <= 110, "{id} is too long");
        assert!(!id.starts_with('.'), "{id}");
        assert!(
            id.chars().all(|c| c.is_ascii_alphanumeric() || "._-+~".contains(c)),
            "{id} is not filesystem-safe"
        );
    }
    ids.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    assert_eq!(ids.len(), 16, "ids differ even ignoring case");
    assert!(planned.iter().any(|id| id.starts_with("dataset-..~data~x.csv_")), "{planned:?}");
    assert!(
        planned.iter().filter(|id| id.starts_with("conv-")).all(|id| id.contains('~') && id.len() <= 100)
    );
    // Nothing was written outside the results folder.
    assert_eq!(entries(cwd), ["data", "exp", "r"]);
    assert_eq!(entries(&cwd.join("data")), ["x.csv"]);
    assert_eq!(entries(&cwd.join("exp")).len(), 6, "five CSV files and the manifest");
}

#[test]
fn a_plan_whose_curves_would_exceed_5_gb_needs_yes_and_says_the_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    // 10 jobs x 10,000,001 rows x ~60 bytes: about 6 GB.
    write(cwd, "m.toml", "seeds = 10\n[base]\nepochs = 10000000\n");
    let out = sweep(cwd).args(["m.toml", "--out", "r"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("about 6.0 GB") && err.contains("--yes") && err.contains("log_every"), "{err}");
    assert!(!cwd.join("r").exists());
    // `sweep plan` shows the estimate; with log_every = 1000 the run is allowed.
    let plan = sweep(cwd).args(["plan", "m.toml"]).output().unwrap();
    assert!(stdout(&plan).contains("~6.0 GB of curves"), "{}", stdout(&plan));
    let plan = sweep(cwd).args(["plan", "m.toml", "--set", "log_every=1000"]).output().unwrap();
    assert!(stdout(&plan).contains("~6.0 MB of curves"), "{}", stdout(&plan));
}

#[test]
fn a_plan_too_large_to_expand_is_refused_before_expanding() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    // 10^6 seeds x 10^6 x 10^6 values: refused at once, not after eating memory.
    write(
        cwd,
        "m.toml",
        "seeds = 1000000\n[grid]\nlr = { log = [1e-6, 1, 1000000] }\nl2 = { lin = [0, 1, 1000000] }\n",
    );
    let mut child = spawn(cwd, &["plan", "m.toml"], "plan");
    let Some(status) = wait_for(&mut child, Duration::from_secs(60)) else {
        let _ = child.kill();
        panic!("`sweep plan` is expanding a plan of 10^18 jobs instead of refusing it");
    };
    assert_eq!(status.code(), Some(2));
    let err = read(cwd, "plan.err");
    assert!(err.contains("1.00e18 jobs") && err.contains("over the limit"), "{err}");
    assert_eq!(read(cwd, "plan.out"), "", "nothing was planned");
}

/// Hostile manifests found while fuzzing and probing (tests/regressions/
/// manifests/*.toml): each is refused with exit 2 (not a panic: 101) and
/// the message its first line `# expect: ...` names.
#[test]
fn hostile_manifests_are_refused_with_a_message_not_a_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions/manifests");
    let mut n = 0;
    for name in entries(&dir) {
        let text = fs::read_to_string(dir.join(&name)).unwrap();
        let expect = text.lines().next().and_then(|l| l.strip_prefix("# expect: ")).expect("# expect: line");
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), &name, &text);
        for cmd in ["plan", "run"] {
            let out = sweep(tmp.path()).args([cmd, name.as_str()]).output().unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{cmd} {name}: {err}");
            assert!(err.contains(expect) && err.contains(&format!("{name}:")), "{cmd} {name}: {err}");
        }
        assert_eq!(entries(tmp.path()), [name.as_str()], "{name}: nothing written");
        n += 1;
    }
    assert!(n >= 9, "{n} regressions");
}

#[test]
fn a_results_folder_named_by_the_manifest_stays_under_results() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "[base]\nepochs = 3\n");
    for bad in ["name=../x", "name=/tmp/x", "name=a/b", "name=.."] {
        let out = sweep(cwd).args(["m.toml", "--set", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains("one folder name"), "{bad}: {}", stderr(&out));
    }
    sweep(cwd).args(["m.toml", "--set", "name=études 1"]).assert().success();
    assert_eq!(entries(&cwd.join("results")), ["études 1"]);
}

/// Repro 8 (issue 12): `timeout` sends SIGTERM to sweep and again to its
/// process group, tmux sends SIGHUP to every process; the repeat was taken
/// as "interrupted again: exiting now" (no summary, temporaries left, no
/// resume command). Repeated SIGTERM and SIGHUP are one stop request.
#[test]
fn a_double_sigterm_or_sighup_is_one_stop_request() {
    for sig in ["TERM", "HUP"] {
        let tmp = tempfile::tempdir().unwrap();
        let cwd = tmp.path();
        write(cwd, "m.toml", LONG);
        let mut child = spawn(cwd, &["run", "m.toml", "--out", "r", "--threads", "2"], "run");
        wait_until("2 finished jobs", || count(&cwd.join("r/jobs")) >= 2);
        for _ in 0..3 {
            signal(&child, sig);
        }
        let status = wait_for(&mut child, Duration::from_secs(20)).expect("the run stops");
        let err = read(cwd, "run.err");
        assert_eq!(status.code(), Some(130), "{sig}: {err}");
        assert!(!err.contains("interrupted again"), "{sig}: {err}");
        assert!(err.contains("resume with: "), "{sig}: {err}");
        let finished = count(&cwd.join("r/jobs"));
        let summary = fs::read_to_string(cwd.join("r/summary.csv")).unwrap();
        assert_eq!(summary.lines().count(), finished + 1, "{sig}: a whole summary.csv");
        assert_eq!(entries(&cwd.join("r/.sweep/tmp")), Vec::<String>::new(), "{sig}: no temporaries");
    }
}

/// Repro 9 (issue 12): on a full disk `report` left a truncated SVG and
/// report.md, and `export --out` a file cut mid-row whose error named the
/// input folder. Now each file is written whole (temporary file + rename):
/// the previous report and export stay as they were, and the error names
/// the file being written.
#[test]
fn a_full_disk_during_report_and_export_keeps_the_previous_files_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", "seeds = 3\n[base]\nepochs = 200\n[grid]\nlr = [0.1, 1.0]\n");
    let _mnt = mount_or_skip!(&cwd.join("disk"), "4m");
    sweep(cwd).args(["m.toml", "--out", "disk/r"]).assert().success();
    sweep(cwd).args(["report", "disk/r"]).assert().success();
    sweep(cwd).args(["export", "disk/r", "--out", "disk/e.csv"]).assert().success();
    let before = tree(&cwd.join("disk/r"));
    let export = fs::read(cwd.join("disk/e.csv")).unwrap();
    // Fill the disk.
    let mut filler = fs::File::create(cwd.join("disk/filler")).unwrap();
    let block = vec![7u8; 4096];
    while std::io::Write::write_all(&mut filler, &block).is_ok() {}
    drop(filler);
    let out = sweep(cwd).args(["report", "disk/r"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device") && err.contains("disk/r/"), "{err}");
    let out = sweep(cwd).args(["export", "disk/r", "--out", "disk/e.csv", "--force"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write disk/e.csv") && err.contains("No space left"), "{err}");
    assert_eq!(tree(&cwd.join("disk/r")), before, "the previous report and figures are whole");
    assert_eq!(fs::read(cwd.join("disk/e.csv")).unwrap(), export);
    assert_eq!(entries(&cwd.join("disk")), ["e.csv", "filler", "r"], "no temporary file left");
    assert_eq!(entries(&cwd.join("disk/r/.sweep/tmp")), Vec::<String>::new());
}

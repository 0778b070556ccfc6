//! `sweep run` end to end: reproducible bytes whatever the threads, shards
//! or resume history; crash safety; paired seeds.

use std::time::{Duration, Instant};

use crate::common::{assert_same_tree, stderr, stdout, sweep, tree, write};

const SMALL: &str = r#"
seeds = 3
[base]
epochs = 200
log_every = 7
[grid]
dataset = ["linear", "xor"]
lr = [1.0, 0.1]
activation = ["sigmoid", "tanh"]
"#;

#[test]
fn results_are_byte_identical_across_threads_shards_and_reruns() {
    let tmp = tempfile::tempdir().unwrap();
    let m = write(tmp.path(), "small.toml", SMALL);
    sweep(tmp.path()).args(["run", "small.toml", "--out", "one", "--threads", "1"]).assert().success();
    sweep(tmp.path()).args(["small.toml", "--out", "two", "--threads", "2"]).assert().success();
    for i in 0..3 {
        sweep(tmp.path())
            .args(["run", "small.toml", "--out", "shards", "--threads", "1", "--shard", &format!("{i}/3")])
            .assert()
            .success();
    }
    // The last shard's summary saw every job; rebuild anyway, as a Slurm
    // finishing job would.
    sweep(tmp.path()).args(["summarize", "shards"]).assert().success();
    assert_same_tree(&tmp.path().join("one"), &tmp.path().join("two"));
    assert_same_tree(&tmp.path().join("one"), &tmp.path().join("shards"));
    assert_eq!(tree(&tmp.path().join("one")).keys().filter(|k| k.ends_with("curve.csv")).count(), 24);

    let rerun = sweep(tmp.path()).args(["run", "small.toml", "--out", "one"]).output().unwrap();
    assert!(rerun.status.success());
    assert!(stdout(&rerun).contains("0 jobs run, 24 skipped"), "{}", stdout(&rerun));
    assert_same_tree(&tmp.path().join("one"), &tmp.path().join("two"));
    drop(m);
}

#[test]
fn adding_an_axis_value_trains_only_the_new_jobs_and_force_retrains() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "seeds = 2\n[base]\nepochs = 50\n[grid]\nlr = [0.1]\n");
    sweep(tmp.path()).args(["m.toml", "--out", "r"]).assert().success();
    let out =
        sweep(tmp.path()).args(["m.toml", "--out", "r", "--set", "grid.lr=[0.1, 0.5]"]).output().unwrap();
    assert!(stdout(&out).contains("2 jobs run, 2 skipped"), "{}", stdout(&out));
    let out = sweep(tmp.path()).args(["m.toml", "--out", "r", "--force"]).output().unwrap();
    assert!(stdout(&out).contains("2 jobs run, 0 skipped"), "{}", stdout(&out));
    // A changed base value changes every configuration: another study, so
    // replacing the finished jobs needs --force (SPEC 2).
    let out = sweep(tmp.path()).args(["m.toml", "--out", "r", "--set", "epochs=60"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("epochs: 50 -> 60"), "{out:?}");
    let out =
        sweep(tmp.path()).args(["m.toml", "--out", "r", "--set", "epochs=60", "--force"]).output().unwrap();
    assert!(stdout(&out).contains("2 jobs run, 0 skipped"), "{}", stdout(&out));
    let manifest = std::fs::read_to_string(tmp.path().join("r/manifest.toml")).unwrap();
    assert!(manifest.contains("epochs = 60"), "the manifest as run records --set:\n{manifest}");
}

#[test]
fn a_killed_run_leaves_only_whole_job_folders_and_resumes_to_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    // About 0.1 s a job in a release build: long enough to kill mid-run.
    let text =
        "seeds = 20\n[base]\nepochs = 5000\nhidden = [16, 16]\nlog_every = 10\n[grid]\nlr = [0.1, 0.01]\n";
    write(tmp.path(), "m.toml", text);
    let bin = assert_cmd::cargo::cargo_bin("sweep");
    let mut child = std::process::Command::new(&bin)
        .current_dir(tmp.path())
        .args(["m.toml", "--out", "killed", "--threads", "2", "--quiet"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill once a few jobs have finished, while others are mid-write.
    let jobs = tmp.path().join("killed/jobs");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(&jobs).map_or(0, |d| d.count()) < 3 {
        assert!(Instant::now() < deadline, "no 3 jobs finished in a minute: the run hangs");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let finished = std::fs::read_dir(&jobs).unwrap().count();
    assert!(finished < 40, "the run ended before the kill; make the jobs longer ({finished} done)");
    for e in std::fs::read_dir(&jobs).unwrap() {
        let dir = e.unwrap().path();
        for f in ["params.toml", "curve.csv", "predictions.csv", "model.json"] {
            assert!(dir.join(f).is_file(), "{} lacks {f}", dir.display());
        }
    }
    let out = sweep(tmp.path()).args(["m.toml", "--out", "killed"]).output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains(&format!("{} skipped", finished)), "{}", stdout(&out));
    let leftovers = std::fs::read_dir(tmp.path().join("killed/.sweep/tmp")).unwrap().count();
    assert_eq!(leftovers, 0, "the rerun cleans the killed run's temporary folders");
    sweep(tmp.path()).args(["m.toml", "--out", "clean"]).assert().success();
    assert_same_tree(&tmp.path().join("killed"), &tmp.path().join("clean"));
}

#[test]
fn jobs_differing_only_in_lr_or_optimizer_start_from_the_same_loss() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "m.toml",
        "seeds = [5]\n[base]\nepochs = 20\n[grid]\ndataset = [\"linear\", \"circle\"]\n\
         lr = [1.0, 0.01]\noptimizer = [\"sgd\", \"momentum\", \"adam\"]\n",
    );
    sweep(tmp.path()).args(["m.toml", "--out", "r"]).assert().success();
    for dataset in ["linear", "circle"] {
        let mut first_losses = Vec::new();
        for lr in ["1.0", "0.01"] {
            for opt in ["sgd", "momentum", "adam"] {
                let id = format!("dataset-{dataset}_lr-{lr}_optimizer-{opt}_seed-5");
                let curve =
                    std::fs::read_to_string(tmp.path().join(format!("r/jobs/{id}/curve.csv"))).unwrap();
                let row1 = curve.lines().nth(1).unwrap().to_string();
                assert!(row1.starts_with("0,"));
                first_losses.push(row1);
            }
        }
        assert!(first_losses.windows(2).all(|w| w[0] == w[1]), "{dataset}: {first_losses:?}");
    }
}

#[test]
fn verify_retrains_and_finds_the_same_bytes_and_catches_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "seeds = 2\n[base]\nepochs = 30\n[grid]\nlr = [0.1, 1.0]\n");
    sweep(tmp.path()).args(["m.toml", "--out", "r"]).assert().success();
    let out = sweep(tmp.path()).args(["verify", "r"]).output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("verified 4 jobs: 4 identical, 0 differ"), "{}", stdout(&out));
    // A stored result that no longer matches what the code computes (here:
    // a corrupted hash) is reported, with exit code 1.
    let params = tmp.path().join("r/jobs/lr-0.1_seed-0/params.toml");
    let p = std::fs::read_to_string(&params).unwrap();
    let line = p.lines().find(|l| l.starts_with("files_hash")).unwrap().to_string();
    std::fs::write(&params, p.replace(&line, "files_hash = \"0000000000000000\"")).unwrap();
    let out = sweep(tmp.path()).args(["verify", "r", "--sample", "4"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("CHANGED params.toml in jobs/lr-0.1_seed-0"), "{}", stdout(&out));
    assert!(stdout(&out).contains("verified 4 jobs: 3 identical, 1 differ"), "{}", stdout(&out));
}

#[test]
fn verify_with_a_sample_still_checks_every_job_against_its_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "seeds = 2\n[base]\nepochs = 30\n[grid]\nlr = [0.1, 1.0]\n");
    sweep(tmp.path()).args(["m.toml", "--out", "r"]).assert().success();
    let jobs = ["lr-0.1_seed-0", "lr-0.1_seed-1", "lr-1.0_seed-0", "lr-1.0_seed-1"];
    // Every job damaged: one curve changed, the others' curves removed.
    for (i, id) in jobs.iter().enumerate() {
        let curve = tmp.path().join(format!("r/jobs/{id}/curve.csv"));
        if i == 0 {
            let text = std::fs::read_to_string(&curve).unwrap();
            std::fs::write(&curve, text.replacen('0', "1", 1)).unwrap();
        } else {
            std::fs::remove_file(&curve).unwrap();
        }
    }
    let out = sweep(tmp.path()).args(["verify", "r", "--sample", "1"]).output().unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("CHANGED curve.csv in jobs/{}", jobs[0])), "{text}");
    for id in &jobs[1..] {
        assert!(text.contains(&format!("MISSING curve.csv in jobs/{id}")), "{text}");
    }
    assert!(text.contains("verified 1 job: 0 identical, 1 differ"), "{text}");
    assert!(text.contains("checked the files of 3 jobs more"), "{text}");
}

#[test]
fn plan_order_and_ids_are_stable() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "m.toml",
        "seeds = 2\n[zip]\nepochs = [100, 200]\nhidden = [[2, 2], [4]]\n[grid]\nlr = [0.1, 0.01]\n\
         [[exclude]]\nepochs = 200\nlr = 0.01\n[[include]]\nactivation = \"tanh\"\n",
    );
    let out = sweep(tmp.path()).args(["plan", "m.toml", "--format", "csv"]).output().unwrap();
    assert!(out.status.success());
    // Snapshot: the zip first, then the grid (last axis fastest), seeds
    // innermost, then includes; shards and resume rely on this order.
    let want = "\
index,job_id,seed,epochs,hidden,lr,activation
0,epochs-100_hidden-2x2_lr-0.1_seed-0,0,100,\"[2, 2]\",0.1,
1,epochs-100_hidden-2x2_lr-0.1_seed-1,1,100,\"[2, 2]\",0.1,
2,epochs-100_hidden-2x2_lr-0.01_seed-0,0,100,\"[2, 2]\",0.01,
3,epochs-100_hidden-2x2_lr-0.01_seed-1,1,100,\"[2, 2]\",0.01,
4,epochs-200_hidden-4_lr-0.1_seed-0,0,200,[4],0.1,
5,epochs-200_hidden-4_lr-0.1_seed-1,1,200,[4],0.1,
6,activation-tanh_seed-0,0,,,,tanh
7,activation-tanh_seed-1,1,,,,tanh
";
    assert_eq!(stdout(&out), want);
    let table = sweep(tmp.path()).args(["plan", "m.toml"]).output().unwrap();
    assert!(stdout(&table).contains("8 jobs, 10800 job-epochs"), "{}", stdout(&table));
    let json = sweep(tmp.path()).args(["plan", "m.toml", "--format", "json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["count"], 8);
    assert_eq!(doc["jobs"][4]["params"]["hidden"], serde_json::json!([4]));
}

#[test]
fn export_gives_one_tidy_row_per_job_and_logged_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "seeds = 2\n[base]\nepochs = 10\nlog_every = 5\n[grid]\nlr = [0.1, 1.0]\n");
    sweep(tmp.path()).args(["m.toml", "--out", "r"]).assert().success();
    let out = sweep(tmp.path()).args(["export", "r"]).output().unwrap();
    let text = stdout(&out);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("job_id,seed,dataset,")
            && header.ends_with(",status,epoch,train_loss,train_accuracy,test_loss,test_accuracy")
    );
    let names: Vec<&str> = header.split(',').collect();
    let distinct: std::collections::BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(distinct.len(), names.len(), "every column name once (pandas renames repeats): {header}");
    assert_eq!(lines.count(), 4 * 3, "4 jobs x epochs 0, 5, 10");
    let json = sweep(tmp.path()).args(["export", "r", "--format", "json"]).output().unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows.len(), 12);
    assert_eq!(rows[0]["lr"], 0.1);
    assert_eq!(rows[2]["epoch"], 10);
    assert_eq!(rows[0]["loss"], "mse", "the parameter keeps its name");
    assert!(rows[0]["train_loss"].is_f64(), "the curve's loss: {}", rows[0]);
    assert_eq!(rows[0]["bias"], false, "booleans typed from the table");
}

#[test]
fn a_closed_stdout_is_a_quiet_exit() {
    // `sweep plan | head -1`, `sweep export | head -1`: no error, exit 0.
    // Each output is over 64 KiB, a pipe's buffer, so sweep is still writing
    // when the reader leaves.
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "plan.toml", "seeds = 5000\n");
    write(tmp.path(), "long.toml", "[base]\nepochs = 3000\n");
    sweep(tmp.path()).args(["long.toml", "--out", "r", "--quiet"]).assert().success();
    let bin = assert_cmd::cargo::cargo_bin("sweep");
    for args in [&["plan", "plan.toml"][..], &["export", "r"][..]] {
        let whole = sweep(tmp.path()).args(args).output().unwrap();
        assert!(
            whole.status.success() && whole.stdout.len() > 64 << 10,
            "{args:?}: {} bytes",
            whole.stdout.len()
        );
        let mut child = std::process::Command::new(&bin)
            .current_dir(tmp.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        assert_eq!(first[..], whole.stdout[..16], "{args:?}");
        drop(child.stdout.take()); // the reader goes away, as `head` does
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The stop flag is the one `RunOptions` carries (no process-wide state):
/// set before the run, nothing trains and every job counts as cancelled.
#[test]
fn a_run_whose_stop_flag_is_set_trains_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let tmp = tempfile::tempdir().unwrap();
    let m = write(tmp.path(), "m.toml", "seeds = 3\n[base]\nepochs = 5\n");
    let plan = sweep::plan::Plan::new(sweep::manifest::Manifest::load(&m, &[]).unwrap()).unwrap();
    let opts = sweep::runner::RunOptions {
        threads: Some(1),
        cancel: Some(Arc::new(AtomicBool::new(true))),
        ..Default::default()
    };
    let report = sweep::runner::run_plan(&plan, &tmp.path().join("r"), &opts, &|_| {}).unwrap();
    assert_eq!((report.ran, report.cancelled), (0, 3));
    let other = sweep::runner::RunOptions { threads: Some(1), ..Default::default() };
    let report = sweep::runner::run_plan(&plan, &tmp.path().join("r"), &other, &|_| {}).unwrap();
    assert_eq!((report.ran, report.cancelled), (3, 0), "the flag belongs to the first run only");
}

/// Ctrl-C while a run reads its finished jobs back (seconds for a folder of
/// 100,000) stops the scan at once: nothing is read further, and nothing is
/// written (manifest.toml is not even replaced).
#[test]
fn a_stop_during_the_resume_scan_stops_it_and_writes_nothing() {
    use std::os::unix::fs::MetadataExt;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let tmp = tempfile::tempdir().unwrap();
    let m = write(tmp.path(), "m.toml", "seeds = 3\n[base]\nepochs = 5\n");
    let plan = sweep::plan::Plan::new(sweep::manifest::Manifest::load(&m, &[]).unwrap()).unwrap();
    let out = tmp.path().join("r");
    let first = sweep::runner::RunOptions { threads: Some(1), ..Default::default() };
    sweep::runner::run_plan(&plan, &out, &first, &|_| {}).unwrap();
    let inode = |name: &str| std::fs::metadata(out.join(name)).unwrap().ino();
    let before = (inode("manifest.toml"), inode("summary.csv"));
    let stopped = sweep::runner::RunOptions {
        threads: Some(1),
        cancel: Some(Arc::new(AtomicBool::new(true))),
        ..Default::default()
    };
    let report = sweep::runner::run_plan(&plan, &out, &stopped, &|_| {}).unwrap();
    assert_eq!((report.ran, report.skipped, report.cancelled), (0, 0, 3), "the scan went on");
    assert_eq!((inode("manifest.toml"), inode("summary.csv")), before, "a stopped run wrote files");
}

#[test]
fn summarize_names_the_damaged_jobs_it_leaves_out_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "seeds = 2\n[base]\nepochs = 30\n[grid]\nlr = [0.1, 1.0]\n");
    sweep(tmp.path()).args(["m.toml", "--out", "r"]).assert().success();
    let out = sweep(tmp.path()).args(["summarize", "r"]).output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    let curve = tmp.path().join("r/jobs/lr-0.1_seed-1/curve.csv");
    let original = std::fs::read_to_string(&curve).unwrap();
    std::fs::write(&curve, original.replacen('0', "1", 1)).unwrap();
    std::fs::remove_file(tmp.path().join("r/jobs/lr-1.0_seed-0/curve.csv")).unwrap();

    let out = sweep(tmp.path()).args(["summarize", "r"]).output().unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("2 jobs\n"), "{text}");
    assert!(text.contains("left out 2 jobs"), "{text}");
    assert!(text.contains("jobs/lr-0.1_seed-1: CHANGED curve.csv"), "{text}");
    assert!(text.contains("jobs/lr-1.0_seed-0: MISSING curve.csv"), "{text}");
    assert!(text.contains("sweep verify r") && text.contains("running the manifest again"), "{text}");
    let summary = std::fs::read_to_string(tmp.path().join("r/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 3, "a header and the 2 whole jobs: {summary}");
    // A reader refusing names the first and counts the others in words
    // (it said "(and 1 more damaged job(s))", and "(and 0 more ...)" for one).
    let out = sweep(tmp.path()).args(["export", "r", "--out", "e.csv"]).output().unwrap();
    assert!(stderr(&out).contains("(and 1 more damaged job):"), "{}", stderr(&out));
    assert!(stderr(&out).contains("lists them"), "{}", stderr(&out));
    std::fs::write(&curve, original).unwrap();
    let out = sweep(tmp.path()).args(["export", "r", "--out", "e.csv"]).output().unwrap();
    assert!(!stderr(&out).contains("more damaged") && stderr(&out).contains("lists it"), "{}", stderr(&out));
}

/// A parameter edited in a job's params.toml: its own hash no longer
/// matches, so the job is damaged, not "of another configuration" (readers
/// left it out without a word while `run` said CHANGED params.toml).
#[test]
fn an_edited_params_toml_is_named_as_changed_by_readers() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "m.toml", "seeds = 2\n[base]\nepochs = 30\n");
    sweep(tmp.path()).args(["m.toml", "--out", "r"]).assert().success();
    let params = tmp.path().join("r/jobs/seed-1/params.toml");
    let text = std::fs::read_to_string(&params).unwrap();
    assert!(text.contains("epochs = 30"), "{text}");
    std::fs::write(&params, text.replace("epochs = 30", "epochs = 31")).unwrap();
    let out = sweep(tmp.path()).args(["summarize", "r"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("jobs/seed-1: CHANGED params.toml"), "{}", stdout(&out));
    let out = sweep(tmp.path()).args(["verify", "r"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("CHANGED params.toml in jobs/seed-1"), "{}", stdout(&out));
}

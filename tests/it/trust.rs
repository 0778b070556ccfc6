//! A results folder you can trust under misuse (issue 12, SPEC 6): one test
//! per way a careless or new user broke it. Each runs the real binary on
//! temporary folders.

use std::fs;
use std::path::Path;

use crate::common::{snapshot, stderr, stdout, sweep, write};

const SMALL: &str = "seeds = 2\n[base]\nepochs = 20\n[grid]\nlr = [0.1, 0.5]\n";

/// A home folder as a careless `--out "$HOME"` finds it: files in `.tmp/`
/// shaped like sweep's temporary names, a lock file, and a `.cache` link to
/// scratch space.
fn fake_home(root: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let home = root.join("home");
    let scratch = root.join("scratch");
    write(&home, ".tmp/thesis.2024.tex", "\\documentclass{article}\n");
    write(&home, ".tmp/site.2019.bak/deep/index.html", "<html></html>\n");
    write(&home, ".tmp/editor.lock", "1\n");
    write(&home, "notes.txt", "mine\n");
    write(&scratch, "big.2020.dat", "data\n");
    write(&scratch, "job.lock", "2\n");
    std::os::unix::fs::symlink(&scratch, home.join(".cache")).unwrap();
    (home, scratch)
}

/// Repro 1: `--out "$HOME"` deleted files in `.tmp/` it did not create.
/// Now no command writes into, or deletes from, a folder that is not a
/// results folder: each is refused with exit 2 and the folder is unchanged.
#[test]
fn a_folder_with_foreign_files_is_untouched_by_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    let (home, scratch) = fake_home(cwd);
    let (before, scratch_before) = (snapshot(&home), snapshot(&scratch));
    let h = home.to_str().unwrap();
    let commands: [&[&str]; 6] = [
        &["run", "m.toml", "--out", h],
        &["summarize", h],
        &["report", h],
        &["verify", h],
        &["export", h],
        &["export", h, "--out", "e.csv"],
    ];
    for args in commands {
        let out = sweep(cwd).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("not a results folder"), "{args:?}: {}", stderr(&out));
        assert_eq!(snapshot(&home), before, "{args:?} changed the folder");
        assert_eq!(snapshot(&scratch), scratch_before, "{args:?} changed the link's target");
    }
}

/// Repro 1, the link: a results folder whose temporary place is a link to
/// scratch space is refused; nothing in the link's target is deleted.
#[test]
fn sweep_never_cleans_up_through_a_link() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    sweep(cwd).args(["m.toml", "--out", "r"]).assert().success();
    let scratch = cwd.join("scratch");
    write(&scratch, "seed-0.123456.0/keep.txt", "keep\n");
    write(&scratch, "seed-1.lock", "9\n");
    fs::remove_dir_all(cwd.join("r/.sweep/tmp")).unwrap();
    std::os::unix::fs::symlink(&scratch, cwd.join("r/.sweep/tmp")).unwrap();
    let before = snapshot(&scratch);
    let out = sweep(cwd).args(["m.toml", "--out", "r", "--force"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("link"), "{}", stderr(&out));
    assert_eq!(snapshot(&scratch), before);
}

/// Repro 2: `sweep run manifest.toml --out . --set epochs=5` rewrote the
/// user's manifest; `summarize` replaced an unrelated summary.csv.
#[test]
fn out_dot_beside_a_manifest_and_summarize_of_a_foreign_folder_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("proj");
    let text = "# my study, with comments\nseeds = 2\n[base]\nepochs = 20 # short\n";
    write(&proj, "manifest.toml", text);
    let out =
        sweep(&proj).args(["run", "manifest.toml", "--out", ".", "--set", "epochs=5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(proj.join("manifest.toml")).unwrap(), text);
    assert_eq!(snapshot(&proj).len(), 1, "nothing written: {:?}", snapshot(&proj).keys());

    let other = tmp.path().join("some-folder");
    write(&other, "summary.csv", "name,score\nada,3\n");
    let before = snapshot(&other);
    let out = sweep(tmp.path()).args(["summarize", "some-folder/"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(snapshot(&other), before);
    let _ = stdout(&out);
}

/// Copies a folder's files (no links in job folders).
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

/// Repro 5: a truncated curve, a deleted predictions.csv, an edited
/// model.json or params.toml were certified `identical`. Now `verify`
/// catches a one-byte change, a truncation and a deletion of each kind of
/// job file, naming it; `report` and `export` refuse the damaged folder; and
/// `run` retrains the damaged job, saying so.
#[test]
fn verify_run_and_readers_catch_every_damage_to_every_job_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    sweep(cwd).args(["m.toml", "--out", "r"]).assert().success();
    let job = cwd.join("r/jobs/lr-0.1_seed-0");
    copy_dir(&job, &cwd.join("backup"));
    let clean = fs::read(cwd.join("r/summary.csv")).unwrap();
    for file in ["params.toml", "curve.csv", "predictions.csv", "model.json"] {
        let p = job.join(file);
        let bytes = fs::read(&p).unwrap();
        let mut one_byte = bytes.clone();
        let at = bytes.iter().position(u8::is_ascii_digit).unwrap();
        one_byte[at] = if bytes[at] == b'1' { b'2' } else { b'1' };
        let damages: [(&str, Option<Vec<u8>>, &str); 3] = [
            ("one byte", Some(one_byte), "CHANGED"),
            ("truncated", Some(bytes[..bytes.len() / 2].to_vec()), "CHANGED"),
            ("deleted", None, "MISSING"),
        ];
        for (what, damaged, word) in damages {
            match &damaged {
                Some(b) => fs::write(&p, b).unwrap(),
                None => fs::remove_file(&p).unwrap(),
            }
            let out = sweep(cwd).args(["verify", "r"]).output().unwrap();
            let text = stdout(&out);
            assert_eq!(out.status.code(), Some(1), "{file} {what}: {text}{}", stderr(&out));
            assert!(text.contains(&format!("{word} {file} in jobs/lr-0.1_seed-0")), "{file} {what}: {text}");
            assert!(text.contains("3 identical, 1 differ"), "{file} {what}: {text}");
            for reader in [&["report", "r"][..], &["export", "r"]] {
                let out = sweep(cwd).args(reader).output().unwrap();
                assert_eq!(out.status.code(), Some(2), "{reader:?} {file} {what}: a refusal");
                assert!(stderr(&out).contains(word), "{reader:?} {file} {what}: {}", stderr(&out));
            }
            fs::write(&p, &bytes).unwrap();
        }
    }
    // `run` retrains a damaged job and says so.
    fs::write(job.join("curve.csv"), "epoch,loss\n").unwrap();
    let out = sweep(cwd).args(["m.toml", "--out", "r"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 job run, 3 skipped"), "{}", stdout(&out));
    assert!(stderr(&out).contains("CHANGED curve.csv"), "{}", stderr(&out));
    assert_eq!(fs::read(job.join("curve.csv")).unwrap(), fs::read(cwd.join("backup/curve.csv")).unwrap());
    assert_eq!(fs::read(cwd.join("r/summary.csv")).unwrap(), clean);
}

/// params.toml's own hash covers the text above `[files]`: a byte added or
/// changed below it (a trailing newline, a comment, another file's recorded
/// hash, the table's own lines) was not noticed by verify, the readers or a
/// resume. Now every such edit is `CHANGED params.toml` (and an edited hash
/// is not blamed on the file it names), and `run` retrains the job.
#[test]
fn any_edit_below_files_in_params_toml_is_a_changed_params_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    sweep(cwd).args(["m.toml", "--out", "r"]).assert().success();
    let p = cwd.join("r/jobs/lr-0.1_seed-0/params.toml");
    let clean = fs::read_to_string(&p).unwrap();
    let files = clean.find("\n[files]\n").unwrap();
    let curve_hash = clean.find("\"curve.csv\" = \"").unwrap() + "\"curve.csv\" = \"".len();
    let flip = |at: usize| {
        let mut b = clean.clone().into_bytes();
        b[at] = if b[at] == b'0' { b'1' } else { b'0' };
        String::from_utf8(b).unwrap()
    };
    let edits = [
        ("a trailing newline", format!("{clean}\n")),
        ("a comment added", format!("{clean}# looked at it\n")),
        ("a space before the end", format!("{} \n", clean.trim_end())),
        ("curve.csv's hash", flip(curve_hash)),
        ("the table's comment", clean.replacen("# SHA-256 of each file", "# SHA-256 of every file", 1)),
        ("a blank line in [files]", clean.replacen("[files]\n", "[files]\n\n", 1)),
        ("the last byte", flip(clean.len() - 2)),
    ];
    assert!(edits.iter().all(|(_, text)| text[..files] == clean[..files]));
    for (what, text) in edits {
        fs::write(&p, &text).unwrap();
        let out = sweep(cwd).args(["verify", "r"]).output().unwrap();
        let said = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {said}{}", stderr(&out));
        assert!(said.contains("CHANGED params.toml in jobs/lr-0.1_seed-0"), "{what}: {said}");
        assert!(!said.contains("curve.csv"), "{what}: the hash was edited, not the curve: {said}");
        // summarize writes the intact jobs' rows and fails (1); report and
        // export refuse the folder (2), as for an edited manifest.toml.
        for (reader, code) in [(&["summarize", "r"][..], 1), (&["report", "r"], 2), (&["export", "r"], 2)] {
            let out = sweep(cwd).args(reader).output().unwrap();
            let said = format!("{}{}", stdout(&out), stderr(&out));
            assert_eq!(out.status.code(), Some(code), "{reader:?} {what}: {said}");
            assert!(said.contains("CHANGED params.toml"), "{reader:?} {what}: {said}");
        }
        let out = sweep(cwd).args(["m.toml", "--out", "r"]).output().unwrap();
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        assert!(stdout(&out).contains("1 job run, 3 skipped"), "{what}: {}", stdout(&out));
        assert!(stderr(&out).contains("CHANGED params.toml"), "{what}: {}", stderr(&out));
        assert_eq!(fs::read_to_string(&p).unwrap(), clean, "{what}");
    }
}

/// Repro 5, the summary: an edited summary.csv (or params.toml) no longer
/// flows into a report: readers check summary.csv against the job folders
/// and rebuild it.
#[test]
fn readers_rebuild_a_summary_that_does_not_match_the_job_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    sweep(cwd).args(["m.toml", "--out", "r"]).assert().success();
    let clean = fs::read_to_string(cwd.join("r/summary.csv")).unwrap();
    fs::write(cwd.join("r/summary.csv"), clean.replacen("lr-0.1_seed-0", "lr-9_seed-0", 1)).unwrap();
    let out = sweep(cwd).args(["export", "r"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("did not match the job folders"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("lr-9"));
    assert_eq!(fs::read_to_string(cwd.join("r/summary.csv")).unwrap(), clean);
}

/// Repro 3: another manifest of the same name (`b` adds `dataset = "xor"`
/// to `[base]`) silently retrained `a`'s finished jobs in place. Now it is
/// refused with what differs and how many jobs, unless --force.
#[test]
fn another_study_into_an_existing_folder_is_refused_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "a/study.toml", SMALL);
    write(cwd, "b/study.toml", &SMALL.replace("[base]\n", "[base]\ndataset = \"xor\"\n"));
    sweep(cwd).args(["a/study.toml"]).assert().success();
    let before = snapshot(&cwd.join("results/study/jobs"));
    for args in [
        &["b/study.toml"][..],
        &["a/study.toml", "b/study.toml"],
        &["b/study.toml", "--out", "results/study"],
    ] {
        let out = sweep(cwd).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        if args.len() == 2 {
            // Two manifests into one folder are refused before either runs
            // (ncrun: with --force, the second replaced the first's results).
            assert!(
                err.contains("a/study.toml and b/study.toml would both write into results/study"),
                "{args:?}: {err}"
            );
        } else {
            assert!(
                err.contains("dataset: linear -> xor") && err.contains("4 finished jobs"),
                "{args:?}: {err}"
            );
        }
        assert_eq!(snapshot(&cwd.join("results/study/jobs")), before, "{args:?}");
    }
    let out = sweep(cwd).args(["b/study.toml", "--force"]).output().unwrap();
    assert!(out.status.success() && stdout(&out).contains("4 jobs run"), "{}", stderr(&out));
}

/// A plan that drops jobs keeps their folders, counts them nowhere, names
/// them in the closing line; `sweep prune` lists them, `--delete` removes
/// exactly those.
#[test]
fn jobs_outside_the_plan_are_kept_named_and_pruned_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "m.toml", SMALL);
    sweep(cwd).args(["m.toml", "--out", "r"]).assert().success();
    let out = sweep(cwd).args(["m.toml", "--out", "r", "--set", "grid.lr=[0.1]"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("0 jobs run, 2 skipped"), "{}", stdout(&out));
    assert!(stdout(&out).contains("2 jobs outside this plan kept"), "{}", stdout(&out));
    let summary = fs::read_to_string(cwd.join("r/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 3, "{summary}");
    assert!(!summary.contains("lr-0.5"), "{summary}");
    let out = sweep(cwd).args(["verify", "r"]).output().unwrap();
    assert!(stdout(&out).contains("verified 2 jobs"), "{}", stdout(&out));
    let out = sweep(cwd).args(["prune", "r"]).output().unwrap();
    assert!(stdout(&out).contains("outside the plan: jobs/lr-0.5_seed-1"), "{}", stdout(&out));
    assert_eq!(fs::read_dir(cwd.join("r/jobs")).unwrap().count(), 4, "a dry run removes nothing");
    write(cwd, "r/jobs/mine/notes.txt", "not sweep's\n");
    let out = sweep(cwd).args(["prune", "r", "--delete"]).output().unwrap();
    assert!(stdout(&out).contains("removed 2 job folders"), "{}", stdout(&out));
    let mut left: Vec<String> = fs::read_dir(cwd.join("r/jobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["lr-0.1_seed-0", "lr-0.1_seed-1", "mine"]);
}

/// Repro 4: two runs at once on one folder with different studies mixed
/// their jobs. Now the second is refused, naming the first, and the folder
/// holds one study.
#[test]
fn two_concurrent_different_studies_never_mix() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(
        cwd,
        "m.toml",
        "seeds = 20\n[base]\nepochs = 3000\nhidden = [16, 16]\nlog_every = 100\n[grid]\nlr = [0.1, 0.01]\n",
    );
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("sweep"))
        .current_dir(cwd)
        .args(["m.toml", "--out", "r", "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !cwd.join("r/manifest.toml").exists() {
        assert!(std::time::Instant::now() < deadline, "the first run did not start");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let out = sweep(cwd).args(["m.toml", "--out", "r", "--set", "epochs=2000"]).output().unwrap();
    let still_running = first.try_wait().unwrap().is_none();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    if still_running {
        assert!(stderr(&out).contains(&format!("pid {}", first.id())), "{}", stderr(&out));
    }
    assert!(first.wait().unwrap().success());
    let summary = fs::read_to_string(cwd.join("r/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 41);
    assert!(summary.lines().skip(1).all(|l| l.contains(",3000,")), "{summary}");
    let out = sweep(cwd).args(["verify", "r", "--sample", "4"]).output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
}

/// Repro 6: a CSV study gave different test sets (and so different results)
/// run from its folder, from the parent, and on Slurm (absolute path): the
/// data stream was keyed by the path as resolved. Now it is keyed by the
/// file's contents: the same bytes from any working directory, through a
/// link and with an absolute path, and `verify` finds them identical.
#[test]
fn one_csv_study_gives_the_same_bytes_from_any_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let mut csv = String::from("a,b,label\n");
    for i in 0..30 {
        let (a, b) = (f64::from(i) / 30.0, f64::from((i * 7) % 30) / 30.0);
        csv.push_str(&format!("{a},{b},{}\n", u8::from(a + b > 1.0)));
    }
    write(cwd, "m/bc.csv", &csv);
    write(cwd, "m/bc.toml", "seeds = 3\n[base]\ndataset = \"bc.csv\"\ntest_fraction = 0.2\nepochs = 30\n");
    std::os::unix::fs::symlink(cwd.join("m"), cwd.join("link")).unwrap();
    let absolute = cwd.join("m/bc.toml");
    sweep(&cwd.join("m")).args(["bc.toml", "--out", "../inside"]).assert().success();
    sweep(cwd).args(["m/bc.toml", "--out", "parent"]).assert().success();
    sweep(cwd).args([absolute.to_str().unwrap(), "--out", "absolute"]).assert().success();
    sweep(cwd).args(["link/bc.toml", "--out", "linked"]).assert().success();
    for other in ["parent", "absolute", "linked"] {
        crate::common::assert_same_tree(&cwd.join("inside"), &cwd.join(other));
    }
    let out = sweep(cwd).args(["verify", "parent"]).output().unwrap();
    assert!(stdout(&out).contains("3 identical, 0 differ"), "{}", stdout(&out));
}

/// The same project checked out in two places (two clones, two students'
/// home folders) writes the same bytes: params.toml records the manifest's
/// folder relative to the results folder, never as an absolute path, and
/// verify still finds the data file from there.
#[test]
fn one_csv_study_gives_the_same_bytes_wherever_the_project_is_checked_out() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = "a,b,label\n0.1,0.9,1\n0.8,0.2,0\n0.3,0.6,1\n0.9,0.4,0\n0.2,0.8,1\n0.7,0.1,0\n";
    for clone in ["one/project", "two/deeper/project"] {
        let root = tmp.path().join(clone);
        write(&root, "data/d.csv", csv);
        write(&root, "experiments/m.toml", "seeds = 2\n[base]\ndataset = \"../data/d.csv\"\nepochs = 20\n");
        sweep(&root).args(["experiments/m.toml", "--quiet"]).assert().success();
        let params = std::fs::read_to_string(root.join("results/m/jobs/seed-0/params.toml")).unwrap();
        assert!(params.contains("paths_relative_to = \"../../experiments\""), "{params}");
        let out = sweep(&root).args(["verify", "results/m"]).output().unwrap();
        assert!(stdout(&out).contains("2 identical, 0 differ"), "{}{}", stdout(&out), stderr(&out));
    }
    crate::common::assert_same_tree(
        &tmp.path().join("one/project/results/m/jobs"),
        &tmp.path().join("two/deeper/project/results/m/jobs"),
    );
}

/// Repro 7: huge layers or sample counts planned as a few bytes of curves,
/// then aborted on allocation (exit 134, a temporary folder left), and the
/// 5 GB gate counted curves only. Now memory and disk are estimated per job
/// (data, network buffers, predictions, model) and an oversized plan exits
/// 2 with the estimate, before anything is created.
#[test]
fn oversized_plans_exit_2_with_the_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "wide.toml", "[base]\nhidden = [100000, 100000]\nepochs = 1\n");
    write(cwd, "many.toml", "[base]\nn_samples = 1000000000000\nepochs = 1\n");
    write(cwd, "big.toml", "seeds = 20\n[base]\nn_samples = 10000000\nepochs = 1\n");
    for (manifest, words) in [
        ("wide.toml", &["of memory", "beyond this machine"][..]),
        ("many.toml", &["of memory", "beyond this machine"]),
        ("big.toml", &["of predictions"]),
    ] {
        let out = sweep(cwd).args([manifest, "--out", "r", "--threads", "1"]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{manifest}: {err}");
        assert!(words.iter().all(|w| err.contains(w)), "{manifest}: {err}");
        assert!(!cwd.join("r").exists(), "{manifest}: nothing created");
    }
    let plan = sweep(cwd).args(["plan", "big.toml"]).output().unwrap();
    let text = stdout(&plan);
    assert!(text.contains("GB on disk") && text.contains("GB of predictions"), "{text}");
    assert!(text.contains("of memory per job"), "{text}");
    // Files the `save` key leaves out are not counted: the same plan
    // without predictions.csv and model.json is a few kB of curves, and
    // its run is not held at the 5 GB gate.
    write(cwd, "big-unsaved.toml", "seeds = 20\n[base]\nn_samples = 10000000\nepochs = 1\nsave = []\n");
    let plan = sweep(cwd).args(["plan", "big-unsaved.toml"]).output().unwrap();
    let text = stdout(&plan);
    assert!(text.contains("no predictions.csv (save), no model.json (save)"), "{text}");
    assert!(!text.contains("GB on disk"), "{text}");
}

//! Soak test, ignored by default (minutes long):
//!
//! ```text
//! cargo test --test soak -- --ignored --nocapture
//! SOAK_RNG=42 SOAK_SEEDS=200 cargo test --test soak -- --ignored --nocapture
//! ```
//!
//! A 60,000-job sweep (10 epochs each; `SOAK_SEEDS` x 10 jobs, default 6000
//! seeds: an uninterrupted run takes 10 to 30 s in the dev build on a
//! 2-core machine, so the kill delays, 0.2 to 4 s at first, land mid-run;
//! at 2000 seeds a run could end in 3 s, before most of them; the whole
//! soak takes about ten minutes) is killed at random moments, mostly with SIGKILL and sometimes
//! with Ctrl-C (SIGINT), and resumed until a run ends by itself. After every
//! interruption the folder must hold only whole job folders and never fewer
//! than before; a Ctrl-C'd run must exit 130 and leave nothing in `.tmp`.
//! Finally the results must be byte-identical (timing.csv aside) to an
//! uninterrupted run's. `SOAK_RNG` seeds the kill schedule (printed).

#[path = "it/common.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_same_tree, sweep, write};

/// xorshift64*: enough randomness for a kill schedule.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [lo, hi).
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Checks every job folder is whole; returns how many there are.
fn whole_jobs(results: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(results.join("jobs")) else { return 0 };
    let mut n = 0;
    for e in entries {
        let dir = e.unwrap().path();
        for f in ["curve.csv", "predictions.csv", "model.json"] {
            assert!(dir.join(f).is_file(), "{} lacks {f}", dir.display());
        }
        let job = sweep::store::read_job(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert_eq!(job.result.files_hash.len(), 16, "{}", dir.display());
        n += 1;
    }
    n
}

#[test]
#[ignore = "minutes long: cargo test --test soak -- --ignored --nocapture"]
fn a_60000_job_sweep_killed_at_random_resumes_to_the_bytes_of_an_uninterrupted_run() {
    let seeds: usize = std::env::var("SOAK_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(6000);
    let rng_seed: u64 = std::env::var("SOAK_RNG").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    let jobs = seeds * 10;
    eprintln!("soak: {jobs} jobs, SOAK_RNG={rng_seed}");
    let mut rng = Rng(rng_seed);
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(
        cwd,
        "soak.toml",
        &format!(
            "seeds = {seeds}\n[base]\nepochs = 10\n[grid]\nlr = [1.0, 0.1, 0.01, 0.001, 0.0001]\n\
             dataset = [\"linear\", \"xor\"]\n"
        ),
    );
    let bin = assert_cmd::cargo::cargo_bin("sweep");
    let start = Instant::now();
    let (mut kills, mut interrupts, mut runs, mut finished) = (0, 0, 0, 0);
    loop {
        runs += 1;
        let mut child = Command::new(&bin)
            .current_dir(cwd)
            .args(["soak.toml", "--out", "r", "--threads", "2", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Late attempts are left longer, so the soak always ends.
        let delay = Duration::from_secs_f64(rng.between(0.2, 4.0) * (1.0 + runs as f64 / 20.0));
        let deadline = Instant::now() + delay;
        while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            assert!(status.success(), "run {runs} failed: {}", String::from_utf8_lossy(&out.stderr));
            break;
        }
        if rng.next().is_multiple_of(4) {
            interrupts += 1;
            let ok = Command::new("kill").arg("-INT").arg(child.id().to_string()).status().unwrap();
            assert!(ok.success());
            let t0 = Instant::now();
            let out = child.wait_with_output().unwrap();
            let took = t0.elapsed();
            let err = String::from_utf8_lossy(&out.stderr);
            // Exit 0 if the run finished just before the signal was handled.
            assert!(matches!(out.status.code(), Some(130) | Some(0)), "run {runs}: {:?} {err}", out.status);
            if out.status.code() == Some(130) {
                assert!(err.contains("resume with: "), "{err}");
                let left: Vec<_> = std::fs::read_dir(cwd.join("r/.sweep/tmp")).unwrap().flatten().collect();
                assert!(left.is_empty(), "Ctrl-C left {} entries in .tmp", left.len());
            }
            eprintln!("run {runs}: Ctrl-C after {delay:.1?}, stopped in {took:.2?}");
        } else {
            kills += 1;
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
        }
        let now = whole_jobs(&cwd.join("r"));
        assert!(now >= finished, "finished jobs went from {finished} to {now}");
        eprintln!("run {runs}: {now} of {jobs} jobs finished ({:.0?} in)", start.elapsed());
        finished = now;
    }
    let soak_time = start.elapsed();
    assert_eq!(whole_jobs(&cwd.join("r")), jobs);
    let left: Vec<_> = std::fs::read_dir(cwd.join("r/.sweep/tmp")).unwrap().flatten().collect();
    assert!(left.is_empty(), "the last run leaves .tmp empty: {left:?}");

    let t0 = Instant::now();
    sweep(cwd).args(["soak.toml", "--out", "clean", "--threads", "2", "--quiet"]).assert().success();
    let clean_time = t0.elapsed();
    assert_same_tree(&cwd.join("r"), &cwd.join("clean"));
    sweep(cwd).args(["verify", "r", "--sample", "100"]).assert().success();
    eprintln!(
        "soak: {jobs} jobs identical to an uninterrupted run after {runs} runs ({kills} SIGKILLs, \
         {interrupts} Ctrl-Cs) in {soak_time:.0?}; the uninterrupted run took {clean_time:.0?}"
    );
}

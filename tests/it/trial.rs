//! What the second newcomer's trial found, each through the real binary:
//! diff's verdict on the data of a moved folder or a gone data file, one
//! CAUSE line for the jobs one changed data file explains, an edited pack
//! index named as the culprit, export to standard output refusing a
//! damaged folder before its first byte, an edited manifest.toml never
//! overwritten by a run, and the size gate counting the shard's jobs.

use crate::common::{stderr, stdout, sweep, write};

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

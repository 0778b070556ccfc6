//! A run never replaces results it should not (SPEC 6, "Ownership"): a
//! finished job of another configuration hash is refused like another
//! study, whatever made the hash change; a job folder holding anything
//! sweep did not write there is never replaced or deleted.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::common::{stderr, stdout, sweep, write};

/// Every entry under `root`, links as their target (never followed), as
/// relative path -> contents.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                out.insert(rel, format!("-> {}", fs::read_link(&p).unwrap().display()));
            } else if meta.is_dir() {
                out.insert(rel.clone(), "/".into());
                walk(root, &p, out);
            } else {
                out.insert(rel, String::from_utf8_lossy(&fs::read(&p).unwrap()).into_owned());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

const IRIS: &str = "seeds = 2\n[base]\ndataset = \"../iris_copy.csv\"\nlabel_column = \"species\"\n\
                    output_activation = \"softmax\"\nloss = \"ce\"\nepochs = 30\n[grid]\nlr = [0.1, 0.01]\n";

/// Repro: editing one cell of the CSV a study trained on, then running the
/// same command again, replaced every finished job ("4 jobs run, 0
/// skipped", exit 0). Now it is refused as another study is, naming the
/// file, and nothing changes; --force retrains.
#[test]
fn a_changed_data_file_is_refused_like_another_study() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let iris = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/iris.csv")).unwrap();
    write(cwd, "iris_copy.csv", &iris);
    write(cwd, "exp/m.toml", IRIS);
    sweep(cwd).args(["exp/m.toml", "--out", "R"]).assert().success();
    let before = snapshot(&cwd.join("R/jobs"));
    write(cwd, "iris_copy.csv", &iris.replacen("5.1,3.5", "5.2,3.5", 1));
    let out = sweep(cwd).args(["exp/m.toml", "--out", "R"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("another study")
            && err.contains("../iris_copy.csv (dataset) changed since the jobs ran")
            && err.contains("4 finished jobs")
            && err.contains("--force")
            && err.contains("--out"),
        "{err}"
    );
    assert_eq!(snapshot(&cwd.join("R/jobs")), before, "nothing replaced");
    let out = sweep(cwd).args(["exp/m.toml", "--out", "R", "--force"]).output().unwrap();
    assert!(out.status.success() && stdout(&out).contains("4 jobs run"), "{}", stderr(&out));
}

/// The same for a weights file given as `init`: an edited weight is another
/// configuration, refused and named.
#[test]
fn a_changed_weights_file_is_refused_like_another_study() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "first.toml", "seeds = 1\n[base]\nepochs = 5\n");
    sweep(cwd).args(["first.toml", "--out", "first"]).assert().success();
    let weights = fs::read_to_string(cwd.join("first/jobs/seed-0/model.json")).unwrap();
    write(cwd, "w.json", &weights);
    write(cwd, "m.toml", "seeds = 2\n[base]\ninit = \"w.json\"\nepochs = 20\n");
    sweep(cwd).args(["m.toml", "--out", "R"]).assert().success();
    let before = snapshot(&cwd.join("R/jobs"));
    // One weight changed: the first number of the first row.
    let at = weights.find("\"w\": [").unwrap();
    let at = at + weights[at..].find("[-").or_else(|| weights[at..].find("[0")).unwrap() + 1;
    let end = at + weights[at..].find(',').unwrap();
    let edited = format!("{}0.125{}", &weights[..at], &weights[end..]);
    assert_ne!(edited, weights);
    write(cwd, "w.json", &edited);
    let out = sweep(cwd).args(["m.toml", "--out", "R"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("w.json (init) changed since the jobs ran") && err.contains("2 finished jobs"),
        "{err}"
    );
    assert_eq!(snapshot(&cwd.join("R/jobs")), before, "nothing replaced");
}

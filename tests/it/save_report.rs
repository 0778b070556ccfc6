//! A study run with `save = ["model"]` (no predictions.csv) still gets its
//! prediction figures and confusion matrices: the report rebuilds the
//! representative job's data set from its params.toml and runs its
//! model.json on it, giving exactly what predictions.csv would have held.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::common::{sweep, write};

const MANIFEST: &str = "seeds = 2\n[base]\nlabel_column = \"species\"\ntest_fraction = 0.25\nstratify = true\n\
    scale = \"standard\"\noutput_activation = \"softmax\"\nloss = \"ce\"\noptimizer = \"adam\"\nlr = 0.05\n\
    epochs = 30\nhidden = [6]\nbias = true\n[grid]\ndataset = [\"three.csv\", \"two.csv\"]\n";

/// 60 rows of three classes over `inputs` inputs, class names as strings.
fn data(inputs: usize) -> String {
    let mut s = (0..inputs).map(|j| format!("in{j},")).collect::<String>() + "species\n";
    for i in 0..60usize {
        let class = i % 3;
        for j in 0..inputs {
            s += &format!("{},", class as f64 * (j + 1) as f64 + ((i * 7 + j * 3) % 11) as f64 / 8.0);
        }
        s += ["setosa\n", "versicolor\n", "virginica\n"][class];
    }
    s
}

fn figures(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), fs::read(&p).unwrap()))
        .collect()
}

/// The report's section of prediction figures and confusion matrices.
fn predictions_section(dir: &Path) -> String {
    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    let from = md.find("## Ground truth vs prediction").unwrap();
    let to = md[from + 3..].find("\n## ").map_or(md.len(), |i| from + 3 + i);
    md[from..to].to_string()
}

#[test]
fn a_study_without_predictions_csv_draws_the_same_prediction_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "three.csv", &data(3));
    write(cwd, "two.csv", &data(2));
    write(cwd, "m.toml", MANIFEST);
    sweep(cwd).args(["m.toml", "--out", "full"]).assert().success();
    sweep(cwd).args(["m.toml", "--out", "model", "--set", "save=[\"model\"]"]).assert().success();
    for out in ["full", "model"] {
        sweep(cwd).args(["report", out]).assert().success();
    }
    assert!(
        !cwd.join("model/jobs").read_dir().unwrap().any(|j| j
            .unwrap()
            .path()
            .join("predictions.csv")
            .exists())
    );

    let (full, model) = (figures(&cwd.join("full")), figures(&cwd.join("model")));
    let drawn: Vec<&String> = full.keys().filter(|f| f.starts_with("predictions-")).collect();
    assert_eq!(drawn.len(), 2, "{:?}", full.keys());
    assert_eq!(full.keys().collect::<Vec<_>>(), model.keys().collect::<Vec<_>>());
    for (name, bytes) in &full {
        assert!(model[name] == *bytes, "{name} differs without predictions.csv");
    }
    let section = predictions_section(&cwd.join("full"));
    assert_eq!(section.matches("Confusion matrix").count(), 2, "{section}");
    // The same text, but for the line saying where the predictions came from.
    let rebuilt = "The job saved no `predictions.csv` (`save`): its predictions are its `model.json` run on its \
                   data set, rebuilt from its `params.toml` as training built it.\n\n";
    assert!(!section.contains(rebuilt), "{section}");
    assert_eq!(predictions_section(&cwd.join("model")).replace(rebuilt, ""), section);
    assert_eq!(predictions_section(&cwd.join("model")).matches(rebuilt).count(), 2);
}

#[test]
fn a_changed_data_file_is_named_and_its_figure_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    write(cwd, "three.csv", &data(3));
    write(cwd, "two.csv", &data(2));
    write(cwd, "m.toml", MANIFEST);
    sweep(cwd).args(["m.toml", "--out", "model", "--set", "save=[\"model\"]"]).assert().success();
    // One more row: another data stream key, so another split.
    write(cwd, "three.csv", &(data(3) + "1,2,3,setosa\n"));
    sweep(cwd).args(["report", "model"]).assert().success();
    let md = fs::read_to_string(cwd.join("model/report.md")).unwrap();
    assert!(md.contains("three.csv changed since it ran"), "{md}");
    assert!(md.contains("cannot be rebuilt from model.json"), "{md}");
    let drawn: Vec<String> =
        figures(&cwd.join("model")).into_keys().filter(|f| f.starts_with("predictions-")).collect();
    assert_eq!(drawn, ["predictions-two.csv.svg"], "only the unchanged data set is drawn");
}

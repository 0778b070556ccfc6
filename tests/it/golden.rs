//! Every training trajectory in `../shared/golden/` (PyTorch autograd in f64,
//! and a numpy transcription for the lab's back-propagation) is replayed from
//! its stored initial weights and must match at every epoch to a relative
//! 1e-9: loss, accuracy, final weights and final predictions.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use serde_json::Value;
use sweep::data::{Dataset, Split};
use sweep::nn::{Layout, Network};
use sweep::spec::{Activation, Backprop, Loss, Optimizer, Reduction, TrainSpec};
use sweep::train::{self, EpochRecord};
use sweep::weights::WeightsFile;

const TOLERANCE: f64 = 1e-9;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/golden")
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= TOLERANCE * want.abs().max(1e-300) || got == want
}

fn activation(name: &str) -> Activation {
    match name {
        "sigmoid" => Activation::Sigmoid,
        "tanh" => Activation::Tanh,
        "relu" => Activation::Relu,
        "none" => Activation::None,
        other => panic!("golden file uses unknown activation {other}"),
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("golden field {key} missing"))
}

/// Replays one golden file; returns a list of mismatches (empty = pass).
fn replay(path: &Path) -> (Vec<String>, f64) {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (model, tr) = (&doc["model"], &doc["train"]);

    let xs: Vec<Vec<f64>> = serde_json::from_value(doc["data"]["x"].clone()).unwrap();
    let ys: Vec<f64> = serde_json::from_value(doc["data"]["y"].clone()).unwrap();
    let (n, d) = (xs.len(), xs[0].len());
    let x = Array2::from_shape_vec((n, d), xs.concat()).unwrap();
    let data = Split {
        train: Dataset { x, y: Array1::from(ys) },
        test: Dataset { x: Array2::zeros((0, d)), y: Array1::zeros(0) },
        ..Default::default()
    };

    let hidden: Vec<usize> = serde_json::from_value(model["hidden"].clone()).unwrap();
    let bias = model["bias"].as_bool().unwrap();
    let mut sizes = vec![d];
    sizes.extend(&hidden);
    sizes.push(1);
    let layout = Layout::new(&sizes, bias);
    let init: WeightsFile = serde_json::from_value(doc["init"].clone()).unwrap();
    let mut net = Network {
        params: init.to_params(&layout).unwrap(),
        layout,
        activation: activation(str_of(model, "activation")),
        output_activation: activation(str_of(model, "output_activation")),
    };

    let spec = TrainSpec {
        loss: if str_of(tr, "loss") == "bce" { Loss::Bce } else { Loss::Mse },
        reduction: if str_of(tr, "reduction") == "mean" { Reduction::Mean } else { Reduction::Sum },
        backprop: if model.get("backprop").and_then(Value::as_str) == Some("lab") {
            Backprop::Lab
        } else {
            Backprop::Exact
        },
        optimizer: match str_of(tr, "optimizer") {
            "sgd" => Optimizer::Sgd,
            "momentum" => Optimizer::Momentum { momentum: 0.9 },
            "adam" => Optimizer::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 },
            other => panic!("unknown optimizer {other}"),
        },
        lr: tr["lr"].as_f64().unwrap(),
        l2: 0.0,
        batch_size: tr["batch_size"].as_u64().unwrap_or(0) as usize,
        shuffle: false,
        epochs: tr["epochs"].as_u64().unwrap() as usize,
        log_every: 1,
        target_loss: 0.0,
    };

    let mut records: Vec<EpochRecord> = Vec::new();
    let mut unused = sweep::rng::stream(0, "shuffle", &[]);
    let summary = train::train(&spec, &mut net, &data, &mut unused, &mut |r: &EpochRecord| records.push(*r));

    let mut bad = Vec::new();
    let mut worst = 0.0f64;
    let mut rel = |g: f64, w: f64| {
        if w != 0.0 {
            worst = worst.max(((g - w) / w).abs());
        }
    };
    let want_loss: Vec<f64> = serde_json::from_value(doc["expected"]["loss"].clone()).unwrap();
    let want_acc: Vec<f64> = serde_json::from_value(doc["expected"]["accuracy"].clone()).unwrap();
    if records.len() != want_loss.len() {
        bad.push(format!("{} epochs recorded, expected {}", records.len(), want_loss.len()));
    }
    assert!(!summary.diverged(), "golden runs do not diverge");
    for (r, (&l, &a)) in records.iter().zip(want_loss.iter().zip(&want_acc)) {
        rel(r.loss, l);
        if !close(r.loss, l) {
            bad.push(format!(
                "epoch {}: loss {} vs {l} (rel {:.1e})",
                r.epoch,
                r.loss,
                ((r.loss - l) / l).abs()
            ));
        }
        // Accuracies are compared like every value: PyTorch's float mean of the
        // hits may differ from count/n in the last bit.
        if !close(r.accuracy, a) {
            bad.push(format!("epoch {}: accuracy {} vs {a}", r.epoch, r.accuracy));
        }
    }
    let want_final = WeightsFile {
        layers: serde_json::from_value(doc["expected"]["final_layers"].clone()).unwrap(),
        ..Default::default()
    };
    let want_params = want_final.to_params(&net.layout).unwrap();
    for (i, (&g, &w)) in net.params.iter().zip(&want_params).enumerate() {
        rel(g, w);
        if !close(g, w) {
            bad.push(format!("final param {i}: {g} vs {w}"));
        }
    }
    let want_pred: Vec<f64> = serde_json::from_value(doc["expected"]["final_predictions"].clone()).unwrap();
    let pred = train::predictions(&net, &data.train);
    for (i, (&g, &w)) in pred.iter().zip(&want_pred).enumerate() {
        rel(g, w);
        if !close(g, w) {
            bad.push(format!("prediction {i}: {g} vs {w}"));
        }
    }
    (bad, worst)
}

#[test]
fn every_golden_trajectory_matches_pytorch_to_1e_9() {
    let dir = golden_dir();
    if !dir.is_dir() {
        eprintln!(
            "\n!!!!!!!!\n!!! SKIPPING GOLDEN TESTS: {} is absent. The numerics are NOT verified.\n!!!!!!!!\n",
            dir.display()
        );
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden *.json in {}", dir.display());

    let mut failures = Vec::new();
    for f in &files {
        let (bad, worst) = replay(f);
        let name = f.file_name().unwrap().to_string_lossy();
        let verdict = if bad.is_empty() { "ok".to_string() } else { format!("{} MISMATCHES", bad.len()) };
        println!("{name}: {verdict} (largest relative difference {worst:.1e})");
        if !bad.is_empty() {
            failures.push(format!("{name}: {}", bad.iter().take(5).cloned().collect::<Vec<_>>().join("; ")));
        }
    }
    assert!(failures.is_empty(), "golden mismatches:\n{}", failures.join("\n"));
    println!("{} golden files matched", files.len());
}

//! What the lab's network does with the default settings, and the seeding
//! contract of SPEC 5 (common random numbers across the jobs of a seed).
//!
//! The 50,000-epoch outcome tests (linear, and xor with exact and lab
//! back-propagation) assert what the lab's setup achieves and print their
//! tables; see them with `cargo test --test it -- outcomes --nocapture`.

use std::path::Path;

use sweep::data::{self, Dataset, Split};
use sweep::rng;
use sweep::spec::{JobSpec, Optimizer};
use sweep::train::{self, EpochRecord};

/// "Within 50,000 epochs", as the lab report states its results.
const EPOCHS: usize = 50_000;
const SEEDS: std::ops::Range<u64> = 0..10;

fn job(seed: u64, toml_text: &str) -> JobSpec {
    let table: toml::Table = toml::from_str(toml_text).expect("test table parses");
    JobSpec::from_values(seed, &|k| table.get(k).cloned(), Path::new(".")).expect("test job is valid")
}

/// One training run, reduced to what the tables show.
struct Outcome {
    seed: u64,
    /// First epoch whose training accuracy is 1.0 (epoch 0 = before training).
    first_perfect: Option<usize>,
    final_loss: f64,
    final_accuracy: f64,
    min_loss: f64,
}

/// Trains `toml_text` (on top of the defaults) for `EPOCHS` epochs, looking
/// at every epoch's record.
fn outcome(seed: u64, toml_text: &str) -> Outcome {
    let mut spec = job(seed, toml_text);
    spec.train.epochs = EPOCHS;
    spec.train.log_every = 1;
    let mut first_perfect = None;
    let trained = train::run(&spec, &mut |rec: &EpochRecord| {
        if first_perfect.is_none() && rec.accuracy == 1.0 {
            first_perfect = Some(rec.epoch);
        }
    })
    .expect("job runs");
    let s = trained.summary;
    Outcome {
        seed,
        first_perfect,
        final_loss: s.last.loss,
        final_accuracy: s.last.accuracy,
        min_loss: s.min_loss,
    }
}

fn print_table(title: &str, rows: &[Outcome]) {
    println!("\n{title} ({EPOCHS} epochs)");
    println!("| seed | first epoch at 100% | final loss | final accuracy | min loss |");
    println!("|---:|---:|---:|---:|---:|");
    for o in rows {
        let first = o.first_perfect.map_or_else(|| "never".to_string(), |e| e.to_string());
        println!(
            "| {} | {first} | {:.6} | {:.4} | {:.6} |",
            o.seed, o.final_loss, o.final_accuracy, o.min_loss
        );
    }
    let reached = rows.iter().filter(|o| o.first_perfect.is_some()).count();
    println!("reached 100%: {reached}/{}", rows.len());
}

/// The first epoch (<= `max_epochs`) at which `spec` has 100% training
/// accuracy, and the training loss then; stops there rather than training on.
///
/// Trains in chunks of `CHUNK` epochs on the same network. For full-batch
/// sgd that is exactly one long run: sgd has no state, full batch never
/// shuffles, and each chunk's epoch 0 re-evaluates the parameters the
/// previous chunk ended with (checked by `chunked_training_is_one_long_run`).
fn first_perfect_epoch(spec: &JobSpec, max_epochs: usize) -> Option<(usize, f64)> {
    const CHUNK: usize = 250;
    assert!(spec.train.batch_size == 0 && spec.train.optimizer == Optimizer::Sgd);
    let split = data::build(&spec.data, spec.seed).expect("data builds");
    let mut net =
        train::initial_network(spec, split.train.x.ncols(), split.n_classes()).expect("network builds");
    let mut shuffle_rng = rng::stream(spec.seed, "shuffle", &[]);
    let mut chunk = spec.train.clone();
    chunk.log_every = 1;
    let mut done = 0;
    while done < max_epochs {
        chunk.epochs = CHUNK.min(max_epochs - done);
        let mut found = None;
        train::train(&chunk, &mut net, &split, &mut shuffle_rng, &mut |rec: &EpochRecord| {
            if found.is_none() && rec.accuracy == 1.0 {
                found = Some((done + rec.epoch, rec.loss));
            }
        });
        if found.is_some() {
            return found;
        }
        done += chunk.epochs;
    }
    None
}

#[test]
fn chunked_training_is_one_long_run() {
    let mut spec = job(3, "");
    spec.train.epochs = 1000;
    let mut losses = vec![f64::NAN; 1001];
    train::run(&spec, &mut |rec: &EpochRecord| losses[rec.epoch] = rec.loss).expect("job runs");
    let (first, loss) = first_perfect_epoch(&spec, 1000).expect("seed 3 separates linear within 1000 epochs");
    assert!(first > 250, "the check should cross a chunk boundary (epoch {first})");
    assert_eq!(loss.to_bits(), losses[first].to_bits(), "epoch {first}");
}

#[test]
fn the_labs_default_network_separates_linear_for_most_seeds() {
    // Defaults: linear, 100 points, [2, 2] sigmoid, mse sum, sgd lr 0.01.
    println!("\nlinear, defaults: first epoch at 100% training accuracy (max {EPOCHS})");
    println!("| seed | first epoch at 100% | loss then |");
    println!("|---:|---:|---:|");
    let mut reached = 0;
    for seed in SEEDS {
        let spec = job(seed, "dataset = \"linear\"");
        match first_perfect_epoch(&spec, EPOCHS) {
            Some((epoch, loss)) => {
                reached += 1;
                println!("| {seed} | {epoch} | {loss:.6} |");
            }
            None => println!("| {seed} | never | |"),
        }
    }
    assert!(
        reached >= 8,
        "only {reached} of 10 seeds reached 100% accuracy on linear within {EPOCHS} epochs"
    );
}

/// Linear with the defaults: every seed separates the set within 50,000
/// epochs and ends with a small loss.
#[test]
fn linear_outcomes_every_seed_ends_separated_with_a_small_loss() {
    let rows: Vec<Outcome> = SEEDS.map(|seed| outcome(seed, "dataset = \"linear\"")).collect();
    print_table("linear, defaults, backprop exact", &rows);
    for o in &rows {
        assert!(o.first_perfect.is_some(), "seed {}: never reached 100% on linear", o.seed);
        assert_eq!(o.final_accuracy, 1.0, "seed {}: lost the separation again", o.seed);
        assert!(o.final_loss < 1e-3, "seed {}: final loss {}", o.seed, o.final_loss);
        assert!(o.min_loss <= o.final_loss, "seed {}", o.seed);
    }
}

/// XOR with the defaults ([2, 2] sigmoid, mse sum, sgd lr 0.01) defeats the
/// network for most seeds, with exact and with the lab's back-propagation:
/// three seeds of ten reach 100% within 50,000 epochs, the others stop
/// between chance and 100%. The seeds that succeed are pinned: training is
/// bit-reproducible, so a change here is a change in the math.
#[test]
fn xor_outcomes_most_seeds_stay_stuck_with_either_backprop() {
    let mut finals = Vec::new();
    for (backprop, solved) in [("exact", [3, 5, 7]), ("lab", [3, 5, 6])] {
        let toml_text = format!("dataset = \"xor\"\nbackprop = \"{backprop}\"");
        let rows: Vec<Outcome> = SEEDS.map(|seed| outcome(seed, &toml_text)).collect();
        print_table(&format!("xor, defaults, backprop {backprop}"), &rows);
        let reached: Vec<u64> = rows.iter().filter(|o| o.first_perfect.is_some()).map(|o| o.seed).collect();
        assert_eq!(reached, solved, "backprop {backprop}: seeds that reach 100% on xor");
        for o in &rows {
            if o.first_perfect.is_none() {
                assert!(
                    o.final_accuracy > 0.5 && o.final_accuracy < 1.0,
                    "backprop {backprop}, seed {}: final accuracy {}",
                    o.seed,
                    o.final_accuracy
                );
            }
        }
        finals.push(rows.iter().map(|o| o.final_loss).collect::<Vec<_>>());
    }
    for (seed, (exact, lab)) in finals[0].iter().zip(&finals[1]).enumerate() {
        assert_ne!(exact, lab, "seed {seed}: the lab's back-propagation should train differently");
    }
}

// ---------------------------------------------------------------------------
// Seeding (SPEC 5): the data stream depends only on (seed, data-set
// parameters), the init stream only on (seed, layer sizes, bias, init).

fn data_of(spec: &JobSpec) -> Split {
    data::build(&spec.data, spec.seed).expect("data builds")
}

fn params_of(spec: &JobSpec) -> Vec<f64> {
    let data = data_of(spec);
    train::initial_network(spec, data.train.x.ncols(), data.n_classes()).expect("network builds").params
}

/// Jobs that differ only in training settings (and hidden activation) of a
/// 100-point linear set with noise and a test split.
const BASE: &str = "noise = 0.1\ntest_fraction = 0.2\n";

#[test]
fn jobs_differing_only_in_training_settings_share_data_and_initial_weights() {
    let seed = 4;
    let base = job(seed, BASE);
    let (data, params) = (data_of(&base), params_of(&base));
    for change in [
        "lr = 0.5",
        "optimizer = \"adam\"",
        "optimizer = \"momentum\"",
        "activation = \"tanh\"",
        "activation = \"none\"",
        "backprop = \"lab\"",
        "l2 = 0.01",
        "lr = 1.0\noptimizer = \"adam\"\nactivation = \"relu\"\nbackprop = \"lab\"\nl2 = 0.1",
    ] {
        let other = job(seed, &format!("{BASE}{change}"));
        assert_ne!(other, base, "{change}: the job must actually differ");
        assert_eq!(data_of(&other), data, "{change}: data must be identical");
        assert_eq!(params_of(&other), params, "{change}: initial weights must be identical");
    }
}

#[test]
fn another_seed_gives_other_data_and_other_initial_weights() {
    let a = job(4, BASE);
    let b = job(5, BASE);
    let (da, db) = (data_of(&a), data_of(&b));
    assert_ne!(da.train.x, db.train.x);
    assert_ne!(da.test.x, db.test.x);
    let (pa, pb) = (params_of(&a), params_of(&b));
    assert_eq!(pa.len(), pb.len());
    assert!(pa.iter().zip(&pb).all(|(x, y)| x != y), "every weight should differ: {pa:?} {pb:?}");
}

#[test]
fn other_hidden_sizes_give_other_weights_on_the_same_data() {
    let seed = 4;
    let base = job(seed, BASE);
    let (data, params) = (data_of(&base), params_of(&base));
    for hidden in ["[3, 2]", "[2, 2, 2]", "[2]"] {
        let other = job(seed, &format!("{BASE}hidden = {hidden}"));
        assert_eq!(data_of(&other), data, "hidden = {hidden}: data must be identical");
        let p = params_of(&other);
        // Not merely a longer or shorter draw of the same stream: the first
        // layer's weights differ too.
        assert_ne!(p[..4], params[..4], "hidden = {hidden}");
    }
    // bias changes the init stream as well.
    assert_ne!(params_of(&job(seed, &format!("{BASE}bias = true")))[..4], params[..4]);
}

fn offsets(noisy: &Dataset, clean: &Dataset) -> Vec<f64> {
    assert_eq!(noisy.y, clean.y, "noise must not change labels or which samples are where");
    (&noisy.x - &clean.x).iter().copied().collect()
}

/// data.rs: the points are drawn, then one normal per input cell (even at
/// noise 0), then a full permutation (even at test_fraction 0). So noise
/// changes only scale the same offsets on the same base points and split.
#[test]
fn noise_scales_the_same_offsets_on_the_same_base_points_and_split() {
    let seed = 6;
    let at = |noise: f64| data_of(&job(seed, &format!("noise = {noise:?}\ntest_fraction = 0.25")));
    let clean = at(0.0);
    let small = at(0.05);
    let big = at(0.3);
    for (part, c, s, b) in
        [("train", &clean.train, &small.train, &big.train), ("test", &clean.test, &small.test, &big.test)]
    {
        let (ds, db) = (offsets(s, c), offsets(b, c));
        assert!(ds.iter().any(|&d| d != 0.0), "{part}: noise must move the inputs");
        for (s, b) in ds.iter().zip(&db) {
            assert!((6.0 * s - b).abs() < 1e-12, "{part}: offsets {s} (noise 0.05) and {b} (noise 0.3)");
        }
    }
}

fn rows(d: &Dataset) -> Vec<Vec<f64>> {
    d.x.rows().into_iter().zip(&d.y).map(|(r, &y)| r.iter().copied().chain([y]).collect()).collect()
}

/// True when `part` appears in `whole` in order (not necessarily contiguous).
fn is_subsequence(part: &[Vec<f64>], whole: &[Vec<f64>]) -> bool {
    let mut it = whole.iter();
    part.iter().all(|p| it.any(|w| w == p))
}

/// data.rs: test_fraction only decides how much of one fixed permutation is
/// held out. So the points are the same, each part keeps the data-set order,
/// and a larger fraction holds out a superset.
#[test]
fn test_fraction_splits_the_same_points_by_the_same_permutation() {
    let seed = 6;
    let at = |f: f64| data_of(&job(seed, &format!("noise = 0.1\ntest_fraction = {f:?}")));
    let all = rows(&at(0.0).train);
    assert_eq!(all.len(), 100);
    let mut sorted_all = all.clone();
    sorted_all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut previous_test: Vec<Vec<f64>> = Vec::new();
    for f in [0.1, 0.2, 0.5, 0.9] {
        let s = at(f);
        let (train, test) = (rows(&s.train), rows(&s.test));
        assert_eq!(test.len(), (100.0 * f).round() as usize);
        assert!(
            is_subsequence(&train, &all) && is_subsequence(&test, &all),
            "f = {f}: parts keep data order"
        );
        let mut union: Vec<Vec<f64>> = train.iter().chain(&test).cloned().collect();
        union.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(union, sorted_all, "f = {f}: the same points, split");
        assert!(previous_test.iter().all(|r| test.contains(r)), "f = {f}: superset of the smaller split");
        previous_test = test;
    }
}

#[test]
fn jobs_differing_only_in_lr_report_the_same_epoch_0_loss() {
    let epoch_losses = |lr: f64| {
        let mut spec = job(2, &format!("lr = {lr:?}\nepochs = 1"));
        spec.train.log_every = 1;
        let mut losses = Vec::new();
        train::run(&spec, &mut |rec: &EpochRecord| losses.push((rec.epoch, rec.loss))).expect("job runs");
        losses
    };
    let base = epoch_losses(0.01);
    assert_eq!(base.iter().map(|r| r.0).collect::<Vec<_>>(), vec![0, 1]);
    for lr in [0.001, 0.1, 1.0, 5.0] {
        let other = epoch_losses(lr);
        assert_eq!(other[0].1.to_bits(), base[0].1.to_bits(), "lr = {lr}: epoch-0 loss");
        assert_ne!(other[1].1, base[1].1, "lr = {lr}: epoch-1 loss should differ");
    }
}

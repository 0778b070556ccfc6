//! Time per training epoch (full batch, sgd, sigmoid) for four sizes:
//!
//!   a  linear,  100 points, hidden [2, 2]     (the lab's network)
//!   b  xor,      21 points, hidden [2, 2]
//!   c  linear,  100 points, hidden [32, 32]
//!   d  linear, 1000 points, hidden [32, 32]
//!
//! One criterion iteration is one epoch: `iter_custom` trains a fresh copy of
//! the initial network for `iters` epochs and reports the time of that one
//! `train::train` call. Data and network are built outside the timing; the
//! per-job buffer setup and the extra evaluation at epoch 0 are included but
//! amortised over the `iters` epochs. Run with `cargo bench --bench epoch`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use sweep::rng;
use sweep::spec::JobSpec;
use sweep::train::{self, EpochRecord};

fn job(toml_text: &str) -> JobSpec {
    let table: toml::Table = toml::from_str(toml_text).expect("bench table parses");
    JobSpec::from_values(0, &|k| table.get(k).cloned(), Path::new(".")).expect("bench job is valid")
}

fn epochs(c: &mut Criterion) {
    let cases = [
        ("a_linear100_2x2", "dataset = \"linear\"\nn_samples = 100\nhidden = [2, 2]"),
        ("b_xor21_2x2", "dataset = \"xor\"\nhidden = [2, 2]"),
        ("c_linear100_32x32", "dataset = \"linear\"\nn_samples = 100\nhidden = [32, 32]"),
        ("d_linear1000_32x32", "dataset = \"linear\"\nn_samples = 1000\nhidden = [32, 32]"),
    ];
    let mut group = c.benchmark_group("epoch");
    group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(4)).sample_size(30);
    for (id, toml_text) in cases {
        // Full batch, sgd, sigmoid: the defaults. Log rarely, as a sweep would.
        let mut spec = job(toml_text);
        spec.train.log_every = 1000;
        let split = sweep::data::build(&spec.data, spec.seed).expect("data builds");
        let start =
            train::initial_network(&spec, split.train.x.ncols(), split.n_classes()).expect("network builds");
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let mut train_spec = spec.train.clone();
                train_spec.epochs = iters.max(1) as usize;
                let mut net = start.clone();
                let mut shuffle_rng = rng::stream(spec.seed, "shuffle", &[]);
                let mut last = 0.0;
                let t = Instant::now();
                let summary =
                    train::train(&train_spec, &mut net, &split, &mut shuffle_rng, &mut |r: &EpochRecord| {
                        last = r.loss
                    });
                let elapsed = t.elapsed();
                assert!(!summary.diverged(), "{id} diverged");
                black_box((last, &net));
                elapsed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, epochs);
criterion_main!(benches);

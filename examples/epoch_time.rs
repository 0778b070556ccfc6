//! Microseconds per training epoch of sweep's `train::train`, for the four
//! cases of `scripts/bench-vs-numpy.sh` (full batch, sgd, sigmoid, no bias,
//! mse summed over the batch: the defaults):
//!
//!   a  linear,  100 points, hidden [2, 2]
//!   b  xor,      21 points, hidden [2, 2]
//!   c  linear,  100 points, hidden [32, 32]
//!   d  linear, 1000 points, hidden [32, 32]
//!
//! Data and the initial network are built once per case. One timing is one
//! `train::train` call of E epochs on a fresh copy of that network (so it
//! includes the epoch-0 evaluation and the buffer setup, amortised over E);
//! E is picked so that one call takes about `--seconds`. The best of
//! `--repeats` timings is printed as `case us_per_epoch epochs`, one line a
//! case, on stdout; a header line starting with `#` comes first.
//!
//!   cargo run --release --example epoch_time -- [--seconds 0.5] [--repeats 3] [a b c d]
//!
//! `--dump-xor EPOCHS` instead prints, as JSON, case b's initial weights and
//! the training loss at every epoch 0..=EPOCHS, for `scripts/lab_numpy.py
//! --compare` to check that numpy computes the same thing.

use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use sweep::data::Split;
use sweep::nn::Network;
use sweep::rng;
use sweep::spec::JobSpec;
use sweep::train::{self, EpochRecord};

const CASES: &[(&str, &str)] = &[
    ("a", "dataset = \"linear\"\nn_samples = 100\nhidden = [2, 2]"),
    ("b", "dataset = \"xor\"\nhidden = [2, 2]"),
    ("c", "dataset = \"linear\"\nn_samples = 100\nhidden = [32, 32]"),
    ("d", "dataset = \"linear\"\nn_samples = 1000\nhidden = [32, 32]"),
];

struct Case {
    spec: JobSpec,
    split: Split,
    start: Network,
}

fn case(toml_text: &str) -> Case {
    let table: toml::Table = toml::from_str(toml_text).expect("case table parses");
    let seed = 0;
    let mut spec =
        JobSpec::from_values(seed, &|k| table.get(k).cloned(), Path::new(".")).expect("case job is valid");
    // Every epoch is evaluated anyway; hand few records to the sink, as a sweep would.
    spec.train.log_every = usize::MAX;
    let split = sweep::data::build(&spec.data, spec.seed).expect("data builds");
    let start =
        train::initial_network(&spec, split.train.x.ncols(), split.n_classes()).expect("network builds");
    Case { spec, split, start }
}

/// Seconds for one `train::train` call of `epochs` epochs from the start network.
fn time_once(c: &Case, epochs: usize) -> f64 {
    let mut train_spec = c.spec.train.clone();
    train_spec.epochs = epochs;
    let mut net = c.start.clone();
    let mut shuffle_rng = rng::stream(c.spec.seed, "shuffle", &[]);
    let mut last = 0.0;
    let t = Instant::now();
    let summary =
        train::train(&train_spec, &mut net, &c.split, &mut shuffle_rng, &mut |r: &EpochRecord| last = r.loss);
    let elapsed = t.elapsed().as_secs_f64();
    assert!(!summary.diverged(), "training diverged");
    black_box((last, summary, &net));
    elapsed
}

/// Best microseconds per epoch over `repeats` calls of about `seconds` each.
fn measure(c: &Case, seconds: f64, repeats: usize) -> (f64, usize) {
    // Calibrate: double the epochs until one call takes >= 20 ms.
    let mut epochs = 16;
    let per_epoch = loop {
        let t = time_once(c, epochs);
        if t >= 0.02 || epochs >= 1 << 30 {
            break t / epochs as f64;
        }
        epochs *= 2;
    };
    let epochs = ((seconds / per_epoch) as usize).max(16);
    let best = (0..repeats.max(1)).map(|_| time_once(c, epochs)).fold(f64::INFINITY, f64::min);
    (best / epochs as f64 * 1e6, epochs)
}

/// Case b's initial weights and the loss curve, as JSON.
fn dump_xor(epochs: usize) {
    let c = case(CASES[1].1);
    let layout = &c.start.layout;
    let layers: Vec<String> = (0..layout.layers.len())
        .map(|l| {
            let w = layout.w(&c.start.params, l);
            let rows: Vec<String> = w
                .rows()
                .into_iter()
                .map(|r| format!("[{}]", r.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")))
                .collect();
            format!("[{}]", rows.join(", "))
        })
        .collect();
    let mut train_spec = c.spec.train.clone();
    train_spec.epochs = epochs;
    train_spec.log_every = 1;
    let mut net = c.start.clone();
    let mut shuffle_rng = rng::stream(c.spec.seed, "shuffle", &[]);
    let mut losses = Vec::new();
    let mut accuracies = Vec::new();
    train::train(&train_spec, &mut net, &c.split, &mut shuffle_rng, &mut |r: &EpochRecord| {
        losses.push(format!("{:?}", r.loss));
        accuracies.push(format!("{:?}", r.accuracy));
    });
    println!(
        "{{\"lr\": {:?}, \"weights\": [{}], \"loss\": [{}], \"accuracy\": [{}]}}",
        c.spec.train.lr,
        layers.join(", "),
        losses.join(", "),
        accuracies.join(", ")
    );
}

fn main() -> ExitCode {
    let mut seconds = 0.5;
    let mut repeats = 3;
    let mut wanted: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match arg.as_str() {
            "--seconds" => seconds = value("--seconds").parse().expect("--seconds: a number"),
            "--repeats" => repeats = value("--repeats").parse().expect("--repeats: an integer"),
            "--dump-xor" => {
                dump_xor(value("--dump-xor").parse().expect("--dump-xor: an integer"));
                return ExitCode::SUCCESS;
            }
            "-h" | "--help" => {
                eprintln!("usage: epoch_time [--seconds S] [--repeats R] [--dump-xor EPOCHS] [a b c d]");
                return ExitCode::SUCCESS;
            }
            name if CASES.iter().any(|(id, _)| *id == name) => wanted.push(arg),
            other => {
                eprintln!("epoch_time: unknown argument {other:?}");
                return ExitCode::from(2);
            }
        }
    }
    #[cfg(target_arch = "x86_64")]
    let kernels = train::Kernels::chosen().name();
    #[cfg(not(target_arch = "x86_64"))]
    let avx2 = false;
    println!(
        "# sweep train::train, single thread, kernels: {kernels} (SWEEP_KERNELS); case us_per_epoch epochs"
    );
    for (id, toml_text) in CASES {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == id) {
            continue;
        }
        let c = case(toml_text);
        let (us, epochs) = measure(&c, seconds, repeats);
        println!("{id} {us:.4} {epochs}");
    }
    ExitCode::SUCCESS
}

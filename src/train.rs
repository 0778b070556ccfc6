//! One job's training: data + initial weights -> epoch loop -> records.
//! No files, no threads: the caller decides where records go.
//!
//! Reported figures follow SPEC 4: at epoch e (e = 0 before any update) the
//! mean per-sample loss and the accuracy over the whole training set, and
//! over the test set when there is one. Every epoch is evaluated (for
//! `min_loss`, `epoch_at_target` and divergence); only every `log_every`-th
//! (and the last, and a diverged one) is handed to the caller.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ndarray::{Array1, Array2, ArrayView2};

use crate::data::{self, DataError, Dataset, Split};
use crate::nn::{Layout, Network, Objective, Workspace};
use crate::optim::Optimizer;
use crate::rng::{self, Rng};
pub use crate::simd::Kernels;
use crate::simd::{Isa, OnLanes};
use crate::spec::{Init, JobSpec, TrainSpec};
use crate::weights::{WeightsError, WeightsFile};

/// The figures of one evaluated epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    pub loss: f64,
    pub accuracy: f64,
    pub test_loss: Option<f64>,
    pub test_accuracy: Option<f64>,
}

/// Where a training run's logged records go.
pub trait Sink {
    fn record(&mut self, r: &EpochRecord);

    /// Asked once an epoch; `true` stops training (Ctrl-C): the run is then
    /// incomplete and [`Summary::stopped`] says so.
    fn stop(&self) -> bool {
        false
    }
}

/// Any closure taking a record is a sink that never stops.
impl<F: FnMut(&EpochRecord)> Sink for F {
    fn record(&mut self, r: &EpochRecord) {
        self(r)
    }
}

/// What a finished (or diverged) training run reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The last evaluated epoch (`epochs`, or the diverged one).
    pub last: EpochRecord,
    /// Smallest finite training loss seen (NaN if none).
    pub min_loss: f64,
    /// First epoch whose training loss is <= `target_loss`.
    pub epoch_at_target: Option<usize>,
    /// First epoch whose training loss is not finite; training stopped there.
    pub diverged_epoch: Option<usize>,
    /// The sink asked to stop before the last epoch.
    pub stopped: bool,
}

impl Summary {
    /// Before any epoch was evaluated.
    pub fn empty() -> Summary {
        Summary {
            last: EpochRecord {
                epoch: 0,
                loss: f64::NAN,
                accuracy: f64::NAN,
                test_loss: None,
                test_accuracy: None,
            },
            min_loss: f64::NAN,
            epoch_at_target: None,
            diverged_epoch: None,
            stopped: false,
        }
    }

    pub fn diverged(&self) -> bool {
        self.diverged_epoch.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error("the training set is empty ({total} samples, test_fraction {fraction} holds out all of them)")]
    NoTrainingData { total: usize, fraction: f64 },
}

/// A trained job: its data, final network and summary.
#[derive(Debug, Clone)]
pub struct Trained {
    pub data: Split,
    pub network: Network,
    pub summary: Summary,
}

/// The input files of a run's jobs (CSV data sets, weights files), each read
/// once and shared by every job that names it.
#[derive(Debug, Default)]
pub struct Inputs {
    files: Mutex<HashMap<PathBuf, Arc<Vec<u8>>>>,
}

impl Inputs {
    /// Starts from files already read (their contents by path).
    pub fn with(files: HashMap<PathBuf, Vec<u8>>) -> Inputs {
        Inputs { files: Mutex::new(files.into_iter().map(|(p, b)| (p, Arc::new(b))).collect()) }
    }

    /// The contents of `path`, read on first use.
    pub fn read(&self, path: &Path) -> std::io::Result<Arc<Vec<u8>>> {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bytes) = files.get(path) {
            return Ok(Arc::clone(bytes));
        }
        let bytes = Arc::new(std::fs::read(path)?);
        files.insert(path.to_path_buf(), Arc::clone(&bytes));
        Ok(bytes)
    }
}

/// Builds the data and the initial network of `spec`, trains, and hands every
/// logged record to `sink`.
pub fn run(spec: &JobSpec, sink: &mut dyn Sink) -> Result<Trained, JobError> {
    run_with(spec, &Inputs::default(), sink)
}

/// [`run`], reading input files through `inputs`.
pub fn run_with(spec: &JobSpec, inputs: &Inputs, sink: &mut dyn Sink) -> Result<Trained, JobError> {
    let data = data::build_with(&spec.data, spec.seed, &|path| inputs.read(path))?;
    if data.train.x.nrows() == 0 {
        return Err(JobError::NoTrainingData {
            total: data.test.x.nrows(),
            fraction: spec.data.test_fraction,
        });
    }
    let mut network = initial_network_with(spec, data.train.x.ncols(), data.n_classes(), inputs)?;
    let mut shuffle_rng = rng::stream(spec.seed, "shuffle", &[]);
    let summary = train(&spec.train, &mut network, &data, &mut shuffle_rng, sink);
    Ok(Trained { data, network, summary })
}

/// The initial network for data of `inputs` columns and `classes` classes.
/// The init stream depends only on the seed, the layer sizes, bias and init
/// (SPEC 5), so every lr/optimizer/activation variant of a seed starts from
/// the same weights.
pub fn initial_network(spec: &JobSpec, inputs: usize, classes: usize) -> Result<Network, WeightsError> {
    initial_network_with(spec, inputs, classes, &Inputs::default())
}

/// [`initial_network`], reading a weights file through `files`.
pub fn initial_network_with(
    spec: &JobSpec,
    inputs: usize,
    classes: usize,
    files: &Inputs,
) -> Result<Network, WeightsError> {
    let layout = Layout::new(&spec.layer_sizes(inputs, classes), spec.model.bias);
    let params = match &spec.model.init {
        Init::File(path) => {
            let bytes = files.read(path).map_err(|source| WeightsError::Io { path: path.clone(), source })?;
            WeightsFile::params_from(path, &bytes, &layout)?
        }
        init => {
            let sizes = format!("{:?}", layout.sizes());
            let kind = if *init == Init::Xavier { "xavier" } else { "normal" };
            let bias = spec.model.bias.to_string();
            let mut r = rng::stream(spec.seed, "init", &[&sizes, &bias, kind]);
            random_params(&layout, *init == Init::Xavier, &mut r)
        }
    };
    Ok(Network {
        layout,
        activation: spec.model.activation,
        output_activation: spec.model.output_activation,
        params,
    })
}

/// Weights N(0, 1) ("normal", the lab's `np.random.randn`) or Glorot-uniform
/// U(-a, a), a = sqrt(6 / (fan_in + fan_out)) ("xavier"); biases 0.
fn random_params(layout: &Layout, xavier: bool, r: &mut Rng) -> Vec<f64> {
    let mut params = vec![0.0; layout.len];
    for shape in &layout.layers {
        let a = (6.0 / (shape.fan_in + shape.fan_out) as f64).sqrt();
        for w in &mut params[shape.w.clone()] {
            *w = if xavier { a * (2.0 * rng::uniform01(r) - 1.0) } else { rng::normal(r) };
        }
    }
    params
}

/// Forward over the batch loaded in `ws`, then (mean loss, accuracy)
/// against `y`.
#[inline(always)]
fn eval<I: Isa>(isa: I, net: &Network, spec: &TrainSpec, y: &[f64], ws: &mut Workspace) -> (f64, f64) {
    net.forward_in(isa, ws);
    net.evaluate(spec.loss, ws, y)
}

/// The epoch loop, on the fastest kernels this CPU runs.
pub fn train(
    spec: &TrainSpec,
    net: &mut Network,
    data: &Split,
    shuffle_rng: &mut Rng,
    sink: &mut dyn Sink,
) -> Summary {
    train_with(Kernels::chosen(), spec, net, data, shuffle_rng, sink)
}

/// The epoch loop on the given kernels (see [`Kernels::run`]).
pub fn train_with(
    kernels: Kernels,
    spec: &TrainSpec,
    net: &mut Network,
    data: &Split,
    shuffle_rng: &mut Rng,
    sink: &mut dyn Sink,
) -> Summary {
    kernels.run(Training { spec, net, data, shuffle_rng, sink })
}

/// The epoch loop's arguments, as a task for [`Kernels::run`].
struct Training<'a, 'b> {
    spec: &'b TrainSpec,
    net: &'b mut Network,
    data: &'a Split,
    shuffle_rng: &'b mut Rng,
    sink: &'b mut dyn Sink,
}

impl OnLanes for Training<'_, '_> {
    type Out = Summary;
    #[inline(always)]
    fn run<I: Isa>(self, isa: I) -> Summary {
        train_loop(isa, self.spec, self.net, self.data, self.shuffle_rng, self.sink)
    }
}

/// The loop itself, inlined into each build. Buffers are made here, once;
/// the loop allocates nothing.
#[inline(always)]
fn train_loop<'a, I: Isa>(
    isa: I,
    spec: &TrainSpec,
    net: &mut Network,
    data: &'a Split,
    shuffle_rng: &mut Rng,
    sink: &mut dyn Sink,
) -> Summary {
    let Dataset { x, y } = &data.train;
    let n = x.nrows();
    let labels = |y: &'a Array1<f64>| y.as_slice().expect("data sets are built contiguous");
    let (y, test_y) = (labels(y), labels(&data.test.y));
    let full_batch = spec.batch_size == 0;
    let batch = if full_batch { n } else { spec.batch_size.min(n) };
    let layout = net.layout.clone();

    // In full-batch mode the evaluation's forward pass is also the training
    // step's; mini-batches need their own evaluation buffers. Whole sets are
    // loaded once: only mini-batches change from one step to the next.
    let loaded = |rows: usize, x: ArrayView2<f64>, with_grad: bool| {
        let mut ws = Workspace::new(&layout, rows, with_grad);
        ws.load(x);
        ws
    };
    let mut step_ws =
        if full_batch { loaded(n, x.view(), true) } else { Workspace::new(&layout, batch, true) };
    let mut eval_ws = (!full_batch).then(|| loaded(n, x.view(), false));
    let test = &data.test;
    let mut test_ws = (test.x.nrows() > 0).then(|| loaded(test.x.nrows(), test.x.view(), false));
    let mut grad = vec![0.0; layout.len];
    let mut optimizer = Optimizer::new(spec.optimizer, layout.len);
    let mut order: Vec<usize> = (0..n).collect();
    let mut yb = vec![0.0; batch];

    let mut summary = Summary::empty();

    for epoch in 0..=spec.epochs {
        // Evaluate the parameters after `epoch` updates.
        let ws = eval_ws.as_mut().unwrap_or(&mut step_ws);
        let (loss, accuracy) = eval(isa, net, spec, y, ws);
        let (test_loss, test_accuracy) = match test_ws.as_mut() {
            Some(tws) => {
                let (l, a) = eval(isa, net, spec, test_y, tws);
                (Some(l), Some(a))
            }
            None => (None, None),
        };
        let record = EpochRecord { epoch, loss, accuracy, test_loss, test_accuracy };
        summary.last = record;
        let diverged = !loss.is_finite();
        if !diverged {
            if summary.min_loss.is_nan() || loss < summary.min_loss {
                summary.min_loss = loss;
            }
            if summary.epoch_at_target.is_none() && loss <= spec.target_loss {
                summary.epoch_at_target = Some(epoch);
            }
        }
        if diverged || epoch % spec.log_every == 0 || epoch == spec.epochs {
            sink.record(&record);
        }
        if diverged {
            summary.diverged_epoch = Some(epoch);
            break;
        }
        if epoch == spec.epochs {
            break;
        }
        if sink.stop() {
            summary.stopped = true;
            break;
        }

        // One epoch of updates.
        if full_batch {
            // step_ws still holds the forward pass of the evaluation above.
            update(isa, net, spec, y, &mut step_ws, &mut grad, &mut optimizer);
        } else {
            if spec.shuffle {
                rng::shuffle(shuffle_rng, &mut order);
            }
            for rows in order.chunks(batch) {
                step_ws.load_rows(x.view(), rows);
                for (yb, &i) in yb.iter_mut().zip(rows) {
                    *yb = y[i];
                }
                net.forward_in(isa, &mut step_ws);
                update(isa, net, spec, &yb[..rows.len()], &mut step_ws, &mut grad, &mut optimizer);
            }
        }
    }
    summary
}

/// Back-propagation after a forward pass in `ws`, then one optimizer step.
#[inline(always)]
fn update<I: Isa>(
    isa: I,
    net: &mut Network,
    spec: &TrainSpec,
    y: &[f64],
    ws: &mut Workspace,
    grad: &mut [f64],
    optimizer: &mut Optimizer,
) {
    net.backward_in(
        isa,
        y,
        Objective { loss: spec.loss, reduction: spec.reduction, backprop: spec.backprop },
        ws,
        grad,
    );
    net.add_l2(spec.l2, grad);
    optimizer.step(spec.lr, &mut net.params, grad);
}

/// Final outputs for every sample of `data`: (samples, output units).
pub fn predictions(net: &Network, data: &Dataset) -> Array2<f64> {
    predict(net, data.x.view())
}

/// `net.predict(x)` on the fastest kernels this CPU runs (the same bits):
/// (rows, output units). [`crate::nn::predicted_class`] reads a row.
pub fn predict(net: &Network, x: ArrayView2<f64>) -> Array2<f64> {
    struct Prediction<'a>(&'a Network, ArrayView2<'a, f64>);
    impl OnLanes for Prediction<'_> {
        type Out = Array2<f64>;
        #[inline(always)]
        fn run<I: Isa>(self, isa: I) -> Array2<f64> {
            self.0.predict_in(isa, self.1)
        }
    }
    Kernels::chosen().run(Prediction(net, x))
}

#[cfg(test)]
mod tests {
    #[test]
    fn inputs_read_each_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, "x,label\n1,0\n").unwrap();
        let inputs = super::Inputs::default();
        let first = inputs.read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let again = inputs.read(&path).unwrap();
        assert!(std::sync::Arc::ptr_eq(&first, &again), "read a second time");
        assert!(inputs.read(&dir.path().join("missing.csv")).is_err());
    }

    use super::*;
    use std::path::Path;

    fn job(pairs: &[(&str, &str)]) -> JobSpec {
        let table: toml::Table =
            toml::from_str(&pairs.iter().map(|(k, v)| format!("{k} = {v}\n")).collect::<String>()).unwrap();
        JobSpec::from_values(3, &|k| table.get(k).cloned(), Path::new(".")).unwrap()
    }

    /// Relabels the points of a built-in set (in [0, 1)^2) into `classes`
    /// bands along x0 + x1, for networks with several outputs.
    fn with_classes(mut data: Split, classes: usize) -> Split {
        for part in [&mut data.train, &mut data.test] {
            for (y, x) in part.y.iter_mut().zip(part.x.rows()) {
                *y = ((x[0] + x[1]) / 2.0 * classes as f64).floor().min(classes as f64 - 1.0);
            }
        }
        data
    }

    /// Every build of the epoch loop this CPU runs (portable, AVX2,
    /// AVX-512) must give the same bits, or results would depend on the
    /// machine.
    #[test]
    fn every_build_of_the_epoch_loop_computes_the_same_bits() {
        let builds = Kernels::available();
        eprintln!("comparing builds {builds:?}");
        let softmax = [("output_activation", "\"softmax\""), ("loss", "\"ce\"")];
        for (classes, pairs) in [
            (2, &[("hidden", "[32, 8]"), ("epochs", "50")][..]),
            (2, &[("activation", "\"tanh\""), ("bias", "true"), ("hidden", "[5, 7, 3]"), ("epochs", "50")]),
            (
                2,
                &[
                    ("activation", "\"relu\""),
                    ("optimizer", "\"adam\""),
                    ("batch_size", "8"),
                    ("epochs", "20"),
                ],
            ),
            (
                2,
                &[
                    ("backprop", "\"lab\""),
                    ("bias", "true"),
                    ("hidden", "[19, 6]"),
                    ("n_samples", "37"),
                    ("epochs", "30"),
                ],
            ),
            (
                2,
                &[
                    ("loss", "\"bce\""),
                    ("reduction", "\"mean\""),
                    ("l2", "0.1"),
                    ("test_fraction", "0.2"),
                    ("epochs", "30"),
                ],
            ),
            // Several output units.
            (2, &[softmax[0], softmax[1], ("hidden", "[9, 5]"), ("bias", "true"), ("epochs", "30")]),
            (
                3,
                &[
                    softmax[0],
                    softmax[1],
                    ("activation", "\"tanh\""),
                    ("test_fraction", "0.2"),
                    ("epochs", "30"),
                ],
            ),
            (
                4,
                &[
                    softmax[0],
                    ("hidden", "[11, 6]"),
                    ("optimizer", "\"adam\""),
                    ("batch_size", "8"),
                    ("epochs", "20"),
                ],
            ),
            (
                3,
                &[
                    ("loss", "\"bce\""),
                    ("reduction", "\"mean\""),
                    ("l2", "0.1"),
                    ("bias", "true"),
                    ("epochs", "30"),
                ],
            ),
            (5, &[("backprop", "\"lab\""), ("hidden", "[19, 6]"), ("n_samples", "37"), ("epochs", "30")]),
        ] {
            let spec = job(pairs);
            let data = with_classes(data::build(&spec.data, spec.seed).unwrap(), classes);
            let start = initial_network(&spec, 2, classes).unwrap();
            let run = |kernels: Kernels| {
                let mut net = start.clone();
                let mut losses = Vec::new();
                let mut rng = rng::stream(spec.seed, "shuffle", &[]);
                let mut sink = |r: &EpochRecord| losses.push(r.loss.to_bits());
                train_with(kernels, &spec.train, &mut net, &data, &mut rng, &mut sink);
                (net.params.iter().map(|p| p.to_bits()).collect::<Vec<_>>(), losses)
            };
            let want = run(Kernels::Portable);
            for &kernels in &builds[1..] {
                assert_eq!(run(kernels), want, "{kernels:?} {pairs:?}");
            }
        }
    }

    /// Predictions: one row of outputs per sample (not per padded sample),
    /// the same bits from the fastest build as from the portable one.
    #[test]
    fn predictions_have_one_row_per_sample_and_the_portable_bits() {
        let spec =
            job(&[("hidden", "[9, 5]"), ("bias", "true"), ("activation", "\"tanh\""), ("n_samples", "37")]);
        let data = data::build(&spec.data, spec.seed).unwrap();
        for (classes, units) in [(2, 1), (3, 3)] {
            let net = initial_network(&spec, 2, classes).unwrap();
            let fast = predict(&net, data.train.x.view());
            let portable = net.predict(data.train.x.view());
            assert_eq!(fast.dim(), (data.train.x.nrows(), units));
            assert_eq!(portable.dim(), (data.train.x.nrows(), units));
            let bits = |a: &Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&portable), "{:?}", Kernels::chosen());
        }
    }

    /// A softmax network's outputs are probabilities over the classes, and the
    /// reported accuracy is that of the argmax.
    #[test]
    fn softmax_outputs_sum_to_one_and_accuracy_counts_the_argmax() {
        let spec = job(&[
            ("output_activation", "\"softmax\""),
            ("loss", "\"ce\""),
            ("activation", "\"tanh\""),
            ("hidden", "[8]"),
            ("bias", "true"),
            ("reduction", "\"mean\""),
            ("lr", "0.5"),
            ("epochs", "300"),
        ]);
        let data = with_classes(data::build(&spec.data, spec.seed).unwrap(), 3);
        let mut net = initial_network(&spec, 2, 3).unwrap();
        let mut last = None;
        let mut rng = rng::stream(spec.seed, "shuffle", &[]);
        train(&spec.train, &mut net, &data, &mut rng, &mut |r: &EpochRecord| last = Some(*r));
        let outputs = predictions(&net, &data.train);
        for row in outputs.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-12, "{row}");
        }
        let hits = outputs
            .rows()
            .into_iter()
            .zip(&data.train.y)
            .filter(|(row, y)| crate::nn::predicted_class(row.iter().copied()) as f64 == **y)
            .count();
        let last = last.expect("a record");
        assert_eq!(last.accuracy, hits as f64 / data.train.len() as f64);
        assert!(last.accuracy > 0.8, "{last:?}");
    }
}

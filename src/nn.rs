//! The network: layers, activations, losses, forward pass and
//! back-propagation. This is the one place to check the math against the
//! chain rule (SPEC 4).
//!
//! Notation (one row per sample, `m` rows in a batch, `k` output units):
//!   z_l = a_{l-1} W_l + b_l      a_0 = x,  W_l: (fan_in, fan_out)
//!   a_l = f(z_l)                 f = `activation` (hidden), `output_activation` (last)
//!   J   = sum_i loss(yhat_i, t_i)          (times 1/m for reduction = "mean")
//! Labels y_i are class indices; the target t_i is y_i itself for one output
//! unit, the one-hot row of class y_i for several (SPEC 4).
//!
//! Every parameter lives in one flat `Vec<f64>` described by a [`Layout`], so
//! optimizers are plain loops over slices and gradients share the layout.
//! A [`Workspace`] holds every per-sample buffer and is allocated once per job;
//! inside it, values are stored feature-major (one row per unit, samples
//! along the row) so that every loop runs along the samples.
//! The matrix products run in `kernels` (tiled, on the instruction set
//! whose token the caller holds); this file says which product each step
//! of the chain rule needs.

use std::ops::Range;

use ndarray::{Array2, ArrayView1, ArrayView2};

use crate::fastmath;
use crate::kernels::{self, padded};
use crate::simd::{Isa, Portable};
use crate::spec::{Activation, Backprop, Loss, Reduction};

/// Where one layer's weights and bias sit in the flat parameter vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerShape {
    pub fan_in: usize,
    pub fan_out: usize,
    /// Row-major (fan_in, fan_out).
    pub w: Range<usize>,
    pub b: Option<Range<usize>>,
}

/// The shapes of all layers, input to output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub layers: Vec<LayerShape>,
    pub len: usize,
}

impl Layout {
    /// `sizes` = `[inputs, hidden.., outputs]`.
    pub fn new(sizes: &[usize], bias: bool) -> Layout {
        let mut layers = Vec::with_capacity(sizes.len().saturating_sub(1));
        let mut at = 0;
        for pair in sizes.windows(2) {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let w = at..at + fan_in * fan_out;
            at = w.end;
            let b = bias.then(|| {
                let r = at..at + fan_out;
                at = r.end;
                r
            });
            layers.push(LayerShape { fan_in, fan_out, w, b });
        }
        Layout { layers, len: at }
    }

    pub fn inputs(&self) -> usize {
        self.layers[0].fan_in
    }

    /// Output units.
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.fan_out)
    }

    /// `[inputs, hidden.., outputs]`.
    pub fn sizes(&self) -> Vec<usize> {
        let mut v = vec![self.inputs()];
        v.extend(self.layers.iter().map(|l| l.fan_out));
        v
    }

    pub fn w<'a>(&self, params: &'a [f64], l: usize) -> ArrayView2<'a, f64> {
        let s = &self.layers[l];
        ArrayView2::from_shape((s.fan_in, s.fan_out), &params[s.w.clone()]).expect("layout shape")
    }

    pub fn b<'a>(&self, params: &'a [f64], l: usize) -> Option<ArrayView1<'a, f64>> {
        self.layers[l].b.clone().map(|r| ArrayView1::from(&params[r]))
    }
}

/// A network: its layout, activations and parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub layout: Layout,
    pub activation: Activation,
    pub output_activation: Activation,
    pub params: Vec<f64>,
}

// ---------------------------------------------------------------------------
// Activations. Derivatives are written in terms of the output a = f(z), which
// is all the backward pass keeps; the forms mirror PyTorch's backward kernels.

/// `g * f'(z)` given `a = f(z)`, one function per activation.
mod derivative {
    #[inline(always)]
    pub fn sigmoid(g: f64, a: f64) -> f64 {
        g * (1.0 - a) * a
    }
    #[inline(always)]
    pub fn tanh(g: f64, a: f64) -> f64 {
        g * (1.0 - a * a)
    }
    /// f'(0) = 0, as in PyTorch.
    #[inline(always)]
    pub fn relu(g: f64, a: f64) -> f64 {
        if a > 0.0 { g } else { 0.0 }
    }
    #[inline(always)]
    pub fn identity(g: f64, _a: f64) -> f64 {
        g
    }
}

#[inline(always)]
fn relu(z: f64) -> f64 {
    z.max(0.0)
}

#[inline(always)]
fn identity(z: f64) -> f64 {
    z
}

/// Runs `$body` with `$f` bound to the activation's function and `$df` to
/// its derivative (`g, a -> g f'(z)`). Both are function items, so each arm
/// is compiled, inlined and vectorised on its own: no per-element match.
/// Softmax mixes the units of a sample, so it has no element-wise form: the
/// caller says what to do for it in `$softmax`.
macro_rules! with_activation {
    ($act:expr, |$f:ident, $df:ident| $body:expr, softmax => $softmax:expr) => {
        match $act {
            Activation::Softmax => $softmax,
            Activation::Sigmoid => {
                let ($f, $df) = (fastmath::sigmoid, derivative::sigmoid);
                $body
            }
            Activation::Tanh => {
                let ($f, $df) = (fastmath::tanh, derivative::tanh);
                $body
            }
            Activation::Relu => {
                let ($f, $df) = (relu, derivative::relu);
                $body
            }
            Activation::None => {
                let ($f, $df) = (identity, derivative::identity);
                $body
            }
        }
    };
}

/// a = softmax(z) over the units of each sample, in place on a (units, s)
/// block: a_j = exp(z_j - max_u z_u) / sum_u exp(z_u - max_u z_u), which
/// never overflows.
#[inline(never)] // the lab's networks never call it: keep it out of the epoch loop
fn softmax(za: &mut [f64], s: usize) {
    let units = za.len() / s;
    for i in 0..s {
        let mut top = za[i];
        for j in 1..units {
            top = top.max(za[j * s + i]);
        }
        let mut sum = 0.0;
        for j in 0..units {
            let e = fastmath::exp(za[j * s + i] - top);
            za[j * s + i] = e;
            sum += e;
        }
        for j in 0..units {
            za[j * s + i] /= sum;
        }
    }
}

/// Back through a = softmax(z), in place on a (units, s) block: g = dJ/da
/// becomes dJ/dz_j = a_j (g_j - sum_u g_u a_u) (the softmax's Jacobian is
/// diag(a) - a a^T).
#[inline(never)] // the lab's networks never call it: keep it out of the epoch loop
fn softmax_backward(g: &mut [f64], a: &[f64], s: usize) {
    let units = g.len() / s;
    for i in 0..s {
        let mut ga = 0.0;
        for j in 0..units {
            ga += g[j * s + i] * a[j * s + i];
        }
        for j in 0..units {
            g[j * s + i] = a[j * s + i] * (g[j * s + i] - ga);
        }
    }
}

/// a = f(z) in place on a (units, s) block.
#[inline(always)]
fn activate(act: Activation, za: &mut [f64], s: usize) {
    with_activation!(
        act,
        |f, _df| {
            for z in za.iter_mut() {
                *z = f(*z);
            }
        },
        softmax => softmax(za, s)
    )
}

/// d = dJ/dz from g = dJ/da and a = f(z), on (units, s) blocks.
#[inline(always)]
fn activate_backward(act: Activation, g: &[f64], a: &[f64], d: &mut [f64], s: usize) {
    with_activation!(
        act,
        |_f, df| {
            for ((d, &g), &a) in d.iter_mut().zip(g).zip(a) {
                *d = df(g, a);
            }
        },
        softmax => {
            d.copy_from_slice(g);
            softmax_backward(d, a, s)
        }
    )
}

// ---------------------------------------------------------------------------
// Losses (SPEC 4). `z` is an output logit, `yhat = f_out(z)`, `t` its target.

/// The loss of one output unit: mse (yhat - t)^2; bce from the logit,
/// max(z,0) - z t + ln(1 + e^-|z|), which never takes the log of 0. With
/// several units a sample's mse or bce is the sum over them. ce is not a sum
/// over units ([`cross_entropy`]); on a single unit it is 0, as the softmax
/// of one logit is 1.
#[inline(always)]
pub fn unit_loss(loss: Loss, z: f64, yhat: f64, t: f64) -> f64 {
    match loss {
        Loss::Mse => (yhat - t) * (yhat - t),
        Loss::Bce => z.max(0.0) - z * t + (-z.abs()).exp().ln_1p(),
        Loss::Ce => 0.0,
    }
}

/// ce = -ln softmax(z)_c = log-sum-exp(z) - z_c, from one sample's logits,
/// stably: max + ln sum exp(z - max).
pub fn cross_entropy(z: impl Iterator<Item = f64> + Clone, c: usize) -> f64 {
    let top = z.clone().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = z.clone().map(|z| fastmath::exp(z - top)).sum();
    let zc = z.clone().nth(c).unwrap_or(f64::NAN);
    top + sum.ln() - zc
}

/// Target of output unit `j` of `k` for class index `y`: the label itself
/// for one unit, one-hot for several.
#[inline(always)]
fn target(y: f64, j: usize, k: usize) -> f64 {
    if k == 1 { y } else { f64::from(u8::from(y == j as f64)) }
}

/// The predicted class of one sample from its `k` outputs: for one unit,
/// class 1 when yhat >= 0.5; for several, the first unit with the largest
/// output (argmax).
pub fn predicted_class(outputs: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    let mut k = 0;
    for (j, o) in outputs.enumerate() {
        if o > best.1 || j == 0 {
            best = (j, o);
        }
        k += 1;
    }
    if k == 1 { usize::from(best.1 >= 0.5) } else { best.0 }
}

/// The objective and how its gradient is passed down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Objective {
    pub loss: Loss,
    pub reduction: Reduction,
    pub backprop: Backprop,
}

// ---------------------------------------------------------------------------
// The workspace.

/// Buffers for one batch size, allocated once per job.
///
/// Layout: feature-major. A layer's values for a batch of `m` samples are a
/// (fan, s) block, s = `padded(m)`, sample index fastest, in the first
/// fan * s entries of its buffer. Every kernel then runs its inner loop along
/// the samples, which is long and contiguous even when a layer has two
/// units, as the lab's do. Padding samples have input 0 and gradient 0.
#[derive(Debug)]
pub struct Workspace {
    rows: usize,
    /// Samples loaded by the last `load` (at most `rows`).
    m: usize,
    /// The input batch, transposed: (inputs, s).
    x: Vec<f64>,
    /// a_l for every layer, (fan_out_l, s); for the last layer the logits z_L.
    act: Vec<Vec<f64>>,
    /// yhat = f_out(z_L): (k, s), k output units.
    yhat: Vec<f64>,
    /// dJ/dz_l: (fan_out_l, s); empty when built without gradients.
    delta: Vec<Vec<f64>>,
    /// e_l = dJ/da_l as handed down (lab variant: without f'): (fan_out_l, s).
    err: Vec<Vec<f64>>,
    /// Scratch for W_l^T: the largest of them.
    wt: Vec<f64>,
}

impl Workspace {
    /// `with_grad = false` gives a forward-only workspace (evaluation).
    pub fn new(layout: &Layout, rows: usize, with_grad: bool) -> Workspace {
        let s = padded(rows);
        let make = || layout.layers.iter().map(|l| vec![0.0; s * l.fan_out]).collect();
        let widest = layout.layers.iter().map(|l| l.fan_in * l.fan_out).max().unwrap_or(0);
        Workspace {
            rows,
            m: 0,
            x: vec![0.0; s * layout.inputs()],
            act: make(),
            yhat: vec![0.0; s * layout.outputs()],
            delta: if with_grad { make() } else { Vec::new() },
            err: if with_grad { make() } else { Vec::new() },
            wt: if with_grad { vec![0.0; widest] } else { Vec::new() },
        }
    }

    /// Loads the rows of `x` (at most the workspace's rows) as the input batch. The
    /// training loop loads a full batch once and reuses it every epoch.
    pub fn load(&mut self, x: ArrayView2<f64>) {
        let m = x.nrows();
        self.load_with(m, x.ncols(), |i| x.row(i));
    }

    /// Loads rows `pick` of `x` as the input batch (a mini-batch).
    pub fn load_rows(&mut self, x: ArrayView2<f64>, pick: &[usize]) {
        self.load_with(pick.len(), x.ncols(), |k| x.row(pick[k]));
    }

    #[inline(always)]
    fn load_with<'a>(&mut self, m: usize, d: usize, row: impl Fn(usize) -> ArrayView1<'a, f64>) {
        assert!(m <= self.rows, "batch larger than the workspace");
        let s = padded(m);
        let xt = &mut self.x[..d * s];
        xt.fill(0.0);
        for i in 0..m {
            for (p, &v) in row(i).iter().enumerate() {
                xt[p * s + i] = v;
            }
        }
        self.m = m;
    }
}

/// [`Network::evaluate`] for several output units: the mean per-sample loss
/// and accuracy over the samples of `y`, from the (k, s) blocks of the
/// logits `z` and outputs `yhat` (sample i's values are their column i).
#[inline(never)] // the lab's one-output networks never call it
fn evaluate_units(loss: Loss, z: &[f64], yhat: &[f64], y: &[f64], (k, s): (usize, usize)) -> (f64, f64) {
    let (mut total, mut correct) = (0.0, 0usize);
    for (i, &y) in y.iter().enumerate() {
        let (z_i, yhat_i) = ((0..k).map(|j| z[j * s + i]), (0..k).map(|j| yhat[j * s + i]));
        total += match loss {
            Loss::Ce => cross_entropy(z_i, y as usize),
            _ => z_i
                .zip(yhat_i.clone())
                .enumerate()
                .map(|(j, (z, yhat))| unit_loss(loss, z, yhat, target(y, j, k)))
                .sum(),
        };
        correct += usize::from(predicted_class(yhat_i) as f64 == y);
    }
    let m = y.len() as f64;
    (total / m, correct as f64 / m)
}

impl Network {
    /// Forward pass over the rows of `x` (at most the workspace's rows).
    pub fn forward(&self, x: ArrayView2<f64>, ws: &mut Workspace) {
        ws.load(x);
        self.forward_in(Portable, ws)
    }

    /// Forward pass over the batch loaded in `ws`, on the instruction set `isa`;
    /// the same bits for every `V`.
    #[inline(always)]
    pub(crate) fn forward_in<I: Isa>(&self, isa: I, ws: &mut Workspace) {
        let s = padded(ws.m);
        let d = self.layout.inputs();
        let last = self.layout.layers.len() - 1;
        for (l, shape) in self.layout.layers.iter().enumerate() {
            let (done, rest) = ws.act.split_at_mut(l);
            let input = if l == 0 { &ws.x[..d * s] } else { &done[l - 1][..shape.fan_in * s] };
            let z = &mut rest[0][..shape.fan_out * s];
            let bias = shape.b.clone().map(|r| &self.params[r]);
            let w = &self.params[shape.w.clone()];
            // z_l = a_{l-1} W_l + b_l:  z[j][i] = sum_p W[p][j] a[p][i] + b[j],
            // a_l = f(z_l); the last layer keeps z_L for the logit-based loss.
            kernels::mix(isa, w, input, z, (shape.fan_out, s));
            if let Some(b) = bias {
                for (z, &b) in z.chunks_exact_mut(s).zip(b) {
                    for z in z {
                        *z += b;
                    }
                }
            }
            if l < last {
                activate(self.activation, z, s);
            }
        }
        // yhat = f_out(z_L): (k, s).
        let k = self.layout.outputs();
        let (z, yhat) = (&ws.act[last][..k * s], &mut ws.yhat[..k * s]);
        with_activation!(
            self.output_activation,
            |f, _df| {
                for (y, &z) in yhat.iter_mut().zip(z) {
                    *y = f(z);
                }
            },
            softmax => {
                yhat.copy_from_slice(z);
                softmax(yhat, s)
            }
        );
    }

    /// Mean per-sample loss and accuracy (SPEC 4) of the last forward pass
    /// over `m` rows against class indices `y`.
    #[inline(always)]
    pub fn evaluate(&self, loss: Loss, ws: &Workspace, y: &[f64]) -> (f64, f64) {
        let m = y.len();
        if m == 0 {
            return (f64::NAN, f64::NAN);
        }
        let (k, s) = (self.layout.outputs(), padded(ws.m));
        let z = &ws.act.last().expect("at least one layer")[..k * s];
        let yhat = &ws.yhat[..k * s];
        if k == 1 {
            // One unit: the label is the target; class 1 when yhat >= 0.5.
            let (mut total, mut correct) = (0.0, 0usize);
            for ((&z, &yhat), &y) in z.iter().zip(yhat).zip(y) {
                total += unit_loss(loss, z, yhat, y);
                correct += usize::from((yhat >= 0.5) == (y >= 0.5));
            }
            (total / m as f64, correct as f64 / m as f64)
        } else {
            evaluate_units(loss, z, yhat, y, (k, s))
        }
    }

    /// Back-propagation after a forward pass over a batch with labels `y`:
    /// writes dJ/dparams into `grad` (same layout as `params`), overwriting it.
    ///
    /// `Backprop::Lab` reproduces the lab report: each hidden layer uses
    /// d_l = e_l * f'(z_l) for its own gradient but hands down e_l W_l^T
    /// instead of d_l W_l^T. It is not a gradient (SPEC 4).
    pub fn backward(&self, y: &[f64], obj: Objective, ws: &mut Workspace, grad: &mut [f64]) {
        self.backward_in(Portable, y, obj, ws, grad)
    }

    /// [`Network::backward`] on the instruction set `isa`.
    #[inline(always)]
    pub(crate) fn backward_in<I: Isa>(
        &self,
        isa: I,
        y: &[f64],
        obj: Objective,
        ws: &mut Workspace,
        grad: &mut [f64],
    ) {
        let (m, d) = (ws.m, self.layout.inputs());
        assert_eq!(y.len(), m, "one label per loaded sample");
        let s = padded(m);
        let layers = &self.layout.layers;
        let last = layers.len() - 1;
        let scale = match obj.reduction {
            Reduction::Sum => 1.0,
            Reduction::Mean => 1.0 / m as f64,
        };
        let Workspace { x: xt, act, yhat, delta, err, wt, .. } = ws;

        // Output layer: d_L = dJ/dz_L, (k, s); padding samples contribute 0.
        //   J = sum_i loss_i (times `scale` = 1/m for the mean), and
        //   bce on a sigmoid, ce on a softmax: the chain through f_out cancels,
        //     d_L = scale (yhat - t);
        //   mse: dJ/dyhat = scale 2 (yhat - t), then back through yhat = f_out(z_L).
        let k = layers[last].fan_out;
        let d_out = &mut delta[last][..k * s];
        let yhat = &yhat[..k * s];
        for (j, (d, yhat)) in d_out.chunks_exact_mut(s).zip(yhat.chunks_exact(s)).enumerate() {
            for ((d, &yhat), &y) in d.iter_mut().zip(yhat).zip(y) {
                let t = target(y, j, k);
                *d = match obj.loss {
                    Loss::Bce | Loss::Ce => (yhat - t) * scale,
                    Loss::Mse => 2.0 * (yhat - t) * scale,
                };
            }
            d[m..].fill(0.0);
        }
        if obj.loss == Loss::Mse {
            // In place: each element reads only its own g (softmax: after the sum).
            let g = &mut *d_out;
            with_activation!(
                self.output_activation,
                |_f, df| {
                    for (g, &a) in g.iter_mut().zip(yhat) {
                        *g = df(*g, a);
                    }
                },
                softmax => softmax_backward(g, yhat, s)
            );
        }

        for (l, shape) in layers.iter().enumerate().rev() {
            let (k, n) = (shape.fan_in, shape.fan_out);
            let input = if l == 0 { &xt[..d * s] } else { &act[l - 1][..k * s] };
            let (d_below, d_above) = delta.split_at_mut(l);
            let d_l = &d_above[0][..n * s];
            // z_l = a_{l-1} W_l + b_l  =>  dJ/dW_l[p][j] = sum_i a_{l-1}[p][i] d_l[j][i],
            //                              dJ/db_l[j]    = sum_i d_l[j][i]
            kernels::dot(isa, input, d_l, &mut grad[shape.w.clone()], (k, n, s));
            if let Some(r) = shape.b.clone() {
                for (g, row) in grad[r].iter_mut().zip(d_l.chunks_exact(s)) {
                    *g = kernels::sum(isa, row);
                }
            }
            if l == 0 {
                break;
            }
            // dJ/da_{l-1} = d_l W_l^T (exact); the lab hands down e_l W_l^T:
            //   e_{l-1}[p][i] = sum_j W[p][j] handed[j][i],
            // then the layer below's own d_{l-1} = e_{l-1} * f'(z_{l-1}).
            let (e_below, e_above) = err.split_at_mut(l);
            let handed = match obj.backprop {
                Backprop::Lab if l < last => &e_above[0][..n * s],
                _ => d_l,
            };
            let wt = &mut wt[..k * n];
            kernels::transpose(&self.params[shape.w.clone()], wt, k, n);
            let a = &act[l - 1][..k * s];
            let (e, d) = (&mut e_below[l - 1][..k * s], &mut d_below[l - 1][..k * s]);
            kernels::mix(isa, wt, handed, e, (k, s));
            activate_backward(self.activation, e, a, d, s);
        }
    }

    /// Adds the gradient of (l2/2) * sum W^2, i.e. l2 * W, to every weight
    /// gradient (biases are not penalised).
    #[inline(always)]
    pub fn add_l2(&self, l2: f64, grad: &mut [f64]) {
        if l2 == 0.0 {
            return;
        }
        for shape in &self.layout.layers {
            let w = &self.params[shape.w.clone()];
            for (g, &w) in grad[shape.w.clone()].iter_mut().zip(w) {
                *g += l2 * w;
            }
        }
    }

    /// Outputs yhat for every row of `x`: (rows, output units). Allocates;
    /// for final predictions only.
    pub fn predict(&self, x: ArrayView2<f64>) -> Array2<f64> {
        self.predict_in(Portable, x)
    }

    /// [`Network::predict`] on the instruction set `isa`; the same bits for every `V`.
    #[inline(always)]
    pub(crate) fn predict_in<I: Isa>(&self, isa: I, x: ArrayView2<f64>) -> Array2<f64> {
        let mut ws = Workspace::new(&self.layout, x.nrows(), false);
        ws.load(x);
        self.forward_in(isa, &mut ws);
        let (n, s) = (x.nrows(), padded(x.nrows()));
        // yhat is (k, s) with padding samples: keep the first n of each unit.
        Array2::from_shape_fn((n, self.layout.outputs()), |(i, j)| ws.yhat[j * s + i])
    }

    /// The objective J (sum or mean of the per-sample loss over `x`), without
    /// the L2 term; used by the gradient checks.
    pub fn objective(&self, x: ArrayView2<f64>, y: ArrayView1<f64>, loss: Loss, reduction: Reduction) -> f64 {
        let mut ws = Workspace::new(&self.layout, x.nrows(), false);
        self.forward(x, &mut ws);
        let (mean, _) = self.evaluate(loss, &ws, &y.to_vec());
        match reduction {
            Reduction::Sum => mean * y.len() as f64,
            Reduction::Mean => mean,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;
    use ndarray::Array1;

    fn random_net(sizes: &[usize], bias: bool, f: Activation, out: Activation, seed: u64) -> Network {
        let layout = Layout::new(sizes, bias);
        let mut r = rng::stream(seed, "test-net", &[]);
        let params = (0..layout.len).map(|_| rng::normal(&mut r)).collect();
        Network { layout, activation: f, output_activation: out, params }
    }

    /// `n` samples of `d` inputs with class indices in 0..classes.
    fn random_data(n: usize, d: usize, classes: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
        let mut r = rng::stream(seed, "test-data", &[]);
        // Shift away from 0 so relu kinks are not hit by the finite differences.
        let x = Array2::from_shape_fn((n, d), |_| 2.0 * rng::uniform01(&mut r) - 1.0);
        let y = Array1::from_shape_fn(n, |_| (rng::uniform01(&mut r) * classes as f64).floor());
        (x, y)
    }

    /// Central-difference check of `backward` (+ `add_l2`) against
    /// J + (l2/2) sum W^2, for one configuration; `classes` classes (two for
    /// one output unit, else one per unit).
    #[allow(clippy::too_many_arguments)]
    fn check_gradient(
        sizes: &[usize],
        classes: usize,
        bias: bool,
        f: Activation,
        out: Activation,
        loss: Loss,
        reduction: Reduction,
        l2: f64,
    ) {
        let (x, y) = random_data(7, sizes[0], classes, 11);
        let mut net = random_net(sizes, bias, f, out, 5);
        let mut ws = Workspace::new(&net.layout, x.nrows(), true);
        net.forward(x.view(), &mut ws);
        let mut grad = vec![0.0; net.layout.len];
        net.backward(
            y.as_slice().unwrap(),
            Objective { loss, reduction, backprop: Backprop::Exact },
            &mut ws,
            &mut grad,
        );
        net.add_l2(l2, &mut grad);

        let penalised = |net: &Network| {
            let sq: f64 =
                net.layout.layers.iter().flat_map(|s| net.params[s.w.clone()].iter()).map(|w| w * w).sum();
            net.objective(x.view(), y.view(), loss, reduction) + 0.5 * l2 * sq
        };
        let h = 1e-6;
        for (i, &analytic) in grad.iter().enumerate() {
            let orig = net.params[i];
            net.params[i] = orig + h;
            let plus = penalised(&net);
            net.params[i] = orig - h;
            let minus = penalised(&net);
            net.params[i] = orig;
            let numeric = (plus - minus) / (2.0 * h);
            let tol = 1e-6 * (1.0 + numeric.abs().max(analytic.abs()));
            assert!(
                (numeric - analytic).abs() < tol,
                "param {i}: analytic {analytic} vs numeric {numeric} \
                 ({sizes:?} bias={bias} {f:?} {out:?} {loss:?} {reduction:?} l2={l2})"
            );
        }
    }

    #[test]
    fn gradients_match_finite_differences_for_every_combination() {
        let acts = [Activation::Sigmoid, Activation::Tanh, Activation::Relu, Activation::None];
        for sizes in [&[2, 3, 2, 1][..], &[3, 4, 3, 2, 1][..]] {
            for f in acts {
                for out in [Activation::Sigmoid, Activation::None] {
                    for loss in [Loss::Mse, Loss::Bce] {
                        if loss == Loss::Bce && out != Activation::Sigmoid {
                            continue; // not allowed by SPEC
                        }
                        for reduction in [Reduction::Sum, Reduction::Mean] {
                            for bias in [false, true] {
                                for l2 in [0.0, 0.3] {
                                    check_gradient(sizes, 2, bias, f, out, loss, reduction, l2);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Several output units with one-hot targets (SPEC 4): softmax with ce
    /// or mse, sigmoid with bce or mse, a linear output with mse; two
    /// classes on a softmax take two units. A hidden softmax is checked too.
    #[test]
    fn gradients_match_finite_differences_with_several_output_units() {
        let acts =
            [Activation::Sigmoid, Activation::Tanh, Activation::Relu, Activation::None, Activation::Softmax];
        let outputs = [
            (Activation::Softmax, Loss::Ce),
            (Activation::Softmax, Loss::Mse),
            (Activation::Sigmoid, Loss::Bce),
            (Activation::Sigmoid, Loss::Mse),
            (Activation::None, Loss::Mse),
        ];
        for sizes in [&[2, 3, 2, 3][..], &[3, 4, 3, 2, 4][..], &[2, 3, 2][..]] {
            let classes = *sizes.last().unwrap();
            for f in acts {
                for (out, loss) in outputs {
                    if classes == 2 && out != Activation::Softmax {
                        continue; // two classes on a sigmoid or linear output: one unit
                    }
                    for reduction in [Reduction::Sum, Reduction::Mean] {
                        for bias in [false, true] {
                            for l2 in [0.0, 0.3] {
                                check_gradient(sizes, classes, bias, f, out, loss, reduction, l2);
                            }
                        }
                    }
                }
            }
        }
    }

    /// SPEC 4's forward pass and gradient (exact or the lab's) written
    /// plainly with ndarray, one row per sample: the reference the kernels'
    /// feature-major products are checked against. Returns yhat (m, k) and
    /// the gradient in the network's layout.
    fn reference(net: &Network, x: &Array2<f64>, y: &Array1<f64>, obj: Objective) -> (Array2<f64>, Vec<f64>) {
        use ndarray::Axis;
        let f = |act: Activation, z: &Array2<f64>| match act {
            Activation::Sigmoid => z.mapv(|z| 1.0 / (1.0 + (-z).exp())),
            Activation::Tanh => z.mapv(f64::tanh),
            Activation::Relu => z.mapv(|z| z.max(0.0)),
            Activation::None => z.clone(),
            Activation::Softmax => {
                let mut a = z.clone();
                for mut row in a.rows_mut() {
                    let top = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                    row.mapv_inplace(|v| (v - top).exp());
                    let total = row.sum();
                    row /= total;
                }
                a
            }
        };
        // dJ/dz from g = dJ/da and a = f(z).
        let back = |act: Activation, a: &Array2<f64>, g: &Array2<f64>| match act {
            Activation::Sigmoid => g * &a.mapv(|a| a * (1.0 - a)),
            Activation::Tanh => g * &a.mapv(|a| 1.0 - a * a),
            Activation::Relu => g * &a.mapv(|a| f64::from(u8::from(a > 0.0))),
            Activation::None => g.clone(),
            Activation::Softmax => {
                let ga = (g * a).sum_axis(Axis(1)).insert_axis(Axis(1));
                a * &(g - &ga)
            }
        };
        let layers = &net.layout.layers;
        let mut acts = vec![x.clone()];
        let mut z = x.clone();
        for (l, shape) in layers.iter().enumerate() {
            z = acts[l].dot(&net.layout.w(&net.params, l));
            if let Some(b) = net.layout.b(&net.params, l) {
                z += &b;
            }
            if l + 1 < layers.len() {
                acts.push(f(net.activation, &z));
            }
            assert_eq!(z.ncols(), shape.fan_out);
        }
        let yhat = f(net.output_activation, &z);
        let (m, k) = yhat.dim();
        let t =
            Array2::from_shape_fn(
                (m, k),
                |(i, j)| if k == 1 { y[i] } else { f64::from(u8::from(y[i] == j as f64)) },
            );
        let scale = if obj.reduction == Reduction::Mean { 1.0 / m as f64 } else { 1.0 };
        let mut d = match obj.loss {
            Loss::Bce | Loss::Ce => (&yhat - &t) * scale,
            Loss::Mse => back(net.output_activation, &yhat, &((&yhat - &t) * (2.0 * scale))),
        };
        let mut handed = d.clone();
        let mut grad = vec![0.0; net.layout.len];
        for (l, shape) in layers.iter().enumerate().rev() {
            let gw = acts[l].t().dot(&d);
            grad[shape.w.clone()].copy_from_slice(gw.as_standard_layout().as_slice().unwrap());
            if let Some(r) = shape.b.clone() {
                grad[r].copy_from_slice(d.sum_axis(Axis(0)).as_slice().unwrap());
            }
            if l == 0 {
                break;
            }
            let e = handed.dot(&net.layout.w(&net.params, l).t());
            d = back(net.activation, &acts[l], &e);
            handed = if obj.backprop == Backprop::Lab { e } else { d.clone() };
        }
        (yhat, grad)
    }

    /// The network's forward and backward passes, on every instruction set
    /// this CPU runs, against the plain ndarray reference.
    #[test]
    fn forward_and_backward_match_a_plain_ndarray_reference_on_every_instruction_set() {
        use crate::simd::{Kernels, OnLanes};
        struct Pass<'a>(&'a Network, &'a Array2<f64>, &'a Array1<f64>, Objective);
        impl OnLanes for Pass<'_> {
            type Out = (Array2<f64>, Vec<f64>);
            fn run<I: Isa>(self, isa: I) -> Self::Out {
                let Pass(net, x, y, obj) = self;
                let mut ws = Workspace::new(&net.layout, x.nrows(), true);
                ws.load(x.view());
                net.forward_in(isa, &mut ws);
                let mut grad = vec![0.0; net.layout.len];
                net.backward_in(isa, y.as_slice().unwrap(), obj, &mut ws, &mut grad);
                (net.predict_in(isa, x.view()), grad)
            }
        }
        use Activation::*;
        let obj = |loss, reduction, backprop| Objective { loss, reduction, backprop };
        let cases = [
            (&[3, 5, 4, 2, 1][..], false, Sigmoid, Sigmoid, obj(Loss::Mse, Reduction::Sum, Backprop::Exact)),
            (&[2, 6, 3, 1], true, Tanh, Sigmoid, obj(Loss::Bce, Reduction::Mean, Backprop::Lab)),
            (&[4, 9, 3], true, Relu, Softmax, obj(Loss::Ce, Reduction::Mean, Backprop::Exact)),
            (&[2, 17, 6, 3], true, Sigmoid, Sigmoid, obj(Loss::Bce, Reduction::Sum, Backprop::Exact)),
            (&[5, 8, 4], false, Tanh, None, obj(Loss::Mse, Reduction::Sum, Backprop::Lab)),
            (&[2, 12, 5, 10], true, Tanh, Softmax, obj(Loss::Mse, Reduction::Mean, Backprop::Exact)),
        ];
        for (c, (sizes, bias, f, out, obj)) in cases.into_iter().enumerate() {
            let classes = (*sizes.last().unwrap()).max(2);
            for m in [1, 13, 37] {
                let (x, y) = random_data(m, sizes[0], classes, 40 + c as u64);
                let net = random_net(sizes, bias, f, out, 50 + c as u64);
                let (want_yhat, want_grad) = reference(&net, &x, &y, obj);
                for k in Kernels::available() {
                    let (yhat, grad) = k.run(Pass(&net, &x, &y, obj));
                    let what = format!("{k:?} case {c} m {m}");
                    assert_eq!(yhat.dim(), want_yhat.dim(), "{what}");
                    for (g, w) in yhat.iter().zip(&want_yhat) {
                        assert!((g - w).abs() <= 1e-12 * (1.0 + w.abs()), "{what}: yhat {g} vs {w}");
                    }
                    for (i, (g, w)) in grad.iter().zip(&want_grad).enumerate() {
                        assert!((g - w).abs() <= 1e-10 * (1.0 + w.abs()), "{what}: grad {i} {g} vs {w}");
                    }
                }
            }
        }
    }

    #[test]
    fn lab_backprop_differs_from_exact_only_below_the_top_hidden_layer() {
        let (x, y) = random_data(9, 2, 2, 3);
        let net = random_net(&[2, 3, 3, 1], true, Activation::Sigmoid, Activation::Sigmoid, 8);
        let mut ws = Workspace::new(&net.layout, 9, true);
        let mut exact = vec![0.0; net.layout.len];
        let mut lab = vec![0.0; net.layout.len];
        let obj = |backprop| Objective { loss: Loss::Mse, reduction: Reduction::Sum, backprop };
        net.forward(x.view(), &mut ws);
        net.backward(y.as_slice().unwrap(), obj(Backprop::Exact), &mut ws, &mut exact);
        net.backward(y.as_slice().unwrap(), obj(Backprop::Lab), &mut ws, &mut lab);
        let top = net.layout.layers[1].w.start; // layers 1 and 2 see the same signal
        assert_eq!(exact[top..], lab[top..]);
        assert_ne!(exact[..top], lab[..top]);
    }

    #[test]
    fn bce_is_stable_at_saturation() {
        assert_eq!(unit_loss(Loss::Bce, 800.0, 1.0, 1.0), 0.0);
        assert!((unit_loss(Loss::Bce, -800.0, 0.0, 1.0) - 800.0).abs() < 1e-12);
        assert!(unit_loss(Loss::Bce, 40.0, fastmath::sigmoid(40.0), 0.0).is_finite());
    }

    #[test]
    fn cross_entropy_is_stable_for_large_logits() {
        let z = [800.0, -800.0, 0.0];
        assert_eq!(cross_entropy(z.iter().copied(), 0), 0.0);
        assert!((cross_entropy(z.iter().copied(), 1) - 1600.0).abs() < 1e-9);
        assert!((cross_entropy(z.iter().copied(), 2) - 800.0).abs() < 1e-9);
        // Equal logits: ln k.
        assert!((cross_entropy([3.0; 4].into_iter(), 2) - 4f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn softmax_of_large_logits_is_finite_and_sums_to_one() {
        // Two samples (s = 2) of three units, feature-major.
        let mut za = [1000.0, -5.0, 999.0, -5.0, -1000.0, -5.0];
        softmax(&mut za, 2);
        assert!(za.iter().all(|a| a.is_finite()));
        for i in 0..2 {
            assert!((za[i] + za[2 + i] + za[4 + i] - 1.0).abs() < 1e-15);
        }
        assert!((za[0] - 1.0 / (1.0 + (-1f64).exp())).abs() < 1e-15);
        assert!((za[1] - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn the_predicted_class_is_the_threshold_for_one_unit_and_the_first_argmax_for_several() {
        assert_eq!(predicted_class([0.5].into_iter()), 1);
        assert_eq!(predicted_class([0.49].into_iter()), 0);
        assert_eq!(predicted_class([0.2, 0.7, 0.1].into_iter()), 1);
        assert_eq!(predicted_class([0.4, 0.2, 0.4].into_iter()), 0);
        assert_eq!(predicted_class([0.1, 0.9].into_iter()), 1);
    }

    #[test]
    fn layout_places_weights_then_bias_per_layer() {
        let l = Layout::new(&[2, 3, 1], true);
        assert_eq!(l.layers[0].w, 0..6);
        assert_eq!(l.layers[0].b, Some(6..9));
        assert_eq!(l.layers[1].w, 9..12);
        assert_eq!(l.layers[1].b, Some(12..13));
        assert_eq!(l.len, 13);
        assert_eq!(l.sizes(), vec![2, 3, 1]);
    }
}

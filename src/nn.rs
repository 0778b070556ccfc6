//! The network: layers, activations, losses, forward pass and
//! back-propagation. This is the one place to check the math against the
//! chain rule (SPEC 4).
//!
//! Notation (one row per sample, `m` rows in a batch):
//!   z_l = a_{l-1} W_l + b_l      a_0 = x,  W_l: (fan_in, fan_out)
//!   a_l = f(z_l)                 f = `activation` (hidden), `output_activation` (last)
//!   J   = sum_i loss(yhat_i, y_i)          (times 1/m for reduction = "mean")
//!
//! Every parameter lives in one flat `Vec<f64>` described by a [`Layout`], so
//! optimizers are plain loops over slices and gradients share the layout.
//! A [`Workspace`] holds every per-sample buffer and is allocated once per job;
//! inside it, values are stored feature-major (one row per unit, samples
//! along the row) so that every loop runs along the samples.

use std::ops::Range;

use ndarray::{Array1, ArrayView1, ArrayView2};

use crate::fastmath;
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

impl Activation {
    /// `g * f'(z)` given `a = f(z)`. For relu, f'(0) = 0 as in PyTorch.
    #[inline(always)]
    pub fn backward(self, g: f64, a: f64) -> f64 {
        match self {
            Activation::Sigmoid => g * (1.0 - a) * a,
            Activation::Tanh => g * (1.0 - a * a),
            Activation::Relu => {
                if a > 0.0 {
                    g
                } else {
                    0.0
                }
            }
            Activation::None => g,
        }
    }
}

// ---------------------------------------------------------------------------
// Losses, per sample. `z` is the output logit, `yhat = f_out(z)`.

/// Per-sample loss. bce uses the logit: max(z,0) - z y + ln(1 + e^-|z|),
/// which never takes the log of 0.
#[inline(always)]
pub fn sample_loss(loss: Loss, z: f64, yhat: f64, y: f64) -> f64 {
    match loss {
        Loss::Mse => (yhat - y) * (yhat - y),
        Loss::Bce => z.max(0.0) - z * y + (-z.abs()).exp().ln_1p(),
    }
}

/// dJ/dz for one sample, times `scale` (1 or 1/m). For bce on a sigmoid the
/// chain through the sigmoid cancels: d/dz = sigmoid(z) - y.
#[inline(always)]
fn output_delta(loss: Loss, out: Activation, scale: f64, yhat: f64, y: f64) -> f64 {
    match loss {
        // d/dyhat (yhat - y)^2 = 2 (yhat - y), then through f_out.
        Loss::Mse => out.backward(2.0 * (yhat - y) * scale, yhat),
        Loss::Bce => (yhat - y) * scale,
    }
}

/// The objective and how its gradient is passed down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Objective {
    pub loss: Loss,
    pub reduction: Reduction,
    pub backprop: Backprop,
}

/// Buffers for one batch size, allocated once per job.
///
/// Layout: feature-major. A layer's values for a batch of `m` samples are a
/// (fan, m) block, sample index fastest, in the first fan * m entries of its
/// buffer. Every kernel then runs its inner loop along the samples, which is
/// long and contiguous even when a layer has two units, as the lab's do.
#[derive(Debug)]
pub struct Workspace {
    rows: usize,
    /// The input batch, transposed: (inputs, m).
    x: Vec<f64>,
    /// a_l for every layer, (fan_out_l, m); for the last layer the logits z_L.
    act: Vec<Vec<f64>>,
    /// yhat = f_out(z_L): (m,)
    yhat: Vec<f64>,
    /// dJ/dz_l: (fan_out_l, m); empty when built without gradients.
    delta: Vec<Vec<f64>>,
    /// e_l = dJ/da_l as handed down (lab variant: without f'): (fan_out_l, m).
    err: Vec<Vec<f64>>,
    /// Scratch for transposes (W_l^T, d_l^T): the largest of them.
    wt: Vec<f64>,
}

impl Workspace {
    /// `with_grad = false` gives a forward-only workspace (evaluation).
    pub fn new(layout: &Layout, rows: usize, with_grad: bool) -> Workspace {
        let make = || layout.layers.iter().map(|l| vec![0.0; rows * l.fan_out]).collect();
        let widest = layout.layers.iter().map(|l| (l.fan_in.max(rows)) * l.fan_out).max().unwrap_or(0);
        Workspace {
            rows,
            x: vec![0.0; rows * layout.inputs()],
            act: make(),
            yhat: vec![0.0; rows],
            delta: if with_grad { make() } else { Vec::new() },
            err: if with_grad { make() } else { Vec::new() },
            wt: if with_grad { vec![0.0; widest] } else { Vec::new() },
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Outputs of the last forward pass over `m` rows.
    pub fn yhat(&self, m: usize) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.yhat[..m])
    }

    /// Output logits of the last forward pass over `m` rows.
    pub fn logits(&self, m: usize) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.act.last().expect("at least one layer")[..m])
    }
}

// ---------------------------------------------------------------------------
// Kernels on feature-major blocks, writing into existing buffers. Hand loops,
// not a GEMM: the matrices are tiny, and a GEMM call would allocate a packing
// buffer each time.
//
// Bit-reproducibility: every output sums its terms in an order fixed by this
// code -- ascending for the products along features, four interleaved
// partial sums (combined as (s0 + s1) + (s2 + s3), then the tail) for the
// sums along samples -- never by the vector width, so the portable and the
// AVX2 builds compute the same bits.

/// Samples handled together by one tile (two AVX2 vectors).
const LANES: usize = 8;

/// One R x C tile of `out (rows, m) = coef^T src (+ bias)`, coef (terms,
/// rows) row-major, src (terms, m): out[r0 + r][i] = sum over q, ascending,
/// of coef[q][r0 + r] * src[q][i] (+ bias[r0 + r]), for samples i0..i0 + C.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile_mix<const R: usize, const C: usize>(
    coef: &[f64],
    src: &[f64],
    terms: usize,
    bias: Option<&[f64]>,
    out: &mut [f64],
    (r0, i0): (usize, usize),
    rows: usize,
    m: usize,
) {
    let mut acc = [[0.0; C]; R];
    for q in 0..terms {
        let s: &[f64; C] = src[q * m + i0..q * m + i0 + C].try_into().expect("C samples");
        let w: &[f64; R] = coef[q * rows + r0..q * rows + r0 + R].try_into().expect("R rows");
        for (acc, &w) in acc.iter_mut().zip(w) {
            for (acc, &s) in acc.iter_mut().zip(s) {
                *acc += w * s;
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        let b = bias.map_or(0.0, |b| b[r0 + r]);
        let o: &mut [f64; C] =
            (&mut out[(r0 + r) * m + i0..(r0 + r) * m + i0 + C]).try_into().expect("C samples");
        for (o, &acc) in o.iter_mut().zip(acc) {
            *o = acc + b;
        }
    }
}

/// out (rows, m) = coef^T src (+ bias), coef (terms, rows), src (terms, m).
#[inline(always)]
fn mix(coef: &[f64], src: &[f64], terms: usize, bias: Option<&[f64]>, out: &mut [f64], m: usize) {
    let rows = out.len() / m.max(1);
    let mut r = 0;
    while r < rows {
        let rr = if rows - r >= 4 { 4 } else { 1 };
        let mut i = 0;
        while i + LANES <= m {
            match rr {
                4 => tile_mix::<4, LANES>(coef, src, terms, bias, out, (r, i), rows, m),
                _ => tile_mix::<1, LANES>(coef, src, terms, bias, out, (r, i), rows, m),
            }
            i += LANES;
        }
        while i < m {
            match rr {
                4 => tile_mix::<4, 1>(coef, src, terms, bias, out, (r, i), rows, m),
                _ => tile_mix::<1, 1>(coef, src, terms, bias, out, (r, i), rows, m),
            }
            i += 1;
        }
        r += rr;
    }
}

/// t (n, k) = w^T for w (k, n).
#[inline(always)]
fn transpose(w: &[f64], t: &mut [f64], k: usize, n: usize) {
    for (p, row) in w.chunks_exact(n).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            t[j * k + p] = v;
        }
    }
}

/// One R x C tile of c = a b (+ bias): rows i0.., columns j0...
#[inline(always)]
fn tile_nn<const R: usize, const C: usize>(
    a: &[f64],
    b: &[f64],
    bias: Option<&[f64]>,
    c: &mut [f64],
    (i0, j0): (usize, usize),
    k: usize,
    n: usize,
) {
    let rows: [&[f64]; R] = std::array::from_fn(|r| &a[(i0 + r) * k..(i0 + r + 1) * k]);
    let mut acc = [[0.0; C]; R];
    for (p, bp) in b.chunks_exact(n).take(k).enumerate() {
        let bp: &[f64; C] = bp[j0..j0 + C].try_into().expect("C columns");
        for (acc, row) in acc.iter_mut().zip(&rows) {
            let aip = row[p];
            for (acc, &b) in acc.iter_mut().zip(bp) {
                *acc += aip * b;
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        let out: &mut [f64; C] =
            (&mut c[(i0 + r) * n + j0..(i0 + r) * n + j0 + C]).try_into().expect("C columns");
        for (t, (o, &acc)) in out.iter_mut().zip(acc).enumerate() {
            *o = acc + bias.map_or(0.0, |b| b[j0 + t]);
        }
    }
}

/// The largest tile side (4, 2 or 1) that fits in `left` rows or columns.
#[inline(always)]
fn side(left: usize) -> usize {
    if left >= 4 {
        4
    } else if left >= 2 {
        2
    } else {
        1
    }
}

/// Calls `$tile::<R, C>($args)` for the runtime sides `$r`, `$c` (each 4, 2 or 1).
macro_rules! dispatch_tile {
    ($tile:ident, $r:expr, $c:expr, $($args:expr),*) => {
        match ($r, $c) {
            (4, 4) => $tile::<4, 4>($($args),*),
            (4, 2) => $tile::<4, 2>($($args),*),
            (4, _) => $tile::<4, 1>($($args),*),
            (2, 4) => $tile::<2, 4>($($args),*),
            (2, 2) => $tile::<2, 2>($($args),*),
            (2, _) => $tile::<2, 1>($($args),*),
            (_, 4) => $tile::<1, 4>($($args),*),
            (_, 2) => $tile::<1, 2>($($args),*),
            _ => $tile::<1, 1>($($args),*),
        }
    };
}

/// c (m, n) = a (m, k) b (k, n) (+ bias (n) on every row).
#[inline(always)]
fn matmul(a: &[f64], b: &[f64], bias: Option<&[f64]>, c: &mut [f64], k: usize, n: usize) {
    let m = c.len() / n.max(1);
    let mut i = 0;
    while i < m {
        let r = side(m - i);
        let mut j = 0;
        while j < n {
            let cols = side(n - j);
            dispatch_tile!(tile_nn, r, cols, a, b, bias, c, (i, j), k, n);
            j += cols;
        }
        i += r;
    }
}

/// Sum of a[..m] as four interleaved partial sums, combined as
/// (s0 + s1) + (s2 + s3), then the tail.
#[inline(always)]
fn sum(a: &[f64], m: usize) -> f64 {
    let mut s = [0.0; 4];
    let body = m - m % 4;
    for a4 in a[..body].chunks_exact(4) {
        for t in 0..4 {
            s[t] += a4[t];
        }
    }
    let mut total = (s[0] + s[1]) + (s[2] + s[3]);
    for &v in &a[body..m] {
        total += v;
    }
    total
}

/// v = f(v) for every element; one monomorphic loop per activation so the
/// compiler vectorises it.
#[inline(always)]
fn activate(f: Activation, v: &mut [f64]) {
    // Plain `for` loops: iterator adaptors are not always inlined into the
    // AVX2 copy of the epoch loop, and an un-inlined loop is not vectorised.
    match f {
        Activation::Sigmoid => {
            for v in v {
                *v = fastmath::sigmoid(*v);
            }
        }
        Activation::Tanh => {
            for v in v {
                *v = fastmath::tanh(*v);
            }
        }
        Activation::Relu => {
            for v in v {
                *v = v.max(0.0);
            }
        }
        Activation::None => {}
    }
}

/// d = e * f'(z) given a = f(z), elementwise; one loop per activation, as
/// in [`activate`].
#[inline(always)]
fn activation_backward(f: Activation, d: &mut [f64], e: &[f64], a: &[f64]) {
    let each = |d: &mut [f64], g: &dyn Fn(f64, f64) -> f64| {
        for ((d, &e), &a) in d.iter_mut().zip(e).zip(a) {
            *d = g(e, a);
        }
    };
    match f {
        Activation::Sigmoid => each(d, &|e, a| Activation::Sigmoid.backward(e, a)),
        Activation::Tanh => each(d, &|e, a| Activation::Tanh.backward(e, a)),
        Activation::Relu => each(d, &|e, a| Activation::Relu.backward(e, a)),
        Activation::None => d.copy_from_slice(e),
    }
}

impl Network {
    /// Forward pass over the rows of `x` (at most `ws.rows()`).
    #[inline(always)]
    pub fn forward(&self, x: ArrayView2<f64>, ws: &mut Workspace) {
        let (m, d) = x.dim();
        assert!(m <= ws.rows, "batch larger than the workspace");
        // a_0 = x, feature-major.
        for (i, row) in x.rows().into_iter().enumerate() {
            for (p, &v) in row.iter().enumerate() {
                ws.x[p * m + i] = v;
            }
        }
        let last = self.layout.layers.len() - 1;
        for (l, shape) in self.layout.layers.iter().enumerate() {
            let (done, rest) = ws.act.split_at_mut(l);
            let input = if l == 0 { &ws.x[..d * m] } else { &done[l - 1][..shape.fan_in * m] };
            let z = &mut rest[0][..shape.fan_out * m];
            // z_l = a_{l-1} W_l + b_l:  z[j][i] = sum_p W[p][j] a[p][i] + b[j]
            let bias = shape.b.clone().map(|r| &self.params[r]);
            let w = &self.params[shape.w.clone()];
            mix(w, input, shape.fan_in, bias, z, m);
            if l < last {
                // a_l = f(z_l), in place.
                activate(self.activation, z);
            } else {
                // yhat = f_out(z_L); z_L stays for the logit-based loss.
                let yhat = &mut ws.yhat[..m];
                yhat.copy_from_slice(z);
                activate(self.output_activation, yhat);
            }
        }
    }

    /// Mean per-sample loss and accuracy of the last forward pass over `m`
    /// rows against labels `y`.
    #[inline(always)]
    pub fn evaluate(&self, loss: Loss, ws: &Workspace, y: ArrayView1<f64>) -> (f64, f64) {
        let m = y.len();
        if m == 0 {
            return (f64::NAN, f64::NAN);
        }
        let (mut total, mut correct) = (0.0, 0usize);
        let z = &ws.act.last().expect("at least one layer")[..m];
        for ((&z, &yhat), &y) in z.iter().zip(&ws.yhat[..m]).zip(y) {
            total += sample_loss(loss, z, yhat, y);
            correct += usize::from((yhat >= 0.5) == (y >= 0.5));
        }
        (total / m as f64, correct as f64 / m as f64)
    }

    /// Back-propagation after `forward(x, ws)`: writes dJ/dparams into `grad`
    /// (same layout as `params`), overwriting it.
    ///
    /// `Backprop::Lab` reproduces the lab report: each hidden layer uses
    /// d_l = e_l * f'(z_l) for its own gradient but hands down e_l W_l^T
    /// instead of d_l W_l^T. It is not a gradient (SPEC 4).
    #[inline(always)]
    pub fn backward(
        &self,
        x: ArrayView2<f64>,
        y: ArrayView1<f64>,
        obj: Objective,
        ws: &mut Workspace,
        grad: &mut [f64],
    ) {
        let (m, d) = x.dim();
        let layers = &self.layout.layers;
        let last = layers.len() - 1;
        let scale = match obj.reduction {
            Reduction::Sum => 1.0,
            Reduction::Mean => 1.0 / m as f64,
        };
        let Workspace { x: xt, act, yhat, delta, err, wt, .. } = ws;

        // Output layer: d_L = dJ/dz_L, (1, m).
        let out = self.output_activation;
        for ((d, &yhat), &y) in delta[last][..m].iter_mut().zip(&yhat[..m]).zip(y) {
            *d = output_delta(obj.loss, out, scale, yhat, y);
        }

        for (l, shape) in layers.iter().enumerate().rev() {
            let (k, n) = (shape.fan_in, shape.fan_out);
            let input = if l == 0 { &xt[..d * m] } else { &act[l - 1][..k * m] };
            if l < last {
                // d_l = e_l * f'(z_l), e_l being what the layer above handed down.
                activation_backward(
                    self.activation,
                    &mut delta[l][..n * m],
                    &err[l][..n * m],
                    &act[l][..n * m],
                );
            }
            let d_l = &delta[l][..n * m];
            // z_l = a_{l-1} W_l + b_l  =>  dJ/dW_l[p][j] = sum_i a_{l-1}[p][i] d_l[j][i],
            //                              dJ/db_l[j]    = sum_i d_l[j][i]
            // As a product over the samples: dW_l (k, n) = a_{l-1} (k, m) d_l^T (m, n).
            let dt = &mut wt[..m * n];
            transpose(d_l, dt, n, m);
            matmul(input, dt, None, &mut grad[shape.w.clone()], m, n);
            if let Some(r) = shape.b.clone() {
                for (j, g) in grad[r].iter_mut().enumerate() {
                    *g = sum(&d_l[j * m..], m);
                }
            }
            if l > 0 {
                // dJ/da_{l-1} = d_l W_l^T (exact); the lab hands down e_l W_l^T:
                // e_{l-1}[p][i] = sum_j W[p][j] handed[j][i]
                let (below, above) = err.split_at_mut(l);
                let handed = match obj.backprop {
                    Backprop::Lab if l < last => &above[0][..n * m],
                    _ => d_l,
                };
                let wt = &mut wt[..k * n];
                transpose(&self.params[shape.w.clone()], wt, k, n);
                mix(wt, handed, n, None, &mut below[l - 1][..k * m], m);
            }
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

    /// Outputs for every row of `x` (allocates; for final predictions only).
    pub fn predict(&self, x: ArrayView2<f64>) -> Array1<f64> {
        let mut ws = Workspace::new(&self.layout, x.nrows(), false);
        self.forward(x, &mut ws);
        Array1::from(ws.yhat)
    }

    /// The objective J (sum or mean of the per-sample loss over `x`), without
    /// the L2 term; used by the gradient checks.
    pub fn objective(&self, x: ArrayView2<f64>, y: ArrayView1<f64>, loss: Loss, reduction: Reduction) -> f64 {
        let mut ws = Workspace::new(&self.layout, x.nrows(), false);
        self.forward(x, &mut ws);
        let (mean, _) = self.evaluate(loss, &ws, y);
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
    use ndarray::Array2;

    fn random_net(sizes: &[usize], bias: bool, f: Activation, out: Activation, seed: u64) -> Network {
        let layout = Layout::new(sizes, bias);
        let mut r = rng::stream(seed, "test-net", &[]);
        let params = (0..layout.len).map(|_| rng::normal(&mut r)).collect();
        Network { layout, activation: f, output_activation: out, params }
    }

    fn random_data(n: usize, d: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
        let mut r = rng::stream(seed, "test-data", &[]);
        // Shift away from 0 so relu kinks are not hit by the finite differences.
        let x = Array2::from_shape_fn((n, d), |_| 2.0 * rng::uniform01(&mut r) - 1.0);
        let y = Array1::from_shape_fn(n, |_| f64::from(rng::uniform01(&mut r) > 0.5));
        (x, y)
    }

    /// Central-difference check of `backward` (+ `add_l2`) against
    /// J + (l2/2) sum W^2, for one configuration.
    fn check_gradient(
        sizes: &[usize],
        bias: bool,
        f: Activation,
        out: Activation,
        loss: Loss,
        reduction: Reduction,
        l2: f64,
    ) {
        let (x, y) = random_data(7, sizes[0], 11);
        let mut net = random_net(sizes, bias, f, out, 5);
        let mut ws = Workspace::new(&net.layout, x.nrows(), true);
        net.forward(x.view(), &mut ws);
        let mut grad = vec![0.0; net.layout.len];
        net.backward(
            x.view(),
            y.view(),
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
                                    check_gradient(sizes, bias, f, out, loss, reduction, l2);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn lab_backprop_differs_from_exact_only_below_the_top_hidden_layer() {
        let (x, y) = random_data(9, 2, 3);
        let net = random_net(&[2, 3, 3, 1], true, Activation::Sigmoid, Activation::Sigmoid, 8);
        let mut ws = Workspace::new(&net.layout, 9, true);
        let mut exact = vec![0.0; net.layout.len];
        let mut lab = vec![0.0; net.layout.len];
        let obj = |backprop| Objective { loss: Loss::Mse, reduction: Reduction::Sum, backprop };
        net.forward(x.view(), &mut ws);
        net.backward(x.view(), y.view(), obj(Backprop::Exact), &mut ws, &mut exact);
        net.backward(x.view(), y.view(), obj(Backprop::Lab), &mut ws, &mut lab);
        let top = net.layout.layers[1].w.start; // layers 1 and 2 see the same signal
        assert_eq!(exact[top..], lab[top..]);
        assert_ne!(exact[..top], lab[..top]);
    }

    #[test]
    fn bce_is_stable_at_saturation() {
        assert_eq!(sample_loss(Loss::Bce, 800.0, 1.0, 1.0), 0.0);
        assert!((sample_loss(Loss::Bce, -800.0, 0.0, 1.0) - 800.0).abs() < 1e-12);
        assert!(sample_loss(Loss::Bce, 40.0, fastmath::sigmoid(40.0), 0.0).is_finite());
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

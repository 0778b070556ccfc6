#!/usr/bin/env python3
"""Golden training trajectories for sweep's numerics, computed independently.

Each case is one training run: data, a network and its initial weights, and
what sweep must report for it (SPEC 4). The trajectory is computed with
PyTorch autograd in float64 for the exact back-propagation, and with a numpy
transcription of the lab report's code for `backprop = "lab"` (it is not a
gradient, so autograd cannot compute it). `tests/it/golden.rs` trains the same
network from the same weights on the same data and must match every recorded
value to a relative 1e-9.

Regenerate (the files are committed; `cargo test` and .ci/run need neither
torch nor numpy):

    pip install torch numpy scikit-learn   # the CPU wheel is enough
    python3 scripts/golden.py        # rewrites tests/golden/*.json
    python3 scripts/golden.py --out DIR --only softmax-ce-3-mean

Everything is seeded, so a rerun with the same torch and numpy writes the same
cases; the last digits may move with another BLAS, far below the tolerance.

File format (the same as ../shared/golden/README.md, so one replay test reads
both sets; the fields marked "optional" extend it for multi-class networks):

    {"name": str,
     "model": {"hidden": [..], "activation": "sigmoid|tanh|relu|none",
               "output_activation": "sigmoid|none|softmax", "bias": bool,
               "backprop": "lab"              (present only for the lab variant)
               "outputs": k                   (optional: output units, default 1)},
     "train": {"loss": "mse|bce|ce", "reduction": "sum|mean",
               "optimizer": "sgd|momentum|adam", "lr": f, "epochs": n,
               "batch_size": n | null,        (null: full batch)
               "l2": f                        (optional, default 0)},
     "data":  {"x": [[..], ..], "y": [class index, ..],
               "classes": k                   (optional, default 2),
               "test_x", "test_y"             (CSV cases: the held-out part)},
     "csv":   (optional: a CSV case; "data" is then its scaled training part)
              {"file": the CSV text, "spec": {the job's data keys}, "seed": n,
               "columns": [..], "class_names": [..], "raw_x": [[every row]],
               "train_rows": [..], "test_rows": [..] (0-based data rows),
               "scaling": {"method": .., "offset": [..], "divisor": [..]}},
     "init":  {"layers": [{"w": [[..]] (fan_in x fan_out), "b": [..] | null}, ..]},
     "expected": {"loss": [epochs + 1 values], "accuracy": [epochs + 1 values],
                  "final_layers": [..],
                  "final_predictions": [one output per sample] for one unit,
                                       [[k outputs] per sample] for several,
                  "test_loss", "test_accuracy": [epochs + 1 values] (CSV cases)}}

Definitions (SPEC 4): one output unit when there are two classes and the
output is sigmoid or none, else one unit per class with one-hot targets;
per-sample loss mse (yhat - t)^2 and bce summed over the units, ce
-ln softmax(z)_y; the objective is the sum or mean over the batch, plus
(l2/2) sum W^2 over the weights (not the biases); `loss` is the mean
per-sample loss over the whole training set after e epochs (no penalty);
accuracy counts yhat >= 0.5 == label for one unit, argmax == label for several.
Momentum is torch.optim.SGD(momentum=0.9); adam torch.optim.Adam's defaults;
mini-batches are consecutive slices in data order (no shuffling).

CSV cases (a file's classes, its seeded train/test split, plain or
stratified, and the scaling fitted on the training part only): the split
depends on sweep's seeded data stream, and this script computes it itself
from the stream's published algorithms (see "CSV data sets" below), so the
replay checks sweep's rows and scaling against an independent computation,
then trains on sweep's own split and compares test metrics too.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

# sweep's data stream and split, from their published algorithms (beside this file).
from data_stream import classes_of, split_rows

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "tests", "golden")

# ---------------------------------------------------------------------------
# Data sets (stored in the files: sweep does not regenerate them).


def lab_xor():
    """The lab's 21 XOR points (SPEC 4), 0.1 * i as the lab computes it."""
    xs, ys = [], []
    for i in range(11):
        t = 0.1 * i
        xs.append([t, t])
        ys.append(0)
        if i != 5:
            xs.append([t, 1.0 - t])
            ys.append(1)
    return np.array(xs), np.array(ys)


def linear(n, rng):
    x = rng.random((n, 2))
    return x, (x[:, 0] <= x[:, 1]).astype(np.int64)


def circle(n, rng):
    x = 2.0 * rng.random((n, 2)) - 1.0
    return x, (x[:, 0] ** 2 + x[:, 1] ** 2 < 2.0 / np.pi).astype(np.int64)


def blobs(n, k, d, rng, spread=0.9):
    """n points around k centres in d dimensions, classes interleaved."""
    centres = 2.0 * rng.standard_normal((k, d))
    y = np.arange(n) % k
    x = centres[y] + spread * rng.standard_normal((n, d))
    return x, y


# ---------------------------------------------------------------------------
# The network, as SPEC 4 defines it.


def output_units(out_act, classes):
    return 1 if classes == 2 and out_act in ("sigmoid", "none") else classes


def targets(y, k):
    """(n, k): the label itself for one unit, one-hot rows for several."""
    if k == 1:
        return y.astype(np.float64).reshape(-1, 1)
    t = np.zeros((len(y), k))
    t[np.arange(len(y)), y] = 1.0
    return t


def init_layers(sizes, bias, rng):
    """Weights N(0, 1) (sweep's "normal" init); biases small and nonzero so a
    wrong bias gradient shows."""
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = rng.standard_normal((fan_in, fan_out))
        b = 0.1 * rng.standard_normal(fan_out) if bias else None
        layers.append((w, b))
    return layers


TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "none": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def torch_forward(params, x, act, out_act):
    """Returns (z_L, yhat)."""
    a = x
    for i, (w, b) in enumerate(params):
        z = a @ w
        if b is not None:
            z = z + b
        a = TORCH_ACT[act](z) if i < len(params) - 1 else z
    return a, TORCH_ACT[out_act](a)


def torch_sample_loss(loss, z, yhat, t, y):
    """Per-sample loss, (n,)."""
    if loss == "mse":
        return ((yhat - t) ** 2).sum(dim=1)
    if loss == "bce":
        return torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="none").sum(dim=1)
    if loss == "ce":
        return torch.nn.functional.cross_entropy(z, y, reduction="none")
    raise ValueError(loss)


def accuracy(yhat, y):
    if yhat.shape[1] == 1:
        return float(((yhat[:, 0] >= 0.5).astype(np.int64) == y).mean())
    return float((np.argmax(yhat, axis=1) == y).mean())


def batches(n, batch_size):
    step = batch_size or n
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def run_torch(case, x_np, y_np, layers, test=None):
    """`test`: (x, y) held out, evaluated after every epoch like the training
    set; returns (losses, accuracies, final layers, final outputs,
    (test losses, test accuracies))."""
    m, t = case["model"], case["train"]
    x = torch.tensor(x_np)
    y = torch.tensor(y_np, dtype=torch.int64)
    k = layers[-1][0].shape[1]
    tt = torch.tensor(targets(y_np, k))
    params = [
        (torch.tensor(w, requires_grad=True), None if b is None else torch.tensor(b, requires_grad=True))
        for w, b in layers
    ]
    flat = [p for wb in params for p in wb if p is not None]
    opt = {
        "sgd": lambda: torch.optim.SGD(flat, lr=t["lr"]),
        "momentum": lambda: torch.optim.SGD(flat, lr=t["lr"], momentum=0.9),
        "adam": lambda: torch.optim.Adam(flat, lr=t["lr"]),
    }[t["optimizer"]]()
    l2 = t.get("l2", 0.0)

    losses, accs, test_losses, test_accs = [], [], [], []
    held = None if test is None else (torch.tensor(test[0]), torch.tensor(test[1], dtype=torch.int64),
                                      torch.tensor(targets(test[1], k)), test[1])

    def evaluate():
        with torch.no_grad():
            for xs, ys, ts, ys_np, ls, acs in [(x, y, tt, y_np, losses, accs)] + (
                    [] if held is None else [(*held, test_losses, test_accs)]):
                z, yhat = torch_forward(params, xs, m["activation"], m["output_activation"])
                ls.append(float(torch_sample_loss(t["loss"], z, yhat, ts, ys).mean()))
                acs.append(accuracy(yhat.numpy(), ys_np))

    evaluate()
    for _ in range(t["epochs"]):
        for sl in batches(len(y_np), t["batch_size"]):
            opt.zero_grad()
            z, yhat = torch_forward(params, x[sl], m["activation"], m["output_activation"])
            per = torch_sample_loss(t["loss"], z, yhat, tt[sl], y[sl])
            obj = per.sum() if t["reduction"] == "sum" else per.mean()
            if l2:
                obj = obj + 0.5 * l2 * sum((w**2).sum() for w, _ in params)
            obj.backward()
            opt.step()
        evaluate()

    with torch.no_grad():
        _, yhat = torch_forward(params, x, m["activation"], m["output_activation"])
    final = [(w.detach().numpy(), None if b is None else b.detach().numpy()) for w, b in params]
    return losses, accs, final, yhat.numpy(), (test_losses, test_accs)


# ---------------------------------------------------------------------------
# The lab report's back-propagation, in numpy (SPEC 4, backprop = "lab").

NP_ACT = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "none": lambda z: z,
}
# f'(z) from a = f(z).
NP_DACT = {
    "sigmoid": lambda a: (1.0 - a) * a,
    "tanh": lambda a: 1.0 - a * a,
    "relu": lambda a: (a > 0.0).astype(np.float64),
    "none": lambda a: np.ones_like(a),
}


def np_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_forward(layers, x, act, out_act):
    """Returns (activations a_0..a_{L-1}, z_L, yhat)."""
    acts = [x]
    a = x
    for i, (w, b) in enumerate(layers):
        z = a @ w + (0.0 if b is None else b)
        if i < len(layers) - 1:
            a = NP_ACT[act](z)
            acts.append(a)
        else:
            a = z
    yhat = np_softmax(a) if out_act == "softmax" else NP_ACT[out_act](a)
    return acts, a, yhat


def np_sample_loss(loss, z, yhat, t, y):
    if loss == "mse":
        return ((yhat - t) ** 2).sum(axis=1)
    if loss == "bce":
        return (np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))).sum(axis=1)
    if loss == "ce":
        mx = z.max(axis=1, keepdims=True)
        lse = mx[:, 0] + np.log(np.exp(z - mx).sum(axis=1))
        return lse - z[np.arange(len(y)), y]
    raise ValueError(loss)


class NumpyOptimizer:
    """sgd, momentum and adam as torch.optim implements them."""

    def __init__(self, kind, lr, shapes):
        self.kind, self.lr, self.t = kind, lr, 0
        self.v = [np.zeros(s) for s in shapes]
        self.m = [np.zeros(s) for s in shapes]

    def step(self, params, grads):
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.kind == "sgd":
                p -= self.lr * g
            elif self.kind == "momentum":
                self.v[i] = 0.9 * self.v[i] + g
                p -= self.lr * self.v[i]
            else:
                b1, b2, eps = 0.9, 0.999, 1e-8
                self.m[i] += (1.0 - b1) * (g - self.m[i])
                self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g
                bc1, bc2 = 1.0 - b1**self.t, 1.0 - b2**self.t
                p -= (self.lr / bc1) * (self.m[i] / (np.sqrt(self.v[i]) / np.sqrt(bc2) + eps))


def np_gradients(layers, x, t, case, lab):
    """The backward pass in numpy. With `lab`, the lab report's: every hidden
    layer uses d_l = e_l f'(z_l) for its own gradient, but hands down
    e_l W_l^T instead of d_l W_l^T; without, the exact gradient (used only to
    cross-check the torch trajectories)."""
    m, tr = case["model"], case["train"]
    acts, z, yhat = np_forward(layers, x, m["activation"], m["output_activation"])
    scale = 1.0 if tr["reduction"] == "sum" else 1.0 / len(x)
    loss, out = tr["loss"], m["output_activation"]
    if (loss, out) in (("bce", "sigmoid"), ("ce", "softmax")):
        d = (yhat - t) * scale
    elif out == "softmax":  # mse through the softmax's Jacobian
        g = 2.0 * (yhat - t) * scale
        d = yhat * (g - (g * yhat).sum(axis=1, keepdims=True))
    else:
        d = 2.0 * (yhat - t) * scale * NP_DACT[out](yhat)
    grads = [None] * len(layers)
    handed = d  # what the layer above hands down: d_L, then e_l
    for l in range(len(layers) - 1, -1, -1):
        w, b = layers[l]
        grads[l] = (acts[l].T @ d, None if b is None else d.sum(axis=0))
        if l == 0:
            break
        e = handed @ w.T
        d = e * NP_DACT[m["activation"]](acts[l])
        handed = e if lab else d
    l2 = tr.get("l2", 0.0)
    return [(gw + l2 * w, gb) for (gw, gb), (w, _) in zip(grads, layers)]


def run_numpy(case, x, y, layers, lab=True, test=None):
    """As run_torch, with the lab's back-propagation unless `lab` is False."""
    m, tr = case["model"], case["train"]
    layers = [(w.copy(), None if b is None else b.copy()) for w, b in layers]
    k = layers[-1][0].shape[1]
    t = targets(y, k)
    flat = lambda ls: [p for wb in ls for p in wb if p is not None]  # noqa: E731
    opt = NumpyOptimizer(tr["optimizer"], tr["lr"], [p.shape for p in flat(layers)])
    losses, accs, test_losses, test_accs = [], [], [], []
    sets = [(x, y, t, losses, accs)]
    if test is not None:
        sets.append((test[0], test[1], targets(test[1], k), test_losses, test_accs))

    def evaluate():
        for xs, ys, ts, ls, acs in sets:
            _, z, yhat = np_forward(layers, xs, m["activation"], m["output_activation"])
            ls.append(float(np_sample_loss(tr["loss"], z, yhat, ts, ys).mean()))
            acs.append(accuracy(yhat, ys))

    evaluate()
    for _ in range(tr["epochs"]):
        for sl in batches(len(y), tr["batch_size"]):
            grads = np_gradients(layers, x[sl], t[sl], case, lab)
            opt.step(flat(layers), flat(grads))
        evaluate()
    _, _, yhat = np_forward(layers, x, m["activation"], m["output_activation"])
    return losses, accs, layers, yhat, (test_losses, test_accs)


# ---------------------------------------------------------------------------
# CSV data sets: sweep's split is rebuilt by data_stream.py (shared with
# mlp-baseline.py); the scaling fitted on the training part is computed here.


def fit_scaling(method, x):
    """(offset, divisor) on the training inputs; a constant input keeps divisor 1."""
    if method == "standard":
        offset, spread = x.mean(axis=0), x.std(axis=0)  # population std, as StandardScaler
    else:
        offset, spread = x.min(axis=0), x.max(axis=0) - x.min(axis=0)
    return offset, np.where(spread > 0, spread, 1.0)


def csv_split(c):
    """The split and scaling of CSV case `c`; returns the document's "csv" part,
    (train x scaled, train y), (test x scaled, test y) and the classes."""
    src = c["csv"]
    text = src["text"]
    train_rows, test_rows, (x, labels, names) = split_rows(
        text, src["label_column"], src.get("feature_columns", []), src["test_fraction"], src["stratify"],
        c["seed_data"], src.get("n_samples", 100))
    classes, y = classes_of(labels)
    offset, divisor = fit_scaling(src["scale"], x[train_rows])
    scaled = (x - offset) / divisor
    # Cross-check with scikit-learn's scalers (same definitions, other code).
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    ref = (StandardScaler() if src["scale"] == "standard" else MinMaxScaler()).fit(x[train_rows])
    assert np.allclose(ref.transform(x), scaled, rtol=1e-12, atol=1e-12), c["name"]
    spec = {k: src[k] for k in ("label_column", "feature_columns", "scale", "stratify", "test_fraction")
            if k in src}
    doc = {"file": text, "spec": spec, "seed": c["seed_data"], "columns": names, "class_names": classes,
           "raw_x": x.tolist(), "train_rows": train_rows, "test_rows": test_rows,
           "scaling": {"method": src["scale"], "offset": offset.tolist(), "divisor": divisor.tolist()}}
    return doc, (scaled[train_rows], y[train_rows]), (scaled[test_rows], y[test_rows]), len(classes)


def synthetic_csv(seed):
    """A table as a user might bring: the label column (strings, 2:1
    imbalanced) in the middle, inputs on very different scales, a constant
    input, and a column the study leaves out."""
    rng = np.random.default_rng(seed)
    n = 45
    y = (np.arange(n) % 3 == 0).astype(int)
    area = 800.0 + 300.0 * y + 120.0 * rng.standard_normal(n)
    ratio = 0.002 + 0.001 * y + 0.0008 * rng.standard_normal(n)
    depth = 3.0 - 1.5 * y + rng.standard_normal(n)
    rows = [f"{i},{a!r},{'yes' if t else 'no'},{r!r},7.5,{dp!r}"
            for i, (a, t, r, dp) in enumerate(zip(area.tolist(), y, ratio.tolist(), depth.tolist()))]
    return "\n".join(["id,area,outcome,ratio,constant,depth"] + rows) + "\n"


def repo_file(path):
    with open(os.path.join(HERE, "..", path)) as f:
        return f.read()


# ---------------------------------------------------------------------------
# The cases.


def case(name, data, hidden, act="sigmoid", out="sigmoid", bias=False, loss="mse", reduction="sum",
         optimizer="sgd", lr=0.1, epochs=200, batch_size=None, l2=0.0, backprop="exact", seed=0, csv=None,
         seed_data=0):
    """`csv`: for data = "csv", the file's text and the job's data keys;
    `seed_data`: the job seed whose data stream splits it."""
    return dict(name=name, data=data, hidden=hidden, act=act, out=out, bias=bias, loss=loss,
                reduction=reduction, optimizer=optimizer, lr=lr, epochs=epochs, batch_size=batch_size,
                l2=l2, backprop=backprop, seed=seed, csv=csv, seed_data=seed_data)


def numeric_labels_csv(seed):
    """Three classes labelled 2, 10 and 7 (numeric order 2 < 7 < 10, not the
    string order), of 18, 12 and 9 rows, three inputs."""
    rng = np.random.default_rng(seed)
    y = np.array([0] * 18 + [1] * 12 + [2] * 9)
    rng.shuffle(y)
    centres = np.array([[0.0, 5.0, -40.0], [2.0, 4.0, 10.0], [-1.0, 7.0, 60.0]])
    x = centres[y] + np.array([1.0, 1.0, 25.0]) * rng.standard_normal((len(y), 3))
    names = ["2", "7", "10"]
    rows = [f"{names[t]},{a!r},{b!r},{c!r}" for t, (a, b, c) in zip(y, x.tolist())]
    return "\n".join(["class,u,v,w"] + rows) + "\n"


CASES = [
    # The lab's network and data, both back-propagations.
    case("lab-xor-sum", "xor", [2, 2], lr=1.0, epochs=300, seed=1),
    case("lab-backprop-linear", "linear:60", [3, 2], lr=0.05, backprop="lab", seed=2),
    case("lab-backprop-deep-bias-mean", "circle:50", [4, 3, 3], act="tanh", bias=True,
         reduction="mean", lr=0.5, backprop="lab", seed=3),
    # Reductions, outputs and activations.
    case("bce-sum-tanh", "circle:64", [6, 4], act="tanh", bias=True, loss="bce", lr=0.005, epochs=300,
         seed=4),
    case("relu-bias-mean", "linear:40", [5, 5], act="relu", bias=True, reduction="mean", lr=0.2, seed=5),
    case("linear-output-sum", "linear:30", [4], act="tanh", out="none", bias=True, lr=0.005, seed=6),
    case("deep-tanh-sum", "circle:36", [5, 4, 3], act="tanh", lr=0.01, seed=7),
    # Optimizers, mini-batches (a last batch shorter than the others), l2.
    case("adam-mean", "circle:48", [8, 8], act="tanh", bias=True, reduction="mean", optimizer="adam",
         lr=0.01, seed=8),
    case("adam-sum-minibatch-10", "linear:45", [4, 4], bias=True, optimizer="adam", lr=0.005,
         batch_size=10, seed=9),
    case("momentum-mean-minibatch-7", "circle:40", [6, 3], act="tanh", bias=True, reduction="mean",
         optimizer="momentum", lr=0.1, batch_size=7, seed=10),
    case("momentum-l2-bce-sum", "linear:50", [4, 4], bias=True, loss="bce", optimizer="momentum",
         lr=0.01, l2=0.05, seed=11),
    case("lab-backprop-adam-minibatch-l2", "linear:30", [4, 4], bias=True, reduction="mean",
         optimizer="adam", lr=0.02, batch_size=8, l2=0.01, backprop="lab", seed=12),
    # Several output units (SPEC 4: one per class, one-hot targets).
    case("softmax-ce-3-mean", "blobs:60:3:2", [6, 6], act="tanh", out="softmax", bias=True, loss="ce",
         reduction="mean", lr=0.3, seed=20),
    case("softmax-ce-2-sum", "linear:40", [4, 4], out="softmax", bias=True, loss="ce", lr=0.05, seed=21),
    case("softmax-ce-4-adam-minibatch-9", "blobs:50:4:3", [8, 5], act="relu", out="softmax", bias=True,
         loss="ce", optimizer="adam", lr=0.01, batch_size=9, seed=22),
    case("softmax-ce-3-momentum-l2", "blobs:45:3:2", [5, 5], out="softmax", loss="ce", optimizer="momentum",
         lr=0.02, l2=0.02, seed=23),
    case("softmax-mse-3-sum", "blobs:45:3:2", [5, 4], act="tanh", out="softmax", bias=True, lr=0.005,
         epochs=160, seed=24),
    case("sigmoid-bce-3-mean", "blobs:60:3:2", [6, 6], act="tanh", bias=True, loss="bce",
         reduction="mean", lr=0.1, epochs=300, seed=25),
    case("sigmoid-mse-3-sum", "blobs:48:3:4", [6, 4], bias=True, lr=0.05, seed=26),
    case("sigmoid-mse-4-mean-minibatch-8", "blobs:52:4:2", [6, 6], act="relu", bias=True,
         reduction="mean", optimizer="momentum", lr=0.1, batch_size=8, seed=27),
    case("linear-output-mse-3-sum", "blobs:45:3:2", [5], act="tanh", out="none", bias=True, lr=0.005,
         seed=28),
    case("lab-backprop-softmax-ce-3", "blobs:45:3:2", [4, 4], out="softmax", bias=True, loss="ce",
         lr=0.02, backprop="lab", seed=29),
    case("lab-backprop-sigmoid-mse-3-mean", "blobs:45:3:2", [4, 3], bias=True, reduction="mean",
         lr=1.0, backprop="lab", seed=30),
    # CSV files (SPEC 4): classes from the file, the seeded split (stratified
    # or not), and the scaling fitted on the training part only.
    case("csv-wine-standard-stratified-softmax-ce", "csv", [6], act="tanh", out="softmax", bias=True,
         loss="ce", reduction="mean", optimizer="adam", lr=0.01, epochs=150, seed=40, seed_data=4,
         csv={"text": repo_file("data/wine.csv"), "label_column": "cultivar", "scale": "standard",
              "stratify": True, "test_fraction": 0.2}),
    case("csv-iris-minmax-stratified-sigmoid-bce-3", "csv", [5], bias=True, loss="bce",
         optimizer="momentum", lr=0.01, epochs=200, seed=41, seed_data=1,
         csv={"text": repo_file("data/iris.csv"), "label_column": "species", "scale": "minmax",
              "stratify": True, "test_fraction": 0.3}),
    case("csv-columns-standard-split-mse", "csv", [4, 3], bias=True, lr=0.05, epochs=200, seed=42,
         seed_data=7,
         csv={"text": synthetic_csv(142), "label_column": "outcome",
              "feature_columns": ["depth", "constant", "area", "ratio"], "scale": "standard",
              "stratify": False, "test_fraction": 0.25}),
    case("csv-numeric-labels-minmax-split-softmax-mse", "csv", [5], act="tanh", out="softmax", bias=True,
         lr=0.02, epochs=200, seed=43, seed_data=2,
         csv={"text": numeric_labels_csv(143), "label_column": "class", "scale": "minmax",
              "stratify": False, "test_fraction": 0.3}),
]


def make_data(spec, rng):
    kind, *args = spec.split(":")
    if kind == "xor":
        return lab_xor()
    if kind == "linear":
        return linear(int(args[0]), rng)
    if kind == "circle":
        return circle(int(args[0]), rng)
    if kind == "blobs":
        return blobs(int(args[0]), int(args[1]), int(args[2]), rng)
    raise ValueError(spec)


def check_close(name, what, want, got, tol):
    """`want`, `got`: (losses, accuracies, .., .., (test losses, test accuracies))
    of two runs."""
    pairs = list(zip(got[0], want[0])) + list(zip(got[4][0], want[4][0]))
    worst = max(abs(a - b) / max(abs(b), 1e-300) for a, b in pairs)
    if worst > tol or got[1] != want[1] or got[4][1] != want[4][1]:
        raise SystemExit(f"{name}: {what}: losses differ by {worst:.1e} (tolerance {tol:.0e}) or accuracies "
                         "differ; the case is too "
                         "sensitive to rounding to be a golden trajectory (lower lr or epochs)")


def build(c):
    rng = np.random.default_rng(1000 + c["seed"])
    csv_doc, test = None, None
    if c["data"] == "csv":
        csv_doc, (x, y), test, classes = csv_split(c)
    else:
        x, y = make_data(c["data"], rng)
        classes = int(y.max()) + 1 if c["data"].startswith("blobs") else 2
    k = output_units(c["out"], classes)
    layers = init_layers([x.shape[1], *c["hidden"], k], c["bias"], rng)
    model = {"hidden": c["hidden"], "activation": c["act"], "output_activation": c["out"], "bias": c["bias"]}
    if c["backprop"] == "lab":
        model["backprop"] = "lab"
    if k != 1:
        model["outputs"] = k
    train = {"loss": c["loss"], "reduction": c["reduction"], "optimizer": c["optimizer"], "lr": c["lr"],
             "epochs": c["epochs"], "batch_size": c["batch_size"]}
    if c["l2"]:
        train["l2"] = c["l2"]
    doc = {"name": c["name"], "model": model, "train": train, "data": {"x": x.tolist(), "y": y.tolist()}}
    if classes != 2:
        doc["data"]["classes"] = classes
    if csv_doc is not None:
        # data.x is the scaled training part; the replay rebuilds it from the file.
        doc["data"]["test_x"], doc["data"]["test_y"] = test[0].tolist(), test[1].tolist()
        doc["csv"] = csv_doc
    doc["init"] = {"layers": [{"w": w.tolist(), "b": None if b is None else b.tolist()} for w, b in layers]}

    lab = c["backprop"] == "lab"
    first = (run_numpy if lab else run_torch)(doc, x, y, layers, test=test)
    losses, accs, final, yhat, (test_losses, test_accs) = first
    if not all(np.isfinite(losses)):
        raise SystemExit(f"{c['name']}: diverged; pick another lr")
    # A trajectory is worth recording only if rounding cannot move it: the
    # replay differs from it by rounding alone, and must match to 1e-9.
    # Exact cases are recomputed by the independent numpy transcription; every
    # case is rerun from initial weights moved by a relative 1e-13.
    if not lab:
        again = run_numpy(doc, x, y, layers, lab=False, test=test)
        check_close(c["name"], "numpy vs torch", first, again, 1e-11)
    nudged = [(w * (1.0 + 1e-13), b) for w, b in layers]
    moved = (run_numpy if lab else run_torch)(doc, x, y, nudged, test=test)
    check_close(c["name"], "init moved by 1e-13", first, moved, 1e-10)
    doc["expected"] = {
        "loss": losses,
        "accuracy": accs,
        "final_layers": [{"w": w.tolist(), "b": None if b is None else b.tolist()} for w, b in final],
        "final_predictions": yhat[:, 0].tolist() if k == 1 else yhat.tolist(),
    }
    if test is not None:
        doc["expected"]["test_loss"], doc["expected"]["test_accuracy"] = test_losses, test_accs
    return doc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="folder for the *.json files (default tests/golden)")
    ap.add_argument("--only", nargs="*", help="names of the cases to write (default: all)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for c in CASES:
        if args.only and c["name"] not in args.only:
            continue
        doc = build(c)
        path = os.path.join(args.out, c["name"] + ".json")
        with open(path, "w") as f:
            json.dump(doc, f)
            f.write("\n")
        print(f"{path}: loss {doc['expected']['loss'][0]:.4g} -> {doc['expected']['loss'][-1]:.4g}, "
              f"accuracy {doc['expected']['accuracy'][0]:.3g} -> {doc['expected']['accuracy'][-1]:.3g}")
    print(f"torch {torch.__version__}, numpy {np.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The lab's network in plain numpy, with correct gradients, timed per epoch.

Written as a student would write it in the lab: a list of weight matrices
(no biases), sigmoid everywhere, squared error summed over the batch, full-batch
gradient descent, forward and backward as numpy matrix operations. Unlike the
lab report's code, the backward pass applies the chain rule fully, activation
derivatives included (sweep's backprop = "exact").

Every epoch also reports what sweep reports (SPEC 4): the mean per-sample loss
and the accuracy over the training set before that epoch's update. In full
batch the forward pass of the update is that evaluation, so there is one
forward pass an epoch, as in sweep.

    python3 scripts/lab_numpy.py [--seconds 0.5] [--repeats 3] [a b c d]
    python3 scripts/lab_numpy.py --check          # finite-difference gradient check
    python3 scripts/lab_numpy.py --compare FILE   # same loss curve as sweep on xor?

Prints `case us_per_epoch epochs` lines (best of --repeats timings, each of
about --seconds), after a `#` header line naming numpy and its BLAS.
"""

import argparse
import json
import sys
import time

import numpy as np

CASES = {
    "a": ("linear", 100, [2, 2]),
    "b": ("xor", 21, [2, 2]),
    "c": ("linear", 100, [32, 32]),
    "d": ("linear", 1000, [32, 32]),
}
LR = 0.01


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def make_data(kind, n, rng):
    """SPEC 4 data sets: X of shape (n, 2), y of shape (n, 1)."""
    if kind == "linear":
        X = rng.random((n, 2))
        y = (X[:, 0] <= X[:, 1]).astype(np.float64)  # label 0 if x0 > x1 else 1
    elif kind == "xor":
        xs, ys = [], []
        for i in range(11):
            t = 0.1 * i
            xs.append([t, t])
            ys.append(0.0)
            if i != 5:
                xs.append([t, 1.0 - t])
                ys.append(1.0)
        X, y = np.array(xs), np.array(ys)
    else:
        raise ValueError(kind)
    return X, y.reshape(-1, 1)


def init_weights(sizes, rng):
    """Weights N(0, 1), like the lab's np.random.randn; W of shape (fan_in, fan_out)."""
    return [rng.standard_normal((sizes[i], sizes[i + 1])) for i in range(len(sizes) - 1)]


def train(X, y, W, epochs, lr=LR, record=None):
    """Full-batch gradient descent on sum_i (yhat_i - y_i)^2, for `epochs`
    updates. Before each update, the mean loss and the accuracy of the current
    weights over the training set (the update's own forward pass) go to
    `record`, if given, else into locals. Updates W in place."""
    n = X.shape[0]
    label = y >= 0.5
    loss = acc = None
    for epoch in range(epochs + 1):
        # Forward: keep every layer's output for the backward pass.
        acts = [X]
        for w in W:
            acts.append(sigmoid(acts[-1] @ w))
        yhat = acts[-1]

        # Evaluation of the weights after `epoch` updates (SPEC 4).
        err = yhat - y
        loss = float(np.sum(err * err)) / n
        acc = float(np.count_nonzero((yhat >= 0.5) == label)) / n
        if record is not None:
            record(epoch, loss, acc)
        if epoch == epochs:
            break

        # Backward: d = dJ/dz of each layer, from the top down.
        d = 2.0 * err * yhat * (1.0 - yhat)
        grads = [None] * len(W)
        for l in range(len(W) - 1, -1, -1):
            grads[l] = acts[l].T @ d
            if l > 0:
                a = acts[l]
                d = (d @ W[l].T) * a * (1.0 - a)
        for w, g in zip(W, grads):
            w -= lr * g
    return loss, acc


def objective(X, y, W):
    a = X
    for w in W:
        a = sigmoid(a @ w)
    return float(np.sum((a - y) ** 2))


def gradient(X, y, W):
    """The gradient that `train` applies, computed the same way."""
    acts = [X]
    for w in W:
        acts.append(sigmoid(acts[-1] @ w))
    yhat = acts[-1]
    d = 2.0 * (yhat - y) * yhat * (1.0 - yhat)
    grads = [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        grads[l] = acts[l].T @ d
        if l > 0:
            d = (d @ W[l].T) * acts[l] * (1.0 - acts[l])
    return grads


def check_gradients():
    """Central differences against the analytic gradient; returns the worst relative error."""
    rng = np.random.default_rng(1)
    worst = 0.0
    for kind, n, hidden in [("linear", 30, [2, 2]), ("xor", 21, [3, 4, 2]), ("linear", 20, [5])]:
        X, y = make_data(kind, n, rng)
        W = init_weights([2, *hidden, 1], rng)
        grads = gradient(X, y, W)
        h = 1e-6
        for l, w in enumerate(W):
            for idx in np.ndindex(w.shape):
                old = w[idx]
                w[idx] = old + h
                up = objective(X, y, W)
                w[idx] = old - h
                down = objective(X, y, W)
                w[idx] = old
                num = (up - down) / (2 * h)
                rel = abs(num - grads[l][idx]) / max(1e-8, abs(num) + abs(grads[l][idx]))
                worst = max(worst, rel)
    return worst


def compare(path):
    """Trains case b from sweep's initial weights (from `epoch_time --dump-xor`)
    and returns the worst relative difference of the loss curves."""
    with open(path) as f:
        ref = json.load(f)
    X, y = make_data("xor", 21, None)
    W = [np.array(w, dtype=np.float64) for w in ref["weights"]]
    losses, accs = [], []
    train(X, y, W, len(ref["loss"]) - 1, lr=ref["lr"], record=lambda e, l, a: (losses.append(l), accs.append(a)))
    rel = max(abs(a - b) / max(abs(b), 1e-300) for a, b in zip(losses, ref["loss"]))
    same_acc = accs == ref["accuracy"]
    return rel, same_acc


def time_case(kind, n, hidden, seconds, repeats):
    rng = np.random.default_rng(0)
    X, y = make_data(kind, n, rng)
    W0 = init_weights([X.shape[1], *hidden, 1], rng)

    def once(epochs):
        W = [w.copy() for w in W0]
        t = time.perf_counter()
        train(X, y, W, epochs)
        return time.perf_counter() - t

    epochs = 16
    while True:
        t = once(epochs)
        if t >= 0.02:
            break
        epochs *= 2
    epochs = max(16, int(seconds / (t / epochs)))
    best = min(once(epochs) for _ in range(max(1, repeats)))
    return best / epochs * 1e6, epochs


def blas_description():
    parts = [f"numpy {np.__version__}"]
    try:
        from threadpoolctl import threadpool_info

        for p in threadpool_info():
            if p.get("user_api") == "blas":
                parts.append(
                    f"{p.get('internal_api')} {p.get('version')} kernel={p.get('architecture')} "
                    f"threads={p.get('num_threads')}"
                )
    except ImportError:
        try:
            cfg = np.show_config(mode="dicts")
            blas = cfg.get("Build Dependencies", {}).get("blas", {})
            parts.append(f"{blas.get('name')} {blas.get('version')} (threadpoolctl not installed)")
        except Exception:  # older numpy: no mode="dicts"
            parts.append("BLAS unknown (threadpoolctl not installed)")
    return "; ".join(parts)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cases", nargs="*", help="cases to time, of a b c d (default: all)")
    p.add_argument("--seconds", type=float, default=0.5, help="about how long one timing runs")
    p.add_argument("--repeats", type=int, default=3, help="timings per case; the best is printed")
    p.add_argument("--check", action="store_true", help="finite-difference gradient check, then exit")
    p.add_argument("--compare", metavar="FILE", help="compare with `epoch_time --dump-xor N` output, then exit")
    args = p.parse_args()
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        p.error(f"unknown case(s) {unknown}; choose from {list(CASES)}")

    if args.check:
        worst = check_gradients()
        print(f"gradient check: worst relative error {worst:.2e}")
        return 0 if worst < 1e-5 else 1
    if args.compare:
        rel, same_acc = compare(args.compare)
        print(f"xor loss curve vs sweep: worst relative difference {rel:.2e}; accuracies equal: {same_acc}")
        return 0 if rel < 1e-9 and same_acc else 1

    print(f"# {blas_description()}; case us_per_epoch epochs", flush=True)
    for case in args.cases or list(CASES):
        kind, n, hidden = CASES[case]
        us, epochs = time_case(kind, n, hidden, args.seconds, args.repeats)
        print(f"{case} {us:.4f} {epochs}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

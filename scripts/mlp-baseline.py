#!/usr/bin/env python3
"""scikit-learn's MLPClassifier on the same rows as each sweep job.

    pip install scikit-learn pandas
    python3 scripts/mlp-baseline.py results/real-breast-cancer [results/real-iris ...]

For every finished job of each results folder, reads its predictions.csv:
the input columns (raw values, under the file's names), `split` (train or
test) and `label`. A job run with `save = ["model"]` (no predictions.csv,
e.g. results/real-digits) gets the same rows from its data file: the split
is rebuilt by data_stream.py (beside this script, shared with golden.py),
which reimplements sweep's seeded data stream; where predictions.csv is
there, the rebuilt split is checked against its `split` column. It trains MLPClassifier (solver adam, the job's hidden
sizes, activation, learning rate, epochs as max_iter, batch size, l2 as
alpha, the job's seed) on the job's training rows, scaled as the job was
(`scale`: fitted on the training rows only), and scores it on the job's test
rows. Prints, per data set and per configuration (every parameter that
varies in the folder but the seed), the mean test accuracy over seeds of
sweep and of scikit-learn side by side, then per data set the best
configuration of each and the mean over all configurations. Parameters
MLPClassifier has no counterpart for (`init`: it always starts from Glorot's
uniform) still tell configurations apart, so both sides are averaged over
the same jobs.

MLPClassifier's own stopping rule (tol, n_iter_no_change) is left at its
defaults, so it may stop before max_iter: that is how it is used in practice.
"""

import sys
import tomllib
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import MinMaxScaler, StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import data_stream  # noqa: E402

ACTIVATIONS = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu", "none": "identity"}
SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler}


def parse_list(text: str):
    text = str(text).strip().strip("[]")
    return tuple(int(v) for v in text.split(",") if v.strip())


def rebuilt_split(folder: Path, job: pd.Series):
    """The job's (x_train, y_train, x_test, y_test) from its data file, split
    as sweep split it (data_stream.split_rows), labels as written."""
    params = tomllib.loads((folder / "jobs" / job["job_id"] / "params.toml").read_text())
    path = (folder / params["paths_relative_to"] / params["params"]["dataset"]).resolve()
    p = params["params"]
    train_rows, test_rows, (x, labels, _) = data_stream.split_rows(
        path.read_text(), p["label_column"], p.get("feature_columns", []), float(p["test_fraction"]),
        bool(p["stratify"]), int(params["seed"]), int(p.get("n_samples", 100)))
    labels = np.array(labels)
    return x[train_rows], labels[train_rows], x[test_rows], labels[test_rows]


def sklearn_accuracy(folder: Path, job: pd.Series) -> float:
    predictions = folder / "jobs" / job["job_id"] / "predictions.csv"
    x_train, y_train, x_test, y_test = rebuilt_split(folder, job)
    if predictions.exists():
        p = pd.read_csv(predictions, dtype={"label": str})
        inputs = list(p.columns[: p.columns.get_loc("split")])
        train, test = p[p["split"] == "train"], p[p["split"] == "test"]
        # predictions.csv lists training rows then test rows, each in file order.
        same = np.array_equal(train[inputs].to_numpy(), x_train) and np.array_equal(test[inputs].to_numpy(), x_test)
        assert same, f"{predictions}: the rebuilt split differs from the file's"
        x_train, y_train = train[inputs].to_numpy(), train["label"].to_numpy()
        x_test, y_test = test[inputs].to_numpy(), test["label"].to_numpy()
    scale = str(job.get("scale", "none"))
    if scale in SCALERS:
        scaler = SCALERS[scale]().fit(x_train)
        x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    batch = int(job["batch_size"])
    model = MLPClassifier(
        hidden_layer_sizes=parse_list(job["hidden"]),
        activation=ACTIVATIONS[job["activation"]],
        solver="adam",
        learning_rate_init=float(job["lr"]),
        max_iter=int(job["epochs"]),
        batch_size=batch if batch > 0 else len(x_train),
        alpha=float(job["l2"]),
        random_state=int(job["seed"]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    return float((model.predict(x_test) == y_test).mean())


def main(folders):
    if not folders:
        sys.exit(__doc__)
    for folder in map(Path, folders):
        summary = pd.read_csv(folder / "summary.csv", dtype=str)
        summary = summary[summary["status"] == "ok"]
        if summary["final_test_accuracy"].isna().all():
            print(f"{folder}: no test split; skipped")
            continue
        # A configuration is every parameter that varies in the folder but
        # the seed (the data set, and e.g. hidden, lr, scale, epochs, init).
        params = list(summary.columns[summary.columns.get_loc("seed") + 1 : summary.columns.get_loc("final_loss")])
        varying = [c for c in params if c != "dataset" and summary[c].nunique() > 1]
        by_config = defaultdict(lambda: ([], []))
        for _, job in summary.iterrows():
            config = (job["dataset"], *(job[c] for c in varying))
            ours, theirs = by_config[config]
            ours.append(float(job["final_test_accuracy"]))
            theirs.append(sklearn_accuracy(folder, job))
        print(f"\n## {folder}\n")
        print("| data set | " + " | ".join(varying) + " | seeds | sweep | MLPClassifier |")
        print("|---|" + "---|" * len(varying) + "--:|--:|--:|")
        means = {}
        for config, (ours, theirs) in by_config.items():
            means[config] = (sum(ours) / len(ours), sum(theirs) / len(theirs))
            a, b = means[config]
            values = " | ".join(config[1:])
            print(f"| {Path(config[0]).stem} | {values} | {len(ours)} | {a:.2%} | {b:.2%} |")
        for dataset in sorted({k[0] for k in means}):
            rows = {k: v for k, v in means.items() if k[0] == dataset}
            best_ours = max(rows.items(), key=lambda kv: kv[1][0])
            best_theirs = max(rows.items(), key=lambda kv: kv[1][1])
            mean_ours = sum(v[0] for v in rows.values()) / len(rows)
            mean_theirs = sum(v[1] for v in rows.values()) / len(rows)
            name = Path(dataset).stem
            print(f"\n{name}: best configuration: sweep {best_ours[1][0]:.2%} ({', '.join(best_ours[0][1:])}), "
                  f"MLPClassifier {best_theirs[1][1]:.2%} ({', '.join(best_theirs[0][1:])}); "
                  f"mean over {len(rows)} configurations: sweep {mean_ours:.2%}, MLPClassifier {mean_theirs:.2%}")

if __name__ == "__main__":
    main(sys.argv[1:])

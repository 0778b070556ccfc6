#!/usr/bin/env python3
"""Writes the real data sets of data/ from the copies scikit-learn ships.

    pip install scikit-learn
    python3 scripts/fetch-data.py        # rewrites data/{iris,wine,breast-cancer,digits}.csv

Nothing is downloaded: scikit-learn carries these four tables inside its
package (sklearn/datasets/data/). Each CSV has a header row naming every
column (snake_case feature names), the inputs first and the class label
last, under a column named for what it is (`species`, `cultivar`,
`diagnosis`, `digit`): manifests name it with `label_column`. Labels are the
class names scikit-learn gives (strings), or the digit itself. Values are
written in shortest round-trip form (whole numbers without `.0`), so the files are exactly the arrays
scikit-learn loads. Source and licence: data/README.md.
"""

import csv
import pathlib
import re

import sklearn
from sklearn import datasets

OUT = pathlib.Path(__file__).resolve().parent.parent / "data"


def snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def number(v) -> str:
    """Shortest round-trip text; whole numbers without `.0` (digits' pixels)."""
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def write(path, columns, label_column, x, labels):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([*columns, label_column])
        for row, label in zip(x, labels):
            w.writerow([*(number(v) for v in row), label])
    print(f"{path.relative_to(OUT.parent)}: {len(labels)} rows, {len(columns)} inputs")


def main():
    OUT.mkdir(exist_ok=True)
    for name, loader, label_column, named in [
        ("iris", datasets.load_iris, "species", True),
        ("wine", datasets.load_wine, "cultivar", True),
        ("breast-cancer", datasets.load_breast_cancer, "diagnosis", True),
        ("digits", datasets.load_digits, "digit", False),
    ]:
        d = loader()
        columns = [snake(c) for c in d.feature_names]
        labels = [d.target_names[t] if named else int(t) for t in d.target]
        write(OUT / f"{name}.csv", columns, label_column, d.data, labels)
    print(f"from scikit-learn {sklearn.__version__}")


if __name__ == "__main__":
    main()

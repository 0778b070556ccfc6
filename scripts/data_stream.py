"""sweep's train/test split of a CSV data set, rebuilt in Python.

Used by scripts/golden.py (to write golden files whose split is computed
independently of sweep's code) and scripts/mlp-baseline.py (to give
MLPClassifier a job's own training and test rows when the job saved no
predictions.csv). `split_rows(text, params, seed)` gives the row indices.
"""

import csv
import io
import math

import numpy as np

# CSV data sets: the file's classes, sweep's train/test split (plain or
# stratified) and the scaling fitted on the training part, computed here from
# their definitions (SPEC 4 and 5), not read from sweep. The split depends on
# sweep's seeded data stream, so the stream is rewritten here from the
# published algorithms its code names (src/rng.rs, src/data.rs):
#   - stream id: 64-bit FNV-1a over the tag "data", the key
#     "csv:<FNV-1a of the file's bytes, 16 hex digits>" and str(n_samples),
#     each followed by the byte 0xff;
#   - generator: ChaCha with 12 rounds (D. J. Bernstein), key from
#     rand_core's seed_from_u64 (eight PCG32 outputs, little-endian), a 64-bit
#     block counter (state words 12-13) and the stream id as 64-bit nonce
#     (words 14-15); a u64 is two consecutive output words, low first;
#   - the permutation: Fisher-Yates from the last index down, j uniform in
#     0..=i by Lemire's multiply-and-reject;
#   - held out: round(n * test_fraction) (halves away from zero), the last of
#     the permutation (per class when stratified); both parts in file order.

MASK32, MASK64 = (1 << 32) - 1, (1 << 64) - 1


def fnv1a64(data, h=0xCBF29CE484222325):
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & MASK64
    return h


def stream_id(tag, parts):
    h = fnv1a64(tag.encode() + b"\xff")
    for p in parts:
        h = fnv1a64(p.encode() + b"\xff", h)
    return h


def seed_from_u64(state):
    """rand_core's SeedableRng::seed_from_u64 for a 32-byte seed: 8 words."""
    words = []
    for _ in range(8):
        state = (state * 0x5851F42D4C957F2D + 0xA17654E46FBE17F3) & MASK64
        xorshifted = (((state >> 18) ^ state) >> 27) & MASK32
        rot = state >> 59
        words.append(((xorshifted >> rot) | (xorshifted << (32 - rot))) & MASK32)
    return words


class ChaCha12:
    """ChaCha12 as a random generator (64-bit counter, 64-bit stream)."""

    def __init__(self, seed, stream):
        self.key = seed_from_u64(seed)
        self.stream = stream
        self.counter = 0
        self.words = []

    def _block(self):
        state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574, *self.key,
                 self.counter & MASK32, self.counter >> 32, self.stream & MASK32, self.stream >> 32]
        x = list(state)

        def quarter(a, b, c, d):
            for p, q, r, sh in ((a, b, d, 16), (c, d, b, 12), (a, b, d, 8), (c, d, b, 7)):
                x[p] = (x[p] + x[q]) & MASK32
                v = x[r] ^ x[p]
                x[r] = ((v << sh) | (v >> (32 - sh))) & MASK32

        for _ in range(6):  # 12 rounds: 6 double rounds
            quarter(0, 4, 8, 12), quarter(1, 5, 9, 13), quarter(2, 6, 10, 14), quarter(3, 7, 11, 15)
            quarter(0, 5, 10, 15), quarter(1, 6, 11, 12), quarter(2, 7, 8, 13), quarter(3, 4, 9, 14)
        self.counter += 1
        self.words.extend((a + b) & MASK32 for a, b in zip(x, state))

    def next_u64(self):
        while len(self.words) < 2:
            self._block()
        lo, hi = self.words.pop(0), self.words.pop(0)
        return lo | (hi << 32)


def below(rng, n):
    """Uniform in 0..n (Lemire)."""
    threshold = ((1 << 64) - n) % n
    while True:
        m = rng.next_u64() * n
        if m & MASK64 >= threshold:
            return m >> 64


def shuffled(rng, n):
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = below(rng, i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def held_out(n, fraction):
    v = n * fraction
    return min(math.floor(v) + (1 if v - math.floor(v) >= 0.5 else 0), n)


def read_csv(text, label_column, feature_columns):
    """(inputs (n, d), labels as written, input names), cells trimmed."""
    rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text))]
    header, body = rows[0], [r for r in rows[1:] if r]
    label = header.index(label_column)
    features = [header.index(c) for c in feature_columns] or [j for j in range(len(header)) if j != label]
    x = np.array([[float(r[j]) for j in features] for r in body])
    return x, [r[label] for r in body], [header[j] for j in features]


def classes_of(labels):
    """SPEC 4: the sorted distinct labels, numerically when all are numbers
    (named as first written), else in byte order; returns (names, index)."""
    try:
        values = [float(v) for v in labels]
        assert all(math.isfinite(v) for v in values)
    except (ValueError, AssertionError):
        names = sorted(set(labels), key=lambda s: s.encode())
        return names, np.array([names.index(v) for v in labels])
    distinct = sorted(set(values))
    names = [labels[values.index(v)] for v in distinct]
    return names, np.array([distinct.index(v) for v in values])


def split_rows(text, label_column, feature_columns, test_fraction, stratify, seed, n_samples=100):
    """(train rows, test rows) of a CSV file's text, both in file order, as
    sweep splits it for job seed `seed` (`n_samples` is part of the stream's
    key even for a file). Also returns (inputs, labels as written, names)."""
    x, labels, names = read_csv(text, label_column, feature_columns)
    classes, y = classes_of(labels)
    key = "csv:%016x" % fnv1a64(text.encode())
    rng = ChaCha12(seed, stream_id("data", [key, str(n_samples)]))
    order = shuffled(rng, len(y))
    if stratify:
        test_rows = [i for k in range(len(classes)) for i in
                     (lambda members: members[len(members) - held_out(len(members), test_fraction):])(
                         [i for i in order if y[i] == k])]
    else:
        test_rows = order[len(order) - held_out(len(order), test_fraction):]
    test_rows = sorted(test_rows)
    train_rows = sorted(set(range(len(y))) - set(test_rows))
    return train_rows, test_rows, (x, labels, names)

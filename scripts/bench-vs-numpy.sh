#!/usr/bin/env bash
# Per-epoch time of the lab's network in numpy (scripts/lab_numpy.py) and in
# sweep (examples/epoch_time.rs), side by side in one run, single thread:
#
#   a  linear,  100 points, hidden [2, 2]
#   b  xor,      21 points, hidden [2, 2]
#   c  linear,  100 points, hidden [32, 32]
#   d  linear, 1000 points, hidden [32, 32]
#
# Full batch, sgd (lr 0.01), sigmoid, no bias, squared error summed over the
# batch, correct gradients, and every epoch evaluated (mean loss, accuracy).
#
#   scripts/bench-vs-numpy.sh [--seconds S] [--repeats R] [--check] [a b c d]
#
# --seconds: about how long one timing runs (default 0.5); --repeats: timings
# per case and side, the best counts (default 3); --check: first check numpy's
# gradients by finite differences and that numpy and sweep give the same xor
# loss curve. Installs numpy (and threadpoolctl) into a venv under
# target/bench-venv the first time; set PYTHON to use another interpreter.
#
# Timings on a busy machine are noisy: run it when nothing else builds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

seconds=0.5
repeats=3
check=0
cases=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --repeats) repeats="$2"; shift 2 ;;
        --check) check=1; shift ;;
        a|b|c|d) cases+=("$1"); shift ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-vs-numpy: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

target_dir="${CARGO_TARGET_DIR:-$root/target}"

# numpy, in a venv of the project's own.
if [ -z "${PYTHON:-}" ]; then
    venv="$target_dir/bench-venv"
    if ! "$venv/bin/python" -c 'import numpy, threadpoolctl' 2>/dev/null; then
        echo "setting up $venv (numpy, threadpoolctl) ..." >&2
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check numpy threadpoolctl >&2
    fi
    PYTHON="$venv/bin/python"
fi

# sweep's side.
cargo build --quiet --release --example epoch_time
sweep_bin="$target_dir/release/examples/epoch_time"

# numpy on one thread. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this
# machine for old OpenBLAS builds; they slow a current one, so they are unset
# for this command alone.
numpy() {
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        "$PYTHON" "$root/scripts/lab_numpy.py" "$@"
}

if [ "$check" = 1 ]; then
    numpy --check
    dump="$(mktemp)"
    trap 'rm -f "$dump"' EXIT
    "$sweep_bin" --dump-xor 2000 >"$dump"
    numpy --compare "$dump"
fi

numpy_out="$(numpy --seconds "$seconds" --repeats "$repeats" ${cases[@]+"${cases[@]}"})"
sweep_out="$("$sweep_bin" --seconds "$seconds" --repeats "$repeats" ${cases[@]+"${cases[@]}"})"

echo "$numpy_out" | grep '^#' | sed 's/^# /numpy: /'
echo "$sweep_out" | grep '^#' | sed 's/^# /sweep: /'
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
awk '
    BEGIN {
        name["a"] = "a) linear 100, hidden [2,2]"
        name["b"] = "b) xor 21, [2,2]"
        name["c"] = "c) linear 100, [32,32]"
        name["d"] = "d) linear 1000, [32,32]"
        printf "%-30s %16s %16s %18s\n", "case", "numpy us/epoch", "sweep us/epoch", "ratio numpy/sweep"
    }
    /^#/ { next }
    FNR == NR { np[$1] = $2; order[++n] = $1; next }
    { sw[$1] = $2 }
    END {
        for (i = 1; i <= n; i++) {
            c = order[i]
            printf "%-30s %16.2f %16.2f %18.1f\n", name[c], np[c], sw[c], np[c] / sw[c]
        }
    }
' <(echo "$numpy_out") <(echo "$sweep_out")

#!/usr/bin/env bash
# Planning cost: `sweep plan` of 100,000 and 1,000,000 jobs (10 configurations
# x a seed count, and one configuration x an explicit seed list), then one
# Slurm-style array task of the million-job grid (`sweep run --shard`, 10
# jobs of 1 epoch: what every task pays before and after its own share).
# Prints one table: wall seconds, CPU seconds (user + system) and peak RSS of
# each whole process.
#
#   scripts/bench-plan.sh [--jobs "100000 1000000"] [--sweep PATH] [--no-task]
#
# --jobs: the plan sizes (multiples of 10; default: 100000 1000000);
# --sweep: the binary to time (default: this checkout's release build, built
# first); --no-task: skip the array task row. Target (issue 17): a
# million-job plan in under 1 s of CPU and under 200 MB.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sizes="100000 1000000"
sweep=""
task=1
while [ $# -gt 0 ]; do
    case "$1" in
        --jobs) sizes="$2"; shift 2 ;;
        --sweep) sweep="$2"; shift 2 ;;
        --no-task) task=0; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-plan: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$sweep" ]; then
    cargo build --quiet --release
    sweep="${CARGO_TARGET_DIR:-$root/target}/release/sweep"
fi
[ -x /usr/bin/time ] || { echo "bench-plan: needs GNU time (apt-get install time)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/sweep-bench-plan.XXXXXX")
trap 'rm -rf "$work"' EXIT

grid() { # jobs -> a manifest: 5 lr x 2 activations x jobs/10 seeds
    local f="$work/grid-$1.toml"
    printf 'name = "grid"\nseeds = %d\n[base]\nepochs = 1\n[grid]\nlr = [1.0, 0.3, 0.1, 0.03, 0.01]\nactivation = ["sigmoid", "tanh"]\n' \
        $(($1 / 10)) >"$f"
    echo "$f"
}

list() { # jobs -> a manifest: one configuration, an explicit list of that many seeds
    local f="$work/list-$1.toml"
    { printf 'name = "list"\nseeds = ['; seq -s ', ' 0 7 $((7 * ($1 - 1))); printf ']\n[base]\nepochs = 1\n'; } >"$f"
    echo "$f"
}

BENCH_NAME=bench-plan BENCH_LABEL_WIDTH=44
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
table_header
for n in $sizes; do
    g=$(grid "$n")
    l=$(list "$n")
    measure "plan $n (grid, seeds = $((n / 10))), csv" "$sweep" plan "$g" --format csv
    measure "plan $n (grid), table" "$sweep" plan "$g"
    measure "plan $n (seed list), csv" "$sweep" plan "$l" --format csv
done
if [ "$task" = 1 ]; then
    n=$(echo "$sizes" | tr ' ' '\n' | sort -n | tail -1)
    g=$(grid "$n")
    measure "run --shard 0/$((n / 10)) of $n (10 jobs)" "$sweep" run "$g" --out "$work/task" --shard "0/$((n / 10))" --yes --quiet
fi

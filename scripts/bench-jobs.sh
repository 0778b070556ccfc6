#!/usr/bin/env bash
# Per-job cost of the harness: many tiny jobs (10 epochs, [2, 2], 100 samples;
# 5 learning rates x 2 activations x N/10 seeds), on the disk and on tmpfs,
# then every reader of the finished folder. Prints one table: wall seconds,
# CPU seconds (user + system) and peak RSS of each whole process.
#
#   scripts/bench-jobs.sh [--jobs "1000 10000 100000"] [--sweep PATH]
#                         [--disk DIR] [--tmpfs DIR] [--readers]
#                         [--layout folders|packed]
#
# --jobs: the sizes (default: 1000 10000 100000); --sweep: the binary to time
# (default: this checkout's release build, built first); --disk / --tmpfs:
# parent folders on each kind of file system (default: target/bench-jobs and
# /dev/shm/sweep-bench-jobs, both emptied first); --readers: also time
# summarize, export, report, diff (A against itself), verify --sample 100 on
# the tmpfs folder, and plan of the manifest; --layout: the manifest's
# `layout` key (default: folders, sweep's default).
#
# Ratios within one run are what to compare (disk / tmpfs, 100k / 1k RSS):
# this workplace's machines are shared and their disks vary by the hour.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sizes="1000 10000 100000"
sweep=""
disk=""
tmpfs=""
readers=0
layout=folders
while [ $# -gt 0 ]; do
    case "$1" in
        --jobs) sizes="$2"; shift 2 ;;
        --sweep) sweep="$2"; shift 2 ;;
        --disk) disk="$2"; shift 2 ;;
        --tmpfs) tmpfs="$2"; shift 2 ;;
        --readers) readers=1; shift ;;
        --layout) layout="$2"; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-jobs: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$sweep" ]; then
    cargo build --quiet --release
    sweep="${CARGO_TARGET_DIR:-$root/target}/release/sweep"
fi
[ -x /usr/bin/time ] || { echo "bench-jobs: needs GNU time (apt-get install time)" >&2; exit 1; }
disk="${disk:-${CARGO_TARGET_DIR:-$root/target}/bench-jobs}"
tmpfs="${tmpfs:-/dev/shm/sweep-bench-jobs}"
rm -rf "$disk" "$tmpfs"
mkdir -p "$disk" "$tmpfs"
trap 'rm -rf "$tmpfs"' EXIT

# Only when asked: a sweep from before the key (--sweep) refuses it.
layout_line=""
[ "$layout" = folders ] || layout_line="layout = \"$layout\""

manifest() { # seeds -> a manifest file
    local f="$tmpfs/tiny-$1.toml"
    cat >"$f" <<EOF
name = "tiny"
seeds = $1
[base]
epochs = 10
n_samples = 100
hidden = [2, 2]
$layout_line
[grid]
lr = [1.0, 0.3, 0.1, 0.03, 0.01]
activation = ["sigmoid", "tanh"]
EOF
    echo "$f"
}

BENCH_NAME=bench-jobs BENCH_LABEL_WIDTH=32
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
table_header
for n in $sizes; do
    m=$(manifest $((n / 10)))
    measure "run $n, disk" "$sweep" run "$m" --out "$disk/tiny-$n" --quiet --yes
    measure "run $n, tmpfs" "$sweep" run "$m" --out "$tmpfs/tiny-$n" --quiet --yes
    measure "resume $n (all done), tmpfs" "$sweep" run "$m" --out "$tmpfs/tiny-$n" --quiet --yes
    if [ "$readers" = 1 ]; then
        measure "summarize $n" "$sweep" summarize "$tmpfs/tiny-$n"
        measure "export $n" "$sweep" export "$tmpfs/tiny-$n" --out "$tmpfs/export-$n.csv"
        measure "report $n" "$sweep" report "$tmpfs/tiny-$n"
        measure "diff $n (itself)" "$sweep" diff "$tmpfs/tiny-$n" "$tmpfs/tiny-$n" --format csv
        measure "verify --sample 100, $n" "$sweep" verify "$tmpfs/tiny-$n" --sample 100
        measure "plan $n" "$sweep" plan "$m"
        rm -f "$tmpfs/export-$n.csv"
    fi
    rm -rf "$disk/tiny-$n"
done

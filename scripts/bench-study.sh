#!/usr/bin/env bash
# Wall time of a whole sweep process for the lab report's full study
# (benches/manifests/lab-study.toml: 960 jobs of 2,000 epochs, every CSV
# written), into a fresh folder each time, on all cores:
#
#   scripts/bench-study.sh [--runs N] [--threads T] [--dir PARENT]
#
# --runs: how many runs (default 3); --threads: worker threads (default:
# all cores); --dir: where the results folders go (default:
# target/bench-study, emptied first). Prints wall, user and system seconds.
#
# System time depends on the file system more than on sweep: on this
# project's VM (ext4), merely creating the study's 960 folders of files took
# a script 0.3 s of system time at some times and 3.7 s at others. Look at
# the user time too, and repeat runs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

runs=3
threads=()
parent=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --threads) threads=(--threads "$2"); shift 2 ;;
        --dir) parent="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-study: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

cargo build --quiet --release
sweep="${CARGO_TARGET_DIR:-$root/target}/release/sweep"
if [ -z "$parent" ]; then
    parent="${CARGO_TARGET_DIR:-$root/target}/bench-study"
    rm -rf "$parent"
fi
mkdir -p "$parent"

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
TIMEFORMAT='%R %U %S'
for i in $(seq 1 "$runs"); do
    out="$parent/run-$i-$$"
    # bash's own `time`: wall, user and system seconds of the whole process.
    times=$( { time "$sweep" benches/manifests/lab-study.toml --out "$out" -q ${threads[@]+"${threads[@]}"} >/dev/null 2>&1; } 2>&1 )
    read -r wall user sys <<<"$times"
    echo "run $i: $wall s wall, $user s user, $sys s system"
done

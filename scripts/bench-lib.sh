# Shared by the bench-*.sh scripts (sourced, not run): one table row per
# command, measured by /usr/bin/time. Set BENCH_NAME (for messages) and
# BENCH_LABEL_WIDTH (the first column's width) before sourcing.

# measure LABEL CMD...: one row of the table (wall s, cpu s, peak RSS MB).
measure() {
    local label="$1"; shift
    local log
    log=$(mktemp)
    /usr/bin/time -f '%e %U %S %M' -o "$log" "$@" >/dev/null 2>&1 || {
        echo "$BENCH_NAME: '$*' failed:" >&2; "$@" 2>&1 >/dev/null | tail -3 >&2; exit 1; }
    read -r wall user sys rss <"$log"
    rm -f "$log"
    printf "| %-${BENCH_LABEL_WIDTH}s | %8.2f | %8.2f | %8.1f |\n" "$label" "$wall" \
        "$(echo "$user + $sys" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}

# The machine and binary the table was measured with, then its header.
table_header() {
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "sweep: $sweep"
    echo
    printf "| %-${BENCH_LABEL_WIDTH}s |  wall s  |  CPU s   | peak MB  |\n" "what"
    printf '|%s|---------:|---------:|---------:|\n' "$(printf -- '-%.0s' $(seq 1 $((BENCH_LABEL_WIDTH + 2))))"
}

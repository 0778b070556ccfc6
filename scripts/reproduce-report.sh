#!/usr/bin/env bash
# Reproduces every study of the lab report: runs each manifest in
# experiments/, writes its report, and assembles results/README.md from the
# reports and the hand-written findings in experiments/findings/<name>.md.
#
#   scripts/reproduce-report.sh            # resume: only missing jobs train
#   scripts/reproduce-report.sh --force    # retrain everything
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
sweep=target/release/sweep
studies=(baseline lr hidden no-activation activation conv backprop optimizers hard-data real-breast-cancer real-iris real-wine real-digits)

for name in "${studies[@]}"; do
    "$sweep" run "experiments/$name.toml" --quiet "$@"
    "$sweep" report "results/$name"
done

out=results/README.md
{
    echo "# Results of the lab report's studies, regenerated"
    echo
    echo "Every folder below was produced by \`scripts/reproduce-report.sh\` from the"
    echo "manifests in \`experiments/\` (10 seeds each). Each report has its tables and"
    echo "figures; \`sweep report results/<name>\` regenerates them from the committed CSVs."
    echo "Findings are written from these numbers; where they contradict the lab report,"
    echo "they say so."
    for name in "${studies[@]}"; do
        desc=$(sed -n 's/^description = "\(.*\)"/\1/p' "experiments/$name.toml")
        echo
        echo "## [$name]($name/report.md): $desc"
        echo
        if [ -f "experiments/findings/$name.md" ]; then
            cat "experiments/findings/$name.md"
            echo
        fi
        # The report's table of every configuration, as measured.
        awk '/^## Every configuration/{on=1; next} on && /^\|/{print; seen=1; next} on && seen{exit}' \
            "results/$name/report.md"
    done
} > "$out"
echo "wrote $out"
du -sh results

#!/usr/bin/env bash
# Fetches the charting library that report.html embeds (uPlot, MIT) from the
# npm registry with npm's own client, and keeps its licence beside it:
#
#   scripts/vendor-js.sh            # the pinned version below
#   scripts/vendor-js.sh 1.6.32     # another version (then update the pin)
#
# Writes src/report/vendor/{uPlot.iife.min.js, uPlot.min.css, LICENSE,
# VERSION}; the files are committed and compiled into sweep with
# include_str!, so building sweep needs no network. npm checks the
# tarball's integrity hash against the registry's.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:-1.6.32}"
out=src/report/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "uplot@$version" >/dev/null)
tar -xzf "$work/uplot-$version.tgz" -C "$work"
mkdir -p "$out"
cp "$work/package/dist/uPlot.iife.min.js" "$out/uPlot.iife.min.js"
cp "$work/package/dist/uPlot.min.css" "$out/uPlot.min.css"
cp "$work/package/LICENSE" "$out/LICENSE"
integrity=$(cd "$work" && npm view "uplot@$version" dist.integrity)
printf 'uplot %s (npm registry)\nintegrity %s\n' "$version" "$integrity" > "$out/VERSION"
echo "vendored uplot $version into $out"
ls -l "$out"

#!/usr/bin/env bash
# Measures the step downlink against the model broadcast on thin links
# (docs/experiments.md "The step downlink on LTE-M"): every variant of
# examples/downlink.toml (16 boards on LTE-M, sign updates, d = 1e5, the
# virtual clock), then a Markdown table of each variant's bytes down and up
# a round, its modelled seconds a round, the modelled seconds until the loss
# first reaches 10% and 1% of its start, its final loss and its model hash
# (equal within each pair of sign votes: the steps travel exactly). About a
# minute on two cores.
#
#   bash scripts/downlink_table.sh [build/bin]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/bin}"
out="$(mktemp -d /tmp/edgefl-downlink.XXXXXX)"
trap 'rm -rf "$out"' EXIT
"$bin/edgefl" run "$root/examples/downlink.toml" --out "$out/runs" >"$out/run.log" 2>&1 || {
  cat "$out/run.log" >&2
  exit 1
}
echo "| variant | down B a round | up B a round | s a round | s to 10% of f(x0) | s to 1% | final loss | model hash |"
echo "|---|---|---|---|---|---|---|---|"
for variant in majority-model majority-step sign-mean-model sign-mean-step cohort-4-model cohort-4-step; do
  dir="$out/runs/$variant"
  hash="$(sed -n "s/^model_hash = '\(.*\)'/\1/p" "$dir/summary.toml")"
  awk -F, -v label="$variant" -v hash="$hash" '
    FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
      t = $col["time_s"]; loss = $col["loss"]; rows++
      down += $col["bytes_down"]; up += $col["bytes_up"]
      if (rows == 1) start = loss
      if (loss <= 0.1 * start && !a) { a = 1; t10 = t }
      if (loss <= 0.01 * start && !b) { b = 1; t1 = t }
      last = loss; end = t
    }
    END {
      printf "| %s | %.0f | %.0f | %.3f | %s | %s | %.4g | %s |\n", label, down / rows, up / rows, end / rows,
        a ? sprintf("%.0f", t10) : "not reached", b ? sprintf("%.0f", t1) : "not reached", last, hash
    }' "$dir/metrics.csv"
done

#!/usr/bin/env bash
# Measures kernel-shaped links (link.shaping = "kernel", docs/experiments.md):
# for each case below, `edgefl run --shaping kernel` on a quadratic objective,
# and the seconds a round took (metrics.csv: time_s from the first round's end
# to the last's, over the rounds between) against sim/round_cost.h's forecast
# (`edgefl predict` prints it), and against the forecast less the two head
# starts tbf gives a message on an idle link (sim/tbf.h: burst / rate each
# way, kernel_links.csv's head_start_s; every message here is larger than
# the burst). Prints a Markdown table. Needs root and iproute2; about a
# minute and a half.
#
#   sudo bash scripts/kernel_links_table.sh [build/bin] [shaping]
#
# `shaping` (default kernel) may be token-bucket, to measure the token bucket
# on the same cases (its head-start columns then repeat the forecast).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/bin}"
shaping="${2:-kernel}"
out="$(mktemp -d /tmp/edgefl-kernel-links.XXXXXX)"
trap 'rm -rf "$out"' EXIT

cat >"$out/base.toml" <<'TOML'
[run]
name = "link"
seed = 3
[objective]
kind = "quadratic"
[step]
eta = 0.05
[round]
deadline_ms = 120000
dead_after_ms = 60000
TOML

# d compressor nodes uplink_bps downlink_bps latency_ms rounds
cases=(
  "1000 identity 2 1e6 1e6 0 40"
  "5000 identity 2 1e6 1e6 0 20"
  "20000 identity 2 1e6 1e6 0 8"
  "20000 identity 4 1e6 1e6 0 8"
  "20000 sign 4 1e6 1e6 0 12"
  "1000 identity 4 1e5 1e5 0 8"
  "5000 identity 2 1e5 1e5 0 4"
  "20000 sign 2 1e5 1e6 0 8"
  "5000 identity 2 1e6 1e6 20 20"
  "20000 sign 4 1e5 1e6 20 8"
)

printf '| d | compressor | nodes | uplink b/s | downlink b/s | latency | up B/node | down B/node | forecast s/round | less head starts | measured s/round | measured / forecast | measured / (forecast less head starts) |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for i in "${!cases[@]}"; do
  read -r d compressor nodes up down latency rounds <<<"${cases[$i]}"
  sets=(--set objective.dimension="$d" --set compressor.kind="$compressor" --nodes "$nodes" --rounds "$rounds"
        --set link.uplink_bps="$up" --set link.downlink_bps="$down" --set link.latency_ms="$latency")
  forecast=$("$bin/edgefl" predict "$out/base.toml" "${sets[@]}" --paths 1 | sed -n 's/^a round: \([0-9.]*\) B up and \([0-9.]*\) B down a node, \([0-9.e+-]*\) s at.*/\1 \2 \3/p')
  read -r up_bytes down_bytes forecast_s <<<"$forecast"
  "$bin/edgefl" run "$out/base.toml" "${sets[@]}" --shaping "$shaping" --out "$out/$i" >"$out/$i.log" 2>&1 || {
    cat "$out/$i.log" >&2
    exit 1
  }
  if grep -q "falls back" "$out/$i.log"; then grep "falls back" "$out/$i.log" >&2; fi
  measured=$(awk -F, 'NR == 2 { first = $2 } NR > 1 { last = $2; n = NR - 1 } END { printf "%.4f", (last - first) / (n - 1) }' \
    "$out/$i/link/metrics.csv")
  # head_start_s of node 0's uplink and downlink (the first two rows).
  heads=0
  if [ -f "$out/$i/link/kernel_links.csv" ]; then
    heads=$(awk -F, 'NR == 2 || NR == 3 { sum += $9 } END { printf "%.6f", sum }' "$out/$i/link/kernel_links.csv")
  fi
  awk -v d="$d" -v c="$compressor" -v n="$nodes" -v up="$up" -v down="$down" -v l="$latency" -v ub="$up_bytes" \
    -v db="$down_bytes" -v f="$forecast_s" -v h="$heads" -v m="$measured" 'BEGIN {
      printf "| %s | %s | %s | %s | %s | %s ms | %s | %s | %.4f | %.4f | %.4f | %.3f | %.3f |\n",
        d, c, n, up, down, l, ub, db, f, f - h, m, m / f, m / (f - h) }'
done

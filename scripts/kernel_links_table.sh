#!/usr/bin/env bash
# Measures the two ways `edgefl run` shapes links against each other and the
# forecast: for each case below, `edgefl run --shaping kernel` (tbf qdiscs,
# docs/experiments.md "Kernel-shaped links") and `edgefl run --shaping
# token-bucket` (each node paces itself, net/link_shaper.h) on a quadratic
# objective, and the seconds a round took (metrics.csv: time_s from the first
# round's end to the last's, over the rounds between, so round 0, which waits
# for the joins, is left out) beside sim/round_cost.h's forecast (`edgefl
# predict` prints it). Prints a Markdown table. Needs root and iproute2 for
# the kernel column (a kernel run that falls back to the token bucket stops
# the script); about four minutes.
#
#   sudo bash scripts/kernel_links_table.sh [build/bin]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/bin}"
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
  "1000 identity 2 1e6 1e6 20 20"
  "1000 sign 2 1e6 1e6 0 40"
  "1000 sign 4 1e6 1e6 20 20"
  "5000 identity 2 1e6 1e6 0 20"
  "5000 identity 2 1e6 1e6 20 20"
  "20000 identity 2 1e6 1e6 0 8"
  "20000 identity 4 1e6 1e6 20 8"
  "20000 sign 4 1e6 1e6 0 12"
  "20000 sign 4 1e6 1e6 20 12"
  "1000 identity 4 1e5 1e5 0 8"
  "1000 identity 2 1e5 1e5 20 8"
  "1000 sign 2 1e5 1e5 0 12"
  "5000 identity 2 1e5 1e5 0 4"
  "20000 sign 2 1e5 1e6 0 8"
  "20000 sign 4 1e5 1e6 20 8"
)

# Seconds a round of one run: metrics.csv's time_s, first round's end to the last's.
seconds_a_round() {
  awk -F, 'NR == 2 { first = $2 } NR > 1 { last = $2; n = NR - 1 } END { printf "%.4f", (last - first) / (n - 1) }' "$1"
}

printf '| d | compressor | nodes | uplink b/s | downlink b/s | latency | up B/node | down B/node | forecast s/round | kernel s/round | token-bucket s/round | kernel / forecast | token-bucket / forecast | kernel / token-bucket |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for i in "${!cases[@]}"; do
  read -r d compressor nodes up down latency rounds <<<"${cases[$i]}"
  sets=(--set objective.dimension="$d" --set compressor.kind="$compressor" --nodes "$nodes" --rounds "$rounds"
        --set link.uplink_bps="$up" --set link.downlink_bps="$down" --set link.latency_ms="$latency")
  forecast=$("$bin/edgefl" predict "$out/base.toml" "${sets[@]}" --paths 1 | sed -n 's/^a round: \([0-9.]*\) B up and \([0-9.]*\) B down a node, \([0-9.e+-]*\) s at.*/\1 \2 \3/p')
  read -r up_bytes down_bytes forecast_s <<<"$forecast"
  declare -A measured=()
  for shaping in kernel token-bucket; do
    run="$out/$i-$shaping"
    "$bin/edgefl" run "$out/base.toml" "${sets[@]}" --shaping "$shaping" --out "$run" >"$run.log" 2>&1 || {
      cat "$run.log" >&2
      exit 1
    }
    if grep -q "falls back" "$run.log"; then
      grep "falls back" "$run.log" >&2
      exit 1
    fi
    measured[$shaping]=$(seconds_a_round "$run/link/metrics.csv")
  done
  awk -v d="$d" -v c="$compressor" -v n="$nodes" -v up="$up" -v down="$down" -v l="$latency" -v ub="$up_bytes" \
    -v db="$down_bytes" -v f="$forecast_s" -v k="${measured[kernel]}" -v t="${measured[token-bucket]}" 'BEGIN {
      printf "| %s | %s | %s | %s | %s | %s ms | %s | %s | %.4f | %.4f | %.4f | %.3f | %.3f | %.3f |\n",
        d, c, n, up, down, l, ub, db, f, k, t, k / f, t / f, k / t }'
done

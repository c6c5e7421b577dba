#!/usr/bin/env bash
# The forecast's time against shaped runs: for each case, `edgefl run
# --predict` with the nodes' links shaped (link.shaping = token-bucket, and
# kernel when asked and root), and the seconds a round and the time to
# run.target_loss the run measured (metrics.csv's time_s, agreement.toml's
# [time]) against the forecast's (sim/round_cost.h, sim/participation.h: the
# expected round length; the paths' mean first passage to the target).
#   Three presets (wifi, 4g, lte-m), each with d chosen so that a node's
#   exchange takes about 0.06-0.12 s (10 ms latency each way and 5 ms of
#   computation on top), 4 nodes, and identity, qsgd (16 levels) and ef-sign;
#   the quadratic from f = d/2 to the target d/20 (eta = 0.03: about 38 rounds).
#   Beside each, the same run unshaped: the machine's own seconds a round
#   (processes, sockets, the coordinator's work), which the link model leaves out.
#   Then cohorts: 8 nodes, 4 a round, dropout 0.1 and a deadline a little past
#   a node's exchange, on the virtual clock (the modelled time, 800 rounds, and
#   to a target) and shaped on the wall clock, where a round that lost an answer
#   waits out the real deadline.
# Writes the table into docs/validation.md, section "Time and cohorts against
# shaped runs" (replacing it), and prints it. About three minutes on two cores
# (as root, with the kernel rows).
#
#   bash scripts/forecast_vs_shaped.sh [build/bin] [docs/validation.md] [shapings]
#
# `shapings`: a comma-separated list of token-bucket and kernel (default:
# both as root, token-bucket otherwise; kernel needs root and iproute2, and
# falls back to the token bucket, which the table then says).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/bin}"
doc="${2:-$root/docs/validation.md}"
default_shapings=token-bucket
if [ "$(id -u)" = 0 ]; then default_shapings=token-bucket,kernel; fi
shapings="${3:-$default_shapings}"
out="$(mktemp -d /tmp/edgefl-forecast-shaped.XXXXXX)"
trap 'rm -rf "$out"' EXIT

cat >"$out/base.toml" <<'TOML'
[run]
name = "shaped"
nodes = 4
rounds = 60
seed = 3
[objective]
kind = "quadratic"
initial_value = 1.0
[noise]
sigma = 1.0
[step]
eta = 0.03
[link]
latency_ms = 10
compute_ms = 5
[round]
deadline_ms = 60000
dead_after_ms = 30000
TOML

# A value of a table of agreement.toml: file, table, key.
toml_key() {
  awk -v table="[$2]" -v key="$3" '/^\[/ { in_table = ($0 == table) } in_table && $1 == key { print $3 }' "$1"
}
time_key() { toml_key "$1" time "$2"; }

rows=()
# The machine's own seconds a round: the case unshaped, without the forecast.
unshaped_seconds() {
  local dir="$out/unshaped-$1"
  shift
  if [ ! -d "$dir" ]; then  # once per case, whatever the shapings
    "$bin/edgefl" run "$out/base.toml" "$@" --set link.shaping=none --out "$dir" >"$dir.log" 2>&1 || {
      cat "$dir.log" >&2
      exit 1
    }
  fi
  awk -F, 'NR > 1 { last = $2; n = NR - 1 } END { printf "%.4f", last / n }' "$dir/shaped/metrics.csv"
}

# name shaping sets...
run_case() {
  local name="$1" shaping="$2"
  shift 2
  local dir="$out/$shaping-$name" unshaped="–"
  if [ "$with_unshaped" = 1 ]; then unshaped=$(unshaped_seconds "$name" "$@"); fi
  "$bin/edgefl" run "$out/base.toml" "$@" --set link.shaping="$shaping" --predict --paths 64 --out "$dir" \
    >"$dir.log" 2>&1 || {
    cat "$dir.log" >&2
    exit 1
  }
  local shaped="$shaping"
  if grep -q "falls back" "$dir.log"; then shaped="kernel → token-bucket"; fi
  local a="$dir/shaped/agreement.toml"
  local ms ps mr mt pr pt verdict
  ms=$(time_key "$a" measured_seconds_per_round)
  ps=$(time_key "$a" predicted_seconds_per_round)
  mr=$(time_key "$a" measured_rounds_to_target)
  mt=$(time_key "$a" measured_seconds_to_target)
  pr=$(time_key "$a" predicted_rounds_to_target)
  pt=$(time_key "$a" predicted_seconds_to_target)
  verdict=$(awk '$1 == "verdict_agrees" { print ($3 == "true") ? "agrees" : "DIFFERS" }' "$a")
  if [ "$(time_key "$a" target_reached)" != true ]; then  # a whole run: its stationary loss too
    verdict+=$(awk -v e="$(toml_key "$a" agreement relative_error)" -v s="$(toml_key "$a" agreement relative_error_sigma)" \
      'BEGIN { printf ", stationary %+.1f%% ± %.1f%%", 100 * e, 100 * s }')
  fi
  # The forecast with the machine's own seconds a round added (the unshaped
  # run's): the link model's time plus what the processes themselves spend.
  rows+=("$(awk -v n="$name" -v s="$shaped" -v u="$unshaped" -v ms="$ms" -v ps="$ps" -v mr="$mr" -v mt="$mt" -v pr="$pr" -v pt="$pt" \
    -v v="$verdict" 'BEGIN {
      own = (u == "–") ? 0 : u
      round = sprintf("%.4f | %+.1f%%", ps, 100 * (ps / ms - 1))
      round = round ((u == "–") ? " | –" : sprintf(" | %+.1f%%", 100 * ((ps + own) / ms - 1)))
      target = "– | – | – | –"
      if (mt != "" && pt != "") {
        target = sprintf("%.3g s, %d r | %.3g s, %.1f r | %+.1f%%", mt, mr, pt, pr, 100 * (pt / mt - 1))
        target = target ((u == "–") ? " | –" : sprintf(" | %+.1f%%", 100 * ((pt + pr * own) / mt - 1)))
      } else if (mt != "") target = sprintf("%.3g s, %d r | – | – | –", mt, mr)
      printf "| %s | %s | %s | %.4f | %s | %s | %s |", n, s, u, ms, round, target, v }')")
  echo "${rows[-1]}" >&2
}

IFS=',' read -r -a shaping_list <<<"$shapings"
with_unshaped=1
# preset d
presets=("wifi 50000" "4g 10000" "lte-m 1000")
# name compressor sets
compressors=("identity|compressor.kind=identity" "qsgd|compressor.kind=qsgd compressor.levels=16"
             "ef-sign|compressor.kind=ef-sign")
for shaping in "${shaping_list[@]}"; do
  for p in "${presets[@]}"; do
    read -r preset d <<<"$p"
    target=$(awk -v d="$d" 'BEGIN { print d / 20 }')
    for c in "${compressors[@]}"; do
      name="${c%%|*}"
      sets=()
      for s in ${c#*|}; do sets+=(--set "$s"); done
      run_case "$preset-$name" "$shaping" --set link.preset="$preset" --set objective.dimension="$d" \
        --set run.target_loss="$target" "${sets[@]}"
    done
  done
done

# Cohorts: 8 nodes, 4 a round, answers lost at 0.1; lte-m at d = 1000 takes
# about 0.12 s a node, the deadline is 0.2 s.
with_unshaped=0  # unshaped, a lost answer still waits for the deadline: no measure of the machine
cohort=(--nodes 8 --set round.cohort=4 --set round.dropout=0.1 --set round.deadline_ms=200 --set link.preset=lte-m
        --set objective.dimension=1000)
run_case "cohort-virtual" none "${cohort[@]}" --set round.clock=virtual --rounds 800 --set step.eta=0.01
run_case "cohort-virtual-target" none "${cohort[@]}" --set round.clock=virtual --rounds 300 --set step.eta=0.01 \
  --set run.target_loss=50
run_case "cohort-wall" token-bucket "${cohort[@]}" --rounds 300 --set step.eta=0.01 --set run.target_loss=50

# The loss with cohorts: a whole run's stationary loss against the forecast's.
loss_rows=()
loss_row() {
  local name="$1" a="$2"
  loss_rows+=("$(awk -v n="$name" -v mv="$(toml_key "$a" agreement measured_stationary_loss)" \
    -v me="$(toml_key "$a" agreement measured_stationary_error)" -v pv="$(toml_key "$a" agreement predicted_stationary_loss)" \
    -v pe="$(toml_key "$a" agreement predicted_stationary_error)" -v e="$(toml_key "$a" agreement relative_error)" \
    -v s="$(toml_key "$a" agreement relative_error_sigma)" -v m="$(toml_key "$a" agreement measured_verdict | tr -d "'")" \
    -v p="$(toml_key "$a" agreement predicted_verdict | tr -d "'")" 'BEGIN {
      printf "| %s | %.4g ± %.2g | %.4g ± %.2g | %+.1f%% ± %.1f%% | %s, %s |", n, mv, me, pv, pe, 100 * e, 100 * s, m, p }')")
  echo "${loss_rows[-1]}" >&2
}
loss_row "quadratic, d = 1000, η = 0.01, 800 rounds (cohort-virtual above)" "$out/none-cohort-virtual/shaped/agreement.toml"
# examples/digits.toml's non-iid MLP (Dirichlet 0.3 shards), 4 of its 8 nodes a
# round, answers lost at 0.1, on the virtual clock (no real deadline waits).
"$bin/edgefl" run "$root/examples/digits.toml" --variant mlp-noniid-dense --set round.cohort=4 \
  --set round.dropout=0.1 --set round.clock=virtual --predict --paths 8 --out "$out/digits" >"$out/digits.log" 2>&1 || {
  cat "$out/digits.log" >&2
  exit 1
}
loss_row "digits MLP, non-iid shards (examples/digits.toml mlp-noniid-dense), 300 rounds" \
  "$out/digits/mlp-noniid-dense/agreement.toml"

table="$out/table.md"
{
  printf '| case | shaping | unshaped s/round | measured s/round | predicted s/round | predicted / measured − 1 | with unshaped | measured to target | predicted to target | predicted / measured − 1 | with unshaped | loss verdict |\n'
  printf '|---|---|---|---|---|---|---|---|---|---|---|---|\n'
  printf '%s\n' "${rows[@]}"
} >"$table"
cat "$table"

# Replace the section in the document (or append it).
section="$out/section.md"
{
  cat <<'MD'
## Time and cohorts against shaped runs

`bash scripts/forecast_vs_shaped.sh` regenerates this section (about three minutes on two cores, as root).
Each case is `edgefl run --predict --paths 64` with the nodes' links shaped (`link.shaping = "token-bucket"`:
every node holds each RoundStart and Update until it would have crossed its link; `kernel`: tbf qdiscs in
network namespaces, as root). The quadratic (λ = 1, σ = 1, x₀ = 1, η = 0.03) runs from f = d/2 to the target
d/20, about 38 rounds; 4 nodes, 10 ms latency each way and 5 ms of computation, d chosen so that a node's
exchange takes about 0.06–0.12 s on the preset (wifi: d = 50000, 4g: 10000, lte-m: 1000); qsgd has 16 levels.

- **Unshaped s/round**: the same run with `link.shaping = "none"`: what the machine itself spends a round
  (processes, loopback sockets, encoding, the coordinator's aggregation, evaluation and audit chain). The link
  model does not count it, so it is roughly what a shaped round takes beyond the forecast.
- **Seconds a round**: metrics.csv's `time_s` at the last round over the rounds (the wall clock, or the modelled
  time on the virtual clock), against the forecast's expected round length (`sim/round_cost.h`: a node's
  exchange, or with a cohort the K-th counted answer or the deadline, averaged over the cohort draws).
- **To target**: the run's `time_s` and rounds when it stopped at `run.target_loss`, against the paths' mean first
  passage (each path's drawn round lengths up to the round its loss first reached the target).
- **Cohorts**: 8 nodes, 4 a round, each answer lost with probability 0.1, a 0.2 s deadline after a 0.12 s
  exchange (lte-m, d = 1000), η = 0.01 (800 rounds, or to the target 50 from 500, about 115 rounds); a round
  that lost an answer waits for the deadline, so 0.9⁴ = 66% of rounds take 0.12 s and the rest 0.2 s. On the
  virtual clock the time is the coordinator's model; with `token-bucket` it is the wall clock's, each lost
  answer's round waiting out the real deadline. Both draw the same cohorts and losses from the seed, so their
  rounds are the same ones; one run's mean round over n rounds has a standard error of about 26%/√n of the
  forecast (2.4% at 115 rounds).
- **Loss verdict**: agreement.toml's verdicts; for a run that did not stop at its target, also its stationary
  loss against the forecast's (predicted / measured − 1 ± its standard error).
- **With unshaped**: the forecast plus the unshaped seconds a round (for the time to target, times the forecast's
  rounds) against the measurement: the link model's time plus the machine's own. On boards that work is what
  `link.compute_ms` should hold: measure a round there (`edgefl run --shaping none`, or edgefl-node's log) and
  set it, and the forecast counts it.
- **Kernel rows**: tbf lets the first burst of a message on an idle link through at once; each node holds each
  message for that *head start* on top of its latency (docs/experiments.md, "Kernel-shaped links"), so a
  kernel-shaped round takes the link model's time, as a token-bucket one does.

MD
  cat "$table"
  cat <<'MD'

What limits the agreement: a shaped round takes the forecast plus the machine's own work, which the link model
leaves out (the unshaped column: at wifi's rate a 200 kB model crosses in 18 ms, and encoding, decoding and the
coordinator's aggregation, evaluation and audit chain take a few milliseconds more on this machine); with that
added, the forecast and the runs agree within 8% on every preset and both shapings (the forecast alone within 9%:
at wifi's rates the machine's 6–8 ms are a tenth of a round, at 4g's and lte-m's about 2%).
The forecast reaches the target about one round later than the runs: the corrected drift's slower transient
(docs/theory.md 3.4: at η = 0.03, 3% of the rounds). On the virtual clock the time is the coordinator's model,
and the forecast's expectation over the cohort draws matches it; the wall-clock cohort run draws the same cohorts
and losses from the seed and takes the same time within a percent.

The loss with the same cohorts (4 of 8 nodes a round, answers lost at 0.1): the mean loss over the last half of
a whole run against the forecast's (docs/theory.md 3.6: every round's cohort drawn on every path; on the data
objective, the drift and noise of the counted nodes' own shards).

| case | measured | predicted | predicted / measured − 1 | verdict: run, forecast |
|---|---|---|---|---|
MD
  printf '%s\n' "${loss_rows[@]}"
  printf '\nMeasured on this 2-core machine (shared with other builds), %s, with `bash scripts/forecast_vs_shaped.sh%s`.\n' \
    "$(date +%Y-%m-%d)" "${3:+ ${1:-build/bin} ${2:-docs/validation.md} $3}"
} >"$section"
python3 - "$doc" "$section" <<'PY'
import sys
doc, section = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
start = text.find("## Time and cohorts against shaped runs")
if start < 0:
    text = text.rstrip("\n") + "\n\n" + section
else:
    end = text.find("\n## ", start + 1)
    text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
open(doc, "w").write(text)
PY
echo "wrote $doc" >&2

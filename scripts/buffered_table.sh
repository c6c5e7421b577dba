#!/usr/bin/env bash
# Measures buffered asynchronous aggregation against synchronous rounds
# (docs/experiments.md "Buffered against synchronous rounds"): the population
# of examples/buffered.toml (12 Pi Zero 2 on LTE-M, 12 Pi 5 on Wi-Fi) on the
# virtual clock, for sync, sync with over-commitment, and buffered at K = 4
# and K = 12, on the digits (softmax regression; IID shards, then
# Dirichlet(0.3) ones) and on a noisy quadratic (d = 1000, sigma = 1), three
# seeds each. Prints three Markdown tables: the modelled seconds until the
# first row at a target (mean over the seeds; "n of 3" when fewer seeds got
# there), the uplink bytes until the second, the value at the end, and the
# staleness; then buffered K = 12 on the wall clock over token-bucket-shaped
# links, for real, beside the same on the virtual clock. With FIGURE set,
# draws the seed-1 curves with gnuplot into it (its extension names the
# terminal: svg, or png for a look). About a minute on two cores.
#
#   FIGURE=docs/figures/buffered_vs_sync.svg bash scripts/buffered_table.sh [build/bin]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/bin}"
out="$(mktemp -d /tmp/edgefl-buffered.XXXXXX)"
trap 'rm -rf "$out"' EXIT
seeds="1 2 3"
variants="sync sync-overcommit buffered-k4 buffered-k12"
quadratic=(--set objective.kind=quadratic --set objective.dimension=1000 --set noise.kind=gaussian
  --set noise.sigma=1 --set noise.batch_size=1 --set step.eta=0.05)

# run NAME ARGS...: every variant of examples/buffered.toml, a seed at a time, under $out/NAME/SEED.
run() {
  local name="$1"
  shift
  for seed in $seeds; do
    "$bin/edgefl" run "$root/examples/buffered.toml" --set run.seed="$seed" "$@" --out "$out/$name/$seed" \
      >"$out/$name.$seed.log" 2>&1 || {
      cat "$out/$name.$seed.log" >&2
      exit 1
    }
  done
}

# row LABEL COLUMN TARGET1 TARGET2 BELOW FILES...: the modelled seconds until
# COLUMN first reaches each target (at or below it when BELOW is 1, at or
# above otherwise) in each metrics.csv, the uplink until the second, the
# last value, the last time_s and the staleness, as a table row.
row() {
  local label="$1" column="$2" t1="$3" t2="$4" below="$5"
  shift 5
  awk -F, -v label="$label" -v column="$column" -v t1="$t1" -v t2="$t2" -v below="$below" '
    FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; run++; next }
    {
      t = $col["time_s"]; v = $col[column]; up[run] += $col["bytes_up"]
      hit1 = below ? v <= t1 : v >= t1; hit2 = below ? v <= t2 : v >= t2
      if (hit1 && !(run in at1)) at1[run] = t
      if (hit2 && !(run in at2)) { at2[run] = t; mb2[run] = up[run] / 1e6 }
      last[run] = v; end[run] = t; steps[run]++; stale[run] += $col["staleness_mean"]
      if ($col["staleness_max"] + 0 > most) most = $col["staleness_max"] + 0
    }
    function mean(a,   s, n, k) { n = 0; s = 0; for (k in a) { n++; s += a[k] } return n == run ? sprintf("%.1f", s / n) : sprintf("%d of %d", n, run) }
    END {
      for (r = 1; r <= run; r++) { fin += last[r]; secs += end[r]; st += stale[r] / steps[r] }
      printf "| %s | %s | %s | %s | %.4g | %.0f | %.2f | %d |\n", label, mean(at1), mean(at2), mean(mb2), fin / run,
             secs / run, st / run, most
    }' "$@"
}

# table SET COLUMN T1 T2 BELOW HEADINGS...: one row a variant of SET's runs.
table() {
  local set="$1" column="$2" t1="$3" t2="$4" below="$5"
  printf '| mode | %s | %s | %s | %s | modelled s | mean staleness | max staleness |\n' "$6" "$7" "$8" "$9"
  printf '|---|---|---|---|---|---|---|---|\n'
  for v in $variants; do
    row "$v" "$column" "$t1" "$t2" "$below" "$out/$set"/*/"$v"/metrics.csv
  done
}

run digits
run noniid --set objective.partition=dirichlet --set objective.dirichlet_alpha=0.3
run quadratic "${quadratic[@]}"

echo '**Digits** (softmax regression, d = 650, IID shards, qsgd with 8 levels; test accuracy):'
echo
table digits test_accuracy 0.90 0.95 0 "s to acc 0.90" "s to acc 0.95" "uplink MB to 0.95" "final test acc"
echo
echo '**Digits, non-IID** (the same, each node holding a Dirichlet(0.3) draw of the classes):'
echo
table noniid test_accuracy 0.90 0.95 0 "s to acc 0.90" "s to acc 0.95" "uplink MB to 0.95" "final test acc"
echo
echo '**Quadratic** (d = 1000, Gaussian noise sigma = 1, eta = 0.05; the loss starts at 500):'
echo
table quadratic loss 50 5 1 "s to loss 50" "s to loss 5" "uplink MB to 5" "final loss"

# For real: buffered K = 12 on the wall clock, each node pacing its traffic
# and computation to its profile (link.shaping = "token-bucket"), one seed.
"$bin/edgefl" run "$root/examples/buffered.toml" --variant buffered-k12 --rounds 300 --set round.clock=wall \
  --set link.shaping=token-bucket --out "$out/wall" >"$out/wall.log" 2>&1 || {
  cat "$out/wall.log" >&2
  exit 1
}
echo
echo 'Buffered K = 12 for 300 steps, digits, seed 1: modelled (virtual clock) and measured (wall clock, shaped links):'
echo
printf '| clock | s to acc 0.90 | s to acc 0.95 | uplink MB to 0.95 | final test acc | s | mean staleness | max staleness |\n'
printf '|---|---|---|---|---|---|---|---|\n'
"$bin/edgefl" run "$root/examples/buffered.toml" --variant buffered-k12 --rounds 300 --out "$out/virtual300" \
  >"$out/virtual300.log" 2>&1
row "virtual" test_accuracy 0.90 0.95 0 "$out"/virtual300/buffered-k12/metrics.csv
row "wall, token-bucket" test_accuracy 0.90 0.95 0 "$out"/wall/buffered-k12/metrics.csv

if [[ -n "${FIGURE:-}" ]]; then
  command -v gnuplot >/dev/null || { echo "FIGURE needs gnuplot" >&2; exit 1; }
  plot_of() {  # plot_of SET COLUMN: one curve a variant, seed 1
    local set="$1" column="$2" first=1
    for v in $variants; do
      local file="$out/$set/1/$v/metrics.csv"
      local n
      n="$(head -1 "$file" | tr ',' '\n' | grep -nx "$column" | cut -d: -f1)"
      [[ $first == 1 ]] || printf ', '
      printf "'%s' using 2:%s with lines lw 2 title '%s'" "$file" "$n" "$v"
      first=0
    done
  }
  gnuplot <<EOF
set terminal ${FIGURE##*.} size 960,400 font "sans,12"
set output "$FIGURE"
set datafile separator ","
set key autotitle columnhead
set multiplot layout 1,2
set title "digits: test accuracy (seed 1)"
set xlabel "modelled seconds"
set xrange [0:30]
set ylabel "test accuracy"
set yrange [0.5:1]
set key bottom right
plot $(plot_of digits test_accuracy)
set title "quadratic, d = 1000: loss (seed 1)"
set ylabel "loss"
set yrange [*:*]
set logscale y
set key top right
plot $(plot_of quadratic loss)
unset multiplot
EOF
fi

#!/usr/bin/env bash
# Measures local training on the node (docs/experiments.md "Local training
# and privacy"): the digits MLP on non-IID shards (examples/digits.toml,
# mlp-noniid-dense: 8 nodes, Dirichlet alpha = 0.3), for E in {1, 5} local
# steps x {sgd, momentum, adam, scaffold} x {identity, qsgd, ef-sign}, each
# with the coordinator's constant step eta = local.lr (FedAvg's server step),
# three seeds each; then DP-FedAvg rows (central and local DP). Prints one
# Markdown table: test accuracy after 25, 50, 100 and 200 rounds (the mean
# over the seeds), the uplink bytes a round, and the uplink bytes until the
# test accuracy first reaches 0.9. About two minutes on two cores.
#
#   bash scripts/local_training_table.sh [build/bin]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/bin}"
out="$(mktemp -d /tmp/edgefl-local.XXXXXX)"
trap 'rm -rf "$out"' EXIT
rounds=200
seeds="1 2 3"

# The local step size of each optimiser: momentum's effective step is
# lr/(1 - beta) = 10 lr; Adam's steps are about lr a coordinate. Momentum
# and Adam keep their moments for the run (local.state = "run"): with one
# step a round, moments reset every round would be plain sgd and sign.
lr_of() {
  case "$1" in
    momentum) echo 0.02 ;;
    adam) echo 0.003 ;;
    *) echo 0.2 ;;
  esac
}

# run NAME ARGS...: one run a seed under $out/NAME/SEED.
run() {
  local name="$1"
  shift
  for seed in $seeds; do
    "$bin/edgefl" run "$root/examples/digits.toml" --variant mlp-noniid-dense --rounds "$rounds" \
      --set run.seed="$seed" "$@" --out "$out/$name/$seed" >"$out/$name.$seed.log" 2>&1 || {
      cat "$out/$name.$seed.log" >&2
      exit 1
    }
  done
}

# row NAME LABEL: the table row of run NAME from its seeds' metrics.csv.
row() {
  local name="$1" label="$2"
  cat "$out/$name"/*/mlp-noniid-dense/metrics.csv | awk -F, -v label="$label" -v seeds=3 '
    $1 == "round" { for (i = 1; i <= NF; i++) col[$i] = i; run++; reached[run] = -1; up[run] = 0; next }
    {
      r = $1 + 1; acc = $col["test_accuracy"]; up[run] += $col["bytes_up"]
      if (r == 25 || r == 50 || r == 100 || r == 200) sum[r] += acc
      if (reached[run] < 0 && acc >= 0.9) reached[run] = up[run]
      if ($col["epsilon"] != "") eps = $col["epsilon"]
      total_up += $col["bytes_up"]; rows++
    }
    END {
      n = 0; mb = 0
      for (s = 1; s <= run; s++) if (reached[s] >= 0) { n++; mb += reached[s] }
      to90 = n == run ? sprintf("%.2f", mb / n / 1e6) : sprintf("%d of %d seeds", n, run)
      printf "| %s | %.3f | %.3f | %.3f | %.3f | %.1f | %s | %s |\n", label, sum[25] / run, sum[50] / run,
             sum[100] / run, sum[200] / run, total_up / rows / 1e3, to90, eps == "" ? "–" : sprintf("%.3g", eps)
    }'
}

printf '| E · optimiser · compressor (local lr) | acc @25 | acc @50 | acc @100 | acc @200 | uplink kB/round | uplink MB to 0.9 | ε |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for compressor in identity qsgd ef-sign; do
  case "$compressor" in
    qsgd) cflags=(--set compressor.kind=qsgd --set compressor.levels=4) ;;
    *) cflags=(--set compressor.kind="$compressor") ;;
  esac
  for optimizer in sgd momentum adam scaffold; do
    for steps in 1 5; do
      lr="$(lr_of "$optimizer")"
      name="$steps-$optimizer-$compressor"
      state=round
      case "$optimizer" in momentum | adam) state=run ;; esac
      run "$name" "${cflags[@]}" --set local.steps="$steps" --set local.optimizer="$optimizer" \
        --set local.lr="$lr" --set step.eta="$lr" --set local.state="$state"
      row "$name" "$steps · $optimizer · $compressor ($lr)"
    done
  done
done

# DP-FedAvg: five sgd steps, updates clipped to C = 1, each node in a round
# with probability 0.75 (central DP's Poisson sampling; at 8 nodes a round
# finds none with probability 1.5e-5), at two noise multipliers; and local
# DP, each node's own noise.
for z in 0.5 1.5; do
  name="dp-central-$z"
  run "$name" --set local.steps=5 --set local.lr=0.2 --set step.eta=0.2 --set round.availability=0.75 \
    --set round.quorum=0.1 --set privacy.mode=central --set privacy.clip_norm=1 --set privacy.noise_multiplier="$z"
  row "$name" "5 · sgd · identity, central DP z = $z (q = 0.75, C = 1)"
done
name="dp-local-0.05"
run "$name" --set local.steps=5 --set local.lr=0.2 --set step.eta=0.2 --set privacy.mode=local \
  --set privacy.clip_norm=1 --set privacy.noise_multiplier=0.05
row "$name" "5 · sgd · identity, local DP z = 0.05 (C = 1)"

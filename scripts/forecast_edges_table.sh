#!/usr/bin/env bash
# The forecast where the papers' interesting things happen, against real
# runs: heavy-tailed noise with signs, the quartic with and without
# compression, near a multiplicative compressor's stability limit. For each
# case, three seeds of `edgefl run` (their tail means: the mean loss over the
# last half of the rounds), and `edgefl predict` twice, with its default
# model (auto: the SDE, or the iteration itself where the SDE fails,
# docs/theory.md 3.7) and with the SDE alone, 128 paths each. Prints a markdown table;
# scripts/validate_predictor.sh puts it into docs/validation.md. About two
# minutes on two cores.
#
#   bash scripts/forecast_edges_table.sh [build/bin]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/bin}"
out="$(mktemp -d /tmp/edgefl-forecast-edges.XXXXXX)"
trap 'rm -rf "$out"' EXIT

# d = 100 (or as set), 4 nodes, sigma = 1, x_0 = 1.
cat >"$out/base.toml" <<'TOML'
[run]
name = "edge"
nodes = 4
rounds = 3000
[objective]
kind = "quadratic"
dimension = 100
spectrum = "linear"
lambda_min = 1.0
lambda_max = 2.0
initial_value = 1.0
[noise]
sigma = 1.0
TOML

sign="--set compressor.kind=sign --set aggregator.kind=sign-mean"
quartic="--set objective.kind=quartic"
iso="--set objective.lambda_min=1 --set objective.lambda_max=1"
# name | what | the sets
cases=(
  "sign-t3|quadratic, sign, Student-t ν = 3, η = 0.01|$sign --set step.eta=0.01 --set noise.kind=student-t --set noise.nu=3"
  "sign-t2|quadratic, sign, Student-t ν = 2, η = 0.01|$sign --set step.eta=0.01 --set noise.kind=student-t --set noise.nu=2"
  "sign-cauchy|quadratic, sign, Cauchy, η = 0.01|$sign --set step.eta=0.01 --set noise.kind=student-t --set noise.nu=1"
  "quartic-sign-cauchy|quartic, sign, Cauchy σ = 2, η = 0.1|$quartic $sign --set step.eta=0.1 --set noise.kind=student-t --set noise.nu=1 --set noise.sigma=2"
  "quartic-sign-cauchy-decay|quartic, sign, Cauchy σ = 2, η = 0.1/√(k+1)|$quartic $sign --set step.eta=0.1 --set step.rule=decay --set step.decay_power=0.5 --set noise.kind=student-t --set noise.nu=1 --set noise.sigma=2"
  "quartic-bernoulli-8|quartic d = 200, bernoulli ω = 8, η = 0.1|$quartic --set objective.dimension=200 --set compressor.kind=bernoulli --set compressor.p=0.1111111111111111 --set step.eta=0.1"
  "quartic-bernoulli-4-σ2|quartic d = 200, bernoulli ω = 4, σ = 2, η = 0.1|$quartic --set objective.dimension=200 --set compressor.kind=bernoulli --set compressor.p=0.2 --set noise.sigma=2 --set step.eta=0.1"
  "quartic-dsgd-σ4|quartic d = 200, identity, σ = 4, η = 0.1|$quartic --set objective.dimension=200 --set noise.sigma=4 --set step.eta=0.1"
  "quartic-affine-8|quartic d = 200, λ = 1, bernoulli ω = 8, affine σ1 = 0.1, η = 0.1|$quartic $iso --set objective.dimension=200 --set noise.kind=affine --set noise.sigma=0 --set noise.sigma1=0.1 --set compressor.kind=bernoulli --set compressor.p=0.1111111111111111 --set step.eta=0.1"
  "limit-bernoulli-16|λ = 1, bernoulli ω = 16, η = 0.36 (90% of the limit)|$iso --set compressor.kind=bernoulli --set compressor.p=0.0588235294117647 --set step.eta=0.36"
  "limit-rand-k-16|λ = 1, rand-k ω = 15.7, η = 0.34 (88% of the limit)|$iso --set compressor.kind=rand-k --set compressor.k=6 --set step.eta=0.34"
)

# The mean of predicted.csv's mean_loss over the last half of the rounds,
# and the fraction of paths diverged by the end.
predicted_tail() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "mean_loss") c = i; if ($i == "diverged") dc = i }; next }
    { v[NR - 1] = $c; d = $dc; n = NR - 1 }
    END { s = 0; for (k = int(n / 2) + 1; k <= n; k++) s += v[k]; printf "%.6g %.4g", s / (n - int(n / 2)), d }' "$1"
}

echo "| case | what | measured, 3 seeds | forecast, 128 paths | forecast / measured − 1 | its model | the SDE alone | SDE / measured − 1 |"
echo "|---|---|---|---|---|---|---|---|"
for c in "${cases[@]}"; do
  IFS='|' read -r name what sets <<<"$c"
  echo "forecast edges: $name" >&2
  tails=()
  verdicts=""
  for seed in 1 2 3; do
    rc=0
    # shellcheck disable=SC2086
    "$bin/edgefl" run "$out/base.toml" --seed "$seed" $sets --out "$out/$name-$seed" >"$out/$name-$seed.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
      cat "$out/$name-$seed.log" >&2
      exit 1
    fi
    if [ "$rc" -eq 3 ]; then
      tails+=(inf)
      verdicts+="d"
    else
      tails+=("$(sed -n 's/^tail_mean_loss = //p' "$out/$name-$seed/edge/summary.toml")")
    fi
  done
  for model in auto sde; do
    # Where auto took the SDE, its forecast is the SDE's.
    if [ "$model" = sde ] && ! grep -q "not the SDE, the iteration itself" "$out/$name-auto.log"; then
      cp -r "$out/$name-auto" "$out/$name-sde"
      cp "$out/$name-auto.log" "$out/$name-sde.log"
      continue
    fi
    # shellcheck disable=SC2086
    "$bin/edgefl" predict "$out/base.toml" $sets --model "$model" --paths 128 --out "$out/$name-$model" \
      >"$out/$name-$model.log" 2>&1 || {
      cat "$out/$name-$model.log" >&2
      exit 1
    }
  done
  read -r auto_tail auto_diverged <<<"$(predicted_tail "$out/$name-auto/edge/predicted.csv")"
  read -r sde_tail sde_diverged <<<"$(predicted_tail "$out/$name-sde/edge/predicted.csv")"
  auto_verdict=$(sed -n 's/^verdict: \([a-z]*\).*/\1/p' "$out/$name-auto.log")
  sde_verdict=$(sed -n 's/^verdict: \([a-z]*\).*/\1/p' "$out/$name-sde.log")
  auto_model="SDE"
  grep -q "not the SDE, the iteration itself" "$out/$name-auto.log" && auto_model="the iteration"
  # A run that diverged has no tail: the settled seeds' mean, and how many
  # diverged against the forecast's fraction of paths.
  awk -v n="$name" -v w="$what" -v t="${tails[*]}" -v dv="$verdicts" -v a="$auto_tail" -v ad="$auto_diverged" \
    -v av="$auto_verdict" -v am="$auto_model" -v s="$sde_tail" -v sd="$sde_diverged" -v sv="$sde_verdict" '
    function forecast(value, diverged, verdict) {
      if (verdict == "diverges") return sprintf("diverges (%.0f%% of paths)", 100 * diverged)
      if (diverged > 0) return sprintf("%.4g, %.0f%% of paths diverge", value, 100 * diverged)
      return sprintf("%.4g", value)
    }
    function error(value, verdict) {
      if (settled == 0 || verdict == "diverges") return "–"
      return sprintf("%+.1f%%", 100 * (value / m - 1))
    }
    BEGIN {
      k = split(t, tail, " "); settled = 0; m = 0
      for (i = 1; i <= k; i++) if (tail[i] != "inf") { v[++settled] = tail[i]; m += tail[i] }
      if (settled > 0) m /= settled
      var = 0; for (i = 1; i <= settled; i++) var += (v[i] - m)^2
      se = (settled > 1) ? sqrt(var / (settled - 1) / settled) : 0
      measured = (settled > 0) ? sprintf("%.4g ± %.2g", m, se) : "–"
      if (dv != "") measured = measured sprintf(" (%d of 3 diverge)", length(dv))
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", n, w, measured, forecast(a, ad, av), error(a, av), am,
             forecast(s, sd, sv), error(s, sv) }'
done

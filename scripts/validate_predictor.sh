#!/usr/bin/env bash
# Validates the SDE predictor against real multi-process runs and writes
# docs/validation.md: for each case, `edgefl run --predict` runs a coordinator
# and N node processes, forecasts the same config, and compares the
# stationary losses (each with its Monte-Carlo error) and the verdicts.
#   Quadratic, Gaussian noise: identity, bernoulli, rand-k, qsgd, natural and
#   sign (sign-mean), omega in {0, 1, 4, 16} where the compressor has it, and
#   N in {1, 4, 16}; then DCSGD either side of its stability limit, and the
#   quartic of docs/theory.md 4.4 (constant step against l0l1); where the
#   SDE fails (scripts/forecast_edges_table.sh); and the biased compressors,
#   which the forecast approximates.
# About eight minutes on two cores.
#
#   bash scripts/validate_predictor.sh [build/bin] [output.md]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/bin}"
doc="${2:-$root/docs/validation.md}"
out="$(mktemp -d /tmp/edgefl-validation.XXXXXX)"
trap 'rm -rf "$out"' EXIT

# The validation quadratic's [run], [objective] and [noise]: d = 100, lambda
# from 1 to 2, sigma = 1, B = 1, x_0 = 1, 4000 rounds. $1: the name; $2: more
# [run] keys.
quadratic() {
  printf '[run]\nname = "%s"\nrounds = 4000\nseed = 1\n%s\n' "$1" "${2:-}"
  cat <<'TOML'
[objective]
kind = "quadratic"
dimension = 100
spectrum = "linear"
lambda_min = 1.0
lambda_max = 2.0
initial_value = 1.0
[noise]
kind = "gaussian"
sigma = 1.0
batch_size = 1
TOML
}

# The quadratic: d = 100, lambda from 1 to 2, sigma = 1, B = 1, x_0 = 1. The
# step is 0.1, less where DCSGD's stability needs it: eta lambda_max
# (1 + omega/N) <= 0.5, a quarter of the limit. Sign takes 0.01.

{
  quadratic validation
  # name, compressor table, omega (for the step)
  cases=(
    "identity|{ kind = \"identity\" }|0"
    "bernoulli-1|{ kind = \"bernoulli\", p = 0.5 }|1"
    "bernoulli-4|{ kind = \"bernoulli\", p = 0.2 }|4"
    "bernoulli-16|{ kind = \"bernoulli\", p = 0.0588235294117647 }|16"
    "rand-k-1|{ kind = \"rand-k\", k = 50 }|1"
    "rand-k-4|{ kind = \"rand-k\", k = 20 }|4"
    "rand-k-16|{ kind = \"rand-k\", k = 6 }|15.67"
    "qsgd-1|{ kind = \"qsgd\", levels = 10 }|1"
    "qsgd-2.5|{ kind = \"qsgd\", levels = 4 }|2.5"
    "qsgd-10|{ kind = \"qsgd\", levels = 1 }|10"
    "natural|{ kind = \"natural\" }|0.125"
  )
  for n in 1 4 16; do
    for c in "${cases[@]}"; do
      IFS='|' read -r name compressor omega <<<"$c"
      eta=$(awk -v w="$omega" -v n="$n" 'BEGIN { e = 0.25 / (1 + w / n); if (e > 0.1) e = 0.1; printf "%.6g", e }')
      printf '[[variant]]\nname = "%s-n%s"\nrun = { nodes = %s }\ncompressor = %s\nstep = { eta = %s }\n' \
        "$name" "$n" "$n" "$compressor" "$eta"
    done
    printf '[[variant]]\nname = "sign-n%s"\nrun = { nodes = %s }\ncompressor = { kind = "sign" }\naggregator = { kind = "sign-mean" }\nstep = { eta = 0.01 }\n' "$n" "$n"
  done
  # Either side of the stability limits, N = 4: identity's eta lambda_max = 2
  # (every path), and bernoulli omega = 4's eta lambda_max (1 + omega/N) = 2
  # (the second moment; docs/validation.md says why paths need not follow).
  for eta in 0.95 1.05; do
    printf '[[variant]]\nname = "limit-identity-eta%s"\nrun = { nodes = 4, rounds = 400 }\ncompressor = { kind = "identity" }\nstep = { eta = %s }\n' \
      "$eta" "$eta"
  done
  for eta in 0.45 0.55; do
    printf '[[variant]]\nname = "limit-bernoulli-eta%s"\nrun = { nodes = 4, rounds = 400 }\ncompressor = { kind = "bernoulli", p = 0.2 }\nstep = { eta = %s }\n' \
      "$eta" "$eta"
  done
} >"$out/quadratic.toml"

# docs/theory.md 4.4's quartic, small: d = 100 from x_0 = 2, omega = 16.
cat >"$out/quartic.toml" <<'TOML'
[run]
name = "quartic"
nodes = 8
rounds = 300
[objective]
kind = "quartic"
dimension = 100
initial_value = 2.0
[noise]
sigma = 0.1
[compressor]
kind = "bernoulli"
p = 0.0588235294
[step]
eta = 0.1
l0 = 1.0
l1 = 3.0
[[variant]]
name = "quartic-constant"
[[variant]]
name = "quartic-l0l1"
step = { rule = "l0l1" }
TOML

# The biased compressors, which the forecast approximates (docs/theory.md 3).
{
  quadratic biased "nodes = 4"
  cat <<'TOML'
[step]
eta = 0.01
[[variant]]
name = "majority-n4"
compressor = { kind = "sign" }
aggregator = { kind = "majority" }
[[variant]]
name = "majority-n16"
run = { nodes = 16 }
compressor = { kind = "sign" }
aggregator = { kind = "majority" }
[[variant]]
name = "scaled-sign-n4"
compressor = { kind = "scaled-sign" }
[[variant]]
name = "ef-sign-n4"
compressor = { kind = "ef-sign" }
step = { eta = 0.05 }
[[variant]]
name = "top-k-n4"
compressor = { kind = "top-k", k = 10 }
step = { eta = 0.05 }
[[variant]]
name = "momentum-n4"
compressor = { kind = "identity" }
server = { optimizer = "momentum", momentum = 0.9 }
[[variant]]
name = "momentum-sign-n4"
compressor = { kind = "sign" }
server = { optimizer = "momentum", momentum = 0.9 }
TOML
} >"$out/biased.toml"

for config in quadratic quartic biased; do
  echo "validate: $config" >&2
  # Exit code 3 (a variant diverged) is part of the result.
  "$bin/edgefl" run "$out/$config.toml" --predict --out "$out/$config" >"$out/$config.log" 2>&1 || [ $? -eq 3 ] || {
    cat "$out/$config.log" >&2
    exit 1
  }
done

# Where the SDE fails (docs/theory.md 3.7), against three seeds each.
echo "validate: forecast edges" >&2
bash "$root/scripts/forecast_edges_table.sh" "$bin" >"$out/edges.md"

# The data objectives: examples/digits.toml as it is (logistic and mlp, IID
# and Dirichlet shards), forecast from the shards' own minibatch noise.
echo "validate: digits" >&2
"$bin/edgefl" run "$root/examples/digits.toml" --predict --paths 8 --out "$out/digits" >"$out/digits.log" 2>&1 || {
  cat "$out/digits.log" >&2
  exit 1
}

value() { { grep "^$2 = " "$1" || true; } | head -n1 | sed -e "s/^$2 = //" -e "s/[\"']//g"; }

table() {
  echo "| case | compressor | ω | N | η | measured | predicted | predicted / measured − 1 | verdict: run, forecast |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for dir in "$@"; do
    local name agreement summary config omega
    name="$(basename "$dir")"
    agreement="$dir/agreement.toml"
    summary="$dir/summary.toml"
    config="$dir/config.toml"
    omega="$(value "$summary" omega)"
    [ -z "$omega" ] && omega="–"
    awk -v name="$name" -v kind="$(sed -n '/^\[compressor\]/,/^\[/s/^kind = //p' "$config" | tr -d "\"'")" \
      -v omega="$omega" -v nodes="$(value "$config" nodes)" -v eta="$(sed -n '/^\[step\]/,/^\[/s/^eta = //p' "$config")" \
      -v mv="$(value "$agreement" measured_verdict)" -v pv="$(value "$agreement" predicted_verdict)" \
      -v m="$(value "$agreement" measured_stationary_loss)" -v me="$(value "$agreement" measured_stationary_error)" \
      -v p="$(value "$agreement" predicted_stationary_loss)" -v pe="$(value "$agreement" predicted_stationary_error)" \
      -v r="$(value "$agreement" relative_error)" -v rs="$(value "$agreement" relative_error_sigma)" 'BEGIN {
        if (omega != "–") omega = sprintf("%.3g", omega)
        if (mv == "diverges" || pv == "diverges") {
          printf "| %s | %s | %s | %s | %.3g | – | – | – | %s, %s |\n", name, kind, omega, nodes, eta, mv, pv
        } else {
          printf "| %s | %s | %s | %s | %.3g | %.4g ± %.2g | %.4g ± %.2g | %+.1f%% ± %.1f%% | %s, %s |\n", name, kind,
                 omega, nodes, eta, m, me, p, pe, 100 * r, 100 * rs, mv, pv
        }
      }'
  done
}

variants() { grep -A1 '^\[\[variant\]\]' "$out/$1.toml" | sed -n "s/^name = \"\(.*\)\"/$1\/\1/p" | sed "s|^|$out/|"; }

# The section scripts/forecast_vs_shaped.sh keeps at the end of the page stays.
kept="$out/kept.md"
if [ -f "$doc" ]; then awk '/^## Time and cohorts against shaped runs/ { keep = 1 } keep' "$doc" >"$kept"; fi

{
  cat <<'EOF_DOC'
# Validation of the SDE predictor against real runs

`bash scripts/validate_predictor.sh` regenerates this page (about eight minutes on two cores), but for its last
section, "Time and cohorts against shaped runs", which `bash scripts/forecast_vs_shaped.sh` regenerates. Each case
is `edgefl run --predict`: a coordinator and N node processes over loopback TCP, then the forecast of the same
config (`edgefl predict`'s defaults: 256 paths, the curvature-corrected drift of docs/theory.md 3.4, automatic
substeps, and the iteration itself where 3.7 says the SDE fails: the quartic rows below).

- **Stationary loss**: the mean loss over the last half of the rounds (2000 of 4000). Measured ± the standard error
  of 10 batch means of that half; predicted ± the spread of the paths' own tail means over √256. The relative error's
  ± combines both.
- **Verdict**: `converges` (tail below half the first round's loss), `stalls`, or `diverges` (the run's divergence
  test fired), by the same rule for the run and the forecast (`sim/agreement.h`).
- **The quadratic**: d = 100, λ spread linearly over [1, 2], Gaussian noise σ = 1, B = 1, x₀ = 1, seed 1. The step
  is 0.1, or less where DCSGD's stability needs it (η λ_max (1 + ω/N) ≤ 1/2); sign takes η = 0.01 with the mean of
  signs. ω is the compressor's bound (docs/theory.md 3.2); for qsgd and natural the forecast uses their exact
  covariance, far below ω‖v‖².
- **The stability limits**, N = 4, 400 rounds. Identity: every path diverges once η λ_max > 2, η > 1. Bernoulli
  ω = 4: the second moment E x² grows without bound once η λ_max (1 + ω/N) > 2, η > 0.5 (docs/theory.md 3.5), but
  a path need not: the noise is multiplicative, the loss heavy-tailed, and a single path (a run) almost surely decays
  while the mean over paths explodes. The run's divergence test and the forecast's (most paths past it) are both
  about paths, so both call η = 0.55 a stall; the mean over paths, and the stationary figures, are then dominated
  by rare paths and are not comparable.
- **The quartic** of docs/theory.md 4.4, small (d = 100 from x₀ = 2, ω = 16, N = 8): the constant step against
  the (L0,L1)-aware step.

## Stationary loss, quadratic
EOF_DOC
  echo
  table $(variants quadratic | grep -v '/limit-')
  echo
  echo "## Verdicts: the stability limit and the quartic"
  echo
  table $(variants quadratic | grep '/limit-') $(variants quartic)
  echo
  echo "## Where the SDE fails: heavy tails, the quartic, the stability limit"
  echo
  echo "\`bash scripts/forecast_edges_table.sh\` (this page's script calls it): each case run with three seeds (the"
  echo "mean of their tail means ± its standard error over the seeds; one seed's error bar understates the spread"
  echo "where the loss is heavy-tailed), against \`edgefl predict\` with its default model (auto: the SDE, or where"
  echo "docs/theory.md 3.7 says it fails the iteration itself, drawn from each round's sufficient statistics; 128"
  echo "paths) and with the SDE alone (\`--model sde\`). 4 nodes, x₀ = 1, 3000 rounds; the quadratic's λ from 1 to 2"
  echo "unless λ = 1. Sign with Student-t noise takes the noise's own CDF at its scale σ (ν ≤ 2 has no variance,"
  echo "and the signs do not need one); the quartic's curvature and a multiplicative compressor near its limit are"
  echo "where a Gaussian increment of the right variance is not the iteration's kick."
  echo
  cat "$out/edges.md"
  echo
  echo "## Data objectives"
  echo
  echo "examples/digits.toml as it is (8 nodes, 300 rounds; softmax regression and a 32-unit MLP on the 8x8 digits,"
  echo "IID shards or Dirichlet(0.3) ones), forecast from the shards' own minibatch noise (8 paths): the mean loss over"
  echo "the last half of the rounds, which is still falling, so this compares the curves more than a floor."
  echo
  table $(grep -A1 '^\[\[variant\]\]' "$root/examples/digits.toml" | sed -n "s/^name = \"\(.*\)\"/\1/p" | sed "s|^|$out/digits/|")
  echo
  echo "## The biased compressors (approximate models) and server momentum"
  echo
  echo "The same quadratic with N = 4 (and 16 for the vote), 4000 rounds. The forecast approximates these (its output"
  echo "says how): the majority vote by the vote's exact mean and variance per coordinate; scaled-sign by the mean of"
  echo "signs times ‖g‖₁/d, the scale taken independent of each sign; ef-sign and top-k (error feedback) by DSGD's SDE"
  echo "for the virtual iterate x − ηe, ignoring that gradients are taken at x. That last one is the loosest: top-k"
  echo "with k = 10 of 100 keeps a large error, and its gradient offset is what the model leaves out. The last two"
  echo "rows run the server's heavy-ball momentum (beta = 0.9, eta = 0.01), which the forecast carries as a second"
  echo "state beside x."
  echo
  table $(variants biased)
  echo
  echo "Measured on $(nproc) cores, $(date -u +%Y-%m-%d)."
  if [ -s "$kept" ]; then
    echo
    cat "$kept"
  fi
} >"$doc"
echo "validate: wrote $doc" >&2

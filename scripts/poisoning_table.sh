#!/usr/bin/env bash
# Measures the poisoning-robust aggregators and defences on real processes
# (docs/experiments.md): examples/poisoning.toml (quadratic, d = 100, N = 10,
# every aggregator and defence as a variant) with no hostile node, with one,
# two (20%) and three (30%), for the attacks of edgefl-node --attack (a
# testing aid, node/attack.h). Prints three Markdown tables: the final loss
# and the mean loss over the last half of the rounds, one row per scenario
# and one column per variant, and for each attacked scenario the setting
# (other than the plain mean) whose tail mean loss is the smallest multiple
# of its own clean one. About three minutes on two cores.
#
#   bash scripts/poisoning_table.sh [build/bin]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/bin}"
config="$root/examples/poisoning.toml"
out="$(mktemp -d /tmp/edgefl-poisoning.XXXXXX)"
trap 'rm -rf "$out"' EXIT

value() { grep "^$2 = " "$1" | head -n1 | sed -e "s/^$2 = //" -e "s/'//g"; }
variants=$(grep -A1 '^\[\[variant\]\]' "$config" | sed -n 's/^name = "\(.*\)"/\1/p')

scenarios=("clean")
for attack in sign-flip scale:100 constant:100 constant:1e12; do scenarios+=("1 $attack"); done
for attack in sign-flip scale:100 constant:100 constant:1e12 alie:1 max-norm:30; do scenarios+=("2 $attack"); done
# 30%: beyond what f = 2 and trim = 0.2 are set for.
for attack in sign-flip alie:1 max-norm:30; do scenarios+=("3 $attack"); done

for i in "${!scenarios[@]}"; do
  scenario="${scenarios[$i]}"
  args=()
  [ "$scenario" != "clean" ] && args=(--hostile "${scenario%% *}" --attack "${scenario#* }")
  # Exit code 3 (a variant diverged) is part of the result.
  "$bin/edgefl" run "$config" --out "$out/$i" "${args[@]}" >"$out/$i.log" 2>&1 || [ $? -eq 3 ] || {
    cat "$out/$i.log" >&2
    exit 1
  }
done

# One table of summary.toml's `key` for every scenario and variant; a run
# that diverged shows the loss it stopped at, marked †.
table() {
  local key="$1"
  printf '| hostile nodes | attack |'
  for v in $variants; do printf ' %s |' "$v"; done
  printf '\n|---|---|'
  for v in $variants; do printf -- '---|'; done
  printf '\n'
  for i in "${!scenarios[@]}"; do
    scenario="${scenarios[$i]}"
    if [ "$scenario" = "clean" ]; then printf '| 0 | – |'; else printf '| %s | %s |' "${scenario%% *}" "${scenario#* }"; fi
    for v in $variants; do
      summary="$out/$i/$v/summary.toml"
      mark=""
      [ "$(value "$summary" diverged_at)" != "-1" ] && mark=" †"
      printf ' %.3g%s |' "$(value "$summary" "$key")" "$mark"
    done
    printf '\n'
  done
}

echo "Final loss:"
echo
table final_loss
echo
echo "Mean loss over the last half of the rounds:"
echo
table tail_mean_loss

# For every attacked scenario, the setting (a variant other than the plain
# mean) with the smallest tail mean loss, over all and among those that send
# dense updates (compressor "identity"), each with its ratio to its own
# clean run's tail mean loss.
compressor() { awk '/^\[compressor\]/ { c = 1; next } /^\[/ { c = 0 } c && /^kind = / { gsub(/["\047 ]/, "", $3); print $3 }' "$1"; }
best() {
  echo '| hostile nodes | attack | best setting | tail mean loss | ratio to its clean | best on dense updates | tail mean loss | ratio to its clean |'
  echo '|---|---|---|---|---|---|---|---|'
  for i in "${!scenarios[@]}"; do
    scenario="${scenarios[$i]}"
    [ "$scenario" = "clean" ] && continue
    for v in $variants; do
      [ "$v" = "mean" ] && continue
      echo "$v $(value "$out/$i/$v/summary.toml" tail_mean_loss) $(value "$out/0/$v/summary.toml" tail_mean_loss)" \
        "$(compressor "$out/$i/$v/config.toml")"
    done | awk -v h="${scenario%% *}" -v a="${scenario#* }" '
      { if (NR == 1 || $2 < t) { t = $2; v = $1; r = $2 / $3 }
        if ($4 == "identity" && (dv == "" || $2 < dt)) { dt = $2; dv = $1; dr = $2 / $3 } }
      END { printf "| %s | %s | %s | %.3g | %.2f | %s | %.3g | %.2f |\n", h, a, v, t, r, dv, dt, dr }'
  done
}

echo
echo "Best setting per attack (the smallest tail mean loss; its ratio to the same setting's clean run):"
echo
best

#!/usr/bin/env bash
# Measures the poisoning-robust aggregators on real processes
# (docs/experiments.md): examples/poisoning.toml (quadratic, d = 100, N = 10,
# every aggregator as a variant) with no hostile node, with one and with two
# (20%), for each attack of edgefl-node --attack (a testing aid,
# node/attack.h). Prints two Markdown tables, the final loss and the mean
# loss over the last half of the rounds, one row per scenario and one column
# per variant. About two minutes on two cores.
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
for hostile in 1 2; do
  for attack in sign-flip scale:100 constant:100 constant:1e12; do scenarios+=("$hostile $attack"); done
done

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

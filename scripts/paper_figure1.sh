#!/usr/bin/env bash
# Runs the two experiments of docs/theory.md 4.4 (after P2's Figure 1) as real
# processes, examples/l0l1_dcsgd.toml and examples/signsgd_cauchy.toml, and
# prints the Markdown table of docs/experiments.md: for each variant, how it
# ended, the round it diverged in, and the loss at the start, at the end and
# averaged over the last half of the rounds. About a minute on two cores.
#
#   bash scripts/paper_figure1.sh [build/bin]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$root/build/bin}"
out="$(mktemp -d /tmp/edgefl-figure1.XXXXXX)"
trap 'rm -rf "$out"' EXIT

value() { grep "^$2 = " "$1" | head -n1 | sed -e "s/^$2 = //" -e "s/'//g"; }

echo "| experiment | variant | outcome | diverged in round | initial loss | final loss | tail mean loss |"
echo "|---|---|---|---|---|---|---|"
for config in l0l1_dcsgd signsgd_cauchy; do
  # Exit code 3 (a variant diverged) is part of the result.
  "$bin/edgefl" run "$root/examples/$config.toml" --out "$out/$config" >"$out/$config.log" 2>&1 || [ $? -eq 3 ] || {
    cat "$out/$config.log" >&2
    exit 1
  }
  # The variants in the config's order.
  for variant in $(grep -A1 '^\[\[variant\]\]' "$root/examples/$config.toml" | sed -n 's/^name = "\(.*\)"/\1/p'); do
    summary="$out/$config/$variant/summary.toml"
    diverged="$(value "$summary" diverged_at)"
    [ "$diverged" = "-1" ] && diverged="–"
    printf '| %s | %s | %s | %s | %.4g | %.4g | %.4g |\n' "$config" "$variant" "$(value "$summary" stop_reason)" \
      "$diverged" "$(value "$summary" initial_loss)" "$(value "$summary" final_loss)" \
      "$(value "$summary" tail_mean_loss)"
  done
done

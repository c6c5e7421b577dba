#!/usr/bin/env bash
# One experiment across architectures on this host: the native (x86-64)
# edgefl-coordinator, NATIVE native edgefl-node processes and EMULATED
# aarch64 edgefl-node processes under qemu-aarch64, over TCP on 127.0.0.1.
# It shows that a cross-built node speaks the same protocol as the host build.
#
#   scripts/mixed_run.sh                       # 1 native + 1 emulated node, 300 rounds
#   NATIVE=0 EMULATED=1 ROUNDS=100 scripts/mixed_run.sh
#   scripts/mixed_run.sh --set objective.dimension=100000   # arguments go to the coordinator
#
# Environment (defaults in brackets):
#   HOST_BUILD [build]        host build with bin/edgefl-coordinator, bin/edgefl-node
#   CROSS_BUILD [build-aarch64] aarch64 build with bin/edgefl-node (scripts/test_cross.sh)
#   CONFIG [examples/quickstart.toml]  VARIANT [dsgd]  ROUNDS [300]
#   NATIVE [1] EMULATED [1]   node counts; ids: native first, then emulated
#   OUT [a new temporary folder]  where the run folder and logs go
#   COMPARE_NATIVE [0]        1: run the same experiment again with native nodes
#                             only, and fail unless both give the same model
#                             hash (the same bits on every host)
# Prints the summary and the rounds per second; exits with the coordinator's
# status (non-zero also when a node fails, or the hashes differ). Every
# process it started is stopped on exit, also on Ctrl-C.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
host_build="${HOST_BUILD:-$root/build}"
cross_build="${CROSS_BUILD:-$root/build-aarch64}"
config="${CONFIG:-$root/examples/quickstart.toml}"
variant="${VARIANT:-dsgd}"
rounds="${ROUNDS:-300}"
native="${NATIVE:-1}"
emulated="${EMULATED:-1}"
out="${OUT:-$(mktemp -d /tmp/edgefl-mixed.XXXXXX)}"
nodes=$((native + emulated))

coordinator="$host_build/bin/edgefl-coordinator"
native_node="$host_build/bin/edgefl-node"
cross_node="$cross_build/bin/edgefl-node"
for f in "$coordinator" "$native_node"; do
  [ -x "$f" ] || { echo "mixed_run: $f missing; build the host tree first (HOST_BUILD=...)" >&2; exit 2; }
done
if [ "$emulated" -gt 0 ]; then
  [ -x "$cross_node" ] || { echo "mixed_run: $cross_node missing; run scripts/test_cross.sh" >&2; exit 2; }
  command -v qemu-aarch64 >/dev/null || { echo "mixed_run: qemu-aarch64 missing; run scripts/setup_cross.sh" >&2; exit 2; }
fi
[ "$nodes" -gt 0 ] || { echo "mixed_run: NATIVE + EMULATED must be at least 1" >&2; exit 2; }

pids=()
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$out"
echo "mixed_run: $nodes nodes ($native native, $emulated aarch64 under qemu), $rounds rounds, output in $out"
"$coordinator" --config "$config" --variant "$variant" \
  --set "run.nodes=$nodes" --set "run.rounds=$rounds" \
  --bind 'tcp://127.0.0.1:*' --out "$out/run" --ready-fd 3 "$@" \
  3>"$out/endpoint" >"$out/coordinator.log" 2>&1 &
coordinator_pid=$!
pids+=("$coordinator_pid")

endpoint=""
for _ in $(seq 100); do
  endpoint="$(head -n1 "$out/endpoint" 2>/dev/null || true)"
  [ -n "$endpoint" ] && break
  kill -0 "$coordinator_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$endpoint" ]; then
  echo "mixed_run: the coordinator did not report its endpoint:" >&2
  cat "$out/coordinator.log" >&2
  exit 1
fi
echo "mixed_run: coordinator on $endpoint"

node_pids=()
for ((id = 0; id < nodes; ++id)); do
  if [ "$id" -lt "$native" ]; then
    "$native_node" --connect "$endpoint" --id "$id" >"$out/node$id.log" 2>&1 &
  else
    qemu-aarch64 "$cross_node" --connect "$endpoint" --id "$id" >"$out/node$id.log" 2>&1 &
  fi
  pids+=("$!")
  node_pids+=("$!")
done

status=0
wait "$coordinator_pid" || status=$?
for ((id = 0; id < nodes; ++id)); do
  node_status=0
  wait "${node_pids[$id]}" || node_status=$?
  kind=native
  [ "$id" -ge "$native" ] && kind="aarch64/qemu"
  echo "mixed_run: node $id ($kind) exit $node_status"
  if [ "$node_status" -ne 0 ]; then
    tail -n 5 "$out/node$id.log" >&2
    [ "$status" -ne 0 ] || status=1
  fi
done
pids=()

if [ "$status" -ne 0 ]; then
  echo "mixed_run: coordinator exit $status" >&2
  tail -n 20 "$out/coordinator.log" >&2
fi
if [ -f "$out/run/summary.toml" ]; then
  grep -E '^(rounds|final_loss|initial_loss|stop_reason|model_hash|wall_time_s|rejected) ' "$out/run/summary.toml"
  # Rounds per second between the first and the last completed round (the
  # first round's time includes joining, and qemu's start-up).
  awk -F, 'NR == 2 { r0 = $1; t0 = $2 } NR > 2 { r = $1; t = $2 }
           END { if (t > t0) printf "rounds_per_second = %.1f (rounds %d..%d)\n", (r - r0) / (t - t0), r0, r }' \
    "$out/run/metrics.csv"
fi
if [ "$status" -eq 0 ] && [ "${COMPARE_NATIVE:-0}" = 1 ] && [ "$emulated" -gt 0 ]; then
  echo "mixed_run: the same run with $nodes native nodes, to compare the model"
  NATIVE="$nodes" EMULATED=0 COMPARE_NATIVE=0 OUT="$out/native" bash "$0" "$@" >"$out/native.log" 2>&1 || {
    cat "$out/native.log" >&2
    exit 1
  }
  mixed_hash="$(grep '^model_hash' "$out/run/summary.toml")"
  native_hash="$(grep '^model_hash' "$out/native/run/summary.toml")"
  if [ "$mixed_hash" != "$native_hash" ]; then
    echo "mixed_run: FAILED: aarch64 nodes gave another model ($mixed_hash) than native ones ($native_hash)" >&2
    exit 1
  fi
  echo "mixed_run: the same model bit for bit with native nodes only ($native_hash)"
fi
exit "$status"

#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang and AddressSanitizer in
# build-fuzz/, then runs each for FUZZ_SECONDS (default 30) from the seeds in
# fuzz/corpus/. Fails on any crash, sanitizer report, leak or hang, and keeps
# the input that caused it in build-fuzz/findings/ (replay it with
# build-fuzz/bin/edgefl-fuzz-<target> FILE).
#   FUZZ_SECONDS=300 bash scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-30}"
# FUZZ_DEBUG_FLAGS: the debug information (default -g; -gline-tables-only
# keeps the files and lines of a sanitizer's report and compiles faster).
debug="${FUZZ_DEBUG_FLAGS:--g}"
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEFL_FUZZ=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 $debug -DNDEBUG" \
  -DEDGEFL_BUILD_TESTS=OFF -DEDGEFL_BUILD_BENCH=OFF -DEDGEFL_STATIC_NODE=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target edgefl-fuzz-wire edgefl-fuzz-handler
mkdir -p build-fuzz/findings
for target in wire handler; do
  # New inputs go to a scratch corpus; the seeds in the repository stay as they are.
  scratch="build-fuzz/corpus-$target"
  rm -rf "$scratch"
  mkdir -p "$scratch"
  echo "fuzz: edgefl-fuzz-$target for ${seconds} s"
  log="build-fuzz/fuzz-$target.log"
  rc=0
  "build-fuzz/bin/edgefl-fuzz-$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/findings/$target-" "$scratch" "fuzz/corpus/$target" \
    >"$log" 2>&1 || rc=$?
  grep -E "INITED|DONE|stat::number_of_executed_units|stat::peak_rss_mb" "$log" || true
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz: edgefl-fuzz-$target FAILED (exit $rc); its input is in build-fuzz/findings/" >&2
    exit 1
  fi
done
echo "fuzz: no crash"

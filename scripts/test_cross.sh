#!/usr/bin/env bash
# Cross-builds edgefl with its tests for an ARM board and runs the suite on
# this x86-64 host under qemu-user (ctest prepends the toolchain's
# CMAKE_CROSSCOMPILING_EMULATOR to every test executable).
#
#   scripts/test_cross.sh                 # aarch64, into build-aarch64
#   scripts/test_cross.sh armhf           # 32-bit ARMv7, into build-armhf
#   scripts/test_cross.sh aarch64 -R node # extra arguments go to ctest
#   EDGEFL_JOBS=1 scripts/test_cross.sh   # build and test parallelism
#   EDGEFL_CROSS_TARGETS="node_test" ...  # build only these targets
#   EDGEFL_CROSS_FLAGS="-O2 -DNDEBUG" ... # the build's flags (default: -O2 -g -DNDEBUG)
#
# Tests that exec sibling programs (the integration tests) are not built in
# cross builds: the kernel cannot exec an ARM binary without binfmt_misc.
# armhf: only edgefl-node builds for 32-bit ARM (the coordinator's exact sum
# needs __int128), so this script stops at the coordinator there; see
# docs/deploy.md for a node-only armhf build.
set -euo pipefail
cd "$(dirname "$0")/.."

target=aarch64
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
  target="$1"
  shift
fi
case "$target" in
  aarch64 | arm64) target=aarch64 triplet=aarch64-linux-gnu ;;
  armhf | arm) target=armhf triplet=arm-linux-gnueabihf ;;
  *)
    echo "usage: $0 [aarch64|armhf] [ctest arguments...]" >&2
    exit 2
    ;;
esac
jobs="${EDGEFL_JOBS:-$(nproc)}"
build="build-${target}"

bash scripts/setup_cross.sh "$target"
cmake -S . -B "$build" \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/${triplet}.cmake" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo ${EDGEFL_CROSS_FLAGS:+-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$EDGEFL_CROSS_FLAGS"} \
  -DEDGEFL_BUILD_TESTS=ON -DEDGEFL_BUILD_BENCH=OFF -DEDGEFL_WERROR=OFF
# EDGEFL_CROSS_TARGETS limits the build to some targets (CI builds only the
# node's and coordinator's unit tests).
# shellcheck disable=SC2086
cmake --build "$build" -j"$jobs" ${EDGEFL_CROSS_TARGETS:+--target $EDGEFL_CROSS_TARGETS}
file "$build/bin/edgefl-node" 2>/dev/null || true
# EDGEFL_CROSS_BUILD_ONLY=1 stops here (the caller runs ctest itself).
if [ -n "${EDGEFL_CROSS_BUILD_ONLY:-}" ]; then exit 0; fi
ctest --test-dir "$build" --output-on-failure -j"$jobs" "$@"

#!/usr/bin/env bash
# Installs the dependencies, builds edgefl with its tests, and runs the whole
# suite through ctest. The node's and the coordinator's unit tests are also
# cross-built for aarch64 and run under qemu-user (the codec's bit-exact
# encodings, the node's and the aggregators' zero allocation and the exact
# sum's NEON kernels, on the boards' architecture), after mixed runs (the
# x86 coordinator with a native and an emulated aarch64 node) and a test of
# the arm64 and amd64 edgefl-node packages. Last, the fuzzers run for a
# bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
bash scripts/setup.sh
# The suite's builds leave out debug information (-g costs a third of the
# compile time here); a build to debug in is `cmake -B build` with the defaults.
no_debug_info="-O2 -DNDEBUG"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$no_debug_info" \
  -DEDGEFL_WERROR=ON
cmake --build build-test -j"$jobs"

cross_tests="schemas_test maths_test node_test node_allocation_test coordinator_test coordinator_allocation_test strategy_test
  runfiles_test"
cross=0
if bash scripts/setup_cross.sh aarch64; then
  cross=1
  EDGEFL_CROSS_TARGETS="$cross_tests edgefl-node" EDGEFL_CROSS_BUILD_ONLY=1 EDGEFL_CROSS_FLAGS="$no_debug_info" \
    bash scripts/test_cross.sh aarch64
  # Each twice: with an aarch64 node under qemu, then with native nodes only;
  # the models must match bit for bit (gaussian, student-t and affine noise,
  # the quartic and the cosh, the classifier).
  HOST_BUILD=build-test CROSS_BUILD=build-aarch64 ROUNDS=50 COMPARE_NATIVE=1 bash scripts/mixed_run.sh
  HOST_BUILD=build-test CROSS_BUILD=build-aarch64 ROUNDS=50 COMPARE_NATIVE=1 bash scripts/mixed_run.sh \
    --set noise.kind=student-t --set noise.nu=1.5 --set objective.kind=quartic --set step.eta=0.01
  HOST_BUILD=build-test CROSS_BUILD=build-aarch64 ROUNDS=30 COMPARE_NATIVE=1 bash scripts/mixed_run.sh \
    --set noise.kind=affine --set noise.sigma1=0.01 --set objective.kind=cosh --set objective.cosh_scale=1.5 \
    --set step.eta=0.01
  HOST_BUILD=build-test CROSS_BUILD=build-aarch64 ROUNDS=20 COMPARE_NATIVE=1 CONFIG=examples/digits.toml \
    VARIANT=mlp-noniid-dense bash scripts/mixed_run.sh
  # The edgefl-node packages of the aarch64 and the host build: each installed
  # with dpkg into a fresh root, and its node (the arm64 one under qemu) run by
  # its systemd unit's command line against the host coordinator.
  HOST_BUILD=build-test bash scripts/package_test.sh build-aarch64 build-test
else
  # Only an apt failure (a mirror mid-sync, no arm64 packages) lands here;
  # a build or test failure under qemu still fails the suite.
  echo "test: the aarch64 tests will NOT run: the cross toolchain could not be installed (see above)"
fi

if [ "$cross" -eq 1 ]; then
  ctest --test-dir build-aarch64 --output-on-failure -j"$jobs" -R "^(${cross_tests// /|})\$"
fi
ctest --test-dir build-test --output-on-failure -j"$jobs" "$@"
# The decoders and the coordinator's message handling under libFuzzer, a
# bounded time each (scripts/fuzz.sh: clang, AddressSanitizer).
FUZZ_SECONDS="${FUZZ_SECONDS:-20}" FUZZ_DEBUG_FLAGS="-gline-tables-only" bash scripts/fuzz.sh

#!/usr/bin/env bash
# Installs the dependencies, builds edgefl, and runs the built-in quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEDGEFL_BUILD_BENCH=OFF -DEDGEFL_BUILD_TESTS=OFF
cmake --build build -j"$(nproc)"
./build/bin/edgefl run "$@"

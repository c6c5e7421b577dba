#!/usr/bin/env bash
# Builds the edgefl-node Debian package (packaging/): the static node, its
# systemd unit, /etc/default/edgefl-node and the key folder /etc/edgefl.
#
#   scripts/package.sh arm64    # build-pkg-arm64/edgefl-node_<version>_arm64.deb: 64-bit boards
#   scripts/package.sh armhf    # build-pkg-armhf/..._armhf.deb: 32-bit Raspberry Pi OS (ARMv7)
#   scripts/package.sh amd64    # build-pkg-amd64/..._amd64.deb: this host
#
# Installs what it needs first (scripts/setup_cross.sh, or scripts/setup.sh),
# then makes a Release build of edgefl-node alone in build-pkg-<arch> (no
# tests, no coordinator) and runs cpack there. EDGEFL_JOBS sets the build's
# parallelism. scripts/package_test.sh installs a package into a fresh root
# and runs its node.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  arm64 | aarch64) arch=arm64 toolchain=aarch64-linux-gnu setup=(scripts/setup_cross.sh aarch64) ;;
  armhf | arm) arch=armhf toolchain=arm-linux-gnueabihf setup=(scripts/setup_cross.sh armhf) ;;
  amd64 | x86_64) arch=amd64 toolchain="" setup=(scripts/setup.sh) ;;
  *)
    echo "usage: $0 arm64|armhf|amd64" >&2
    exit 2
    ;;
esac
if [ -z "$toolchain" ] && [ "$(dpkg --print-architecture)" != amd64 ]; then
  echo "package: amd64 packages are built on an amd64 host" >&2
  exit 2
fi
build="build-pkg-${arch}"

bash "${setup[@]}"
cmake -S . -B "$build" ${toolchain:+-DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/${toolchain}.cmake"} \
  -DCMAKE_BUILD_TYPE=Release -DEDGEFL_BUILD_TESTS=OFF -DEDGEFL_BUILD_BENCH=OFF
cmake --build "$build" -j"${EDGEFL_JOBS:-$(nproc)}" --target edgefl-node
(cd "$build" && cpack -G DEB)
ls -l "$build"/edgefl-node_*_"${arch}".deb

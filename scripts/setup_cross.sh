#!/usr/bin/env bash
# Installs what cross-building edgefl for a board needs on a Debian 12 host,
# and what running the result under qemu-user needs, with apt.
#
#   scripts/setup_cross.sh            # aarch64 (Raspberry Pi 3/4/5, 64-bit OS)
#   scripts/setup_cross.sh armhf      # 32-bit ARMv7 hard-float (see docs/deploy.md)
#
# Idempotent: the foreign architecture is added only if absent, packages
# already present are skipped, and apt is not touched at all when nothing is
# missing. Run as root (or with sudo available).
#
# What comes from where:
#   host (amd64):  the cross compiler, qemu-user (the emulator is invoked
#                  explicitly by ctest, binfmt_misc is not needed), cmake,
#                  pkg-config, flatc, and the header-only libraries, which are
#                  used from the host's /usr/include: Eigen, doctest and CLI11
#                  are Architecture: all; cppzmq, the FlatBuffers headers and
#                  toml++ (used header-only) ship identical headers for every
#                  architecture. scripts/setup.sh installs these.
#   target (:arm64 or :armhf): libzmq3-dev, the only library edgefl links
#                  (libzmq.so, its pkg-config file and its dependencies),
#                  plus libc6 and libstdc++6, which qemu loads from
#                  /usr/lib/<triplet> so that no -L is needed.
# libzmq3-dev and its dependencies are Multi-Arch: same, so the :arm64 copy
# installs next to the host's; apt may upgrade a few host packages (e.g.
# GnuTLS) so that both architectures carry the same version, as Multi-Arch:
# same requires.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-aarch64}"
case "$target" in
  aarch64 | arm64) arch=arm64 triplet=aarch64-linux-gnu ;;
  armhf | arm) arch=armhf triplet=arm-linux-gnueabihf ;;
  *)
    echo "usage: $0 [aarch64|armhf]" >&2
    exit 2
    ;;
esac

# Host tools and header-only libraries: the native setup (itself idempotent).
bash scripts/setup.sh

packages=(
  "g++-${triplet}"
  qemu-user
  # systemd-analyze checks the package's unit (scripts/package_test.sh)
  systemd
  "libc6:${arch}" "libstdc++6:${arch}"
  "libzmq3-dev:${arch}" "libsodium-dev:${arch}"
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

add_arch=0
if [ "$(dpkg --print-architecture)" != "$arch" ] &&
  ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
  add_arch=1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "$add_arch" -eq 0 ] && [ ${#missing[@]} -eq 0 ]; then
  echo "setup_cross: ${arch} architecture and all ${#packages[@]} cross packages present"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if [ "$add_arch" -eq 1 ]; then
  echo "setup_cross: adding architecture ${arch}"
  "${sudo_cmd[@]}" dpkg --add-architecture "$arch"
fi
echo "setup_cross: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
# --no-install-recommends keeps qemu-user-binfmt out: ctest runs test binaries
# through CMAKE_CROSSCOMPILING_EMULATOR, and in containers binfmt_misc is
# usually not mountable anyway.
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

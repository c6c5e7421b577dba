# Cross-build edgefl for boards running a 32-bit ARMv7 hard-float OS (Debian
# armhf, or 32-bit Raspberry Pi OS on a Pi 2/3/4) on a Debian 12 x86-64 host,
# using Debian's multiarch packages. Debian armhf code is ARMv7 + VFPv3-D16
# + Thumb-2: it does not run on ARMv6 boards (Pi 1, Pi Zero/Zero W).
# Only edgefl-node builds for 32-bit ARM: the coordinator's exact sum uses
# __int128, which GCC lacks there (cmake --build build-armhf --target edgefl-node).
# Less tested than the aarch64 file: the node is linked with it (dynamically:
# Debian's armhf glibc has no rcrt1.o for a static PIE), packaged and run
# under qemu-arm (scripts/package.sh armhf, scripts/package_test.sh), but
# its unit tests are not run.
#
#   scripts/setup_cross.sh armhf    # g++-arm-linux-gnueabihf, qemu-user, libzmq3-dev:armhf
#   cmake -S . -B build-armhf \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake
#   cmake --build build-armhf --target edgefl-node
#
# There is no separate sysroot: target libraries live in
# /usr/lib/arm-linux-gnueabihf (the :armhf packages), headers in /usr/include
# (shared by every architecture; the cross compiler searches
# /usr/include/arm-linux-gnueabihf then /usr/include). Header-only libraries
# (Eigen, cppzmq, FlatBuffers, doctest, CLI11, toml++) are the host's.
# Programs that run at build time (flatc, pkg-config) are the host's.
# ctest runs every test binary through qemu-arm (no binfmt_misc needed).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(EDGEFL_CROSS_TRIPLET arm-linux-gnueabihf)
set(EDGEFL_QEMU_NAME qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch-cross.cmake)

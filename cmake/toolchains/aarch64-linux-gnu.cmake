# Cross-build edgefl for 64-bit ARM boards (Raspberry Pi 3/4/5 with a 64-bit
# OS) on a Debian 12 x86-64 host, using Debian's multiarch packages:
#
#   scripts/setup_cross.sh          # g++-aarch64-linux-gnu, qemu-user, libzmq3-dev:arm64
#   cmake -S . -B build-aarch64 \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
#   cmake --build build-aarch64 && ctest --test-dir build-aarch64
#
# There is no separate sysroot: target libraries live in
# /usr/lib/aarch64-linux-gnu (the :arm64 packages), headers in /usr/include
# (shared by every architecture; the cross compiler searches
# /usr/include/aarch64-linux-gnu then /usr/include). Header-only libraries
# (Eigen, cppzmq, FlatBuffers, doctest, CLI11, toml++) are the host's.
# Programs that run at build time (flatc, pkg-config) are the host's.
# ctest runs every test binary through qemu-aarch64 (no binfmt_misc needed).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(EDGEFL_CROSS_TRIPLET aarch64-linux-gnu)
set(EDGEFL_QEMU_NAME qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch-cross.cmake)

# Cross-build edgefl for boards running a 32-bit ARMv7 hard-float OS (Debian
# armhf, or 32-bit Raspberry Pi OS on a Pi 2/3/4) on a Debian 12 x86-64 host,
# using Debian's multiarch packages. Debian armhf code is ARMv7 + VFPv3-D16
# + Thumb-2: it does not run on ARMv6 boards (Pi 1, Pi Zero/Zero W).
# Only edgefl-node builds for 32-bit ARM: the coordinator's exact sum uses
# __int128, which GCC lacks there (cmake --build build-armhf --target edgefl-node).
# Less tested than the aarch64 file: the node and its libraries have been
# compiled with it, but not linked or run under qemu-arm.
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
set(CMAKE_C_COMPILER ${EDGEFL_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${EDGEFL_CROSS_TRIPLET}-g++)
# CMake would also infer this from the compiler; being explicit makes
# find_library() look in /usr/lib/arm-linux-gnueabihf and never in the host's
# /usr/lib/x86_64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE ${EDGEFL_CROSS_TRIPLET})

# Run target executables (ctest, add_custom_command on a target, try_run)
# under user-mode emulation. qemu finds the multiarch loader and libc in
# /lib and /usr/lib/arm-linux-gnueabihf, so no -L is passed.
find_program(EDGEFL_QEMU qemu-arm NO_CMAKE_FIND_ROOT_PATH)
if(EDGEFL_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${EDGEFL_QEMU})
else()
  message(WARNING "qemu-arm not found (scripts/setup_cross.sh installs qemu-user): "
                  "tests can be built but not run on this host")
endif()

# Multiarch "sysroot": the cross libc (/usr/arm-linux-gnueabihf) and the host
# root, whose arch-specific parts are told apart by CMAKE_LIBRARY_ARCHITECTURE
# and pkg-config below. Programs come from the host only.
set(CMAKE_FIND_ROOT_PATH /usr/${EDGEFL_CROSS_TRIPLET} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: the host program, reading only the target's .pc files (and the
# architecture-independent ones). PKG_CONFIG_LIBDIR replaces the default
# search path, so a missing libzmq3-dev:armhf is an error instead of a silent
# fallback to the x86-64 libzmq.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${EDGEFL_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

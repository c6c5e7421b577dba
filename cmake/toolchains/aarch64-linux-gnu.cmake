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
set(CMAKE_C_COMPILER ${EDGEFL_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${EDGEFL_CROSS_TRIPLET}-g++)
# CMake would also infer this from the compiler; being explicit makes
# find_library() look in /usr/lib/aarch64-linux-gnu and never in the host's
# /usr/lib/x86_64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE ${EDGEFL_CROSS_TRIPLET})

# Run target executables (ctest, add_custom_command on a target, try_run)
# under user-mode emulation. qemu finds the multiarch loader and libc in
# /lib and /usr/lib/aarch64-linux-gnu, so no -L is passed.
find_program(EDGEFL_QEMU qemu-aarch64 NO_CMAKE_FIND_ROOT_PATH)
if(EDGEFL_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${EDGEFL_QEMU})
else()
  message(WARNING "qemu-aarch64 not found (scripts/setup_cross.sh installs qemu-user): "
                  "tests can be built but not run on this host")
endif()

# Multiarch "sysroot": the cross libc (/usr/aarch64-linux-gnu) and the host
# root, whose arch-specific parts are told apart by CMAKE_LIBRARY_ARCHITECTURE
# and pkg-config below. Programs come from the host only.
set(CMAKE_FIND_ROOT_PATH /usr/${EDGEFL_CROSS_TRIPLET} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: the host program, reading only the target's .pc files (and the
# architecture-independent ones). PKG_CONFIG_LIBDIR replaces the default
# search path, so a missing libzmq3-dev:arm64 is an error instead of a silent
# fallback to the x86-64 libzmq.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${EDGEFL_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

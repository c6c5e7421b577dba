# The part of edgefl's cross toolchain files that every Debian multiarch
# target shares. A toolchain file sets CMAKE_SYSTEM_PROCESSOR,
# EDGEFL_CROSS_TRIPLET (e.g. aarch64-linux-gnu) and EDGEFL_QEMU_NAME (e.g.
# qemu-aarch64), then includes this file.
set(CMAKE_C_COMPILER ${EDGEFL_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${EDGEFL_CROSS_TRIPLET}-g++)
# CMake would also infer this from the compiler; being explicit makes
# find_library() look in /usr/lib/${EDGEFL_CROSS_TRIPLET} and never in the host's
# /usr/lib/x86_64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE ${EDGEFL_CROSS_TRIPLET})

# Run target executables (ctest, add_custom_command on a target, try_run)
# under user-mode emulation. qemu finds the multiarch loader and libc in
# /lib and /usr/lib/${EDGEFL_CROSS_TRIPLET}, so no -L is passed.
find_program(EDGEFL_QEMU ${EDGEFL_QEMU_NAME} NO_CMAKE_FIND_ROOT_PATH)
if(EDGEFL_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${EDGEFL_QEMU})
else()
  message(WARNING "${EDGEFL_QEMU_NAME} not found (scripts/setup_cross.sh installs qemu-user): "
                  "tests can be built but not run on this host")
endif()

# Multiarch "sysroot": the cross libc (/usr/<triplet>) and the host
# root, whose arch-specific parts are told apart by CMAKE_LIBRARY_ARCHITECTURE
# and pkg-config below. Programs come from the host only.
set(CMAKE_FIND_ROOT_PATH /usr/${EDGEFL_CROSS_TRIPLET} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: the host program, reading only the target's .pc files (and the
# architecture-independent ones). PKG_CONFIG_LIBDIR replaces the default
# search path, so a missing libzmq3-dev for the target is an error instead of a silent
# fallback to the x86-64 libzmq.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${EDGEFL_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

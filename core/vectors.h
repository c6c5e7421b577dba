// Eight-lane vector types for the hot loops (GCC vector extensions), and
// EDGEFL_VECTOR_CLONES for the functions that hold such loops.
//
// GCC lowers the eight-lane types to SSE2 pairs on baseline x86-64, to NEON
// on aarch64 and to single AVX2 instructions. A function marked
// EDGEFL_VECTOR_CLONES is built twice on x86-64 GCC builds, for AVX2 and for
// the baseline, and the loader picks the one the CPU runs (an ifunc), so the
// same binary is fast on current CPUs and still runs everywhere. The clones
// differ in instructions, never in arithmetic. Keep the vector types inside
// such functions and always_inline helpers: passing them by value between
// functions built for different ISAs changes the ABI (GCC's -Wpsabi).
#pragma once

#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EDGEFL_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define EDGEFL_VECTOR_CLONES
#endif

namespace edgefl {

inline constexpr uint32_t kLanes = 8;
typedef float F32x8 __attribute__((vector_size(32)));
typedef int32_t I32x8 __attribute__((vector_size(32)));
typedef uint32_t U32x8 __attribute__((vector_size(32)));
typedef uint16_t U16x8 __attribute__((vector_size(16)));
typedef uint8_t U8x8 __attribute__((vector_size(8)));
typedef int32_t I32x4 __attribute__((vector_size(16)));
typedef int64_t I64x4 __attribute__((vector_size(32)));

}  // namespace edgefl

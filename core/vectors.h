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
#include <cstring>

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
typedef uint32_t U32x4 __attribute__((vector_size(16)));
typedef uint8_t U8x32 __attribute__((vector_size(32)));
typedef uint16_t U16x16 __attribute__((vector_size(32)));

// out[i] = v[lanes[i]], lanes in [0, 8): GCC's variable shuffle, or lane
// by lane where the compiler has none (clang, for the fuzz builds). Exact
// either way.
[[gnu::always_inline]] inline void ShuffleLanes(const I32x8& v, const I32x8& lanes, I32x8& out) {
#if defined(__clang__)
  for (int i = 0; i < 8; ++i) out[i] = v[lanes[i] & 7];
#else
  out = __builtin_shuffle(v, lanes);
#endif
}

// The OR of the eight lanes, by halving shuffles.
[[gnu::always_inline]] inline uint32_t OrAcrossLanes(const U32x8& v) {
  const U32x4 half = __builtin_shufflevector(v, v, 0, 1, 2, 3) | __builtin_shufflevector(v, v, 4, 5, 6, 7);
  const U32x4 quarter = half | __builtin_shufflevector(half, half, 2, 3, 0, 1);
  return (quarter | __builtin_shufflevector(quarter, quarter, 1, 0, 3, 2))[0];
}

// Bytes 8k..8k+7 of `bytes`, zero-extended to 32-bit lanes (k < 4). GCC
// lowers a widening __builtin_convertvector from an 8-byte vector lane by
// lane through scalar registers; a byte shuffle against zeros is a few
// instructions.
template <int k>
[[gnu::always_inline]] inline void WidenBytes(const U8x32& bytes, U32x8& out) {
  static_assert(k >= 0 && k < 4);
  constexpr int z = 32;  // a byte of the zero vector
  constexpr int b = 8 * k;
  const U8x32 zero = {};
  const U8x32 wide = __builtin_shufflevector(bytes, zero, b, z, z, z, b + 1, z, z, z, b + 2, z, z, z, b + 3, z, z, z,
                                             b + 4, z, z, z, b + 5, z, z, z, b + 6, z, z, z, b + 7, z, z, z);
  std::memcpy(&out, &wide, sizeof(out));
}

// Narrowing stores: out[i] = lane i of v, truncated. GCC lowers a narrowing
// __builtin_convertvector lane by lane through scalar registers; picking
// the low bytes with a shuffle is a few instructions on AVX2, SSE2 and NEON.
// (Lanes are little-endian, as the codec requires.)
[[gnu::always_inline]] inline void StoreLowBytes(const U32x8& v, uint8_t* out) {
  U8x32 bytes;
  std::memcpy(&bytes, &v, sizeof(bytes));
  const U8x8 low = __builtin_shufflevector(bytes, bytes, 0, 4, 8, 12, 16, 20, 24, 28);
  std::memcpy(out, &low, sizeof(low));
}

[[gnu::always_inline]] inline void StoreLowHalves(const U32x8& v, uint16_t* out) {
  U16x16 halves;
  std::memcpy(&halves, &v, sizeof(halves));
  const U16x8 low = __builtin_shufflevector(halves, halves, 0, 2, 4, 6, 8, 10, 12, 14);
  std::memcpy(out, &low, sizeof(low));
}

}  // namespace edgefl

#include "core/block_magnitudes.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "core/vectors.h"

namespace edgefl {
namespace {

[[gnu::always_inline]] inline void Max(U32x8& a, const U32x8& b) { a = b > a ? b : a; }
[[gnu::always_inline]] inline void Min(U32x8& a, const U32x8& b) { a = b < a ? b : a; }

// The largest lane of `largest` and the smallest of `smallest`, by halving.
[[gnu::always_inline]] inline void ReduceLanes(const U32x8& largest, const U32x8& smallest, uint32_t* most,
                                               uint32_t* least) {
  U32x4 high = __builtin_shufflevector(largest, largest, 0, 1, 2, 3);
  U32x4 low = __builtin_shufflevector(smallest, smallest, 0, 1, 2, 3);
  const U32x4 high_rest = __builtin_shufflevector(largest, largest, 4, 5, 6, 7);
  const U32x4 low_rest = __builtin_shufflevector(smallest, smallest, 4, 5, 6, 7);
  high = high_rest > high ? high_rest : high;
  low = low_rest < low ? low_rest : low;
  U32x4 swapped = __builtin_shufflevector(high, high, 2, 3, 0, 1);
  high = swapped > high ? swapped : high;
  swapped = __builtin_shufflevector(high, high, 1, 0, 3, 2);
  high = swapped > high ? swapped : high;
  swapped = __builtin_shufflevector(low, low, 2, 3, 0, 1);
  low = swapped < low ? swapped : low;
  swapped = __builtin_shufflevector(low, low, 1, 0, 3, 2);
  low = swapped < low ? swapped : low;
  *most = high[0];
  *least = low[0];
}

// Inlined into each clone, so it takes the clone's ISA. Unsigned max and
// min are single instructions on AVX2 and NEON. For the smallest nonzero,
// |v| - 1 wraps to all ones for zero, above every nonzero |v| - 1. Four
// sets of accumulators keep four vectors in flight.
[[gnu::always_inline]] inline BlockMagnitude ScanOne(const float* v, uint32_t count) {
  constexpr uint32_t kUnroll = 4;
  U32x8 largest[kUnroll] = {}, smallest_minus_one[kUnroll];
  for (U32x8& s : smallest_minus_one) s = U32x8{} + 0xFFFFFFFFu;
  uint32_t i = 0;
  for (; i + kUnroll * kLanes <= count; i += kUnroll * kLanes) {
#pragma GCC unroll 4  // so that the accumulators live in registers
    for (uint32_t k = 0; k < kUnroll; ++k) {
      U32x8 bits;
      std::memcpy(&bits, v + i + k * kLanes, sizeof(bits));
      bits &= 0x7FFFFFFFu;
      Max(largest[k], bits);
      Min(smallest_minus_one[k], bits - 1u);
    }
  }
  for (uint32_t k = 1; k < kUnroll; ++k) {
    Max(largest[0], largest[k]);
    Min(smallest_minus_one[0], smallest_minus_one[k]);
  }
  uint32_t most, least;
  ReduceLanes(largest[0], smallest_minus_one[0], &most, &least);
  for (; i < count; ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(v[i]) & 0x7FFFFFFFu;
    most = std::max(most, bits);
    least = std::min(least, bits - 1u);
  }
  BlockMagnitude m;
  m.largest_bits = most;
  if (least != 0xFFFFFFFFu) m.smallest_nonzero_bits = least + 1u;
  return m;
}

}  // namespace

EDGEFL_VECTOR_CLONES uint32_t ScanBlockMagnitudes(std::span<const float> values, std::span<BlockMagnitude> out) {
  assert(out.size() >= MagnitudeBlocks(values.size()));
  uint32_t largest = 0;
  size_t block = 0;
  for (size_t start = 0; start < values.size(); start += kMagnitudeBlock, ++block) {
    const auto count = static_cast<uint32_t>(std::min<size_t>(kMagnitudeBlock, values.size() - start));
    out[block] = ScanOne(values.data() + start, count);
    largest = std::max(largest, out[block].largest_bits);
  }
  return largest;
}

EDGEFL_VECTOR_CLONES BlockMagnitude ScanBlockMagnitude(const float* values, uint32_t count) {
  return ScanOne(values, count);
}

}  // namespace edgefl

#include "core/block_magnitudes.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "core/vectors.h"

namespace edgefl {
namespace {

// Inlined into each clone, so it takes the clone's ISA. Patterns with the
// sign cleared fit in int32, so signed max and min (single instructions)
// order them. For the smallest nonzero, (|v| - 1) & 0x7FFFFFFF maps zero to
// 0x7FFFFFFF, above every nonzero |v| - 1. Two sets of accumulators keep
// two vectors in flight.
[[gnu::always_inline]] inline BlockMagnitude ScanOne(const float* v, uint32_t count) {
  constexpr int32_t kNoneBelow = 0x7FFFFFFF;
  I32x8 largest[2] = {}, smallest_minus_one[2] = {I32x8{} + kNoneBelow, I32x8{} + kNoneBelow};
  uint32_t i = 0;
  for (; i + 2 * kLanes <= count; i += 2 * kLanes) {
    for (int k = 0; k < 2; ++k) {
      I32x8 bits;
      std::memcpy(&bits, v + i + k * kLanes, sizeof(bits));
      bits &= 0x7FFFFFFF;
      largest[k] = bits > largest[k] ? bits : largest[k];
      const I32x8 minus_one = (bits - 1) & 0x7FFFFFFF;
      smallest_minus_one[k] = minus_one < smallest_minus_one[k] ? minus_one : smallest_minus_one[k];
    }
  }
  int32_t most = 0, least = kNoneBelow;
  for (uint32_t lane = 0; lane < kLanes; ++lane) {
    most = std::max({most, largest[0][lane], largest[1][lane]});
    least = std::min({least, smallest_minus_one[0][lane], smallest_minus_one[1][lane]});
  }
  for (; i < count; ++i) {
    const int32_t bits = std::bit_cast<int32_t>(v[i]) & 0x7FFFFFFF;
    most = std::max(most, bits);
    least = std::min(least, (bits - 1) & 0x7FFFFFFF);
  }
  BlockMagnitude m;
  m.largest_bits = static_cast<uint32_t>(most);
  if (least != kNoneBelow) m.smallest_nonzero_bits = static_cast<uint32_t>(least) + 1u;
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

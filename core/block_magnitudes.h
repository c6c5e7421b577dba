// Block magnitudes: for each block of kMagnitudeBlock consecutive values, the
// largest |v| and the smallest nonzero |v|, as float bit patterns with the
// sign cleared (non-negative floats order as their patterns do, and inf and
// NaN lie above every finite pattern).
//
// One pass over an update yields both what the decoder must check (every
// value finite and below a limit: the overall largest pattern) and what the
// coordinator's exact sum needs to know of each block (which of its limb
// rows the block's values reach), so the values are read once for both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace edgefl {

inline constexpr uint32_t kMagnitudeBlock = 512;

struct BlockMagnitude {
  uint32_t largest_bits = 0;                 // 0 when every value is zero
  uint32_t smallest_nonzero_bits = 0xFFFFFFFFu;  // 0xFFFFFFFF when every value is zero
};

constexpr size_t MagnitudeBlocks(size_t values) { return (values + kMagnitudeBlock - 1) / kMagnitudeBlock; }

// Writes MagnitudeBlocks(values.size()) entries of `out` (at least that
// long) and returns the largest pattern over all values.
uint32_t ScanBlockMagnitudes(std::span<const float> values, std::span<BlockMagnitude> out);

// The magnitude of one block of `count` values.
BlockMagnitude ScanBlockMagnitude(const float* values, uint32_t count);

}  // namespace edgefl

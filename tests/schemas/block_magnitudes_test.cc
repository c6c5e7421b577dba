#include "core/block_magnitudes.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"

namespace edgefl {
namespace {

uint32_t AbsBits(float v) { return std::bit_cast<uint32_t>(v) & 0x7FFFFFFFu; }

// The definition, one value at a time.
std::vector<BlockMagnitude> Reference(const std::vector<float>& values) {
  std::vector<BlockMagnitude> out(MagnitudeBlocks(values.size()));
  for (size_t j = 0; j < values.size(); ++j) {
    BlockMagnitude& m = out[j / kMagnitudeBlock];
    const uint32_t bits = AbsBits(values[j]);
    m.largest_bits = std::max(m.largest_bits, bits);
    if (bits != 0) m.smallest_nonzero_bits = std::min(m.smallest_nonzero_bits, bits);
  }
  return out;
}

float AnyValue(Rng& rng) {
  const float sign = rng.Below(2) ? -1.0f : 1.0f;
  switch (rng.Below(10)) {
    case 0:
      return sign * 0.0f;
    case 1:
      return sign * std::numeric_limits<float>::denorm_min() * static_cast<float>(1 + rng.Below(1000));
    case 2:
      return sign * std::numeric_limits<float>::infinity();
    case 3:
      return std::numeric_limits<float>::quiet_NaN();
    default:
      return sign * std::ldexp(1.0f + static_cast<float>(rng.Below(1u << 23)) * 0x1.0p-23f,
                               static_cast<int>(rng.Below(250)) - 125);
  }
}

TEST_CASE("block magnitudes match the definition, block by block") {
  Rng rng(31);
  for (size_t n : {1ul, 7ul, 16ul, 17ul, 511ul, 512ul, 513ul, 1500ul}) {
    CAPTURE(n);
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> values(n);
      // Some trials keep to zeros and small values, so that zero blocks and
      // a lone nonzero value in any lane occur.
      for (auto& v : values) {
        const bool sparse = trial % 4 == 0;
        v = !sparse || rng.Below(static_cast<uint32_t>(n)) == 0 ? AnyValue(rng) : 0.0f;
      }
      std::vector<BlockMagnitude> scanned(MagnitudeBlocks(n));
      const uint32_t largest = ScanBlockMagnitudes(values, scanned);
      const auto expected = Reference(values);
      uint32_t expected_largest = 0;
      for (size_t b = 0; b < expected.size(); ++b) {
        CAPTURE(b);
        CHECK(scanned[b].largest_bits == expected[b].largest_bits);
        CHECK(scanned[b].smallest_nonzero_bits == expected[b].smallest_nonzero_bits);
        expected_largest = std::max(expected_largest, expected[b].largest_bits);
      }
      CHECK(largest == expected_largest);
    }
  }
}

TEST_CASE("an all-zero block reports no nonzero value") {
  std::vector<float> values(kMagnitudeBlock + 3, 0.0f);
  values[kMagnitudeBlock + 1] = -0.0f;
  std::vector<BlockMagnitude> scanned(2);
  CHECK(ScanBlockMagnitudes(values, scanned) == 0);
  for (const BlockMagnitude& m : scanned) {
    CHECK(m.largest_bits == 0);
    CHECK(m.smallest_nonzero_bits == 0xFFFFFFFFu);
  }
}

}  // namespace
}  // namespace edgefl

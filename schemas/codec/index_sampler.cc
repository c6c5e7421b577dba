#include "schemas/codec/index_sampler.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>

#include "core/lane_rng.h"
#include "core/rng.h"
#include "core/vectors.h"

namespace edgefl::codec {

void SampleRandK(uint64_t seed, uint32_t dimension, std::span<uint32_t> indices, std::span<uint64_t> bitmap) {
  const auto k = static_cast<uint32_t>(indices.size());
  if (k == 0) return;
  assert(k <= dimension && bitmap.size() >= RandKBitmapWords(dimension));
  const size_t words = RandKBitmapWords(dimension);
  std::fill_n(bitmap.begin(), words, uint64_t{0});
  // Floyd: after the step for j, the set bits are a uniform (k - (d - j) + 1)-
  // subset of [0, j]; t is new, or else j (never chosen before) is taken.
  Rng rng(seed);
  for (uint32_t j = dimension - k; j < dimension; ++j) {
    const uint32_t t = rng.Below(j + 1);
    uint64_t& word = bitmap[t / 64];
    const uint64_t bit = uint64_t{1} << (t % 64);
    if ((word & bit) != 0) {
      bitmap[j / 64] |= uint64_t{1} << (j % 64);
    } else {
      word |= bit;
    }
  }
  // Exactly k bits are set: read them out in increasing order.
  uint32_t kept = 0;
  for (size_t w = 0; kept < k; ++w) {
    for (uint64_t bits = bitmap[w]; bits != 0; bits &= bits - 1) {
      indices[kept++] = static_cast<uint32_t>(w * 64 + static_cast<unsigned>(std::countr_zero(bits)));
    }
  }
}

uint64_t KeepThreshold(double keep_probability) {
  if (keep_probability >= 1.0) return uint64_t{1} << 32;
  const double scaled = std::floor(keep_probability * 0x1.0p32);
  return scaled < 1.0 ? 1 : static_cast<uint64_t>(scaled);
}

double RealisedKeepProbability(double keep_probability) {
  return static_cast<double>(KeepThreshold(keep_probability)) * 0x1.0p-32;
}

EDGEFL_VECTOR_CLONES uint32_t SampleBernoulli(uint64_t seed, uint32_t dimension, double keep_probability,
                                              std::span<uint32_t> indices) {
  const uint64_t threshold = KeepThreshold(keep_probability);
  uint32_t kept = 0;
  const auto keep = [&](uint32_t j) {
    if (kept < indices.size()) indices[kept] = j;
    ++kept;
  };
  if (threshold > 0xFFFFFFFFu) {  // p = 1: every draw is below 2^32
    for (uint32_t j = 0; j < dimension; ++j) keep(j);
    return kept;
  }
  // Coordinate j takes lane j % 8 of step j / 8. Thirty-two coordinates
  // cost four vector steps and compares, whose results land at bit i of one
  // word for coordinate i.
  const U32x8 below = U32x8{} + static_cast<uint32_t>(threshold);
  const U32x8 lane_bit = {1, 2, 4, 8, 16, 32, 64, 128};
  // With room for every coordinate, the first two kept of a word are written
  // without a branch (which would be mispredicted at every kept one): a
  // write past them lands at index kept <= base + 1 < dimension and is
  // overwritten or ignored.
  const bool room_for_all = indices.size() >= dimension;
  LaneRng rng(seed);
  constexpr uint32_t kBlock = 512;
  uint32_t draws[kBlock];
  for (uint32_t start = 0; start < dimension; start += kBlock) {
    const uint32_t count = std::min(kBlock, dimension - start);
    rng.Fill(draws, count);
    uint32_t i = 0;
    for (; i + 4 * kLanes <= count; i += 4 * kLanes) {
      U32x8 kept_bits = {};
      for (uint32_t group = 0; group < 4; ++group) {
        U32x8 draw;
        std::memcpy(&draw, draws + i + group * kLanes, sizeof(draw));
        kept_bits |= (draw < below) & (lane_bit << (group * kLanes));
      }
      uint32_t bits = OrAcrossLanes(kept_bits);
      const uint32_t base = start + i;
      if (room_for_all) {
        for (int unrolled = 0; unrolled < 2; ++unrolled) {
          indices[kept] = base + static_cast<uint32_t>(std::countr_zero(bits));
          kept += bits != 0 ? 1 : 0;
          bits &= bits - 1;
        }
      }
      for (; bits != 0; bits &= bits - 1) keep(base + static_cast<uint32_t>(std::countr_zero(bits)));
    }
    for (; i < count; ++i) {
      if (draws[i] < threshold) keep(start + i);
    }
  }
  return kept;
}

}  // namespace edgefl::codec

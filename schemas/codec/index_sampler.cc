#include "schemas/codec/index_sampler.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

#include "core/rng.h"

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

uint32_t SampleBernoulli(uint64_t seed, uint32_t dimension, double keep_probability,
                         std::span<uint32_t> indices) {
  Rng rng(seed);
  const uint64_t threshold = KeepThreshold(keep_probability);
  uint32_t kept = 0;
  const auto keep = [&](uint32_t j) {
    if (kept < indices.size()) indices[kept] = j;
    ++kept;
  };
  // A pair of coordinates a word, low half first; one rarely taken branch a
  // pair when p is small.
  uint32_t j = 0;
  for (; j + 1 < dimension; j += 2) {
    const uint64_t word = rng.NextU64();
    const uint64_t low = word & 0xFFFFFFFFu, high = word >> 32;
    if (low < threshold || high < threshold) [[unlikely]] {
      if (low < threshold) keep(j);
      if (high < threshold) keep(j + 1);
    }
  }
  if (j < dimension && (rng.NextU64() & 0xFFFFFFFFu) < threshold) keep(j);
  return kept;
}

}  // namespace edgefl::codec

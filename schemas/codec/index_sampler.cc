#include "schemas/codec/index_sampler.h"

#include <cmath>

#include "core/rng.h"

namespace edgefl::codec {

void SampleRandK(uint64_t seed, uint32_t dimension, std::span<uint32_t> indices) {
  // The draws and tests of Algorithm S with Rng::Below(n) written out, so
  // that the common case (neither kept nor near Below's rejection zone) is
  // one multiply and one rarely taken branch: with m = (x >> 32) * n,
  // Below(n) < r  <=>  m < r * 2^32, once Below's own test (low 32 bits of
  // m below n, then redraw while below (2^32 - n) mod n) has been applied.
  // The sequence of draws, and so the indices, are exactly Below's.
  Rng rng(seed);
  const auto k = static_cast<uint32_t>(indices.size());
  if (k == 0) return;
  uint32_t kept = 0;
  uint64_t keep_below = uint64_t{k} << 32;  // (k - kept) * 2^32
  for (uint32_t n = dimension; n > 0; --n) {  // n = dimension - j
    uint64_t m = (rng.NextU64() >> 32) * n;
    if (m < keep_below || static_cast<uint32_t>(m) < n) [[unlikely]] {
      if (static_cast<uint32_t>(m) < n) {
        const uint32_t threshold = (0u - n) % n;
        while (static_cast<uint32_t>(m) < threshold) m = (rng.NextU64() >> 32) * n;
      }
      if (m < keep_below) {
        indices[kept++] = dimension - n;
        if (kept == k) return;
        keep_below = uint64_t{k - kept} << 32;
      }
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

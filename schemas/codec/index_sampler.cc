#include "schemas/codec/index_sampler.h"

#include <cmath>

#include "core/rng.h"

namespace edgefl::codec {

void SampleRandK(uint64_t seed, uint32_t dimension, std::span<uint32_t> indices) {
  Rng rng(seed);
  const auto k = static_cast<uint32_t>(indices.size());
  uint32_t kept = 0;
  for (uint32_t j = 0; j < dimension && kept < k; ++j) {
    if (rng.Below(dimension - j) < k - kept) indices[kept++] = j;
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
  uint64_t word = 0;
  for (uint32_t j = 0; j < dimension; ++j) {
    uint64_t draw;
    if ((j & 1u) == 0) {
      word = rng.NextU64();
      draw = word & 0xFFFFFFFFu;
    } else {
      draw = word >> 32;
    }
    if (draw < threshold) {
      if (kept < indices.size()) indices[kept] = j;
      ++kept;
    }
  }
  return kept;
}

}  // namespace edgefl::codec

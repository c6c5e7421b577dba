#include "sim/gaussian_block.h"

#include <bit>
#include <cassert>
#include <cmath>
#include <numbers>

#include "core/vectors.h"

namespace edgefl {
namespace {

// ln u for u in (0, 1]: u = m 2^e with m in [1, 2), ln m = 2 atanh(s),
// s = (m - 1)/(m + 1) in [0, 1/3), by its series to s^11 (error < 2e-7).
[[gnu::always_inline]] inline float Log(float u) {
  const uint32_t bits = std::bit_cast<uint32_t>(u);
  const float e = static_cast<float>(static_cast<int32_t>(bits >> 23) - 127);
  const float m = std::bit_cast<float>((bits & 0x007FFFFFu) | 0x3F800000u);
  const float s = (m - 1.0f) / (m + 1.0f);
  const float s2 = s * s;
  const float series =
      1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9 + s2 * (1.0f / 11)))));
  return e * std::numbers::ln2_v<float> + 2.0f * s * series;
}

}  // namespace

GaussianBlock::GaussianBlock(uint64_t seed, uint32_t capacity)
    : rng_(seed), bits_(capacity + capacity % 2 + LaneRng::kLanes), pairs_(capacity + 1) {}

EDGEFL_VECTOR_CLONES void GaussianBlock::Fill(std::span<float> out) {
  const uint32_t n = static_cast<uint32_t>(out.size());
  assert(n + 1 <= pairs_.size());
  const uint32_t half = (n + 1) / 2;
  rng_.Fill(bits_.data(), 2 * half);
  const uint32_t* b1 = bits_.data();
  const uint32_t* b2 = bits_.data() + half;
  float* z = pairs_.data();
  for (uint32_t i = 0; i < half; ++i) {
    const float u1 = (static_cast<float>(static_cast<int32_t>(b1[i] >> 8)) + 0.5f) * 0x1.0p-24f;
    const float r = std::sqrt(-2.0f * Log(u1));
    // The angle pi t, t in [-1/2, 1/2), by Taylor series on [-pi/2, pi/2]
    // (errors below 6e-8), doubled: 2 pi t is uniform on [-pi, pi), as good
    // an angle as 2 pi u2.
    const float a = std::numbers::pi_v<float> * (static_cast<float>(static_cast<int32_t>(b2[i] >> 8)) * 0x1.0p-24f - 0.5f);
    const float a2 = a * a;
    const float sin_a =
        a * (1.0f + a2 * (-1.0f / 6 + a2 * (1.0f / 120 + a2 * (-1.0f / 5040 + a2 * (1.0f / 362880 +
                                                                                      a2 * (-1.0f / 39916800))))));
    const float cos_a = 1.0f + a2 * (-0.5f + a2 * (1.0f / 24 + a2 * (-1.0f / 720 + a2 * (1.0f / 40320 +
                                                                                            a2 * (-1.0f / 3628800 +
                                                                                                  a2 / 479001600)))));
    z[i] = r * (1.0f - 2.0f * sin_a * sin_a);  // cos 2a
    z[half + i] = r * (2.0f * sin_a * cos_a);  // sin 2a
  }
  for (uint32_t i = 0; i < n; ++i) out[i] = z[i];
}

}  // namespace edgefl

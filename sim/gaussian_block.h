// GaussianBlock: standard normal draws in blocks, for the SDE predictor's
// Euler-Maruyama steps (one draw per coordinate per step, about 10^9 draws in
// a large forecast). Box-Muller on LaneRng's 32-bit draws, in float and
// without branches, so the loop vectorises:
//   u1 = (b1 >> 8 + 1/2) 2^-24 in (0, 1),   u2 = (b2 >> 8) 2^-24 in [0, 1)
//   z1 = sqrt(-2 ln u1) cos(2 pi u2),       z2 = sqrt(-2 ln u1) sin(2 pi u2)
// ln, sin and cos are short polynomials (absolute error below 1e-6), and u1
// is at least 2^-25, so |z| <= 5.9: the tails past 5.9 standard deviations
// (2e-9 of the mass) are cut. Same seed, same draws, on any thread; the
// predictor does not promise the same bits across hosts. Not thread-safe:
// one per path.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/lane_rng.h"

namespace edgefl {

class GaussianBlock {
 public:
  GaussianBlock(uint64_t seed, uint32_t capacity);

  // out[0..n) = the next n draws, n <= capacity.
  void Fill(std::span<float> out);

 private:
  LaneRng rng_;
  std::vector<uint32_t> bits_;
  std::vector<float> pairs_;
};

}  // namespace edgefl

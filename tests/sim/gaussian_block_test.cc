// GaussianBlock's draws against the standard normal: moments and the CDF at
// a few points, within Monte-Carlo error, on a fixed seed.
#include "sim/gaussian_block.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

namespace edgefl {
namespace {

TEST_CASE("GaussianBlock draws standard normals") {
  constexpr uint32_t kBlock = 101;  // odd: the last pair's spare is dropped
  constexpr uint32_t kBlocks = 20000;
  GaussianBlock normals(7, kBlock);
  std::vector<float> z(kBlock);
  double sum = 0, squares = 0, cubes = 0, fourths = 0, largest = 0;
  double below[3] = {0, 0, 0};
  const double at[3] = {-1.0, 0.5, 2.0};
  for (uint32_t b = 0; b < kBlocks; ++b) {
    normals.Fill(z);
    for (const float v : z) {
      const double x = v;
      sum += x;
      squares += x * x;
      cubes += x * x * x;
      fourths += x * x * x * x;
      largest = std::max(largest, std::fabs(x));
      for (int i = 0; i < 3; ++i) below[i] += x < at[i] ? 1.0 : 0.0;
    }
  }
  const double n = double{kBlock} * kBlocks;
  // Standard errors: 1/sqrt(n) for the mean, sqrt(2/n) for E z^2,
  // sqrt(15/n) for E z^3, sqrt(96/n) for E z^4; checked at 5 of them.
  CHECK(std::fabs(sum / n) < 5 / std::sqrt(n));
  CHECK(std::fabs(squares / n - 1) < 5 * std::sqrt(2 / n));
  CHECK(std::fabs(cubes / n) < 5 * std::sqrt(15 / n));
  CHECK(std::fabs(fourths / n - 3) < 5 * std::sqrt(96 / n));
  for (int i = 0; i < 3; ++i) {
    const double phi = 0.5 * std::erfc(-at[i] / std::sqrt(2.0));
    CHECK(std::fabs(below[i] / n - phi) < 5 * std::sqrt(phi * (1 - phi) / n));
  }
  CHECK(largest <= 5.9);
  CHECK(largest > 4.0);  // 2e6 draws reach past 4 sd (expected: about 130 of them)
}

TEST_CASE("GaussianBlock: the same seed gives the same draws") {
  GaussianBlock a(3, 64), b(3, 64), c(4, 64);
  std::vector<float> za(64), zb(64), zc(64);
  a.Fill(za);
  b.Fill(zb);
  c.Fill(zc);
  CHECK(za == zb);
  CHECK(za != zc);
}

}  // namespace
}  // namespace edgefl

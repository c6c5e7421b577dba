#include "maths/gradient_noise.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace edgefl {
namespace {

TEST_CASE("gaussian noise has variance sigma^2 / B") {
  constexpr size_t n = 200000;
  std::vector<float> g(n, 0.0f);
  Rng rng(11);
  AddGradientNoise({wire::NoiseKind::Gaussian, 2.0, 0.0}, 4, rng, g);
  double sum = 0, sum2 = 0;
  for (float x : g) {
    sum += x;
    sum2 += static_cast<double>(x) * x;
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  // Expected variance 1; the estimate's sd is sqrt(2/n) ~ 0.0032.
  CHECK(std::fabs(mean) < 5 * std::sqrt(1.0 / n));
  CHECK(std::fabs(var - 1.0) < 5 * std::sqrt(2.0 / n));
}

TEST_CASE("student-t noise has the t distribution's quantiles") {
  // nu = 1 is Cauchy: P(|T| > 1) = 1/2, P(|T| > tan(0.45 pi)) = 0.1.
  constexpr size_t n = 100000;
  std::vector<float> g(n, 0.0f);
  Rng rng(12);
  AddGradientNoise({wire::NoiseKind::StudentT, 1.0, 1.0}, 1, rng, g);
  const double q90 = std::tan(0.45 * 3.14159265358979);
  const auto above1 = std::count_if(g.begin(), g.end(), [](float x) { return std::fabs(x) > 1.0f; });
  const auto above90 = std::count_if(g.begin(), g.end(), [&](float x) { return std::fabs(x) > q90; });
  CHECK(std::fabs(static_cast<double>(above1) / n - 0.5) < 5 * std::sqrt(0.25 / n));
  CHECK(std::fabs(static_cast<double>(above90) / n - 0.1) < 5 * std::sqrt(0.09 / n));

  // nu = 5 has variance nu/(nu-2) = 5/3.
  std::fill(g.begin(), g.end(), 0.0f);
  AddGradientNoise({wire::NoiseKind::StudentT, 1.0, 5.0}, 1, rng, g);
  double sum2 = 0;
  for (float x : g) sum2 += static_cast<double>(x) * x;
  // The fourth moment of t(5) is infinite-free only up to nu > 4: 3 nu^2/((nu-2)(nu-4)) = 25;
  // sd of the variance estimate sqrt((25 - 25/9)/n).
  CHECK(std::fabs(sum2 / n - 5.0 / 3.0) < 5 * std::sqrt((25.0 - 25.0 / 9.0) / n));
}

TEST_CASE("no noise leaves the gradient alone") {
  std::vector<float> g = {1.0f, 2.0f};
  Rng rng(1);
  AddGradientNoise({wire::NoiseKind::None, 1.0, 1.0}, 1, rng, g);
  CHECK(g == std::vector<float>{1.0f, 2.0f});
}

}  // namespace
}  // namespace edgefl

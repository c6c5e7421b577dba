#include "maths/gradient_noise.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
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

TEST_CASE("sigma = 0 still makes every draw; the gradient keeps its bits but for -0.0 (docs/protocol.md 7)") {
  const std::vector<float> grad = {1.5f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, 0.0f, -3.0f};
  for (const codec::NoiseSpec spec : {codec::NoiseSpec{wire::NoiseKind::Gaussian, 0.0, 3.0, 0.0},
                                      codec::NoiseSpec{wire::NoiseKind::StudentT, 0.0, 3.0, 0.0},
                                      codec::NoiseSpec{wire::NoiseKind::Affine, 0.0, 3.0, 0.0}}) {
    CAPTURE(static_cast<int>(spec.kind));
    // The same draws as sigma = 1 (the same Z_j), and as many of them.
    codec::NoiseSpec unit = spec;
    unit.sigma = 1.0;
    std::vector<float> g = grad, z(grad.size(), 0.0f);
    Rng zero_rng(7), unit_rng(7);
    AddGradientNoise(spec, 1, zero_rng, g);
    AddGradientNoise(unit, 1, unit_rng, z);  // z_j = f32(Z_j)
    CHECK(zero_rng.NextU64() == unit_rng.NextU64());
    for (size_t j = 0; j < g.size(); ++j) {
      CAPTURE(j);
      CHECK(g[j] == grad[j]);
      // -0.0 + 0.0 * Z_j: +0.0 when Z_j > 0, -0.0 when Z_j < 0.
      if (std::signbit(grad[j]) && grad[j] == 0.0f) CHECK(std::signbit(g[j]) == std::signbit(z[j]));
      if (grad[j] != 0.0f || !std::signbit(grad[j])) CHECK(std::signbit(g[j]) == std::signbit(grad[j]));
    }
  }
  // None alone draws nothing.
  Rng none_rng(7), fresh(7);
  std::vector<float> g = grad;
  AddGradientNoise({wire::NoiseKind::None, 0.0, 3.0, 0.0}, 1, none_rng, g);
  CHECK(none_rng.NextU64() == fresh.NextU64());
  for (size_t j = 0; j < g.size(); ++j) CHECK(std::signbit(g[j]) == std::signbit(grad[j]));
}

TEST_CASE("affine noise has variance (sigma^2 + sigma1^2 ||g||^2) / B") {
  // g = 0.5 everywhere, d = 100000: ||g||^2 = 25000; sigma = 2, sigma1 = 0.01,
  // B = 4: variance (4 + 1e-4 * 25000) / 4 = 1.625.
  constexpr size_t n = 100000;
  std::vector<float> g(n, 0.5f);
  Rng rng(19);
  const codec::NoiseSpec spec{wire::NoiseKind::Affine, 2.0, 3.0, 0.01};
  AddGradientNoise(spec, 4, rng, g);
  double sum = 0, sum2 = 0;
  for (float x : g) {
    sum += x - 0.5;
    sum2 += (x - 0.5) * (x - 0.5);
  }
  const double var = sum2 / n - (sum / n) * (sum / n);
  CHECK(std::fabs(var - 1.625) < 5 * 1.625 * std::sqrt(2.0 / n));
  CHECK(NoiseVariance(spec, 4) == 1.0);
  CHECK(NoiseVarianceSlope(spec, 4) == doctest::Approx(0.25e-4));
  CHECK(StandardNoiseCdf(spec, 1.0) == doctest::Approx(0.8413447460685429));
}

TEST_CASE("the noise variance is s^2, s^2 nu/(nu - 2), or infinite for heavy tails") {
  CHECK(NoiseVariance({wire::NoiseKind::None, 2.0, 3.0}, 4) == 0.0);
  CHECK(NoiseVariance({wire::NoiseKind::Gaussian, 2.0, 3.0}, 4) == 1.0);
  CHECK(NoiseVariance({wire::NoiseKind::StudentT, 2.0, 4.0}, 4) == doctest::Approx(2.0));
  CHECK(std::isinf(NoiseVariance({wire::NoiseKind::StudentT, 2.0, 2.0}, 4)));
  CHECK(std::isinf(NoiseVariance({wire::NoiseKind::StudentT, 2.0, 1.0}, 1)));
  CHECK(NoiseScale({wire::NoiseKind::Gaussian, 3.0, 3.0}, 9) == 1.0);
}

TEST_CASE("the standardised noise CDF matches the closed forms of the normal, Cauchy and t(2)") {
  const codec::NoiseSpec gaussian{wire::NoiseKind::Gaussian, 1.0, 3.0};
  CHECK(StandardNoiseCdf(gaussian, 0.0) == 0.5);
  CHECK(StandardNoiseCdf(gaussian, 1.0) == doctest::Approx(0.8413447460685429).epsilon(1e-14));
  CHECK(StandardNoiseCdf(gaussian, -1.959963984540054) == doctest::Approx(0.025).epsilon(1e-12));
  for (double z : {-30.0, -3.0, -0.7, 0.0, 0.2, 1.0, 5.0, 100.0}) {
    CAPTURE(z);
    // nu = 1 is Cauchy: 1/2 + atan(z)/pi. nu = 2: 1/2 + z / (2 sqrt(2 + z^2)).
    CHECK(StandardNoiseCdf({wire::NoiseKind::StudentT, 1.0, 1.0}, z) ==
          doctest::Approx(0.5 + std::atan(z) / std::numbers::pi).epsilon(1e-12));
    CHECK(StandardNoiseCdf({wire::NoiseKind::StudentT, 1.0, 2.0}, z) ==
          doctest::Approx(0.5 + z / (2.0 * std::sqrt(2.0 + z * z))).epsilon(1e-12));
  }
  // nu -> infinity approaches the normal.
  CHECK(StandardNoiseCdf({wire::NoiseKind::StudentT, 1.0, 1e6}, 1.0) == doctest::Approx(0.8413447460685429).epsilon(1e-6));
  const codec::NoiseSpec none{wire::NoiseKind::None, 1.0, 3.0};
  CHECK(StandardNoiseCdf(none, -1e-9) == 0.0);
  CHECK(StandardNoiseCdf(none, 0.0) == 1.0);
}

TEST_CASE("the sampler's empirical CDF follows StandardNoiseCdf") {
  // Kolmogorov-Smirnov: with n draws, sup |F_n - F| exceeds 1.95/sqrt(n)
  // with probability below 0.001.
  constexpr size_t n = 100000;
  for (const codec::NoiseSpec spec : {codec::NoiseSpec{wire::NoiseKind::Gaussian, 1.0, 3.0},
                                      codec::NoiseSpec{wire::NoiseKind::StudentT, 1.0, 3.0},
                                      codec::NoiseSpec{wire::NoiseKind::StudentT, 1.0, 1.0}}) {
    CAPTURE(static_cast<int>(spec.kind));
    CAPTURE(spec.nu);
    std::vector<float> draws(n, 0.0f);
    Rng rng(23);
    AddGradientNoise(spec, 1, rng, draws);
    std::sort(draws.begin(), draws.end());
    double worst = 0.0;
    for (size_t i = 0; i < n; ++i) {
      const double f = StandardNoiseCdf(spec, draws[i]);
      worst = std::max({worst, std::fabs(f - static_cast<double>(i) / n), std::fabs(f - static_cast<double>(i + 1) / n)});
    }
    CHECK(worst < 1.95 / std::sqrt(static_cast<double>(n)));
  }
}

}  // namespace
}  // namespace edgefl

#include "maths/gradient_noise.h"

#include <cmath>
#include <limits>
#include <numbers>

#include "maths/vector_norms.h"

namespace edgefl {

void AddGradientNoise(const codec::NoiseSpec& spec, uint32_t batch_size, Rng& rng, std::span<float> grad) {
  const double scale = spec.sigma / std::sqrt(static_cast<double>(batch_size));
  switch (spec.kind) {
    case wire::NoiseKind::None:
      return;
    case wire::NoiseKind::Gaussian:
      for (float& g : grad) g = static_cast<float>(g + scale * rng.Normal());
      return;
    case wire::NoiseKind::StudentT:
      for (float& g : grad) g = static_cast<float>(g + scale * rng.StudentT(spec.nu));
      return;
    case wire::NoiseKind::Affine: {
      // s^2 = (sigma^2 + sigma1^2 ||g||^2) / B, ||g||^2 the gradient's before
      // noise, summed as SquaredNorm does (the same bits on every host).
      const double variance =
          (spec.sigma * spec.sigma + spec.sigma1 * spec.sigma1 * SquaredNorm(grad)) / static_cast<double>(batch_size);
      const double affine_scale = std::sqrt(variance);
      for (float& g : grad) g = static_cast<float>(g + affine_scale * rng.Normal());
      return;
    }
  }
}

double NoiseScale(const codec::NoiseSpec& spec, uint32_t batch_size) {
  return spec.sigma / std::sqrt(static_cast<double>(batch_size));
}

double NoiseVariance(const codec::NoiseSpec& spec, uint32_t batch_size) {
  const double s2 = spec.sigma * spec.sigma / batch_size;
  switch (spec.kind) {
    case wire::NoiseKind::None:
      return 0.0;
    case wire::NoiseKind::Gaussian:
    case wire::NoiseKind::Affine:  // its part that does not grow with ||g||
      return s2;
    case wire::NoiseKind::StudentT:
      return spec.nu > 2.0 ? s2 * spec.nu / (spec.nu - 2.0) : std::numeric_limits<double>::infinity();
  }
  return std::numeric_limits<double>::quiet_NaN();
}

double NoiseVarianceSlope(const codec::NoiseSpec& spec, uint32_t batch_size) {
  switch (spec.kind) {
    case wire::NoiseKind::Affine:
      return spec.sigma1 * spec.sigma1 / batch_size;
    case wire::NoiseKind::None:
    case wire::NoiseKind::Gaussian:
    case wire::NoiseKind::StudentT:
      return 0.0;
  }
  return 0.0;
}

double StandardNoiseCdf(const codec::NoiseSpec& spec, double z) {
  switch (spec.kind) {
    case wire::NoiseKind::None:
      return z >= 0.0 ? 1.0 : 0.0;
    case wire::NoiseKind::Gaussian:
    case wire::NoiseKind::Affine:
      return 0.5 * std::erfc(-z / std::numbers::sqrt2);
    case wire::NoiseKind::StudentT: {
      // P(|T| > |z|) = I_{nu/(nu+z^2)}(nu/2, 1/2).
      const double tail = 0.5 * RegularisedIncompleteBeta(spec.nu / 2.0, 0.5, spec.nu / (spec.nu + z * z));
      return z >= 0.0 ? 1.0 - tail : tail;
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

namespace {

// The continued fraction of I_x(a, b) (modified Lentz's method), which
// converges fast for x < (a + 1) / (a + b + 2).
double IncompleteBetaFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEpsilon = 1e-15;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    // Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    double numerator = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + numerator * d;
    c = 1.0 + numerator / c;
    if (std::fabs(d) < kTiny) d = kTiny;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    // Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    numerator = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + numerator * d;
    c = 1.0 + numerator / c;
    if (std::fabs(d) < kTiny) d = kTiny;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEpsilon) break;
  }
  return h;
}

}  // namespace

double RegularisedIncompleteBeta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  // x^a (1 - x)^b / (a B(a, b)), with B through log-gamma.
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * IncompleteBetaFraction(a, b, x) / a;
  // The symmetry I_x(a, b) = 1 - I_{1-x}(b, a) keeps the fraction fast.
  return 1.0 - front * IncompleteBetaFraction(b, a, 1.0 - x) / b;
}

}  // namespace edgefl

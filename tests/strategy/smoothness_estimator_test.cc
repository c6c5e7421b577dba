#include "strategy/smoothness_estimator.h"

#include <doctest/doctest.h>

#include <cmath>

namespace edgefl {
namespace {

TEST_CASE("samples on a line ell = L0 + L1 n give L0 and L1 back") {
  SmoothnessEstimator estimator(16);
  CHECK_FALSE(estimator.ready());
  for (int i = 0; i < 10; ++i) estimator.Add(2.0 + 3.0 * i, i);
  REQUIRE(estimator.ready());
  CHECK(estimator.l1() == doctest::Approx(3.0));
  CHECK(estimator.l0() == doctest::Approx(2.0));
}

TEST_CASE("a few wild samples (noise) move neither the slope nor, beyond its quantile, the intercept") {
  SmoothnessEstimator estimator(32);
  for (int i = 0; i < 30; ++i) estimator.Add(1.0 + 0.5 * i, i);
  estimator.Add(1e6, 3.0);  // a noisy gradient difference
  estimator.Add(0.0, 20.0);
  CHECK(estimator.l1() == doctest::Approx(0.5).epsilon(0.02));
  CHECK(estimator.l0() == doctest::Approx(1.0).epsilon(0.05));
}

TEST_CASE("the window keeps the latest samples: a change of regime is followed") {
  SmoothnessEstimator estimator(8);
  for (int i = 0; i < 8; ++i) estimator.Add(10.0 + 1.0 * i, i);
  for (int i = 0; i < 8; ++i) estimator.Add(1.0 + 4.0 * i, i);
  CHECK(estimator.l1() == doctest::Approx(4.0));
  CHECK(estimator.l0() == doctest::Approx(1.0));
  CHECK(estimator.samples() == 8);
}

TEST_CASE("the cosh's curvature, sqrt(lambda^2 + a^2 n^2), fits L0 = lambda and L1 = a within their range") {
  // f = (cosh(a x) - 1)/a^2 (d = 1): f'' = cosh(a x) = sqrt(1 + (a f')^2),
  // bounded by 1 + a |f'|. Samples from large gradients give the slope a;
  // samples near the optimum the intercept 1.
  const double a = 2.0;
  SmoothnessEstimator large(32), small(32);
  for (int i = 0; i < 32; ++i) {
    const double n = 5.0 + i;  // |f'| from 5 to 36
    large.Add(std::sqrt(1.0 + a * a * n * n), n);
    const double m = 0.01 * i;  // |f'| near 0
    small.Add(std::sqrt(1.0 + a * a * m * m), m);
  }
  CHECK(large.l1() == doctest::Approx(a).epsilon(0.01));
  CHECK(small.l0() == doctest::Approx(1.0).epsilon(0.05));
  // The fit bounds the samples it saw (the definition is an upper bound):
  // at least 90% of them lie under L0 + L1 n.
  int under = 0;
  for (int i = 0; i < 32; ++i) {
    const double n = 5.0 + i;
    under += std::sqrt(1.0 + a * a * n * n) <= large.l0() + large.l1() * n + 1e-12;
  }
  CHECK(under >= 28);
}

TEST_CASE("an estimator's samples survive Save/Load") {
  SmoothnessEstimator first(8), second(8);
  for (int i = 0; i < 5; ++i) first.Add(1.0 + 2.0 * i, i);
  StateWriter out;
  first.Save(out);
  StateReader in(out.bytes());
  REQUIRE(second.Load(in).ok());
  CHECK(second.l0() == first.l0());
  CHECK(second.l1() == first.l1());
  first.Add(20.0, 6.0);
  second.Add(20.0, 6.0);
  CHECK(second.l1() == first.l1());
}

}  // namespace
}  // namespace edgefl

#include "node/objective.h"

#include <doctest/doctest.h>

#include <vector>

namespace edgefl {
namespace {

TEST_CASE("quadratic loss and gradient match the closed form") {
  codec::ObjectiveSpec spec{wire::ObjectiveKind::Quadratic, 3, wire::SpectrumKind::Linear, 1.0, 3.0, 1.0};
  std::vector<float> lambda(3);
  Objective f(spec, lambda);
  CHECK(lambda == std::vector<float>{1.0f, 2.0f, 3.0f});
  const std::vector<float> x = {1.0f, -2.0f, 0.5f};
  std::vector<float> g(3);
  const double loss = f.LossAndGradient(x, g);
  CHECK(loss == doctest::Approx(0.5 * (1 * 1 + 2 * 4 + 3 * 0.25)));
  CHECK(g == std::vector<float>{1.0f, -4.0f, 1.5f});
}

TEST_CASE("quartic loss and gradient match the closed form") {
  codec::ObjectiveSpec spec{wire::ObjectiveKind::Quartic, 2, wire::SpectrumKind::Linear, 1.0, 1.0, 1.0};
  std::vector<float> lambda(2);
  Objective f(spec, lambda);
  const std::vector<float> x = {2.0f, -1.0f};
  std::vector<float> g(2);
  CHECK(f.LossAndGradient(x, g) == doctest::Approx((16.0 + 1.0) / 4));
  CHECK(g == std::vector<float>{8.0f, -1.0f});
}

TEST_CASE("a geometric spectrum spans lambda_min to lambda_max") {
  codec::ObjectiveSpec spec{wire::ObjectiveKind::Quadratic, 5, wire::SpectrumKind::Geometric, 0.01, 100.0, 1.0};
  std::vector<float> lambda(5);
  FillSpectrum(spec, lambda);
  CHECK(lambda[0] == doctest::Approx(0.01));
  CHECK(lambda[2] == doctest::Approx(1.0));
  CHECK(lambda[4] == doctest::Approx(100.0));
}

}  // namespace
}  // namespace edgefl

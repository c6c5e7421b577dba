#include "maths/synthetic_objective.h"

#include "maths/data_objective.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.h"

namespace edgefl {
namespace {

TEST_CASE("quadratic loss and gradient match the closed form") {
  codec::ObjectiveSpec spec{wire::ObjectiveKind::Quadratic, 3, wire::SpectrumKind::Linear, 1.0, 3.0, 1.0};
  std::vector<float> lambda(3);
  SyntheticObjective f(spec, lambda);
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
  SyntheticObjective f(spec, lambda);
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

TEST_CASE("cosh: loss, gradient and Hessian are the closed forms, and L0 = lambda_max, L1 = a bound its curvature") {
  codec::ObjectiveSpec spec{wire::ObjectiveKind::Cosh, 3, wire::SpectrumKind::Linear, 1.0, 2.0, 1.0};
  spec.cosh_scale = 2.0;
  std::vector<float> lambda(3), g(3), hv(3);
  SyntheticObjective f(spec, lambda);
  const std::vector<float> x = {0.5f, -1.0f, 0.0f}, v = {1.0f, 1.0f, 1.0f};
  const double a = 2.0;
  const double expected = (1.0 * (std::cosh(a * 0.5) - 1) + 1.5 * (std::cosh(-a) - 1)) / (a * a);
  CHECK(f.LossAndGradient(x, g) == doctest::Approx(expected).epsilon(1e-12));
  CHECK(g[0] == doctest::Approx(std::sinh(1.0) / 2));
  CHECK(g[1] == doctest::Approx(1.5 * std::sinh(-2.0) / 2));
  CHECK(g[2] == 0.0f);
  f.HessianVector(x, v, hv);
  CHECK(hv[0] == doctest::Approx(std::cosh(1.0)));
  CHECK(hv[2] == doctest::Approx(2.0));
  // Per coordinate, f'' = lambda cosh(a x) <= L0 + L1 |f'| with L0 = lambda, L1 = a.
  for (double t = -20; t <= 20; t += 0.01) {
    const double f2 = 2.0 * std::cosh(a * t), f1 = 2.0 * std::sinh(a * t) / a;
    CHECK(f2 <= 2.0 + a * std::fabs(f1) + 1e-9 * f2);
  }
  // The quartic's: 3 lambda x^2 <= lambda + 3 |lambda x^3|.
  for (double t = -5; t <= 5; t += 0.001) CHECK(3 * 2.0 * t * t <= 2.0 + 3 * std::fabs(2.0 * t * t * t) + 1e-12);
}

TEST_CASE("SyntheticSmoothness: ||H(x)|| <= L0 + L1 ||grad f(x)|| at random points of every synthetic objective") {
  for (const wire::ObjectiveKind kind : {wire::ObjectiveKind::Quadratic, wire::ObjectiveKind::Quartic,
                                         wire::ObjectiveKind::Cosh}) {
    codec::ObjectiveSpec spec{kind, 20, wire::SpectrumKind::Geometric, 0.1, 3.0, 1.0};
    spec.cosh_scale = 1.5;
    const SmoothnessConstants c = SyntheticSmoothness(spec);
    CHECK(c.l0 == 3.0);
    CHECK(c.l1 == (kind == wire::ObjectiveKind::Quadratic ? 0.0 : kind == wire::ObjectiveKind::Quartic ? 3.0 : 1.5));
    std::vector<float> lambda(20), x(20), g(20), e(20), he(20);
    SyntheticObjective f(spec, lambda);
    Rng rng(7);
    double tightest = 0.0;  // the largest ||H|| / (L0 + L1 ||grad||) seen
    for (int trial = 0; trial < 2000; ++trial) {
      const double scale = std::pow(10.0, rng.Uniform() * 3.0 - 2.0);  // 0.01 .. 10
      for (float& v : x) v = static_cast<float>(scale * (2.0 * rng.Uniform() - 1.0));
      f.Gradient(x, g);
      double grad_norm = 0.0, hessian_norm = 0.0;
      for (const float v : g) grad_norm += static_cast<double>(v) * v;
      for (size_t j = 0; j < x.size(); ++j) {  // H is diagonal: its norm is its largest entry
        std::fill(e.begin(), e.end(), 0.0f);
        e[j] = 1.0f;
        f.HessianVector(x, e, he);
        hessian_norm = std::max(hessian_norm, static_cast<double>(std::fabs(he[j])));
      }
      const double bound = c.l0 + c.l1 * std::sqrt(grad_norm);
      CHECK(hessian_norm <= bound * (1 + 1e-5));
      tightest = std::max(tightest, hessian_norm / bound);
    }
    CHECK(tightest > 0.3);  // a bound, not a wild overestimate everywhere
  }
}

TEST_CASE("Hessian-vector products of the synthetic objectives are their closed forms") {
  const std::vector<float> x = {2.0f, -1.0f, 0.5f}, v = {1.0f, 3.0f, -2.0f};
  std::vector<float> lambda(3), out(3);
  SyntheticObjective quadratic({wire::ObjectiveKind::Quadratic, 3, wire::SpectrumKind::Linear, 1.0, 3.0, 1.0}, lambda);
  quadratic.HessianVector(x, v, out);
  CHECK(out == std::vector<float>{1.0f, 6.0f, -6.0f});  // lambda_j v_j
  SyntheticObjective quartic({wire::ObjectiveKind::Quartic, 3, wire::SpectrumKind::Linear, 1.0, 3.0, 1.0}, lambda);
  quartic.HessianVector(x, v, out);
  CHECK(out == std::vector<float>{12.0f, 18.0f, -4.5f});  // 3 lambda_j x_j^2 v_j
}

TEST_CASE("a data objective's Hessian-vector product matches a second difference and is positive for logistic") {
  // Softmax regression on 40 random rows of 5 features, 3 classes: its
  // Hessian is positive semi-definite, and H v agrees with a one-sided
  // difference of gradients at a different step to the float precision the
  // central difference promises (three digits).
  constexpr uint32_t rows = 40, features = 5, classes = 3;
  const Classifier classifier(wire::ObjectiveKind::Logistic, features, classes, 0);
  const uint32_t d = classifier.ParameterCount();
  Rng rng(11);
  std::vector<float> data(rows * features), workspace(classifier.WorkspaceFloats(rows)), scratch(3 * d);
  std::vector<uint8_t> labels(rows);
  for (float& value : data) value = static_cast<float>(rng.Normal());
  for (uint8_t& label : labels) label = static_cast<uint8_t>(rng.Below(classes));
  DataObjective f(classifier, 1,
                  {.rows = data, .labels = labels, .batch_rows = {}, .batch_labels = {}, .workspace = workspace,
                   .hessian_scratch = scratch});
  std::vector<float> x(d), v(d), hv(d), g0(d), g1(d), shifted(d);
  for (float& value : x) value = static_cast<float>(0.3 * rng.Normal());
  for (float& value : v) value = static_cast<float>(rng.Normal());
  f.HessianVector(x, v, hv);
  double curvature = 0.0, norm = 0.0, error = 0.0;
  const float h = 1e-2f;
  f.LossAndGradient(x, g0);
  for (uint32_t j = 0; j < d; ++j) shifted[j] = x[j] + h * v[j];
  f.LossAndGradient(shifted, g1);
  for (uint32_t j = 0; j < d; ++j) {
    curvature += static_cast<double>(v[j]) * hv[j];
    const double difference = (g1[j] - g0[j]) / h;
    error = std::max(error, std::fabs(difference - hv[j]));
    norm = std::max(norm, std::fabs(static_cast<double>(hv[j])));
  }
  CHECK(curvature > 0.0);
  CHECK(norm > 0.0);
  // A one-sided step of 1e-2 errs by O(h ||H'||), a few percent at most here.
  CHECK(error < 0.05 * norm);
}

}  // namespace
}  // namespace edgefl

#include "maths/classifier.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"

namespace edgefl {
namespace {

// Central differences in double around float parameters: the check is
// |analytic - numeric| <= 2e-3 (1 + |numeric|), loose enough for float
// rounding at h = 2e-3 and tight enough to catch a wrong term.
void CheckGradient(const Classifier& model, uint32_t features, uint32_t rows) {
  Rng rng(5);
  std::vector<float> params(model.ParameterCount());
  model.InitialParameters(9, params);
  for (auto& p : params) p += static_cast<float>(0.1 * rng.Normal());
  std::vector<float> x(size_t{rows} * features);
  for (auto& v : x) v = static_cast<float>(rng.Uniform());
  std::vector<uint8_t> labels(rows);
  for (auto& l : labels) l = static_cast<uint8_t>(rng.Below(3));
  std::vector<float> grad(params.size()), workspace(model.WorkspaceFloats(rows));
  model.LossAndGradient(params, x, labels, grad, workspace);
  for (size_t i = 0; i < params.size(); i += 3) {
    const float saved = params[i];
    const float h = 2e-3f;
    params[i] = saved + h;
    const double up = model.LossAndGradient(params, x, labels, {}, workspace);
    params[i] = saved - h;
    const double down = model.LossAndGradient(params, x, labels, {}, workspace);
    params[i] = saved;
    const double numeric = (up - down) / (2.0 * h);
    CHECK_MESSAGE(std::fabs(grad[i] - numeric) <= 2e-3 * (1 + std::fabs(numeric)), "parameter " << i);
  }
}

TEST_CASE("softmax regression's gradient matches finite differences") {
  Classifier model(wire::ObjectiveKind::Logistic, 5, 3, 0);
  CHECK(model.ParameterCount() == 3 * 6);
  CheckGradient(model, 5, 7);
}

TEST_CASE("the MLP's gradient matches finite differences") {
  Classifier model(wire::ObjectiveKind::Mlp, 5, 3, 4);
  CHECK(model.ParameterCount() == 4 * 6 + 3 * 5);
  CheckGradient(model, 5, 7);
}

TEST_CASE("zero parameters give the uniform loss log(classes) and chance accuracy") {
  Classifier model(wire::ObjectiveKind::Logistic, 2, 4, 0);
  std::vector<float> params(model.ParameterCount(), 0.0f), workspace(model.WorkspaceFloats(2));
  const std::vector<float> x = {1, 2, 3, 4};
  const std::vector<uint8_t> labels = {0, 3};
  uint32_t correct = 0;
  CHECK(model.LossAndGradient(params, x, labels, {}, workspace, &correct) == doctest::Approx(std::log(4.0)));
  CHECK(correct == 1);  // ties pick class 0
}

}  // namespace
}  // namespace edgefl

#include "maths/synthetic_objective.h"

#include <Eigen/Core>
#include <cassert>
#include <cmath>
#include <limits>

namespace edgefl {
namespace {

using ConstVector = Eigen::Map<const Eigen::ArrayXf>;
using Vector = Eigen::Map<Eigen::ArrayXf>;

ConstVector View(std::span<const float> v) { return ConstVector(v.data(), static_cast<Eigen::Index>(v.size())); }

}  // namespace

void FillSpectrum(const codec::ObjectiveSpec& spec, std::span<float> lambda) {
  const size_t d = lambda.size();
  for (size_t j = 0; j < d; ++j) {
    const double t = d > 1 ? static_cast<double>(j) / static_cast<double>(d - 1) : 0.0;
    double value = 0.0;
    switch (spec.spectrum) {
      case wire::SpectrumKind::Linear:
        value = spec.lambda_min + (spec.lambda_max - spec.lambda_min) * t;
        break;
      case wire::SpectrumKind::Geometric:
        value = spec.lambda_min * std::pow(spec.lambda_max / spec.lambda_min, t);
        break;
    }
    lambda[j] = static_cast<float>(value);
  }
}

SmoothnessConstants SyntheticSmoothness(const codec::ObjectiveSpec& spec) {
  switch (spec.kind) {
    case wire::ObjectiveKind::Quadratic:
      return {spec.lambda_max, 0.0};
    case wire::ObjectiveKind::Quartic:
      return {spec.lambda_max, 3.0};
    case wire::ObjectiveKind::Cosh:
      return {spec.lambda_max, spec.cosh_scale};
    case wire::ObjectiveKind::Logistic:
    case wire::ObjectiveKind::Mlp:
      break;
  }
  assert(false && "data objectives have no closed-form smoothness constants");
  return {};
}

SyntheticObjective::SyntheticObjective(const codec::ObjectiveSpec& spec, std::span<float> lambda)
    : spec_(spec), lambda_(lambda) {
  FillSpectrum(spec, lambda);
}

double SyntheticObjective::Loss(std::span<const float> x) const {
  // Accumulate in double: the loss is a metric, and at the noise floor the
  // terms are tiny beside their count.
  double sum = 0.0;
  const size_t d = lambda_.size();
  switch (spec_.kind) {
    case wire::ObjectiveKind::Quadratic:
      for (size_t j = 0; j < d; ++j) sum += lambda_[j] * (static_cast<double>(x[j]) * x[j]);
      return 0.5 * sum;
    case wire::ObjectiveKind::Quartic:
      for (size_t j = 0; j < d; ++j) {
        const double x2 = static_cast<double>(x[j]) * x[j];
        sum += lambda_[j] * x2 * x2;
      }
      return 0.25 * sum;
    case wire::ObjectiveKind::Cosh: {
      // cosh(y) - 1 = 2 sinh(y/2)^2, without the cancellation near 0.
      const double a = spec_.cosh_scale;
      for (size_t j = 0; j < d; ++j) {
        const double half = std::sinh(0.5 * a * x[j]);
        sum += lambda_[j] * 2.0 * half * half;
      }
      return sum / (a * a);
    }
    case wire::ObjectiveKind::Logistic:  // DataObjective's
    case wire::ObjectiveKind::Mlp:
      break;
  }
  assert(false && "a data objective has no synthetic loss");
  return std::numeric_limits<double>::quiet_NaN();
}

double SyntheticObjective::LossAndGradient(std::span<const float> x, std::span<float> grad) {
  if (!grad.empty()) Gradient(x, grad);
  return Loss(x);
}

void SyntheticObjective::Gradient(std::span<const float> x, std::span<float> grad) const {
  const auto n = static_cast<Eigen::Index>(x.size());
  Vector g(grad.data(), n);
  const Eigen::Map<const Eigen::ArrayXf> xs(x.data(), n);
  const auto lambda = View(lambda_);
  switch (spec_.kind) {
    case wire::ObjectiveKind::Quadratic:
      g = lambda * xs;
      break;
    case wire::ObjectiveKind::Quartic:
      g = lambda * xs * xs * xs;  // ((lambda x) x) x in f32
      break;
    case wire::ObjectiveKind::Cosh: {
      // lambda_j sinh(a x_j) / a in double, rounded once to f32.
      const double a = spec_.cosh_scale;
      for (size_t j = 0; j < x.size(); ++j) {
        grad[j] = static_cast<float>(lambda_[j] * std::sinh(a * x[j]) / a);
      }
      break;
    }
    case wire::ObjectiveKind::Logistic:  // DataObjective's
    case wire::ObjectiveKind::Mlp:
      assert(false && "a data objective has no synthetic gradient");
      g.setConstant(std::numeric_limits<float>::quiet_NaN());
      break;
  }
}

void SyntheticObjective::HessianVector(std::span<const float> x, std::span<const float> v, std::span<float> out) {
  const size_t d = lambda_.size();
  switch (spec_.kind) {
    case wire::ObjectiveKind::Quadratic:
      for (size_t j = 0; j < d; ++j) out[j] = lambda_[j] * v[j];
      return;
    case wire::ObjectiveKind::Quartic:
      for (size_t j = 0; j < d; ++j) out[j] = 3.0f * lambda_[j] * x[j] * x[j] * v[j];
      return;
    case wire::ObjectiveKind::Cosh:
      for (size_t j = 0; j < d; ++j) {
        out[j] = static_cast<float>(lambda_[j] * std::cosh(spec_.cosh_scale * x[j]) * v[j]);
      }
      return;
    case wire::ObjectiveKind::Logistic:  // DataObjective's
    case wire::ObjectiveKind::Mlp:
      break;
  }
  assert(false && "a data objective has no synthetic Hessian");
}

void SyntheticObjective::InitialPoint(uint64_t, std::span<float> x) const {
  for (float& v : x) v = static_cast<float>(spec_.initial_value);
}

}  // namespace edgefl

#include "sim/scaling_rules.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "maths/compressor_maths.h"
#include "maths/gradient_noise.h"
#include "sim/closed_forms.h"

namespace edgefl {
namespace {

using Kind = wire::CompressorKind;

bool IsSign(const ExperimentConfig& c) {
  return c.compressor.kind == Kind::Sign && c.aggregator.kind == AggregatorKind::kSignMean;
}

double Omega(const ExperimentConfig& c) { return CompressorOmega(c.compressor, c.objective.dimension); }

// The floor's proxy: eta (1 + omega) s^2 / N, or eta s / N for sign.
double Proxy(const ExperimentConfig& c) {
  if (IsSign(c)) return c.step.eta * NoiseScale(c.noise, c.batch_size) / c.nodes;
  return c.step.eta * (1.0 + Omega(c)) * NoiseVariance(c.noise, c.batch_size) / c.nodes;
}

double LambdaMax(const ExperimentConfig& c) { return std::max(c.objective.lambda_min, c.objective.lambda_max); }
double LambdaMin(const ExperimentConfig& c) { return std::min(c.objective.lambda_min, c.objective.lambda_max); }

double Stability(const ExperimentConfig& c) {
  if (IsSign(c)) return std::numeric_limits<double>::quiet_NaN();
  return c.step.eta * LambdaMax(c) * (1.0 + Omega(c) / c.nodes);
}

bool Guaranteed(const ExperimentConfig& c) {
  if (IsSign(c)) return true;  // P1 Thm 4 sets no condition on eta
  const double omega = Omega(c), l = LambdaMax(c);
  return omega == 0.0 || c.step.eta < 2.0 * LambdaMin(c) * c.nodes / (l * l * omega);
}

Status Check(const ExperimentConfig& c, const char* which) {
  if (c.step.rule != StepRuleKind::kConstant || c.server.optimizer != ServerOptimizerKind::kSgd) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the %s config: the scaling rules are for a constant step with sgd at the server "
                         "(step.rule = \"constant\", server.optimizer = \"sgd\")",
                         which);
  }
  if (!IsSign(c) && (c.aggregator.kind != AggregatorKind::kMean || !std::isfinite(Omega(c)))) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the %s config: the scaling rules are for an unbiased compressor with the mean, or sign "
                         "with sign-mean (compressor.kind = \"%s\", aggregator.kind is not)",
                         which, codec::CompressorName(c.compressor.kind));
  }
  if (c.aggregator.max_update_norm > 0.0) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the %s config: the scaling rules do not model norm bounding (aggregator.max_update_norm = %g)",
                         which, c.aggregator.max_update_norm);
  }
  if (!std::isfinite(Proxy(c)) || !(Proxy(c) > 0.0)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the %s config: its noise has no finite, non-zero variance, so it has no floor to keep", which);
  }
  return Status::Ok();
}

}  // namespace

Status PlanScaling(const ExperimentConfig& base, const ExperimentConfig& changed, ScalingPlan* plan) {
  EDGEFL_RETURN_IF_ERROR(Check(base, "base"));
  EDGEFL_RETURN_IF_ERROR(Check(changed, "changed"));
  if (IsSign(base) != IsSign(changed)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the change turns DCSGD into DSignSGD or back: their floors follow different rules "
                         "(docs/theory.md 5), so there is no setting that keeps one for the other");
  }
  *plan = {};
  plan->sign = IsSign(base);
  plan->omega_base = plan->sign ? 0.0 : Omega(base);
  plan->omega_changed = plan->sign ? 0.0 : Omega(changed);
  plan->ratio = Proxy(changed) / Proxy(base);
  plan->base_floor = PredictedStationaryLoss(base);
  plan->changed_floor = PredictedStationaryLoss(changed);
  plan->changed_stability = Stability(changed);
  const double r = plan->ratio;
  const auto propose = [&](const char* key, const auto& apply) {
    ScalingProposal p;
    p.key = key;
    p.config = changed;
    p.value = apply(p.config);
    p.kept_ratio = Proxy(p.config) / Proxy(base);
    p.floor = PredictedStationaryLoss(p.config);
    p.stability = Stability(p.config);
    p.guaranteed = Guaranteed(p.config);
    plan->proposals.push_back(std::move(p));
  };
  if (changed.step.eta == base.step.eta) {
    propose("step.eta", [&](ExperimentConfig& c) { return c.step.eta /= r; });
  }
  if (changed.nodes == base.nodes) {
    propose("run.nodes", [&](ExperimentConfig& c) {
      c.nodes = static_cast<uint32_t>(std::clamp(std::ceil(c.nodes * r - 1e-9), 1.0, 4096.0));
      return static_cast<double>(c.nodes);
    });
  }
  if (changed.batch_size == base.batch_size) {
    propose("noise.batch_size", [&](ExperimentConfig& c) {
      const double factor = plan->sign ? r * r : r;
      c.batch_size = static_cast<uint32_t>(std::clamp(std::ceil(c.batch_size * factor - 1e-9), 1.0, double{1 << 24}));
      return static_cast<double>(c.batch_size);
    });
  }
  return Status::Ok();
}

}  // namespace edgefl

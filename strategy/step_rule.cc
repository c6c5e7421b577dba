#include "strategy/step_rule.h"

#include <algorithm>
#include <cmath>

namespace edgefl {
namespace {

// eta, or a schedule of it that depends on k alone.
class ScheduleRule final : public StepRule {
 public:
  explicit ScheduleRule(const StepConfig& config) : config_(config) {}

  double StepSize(const StepInputs& in) override {
    const double k = in.round;
    switch (config_.rule) {
      case StepRuleKind::kDecay:
        return config_.eta / std::pow(1.0 + k, config_.decay_power);
      case StepRuleKind::kDecayTime:
        return config_.eta / std::pow(1.0 + k * config_.eta, config_.decay_power);
      case StepRuleKind::kStepDecay:
        return config_.eta * std::pow(config_.decay_factor, std::floor(k / config_.decay_every));
      case StepRuleKind::kConstant:
      case StepRuleKind::kNormalized:
      case StepRuleKind::kClip:
      case StepRuleKind::kVankov:
      case StepRuleKind::kL0L1Gd:
      case StepRuleKind::kL0L1:
        break;
    }
    return config_.eta;
  }

 private:
  StepConfig config_;
};

// The rules that normalise by n_k.
class NormalizingRule final : public StepRule {
 public:
  NormalizingRule(const StepConfig& config, const StepRunFacts& facts) : config_(config), facts_(facts) {}

  double StepSize(const StepInputs& in) override {
    const double n = in.norm_estimate;
    const double l0 = in.l0, l1 = in.l1;
    switch (config_.rule) {
      case StepRuleKind::kNormalized:
        return n > 0.0 ? config_.eta / n : 0.0;
      case StepRuleKind::kClip:
        return n > 0.0 ? std::min(config_.eta, config_.clip_norm / n) : config_.eta;
      case StepRuleKind::kVankov:
        return 1.0 / (l0 + 1.5 * l1 * n);
      case StepRuleKind::kL0L1Gd:
        return config_.eta / (l0 + l1 * n);
      case StepRuleKind::kL0L1: {
        const double schedule = std::pow(1.0 + in.round, -config_.schedule_power);
        const L0L1Coefficients c = L0L1StepCoefficients(l0, l1, facts_);
        return 2.0 * config_.eps * schedule / (c.a + c.b * n);
      }
      case StepRuleKind::kConstant:
      case StepRuleKind::kDecay:
      case StepRuleKind::kDecayTime:
      case StepRuleKind::kStepDecay:
        break;
    }
    return config_.eta;
  }

 private:
  StepConfig config_;
  StepRunFacts facts_;
};

}  // namespace

L0L1Coefficients L0L1StepCoefficients(double l0, double l1, const StepRunFacts& facts) {
  const double d = facts.dimension, n = facts.nodes, omega = facts.omega;
  const double rho = 1.0 + (omega + d * facts.sigma1_squared * (1.0 + omega)) / n;
  return {.a = l0 * rho + l1 * d * facts.sigma0_squared * (1.0 + omega) / n, .b = l1 * rho};
}

double NextNormEstimate(const StepConfig& step, double previous, uint32_t steps_taken, double direction_norm,
                        double nodes_grad_norm) {
  switch (step.norm) {
    case NormEstimateKind::kAggregate:
      return direction_norm;
    case NormEstimateKind::kNodes:
      return std::isfinite(nodes_grad_norm) ? nodes_grad_norm : direction_norm;
    case NormEstimateKind::kRunning:
      return steps_taken == 0 ? direction_norm
                              : step.norm_smoothing * previous + (1.0 - step.norm_smoothing) * direction_norm;
  }
  return direction_norm;
}

std::unique_ptr<StepRule> MakeStepRule(const StepConfig& config, const StepRunFacts& facts) {
  if (UsesNormEstimate(config.rule)) return std::make_unique<NormalizingRule>(config, facts);
  return std::make_unique<ScheduleRule>(config);
}

}  // namespace edgefl

#include "coordinator/step_rule.h"

#include <cmath>

namespace edgefl {
namespace {

class ConstantRule final : public StepRule {
 public:
  explicit ConstantRule(double eta) : eta_(eta) {}
  double StepSize(const StepInputs&) override { return eta_; }

 private:
  double eta_;
};

// Robbins-Monro for a power in (1/2, 1]; 1/2 is P2's schedule (Thm 4.4).
class DecayRule final : public StepRule {
 public:
  DecayRule(double eta, double power) : eta_(eta), power_(power) {}
  double StepSize(const StepInputs& in) override { return eta_ / std::pow(1.0 + in.round, power_); }

 private:
  double eta_, power_;
};

}  // namespace

std::unique_ptr<StepRule> MakeStepRule(const StepConfig& config) {
  switch (config.rule) {
    case StepRuleKind::kConstant:
      return std::make_unique<ConstantRule>(config.eta);
    case StepRuleKind::kDecay:
      return std::make_unique<DecayRule>(config.eta, config.decay_power);
  }
  return nullptr;
}

}  // namespace edgefl

#include "coordinator/step_rule.h"

#include <cmath>

namespace edgefl {

double StepSize(const StepConfig& config, const StepContext& context) {
  switch (config.rule) {
    case StepRuleKind::kConstant:
      return config.eta;
    case StepRuleKind::kDecay:
      return config.eta / std::pow(1.0 + context.round, config.decay_power);
  }
  return config.eta;
}

}  // namespace edgefl

// StepRule: the step size eta_k of round k from the round's context.
//   constant  eta_k = eta
//   decay     eta_k = eta / (1 + k)^p       (p = 1/2: THEORY.md 4.2, Thm 4.4)
// The (L0,L1)-aware rules of THEORY.md 4.3 plug in here with the same
// context. Stateless; thread-safe.
#pragma once

#include <cstdint>

#include "coordinator/experiment_config.h"

namespace edgefl {

struct StepContext {
  uint32_t round = 0;
  double direction_norm = 0.0;  // ||aggregate||
};

double StepSize(const StepConfig& config, const StepContext& context);

}  // namespace edgefl

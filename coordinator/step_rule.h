// StepRule: the step size eta_k of round k, from what the round tells it.
//   constant  eta_k = eta
//   decay     eta_k = eta / (1 + k)^p       (p = 1/2: docs/theory.md 4.2, P2 Thm 4.4)
// A rule may keep state across rounds (an online estimate, a running mean),
// which it saves and loads with the run's checkpoint. The (L0,L1)-aware
// rules of docs/theory.md 4.3 plug in here. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "coordinator/experiment_config.h"
#include "coordinator/state_io.h"

namespace edgefl {

// What a rule may use to choose eta_k.
struct StepInputs {
  uint32_t round = 0;                  // k
  uint32_t steps_taken = 0;            // rounds before k that stepped
  double step_sizes_sum = 0.0;         // sum of their eta (SDE time t_k)
  std::span<const double> direction;       // this round's aggregate
  double direction_norm = 0.0;             // ||direction||
  std::span<const double> last_direction;  // the aggregate of the last step (empty before it)
  std::span<const double> last_change;     // the model change of the last step (empty before it)
};

class StepRule {
 public:
  virtual ~StepRule() = default;
  virtual double StepSize(const StepInputs& in) = 0;
  virtual void Save(StateWriter&) const {}
  virtual Status Load(StateReader&) { return Status::Ok(); }
};

std::unique_ptr<StepRule> MakeStepRule(const StepConfig& config);

}  // namespace edgefl

// ServerStep: turns a round's aggregate into the model change and applies
// it, x <- x + change. The step rule gives eta_k; the server optimiser
// (server_optimizer.h: sgd, momentum, adagrad, adam, yogi) turns the
// direction and eta_k into the change. ServerStep keeps what rules need across rounds (steps
// taken, the sum of step sizes, the last change) and saves and loads it with
// the rule's and the optimiser's state. Memory: two O(d) vectors (the last
// direction and change) besides the optimiser's. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "coordinator/server_optimizer.h"
#include "coordinator/step_rule.h"

namespace edgefl {

class ServerStep {
 public:
  // The config's rule and optimiser.
  ServerStep(const StepConfig& step, const ServerConfig& server, uint32_t dimension);
  ServerStep(std::unique_ptr<StepRule> rule, std::unique_ptr<ServerOptimizer> optimizer, uint32_t dimension);

  // Steps `model` along `direction` (round `round`'s aggregate); returns eta_k.
  double Apply(uint32_t round, std::span<const double> direction, double direction_norm, std::span<float> model);

  uint32_t steps_taken() const { return steps_taken_; }
  double step_sizes_sum() const { return step_sizes_sum_; }
  // The model change of the last step (what a step-form RoundStart would
  // broadcast); zeros before the first.
  std::span<const double> last_change() const { return change_; }

  void Save(StateWriter& out) const;
  Status Load(StateReader& in);

 private:
  std::unique_ptr<StepRule> rule_;
  std::unique_ptr<ServerOptimizer> optimizer_;
  uint32_t steps_taken_ = 0;
  double step_sizes_sum_ = 0.0;
  std::vector<double> last_direction_;
  std::vector<double> change_;
};

}  // namespace edgefl

// ServerStep: turns a round's aggregate into the model change and applies
// it, x <- x + change. The step rule gives eta_k; the server optimiser
// (server_optimizer.h: sgd, momentum, adagrad, adam, yogi) turns the
// direction and eta_k into the change. With step.smoothness = "online" it
// fits L0 and L1 from the exact gradients before and after each step
// (ObserveGradients; smoothness_estimator.h) and hands the rule the fit;
// until the fit has its samples the rule steps with the declared (or the
// objective's) L0 and L1, or, when none are known (l0 = l1 = 0: a data
// objective whose constants are left to the fit), the step is a normalised
// one, eta / n_k.
// ServerStep keeps what rules need across rounds (steps
// taken, the sum of step sizes, the last change) and saves and loads it with
// the rule's and the optimiser's state. Memory: two O(d) vectors (the last
// direction and change) besides the optimiser's. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "experiment/experiment_config.h"
#include "strategy/server_optimizer.h"
#include "strategy/smoothness_estimator.h"
#include "strategy/step_rule.h"

namespace edgefl {

// What the step rules need of the run: d, N, omega (0 for a biased
// compressor) and the per-coordinate noise variance.
StepRunFacts StepFactsOf(const ExperimentConfig& config);

// One round's aggregate, as the server step takes it.
struct RoundAggregate {
  uint32_t round = 0;
  std::span<const double> direction;
  double direction_norm = 0.0;
  double nodes_grad_norm = 0.0;  // mean of the accepted nodes' reported norms (NaN when none was finite)
};

class ServerStep {
 public:
  // The config's rule and optimiser; `facts` what the rule needs of the run.
  ServerStep(const StepConfig& step, const ServerConfig& server, const StepRunFacts& facts, uint32_t dimension);
  // `step` gives the norm estimate and the smoothness constants and source.
  ServerStep(std::unique_ptr<StepRule> rule, std::unique_ptr<ServerOptimizer> optimizer, const StepConfig& step,
             uint32_t dimension);

  // Steps `model` along the round's aggregate; returns eta_k. The same as
  // Plan, then x_j = f32(x_j + change_j).
  double Apply(const RoundAggregate& aggregate, std::span<float> model);
  // The step's size eta_k and its change (last_change()), with everything
  // the rule and the optimiser keep, without moving a model: for a caller
  // that moves it its own way (a step-form downlink, downlink_step.h).
  double Plan(const RoundAggregate& aggregate);
  // x_j = f32(x_j + change_j): the model moved by the planned change.
  void Move(std::span<float> model) const;
  // step.smoothness = "online": the exact gradient of f at the model before
  // the last Apply and after it, which with that step's change give one
  // sample of local smoothness for the steps that follow. The round's
  // aggregate would serve too, but it carries the nodes' noise and the
  // compressor's, which over a small step swamp the change of the gradient
  // (d = 200, omega = 8, sigma1 = 0.1: by a factor of about 200) and drive
  // the fit, and the step with it, to nothing. The coordinator evaluates
  // the gradient after every step anyway (model_evaluator.h).
  void ObserveGradients(std::span<const float> before, std::span<const float> after);
  // The same, for an aggregate whose norm estimate is its own norm.
  double Apply(uint32_t round, std::span<const double> direction, double direction_norm, std::span<float> model) {
    return Apply({round, direction, direction_norm, direction_norm}, model);
  }

  // n_k of the last step (step.norm).
  double norm_estimate() const { return norm_estimate_; }
  // The L0 and L1 the last step used, and whether the online fit gave them.
  double l0() const { return l0_; }
  double l1() const { return l1_; }
  bool smoothness_estimated() const { return estimated_; }

  uint32_t steps_taken() const { return steps_taken_; }
  double step_sizes_sum() const { return step_sizes_sum_; }
  // The model change of the last step, in double; zeros before the first.
  std::span<const double> last_change() const { return change_; }

  void Save(StateWriter& out) const;
  Status Load(StateReader& in);

 private:
  // Whether L0 and L1 are left to the online fit with no starting values.
  bool CautiousStart() const;
  // Adds the sample the last step and this direction give, and picks L0, L1.
  void UpdateSmoothness();

  std::unique_ptr<StepRule> rule_;
  std::unique_ptr<ServerOptimizer> optimizer_;
  StepConfig step_;             // its norm estimate and smoothness constants
  double norm_estimate_ = 0.0;  // the running mean, for kRunning
  SmoothnessEstimator smoothness_;
  double l0_, l1_;
  bool estimated_ = false;
  double last_direction_norm_ = 0.0;  // ||last direction||; kept in checkpoints, no longer read
  uint32_t steps_taken_ = 0;
  double step_sizes_sum_ = 0.0;
  std::vector<double> last_direction_;
  std::vector<double> change_;
};

}  // namespace edgefl

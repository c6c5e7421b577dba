#include "coordinator/server_step.h"

#include <algorithm>
#include <cmath>

namespace edgefl {

ServerStep::ServerStep(const StepConfig& step, const ServerConfig& server, const StepRunFacts& facts,
                       uint32_t dimension)
    : ServerStep(MakeStepRule(step, facts), MakeServerOptimizer(server, dimension), step.norm, step.norm_smoothing,
                 dimension) {}

ServerStep::ServerStep(std::unique_ptr<StepRule> rule, std::unique_ptr<ServerOptimizer> optimizer,
                       NormEstimateKind norm, double norm_smoothing, uint32_t dimension)
    : rule_(std::move(rule)),
      optimizer_(std::move(optimizer)),
      norm_(norm),
      norm_smoothing_(norm_smoothing),
      last_direction_(dimension),
      change_(dimension) {}

double ServerStep::Apply(const RoundAggregate& aggregate, std::span<float> model) {
  const std::span<const double> direction = aggregate.direction;
  switch (norm_) {
    case NormEstimateKind::kAggregate:
      norm_estimate_ = aggregate.direction_norm;
      break;
    case NormEstimateKind::kNodes:
      // Nodes that report no finite norm leave the aggregate's.
      norm_estimate_ = std::isfinite(aggregate.nodes_grad_norm) ? aggregate.nodes_grad_norm : aggregate.direction_norm;
      break;
    case NormEstimateKind::kRunning:
      norm_estimate_ = steps_taken_ == 0
                           ? aggregate.direction_norm
                           : norm_smoothing_ * norm_estimate_ + (1.0 - norm_smoothing_) * aggregate.direction_norm;
      break;
  }
  // What the last step left, or nothing before the first.
  const auto last = [this](const std::vector<double>& v) {
    return steps_taken_ > 0 ? std::span<const double>(v) : std::span<const double>();
  };
  const StepInputs in{.round = aggregate.round,
                      .steps_taken = steps_taken_,
                      .step_sizes_sum = step_sizes_sum_,
                      .direction = direction,
                      .direction_norm = aggregate.direction_norm,
                      .norm_estimate = norm_estimate_,
                      .last_direction = last(last_direction_),
                      .last_change = last(change_)};
  const double eta = rule_->StepSize(in);
  optimizer_->Change(direction, eta, change_);
  // x + (-eta d) rounds exactly as x - eta d: negation is exact.
  for (size_t j = 0; j < model.size(); ++j) model[j] = static_cast<float>(model[j] + change_[j]);
  std::copy(direction.begin(), direction.end(), last_direction_.begin());
  ++steps_taken_;
  step_sizes_sum_ += eta;
  return eta;
}

void ServerStep::Save(StateWriter& out) const {
  out.Put(steps_taken_);
  out.Put(step_sizes_sum_);
  out.Put(norm_estimate_);
  out.PutSpan(std::span<const double>(last_direction_));
  out.PutSpan(std::span<const double>(change_));
  rule_->Save(out);
  optimizer_->Save(out);
}

Status ServerStep::Load(StateReader& in) {
  EDGEFL_RETURN_IF_ERROR(in.Get(&steps_taken_));
  EDGEFL_RETURN_IF_ERROR(in.Get(&step_sizes_sum_));
  EDGEFL_RETURN_IF_ERROR(in.Get(&norm_estimate_));
  EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<double>(last_direction_)));
  EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<double>(change_)));
  EDGEFL_RETURN_IF_ERROR(rule_->Load(in));
  return optimizer_->Load(in);
}

}  // namespace edgefl

#include "coordinator/server_step.h"

#include <algorithm>

namespace edgefl {

ServerStep::ServerStep(const StepConfig& step, const ServerConfig& server, uint32_t dimension)
    : ServerStep(MakeStepRule(step), MakeServerOptimizer(server, dimension), dimension) {}

ServerStep::ServerStep(std::unique_ptr<StepRule> rule, std::unique_ptr<ServerOptimizer> optimizer, uint32_t dimension)
    : rule_(std::move(rule)), optimizer_(std::move(optimizer)), last_direction_(dimension), change_(dimension) {}

double ServerStep::Apply(uint32_t round, std::span<const double> direction, double direction_norm,
                         std::span<float> model) {
  // What the last step left, or nothing before the first.
  const auto last = [this](const std::vector<double>& v) {
    return steps_taken_ > 0 ? std::span<const double>(v) : std::span<const double>();
  };
  const StepInputs in{.round = round,
                      .steps_taken = steps_taken_,
                      .step_sizes_sum = step_sizes_sum_,
                      .direction = direction,
                      .direction_norm = direction_norm,
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
  out.PutSpan(std::span<const double>(last_direction_));
  out.PutSpan(std::span<const double>(change_));
  rule_->Save(out);
  optimizer_->Save(out);
}

Status ServerStep::Load(StateReader& in) {
  EDGEFL_RETURN_IF_ERROR(in.Get(&steps_taken_));
  EDGEFL_RETURN_IF_ERROR(in.Get(&step_sizes_sum_));
  EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<double>(last_direction_)));
  EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<double>(change_)));
  EDGEFL_RETURN_IF_ERROR(rule_->Load(in));
  return optimizer_->Load(in);
}

}  // namespace edgefl

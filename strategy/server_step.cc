#include "strategy/server_step.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "maths/compressor_maths.h"
#include "maths/gradient_noise.h"
#include "maths/vector_norms.h"

namespace edgefl {

StepRunFacts StepFactsOf(const ExperimentConfig& config) {
  const double omega = CompressorOmega(config.compressor, config.objective.dimension);
  return {.dimension = config.objective.dimension,
          .nodes = config.nodes,
          .omega = std::isfinite(omega) ? omega : 0.0,
          .sigma0_squared = NoiseVariance(config.noise, config.batch_size),
          .sigma1_squared = NoiseVarianceSlope(config.noise, config.batch_size)};
}

ServerStep::ServerStep(const StepConfig& step, const ServerConfig& server, const StepRunFacts& facts,
                       uint32_t dimension)
    : ServerStep(MakeStepRule(step, facts), MakeServerOptimizer(server, dimension), step, dimension) {}

ServerStep::ServerStep(std::unique_ptr<StepRule> rule, std::unique_ptr<ServerOptimizer> optimizer,
                       const StepConfig& step, uint32_t dimension)
    : rule_(std::move(rule)),
      optimizer_(std::move(optimizer)),
      step_(step),
      smoothness_(step.smoothness_window),
      l0_(step.l0),
      l1_(step.l1),
      last_direction_(dimension),
      change_(dimension) {}

void ServerStep::ObserveGradients(std::span<const float> before, std::span<const float> after) {
  if (step_.smoothness != SmoothnessSource::kOnline || steps_taken_ == 0) return;
  // The last step moved the model by change_, from where `before` was
  // computed to where `after` is: one sample of local smoothness.
  const double moved = EuclideanNorm(change_);
  if (!(moved > 0.0)) return;
  double difference = 0.0, before_norm = 0.0, after_norm = 0.0;
  for (size_t j = 0; j < before.size(); ++j) {
    const double b = before[j], a = after[j];
    difference += (a - b) * (a - b);
    before_norm += b * b;
    after_norm += a * a;
  }
  smoothness_.Add(std::sqrt(difference) / moved, 0.5 * (std::sqrt(before_norm) + std::sqrt(after_norm)));
}

void ServerStep::UpdateSmoothness() {
  if (step_.smoothness != SmoothnessSource::kOnline) return;
  estimated_ = smoothness_.ready();
  l0_ = estimated_ ? smoothness_.l0() : step_.l0;
  l1_ = estimated_ ? smoothness_.l1() : step_.l1;
  if (!estimated_ && CautiousStart()) l0_ = l1_ = std::numeric_limits<double>::quiet_NaN();
}

bool ServerStep::CautiousStart() const {
  return step_.smoothness == SmoothnessSource::kOnline && UsesSmoothness(step_.rule) && step_.l0 == 0.0 &&
         step_.l1 == 0.0;
}

double ServerStep::Apply(const RoundAggregate& aggregate, std::span<float> model) {
  const double eta = Plan(aggregate);
  Move(model);
  return eta;
}

void ServerStep::Move(std::span<float> model) const {
  // x + (-eta d) rounds exactly as x - eta d: negation is exact.
  for (size_t j = 0; j < model.size(); ++j) model[j] = static_cast<float>(model[j] + change_[j]);
}

double ServerStep::Plan(const RoundAggregate& aggregate) {
  const std::span<const double> direction = aggregate.direction;
  norm_estimate_ = NextNormEstimate(step_, norm_estimate_, steps_taken_, aggregate.direction_norm,
                                    aggregate.nodes_grad_norm);
  UpdateSmoothness();
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
                      .l0 = l0_,
                      .l1 = l1_,
                      .last_direction = last(last_direction_),
                      .last_change = last(change_)};
  // Nothing to build the rule's step on yet: a normalised step, eta long.
  const bool cautious = !estimated_ && CautiousStart();
  const double eta = !cautious ? rule_->StepSize(in) : norm_estimate_ > 0.0 ? step_.eta / norm_estimate_ : 0.0;
  optimizer_->Change(direction, eta, change_);
  std::copy(direction.begin(), direction.end(), last_direction_.begin());
  last_direction_norm_ = aggregate.direction_norm;
  ++steps_taken_;
  step_sizes_sum_ += eta;
  return eta;
}

void ServerStep::Save(StateWriter& out) const {
  out.Put(steps_taken_);
  out.Put(step_sizes_sum_);
  out.Put(norm_estimate_);
  out.Put(last_direction_norm_);
  smoothness_.Save(out);
  out.PutSpan(std::span<const double>(last_direction_));
  out.PutSpan(std::span<const double>(change_));
  rule_->Save(out);
  optimizer_->Save(out);
}

Status ServerStep::Load(StateReader& in) {
  EDGEFL_RETURN_IF_ERROR(in.Get(&steps_taken_));
  EDGEFL_RETURN_IF_ERROR(in.Get(&step_sizes_sum_));
  EDGEFL_RETURN_IF_ERROR(in.Get(&norm_estimate_));
  EDGEFL_RETURN_IF_ERROR(in.Get(&last_direction_norm_));
  EDGEFL_RETURN_IF_ERROR(smoothness_.Load(in));
  EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<double>(last_direction_)));
  EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<double>(change_)));
  EDGEFL_RETURN_IF_ERROR(rule_->Load(in));
  return optimizer_->Load(in);
}

}  // namespace edgefl

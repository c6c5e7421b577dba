#include "node/local_trainer.h"

#include <algorithm>
#include <cmath>

namespace edgefl {

using Optimizer = wire::LocalOptimizer;

void LocalTrainer::Plan(const codec::LocalSpec& spec, uint32_t dimension, MemoryPlan* plan) {
  const size_t vector_bytes = size_t{dimension} * sizeof(float);
  if (spec.steps > 1) {
    plan->Add(NodeBuffer::kLocalModel, vector_bytes);
    plan->Add(NodeBuffer::kDirectionSum, vector_bytes);
  }
  if (spec.HasMoments()) plan->Add(NodeBuffer::kFirstMoment, vector_bytes);
  if (spec.optimizer == Optimizer::Adam) plan->Add(NodeBuffer::kSecondMoment, vector_bytes);
  if (spec.HasControl()) {
    plan->Add(NodeBuffer::kClientControl, vector_bytes);
    plan->Add(NodeBuffer::kServerControl, vector_bytes);
    plan->Add(NodeBuffer::kControlDelta, vector_bytes);
  }
}

LocalTrainer::LocalTrainer(const codec::LocalSpec& spec, const MemoryPlan& plan, Arena& arena)
    : spec_(spec),
      local_model_(plan.Carve<float>(arena, NodeBuffer::kLocalModel)),
      direction_sum_(plan.Carve<float>(arena, NodeBuffer::kDirectionSum)),
      client_control_(plan.Carve<float>(arena, NodeBuffer::kClientControl)),
      server_control_(plan.Carve<float>(arena, NodeBuffer::kServerControl)),
      control_delta_(plan.Carve<float>(arena, NodeBuffer::kControlDelta)),
      state_{.first_moment = plan.Carve<float>(arena, NodeBuffer::kFirstMoment),
             .second_moment = plan.Carve<float>(arena, NodeBuffer::kSecondMoment),
             .client_control = client_control_,
             .server_control = server_control_} {}

void LocalTrainer::BeginRound(std::span<const float> model) {
  if (!local_model_.empty()) std::copy(model.begin(), model.end(), local_model_.begin());
  std::fill(direction_sum_.begin(), direction_sum_.end(), 0.0f);
  if (!spec_.keep_state) {
    std::fill(state_.first_moment.begin(), state_.first_moment.end(), 0.0f);
    std::fill(state_.second_moment.begin(), state_.second_moment.end(), 0.0f);
    state_.adam_step = 0;
  }
}

namespace {

template <typename T>
std::span<uint8_t> BytesOf(std::span<T> values) {
  return {reinterpret_cast<uint8_t*>(values.data()), values.size_bytes()};
}

}  // namespace

std::array<std::span<uint8_t>, 4> LocalTrainer::persistent_state() {
  std::array<std::span<uint8_t>, 4> parts{};
  if (spec_.keep_state) {
    parts[0] = BytesOf(state_.first_moment);
    parts[1] = BytesOf(state_.second_moment);
    if (spec_.optimizer == Optimizer::Adam) parts[2] = BytesOf(std::span<uint64_t>(&state_.adam_step, 1));
  }
  parts[3] = BytesOf(client_control_);
  return parts;
}

void LocalTrainer::Step(uint32_t t, std::span<float> g, std::span<const float> model) {
  if (spec_.prox_mu > 0.0 && t > 0) {
    const auto mu = static_cast<float>(spec_.prox_mu);
    for (size_t j = 0; j < g.size(); ++j) g[j] = g[j] + mu * (local_model_[j] - model[j]);
  }
  Direct(spec_, state_, g);
  if (local_model_.empty()) return;  // one step: u_0 is the update
  const auto lr = static_cast<float>(spec_.lr);
  for (size_t j = 0; j < g.size(); ++j) {
    local_model_[j] = local_model_[j] - lr * g[j];
    direction_sum_[j] = direction_sum_[j] + g[j];
  }
}

void LocalTrainer::EndRound(std::span<const float> update) {
  if (!spec_.HasControl()) return;
  const auto steps = static_cast<float>(spec_.steps);
  for (size_t j = 0; j < update.size(); ++j) {
    control_delta_[j] = update[j] / steps - server_control_[j];
    client_control_[j] = client_control_[j] + control_delta_[j];
  }
}

void LocalTrainer::Direct(const codec::LocalSpec& spec, OptimizerState& state, std::span<float> g) {
  const auto beta = static_cast<float>(spec.momentum);
  const std::span<float> m = state.first_moment, v = state.second_moment;
  switch (spec.optimizer) {
    case Optimizer::Sgd:
      return;
    case Optimizer::Momentum:
      for (size_t j = 0; j < g.size(); ++j) {
        m[j] = beta * m[j] + g[j];
        g[j] = m[j];
      }
      return;
    case Optimizer::Nesterov:
      for (size_t j = 0; j < g.size(); ++j) {
        m[j] = beta * m[j] + g[j];
        g[j] = g[j] + beta * m[j];
      }
      return;
    case Optimizer::Adam: {
      const double steps = static_cast<double>(++state.adam_step);
      const auto one_minus_beta1 = static_cast<float>(1.0 - spec.momentum);
      const auto beta2 = static_cast<float>(spec.beta2);
      const auto one_minus_beta2 = static_cast<float>(1.0 - spec.beta2);
      const auto correction1 = static_cast<float>(1.0 - std::pow(spec.momentum, steps));
      const auto correction2 = static_cast<float>(1.0 - std::pow(spec.beta2, steps));
      const auto epsilon = static_cast<float>(spec.epsilon);
      for (size_t j = 0; j < g.size(); ++j) {
        m[j] = beta * m[j] + one_minus_beta1 * g[j];
        v[j] = beta2 * v[j] + one_minus_beta2 * (g[j] * g[j]);
        g[j] = (m[j] / correction1) / (std::sqrt(v[j] / correction2) + epsilon);
      }
      return;
    }
    case Optimizer::Scaffold: {
      const std::span<const float> ci = state.client_control, c = state.server_control;
      for (size_t j = 0; j < g.size(); ++j) g[j] = (g[j] - ci[j]) + c[j];
      return;
    }
  }
}

}  // namespace edgefl

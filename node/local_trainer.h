// LocalTrainer: the node's local optimiser (docs/protocol.md 7.1). A round
// takes local.steps steps from the round's model x_0,
//
//   g_t = the minibatch gradient at x_t (+ prox_mu (x_t - x_0), FedProx, t >= 1)
//   u_t = the optimiser's direction at g_t
//   x_{t+1} = x_t - lr u_t
//
// and the node sends sum_t u_t = (x_0 - x_E) / lr. With one step there is no
// x_t to keep: u_0 is made in the gradient buffer itself, so one step of sgd
// sends g_0 bit for bit. The moments (momentum's m, Adam's m and v and its
// step count) are reset each round or kept for the run (local.state).
// SCAFFOLD corrects each direction by the control variates, u = g - c_i + c,
// and after the round moves c_i to c_i+ = c_i - c + (sum_t u_t)/E
// (Karimireddy et al. 2020, option II), sending c_i+ - c_i beside the update.
// Its buffers are carved from the node's arena by its own plan entries;
// nothing allocates once constructed. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "node/arena.h"
#include "node/memory_plan.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

// What an optimiser carries from one direction to the next.
struct OptimizerState {
  std::span<float> first_moment{};          // m: momentum, nesterov, adam
  std::span<float> second_moment{};         // v: adam
  std::span<const float> client_control{};  // c_i: scaffold
  std::span<const float> server_control{};  // c: scaffold
  uint64_t adam_step = 0;                 // adam's steps since its moments were zero
};

class LocalTrainer {
 public:
  // Adds the buffers `spec` needs to `plan`: the local model and the
  // direction sum for more than one step, the moments of its optimiser,
  // SCAFFOLD's control variates and their change.
  static void Plan(const codec::LocalSpec& spec, uint32_t dimension, MemoryPlan* plan);

  // Carves what `plan` holds for it; check arena.status() afterwards.
  LocalTrainer(const codec::LocalSpec& spec, const MemoryPlan& plan, Arena& arena);

  // Starts a round at `model` (x_0): the local model starts there, the sum at
  // zero, and the moments at zero unless they live for the run.
  void BeginRound(std::span<const float> model);
  // x_t, where the next step's gradient is taken.
  std::span<const float> position(std::span<const float> model) const {
    return local_model_.empty() ? model : std::span<const float>(local_model_);
  }
  // Local step t: turns g_t (the gradient at position()) into u_t in place and
  // moves the local model. `model` is x_0, for FedProx.
  void Step(uint32_t t, std::span<float> gradient, std::span<const float> model);
  // What the round sends: sum_t u_t (the gradient buffer for one step).
  std::span<float> update(std::span<float> gradient) { return direction_sum_.empty() ? gradient : direction_sum_; }
  // SCAFFOLD, after the steps and before the update is clipped or compressed:
  // c_i moves to c_i+, and control_delta() holds c_i+ - c_i.
  void EndRound(std::span<const float> update);

  // The optimiser's direction for one gradient, in place, its state updated
  // (adam_step counts from 1): the arithmetic of docs/protocol.md 7.1, kept
  // apart so that tests can hold it to a reference.
  static void Direct(const codec::LocalSpec& spec, OptimizerState& state, std::span<float> gradient);

  // What outlives a round, as bytes to save and restore: the moments and
  // Adam's step count when they live for the run, and SCAFFOLD's c_i (each
  // empty where the optimiser has none).
  std::array<std::span<uint8_t>, 4> persistent_state();

  const codec::LocalSpec& spec() const { return spec_; }
  std::span<const float> first_moment() const { return state_.first_moment; }
  std::span<const float> second_moment() const { return state_.second_moment; }
  // SCAFFOLD's c, where a RoundStart's control values are copied (empty otherwise).
  std::span<float> server_control() { return server_control_; }
  std::span<const float> client_control() const { return client_control_; }
  std::span<const float> control_delta() const { return control_delta_; }

 private:
  codec::LocalSpec spec_;
  std::span<float> local_model_;
  std::span<float> direction_sum_;
  std::span<float> client_control_;
  std::span<float> server_control_;
  std::span<float> control_delta_;
  OptimizerState state_;
};

}  // namespace edgefl

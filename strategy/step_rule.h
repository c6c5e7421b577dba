// StepRule: the step size eta_k of round k, from what the round tells it.
// k is the round index from 0, n_k the estimate of ||grad f(x_k)||
// (step.norm), L0 and L1 the (L0,L1)-smoothness constants,
// ||H(x)|| <= L0 + L1 ||grad f(x)|| (docs/theory.md 4.2):
//   constant    eta
//   decay       eta / (1 + k)^p                  Robbins-Monro for p in (1/2, 1]; p = 1/2: P2 Thm 4.4
//   decay-time  eta / (1 + k eta)^p              the same in SDE time t = k eta (docs/theory.md 4.2)
//   step-decay  eta factor^floor(k / K)
//   normalized  eta / n_k                        normalised gradient descent
//   clip        min(eta, gamma / n_k)            Zhang, He, Sra, Jadbabaie 2020, "Why gradient clipping accelerates training"
//   vankov      1 / (L0 + 1.5 L1 n_k)            Vankov et al. 2025, (L0,L1)-smooth gradient descent
//   l0l1-gd     eta / (L0 + L1 n_k)              Gorbunov et al. 2025, (L0,L1)-smooth gradient descent
//   l0l1        2 eps s_k / (a + b n_k)          docs/theory.md 4.3, from P2 Thm 4.2/4.3:
//               a = L0 rho + L1 d sigma0^2 (1 + omega) / N,  b = L1 rho,
//               rho = 1 + (omega + d sigma1^2 (1 + omega)) / N,  s_k = (1 + k)^-schedule_power
// A rule whose n_k is 0 (a zero direction) steps 0. A rule may keep state
// across rounds, which it saves and loads with the run's checkpoint.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "experiment/experiment_config.h"
#include "core/state_io.h"

namespace edgefl {

// What a rule may use to choose eta_k.
struct StepInputs {
  uint32_t round = 0;                      // k
  uint32_t steps_taken = 0;                // rounds before k that stepped
  double step_sizes_sum = 0.0;             // sum of their eta (SDE time t_k)
  std::span<const double> direction;       // this round's aggregate
  double direction_norm = 0.0;             // ||direction||
  double norm_estimate = 0.0;              // n_k
  double l0 = 1.0;                         // L0 and L1: declared, or estimated online
  double l1 = 0.0;
  std::span<const double> last_direction;  // the aggregate of the last step (empty before it)
  std::span<const double> last_change;     // the model change of the last step (empty before it)
};

// What the run tells the rules that need it (l0l1).
struct StepRunFacts {
  uint32_t dimension = 1;     // d
  uint32_t nodes = 1;         // N
  double omega = 0.0;         // the compressor's (0 for biased ones)
  double sigma0_squared = 0;  // per-coordinate noise variance not scaling with the gradient (sigma^2 / B)
  double sigma1_squared = 0;  // per-coordinate noise variance per ||grad f||^2 (affine noise)
};

class StepRule {
 public:
  virtual ~StepRule() = default;
  virtual double StepSize(const StepInputs& in) = 0;
  virtual void Save(StateWriter&) const {}
  virtual Status Load(StateReader&) { return Status::Ok(); }
};

std::unique_ptr<StepRule> MakeStepRule(const StepConfig& config, const StepRunFacts& facts = {});

// n_k for round k as step.norm chooses it: the aggregate's norm, the nodes'
// mean reported norm (the aggregate's when none is finite), or the running
// mean of the aggregate's norms, `previous` being the last round's n_k and
// `steps_taken` the steps before this round.
double NextNormEstimate(const StepConfig& step, double previous, uint32_t steps_taken, double direction_norm,
                        double nodes_grad_norm);

// l0l1's a and b (docs/theory.md 4.3).
struct L0L1Coefficients {
  double a = 0.0;
  double b = 0.0;
};
L0L1Coefficients L0L1StepCoefficients(double l0, double l1, const StepRunFacts& facts);

}  // namespace edgefl

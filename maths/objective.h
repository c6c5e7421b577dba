// Objective: f and its derivatives at a model x, the one interface through
// which the node differentiates, the coordinator evaluates and the predictor
// (docs/theory.md 3) probes curvature. All memory is the caller's, given at
// construction, so a node's round allocates nothing.
//   SyntheticObjective  quadratic and quartic, closed forms (synthetic_objective.h)
//   DataObjective       a classifier's mean cross-entropy over rows (data_objective.h)
// Not thread-safe (data objectives write their scratch).
#pragma once

#include <cstdint>
#include <span>

#include "core/rng.h"

namespace edgefl {

class Objective {
 public:
  virtual ~Objective() = default;

  virtual uint32_t dimension() const = 0;

  // f(x) and grad f(x) of the whole objective (every row a data objective
  // holds). Returns f(x); fills `grad` when it is not empty.
  virtual double LossAndGradient(std::span<const float> x, std::span<float> grad) = 0;

  // One stochastic sample of the loss and gradient, as a node computes it:
  // a data objective draws its minibatch from `rng`; a synthetic objective is
  // exact (its gradient noise is the noise model's, gradient_noise.h).
  virtual double SampleLossAndGradient(std::span<const float> x, Rng& rng, std::span<float> grad) = 0;

  // out = H(x) v, the Hessian of f at x times v.
  virtual void HessianVector(std::span<const float> x, std::span<const float> v, std::span<float> out) = 0;

  // The run's starting point x_0 (seeded where it is random).
  virtual void InitialPoint(uint64_t seed, std::span<float> x) const = 0;
};

}  // namespace edgefl

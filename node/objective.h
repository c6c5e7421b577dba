// Synthetic objectives with a closed-form gradient, over caller-owned memory.
//   quadratic: f(x) = 1/2 sum_j lambda_j x_j^2            (THEORY.md 3.5)
//   quartic:   f(x) = 1/4 sum_j lambda_j x_j^4            (THEORY.md 4.4)
// Both have f* = 0 at x = 0. lambda_j spreads from lambda_min to lambda_max
// linearly or geometrically over j. Immutable after construction; safe to
// share between threads.
#pragma once

#include <span>

#include "schemas/codec/task_spec.h"

namespace edgefl {

class Objective {
 public:
  // `lambda` must hold spec.dimension values; it is filled here.
  Objective(const codec::ObjectiveSpec& spec, std::span<float> lambda);

  uint32_t dimension() const { return static_cast<uint32_t>(lambda_.size()); }
  double Loss(std::span<const float> x) const;
  // grad = grad f(x); returns f(x) from the same pass.
  double LossAndGradient(std::span<const float> x, std::span<float> grad) const;
  void InitialPoint(std::span<float> x) const;
  std::span<const float> spectrum() const { return lambda_; }

 private:
  codec::ObjectiveSpec spec_;
  std::span<const float> lambda_;
};

// lambda_j of the spec, j in [0, dimension).
void FillSpectrum(const codec::ObjectiveSpec& spec, std::span<float> lambda);

}  // namespace edgefl

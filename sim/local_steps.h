// Local sgd steps on the quadratic, in closed form (docs/theory.md 6.1). On a
// coordinate of curvature lambda, E steps x_{t+1} = x_t - lr (lambda x_t +
// xi_t), each xi_t of variance v, send
//
//   Delta = (x_0 - x_E) / lr = gain x_0 + sum_t r^(E-1-t) xi_t,   r = 1 - lr lambda,
//   gain = (1 - r^E) / lr,   Var = v sum_{k<E} r^(2k),
//
// so a round of local sgd is one step of a linear map with Gaussian noise:
// the predictor steps it exactly, and its stationary loss has a closed form.
#pragma once

#include <cstdint>

namespace edgefl {

struct LocalSgdCoordinate {
  double gain;            // E lambda for small lr lambda; lambda at E = 1
  double noise_variance;  // E v for small lr lambda; v at E = 1
};

LocalSgdCoordinate LocalSgdOf(double lambda, double lr, uint32_t steps, double step_noise_variance);

}  // namespace edgefl

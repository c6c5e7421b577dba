#include "sim/local_steps.h"

namespace edgefl {

LocalSgdCoordinate LocalSgdOf(double lambda, double lr, uint32_t steps, double step_noise_variance) {
  const double r = 1.0 - lr * lambda;
  double power = 1.0, squares = 0.0;  // r^k, and sum_{k<E} r^(2k)
  for (uint32_t k = 0; k < steps; ++k) {
    squares += power * power;
    power *= r;
  }
  // At E = 1 the gain is lambda itself (the node sends the gradient), not
  // (1 - r)/lr rounded.
  const double gain = steps == 1 ? lambda : (1.0 - power) / lr;
  return {.gain = gain, .noise_variance = step_noise_variance * squares};
}

}  // namespace edgefl

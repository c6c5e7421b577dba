#include "sim/sign_votes.h"

#include <algorithm>
#include <cmath>

namespace edgefl {

void MajorityProbabilities(double p, uint32_t n, double* plus, double* minus) {
  p = std::clamp(p, 0.0, 1.0);
  if (n > 64) {
    const double mean = n * p, sd = std::sqrt(n * p * (1.0 - p));
    if (sd == 0.0) {
      *plus = mean > n / 2.0 ? 1.0 : 0.0;
      *minus = mean < n / 2.0 ? 1.0 : 0.0;
      return;
    }
    const auto below = [&](double x) { return 0.5 * std::erfc(-(x - mean) / (sd * std::sqrt(2.0))); };
    // B > n/2 <=> B >= floor(n/2) + 1; B < n/2 <=> B <= ceil(n/2) - 1.
    *plus = 1.0 - below(std::floor(n / 2.0) + 0.5);
    *minus = below(std::ceil(n / 2.0) - 0.5);
    return;
  }
  // By symmetry, sum with q = min(p, 1 - p): the pmf starts at (1 - q)^n >=
  // 2^-64 and grows by (n - k)/(k + 1) q/(1 - q) a term, without underflow.
  const bool swapped = p > 0.5;
  const double q = swapped ? 1.0 - p : p;
  double up = 0.0, down = 0.0;
  double pmf = std::pow(1.0 - q, n);
  const double ratio = q / (1.0 - q);
  for (uint32_t k = 0; k <= n; ++k) {
    if (2 * k > n) up += pmf;
    if (2 * k < n) down += pmf;
    pmf *= static_cast<double>(n - k) / (k + 1) * ratio;
  }
  *plus = swapped ? down : up;
  *minus = swapped ? up : down;
}

}  // namespace edgefl

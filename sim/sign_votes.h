// The moments of a vote of signs, for the forecasts of DSignSGD's majority
// vote (sim/sde_predictor.h, sim/data_sde.h). Pure function.
#pragma once

#include <cstdint>

namespace edgefl {

// P(S > 0) and P(S < 0) for S the sum of n signs, each +1 with probability
// p: exactly from the binomial up to n = 64, by the normal approximation
// with continuity correction above.
void MajorityProbabilities(double p, uint32_t n, double* plus, double* minus);

}  // namespace edgefl

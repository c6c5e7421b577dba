#include "experiment/staleness_weight.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "schemas/codec/wire.h"

namespace edgefl {

double StalenessWeight(const AsyncConfig& async, uint32_t staleness) {
  const double s = static_cast<double>(staleness);
  switch (async.staleness) {
    case StalenessWeighting::kConstant:
      return 1.0;
    case StalenessWeighting::kPolynomial:
      return std::pow(1.0 + s, -async.staleness_exponent);
    case StalenessWeighting::kHinge:
      return staleness <= async.hinge_after ? 1.0 : 1.0 / (1.0 + async.hinge_slope * (s - async.hinge_after));
  }
  return 1.0;
}

uint32_t StalenessQuantum(uint32_t buffer) {
  return std::bit_floor(static_cast<uint32_t>(codec::kMaxRoundWeight / std::max(buffer, 1u)));
}

uint32_t QuantizedStalenessWeight(const AsyncConfig& async, uint32_t staleness) {
  const double quantum = StalenessQuantum(async.buffer);
  return static_cast<uint32_t>(std::max(1.0, std::nearbyint(StalenessWeight(async, staleness) * quantum)));
}

}  // namespace edgefl

#include "coordinator/divergence.h"

#include <algorithm>
#include <cmath>

#include "maths/compressor_maths.h"
#include "schemas/codec/wire.h"

namespace edgefl {

const char* DivergenceOf(const ExperimentConfig& config, const RunState& state, const RoundMetrics& m,
                         bool overflow_this_round) {
  if (!std::isfinite(m.loss)) return "the loss is not finite";
  const double reference = std::max(state.summary.initial_loss, config.divergence_floor);
  if (m.loss > config.divergence_factor * reference) return "the loss passed run.divergence_factor";
  const double explained =
      m.grad_max_abs * CompressorMaxAmplification(config.compressor, config.objective.dimension);
  if (overflow_this_round && explained >= static_cast<double>(codec::kMaxUpdateMagnitude) / 64.0) {
    return "updates overflowed (|v| >= 2^40), as the model's own gradient predicts";
  }
  const auto overflowed = std::count(state.overflowed.begin(), state.overflowed.end(), 1);
  if (2 * static_cast<size_t>(overflowed) > config.nodes) {
    return "most nodes have sent updates too large to add (|v| >= 2^40 or not finite)";
  }
  return nullptr;
}

}  // namespace edgefl

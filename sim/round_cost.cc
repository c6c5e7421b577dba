#include "sim/round_cost.h"

#include <cmath>
#include <limits>

#include "maths/compressor_maths.h"
#include "schemas/codec/wire.h"

namespace edgefl {

RoundCost RoundCostOf(const ExperimentConfig& config) {
  const uint32_t d = config.objective.dimension;
  RoundCost cost;
  cost.up_bytes = ExpectedUpdateMessageBytes(config.compressor, d);
  cost.down_bytes = static_cast<double>(codec::RoundStartBytes(d, 1));
  // The figures the nodes' shapers enforce (TaskSpec.link).
  const codec::LinkSpec link = ResolveLink(config.link);
  cost.uplink_bps = link.uplink_bps;
  cost.downlink_bps = link.downlink_bps;
  if (!(cost.uplink_bps > 0.0)) {
    cost.seconds = std::numeric_limits<double>::quiet_NaN();
    return cost;
  }
  cost.seconds = 2.0 * link.latency_ms / 1000.0 + link.compute_ms / 1000.0 + 8.0 * cost.down_bytes / cost.downlink_bps +
                 8.0 * cost.up_bytes / cost.uplink_bps;
  return cost;
}

}  // namespace edgefl

#include "sim/round_cost.h"

#include <cmath>
#include <limits>

#include "experiment/link_model.h"
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
  cost.seconds = link.uplink_bps > 0.0 ? RoundSeconds(link, cost.down_bytes, cost.up_bytes)
                                       : std::numeric_limits<double>::quiet_NaN();
  return cost;
}

}  // namespace edgefl

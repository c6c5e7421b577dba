// RoundCost: what one round costs on the config's links ([link]): the exact
// bytes each way (the wire's own accounting, codec::UpdateMessageBytes and
// codec::RoundStartBytes, not a second estimate) and the time a node spends:
//   seconds = 2 latency + compute + 8 down_bytes / downlink_bps + 8 up_bytes / uplink_bps
// (at least the update's air time over a duty cycle: experiment/link_model.h)
// Nodes are alike and work in parallel; the coordinator's own link is taken
// as no bottleneck. Pure function; thread-safe.
#pragma once

#include <cstdint>

#include "experiment/experiment_config.h"

namespace edgefl {

struct RoundCost {
  double up_bytes = 0.0;     // one node's Update (bernoulli: at its expected count)
  double down_bytes = 0.0;   // one node's RoundStart parts
  double seconds = 0.0;      // NaN when the config gives no bandwidth
  double uplink_bps = 0.0;   // as used (the preset's when 0 was given)
  double downlink_bps = 0.0;
};

RoundCost RoundCostOf(const ExperimentConfig& config);

}  // namespace edgefl

// LinkModel: the time a node's round takes on its link ([link], or its
// profile's), the one formula the forecast (sim/round_cost.h), the virtual
// clock (coordinator/round_policy.h) and the shaped runs are checked by:
//   seconds = 2 latency + compute + 8 down_bytes / downlink_bps + 8 up_bytes / uplink_bps
// A link without bandwidth (no preset, no uplink_bps) costs only latency and
// compute. Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "experiment/experiment_config.h"

namespace edgefl {

// A link with its preset resolved: bits a second each way (0: unlimited).
struct ResolvedLink {
  double uplink_bps = 0.0;
  double downlink_bps = 0.0;
  double latency_s = 0.0;  // one way
  double compute_s = 0.0;  // a node's computation a round
};

ResolvedLink Resolve(const LinkConfig& link);

// Seconds for one round's exchange of `down_bytes` and `up_bytes`.
double RoundSeconds(const ResolvedLink& link, double down_bytes, double up_bytes);

}  // namespace edgefl

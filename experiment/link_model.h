// LinkModel: a node's link ([link], or its profile's) as the nodes enforce
// it and as time is modelled, in one place. ResolveLink gives the figures a
// node's shaper enforces (TaskSpec.link): the preset's uplink where
// uplink_bps is 0, the uplink where downlink_bps is 0, the preset's duty
// cycle. RoundSeconds is the time one round's exchange takes on them, the
// one formula the forecast (sim/round_cost.h), the virtual clock
// (coordinator/round_intake.h) and the shaped runs are checked by:
//   seconds = 2 latency + compute + 8 down_bytes / downlink_bps + 8 up_bytes / uplink_bps
// and, with a duty cycle (LoRaWAN's 1%), at least the update's air time
// over the duty cycle: the radio is silent for air (1/duty - 1) after each
// update, so rounds in a row come no faster (net/link_shaper.h). A link
// without a bandwidth (no preset, no uplink_bps) costs only latency and
// compute. Pure functions; thread-safe.
#pragma once

#include "experiment/experiment_config.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

codec::LinkSpec ResolveLink(const LinkConfig& link);

// Seconds for one round's exchange of `down_bytes` and `up_bytes`.
double RoundSeconds(const codec::LinkSpec& link, double down_bytes, double up_bytes);

}  // namespace edgefl

// RoundCost: what one round costs on the config's links ([link], each node's
// through LinkOf): the exact bytes each way (the wire's own accounting,
// codec::UpdateMessageBytes, codec::RoundStartBytes and, for round.downlink
// = "step", codec::StepPartBytes, not a second estimate; a step's sparse
// values and a node's gap since its last round are taken at their
// expectation) and the time. A node's exchange takes
//   seconds = 2 latency + compute + 8 down_bytes / downlink_bps + 8 up_bytes / uplink_bps
// (at least the update's air time over a duty cycle: experiment/link_model.h);
// the round's length follows from its cohort (sim/participation.h): the K-th
// counted answer, the last asked one, or the deadline when an answer is lost
// or late; its expectation over the cohort draws is `seconds`. With every
// node asked, none lost and one link, that is a node's exchange. The
// coordinator's own link is taken as no bottleneck. Pure function;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "experiment/buffered_schedule.h"
#include "experiment/experiment_config.h"
#include "sim/participation.h"

namespace edgefl {

struct RoundCost {
  double up_bytes = 0.0;      // one node's Update (bernoulli: at its expected count)
  double down_bytes = 0.0;    // one node's RoundStart parts
  double node_seconds = 0.0;  // node 0's exchange on its link; NaN when the config gives no bandwidth
  double seconds = 0.0;       // the round's expected length; NaN when the config gives no bandwidth
  double uplink_bps = 0.0;    // node 0's, as used (the preset's when 0 was given)
  double downlink_bps = 0.0;
  ParticipationExpectation participation;  // who is asked and counted, on average

  // Every asked node sends its update, dropped or late ones too.
  double up_bytes_per_round() const { return up_bytes * participation.asked; }
};

// A buffered config's (async.mode = "buffered") `seconds` is its mean step's
// length over config.rounds steps, as BufferedPlanOf plans them, and each
// step asks and counts K.
RoundCost RoundCostOf(const ExperimentConfig& config);

// A buffered config's config.rounds steps on the virtual clock, each node's
// tasks taking its exchange of these bytes (experiment/buffered_schedule.h).
std::vector<BufferedStepPlan> BufferedPlanOf(const ExperimentConfig& config);

// The config's cohorts with these bytes each way (what the forecast's paths
// draw their rounds from).
ParticipationModel CohortModelOf(const ExperimentConfig& config);

// m, when every round's step averages the same number of updates (every
// node alike, available and answering in time: K = CohortSize()); nullopt
// when it varies from round to round or is 0. The closed forms in N hold
// with this m.
std::optional<uint32_t> FixedCountedUpdates(const ExperimentConfig& config);

}  // namespace edgefl

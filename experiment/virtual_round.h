// Virtual round: which answers count when time is modelled (round.clock =
// "virtual"). Every asked node's update arrives at its modelled time
// (experiment/link_model.h: 2 latency + compute + its exact bytes over its
// link); in time order, ties to the lower node id, those at or before the
// deadline count, the first `target` of them (the cohort K: with
// over-commitment the rest are late). The round's length is when its last
// counted update arrived once it has its K, or every asked node has
// answered in time; otherwise the deadline, which it waited for. Pure
// function: the same arrivals give the same choice on every machine. The
// coordinator's virtual clock (coordinator/round_intake.h) and the forecast's
// cohort draws (sim/participation.h) share it, so both end a round alike.
#pragma once

#include <cstdint>
#include <span>

namespace edgefl {

struct Arrival {
  double seconds = 0.0;  // after the round's start
  uint32_t node = 0;
  bool counts = false;   // set by ChooseArrivals
};

// Marks the arrivals that count, out of `asked` nodes (those missing never
// arrive); returns the round's length in seconds. Reorders `arrivals`.
double ChooseArrivals(std::span<Arrival> arrivals, uint32_t asked, uint32_t target, double deadline_s);

}  // namespace edgefl

#include "experiment/virtual_round.h"

#include <algorithm>

namespace edgefl {

double ChooseArrivals(std::span<Arrival> arrivals, uint32_t asked, uint32_t target, double deadline_s) {
  std::sort(arrivals.begin(), arrivals.end(), [](const Arrival& a, const Arrival& b) {
    return a.seconds != b.seconds ? a.seconds < b.seconds : a.node < b.node;
  });
  uint32_t counted = 0;
  uint32_t in_time = 0;
  double last = 0.0;
  for (Arrival& arrival : arrivals) {
    if (arrival.seconds > deadline_s) break;
    ++in_time;
    if (counted == target) continue;  // over-committed: the round had its K
    arrival.counts = true;
    ++counted;
    last = arrival.seconds;
  }
  const bool closed_early = counted == target || in_time == asked;
  return closed_early ? last : deadline_s;
}

}  // namespace edgefl

// AvailabilitySchedule: the rounds in which a node can be asked, repeating
// every `period` rounds: the `on` rounds from round `start` of each period,
// wrapping past its end. A board that charges overnight in a day of 24
// rounds is {period 24, on 8, start 22}: rounds 22, 23 and 0..5 of every
// day. Rounds count from 0, as metrics.csv's do. period 0: every round.
// In rounds, not seconds, so that which nodes can be asked follows from the
// config alone, on the wall clock as on the virtual one. Within its on
// rounds a node is still available with its probability (`availability`).
#pragma once

#include <cstdint>

#include "core/status.h"

namespace edgefl {

struct AvailabilitySchedule {
  uint32_t period = 0;
  uint32_t on = 0;
  uint32_t start = 0;

  bool Includes(uint32_t round) const {
    if (period == 0) return true;
    return (round % period + period - start) % period < on;
  }
  bool operator==(const AvailabilitySchedule&) const = default;
};

// The keys' relations: `on` in [1, period] and `start` below `period` when
// there is a period; both 0 when there is none. `where` names the section
// in the message ("round", "profile \"zero\"").
Status CheckSchedule(const AvailabilitySchedule& schedule, const char* where);

}  // namespace edgefl

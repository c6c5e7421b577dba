#include "experiment/availability_schedule.h"

namespace edgefl {

Status CheckSchedule(const AvailabilitySchedule& s, const char* where) {
  if (s.period == 0) {
    if (s.on != 0 || s.start != 0) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "%s.schedule_on = %u and schedule_start = %u need a schedule_period (0: always available)",
                           where, s.on, s.start);
    }
    return Status::Ok();
  }
  if (s.on == 0 || s.on > s.period) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s.schedule_on = %u: must be in [1, schedule_period = %u] (the rounds of each period a "
                         "node can be asked in)",
                         where, s.on, s.period);
  }
  if (s.start >= s.period) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s.schedule_start = %u: must be below schedule_period = %u (the round of each period the "
                         "on rounds begin at)",
                         where, s.start, s.period);
  }
  return Status::Ok();
}

}  // namespace edgefl

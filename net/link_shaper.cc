#include "net/link_shaper.h"

#include <algorithm>
#include <cmath>

namespace edgefl {
namespace {

// Time from `from` to `to`, where `from` may be -infinity (nothing before).
double HeldFrom(double from, double handed_over, double to) { return std::max(0.0, to - std::max(from, handed_over)); }

}  // namespace

int64_t LinkShaper::ReleaseAtUs(size_t bytes, int64_t now_us) {
  const double now = static_cast<double>(now_us);
  const double air = 8e6 * static_cast<double>(bytes) / shape_.rate_bps;  // 0 at an infinite rate
  const double credit = std::isinf(shape_.rate_bps) ? 0.0 : shape_.burst_us;
  const double start = std::max(free_us_, now - credit);
  const double crossed = std::max(now, start + air);
  free_us_ = start + air / shape_.duty_cycle;

  stats_.messages += 1;
  stats_.bytes += bytes;
  stats_.held_us += HeldFrom(last_crossed_us_, now, crossed);
  last_crossed_us_ = crossed;
  // Rounded up: a message is never released before it has crossed.
  return static_cast<int64_t>(std::ceil(crossed + shape_.latency_us));
}

void LinkShaper::RecordCrossed(size_t bytes, int64_t handed_over_us, int64_t scheduled_us, int64_t crossed_us) {
  const double crossed = static_cast<double>(crossed_us) - shape_.latency_us;
  stats_.crossed_messages += 1;
  stats_.crossed_bytes += bytes;
  stats_.crossed_held_us += HeldFrom(last_recorded_us_, static_cast<double>(handed_over_us), crossed);
  stats_.late_us += static_cast<double>(crossed_us - scheduled_us);
  last_recorded_us_ = std::max(last_recorded_us_, crossed);
}

double LinkShaper::EnforcedBps() const {
  return stats_.held_us > 0.0 ? 8e6 * static_cast<double>(stats_.bytes) / stats_.held_us : 0.0;
}

double LinkShaper::AchievedBps() const {
  return stats_.crossed_held_us > 0.0 ? 8e6 * static_cast<double>(stats_.crossed_bytes) / stats_.crossed_held_us : 0.0;
}

}  // namespace edgefl

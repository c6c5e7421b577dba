#include "node/node_link.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/log.h"
#include "net/tbf_burst.h"

namespace edgefl {
namespace {

// "12.5 kb/s", "100 Mb/s": a rate for a log line, in `out`.
const char* RateText(double bps, char (&out)[24]) {
  if (!(bps > 0.0)) {
    std::snprintf(out, sizeof(out), "-");
  } else if (std::isinf(bps)) {
    std::snprintf(out, sizeof(out), "unlimited");
  } else if (bps >= 1e6) {
    std::snprintf(out, sizeof(out), "%.4g Mb/s", bps / 1e6);
  } else if (bps >= 1e3) {
    std::snprintf(out, sizeof(out), "%.4g kb/s", bps / 1e3);
  } else {
    std::snprintf(out, sizeof(out), "%.4g b/s", bps);
  }
  return out;
}

// tbf's head start for a message of `bytes` at `bps` (net/tbf_burst.h), in
// whole microseconds.
int64_t HeadStartUs(double bps, size_t bytes) {
  return std::llround(1e6 * TbfMessageHeadStartSeconds(bps, static_cast<double>(bytes)));
}

// `head_starts_us`: in kernel mode, the head starts added over all messages.
void LogDirection(const char* name, const LinkShaper& shaper, const char* unit, int64_t head_starts_us) {
  const LinkStats& s = shaper.stats();
  char set[24], enforced[24], achieved[24];
  const double per_message = s.crossed_messages > 0 ? 1.0 / static_cast<double>(s.crossed_messages) : 0.0;
  const double late_ms = s.late_us / 1000.0 * per_message;
  if (std::isinf(shaper.shape().rate_bps)) {  // kernel shaping: the node only delays
    EDGEFL_LOG_INFO("link %s: %llu %s, %llu bytes, each held %.3g ms latency + %.3g ms tbf head start on average "
                    "(%.3f ms late on average)",
                    name, static_cast<unsigned long long>(s.crossed_messages), unit,
                    static_cast<unsigned long long>(s.crossed_bytes), shaper.shape().latency_us / 1000.0,
                    static_cast<double>(head_starts_us) / 1000.0 * per_message, late_ms);
    return;
  }
  EDGEFL_LOG_INFO("link %s: %llu %s, %llu bytes; set %s, scheduled %s, achieved %s (%.3f ms late on average)", name,
                  static_cast<unsigned long long>(s.crossed_messages), unit,
                  static_cast<unsigned long long>(s.crossed_bytes), RateText(shaper.shape().rate_bps, set),
                  RateText(shaper.EnforcedBps(), enforced), RateText(shaper.AchievedBps(), achieved), late_ms);
}

}  // namespace

NodeLink::NodeLink(const codec::LinkSpec& spec) : spec_(spec) {
  if (!shaped()) return;
  const bool kernel = spec.shaping == wire::LinkShaping::Kernel;
  const double infinite = std::numeric_limits<double>::infinity();
  LinkShape up{.rate_bps = kernel ? infinite : spec.uplink_bps,
               .latency_us = spec.latency_ms * 1000.0,
               .duty_cycle = kernel ? 1.0 : spec.duty_cycle,
               .burst_us = 0.0};
  LinkShape down = up;
  down.rate_bps = kernel ? infinite : spec.downlink_bps;
  down.duty_cycle = 1.0;
  uplink_ = LinkShaper(up);
  downlink_ = LinkShaper(down);
  compute_us_ = static_cast<int64_t>(std::llround(spec.compute_ms * 1000.0));
}

int64_t NodeLink::DownlinkCrossedUs(size_t bytes, int64_t received_us) {
  return shaped() ? downlink_.ReleaseAtUs(bytes, received_us) : received_us;
}

int64_t NodeLink::ModelCrossedUs(size_t model_bytes, int64_t last_part_crossed_us) {
  if (spec_.shaping != wire::LinkShaping::Kernel) return last_part_crossed_us;
  const int64_t head_start_us = HeadStartUs(spec_.downlink_bps, model_bytes);
  downlink_head_starts_us_ += head_start_us;
  return last_part_crossed_us + head_start_us;
}

int64_t NodeLink::ComputeDoneUs(int64_t began_us, int64_t finished_us) const {
  return shaped() ? std::max(finished_us, began_us + compute_us_) : finished_us;
}

int64_t NodeLink::UplinkCrossedUs(size_t bytes, int64_t ready_us) {
  if (!shaped()) return ready_us;
  if (spec_.shaping != wire::LinkShaping::Kernel) return uplink_.ReleaseAtUs(bytes, ready_us);
  // Kernel: a tbf qdisc has no duty cycle, so the node keeps it: a message
  // starts no sooner than its air time at the rate over the duty after the
  // one before started, as the token bucket's would (net/link_shaper.h).
  const int64_t start_us = std::max(ready_us, duty_free_us_);
  if (spec_.duty_cycle < 1.0) {
    const double air_us = 8e6 * static_cast<double>(bytes) / spec_.uplink_bps;
    duty_free_us_ = start_us + static_cast<int64_t>(std::llround(air_us / spec_.duty_cycle));
  }
  const int64_t crossed_us = uplink_.ReleaseAtUs(bytes, start_us);  // the latency (the kernel paces the rate)
  const int64_t head_start_us = HeadStartUs(spec_.uplink_bps, bytes);
  uplink_head_starts_us_ += head_start_us;
  return crossed_us + head_start_us;
}

void NodeLink::RecordDelivered(size_t bytes, int64_t received_us, int64_t scheduled_us, int64_t delivered_us) {
  if (shaped()) downlink_.RecordCrossed(bytes, received_us, scheduled_us, delivered_us);
}

void NodeLink::RecordSent(size_t bytes, int64_t ready_us, int64_t scheduled_us, int64_t sent_us) {
  if (shaped()) uplink_.RecordCrossed(bytes, ready_us, scheduled_us, sent_us);
}

void NodeLink::LogEnforced() const {
  if (!shaped()) return;
  const char* shaping = codec::LinkShapingName(spec_.shaping);
  char up[24], down[24];
  if (spec_.shaping == wire::LinkShaping::Kernel) {
    EDGEFL_LOG_INFO("link (kernel): the kernel paces uplink %s and downlink %s; this node adds %.3g ms latency each "
                    "way, tbf's head start (up to %.3g ms up, %.3g ms down), and holds each round's computation to "
                    "at least %.3g ms",
                    RateText(spec_.uplink_bps, up), RateText(spec_.downlink_bps, down), spec_.latency_ms,
                    1000.0 * TbfMessageHeadStartSeconds(spec_.uplink_bps, std::numeric_limits<double>::infinity()),
                    1000.0 * TbfMessageHeadStartSeconds(spec_.downlink_bps, std::numeric_limits<double>::infinity()),
                    spec_.compute_ms);
    if (spec_.duty_cycle < 1.0) {
      EDGEFL_LOG_INFO("link (kernel): this node keeps the uplink's %.3g%% duty cycle (a tbf qdisc has none)",
                      spec_.duty_cycle * 100.0);
    }
    return;
  }
  EDGEFL_LOG_INFO("link (%s): uplink %s, downlink %s, %.3g ms latency each way, no burst, uplink duty cycle "
                  "%.3g%%, each round's computation at least %.3g ms",
                  shaping, RateText(spec_.uplink_bps, up), RateText(spec_.downlink_bps, down), spec_.latency_ms,
                  spec_.duty_cycle * 100.0, spec_.compute_ms);
}

void NodeLink::LogAchieved() const {
  if (!shaped()) return;
  LogDirection("downlink", downlink_, "rounds", downlink_head_starts_us_);
  LogDirection("uplink", uplink_, "updates", uplink_head_starts_us_);
}

}  // namespace edgefl

#include "experiment/link_model.h"

#include <algorithm>

namespace edgefl {

codec::LinkSpec ResolveLink(const LinkConfig& link) {
  codec::LinkSpec spec;
  switch (link.shaping) {
    case LinkShaping::kNone:
      spec.shaping = wire::LinkShaping::None;
      break;
    case LinkShaping::kTokenBucket:
      spec.shaping = wire::LinkShaping::TokenBucket;
      break;
    case LinkShaping::kKernel:
      spec.shaping = wire::LinkShaping::Kernel;
      break;
  }
  spec.uplink_bps = link.uplink_bps > 0.0 ? link.uplink_bps : PresetUplinkBps(link.preset);
  spec.downlink_bps = link.downlink_bps > 0.0 ? link.downlink_bps : spec.uplink_bps;
  spec.latency_ms = link.latency_ms;
  spec.compute_ms = link.compute_ms;
  spec.duty_cycle = PresetDutyCycle(link.preset);
  return spec;
}

double RoundSeconds(const codec::LinkSpec& link, double down_bytes, double up_bytes) {
  double seconds = (2.0 * link.latency_ms + link.compute_ms) / 1000.0;
  if (link.downlink_bps > 0.0) seconds += 8.0 * down_bytes / link.downlink_bps;
  if (!(link.uplink_bps > 0.0)) return seconds;
  const double air = 8.0 * up_bytes / link.uplink_bps;
  const double duty = link.duty_cycle > 0.0 ? link.duty_cycle : 1.0;
  return std::max(seconds + air, air / duty);
}

}  // namespace edgefl

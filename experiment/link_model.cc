#include "experiment/link_model.h"

namespace edgefl {

ResolvedLink Resolve(const LinkConfig& link) {
  ResolvedLink resolved;
  resolved.uplink_bps = link.uplink_bps > 0.0 ? link.uplink_bps : PresetUplinkBps(link.preset);
  resolved.downlink_bps = link.downlink_bps > 0.0 ? link.downlink_bps : resolved.uplink_bps;
  resolved.latency_s = link.latency_ms / 1000.0;
  resolved.compute_s = link.compute_ms / 1000.0;
  return resolved;
}

double RoundSeconds(const ResolvedLink& link, double down_bytes, double up_bytes) {
  double seconds = 2.0 * link.latency_s + link.compute_s;
  if (link.downlink_bps > 0.0) seconds += 8.0 * down_bytes / link.downlink_bps;
  if (link.uplink_bps > 0.0) seconds += 8.0 * up_bytes / link.uplink_bps;
  return seconds;
}

}  // namespace edgefl

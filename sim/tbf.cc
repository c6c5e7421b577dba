#include "sim/tbf.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace edgefl {

TbfParams TbfFor(double goodput_bps, uint64_t largest_message_bytes, uint64_t socket_queue_bytes) {
  TbfParams p;
  p.goodput_bps = goodput_bps;
  p.rate_bps = TbfRateBps(goodput_bps);
  p.burst_bytes = TbfBurstBytes(p.rate_bps);
  const auto message_on_wire =
      static_cast<uint64_t>(std::ceil(static_cast<double>(largest_message_bytes) * kFrameBytes / kSegmentPayloadBytes));
  p.limit_bytes = p.burst_bytes + std::max(message_on_wire, socket_queue_bytes) + kGsoBytes;
  return p;
}

double HeadStartSeconds(const TbfParams& params) {
  return TbfHeadStartSeconds(params.rate_bps, params.burst_bytes);
}

uint64_t SocketQueueBytes() {
  std::ifstream file("/proc/sys/net/ipv4/tcp_limit_output_bytes");
  uint64_t bytes = 0;
  if (file >> bytes && bytes > 0) return bytes;
  return kDefaultSocketQueueBytes;
}

std::vector<std::string> TbfArguments(const TbfParams& params) {
  return {"tbf",   "rate", std::to_string(params.rate_bps) + "bit", "burst", std::to_string(params.burst_bytes),
          "limit", std::to_string(params.limit_bytes)};
}

bool ParseQdiscCounters(const std::string& tc_output, QdiscCounters* counters) {
  const size_t at = tc_output.find("Sent ");
  if (at == std::string::npos) return false;
  QdiscCounters c;
  const int read = std::sscanf(tc_output.c_str() + at,
                               "Sent %" SCNu64 " bytes %" SCNu64 " pkt (dropped %" SCNu64 ", overlimits %" SCNu64,
                               &c.sent_bytes, &c.sent_packets, &c.dropped, &c.overlimits);
  if (read != 4) return false;
  *counters = c;
  return true;
}

}  // namespace edgefl

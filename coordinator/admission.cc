#include "coordinator/admission.h"

#include <algorithm>
#include <cstdio>

#include "core/log.h"

namespace edgefl {
namespace {

// Whether a Hello's list names `kind` (an absent list names nothing).
template <typename Kind>
bool Lists(std::span<const Kind> supported, Kind kind) {
  return std::find(supported.begin(), supported.end(), kind) != supported.end();
}

}  // namespace

std::string_view Admission::Check(uint32_t node, const wire::Hello& hello, std::span<char> reason) const {
  codec::HelloInfo info;
  const Status s = codec::ReadHello(hello, &info);
  const uint32_t dimension = config_.objective.dimension;
  int written = 0;
  if (!s.ok()) {
    written = std::snprintf(reason.data(), reason.size(), "%s", s.message());
  } else if (node == kNoNode || info.node_id != node) {
    written = std::snprintf(reason.data(), reason.size(), "routing id does not match node id %u", info.node_id);
  } else if (node >= nodes_.size()) {
    written = std::snprintf(reason.data(), reason.size(), "node id %u is outside 0..%u (run.nodes = %u)", node,
                            nodes_.size() - 1, nodes_.size());
  } else if (info.dimension != 0 && info.dimension != dimension) {
    written = std::snprintf(reason.data(), reason.size(), "node dimension %u does not match objective.dimension = %u",
                            info.dimension, dimension);
  } else if (!Lists(info.compressors, config_.compressor.kind)) {
    written = std::snprintf(reason.data(), reason.size(), "node does not support compressor.kind = \"%s\"",
                            codec::CompressorName(config_.compressor.kind));
  } else if (!Lists(info.objectives, config_.objective.kind)) {
    written = std::snprintf(reason.data(), reason.size(), "node does not support objective.kind = \"%s\"",
                            codec::ObjectiveName(config_.objective.kind));
  } else if (!Lists(info.noises, config_.noise.kind)) {
    written = std::snprintf(reason.data(), reason.size(), "node does not support noise.kind = \"%s\"",
                            codec::NoiseName(config_.noise.kind));
  }
  return {reason.data(), std::min(static_cast<size_t>(std::max(written, 0)), reason.size() - 1)};
}

void Admission::Join(uint32_t node, std::string_view routing_id, int64_t now_ms, bool in_round) {
  NodeSlot& slot = nodes_[node];
  if (!slot.joined) EDGEFL_LOG_DEBUG("node %u joined", node);
  slot.joined = slot.alive = true;
  slot.last_heard_ms = now_ms;
  slot.routing_id = std::string(routing_id);
  if (in_round && !slot.answered) slot.participant = false;
}

}  // namespace edgefl

#include "coordinator/admission.h"

#include <algorithm>
#include <cstdio>

#include "core/log.h"
#include "experiment/link_model.h"

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
  } else if (topology_.root() && info.relay_nodes != topology_.NodesPerRelay(config_.nodes)) {
    written = info.relay_nodes == 0
                  ? std::snprintf(reason.data(), reason.size(),
                                  "this coordinator takes relays (--relays %u), not nodes: connect node %u to its relay",
                                  topology_.relays, node)
                  : std::snprintf(reason.data(), reason.size(),
                                  "a relay serving %u nodes, where each of the %u relays serves %u", info.relay_nodes,
                                  topology_.relays, topology_.NodesPerRelay(config_.nodes));
  } else if (!topology_.root() && info.relay_nodes != 0) {
    written = std::snprintf(reason.data(), reason.size(),
                            "a relay's Hello, and this coordinator takes nodes (start the one above with --relays)");
  } else if (node >= nodes_.size()) {
    written = std::snprintf(reason.data(), reason.size(), "%s id %u is outside 0..%u (%s = %u)",
                            topology_.root() ? "relay" : "node", node, nodes_.size() - 1,
                            topology_.root() ? "--relays" : "run.nodes", nodes_.size());
  } else if (topology_.relay() && (node < topology_.FirstNode(config_.nodes) ||
                                   node - topology_.FirstNode(config_.nodes) >= topology_.ServedNodes(config_.nodes))) {
    const uint32_t first = topology_.FirstNode(config_.nodes);
    written = std::snprintf(reason.data(), reason.size(), "node %u belongs to relay %u; this is relay %u, for nodes %u..%u",
                            node, node / topology_.NodesPerRelay(config_.nodes), topology_.group, first,
                            first + topology_.ServedNodes(config_.nodes) - 1);
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
  if (written == 0 && !topology_.root()) NoteProfileFit(node, info);
  return {reason.data(), std::min(static_cast<size_t>(std::max(written, 0)), reason.size() - 1)};
}

void Admission::NoteProfileFit(uint32_t node, const codec::HelloInfo& info) const {
  const DeviceProfile* profile = config_.ProfileOf(node);
  if (profile == nullptr) return;
  const uint64_t budget =
      profile->memory_budget_bytes > 0 ? profile->memory_budget_bytes : BoardMemoryBudgetBytes(profile->board);
  if (info.memory_budget_bytes > 0 && budget > 0 && info.memory_budget_bytes < budget) {
    EDGEFL_LOG_WARN("node %u (profile \"%s\") declares a memory budget of %llu bytes, less than its profile's %llu: "
                    "the board is smaller than the experiment assumes",
                    node, profile->name.c_str(), static_cast<unsigned long long>(info.memory_budget_bytes),
                    static_cast<unsigned long long>(budget));
  }
  const double profile_uplink = ResolveLink(config_.LinkOf(node)).uplink_bps;
  if (info.uplink_bps > 0 && profile_uplink > 0.0 &&
      (static_cast<double>(info.uplink_bps) < 0.5 * profile_uplink ||
       static_cast<double>(info.uplink_bps) > 2.0 * profile_uplink)) {
    EDGEFL_LOG_WARN("node %u (profile \"%s\") declares an uplink of %llu b/s, its profile %.4g b/s: forecasts and "
                    "the virtual clock use the profile's",
                    node, profile->name.c_str(), static_cast<unsigned long long>(info.uplink_bps), profile_uplink);
  }
}

void Admission::Join(uint32_t node, std::string_view routing_id, int64_t now_ms, bool in_round,
                     uint32_t relay_nodes) {
  NodeSlot& slot = nodes_[node];
  slot.serves = relay_nodes > 0 ? relay_nodes : 1;
  if (!slot.joined) EDGEFL_LOG_DEBUG("node %u joined", node);
  slot.joined = slot.alive = true;
  slot.last_heard_ms = now_ms;
  slot.routing_id = std::string(routing_id);
  slot.replica_round = kNoReplica;  // a (re)joined node holds no model yet
  if (in_round && !slot.answered) slot.participant = false;
}

}  // namespace edgefl

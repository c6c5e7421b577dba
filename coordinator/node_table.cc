#include "coordinator/node_table.h"

#include <algorithm>

#include <charconv>

#include "core/log.h"

namespace edgefl {

uint32_t NodeTable::IdOf(std::string_view routing_id) {
  constexpr std::string_view kPrefix = "node-";
  if (routing_id.substr(0, kPrefix.size()) != kPrefix) return kNoNode;
  uint32_t id = kNoNode;
  const char* first = routing_id.data() + kPrefix.size();
  const char* last = routing_id.data() + routing_id.size();
  // One spelling per id: "node-03" is not node 3 (an alias would let a
  // second connection speak for a joined node).
  if (last - first > 1 && *first == '0') return kNoNode;
  const auto [end, error] = std::from_chars(first, last, id);
  return (error == std::errc() && end == last && first != last) ? id : kNoNode;
}

uint32_t NodeTable::JoinedCount() const {
  uint32_t n = 0;
  for (const NodeSlot& slot : slots_) n += slot.joined;
  return n;
}

uint32_t NodeTable::Outstanding() const {
  uint32_t n = 0;
  for (const NodeSlot& slot : slots_) n += slot.participant && slot.alive && !slot.answered;
  return n;
}

std::string NodeTable::MissingIds(uint32_t first, uint32_t count) const {
  std::string missing;
  const uint32_t end = static_cast<uint32_t>(std::min<uint64_t>(slots_.size(), uint64_t{first} + count));
  for (uint32_t i = first; i < end && missing.size() < 120; ++i) {
    if (!slots_[i].joined) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  }
  return missing;
}

uint32_t NodeTable::BeginRound(uint32_t round) {
  uint32_t participants = 0;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    NodeSlot& slot = slots_[i];
    slot.participant = slot.joined && slot.alive;
    slot.answered = false;
    slot.round = NodeRoundMetrics();
    slot.round.round = round;
    slot.round.node = i;
    participants += slot.participant;
  }
  return participants;
}

void NodeTable::DropSilent(int64_t now_ms, uint32_t dead_after_ms) {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    NodeSlot& slot = slots_[i];
    if (slot.alive && now_ms - slot.last_heard_ms > dead_after_ms) {
      slot.alive = false;
      EDGEFL_LOG_WARN("node %u silent for %lld ms: dropped", i, static_cast<long long>(now_ms - slot.last_heard_ms));
    }
  }
}

}  // namespace edgefl

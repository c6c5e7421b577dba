// NodeTable: what the coordinator knows of each node id 0..N-1 — whether it
// joined, whether it is alive, its ZeroMQ routing id, when it was last heard,
// and its part in the current round. Pure bookkeeping: no sockets. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runfiles/run_recorder.h"

namespace edgefl {

inline constexpr uint32_t kNoNode = UINT32_MAX;
// A node holds no model the coordinator knows of (NodeSlot::replica_round).
inline constexpr uint32_t kNoReplica = UINT32_MAX;

struct NodeSlot {
  bool joined = false;
  bool alive = false;
  bool participant = false;  // sent this round's start
  bool answered = false;     // its update for this round was aggregated
  uint32_t replica_round = kNoReplica;  // the round whose model it was last sent, whole or by steps
  uint32_t serves = 1;       // the nodes it stands for: 1, or a relay's (relay_topology.h)
  int64_t last_heard_ms = 0;
  std::string routing_id;
  NodeRoundMetrics round;    // this round's traffic and report
};

class NodeTable {
 public:
  explicit NodeTable(uint32_t nodes) : slots_(nodes) {}

  // "node-<id>" -> id, or kNoNode.
  static uint32_t IdOf(std::string_view routing_id);

  uint32_t size() const { return static_cast<uint32_t>(slots_.size()); }
  NodeSlot& operator[](uint32_t id) { return slots_[id]; }
  const NodeSlot& operator[](uint32_t id) const { return slots_[id]; }
  bool Joined(uint32_t id) const { return id < slots_.size() && slots_[id].joined; }

  uint32_t JoinedCount() const;
  // Participants that are alive and have not answered yet.
  uint32_t Outstanding() const;
  // "3, 7" — ids that have not joined, of [first, first + count) (for
  // messages; cut short when long).
  std::string MissingIds(uint32_t first = 0, uint32_t count = UINT32_MAX) const;

  // Every joined, alive node takes part in `round`; returns how many.
  uint32_t BeginRound(uint32_t round);
  // Marks nodes silent for longer than dead_after_ms as not alive.
  void DropSilent(int64_t now_ms, uint32_t dead_after_ms);

 private:
  std::vector<NodeSlot> slots_;
};

}  // namespace edgefl

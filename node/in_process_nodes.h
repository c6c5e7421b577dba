// InProcessNodes: nodes computed inside another process, a relay's
// (edgefl-coordinator --in-process, coordinator/relay_loop.h): node ids
// first .. first + count - 1 of one task, each computing its round's Update
// with the node's own code (NodeRuntime::ComputeUpdate, as edgefl-node
// does: its seed streams, its noise, its compressor, its message bytes).
// A node whose task keeps no state across rounds (no error memory, no kept
// moments, no control variate) is a function of the task, its id, the round
// and the model alone, so all of them share one runtime, retargeted to each
// id in turn: the population costs one node's memory. Nodes with state get
// a runtime each, carved by the node's own memory plan (a few KB at d =
// 100). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "node/arena.h"
#include "node/node_runtime.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

class InProcessNodes {
 public:
  // Nodes `first` .. `first + count - 1` of `task` (a synthetic objective;
  // its node_index is each node's id).
  InProcessNodes(const codec::TaskSpec& task, uint32_t first, uint32_t count);

  uint32_t first() const { return first_; }
  uint32_t count() const { return count_; }
  // Whether the nodes share one runtime (they keep no state across rounds).
  bool shared() const { return runtimes_.size() == 1 && count_ > 1; }
  // The bytes the nodes' memory takes in all.
  size_t memory_bytes() const;

  // Node `id`'s Update for `round` at `model`; the bytes stay valid until
  // the next call.
  std::span<const uint8_t> Compute(uint32_t id, uint32_t round, std::span<const float> model);

 private:
  uint32_t first_;
  uint32_t count_;
  std::vector<std::unique_ptr<Arena>> arenas_;
  std::vector<std::unique_ptr<NodeRuntime>> runtimes_;  // one shared, or one a node
};

}  // namespace edgefl

// Admission: whether a node's Hello lets it join this run, and its joining.
// A node is admitted when its routing id names the node id it claims, that
// id is within run.nodes, its dimension (if it states one) is the run's and
// it declares the run's compressor, objective and noise kinds (so a node
// that cannot compute the task is told so, rather than failing after its
// Welcome). In a tree of relays (relay_topology.h) the root admits relays
// only, each serving its share of the nodes, and a relay its own nodes only.
// Pure decisions over the NodeTable: no sockets. Not thread-safe.
#pragma once

#include <string_view>

#include "experiment/experiment_config.h"
#include "coordinator/node_table.h"
#include "coordinator/relay_topology.h"
#include "schemas/codec/wire.h"

namespace edgefl {

class Admission {
 public:
  Admission(const ExperimentConfig& config, NodeTable& nodes, const RelayTopology& topology = {})
      : config_(config), nodes_(nodes), topology_(topology) {}

  // Empty when `node` (the id its routing id names) may join; otherwise the
  // reason it may not, written to `reason`.
  std::string_view Check(uint32_t node, const wire::Hello& hello, std::span<char> reason) const;

  // Marks `node` joined and alive at `now_ms`, standing for `relay_nodes`
  // nodes when it is a relay. A node that (re)joins during a round never
  // got that round's start: it takes part from the next.
  void Join(uint32_t node, std::string_view routing_id, int64_t now_ms, bool in_round, uint32_t relay_nodes = 0);

 private:
  // Warns when a node's Hello says its board is smaller, or its link other,
  // than its device profile assumes (a node is not refused for it: the
  // node itself refuses a task past its memory budget).
  void NoteProfileFit(uint32_t node, const codec::HelloInfo& info) const;

  const ExperimentConfig& config_;
  NodeTable& nodes_;
  const RelayTopology topology_;
};

}  // namespace edgefl

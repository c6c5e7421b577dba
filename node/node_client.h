// NodeClient: the node's life over ZeroMQ. A DEALER socket (routing id
// "node-<id>") joins the coordinator with Hello, takes its task from
// Welcome, then answers every RoundStart with an Update until Bye. Heartbeats
// keep both sides aware of each other. A coordinator silent for
// `lost_after_ms`, or one that answers with UnknownNode (a coordinator
// resumed from a checkpoint), is joined again: Hello with back-off and
// jitter for up to `rejoin_timeout_ms`, after which the node ends with a
// clear error. Rejoining the same task keeps the node's state (error
// feedback memory); a new task starts it afresh. Messages are received
// into a preallocated, aligned buffer with a size check, and every buffer is
// verified before use. Not thread-safe: one per thread, and a process may
// host several (RunLogicalNodes).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "net/curve_keys.h"

#include "core/status.h"
#include "node/attack.h"

namespace edgefl {

struct NodeOptions {
  std::string endpoint;
  uint32_t node_id = 0;
  uint32_t dimension = 0;            // 0: the coordinator's
  uint64_t memory_budget_bytes = 0;  // the arena's size; 0: what the task needs, up to the default (memory_budget.h)
  int join_timeout_ms = 10000;
  int lost_after_ms = 15000;
  int rejoin_timeout_ms = 300000;    // 0: end at once when the coordinator is lost
  bool print_memory_plan = false;
  std::string data_dir;              // where data sets are (see node/dataset.h)
  std::string state_dir;             // where the node keeps its state across restarts (node_state_store.h); "" off
  NodeAttack attack;                 // a testing aid: a hostile node (node/attack.h); none by default
  // The nodes this process hosts (edgefl-node --logical): without
  // memory_budget_bytes, each takes this share of the default budget.
  uint32_t nodes_in_process = 1;
  // CURVE (net/curve_keys.h): this node's key pair and the coordinator's
  // public key; both empty for a plain connection.
  CurveKeyPair key;
  std::string server_public_key;
};

// Runs until the coordinator says Bye (Ok), `stop` becomes true (Ok, after
// telling the coordinator), or something fails (the reason).
Status RunNode(const NodeOptions& options, const std::atomic<bool>& stop);

// Runs `count` logical nodes in this process, ids options.node_id ..
// options.node_id + count - 1, each a RunNode of its own (its own socket,
// arena, state and seed streams: the same code path as a process node) on a
// thread of its own, its log lines tagged with its id. Returns once every
// one has ended: Ok, or how many failed (each logs its own reason).
Status RunLogicalNodes(const NodeOptions& options, uint32_t count, const std::atomic<bool>& stop);

}  // namespace edgefl

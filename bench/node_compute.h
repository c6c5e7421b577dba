// The node's own computation alone, as a baseline for the benchmarks that
// time rounds (relay_bench.cc, round_bench.cc): what a round's updates cost
// before any message moves or is checked.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "node/arena.h"
#include "node/node_runtime.h"

namespace edgefl::bench {

// Seconds `updates` updates of `task` take on one thread with the node's
// runtime (NodeRuntime::ComputeUpdate, as edgefl-node computes them), each
// as another node (Retarget: the task must keep no state across rounds).
inline double NodeComputeSeconds(codec::TaskSpec task, uint32_t updates) {
  task.num_nodes = updates;
  Arena arena(PlanNodeMemory(task).total_bytes);
  NodeRuntime runtime(task, arena);
  const std::vector<float> model(task.objective.dimension, 1.0f);
  size_t bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < updates; ++i) {
    runtime.Retarget(i);
    bytes += runtime.ComputeUpdate(1, model).size();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return bytes > 0 ? seconds : 0.0;
}

}  // namespace edgefl::bench

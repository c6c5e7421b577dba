// NodeStateStore (node/node_state_store.h): which saved copy a node loads
// when it joins a run restarting at round R, against the state the node
// really had then; copies of another task are never loaded.
#include "node/node_state_store.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

#include "tests/temp_files.h"

namespace edgefl {
namespace {

codec::TaskSpec EfSignTask(uint64_t seed = 7) {
  codec::TaskSpec task;
  task.objective.dimension = 300;
  task.compressor.kind = wire::CompressorKind::EfSign;
  task.seed = seed;
  task.num_nodes = 2;
  task.node_index = 1;
  return task;
}

std::vector<float> ErrorMemory(const NodeRuntime& runtime) {
  const auto memory = runtime.compressor().error_memory();
  return {memory.begin(), memory.end()};
}

TEST_CASE("a node joining a run restarted at round R loads the copy valid at R, or none") {
  const std::string dir = testing::TempDir("edgefl-state-store");
  const codec::TaskSpec task = EfSignTask();
  std::vector<std::vector<float>> after(10);  // the error memory after each round
  {
    Arena arena(PlanNodeMemory(task).total_bytes);
    NodeRuntime runtime(task, arena);
    NodeStateStore store;
    REQUIRE(store.Open(dir, task.node_index, runtime, /*checkpoint_every=*/5).ok());
    store.Joined(0, true);
    std::vector<float> model(task.objective.dimension, 0.5f);
    for (uint32_t round = 0; round < 10; ++round) {
      REQUIRE(store.BeforeRound(round).ok());
      runtime.ComputeUpdate(round, model);
      store.AfterRound(round);
      after[round] = ErrorMemory(runtime);
    }
    REQUIRE(store.Leave().ok());
  }
  // Kept: before round 9 (after 8), the checkpoint copy before round 5
  // (after 4), and the copy on leaving (after 9).
  struct Case {
    uint32_t restart;
    int after_round;  // -1: none valid, zero state
  };
  for (const Case c : {Case{5, 4}, Case{9, 8}, Case{10, 9}, Case{50, 9}, Case{7, -1}, Case{3, -1}}) {
    CAPTURE(c.restart);
    Arena arena(PlanNodeMemory(task).total_bytes);
    NodeRuntime runtime(task, arena);
    NodeStateStore store;
    REQUIRE(store.Open(dir, task.node_index, runtime, 5).ok());
    store.Joined(c.restart, true);
    const std::vector<float> memory = ErrorMemory(runtime);
    if (c.after_round >= 0) {
      CHECK(memory == after[static_cast<size_t>(c.after_round)]);
    } else {
      CHECK(memory == std::vector<float>(task.objective.dimension, 0.0f));
    }
  }
  // Another task's node never takes these copies.
  const codec::TaskSpec other = EfSignTask(/*seed=*/8);
  Arena arena(PlanNodeMemory(other).total_bytes);
  NodeRuntime runtime(other, arena);
  NodeStateStore store;
  REQUIRE(store.Open(dir, other.node_index, runtime, 5).ok());
  store.Joined(10, true);
  CHECK(ErrorMemory(runtime) == std::vector<float>(other.objective.dimension, 0.0f));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a running node rewinds only for a new coordinator restarting at a round it has computed") {
  const std::string dir = testing::TempDir("edgefl-state-rewind");
  const codec::TaskSpec task = EfSignTask();
  Arena arena(PlanNodeMemory(task).total_bytes);
  NodeRuntime runtime(task, arena);
  NodeStateStore store;
  REQUIRE(store.Open(dir, task.node_index, runtime, 4).ok());
  store.Joined(0, true);
  std::vector<float> model(task.objective.dimension, 0.25f);
  std::vector<std::vector<float>> after(7);
  for (uint32_t round = 0; round < 7; ++round) {
    REQUIRE(store.BeforeRound(round).ok());
    runtime.ComputeUpdate(round, model);
    store.AfterRound(round);
    after[round] = ErrorMemory(runtime);
  }
  store.Joined(3, /*new_coordinator=*/false);  // the same coordinator, rejoined: nothing changes
  CHECK(ErrorMemory(runtime) == after[6]);
  store.Joined(7, /*new_coordinator=*/true);  // a new one that carries on where this node is
  CHECK(ErrorMemory(runtime) == after[6]);
  store.Joined(4, /*new_coordinator=*/true);  // resumed from its checkpoint at 4: back to after 3
  CHECK(ErrorMemory(runtime) == after[3]);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace edgefl

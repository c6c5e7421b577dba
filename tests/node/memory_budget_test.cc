// The node's memory budget: a task over it is refused before the arena is
// taken, with or without --memory-budget, and the default fits a board.
#include "node/memory_budget.h"

#include <doctest/doctest.h>

#include <string>

#include "node/node_runtime.h"

namespace edgefl {
namespace {

bool Mentions(const Status& s, const std::string& what) { return std::string(s.message()).find(what) != std::string::npos; }

codec::TaskSpec TaskOfDimension(uint32_t d) {
  codec::TaskSpec task;
  task.objective.dimension = d;
  task.num_nodes = 4;
  return task;
}

TEST_CASE("the default budget is a quarter of physical memory, at most 256 MiB") {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  CHECK(DefaultMemoryBudgetBytes(512 * kMiB) == 128 * kMiB);  // a Pi Zero
  CHECK(DefaultMemoryBudgetBytes(8192 * kMiB) == 256 * kMiB);
  CHECK(DefaultMemoryBudgetBytes(0) == 256 * kMiB);           // unknown
  CHECK(EffectiveMemoryBudgetBytes(4 * kMiB) == 4 * kMiB);
  CHECK(EffectiveMemoryBudgetBytes(0) == DefaultMemoryBudgetBytes(PhysicalMemoryBytes()));
  CHECK(EffectiveMemoryBudgetBytes(0) <= 256 * kMiB);
}

TEST_CASE("a Welcome with d = 2^28 is refused under the default budget, before any arena") {
  // What a fake coordinator sent: the plan of d = 2^28 is over a gigabyte.
  const codec::TaskSpec huge = TaskOfDimension(1u << 28);
  const MemoryPlan plan = PlanNodeMemory(huge);
  CHECK(plan.total_bytes > (size_t{4} << 30));
  size_t arena_bytes = 1;
  const Status s = ArenaBytesFor(huge, plan.total_bytes, 0, DefaultMemoryBudgetBytes(PhysicalMemoryBytes()), &arena_bytes);
  CHECK(s.code() == StatusCode::kResourceExhausted);
  CHECK(Mentions(s, "refused the task: it needs " + std::to_string(plan.total_bytes) + " bytes (d = 268435456"));
  CHECK(Mentions(s, "give --memory-budget"));
  CHECK(arena_bytes == 0);
  // On a board with 512 MiB d = 2^23 (16 bytes a coordinate, over its 128
  // MiB) is refused, and a machine with plenty of memory refuses d = 2^28
  // all the same.
  const codec::TaskSpec large = TaskOfDimension(1u << 23);
  const size_t large_bytes = PlanNodeMemory(large).total_bytes;
  CHECK_FALSE(ArenaBytesFor(large, large_bytes, 0, DefaultMemoryBudgetBytes(uint64_t{512} << 20), &arena_bytes).ok());
  CHECK(ArenaBytesFor(large, large_bytes, 0, DefaultMemoryBudgetBytes(uint64_t{64} << 30), &arena_bytes).ok());
  CHECK(arena_bytes == large_bytes);
  CHECK_FALSE(ArenaBytesFor(huge, plan.total_bytes, 0, DefaultMemoryBudgetBytes(uint64_t{1} << 40), &arena_bytes).ok());
}

TEST_CASE("without --memory-budget the arena is what the task needs; with it, the whole budget") {
  const codec::TaskSpec task = TaskOfDimension(1000);
  const size_t needed = PlanNodeMemory(task).total_bytes;
  size_t arena_bytes = 0;
  REQUIRE(ArenaBytesFor(task, needed, 0, DefaultMemoryBudgetBytes(0), &arena_bytes).ok());
  CHECK(arena_bytes == needed);
  REQUIRE(ArenaBytesFor(task, needed, 1 << 20, DefaultMemoryBudgetBytes(0), &arena_bytes).ok());
  CHECK(arena_bytes == size_t{1} << 20);
  // A given budget may exceed the default: the operator chose it.
  REQUIRE(ArenaBytesFor(task, needed, uint64_t{1} << 30, uint64_t{1} << 20, &arena_bytes).ok());
  CHECK(arena_bytes == size_t{1} << 30);
  // Logical nodes share the default: the refusal says so.
  const Status shared = ArenaBytesFor(task, needed, 0, needed / 2, &arena_bytes, 8);
  REQUIRE_FALSE(shared.ok());
  CHECK(std::string(shared.message()).find("over this node's share of the default memory budget, 1/8") !=
        std::string::npos);
  const Status s = ArenaBytesFor(task, needed, 1024, DefaultMemoryBudgetBytes(0), &arena_bytes);
  CHECK(Mentions(s, "memory budget of 1024 bytes is too small: this task (d = 1000, identity) needs"));
}

}  // namespace
}  // namespace edgefl

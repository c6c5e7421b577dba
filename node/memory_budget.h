// The node's memory budget: the most its arena may take. The task comes
// from the network, and a coordinator (or anything that binds its port
// while it is away) could ask for d = 2^28, over a gigabyte, so the node
// always has a budget and checks the task's plan against it before it
// takes the arena. Given with --memory-budget, the budget is the arena's
// size, taken whole; without it, the node takes what the task needs, up to
// a default that leaves a board room for everything else it runs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

// The default budget: a quarter of physical memory, at most 256 MiB (about
// d = 16 million: a synthetic task takes 16 bytes a coordinate), so that a task can take
// neither a small board's memory nor a large machine's beyond what any
// shipped experiment needs. Physical memory unknown (0): 256 MiB.
inline constexpr uint64_t kMaxDefaultMemoryBudgetBytes = uint64_t{256} << 20;
uint64_t DefaultMemoryBudgetBytes(uint64_t physical_memory_bytes);
// This machine's physical memory in bytes (0 if unknown).
uint64_t PhysicalMemoryBytes();

// The budget a node has: `given_bytes` (its --memory-budget), or the
// default for this machine when that is 0.
uint64_t EffectiveMemoryBudgetBytes(uint64_t given_bytes);

// The arena's size for `task`, whose memory plan totals `needed_bytes`,
// under the budget `given_bytes` (0: the default, `default_bytes`, which
// `shared_by` logical nodes of one process share). A task over the budget
// is refused, naming its dimension, what it needs and the budget, before
// anything is allocated.
Status ArenaBytesFor(const codec::TaskSpec& task, size_t needed_bytes, uint64_t given_bytes, uint64_t default_bytes,
                     size_t* arena_bytes, uint32_t shared_by = 1);

}  // namespace edgefl

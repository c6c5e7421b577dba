#include "node/in_process_nodes.h"

#include <algorithm>
#include <cassert>

namespace edgefl {
namespace {

std::unique_ptr<NodeRuntime> MakeRuntime(codec::TaskSpec task, uint32_t id,
                                         std::vector<std::unique_ptr<Arena>>& arenas) {
  task.node_index = id;
  arenas.push_back(std::make_unique<Arena>(PlanNodeMemory(task).total_bytes));
  return std::make_unique<NodeRuntime>(task, *arenas.back());
}

}  // namespace

InProcessNodes::InProcessNodes(const codec::TaskSpec& task, uint32_t first, uint32_t count)
    : first_(first), count_(count) {
  assert(!codec::IsDataObjective(task.objective.kind));
  runtimes_.push_back(MakeRuntime(task, first, arenas_));
  const auto state = runtimes_.front()->persistent_state();
  const bool stateless = std::all_of(state.begin(), state.end(), [](std::span<uint8_t> s) { return s.empty(); });
  if (stateless) return;
  runtimes_.reserve(count);
  for (uint32_t id = first + 1; id < first + count; ++id) runtimes_.push_back(MakeRuntime(task, id, arenas_));
}

size_t InProcessNodes::memory_bytes() const {
  size_t bytes = 0;
  for (const auto& arena : arenas_) bytes += arena->capacity();
  return bytes;
}

std::span<const uint8_t> InProcessNodes::Compute(uint32_t id, uint32_t round, std::span<const float> model) {
  assert(id >= first_ && id - first_ < count_);
  if (runtimes_.size() == 1) {
    runtimes_.front()->Retarget(id);
    return runtimes_.front()->ComputeUpdate(round, model);
  }
  return runtimes_[id - first_]->ComputeUpdate(round, model);
}

}  // namespace edgefl

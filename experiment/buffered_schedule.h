// BufferedSchedule: how a buffered run (async.mode = "buffered", docs/theory.md
// 7) hands out its tasks and orders its arrivals on the virtual clock, in one
// place for the coordinator (coordinator/buffered_intake.h), which takes real
// updates in this order, and the forecast (sim/buffered_forecast.h), which
// plans the same steps from the link model before any run.
//   - Which idle nodes get tasks: with fewer idle live nodes than free
//     places, all of them; otherwise the free places' worth with the lowest
//     TaskDrawPriority, a uniform draw from the seed; sent in node order.
//   - Arrivals are taken in (seconds, node) order: ties to the lower id.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "experiment/experiment_config.h"

namespace edgefl {

// The priority of idle node `node` for a task when `tasks_sent` tasks have gone out.
uint64_t TaskDrawPriority(uint64_t seed, uint32_t tasks_sent, uint32_t node);

// Of `idle` ({priority, node} pairs), keeps the `free` that take the next
// tasks, in node order.
void ChooseTaskNodes(std::vector<std::pair<uint64_t, uint32_t>>& idle, uint32_t free);

// One step as planned: when its last update arrives (run seconds), the
// staleness of each update it takes, and the updates refused as staler
// than async.max_staleness meanwhile.
struct BufferedStepPlan {
  double end_s = 0.0;
  std::vector<uint32_t> staleness;
  uint32_t stale = 0;
};

// Plans `steps` steps of buffered `config` whose node i's every task takes
// task_seconds[i] (its exchange and computation: experiment/link_model.h),
// every node alive throughout.
std::vector<BufferedStepPlan> PlanBufferedSteps(const ExperimentConfig& config, std::span<const double> task_seconds,
                                                uint32_t steps);

}  // namespace edgefl

#include "experiment/buffered_schedule.h"

#include <algorithm>

#include "core/rng.h"

namespace edgefl {
namespace {

// The purpose of the draw of which idle node takes the next task, apart
// from every node's own streams and the cohort sampler's (coordinator/cohort_sampler.cc).
constexpr uint64_t kTaskDraw = 0xC0507'0000'0004ULL;

}  // namespace

uint64_t TaskDrawPriority(uint64_t seed, uint32_t tasks_sent, uint32_t node) {
  return DeriveSeed(seed, kTaskDraw, tasks_sent, node);
}

void ChooseTaskNodes(std::vector<std::pair<uint64_t, uint32_t>>& idle, uint32_t free) {
  if (idle.size() > free) {
    std::partial_sort(idle.begin(), idle.begin() + free, idle.end());
    idle.resize(free);
  }
  std::sort(idle.begin(), idle.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
}

std::vector<BufferedStepPlan> PlanBufferedSteps(const ExperimentConfig& c, std::span<const double> task_seconds,
                                                uint32_t steps) {
  struct Task {
    bool out = false;
    uint32_t version = 0;
    double arrival_s = 0.0;
  };
  const uint32_t nodes = c.nodes;
  const uint32_t concurrency = c.async.concurrency > 0 ? c.async.concurrency : nodes;
  std::vector<Task> tasks(nodes);
  std::vector<std::pair<uint64_t, uint32_t>> idle;
  uint32_t tasks_sent = 0, busy = 0, version = 0;
  double now = 0.0;
  const auto dispatch = [&] {
    idle.clear();
    for (uint32_t i = 0; i < nodes; ++i) {
      if (!tasks[i].out) idle.emplace_back(TaskDrawPriority(c.seed, tasks_sent, i), i);
    }
    if (busy >= concurrency) return;
    ChooseTaskNodes(idle, concurrency - busy);
    for (const auto& [priority, node] : idle) {
      tasks[node] = {.out = true, .version = version, .arrival_s = now + task_seconds[node]};
      ++tasks_sent;
      ++busy;
    }
  };
  std::vector<BufferedStepPlan> plan(steps);
  dispatch();
  for (uint32_t k = 0; k < steps; ++k) {
    BufferedStepPlan& step = plan[k];
    while (step.staleness.size() < c.async.buffer) {
      uint32_t next = nodes;
      for (uint32_t i = 0; i < nodes; ++i) {
        if (tasks[i].out && (next == nodes || tasks[i].arrival_s < tasks[next].arrival_s)) next = i;
      }
      Task& task = tasks[next];
      now = std::max(now, task.arrival_s);
      const uint32_t staleness = version - task.version;
      if (staleness > c.async.max_staleness) {
        ++step.stale;
      } else {
        step.staleness.push_back(staleness);
      }
      task.out = false;
      --busy;
      if (step.staleness.size() < c.async.buffer) dispatch();
    }
    step.end_s = now;
    ++version;
    dispatch();
  }
  return plan;
}

}  // namespace edgefl

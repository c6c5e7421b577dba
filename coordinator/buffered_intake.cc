#include "coordinator/buffered_intake.h"

#include <algorithm>
#include <utility>

#include "core/log.h"
#include "experiment/buffered_schedule.h"
#include "experiment/link_model.h"
#include "experiment/staleness_weight.h"

namespace edgefl {

BufferedIntake::BufferedIntake(Session& session)
    : s_(session), virtual_(session.config.round.clock == RoundClock::kVirtual), tasks_(session.config.nodes) {}

double BufferedIntake::now_s() const {
  if (virtual_) return virtual_now_s_;
  return static_cast<double>(s_.clock.NowMs() - wall_origin_ms_) / 1000.0;
}

void BufferedIntake::BeginStep() {
  if (!started_) {
    // A resumed run's clock carries on from its checkpoint's; its nodes'
    // tasks from before the stop are lost, as a restarted server's would be.
    started_ = true;
    virtual_now_s_ = s_.state.rounds_time_s;
    wall_origin_ms_ = s_.clock.NowMs() - static_cast<int64_t>(s_.state.rounds_time_s * 1000.0);
  }
  weight_sum_ = staleness_sum_ = 0;
  staleness_max_ = stale_ = missing_ = 0;
  Dispatch();
}

void BufferedIntake::Dispatch() {
  const uint32_t nodes = s_.nodes.size();
  const int64_t now_ms = s_.clock.NowMs();
  idle_.clear();
  for (uint32_t i = 0; i < nodes; ++i) {
    Task& task = tasks_[i];
    const NodeSlot& slot = s_.nodes[i];
    const bool live = slot.joined && slot.alive;
    // A lost node's held update has arrived, in modelled time: it still counts.
    const bool overdue = now_ms - task.sent_ms > static_cast<int64_t>(s_.config.round.deadline_ms);
    if (task.out && !task.arrived && (!live || overdue)) {
      NodeRoundMetrics row{.round = s_.state.round, .node = i, .outcome = NodeOutcome::kMissing};
      ++missing_;
      Close(i, row);
    }
    if (!task.out && live) idle_.emplace_back(TaskDrawPriority(s_.config.seed, s_.state.tasks_sent, i), i);
  }
  const uint32_t concurrency = s_.config.async.concurrency > 0 ? s_.config.async.concurrency : nodes;
  if (busy_ >= concurrency || idle_.empty()) return;
  ChooseTaskNodes(idle_, concurrency - busy_);  // experiment/buffered_schedule.h
  for (const auto& [priority, node] : idle_) Send(node);
}

void BufferedIntake::Send(uint32_t node) {
  Task& task = tasks_[node];
  std::vector<uint8_t> buffer = std::move(task.message);  // its capacity, for the next update held
  task = Task{.out = true,
              .id = s_.state.tasks_sent++,
              .version = s_.state.round,
              .sent_s = now_s(),
              .sent_ms = s_.clock.NowMs(),
              .message = std::move(buffer)};
  s_.ForEachModelPart(task.id, [&] {
    if (!s_.SendTo(node)) {
      task.out = false;  // not alive: an idle node gets the work at the next dispatch
      return false;
    }
    task.bytes_down += s_.fbb.GetSize();
    s_.round_metrics.bytes_down += s_.fbb.GetSize();
    return true;
  });
  if (!task.out) return;
  if (virtual_) {
    task.bound_s = task.sent_s + RoundSeconds(ResolveLink(s_.config.LinkOf(node)),
                                              static_cast<double>(task.bytes_down), 0.0);
  }
  ++busy_;
  ++s_.round_metrics.participants;
}

Status BufferedIntake::OnUpdate(uint32_t node, uint32_t round, const wire::Update& update,
                                std::span<const uint8_t> message) {
  const auto refuse = [](auto... args) { return Status::Error(StatusCode::kMalformed, args...); };
  Task& task = tasks_[node];
  // A refused message's bytes count in the step it came in; an answer's in
  // the step that takes it (on the virtual clock, at its modelled arrival).
  const bool answers = task.out && !task.arrived && round == task.id && update.node_id() == node;
  if (!answers) s_.collector.CountBytesUp(message.size());
  if (!task.out || task.arrived) return refuse("update for task %u: node %u has no task out", round, node);
  if (round != task.id) return refuse("update for task %u: node %u's task is %u", round, node, task.id);
  if (update.node_id() != node) return refuse("update claims node id %u", update.node_id());
  // The run's last step is taken: the tasks still out are answered for
  // nothing, as a real run's would be, and no fault of their nodes'.
  if (!s_.collector.open()) return Status::Ok();
  task.bytes_up = message.size();
  if (!virtual_) {
    task.arrival_s = now_s();
    return Take(node, &update, message);
  }
  task.arrived = true;
  task.arrival_s = task.sent_s + RoundSeconds(ResolveLink(s_.config.LinkOf(node)),
                                              static_cast<double>(task.bytes_down),
                                              static_cast<double>(message.size()));
  task.message.assign(message.begin(), message.end());
  return Status::Ok();
}

void BufferedIntake::TakeDue(MessageHandler& handler) {
  if (!virtual_) return;
  while (!Full()) {
    // The next arrival in (time, node) order, among those in and those
    // still out (by their bound); only one that has come can be taken.
    uint32_t next = kNoNode;
    double next_s = 0.0;
    bool arrived = false;
    for (uint32_t i = 0; i < tasks_.size(); ++i) {
      const Task& task = tasks_[i];
      if (!task.out) continue;
      const double at = task.arrived ? task.arrival_s : task.bound_s;
      if (next == kNoNode || at < next_s) {  // ties keep the lower id
        next = i;
        next_s = at;
        arrived = task.arrived;
      }
    }
    if (next == kNoNode || !arrived) return;
    virtual_now_s_ = std::max(virtual_now_s_, next_s);
    const Status taken = Take(next, nullptr, tasks_[next].message);
    if (!taken.ok()) handler.Reject(next, "%s", taken.message());
  }
}

Status BufferedIntake::Take(uint32_t node, const wire::Update* update, std::span<const uint8_t> message) {
  Task& task = tasks_[node];
  s_.collector.CountBytesUp(task.bytes_up);
  const uint32_t staleness = s_.state.round - task.version;
  NodeRoundMetrics row{.round = s_.state.round, .node = node, .staleness = staleness};
  Status status;
  if (staleness > s_.config.async.max_staleness) {
    // Not a fault of the node's: counted (metrics.csv's stale, nodes.csv's
    // outcome), and the node given the current model.
    row.outcome = NodeOutcome::kStale;
    if (stale_run_++ == 0) {
      EDGEFL_LOG_INFO("step %u: an update %u versions stale, past async.max_staleness = %u, was refused (the run "
                      "counts them in metrics.csv's stale column)",
                      s_.state.round, staleness, s_.config.async.max_staleness);
    }
    ++stale_;
  } else {
    const uint32_t weight = QuantizedStalenessWeight(s_.config.async, staleness);
    const Status added = update != nullptr ? s_.collector.AddAs(node, *update, row, weight)
                                           : s_.collector.AddMessage(node, message, row, weight);
    status = s_.CountAdded(node, message, added);
    if (status.ok()) {
      weight_sum_ += weight;
      staleness_sum_ += staleness;
      staleness_max_ = std::max(staleness_max_, staleness);
    }
  }
  Close(node, row);
  if (!Full()) Dispatch();
  return status;
}

void BufferedIntake::Close(uint32_t node, NodeRoundMetrics& row) {
  Task& task = tasks_[node];
  row.bytes_down = task.bytes_down;
  row.bytes_up = task.bytes_up;
  row.connection_lost = s_.nodes[node].round.connection_lost;
  s_.nodes[node].round.connection_lost = false;
  if (row.outcome != NodeOutcome::kMissing) row.arrival_s = task.arrival_s - task.sent_s;
  s_.recorder.RecordNode(row);
  task.out = task.arrived = false;
  task.message.clear();
  --busy_;
}

double BufferedIntake::step_scale() const {
  if (s_.config.aggregator.kind == AggregatorKind::kMajority) return 1.0;
  const double quantum = StalenessQuantum(s_.config.async.buffer);
  return static_cast<double>(weight_sum_) / (quantum * s_.config.async.buffer);
}

void BufferedIntake::Describe(RoundMetrics* m) const {
  m->buffer_fill = s_.collector.count();
  m->staleness_mean = m->buffer_fill > 0 ? static_cast<double>(staleness_sum_) / m->buffer_fill : 0.0;
  m->staleness_max = staleness_max_;
  m->stale = stale_;
  m->missing = missing_;
}

}  // namespace edgefl

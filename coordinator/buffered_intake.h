// BufferedIntake: buffered asynchronous aggregation (FedBuff, Nguyen et al.
// 2022; async.mode = "buffered", docs/theory.md 7). The nodes have no
// rounds: each of async.concurrency nodes holds one task at a time — the
// model as it stood when the task was sent, version v — and answers it with
// one update. Each answer goes into the buffer weighed by its staleness
// s = (versions now) - v (experiment/staleness_weight.h), or is refused past
// async.max_staleness; once the buffer holds K = async.buffer updates the
// round loop steps, making version v + 1 (one metrics.csv row a step). A
// node that has answered gets its next task at once; with a concurrency
// below run.nodes an idle live node drawn from run.seed gets it instead.
// Tasks are numbered across the run, and a task's number is the round its
// RoundStart and Update carry (docs/protocol.md 4.8): a node sees one round
// a task, so its seed streams differ from task to task, and the coordinator
// knows each task's version from its own record, not from the node.
//
// Time. On the wall clock an update counts as it arrives. On the virtual
// clock a task's update arrives at its send time plus the link model's time
// for its exact bytes (experiment/link_model.h: 2 latency + compute + bytes
// over the node's link), and updates are taken in that order, ties to the
// lower node id: one that has come in is held until no task still out
// could arrive before it (a bound: the same time without the update's
// bytes). The same config and seed then give the same tasks, staleness and
// model on every machine, whatever its scheduling; a node that is lost
// (silent past round.dead_after_ms), or that leaves a task unanswered for
// round.deadline_ms of real time, is the one thing the machine decides.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "coordinator/message_handler.h"
#include "coordinator/session.h"

namespace edgefl {

class BufferedIntake final : public UpdateSink {
 public:
  explicit BufferedIntake(Session& session);

  // Starts a step, at the time the last one ended: no updates yet; hands
  // tasks to idle nodes until `concurrency` train.
  void BeginStep();
  // Abandons the tasks of nodes no longer alive, and those unanswered
  // round.deadline_ms after they were sent, on the wall clock (nodes.csv:
  // missing), and hands their work to idle live nodes.
  void Dispatch();
  Status OnUpdate(uint32_t node, uint32_t round, const wire::Update& update,
                  std::span<const uint8_t> message) override;
  // Virtual clock: takes the held updates whose turn has come, in arrival
  // order, until the buffer is full; refusals go through `handler`.
  void TakeDue(MessageHandler& handler);

  bool Full() const { return s_.collector.count() >= s_.config.async.buffer; }
  // Tasks out now.
  uint32_t busy() const { return busy_; }
  // The clock's seconds since the run's first step began (virtual: modelled).
  double now_s() const;
  // What a step's direction is scaled by: (sum of the weights) / (Q K), so
  // that it is FedBuff's (1/K) sum_i w(s_i) g_i (the mean and sign-mean give
  // the weighted mean; a majority vote is only weighted, its size left to the
  // step rule).
  double step_scale() const;
  // The step's figures: buffer fill, staleness, refused stale updates, abandoned tasks.
  void Describe(RoundMetrics* metrics) const;

 private:
  struct Task {
    bool out = false;      // sent, and neither answered nor abandoned
    bool arrived = false;  // virtual clock: its update came, and is held
    uint32_t id = 0;       // its number: the round of its RoundStart and Update
    uint32_t version = 0;  // the model's version it was sent
    double sent_s = 0.0;
    int64_t sent_ms = 0;   // on the wall clock, for round.deadline_ms
    double bound_s = 0.0;  // the earliest its update can arrive: sent_s plus its link's time without the update
    double arrival_s = 0.0;
    uint64_t bytes_down = 0;
    uint64_t bytes_up = 0;
    std::vector<uint8_t> message;  // virtual clock: the held update
  };

  void Send(uint32_t node);
  // Adds node `node`'s answer `message` (on the wall clock `update`, read
  // where it was received; held, on the virtual clock, when null), weighed by
  // its staleness, and records its nodes.csv row; the node is then idle,
  // and the buffer not yet full, another task goes out.
  Status Take(uint32_t node, const wire::Update* update, std::span<const uint8_t> message);
  // Ends node `node`'s task with its nodes.csv row.
  void Close(uint32_t node, NodeRoundMetrics& row);

  Session& s_;
  const bool virtual_;
  std::vector<Task> tasks_;  // by node
  std::vector<std::pair<uint64_t, uint32_t>> idle_;  // Dispatch's candidates, kept for their capacity
  uint32_t busy_ = 0;
  bool started_ = false;
  double virtual_now_s_ = 0.0;  // when the last update taken arrived (run seconds)
  int64_t wall_origin_ms_ = 0;  // the wall clock's now_s() = 0
  // This step's figures.
  uint64_t weight_sum_ = 0;
  uint64_t staleness_sum_ = 0;
  uint32_t staleness_max_ = 0;
  uint32_t stale_ = 0;
  uint32_t missing_ = 0;
  uint64_t stale_run_ = 0;  // stale updates over the run (the first is logged)
};

}  // namespace edgefl

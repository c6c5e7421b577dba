// RunState: everything the round loop carries from one round to the next —
// the next round's index, the model, the losses so far (for the tail mean),
// the failed rounds in a row, the nodes that have sent overflowing updates
// (for the divergence test), the summary's running figures, the bytes of
// accepted updates and the clocks — so that a checkpoint can save it and a
// resumed run load it. The server step's state is saved beside it
// (ServerStep::Save). Plain values; not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "runfiles/run_recorder.h"
#include "core/state_io.h"

namespace edgefl {

struct RunState {
  // `with_control`: the run keeps SCAFFOLD's control variate (local.optimizer = "scaffold").
  RunState(uint32_t dimension, uint32_t nodes, bool with_control = false)
      : model(dimension), overflowed(nodes), control(with_control ? dimension : 0) {}

  uint32_t round = 0;               // the next round to run: the rounds done
  std::vector<float> model;
  std::vector<double> losses;       // one a round run
  uint32_t failed_in_a_row = 0;     // rounds without a quorum, up to now
  std::vector<uint8_t> overflowed;  // 1 for each node that has sent |v| >= 2^40
  RunSummary summary;               // its figures so far; the outcome's fields are set at the end
  uint64_t accepted_update_bytes = 0;
  double rounds_time_s = 0.0;       // metrics.csv's time_s at the end of the last round run
  double wall_time_s = 0.0;         // the run's wall time before this process took it over
  std::vector<float> control;       // SCAFFOLD's c (empty otherwise)
  uint32_t tasks_sent = 0;          // buffered aggregation: tasks numbered so far (the next task's number)

  // Folds round `m` (the round this state is at) into the summary.
  void FoldRound(const RoundMetrics& m) {
    summary.rounds = round + 1;
    rounds_time_s = m.time_s;
    summary.bytes_up += m.bytes_up;
    summary.bytes_down += m.bytes_down;
    summary.final_loss = m.loss;
    summary.final_test_accuracy = m.test_accuracy;
    if (!(summary.best_test_accuracy >= m.test_accuracy)) summary.best_test_accuracy = m.test_accuracy;
    summary.final_grad_norm = m.grad_norm;
    summary.epsilon = m.epsilon;
    summary.best_loss = std::min(summary.best_loss, m.loss);
    losses.push_back(m.loss);
    // The mean of the last half of the losses (rounded up, so one round counts).
    const size_t start = losses.size() / 2;
    double sum = 0.0;
    for (size_t i = start; i < losses.size(); ++i) sum += losses[i];
    summary.tail_mean_loss = sum / static_cast<double>(losses.size() - start);
  }

  void Save(StateWriter& out) const {
    out.Put(round);
    out.Put(failed_in_a_row);
    out.PutSpan(std::span<const float>(model));
    out.PutSpan(std::span<const double>(losses));
    out.PutSpan(std::span<const uint8_t>(overflowed));
    out.Put(accepted_update_bytes);
    out.Put(rounds_time_s);
    out.Put(wall_time_s);
    const RunSummary& s = summary;
    for (const uint32_t v : {s.rounds, s.steps}) out.Put(v);
    for (const double v : {s.initial_loss, s.final_loss, s.best_loss, s.tail_mean_loss, s.final_grad_norm,
                           s.final_test_accuracy, s.best_test_accuracy}) {
      out.Put(v);
    }
    out.Put(s.diverged_at);
    for (const uint64_t v : {s.bytes_up, s.bytes_down, s.update_messages, s.rejected}) out.Put(v);
    out.PutSpan(std::span<const float>(control));
    out.Put(tasks_sent);
  }
  // The model, `overflowed` and `control` must already have the run's sizes.
  Status Load(StateReader& in) {
    EDGEFL_RETURN_IF_ERROR(in.Get(&round));
    EDGEFL_RETURN_IF_ERROR(in.Get(&failed_in_a_row));
    EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<float>(model)));
    EDGEFL_RETURN_IF_ERROR(in.GetVector(&losses));
    if (losses.size() != round) {
      return Status::Error(StatusCode::kMalformed, "state holds %zu losses for %u rounds", losses.size(), round);
    }
    EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<uint8_t>(overflowed)));
    EDGEFL_RETURN_IF_ERROR(in.Get(&accepted_update_bytes));
    EDGEFL_RETURN_IF_ERROR(in.Get(&rounds_time_s));
    EDGEFL_RETURN_IF_ERROR(in.Get(&wall_time_s));
    RunSummary& s = summary;
    for (uint32_t* v : {&s.rounds, &s.steps}) EDGEFL_RETURN_IF_ERROR(in.Get(v));
    for (double* v : {&s.initial_loss, &s.final_loss, &s.best_loss, &s.tail_mean_loss, &s.final_grad_norm,
                      &s.final_test_accuracy, &s.best_test_accuracy}) {
      EDGEFL_RETURN_IF_ERROR(in.Get(v));
    }
    EDGEFL_RETURN_IF_ERROR(in.Get(&s.diverged_at));
    for (uint64_t* v : {&s.bytes_up, &s.bytes_down, &s.update_messages, &s.rejected}) EDGEFL_RETURN_IF_ERROR(in.Get(v));
    EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<float>(control)));
    EDGEFL_RETURN_IF_ERROR(in.Get(&tasks_sent));
    return Status::Ok();
  }
};

}  // namespace edgefl

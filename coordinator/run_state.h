// RunState: everything the round loop carries from one round to the next —
// the next round's index, the model, the losses so far (for the tail mean),
// the failed rounds in a row, the summary's running figures and the bytes
// of accepted updates — so that a checkpoint can save it and a resumed run
// load it. The server step's state is saved beside it (ServerStep::Save).
// Plain values; not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "coordinator/run_recorder.h"
#include "coordinator/state_io.h"

namespace edgefl {

struct RunState {
  explicit RunState(uint32_t dimension) : model(dimension) {}

  uint32_t round = 0;               // the next round to run
  std::vector<float> model;
  std::vector<double> losses;       // one a round run
  uint32_t failed_in_a_row = 0;     // rounds without a quorum, up to now
  RunSummary summary;               // its figures so far; the outcome's fields are set at the end
  uint64_t accepted_update_bytes = 0;

  void Save(StateWriter& out) const {
    out.Put(round);
    out.Put(failed_in_a_row);
    out.PutSpan(std::span<const float>(model));
    out.PutSpan(std::span<const double>(losses));
    out.Put(accepted_update_bytes);
    const RunSummary& s = summary;
    for (const uint32_t v : {s.rounds, s.steps}) out.Put(v);
    for (const double v : {s.initial_loss, s.final_loss, s.best_loss, s.tail_mean_loss, s.final_grad_norm,
                           s.final_test_accuracy, s.best_test_accuracy}) {
      out.Put(v);
    }
    out.Put(s.diverged_at);
    for (const uint64_t v : {s.bytes_up, s.bytes_down, s.update_messages, s.rejected}) out.Put(v);
  }
  // The model must already have the run's dimension.
  Status Load(StateReader& in) {
    EDGEFL_RETURN_IF_ERROR(in.Get(&round));
    EDGEFL_RETURN_IF_ERROR(in.Get(&failed_in_a_row));
    EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<float>(model)));
    if (losses.size() != round) losses.resize(round);
    EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<double>(losses)));
    EDGEFL_RETURN_IF_ERROR(in.Get(&accepted_update_bytes));
    RunSummary& s = summary;
    for (uint32_t* v : {&s.rounds, &s.steps}) EDGEFL_RETURN_IF_ERROR(in.Get(v));
    for (double* v : {&s.initial_loss, &s.final_loss, &s.best_loss, &s.tail_mean_loss, &s.final_grad_norm,
                      &s.final_test_accuracy, &s.best_test_accuracy}) {
      EDGEFL_RETURN_IF_ERROR(in.Get(v));
    }
    EDGEFL_RETURN_IF_ERROR(in.Get(&s.diverged_at));
    for (uint64_t* v : {&s.bytes_up, &s.bytes_down, &s.update_messages, &s.rejected}) EDGEFL_RETURN_IF_ERROR(in.Get(v));
    return Status::Ok();
  }
};

}  // namespace edgefl

// RunState: everything the round loop carries from one round to the next —
// the next round's index, the model, the losses so far (for the tail mean),
// the failed rounds in a row — so that a checkpoint can save it and a
// resumed run load it. The server step's state is saved beside it
// (ServerStep::Save). Plain values; not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "coordinator/state_io.h"

namespace edgefl {

struct RunState {
  explicit RunState(uint32_t dimension) : model(dimension) {}

  uint32_t round = 0;               // the next round to run
  std::vector<float> model;
  std::vector<double> losses;       // one a round run
  uint32_t failed_in_a_row = 0;     // rounds without a quorum, up to now

  void Save(StateWriter& out) const {
    out.Put(round);
    out.Put(failed_in_a_row);
    out.PutSpan(std::span<const float>(model));
    out.PutSpan(std::span<const double>(losses));
  }
  // The model must already have the run's dimension.
  Status Load(StateReader& in) {
    EDGEFL_RETURN_IF_ERROR(in.Get(&round));
    EDGEFL_RETURN_IF_ERROR(in.Get(&failed_in_a_row));
    EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<float>(model)));
    if (losses.size() != round) losses.resize(round);
    return in.GetSpan(std::span<double>(losses));
  }
};

}  // namespace edgefl

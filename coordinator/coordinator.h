// Coordinator: the server of one experiment. A ZeroMQ ROUTER socket keyed by
// node id ("node-<id>"); nodes join with Hello and get their task in
// Welcome; then synchronous rounds: RoundStart to every live node, updates
// verified, decoded and streamed into the aggregator as they arrive, and once
// every live participant has answered (or at the deadline, given a quorum)
// one step x -= eta_k * direction. Metrics and
// the summary go to the RunRecorder. Dead nodes (silent past
// round.dead_after_ms) are dropped; a run that can no longer reach its
// quorum stops with the reason, keeping every row already written.
// Not thread-safe: Run() owns the socket.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "coordinator/experiment_config.h"
#include "coordinator/run_recorder.h"
#include "core/status.h"

namespace edgefl {

class Coordinator {
 public:
  // `data_dir` is where a data objective's data set is read from (empty:
  // the default search path); Run() fails early if it is not there.
  Coordinator(const ExperimentConfig& config, RunRecorder& recorder, const std::string& data_dir = "");
  ~Coordinator();

  // Binds, e.g. "tcp://127.0.0.1:*"; *bound receives the real endpoint.
  Status Bind(const std::string& endpoint, std::string* bound);

  // Joins the nodes and runs rounds until done; fills *summary in every
  // case (also on error or stop) and records it.
  Status Run(const std::atomic<bool>& stop, RunSummary* summary);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgefl

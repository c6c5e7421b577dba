// Coordinator: the server of one experiment, and its round loop. Nodes join
// with Hello (Admission) and get their task in Welcome; then synchronous
// rounds: RoundStart to every live node, updates checked, decoded and
// streamed into the aggregator as they arrive (UpdateCollector), and once
// every live participant has answered (or at the deadline, given a quorum)
// one server step (ServerStep). Metrics and the summary go to the
// RunRecorder. Dead nodes (silent past round.dead_after_ms) are dropped; a
// run that can no longer reach its quorum fails with the reason, keeping
// every row already written. The socket is the Transport's; what carries
// over between rounds is a RunState, which goes to checkpoint.bin every
// run.checkpoint_every rounds and when the run ends (checkpoint.h), and
// which Restore() takes back from one. Not thread-safe: Run() owns the socket.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>

#include "runfiles/checkpoint.h"
#include "experiment/experiment_config.h"
#include "runfiles/run_outcome.h"
#include "runfiles/run_recorder.h"
#include "coordinator/relay_topology.h"
#include "coordinator/transport.h"
#include "core/status.h"

namespace edgefl {

class LocalNodes;

class Coordinator {
 public:
  // `data_dir` is where a data objective's data set is read from (empty:
  // the default search path); Run() fails early if it is not there.
  // `security`: CURVE keys and the allow-list, and the handshake limit.
  // `topology`: flat, the root of relays, or a relay (relay_topology.h;
  // checked by CheckRelayTopology); a relay's `local` nodes are computed in
  // this process (relay_loop.h; null: they connect).
  Coordinator(const ExperimentConfig& config, RunRecorder& recorder, const std::string& data_dir = "",
              const TransportSecurity& security = {}, const RelayTopology& topology = {},
              LocalNodes* local = nullptr);
  ~Coordinator();

  // Binds, e.g. "tcp://127.0.0.1:*"; *bound receives the real endpoint.
  Status Bind(const std::string& endpoint, std::string* bound);

  // Continues the run from `checkpoint` (before Run): refused, with the
  // reason, when it was taken with another config or its state does not fit
  // this run.
  Status Restore(const Checkpoint& checkpoint);
  // The model as it stands: x_0 once Run has begun, a checkpoint's after Restore.
  std::span<const float> model() const;

  // Joins the nodes and runs rounds until done; fills *summary in every
  // case (also on error or stop) and records it. The status is the error
  // of a failed run (or of writing the summary).
  Status Run(const std::atomic<bool>& stop, RunSummary* summary, RunOutcome* outcome);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgefl

// Session: the state one run's coordinator parts share — the config and the
// run's files, the clock, the socket, the nodes and the round's updates,
// and what carries over between rounds (RunState). The MessageHandler reads
// and answers messages into it; the RoundLoop runs rounds over it; the
// Coordinator owns it and checkpoints its state. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>

#include "coordinator/aggregator.h"
#include "coordinator/control_variate.h"
#include "coordinator/model_evaluator.h"
#include "coordinator/node_table.h"
#include "coordinator/relay_topology.h"
#include "coordinator/transport.h"
#include "coordinator/update_collector.h"
#include "core/clock.h"
#include "experiment/experiment_config.h"
#include "runfiles/run_recorder.h"
#include "runfiles/run_state.h"
#include "schemas/codec/wire.h"

namespace edgefl {

struct Session {
  Session(const ExperimentConfig& config, RunRecorder& recorder, const Clock& clock,
          const TransportSecurity& security, const RelayTopology& topology = {});

  // Sends `fbb` (with `staged`, the message transport.Stage took from it:
  // one copy for every node it goes to) to joined node `node`; a node that
  // cannot be reached is marked not alive (it is heard from again when it
  // reconnects).
  bool SendTo(uint32_t node, bool staged = false);
  // The aggregator's verdict `added` on node `node`'s update `message`:
  // counted into the run's figures, the audit chain and the kept updates
  // when it was added; an overflow marks the node (divergence.h). Returns `added`.
  Status CountAdded(uint32_t node, std::span<const uint8_t> message, const Status& added);
  // The most updates one step adds: run.nodes, or a buffered step's K.
  static uint32_t UpdatesPerStep(const ExperimentConfig& config) {
    return config.async.Buffered() ? std::max(config.nodes, config.async.buffer) : config.nodes;
  }
  // Encodes the model (with the control variate beside it, under Scaffold)
  // into fbb as `round`'s Full RoundStart parts, one at a time, calling
  // send() after each; stops early when send() returns false.
  template <typename Send>
  void ForEachModelPart(uint32_t round, Send send) {
    for (uint32_t offset = 0; offset < dimension; offset += codec::kRoundStartPartValues) {
      const uint32_t count = std::min(codec::kRoundStartPartValues, dimension - offset);
      const std::span<const float> values = std::span<const float>(state.model).subspan(offset, count);
      const std::span<const float> beside =
          state.control.empty() ? std::span<const float>() : std::span<const float>(state.control).subspan(offset, count);
      codec::EncodeRoundStartFull(fbb, round, values, offset, beside);
      if (!send()) return;
    }
  }
  // The participants a run waits for before its first round: its nodes,
  // the root's relays, or a relay's share of the nodes.
  uint32_t ExpectedParticipants() const {
    return topology.root() ? topology.relays : topology.ServedNodes(config.nodes);
  }
  // Round `round` opens: its metrics afresh, the collector open for it.
  void OpenRound(uint32_t round) {
    round_metrics = RoundMetrics();
    round_metrics.round = round;
    collector.Open(round);
    overflows_in_round = 0;
  }
  // One more message refused: in the run's total and the round's.
  void CountRejected() {
    ++state.summary.rejected;
    ++round_metrics.rejected;
  }

  const ExperimentConfig& config;
  RunRecorder& recorder;
  const Clock& clock;
  const RelayTopology topology;  // flat, the root of relays, or a relay
  const uint32_t dimension;
  // The largest update accepted (docs/protocol.md 1), from any encoder; at
  // the root of relays, the largest partial.
  const size_t max_message_bytes;
  Transport transport;
  flatbuffers::FlatBufferBuilder fbb{4096};
  std::unique_ptr<ModelEvaluator> evaluator;  // once Run has loaded the objective; nodes are refused until then
  std::unique_ptr<Aggregator> aggregator;
  std::unique_ptr<ControlVariate> control;  // local.optimizer = "scaffold" only; c is state.control
  NodeTable nodes;
  UpdateCollector collector;
  RunState state;
  RoundMetrics round_metrics;          // the round being run
  uint32_t overflows_in_round = 0;     // updates too large to add, this round
  uint64_t connections_closed = 0;     // keys that spoke for another node
  bool saying_bye = false;             // the run is over: Bye sent
  // Drawn once a coordinator process (Welcome.coordinator_instance): a node
  // that keeps state tells a resumed coordinator from the one it left.
  const uint64_t instance;
};

}  // namespace edgefl

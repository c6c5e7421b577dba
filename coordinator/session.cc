#include "coordinator/session.h"

#include <random>

#include "core/clock.h"
#include "core/log.h"

namespace edgefl {

Session::Session(const ExperimentConfig& run_config, RunRecorder& run_recorder, const Clock& run_clock,
                 const TransportSecurity& security, const RelayTopology& relay_topology)
    : config(run_config),
      recorder(run_recorder),
      clock(run_clock),
      topology(relay_topology),
      dimension(run_config.objective.dimension),
      max_message_bytes(relay_topology.root()
                            ? codec::ExactPartialSizeLimit(run_config.objective.dimension)
                            : codec::UpdateSizeLimit(run_config.compressor, run_config.objective.dimension,
                                                     run_config.local.HasControl())),
      transport(max_message_bytes, run_config.round.heartbeat_ms, run_config.round.dead_after_ms, security),
      aggregator(MakeAggregator(AggregatorAsRun(run_config), run_config.compressor.kind, UpdatesPerStep(run_config),
                                dimension, max_message_bytes, run_config.seed)),
      control(run_config.local.HasControl() ? std::make_unique<ControlVariate>(dimension, run_config.nodes) : nullptr),
      nodes(relay_topology.Participants(run_config.nodes)),
      collector(run_config.compressor, dimension, *aggregator, nodes, run_config.aggregator.weighting, control.get(),
                relay_topology.root()),
      state(dimension, run_config.nodes, run_config.local.HasControl()),
      instance((uint64_t{std::random_device{}()} << 32) ^ std::random_device{}() ^ static_cast<uint64_t>(NowUs())) {}

Status Session::CountAdded(uint32_t node, std::span<const uint8_t> message, const Status& added) {
  if (!added.ok()) {
    if (added.code() == StatusCode::kOverflow) {
      state.overflowed[node] = 1;
      ++overflows_in_round;
    }
    return added;
  }
  ++state.summary.update_messages;
  state.accepted_update_bytes += message.size();
  if (const Status kept = recorder.AcceptedUpdate(node, state.round, message); !kept.ok()) {
    EDGEFL_LOG_WARN("%s", kept.message());
  }
  return Status::Ok();
}

bool Session::SendTo(uint32_t node, bool staged) {
  if (staged ? transport.SendStaged(nodes[node].routing_id) : transport.Send(nodes[node].routing_id, fbb)) return true;
  if (nodes[node].alive) EDGEFL_LOG_WARN("node %u is unreachable", node);
  nodes[node].alive = false;
  return false;
}

}  // namespace edgefl

#include "coordinator/session.h"

#include "core/log.h"

namespace edgefl {

Session::Session(const ExperimentConfig& run_config, RunRecorder& run_recorder, const Clock& run_clock,
                 const TransportSecurity& security)
    : config(run_config),
      recorder(run_recorder),
      clock(run_clock),
      dimension(run_config.objective.dimension),
      max_message_bytes(codec::UpdateSizeLimit(run_config.compressor, run_config.objective.dimension)),
      transport(max_message_bytes, run_config.round.heartbeat_ms, run_config.round.dead_after_ms, security),
      aggregator(MakeAggregator(run_config.aggregator, run_config.compressor.kind, run_config.nodes, dimension,
                                max_message_bytes, run_config.seed)),
      nodes(run_config.nodes),
      collector(run_config.compressor, dimension, *aggregator, nodes, run_config.aggregator.weighting),
      state(dimension, run_config.nodes) {}

bool Session::SendTo(uint32_t node) {
  if (transport.Send(nodes[node].routing_id, fbb)) return true;
  if (nodes[node].alive) EDGEFL_LOG_WARN("node %u is unreachable", node);
  nodes[node].alive = false;
  return false;
}

}  // namespace edgefl

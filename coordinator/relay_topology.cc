#include "coordinator/relay_topology.h"

namespace edgefl {
namespace {

Status Refuse(const char* format, auto... args) {
  return Status::Error(StatusCode::kInvalidArgument, format, args...);
}

}  // namespace

Status CheckRelayTopology(const ExperimentConfig& config, const RelayTopology& topology) {
  if (!topology.relay() && !topology.parent_key.secret_key.empty()) {
    return Refuse("--parent-key is a relay's key for its link above: give --parent (and --relays, --group)");
  }
  if (topology.flat()) {
    if (topology.relay()) return Refuse("--parent needs --relays, the relays the run's nodes are split among");
    if (topology.in_process) return Refuse("--in-process is a relay's: give --parent, --relays and --group");
    return Status::Ok();
  }
  const uint32_t r = topology.relays;
  if (config.nodes % r != 0) {
    return Refuse("--relays %u does not divide run.nodes = %u: each relay serves the same number of nodes", r,
                  config.nodes);
  }
  if (topology.relay() && topology.group >= r) return Refuse("--group %u is not below --relays %u", topology.group, r);
  const AggregatorConfig& a = config.aggregator;
  const char* rule = AggregatorName(a.kind);
  if (a.kind != AggregatorKind::kMean && a.kind != AggregatorKind::kSignMean && a.kind != AggregatorKind::kMajority) {
    return Refuse("aggregator.kind = \"%s\" needs every update itself, so a relay cannot combine its nodes' exactly: "
                  "relays take mean, sign-mean and majority", rule);
  }
  if (a.bucket_size > 1) return Refuse("aggregator.bucket_size shuffles every update of a round: no relays");
  if (a.node_momentum > 0.0) return Refuse("aggregator.node_momentum keeps each node's momentum: no relays");
  if (config.AskedPerRound() > config.CohortSize()) {
    return Refuse("round.over_commit takes a round's first K answers as they arrive; relays take every answer of "
                  "their share of the cohort");
  }
  for (uint32_t node = 0; node < config.nodes; ++node) {
    if (config.ParticipationOf(node).dropout > 0.0) {
      return Refuse("node %u has a dropout (round.dropout, or its profile's): no relays", node);
    }
  }
  if (config.async.Buffered()) return Refuse("async.mode = \"buffered\": relays run synchronous rounds");
  if (config.round.clock == RoundClock::kVirtual) {
    return Refuse("round.clock = \"virtual\" models each node's arrival at the coordinator: relays use the wall clock");
  }
  if (config.local.HasControl()) return Refuse("local.optimizer = \"scaffold\" sends control variates: no relays");
  if (topology.in_process) {
    if (!topology.relay()) return Refuse("--in-process is a relay's: give --parent, --relays and --group");
    if (codec::IsDataObjective(config.objective.kind)) {
      return Refuse("--in-process: objective.kind = \"%s\" has each node read its own shard of a data set; in-process "
                    "nodes take synthetic objectives", codec::ObjectiveName(config.objective.kind));
    }
    if (!config.profiles.empty()) return Refuse("--in-process: [[profile]] gives nodes tasks of their own; none here");
    if (config.link.shaping != LinkShaping::kNone) {
      return Refuse("--in-process: link.shaping shapes a node's socket, and in-process nodes have none");
    }
  }
  return Status::Ok();
}

}  // namespace edgefl

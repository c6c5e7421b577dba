// RelayTopology: where a coordinator sits in a tree of relays (docs/deploy.md
// 11, docs/protocol.md 11). Flat, the default: it serves the run's nodes
// itself. Root (edgefl-coordinator --relays R): its participants are R
// relays, relay g serving node ids [g n, (g + 1) n) with n = run.nodes / R,
// and each round it asks the relays that serve some of the round's cohort
// for one exact partial each instead of their nodes' updates.
// Relay g (--relays R --group g --parent ENDPOINT): serves those nodes as a
// coordinator does (their Hello, Welcome and task, heartbeats, the round's
// model), takes each round's model from the coordinator above, and sends it
// its nodes' exact partial (Aggregator::ExportPartial). Both read the same
// config, so a relay gives its nodes the tasks a flat coordinator would,
// and the root's model is a flat run's, bit for bit.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "net/curve_keys.h"
#include "experiment/experiment_config.h"

namespace edgefl {

struct RelayTopology {
  uint32_t relays = 0;  // 0: flat
  uint32_t group = 0;   // a relay's group, < relays
  std::string parent;   // a relay's coordinator above (empty: not a relay)
  // CURVE on a relay's link above (both empty: a plain connection): its key
  // pair, on the allow-list of the coordinator above as node-<group>'s, and
  // that coordinator's public key.
  CurveKeyPair parent_key;
  std::string parent_server_key;
  // A relay whose nodes are computed in its own process (--in-process).
  bool in_process = false;

  bool flat() const { return relays == 0; }
  bool root() const { return relays > 0 && parent.empty(); }
  bool relay() const { return !parent.empty(); }
  // The nodes each relay serves.
  uint32_t NodesPerRelay(uint32_t nodes) const { return relays == 0 ? nodes : nodes / relays; }
  // The node ids this coordinator admits: [FirstNode, FirstNode + ServedNodes).
  uint32_t FirstNode(uint32_t nodes) const { return relay() ? group * NodesPerRelay(nodes) : 0; }
  uint32_t ServedNodes(uint32_t nodes) const { return relay() ? NodesPerRelay(nodes) : nodes; }
  // The participants this coordinator's table holds: relays at the root,
  // node ids otherwise (a relay's table has every id; it admits its own).
  uint32_t Participants(uint32_t nodes) const { return root() ? relays : nodes; }
  // The connections this coordinator takes: its relays, or the nodes it
  // serves (none when they are in-process).
  uint32_t Connections(uint32_t nodes) const { return root() ? relays : in_process ? 1 : ServedNodes(nodes); }
};

// Refuses, with the reason, a topology or a config a relay tree cannot run
// exactly: R must divide run.nodes, the aggregator must have a partial
// (mean, sign-mean, majority; no bucketing or node momentum), every answer
// of the cohort counts (no over-commitment or dropout), rounds are
// synchronous (no buffered runs), on the wall clock, and without Scaffold.
// Under round.downlink = "step" a relay keeps a replica as a node does and
// hands the steps on to its nodes as they came. Cohorts, availability
// and schedules are drawn over the whole population by the root and every
// relay alike (CohortSampler::DrawFromPopulation), which is the flat run's
// draw while every node is alive. A
// relay's in-process nodes need a synthetic objective (a data objective's
// nodes read a shard each), one task for all (no profiles), and no shaped
// link (they have none to cross).
Status CheckRelayTopology(const ExperimentConfig& config, const RelayTopology& topology);

}  // namespace edgefl

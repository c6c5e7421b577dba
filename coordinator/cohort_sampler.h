// CohortSampler: who takes part in a round. Each round, every node of the
// population that has joined, is alive and is on its availability schedule
// that round is available with its availability (round.availability, or
// its profile's), and the cohort is a
// uniform sample of the available nodes without replacement: the
// round.cohort nodes (every available one when 0), over-committed by
// round.over_commit, whose seeded priorities are lowest. An asked node's
// answer is lost with its dropout probability. Every draw is a hash of
// (run.seed, purpose, round, node): the same seed gives the same cohorts,
// availability and dropouts whatever the order nodes joined or answered
// in. With the defaults (every node, availability 1, no dropout) it draws
// nothing and asks every live node, as runs always did. Not thread-safe.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "coordinator/node_table.h"
#include "experiment/experiment_config.h"

namespace edgefl {

class CohortSampler {
 public:
  explicit CohortSampler(const ExperimentConfig& config) : config_(config) {}

  // Marks this round's cohort as participants in `nodes` (NodeTable's
  // BeginRound has reset the round); returns how many were asked.
  uint32_t Select(uint32_t round, NodeTable& nodes) const;

  // Relays (relay_topology.h): this round's cohort drawn over the whole
  // population, as Select draws it while every node is alive, its ids
  // increasing in *members. The root and every relay draw it alike, each
  // asking its own share.
  void DrawFromPopulation(uint32_t round, std::vector<uint32_t>* members) const;

  // Whether node `node`'s answer in `round` is lost (its dropout draw).
  bool DropsOut(uint32_t round, uint32_t node) const;

  // Whether node `node` is available in `round` (its schedule, then its
  // availability draw).
  bool Available(uint32_t round, uint32_t node) const;
  // How many of the population are available in `round`, alive or not: when
  // fewer than the quorum, waiting for lost nodes cannot help.
  uint32_t AvailableCount(uint32_t round) const;

 private:
  // The `asked` lowest priorities of `candidates` first (ties, at 2^-64, go
  // to the lower id); returns how many that is.
  uint32_t KeepLowest(std::vector<std::pair<uint64_t, uint32_t>>& candidates) const;
  // A uniform draw in [0, 1) for (purpose, round, node).
  double Uniform(uint64_t purpose, uint32_t round, uint32_t node) const;

  const ExperimentConfig& config_;
};

}  // namespace edgefl

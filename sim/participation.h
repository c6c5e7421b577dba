// ParticipationModel: a round's cohort and its length, as the coordinator
// makes them (coordinator/cohort_sampler.h, coordinator/round_intake.h),
// drawn for the forecast. Each round, of the population of run.nodes:
//   available   node i, when the round is on its schedule, with its
//               availability a_i (ParticipationOf);
//   asked       a uniform sample without replacement of K' = AskedPerRound()
//               of the available ones (all of them when fewer);
//   dropped     each asked node's answer lost with its dropout q_i;
//   arrival     each other asked node's answer after t_i = RoundSeconds of
//               its own link (LinkOf) with the exact bytes each way;
//   counted     the first K = CohortSize() arrivals at or before the
//               deadline, ties to the lower id (experiment/virtual_round.h);
//   length      the K-th counted arrival, or the last one when every asked
//               node answered in time, otherwise the deadline (a dropped
//               answer never comes, so such a round waits for it);
//   step        when at least QuorumCount() updates counted.
// Fewer than the quorum available ends the run at the coordinator (it waits
// join_timeout_ms for nodes, then fails): such a round is flagged too_few and
// counts no time. The draws come from the caller's Rng, not from the
// coordinator's seeded hashes: a forecast averages over cohorts, where a run
// is one sequence of them.
// Expected() gives the mean round: exact, by summing the binomial draws, when
// every node has the same link and participation and no schedule; otherwise
// by Monte Carlo over Draw from a seed fixed by run.seed (kMonteCarloDraws
// rounds, fewer for large populations, cycling through the run's rounds when
// schedules make rounds differ), so the same config gives the same figures. Immutable
// after construction; Draw writes only into the caller's DrawBuffers, so one
// model serves every thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/rng.h"
#include "experiment/experiment_config.h"
#include "experiment/virtual_round.h"

namespace edgefl {

struct RoundDraw {
  uint32_t asked = 0;
  uint32_t counted = 0;   // the updates the step averages
  bool steps = false;     // counted >= the quorum
  bool too_few = false;   // fewer available than the quorum: the coordinator ends the run
  double seconds = 0.0;   // the round's length
};

// A thread's working memory for one model's Draw, sized for the population once.
struct DrawBuffers {
  explicit DrawBuffers(uint32_t nodes);
  std::vector<uint32_t> available;
  std::vector<Arrival> arrivals;
  std::vector<uint32_t> counted;  // the counted nodes' ids, ascending, after Draw
};

struct ParticipationExpectation {
  double asked = 0.0;
  double counted = 0.0;
  double seconds = 0.0;   // E[length], too-few rounds counting 0
  double no_step = 0.0;   // P(counted < quorum), too-few rounds included
  double too_few = 0.0;   // P(available < quorum)
  bool exact = false;     // summed in closed form (alike nodes), or Monte Carlo
  uint32_t draws = 0;     // Monte Carlo's rounds (0 when exact)
};

class ParticipationModel {
 public:
  static constexpr uint32_t kMonteCarloDraws = 20000;

  // `down_bytes`, `up_bytes`: one node's RoundStart parts and Update
  // (sim/round_cost.h), the same for every node.
  ParticipationModel(const ExperimentConfig& config, double down_bytes, double up_bytes);

  // Node i as the round sees it: its answer's arrival, its chances.
  struct Node {
    double arrival_s = 0.0;
    double availability = 1.0;
    double dropout = 0.0;
    AvailabilitySchedule schedule{};
  };
  // The rounds of `config` (cohort, over-commitment, quorum, deadline, seed)
  // over these nodes, one for each of run.nodes.
  ParticipationModel(const ExperimentConfig& config, std::vector<Node> nodes);

  // Round `round` (from 0; schedules make rounds differ).
  RoundDraw Draw(Rng& rng, DrawBuffers& buffers, uint32_t round) const;

  // Every node has the same link, availability and dropout, and no schedule.
  bool alike() const { return alike_; }
  // Every round counts the same number of updates at the same time (alike
  // nodes, all available, none dropping): that draw.
  std::optional<RoundDraw> Fixed() const;

  ParticipationExpectation Expected() const;
  ParticipationExpectation Exact() const;  // alike() only
  ParticipationExpectation MonteCarlo(uint32_t draws, uint64_t seed) const;

  // t_i: node i's answer's arrival after the round's start.
  double ArrivalSeconds(uint32_t node) const { return nodes_[node].arrival_s; }
  uint32_t nodes() const { return static_cast<uint32_t>(nodes_.size()); }

 private:
  std::vector<Node> nodes_;
  std::optional<RoundDraw> everyone_;  // Fixed() when every node is asked: Draw draws nothing
  uint32_t cohort_, asked_, quorum_, rounds_;
  double deadline_s_;
  uint64_t seed_;
  bool alike_ = true;
  bool scheduled_ = false;  // some node has a schedule
};

}  // namespace edgefl

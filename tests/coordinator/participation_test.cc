// The cohort draw and the virtual clock's choice of answers, without sockets.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "coordinator/cohort_sampler.h"
#include "experiment/virtual_round.h"

namespace edgefl {
namespace {

NodeTable LiveNodes(uint32_t n) {
  NodeTable nodes(n);
  for (uint32_t i = 0; i < n; ++i) nodes[i].joined = nodes[i].alive = true;
  return nodes;
}

std::vector<uint32_t> Asked(const NodeTable& nodes) {
  std::vector<uint32_t> asked;
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].participant) asked.push_back(i);
  }
  return asked;
}

TEST_CASE("cohorts: K of N each round, uniform over the population, from the seed alone") {
  ExperimentConfig config;
  config.nodes = 20;
  config.round.cohort = 5;
  config.seed = 3;
  const CohortSampler sampler(config);
  NodeTable nodes = LiveNodes(20);
  constexpr uint32_t kRounds = 4000;
  std::vector<double> times(20, 0.0);
  for (uint32_t round = 0; round < kRounds; ++round) {
    nodes.BeginRound(round);
    REQUIRE(sampler.Select(round, nodes) == 5);
    const auto asked = Asked(nodes);
    REQUIRE(asked.size() == 5);
    for (uint32_t i : asked) times[i] += 1.0;
  }
  // Each node is asked with probability p = K/N = 1/4 a round: over 4000
  // rounds, mean 1000, standard deviation sqrt(4000 p (1 - p)) = 27.4; 5
  // standard deviations bound all 20 counts with room to spare.
  for (double t : times) CHECK(std::abs(t - 1000.0) < 5 * 27.4);

  // The draw does not depend on which nodes are listed first or on anything
  // but (seed, round): the same cohort again, and another seed differs.
  NodeTable again = LiveNodes(20);
  again.BeginRound(7);
  sampler.Select(7, again);
  nodes.BeginRound(7);
  sampler.Select(7, nodes);
  CHECK(Asked(again) == Asked(nodes));
  ExperimentConfig other = config;
  other.seed = 4;
  int differs = 0;
  for (uint32_t round = 0; round < 20; ++round) {
    nodes.BeginRound(round);
    again.BeginRound(round);
    CohortSampler(config).Select(round, nodes);
    CohortSampler(other).Select(round, again);
    differs += Asked(nodes) != Asked(again);
  }
  CHECK(differs >= 15);
}

TEST_CASE("cohorts: only live, available nodes are asked; over-commitment asks more; dropouts by their rate") {
  ExperimentConfig config;
  config.nodes = 10;
  config.round.cohort = 4;
  config.round.over_commit = 0.5;
  CHECK(config.CohortSize() == 4);
  CHECK(config.AskedPerRound() == 6);
  CHECK(config.QuorumCount() == 2);  // ceil(0.5 * 4)
  NodeTable nodes = LiveNodes(10);
  for (uint32_t i : {1u, 3u, 5u, 7u, 9u}) nodes[i].alive = false;
  nodes.BeginRound(0);
  CHECK(CohortSampler(config).Select(0, nodes) == 5);  // 6 wanted, 5 alive
  for (uint32_t i : Asked(nodes)) CHECK(i % 2 == 0);

  config.round.over_commit = 0.0;
  config.round.availability = 0.3;
  config.round.dropout = 0.2;
  const CohortSampler sampler(config);
  double available = 0.0, dropped = 0.0;
  constexpr uint32_t kDraws = 20000;
  for (uint32_t round = 0; round < kDraws / 10; ++round) {
    for (uint32_t i = 0; i < 10; ++i) {
      available += sampler.Available(round, i);
      dropped += sampler.DropsOut(round, i);
    }
  }
  // Binomial(20000, p): 5 standard deviations.
  CHECK(std::abs(available - 0.3 * kDraws) < 5 * std::sqrt(kDraws * 0.3 * 0.7));
  CHECK(std::abs(dropped - 0.2 * kDraws) < 5 * std::sqrt(kDraws * 0.2 * 0.8));
}

TEST_CASE("schedules: a node is asked only in its on rounds, its profile's or [round]'s") {
  ExperimentConfig config;
  config.nodes = 6;
  config.round.cohort = 2;
  config.round.schedule = {.period = 3, .on = 1, .start = 2};  // nodes 4, 5: rounds 2, 5, 8, ...
  DeviceProfile night;
  night.name = "night";
  night.nodes = 4;
  night.schedule = {.period = 4, .on = 2, .start = 3};  // nodes 0..3: rounds 3, 4, 7, 8, ...
  config.profiles.push_back(night);
  const CohortSampler sampler(config);
  NodeTable nodes = LiveNodes(6);
  std::vector<uint32_t> times(6, 0);
  for (uint32_t round = 0; round < 120; ++round) {
    nodes.BeginRound(round);
    const uint32_t asked = sampler.Select(round, nodes);
    const bool night_on = round % 4 == 3 || round % 4 == 0, day_on = round % 3 == 2;
    CHECK(asked == std::min<uint32_t>(2, (night_on ? 4 : 0) + (day_on ? 2 : 0)));
    for (uint32_t i : Asked(nodes)) {
      CHECK((i < 4 ? night_on : day_on));
      ++times[i];
    }
  }
  for (uint32_t t : times) CHECK(t > 0);
}

TEST_CASE("the virtual clock counts answers by modelled arrival, ties to the lower id, within the deadline") {
  // Asked 5, K = 3: nodes 4 and 1 tie at 0.2 s, node 2 at 0.5, node 0 at
  // 0.9, node 3 after the deadline.
  std::vector<Arrival> arrivals = {{0.9, 0}, {0.2, 4}, {0.5, 2}, {2.5, 3}, {0.2, 1}};
  double seconds = ChooseArrivals(arrivals, 5, 3, 2.0);
  CHECK(seconds == 0.5);  // the third counted arrived
  std::vector<uint32_t> counted;
  for (const Arrival& a : arrivals) {
    if (a.counts) counted.push_back(a.node);
  }
  CHECK(counted == std::vector<uint32_t>{1, 4, 2});

  // K = 5 of 5 asked: one arrives too late, so the round waits out the deadline.
  for (Arrival& a : arrivals) a.counts = false;
  CHECK(ChooseArrivals(arrivals, 5, 5, 2.0) == 2.0);
  // Every asked node in time: the round ends with the last.
  std::vector<Arrival> in_time = {{0.3, 0}, {0.1, 1}};
  CHECK(ChooseArrivals(in_time, 2, 2, 2.0) == 0.3);
  // One asked node never answers: the deadline.
  CHECK(ChooseArrivals(in_time, 3, 3, 2.0) == 2.0);
}

}  // namespace
}  // namespace edgefl

// The forecast's cohorts (sim/participation.h) and what they do to the
// forecast: the round's length against hand computations, with alike links
// (binomial sums) and with different ones (order statistics, by Monte
// Carlo), and the SDE's noise scaling with the updates a step averages.
#include "sim/participation.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "experiment/link_model.h"
#include "sim/closed_forms.h"
#include "sim/round_cost.h"
#include "sim/sde_predictor.h"

namespace edgefl {
namespace {

// 8 nodes, a cohort of 4, quorum 0.5 (2 updates), a 300 ms deadline, and a
// link of 1 Mb/s with 20 ms each way and 5 ms of computation.
ExperimentConfig Cohort() {
  ExperimentConfig c;
  c.nodes = 8;
  c.objective.dimension = 50;
  c.round.cohort = 4;
  c.round.quorum = 0.5;
  c.round.deadline_ms = 300;
  c.link.uplink_bps = 1e6;
  c.link.latency_ms = 20;
  c.link.compute_ms = 5;
  return c;
}

TEST_CASE("a cohort with dropouts: the round lasts a node's exchange, or the deadline once an answer is lost") {
  ExperimentConfig c = Cohort();
  c.round.dropout = 0.1;
  const RoundCost cost = RoundCostOf(c);
  // One node's exchange: 2 x 20 ms + 5 ms + 8 (down + up bytes) / 1 Mb/s.
  const double t = 0.045 + 8.0 * (cost.down_bytes + cost.up_bytes) / 1e6;
  CHECK(cost.node_seconds == doctest::Approx(t));
  // 4 asked, X ~ Binomial(4, 0.1) lost. The round ends at t only when none
  // is lost (0.9^4 = 0.6561), otherwise at the 0.3 s deadline; 4 - X count;
  // no step when fewer than 2 count (X >= 3: 4 x 0.1^3 x 0.9 + 0.1^4).
  const ParticipationExpectation& e = cost.participation;
  CHECK(e.exact);
  CHECK(e.asked == doctest::Approx(4.0));
  CHECK(e.counted == doctest::Approx(3.6));
  CHECK(e.seconds == doctest::Approx(0.6561 * t + 0.3439 * 0.3));
  CHECK(cost.seconds == doctest::Approx(e.seconds));
  CHECK(e.no_step == doctest::Approx(0.0037));
  CHECK(e.too_few == 0.0);

  // The same by drawing rounds as the forecast's paths do: within 4 standard errors.
  const ParticipationExpectation mc = CohortModelOf(c).MonteCarlo(100000, 7);
  const double sd = (0.3 - t) * std::sqrt(0.6561 * 0.3439);
  CHECK(std::abs(mc.seconds - e.seconds) < 4 * sd / std::sqrt(1e5));
  CHECK(std::abs(mc.counted - e.counted) < 4 * 0.6 / std::sqrt(1e5));

  // Over-committed by half: 6 asked, the first 4 answers count. The round
  // ends at t when at least 4 answer (X ~ Binomial(6, 0.1) <= 2:
  // 0.9^6 + 6 x 0.1 x 0.9^5 + 15 x 0.01 x 0.9^4 = 0.98415), else the deadline.
  c.round.over_commit = 0.5;
  const RoundCost over = RoundCostOf(c);
  CHECK(over.participation.asked == doctest::Approx(6.0));
  CHECK(over.seconds == doctest::Approx(0.98415 * t + 0.01585 * 0.3));
  CHECK(over.up_bytes_per_round() == doctest::Approx(6.0 * over.up_bytes));

  // A deadline shorter than the exchange: nothing counts, every round waits it out.
  c.round.over_commit = 0.0;
  c.round.deadline_ms = 10;
  CHECK(RoundCostOf(c).seconds == doctest::Approx(0.01));
  CHECK(RoundCostOf(c).participation.no_step == doctest::Approx(1.0));
}

TEST_CASE("every node asked: nothing drawn, the K lowest ids count (ties go to the lower id), as the general case") {
  ExperimentConfig c = Cohort();
  c.nodes = 6;
  c.round.over_commit = 0.5;  // K' = 6 = N: all asked, the first 4 answers count
  const ParticipationModel model = CohortModelOf(c);
  Rng rng(1);
  DrawBuffers buffers(6);
  const RoundDraw draw = model.Draw(rng, buffers, 0);
  CHECK(draw.asked == 6);
  CHECK(draw.counted == 4);
  CHECK(draw.steps);
  CHECK(draw.seconds == model.ArrivalSeconds(0));
  CHECK(buffers.counted == std::vector<uint32_t>{0, 1, 2, 3});
  // The general rule on the same arrivals (experiment/virtual_round.h).
  std::vector<Arrival> arrivals;
  for (uint32_t i = 6; i-- > 0;) arrivals.push_back({.seconds = model.ArrivalSeconds(i), .node = i});
  CHECK(ChooseArrivals(arrivals, 6, 4, 0.3) == draw.seconds);
  std::vector<uint32_t> counted;
  for (const Arrival& a : arrivals) {
    if (a.counts) counted.push_back(a.node);
  }
  std::sort(counted.begin(), counted.end());
  CHECK(counted == buffers.counted);
  CHECK(rng.NextU64() == Rng(1).NextU64());  // nothing drawn
}

TEST_CASE("availability: fewer available than the quorum is flagged, as the coordinator ends the run there") {
  ExperimentConfig c = Cohort();
  c.round.availability = 0.25;  // A ~ Binomial(8, 1/4); the quorum needs 2
  const ParticipationExpectation e = RoundCostOf(c).participation;
  const double p0 = std::pow(0.75, 8), p1 = 8 * 0.25 * std::pow(0.75, 7);
  CHECK(e.too_few == doctest::Approx(p0 + p1));
  // Asked min(A, 4), all answer: E min(A, 4).
  double asked = 0.0;
  for (int a = 2; a <= 8; ++a) {
    const double p = std::tgamma(9.0) / (std::tgamma(a + 1.0) * std::tgamma(9.0 - a)) * std::pow(0.25, a) *
                     std::pow(0.75, 8 - a);
    asked += p * std::min(a, 4);
  }
  CHECK(e.asked == doctest::Approx(asked));
  CHECK(e.counted == doctest::Approx(asked));
}

TEST_CASE("nodes on different links: the round's length is an order statistic of the cohort's arrivals") {
  ExperimentConfig c = Cohort();
  c.round.deadline_ms = 2000;
  std::vector<ParticipationModel::Node> nodes;
  for (int i = 0; i < 8; ++i) nodes.push_back({.arrival_s = 0.1 * (i + 1)});
  const ParticipationModel model(c, nodes);
  CHECK_FALSE(model.alike());
  CHECK_FALSE(model.Fixed().has_value());
  // 4 of the 8 asked, all counted: the round ends with the slowest, the
  // largest of a uniform 4-subset of {1..8} (x 0.1 s), whose mean is
  // k (n + 1) / (k + 1) = 4 x 9 / 5 = 7.2.
  ParticipationExpectation e = model.Expected();
  CHECK_FALSE(e.exact);
  CHECK(e.draws == ParticipationModel::kMonteCarloDraws);
  CHECK(e.counted == 4.0);
  // The largest's sd is about 0.98 (x 0.1 s): 4 standard errors over 20000 draws.
  CHECK(e.seconds == doctest::Approx(0.72).epsilon(4 * 0.098 / std::sqrt(20000.0) / 0.72));
  // Over-committed to 6: the 4th of 6 drawn, mean 4 x 9 / 7.
  c.round.over_commit = 0.5;
  e = ParticipationModel(c, nodes).Expected();
  CHECK(e.asked == 6.0);
  CHECK(e.seconds == doctest::Approx(0.4 * 9 / 7.0).epsilon(0.01));
  // The same seed, the same figures.
  CHECK(ParticipationModel(c, nodes).Expected().seconds == e.seconds);
}

TEST_CASE("availability schedules: a node off schedule is never drawn, and the mean round averages the run's rounds") {
  ExperimentConfig c = Cohort();
  c.round.deadline_ms = 2000;
  c.rounds = 100;
  // Nodes 0..3 answer at 0.1 s and are on schedule in even rounds only;
  // nodes 4..7 answer at 0.2 s in every round. 4 asked a round, all count.
  std::vector<ParticipationModel::Node> nodes;
  for (uint32_t i = 0; i < 8; ++i) {
    nodes.push_back({.arrival_s = i < 4 ? 0.1 : 0.2,
                     .schedule = i < 4 ? AvailabilitySchedule{.period = 2, .on = 1} : AvailabilitySchedule{}});
  }
  const ParticipationModel model(c, nodes);
  CHECK_FALSE(model.alike());
  Rng rng(5);
  DrawBuffers buffers(8);
  bool early_asked = false;
  for (uint32_t round = 0; round < 200; ++round) {
    const RoundDraw draw = model.Draw(rng, buffers, round);
    REQUIRE(draw.counted == 4);
    const bool early = buffers.counted.front() < 4;
    if (round % 2 == 1) CHECK_FALSE(early);  // off schedule
    early_asked = early_asked || early;
  }
  CHECK(early_asked);
  // Odd rounds ask nodes 4..7 and last 0.2 s; even rounds draw 4 of 8 and
  // last 0.1 s only when all four are early ones, with probability 1/70.
  const ParticipationExpectation e = model.Expected();
  CHECK_FALSE(e.exact);
  const double mean = 0.2 - 0.5 * 0.1 / 70.0;
  // A round's sd is at most 0.1 sqrt(1/70): 4 standard errors of 20000 draws.
  CHECK(std::abs(e.seconds - mean) < 4 * 0.1 * std::sqrt(1.0 / 70.0) / std::sqrt(20000.0));
}

Prediction Predict(const ExperimentConfig& c) {
  Prediction p;
  PredictOptions options;
  options.paths = 64;
  options.substeps = 16;
  options.threads = 2;
  const Status s = PredictLoss(c, options, &p);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return p;
}

double TailMean(const Prediction& p) {
  const size_t n = p.mean_loss.size();
  return std::accumulate(p.mean_loss.begin() + static_cast<std::ptrdiff_t>(n / 5), p.mean_loss.end(), 0.0) /
         static_cast<double>(n - n / 5);
}

ExperimentConfig Quadratic() {
  ExperimentConfig c;
  c.rounds = 1000;
  c.objective.dimension = 100;
  c.objective.initial_value = 0.0;
  c.step.eta = 0.1;
  return c;
}

TEST_CASE("a cohort of K of a larger population forecasts as K nodes: every node shares the synthetic objective") {
  ExperimentConfig four = Quadratic();
  four.nodes = 4;
  ExperimentConfig cohort = Quadratic();
  cohort.nodes = 16;
  cohort.round.cohort = 4;
  const Prediction a = Predict(four), b = Predict(cohort);
  CHECK(a.mean_loss == b.mean_loss);  // bit for bit: m = 4 every round
  REQUIRE(PredictedStationaryLoss(cohort).has_value());
  CHECK(*PredictedStationaryLoss(cohort) == *PredictedStationaryLoss(four));
  // Signs: the vote of the 4 counted.
  four.compressor.kind = cohort.compressor.kind = wire::CompressorKind::Sign;
  four.aggregator.kind = cohort.aggregator.kind = AggregatorKind::kMajority;
  four.step.eta = cohort.step.eta = 0.01;
  four.rounds = cohort.rounds = 200;
  CHECK(Predict(four).mean_loss == Predict(cohort).mean_loss);
}

TEST_CASE("dropouts: the floor scales with E[1/m] over the rounds that step, m the updates counted") {
  // DSGD on lambda = 1: a round with m updates maps the second moment V to
  // (1 - eta)^2 V + eta^2 s^2 / m, a round without a step leaves it, so the
  // floor is the one-node floor times E[1/m | a step].
  ExperimentConfig c = Quadratic();
  c.nodes = 4;
  c.round.dropout = 0.3;
  c.round.quorum = 0.25;  // one update steps
  c.round.deadline_ms = 100;
  double inverse = 0.0, steps = 0.0;
  for (int x = 0; x < 4; ++x) {  // X ~ Binomial(4, 0.3) lost, m = 4 - X >= 1
    const double p = std::tgamma(5.0) / (std::tgamma(x + 1.0) * std::tgamma(5.0 - x)) * std::pow(0.3, x) *
                     std::pow(0.7, 4 - x);
    inverse += p / (4 - x);
    steps += p;
  }
  std::vector<float> lambda(100, 1.0f);
  const double one_node = StationaryLossDcsgd(lambda, 0.1, 0.0, 1.0, 1);
  CHECK(TailMean(Predict(c)) == doctest::Approx(one_node * inverse / steps).epsilon(0.03));
  CHECK_FALSE(PredictedStationaryLoss(c).has_value());  // m varies: no closed form in N
  CHECK(RoundCostOf(c).participation.no_step == doctest::Approx(std::pow(0.3, 4)));
}

TEST_CASE("time to the target: each path's first passage, its rounds' lengths as its cohorts drew them") {
  ExperimentConfig c = Cohort();
  c.rounds = 200;
  c.objective.initial_value = 1.0;
  c.step.eta = 0.1;
  c.target_loss = 5.0;  // from 25 (d = 50, lambda = 1, x_0 = 1): about 8 rounds
  c.round.dropout = 0.1;
  const Prediction p = Predict(c);
  REQUIRE(p.target_paths == 64);
  CHECK(p.target_rounds > 1.0);
  // Wald's identity: the rounds' lengths are independent of whether the path
  // stopped before them, so E time = E rounds x E length. The paths' own
  // draws (64 x ~8 rounds, a length's sd 0.9 of its mean) leave about 4%.
  const double mean_round = RoundCostOf(c).seconds;
  CHECK(p.target_seconds == doctest::Approx(p.target_rounds * mean_round).epsilon(0.16));
}

}  // namespace
}  // namespace edgefl

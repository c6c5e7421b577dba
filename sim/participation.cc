#include "sim/participation.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "experiment/link_model.h"

namespace edgefl {
namespace {

// The Monte-Carlo stream's purpose, apart from the paths' (sde_predictor.cc).
constexpr uint64_t kExpectationStream = 0x5E1;

// P(X = x) for X ~ Binomial(n, p), x = 0..n, in log space (n up to 4096).
std::vector<double> BinomialPmf(uint32_t n, double p) {
  std::vector<double> pmf(n + 1, 0.0);
  if (p <= 0.0) {
    pmf[0] = 1.0;
    return pmf;
  }
  if (p >= 1.0) {
    pmf[n] = 1.0;
    return pmf;
  }
  const double log_n = std::lgamma(n + 1.0), log_p = std::log(p), log_q = std::log1p(-p);
  for (uint32_t x = 0; x <= n; ++x) {
    pmf[x] = std::exp(log_n - std::lgamma(x + 1.0) - std::lgamma(n - x + 1.0) + x * log_p + (n - x) * log_q);
  }
  return pmf;
}

}  // namespace

DrawBuffers::DrawBuffers(uint32_t nodes) {
  available.reserve(nodes);
  arrivals.reserve(nodes);
  counted.reserve(nodes);
}

namespace {

std::vector<ParticipationModel::Node> NodesOf(const ExperimentConfig& config, double down_bytes, double up_bytes) {
  std::vector<ParticipationModel::Node> nodes(config.nodes);
  for (uint32_t i = 0; i < config.nodes; ++i) {
    // Each node's own link and chances: device profiles set them per node.
    const ExperimentConfig::Participation p = config.ParticipationOf(i);
    nodes[i] = {.arrival_s = RoundSeconds(ResolveLink(config.LinkOf(i)), down_bytes, up_bytes),
                .availability = p.availability,
                .dropout = p.dropout,
                .schedule = p.schedule};
  }
  return nodes;
}

}  // namespace

ParticipationModel::ParticipationModel(const ExperimentConfig& config, double down_bytes, double up_bytes)
    : ParticipationModel(config, NodesOf(config, down_bytes, up_bytes)) {}

ParticipationModel::ParticipationModel(const ExperimentConfig& config, std::vector<Node> nodes)
    : nodes_(std::move(nodes)),
      cohort_(config.CohortSize()),
      asked_(config.AskedPerRound()),
      quorum_(config.QuorumCount()),
      rounds_(config.rounds),
      deadline_s_(config.round.deadline_ms / 1000.0),
      seed_(config.seed) {
  for (const Node& node : nodes_) {
    alike_ = alike_ && node.arrival_s == nodes_[0].arrival_s && node.availability == nodes_[0].availability &&
             node.dropout == nodes_[0].dropout;
    scheduled_ = scheduled_ || node.schedule.period > 0;
  }
  alike_ = alike_ && !scheduled_;
  if (asked_ == nodes_.size()) everyone_ = Fixed();
}

RoundDraw ParticipationModel::Draw(Rng& rng, DrawBuffers& b, uint32_t round) const {
  if (everyone_) {
    // Nothing to draw (the general case below would draw nothing either, at
    // O(N log N) a round): the K lowest ids count, as ties go to the lower id.
    if (b.counted.size() != everyone_->counted) {
      b.counted.resize(everyone_->counted);
      for (uint32_t i = 0; i < everyone_->counted; ++i) b.counted[i] = i;
    }
    return *everyone_;
  }
  RoundDraw draw;
  const auto n = static_cast<uint32_t>(nodes_.size());
  b.available.clear();
  for (uint32_t i = 0; i < n; ++i) {
    if (!nodes_[i].schedule.Includes(round)) continue;
    const double availability = nodes_[i].availability;
    if (availability >= 1.0 || rng.Uniform() < availability) b.available.push_back(i);
  }
  const auto available = static_cast<uint32_t>(b.available.size());
  draw.asked = std::min(available, asked_);
  b.counted.clear();
  if (draw.asked < quorum_) {
    draw.too_few = true;
    draw.asked = 0;
    return draw;
  }
  // A uniform sample without replacement: the first `asked` of a partial
  // Fisher-Yates shuffle.
  if (draw.asked < available) {
    for (uint32_t j = 0; j < draw.asked; ++j) std::swap(b.available[j], b.available[j + rng.Below(available - j)]);
  }
  b.arrivals.clear();
  for (uint32_t j = 0; j < draw.asked; ++j) {
    const uint32_t i = b.available[j];
    if (nodes_[i].dropout > 0.0 && rng.Uniform() < nodes_[i].dropout) continue;  // never arrives
    b.arrivals.push_back({.seconds = nodes_[i].arrival_s, .node = i});
  }
  draw.seconds = ChooseArrivals(b.arrivals, draw.asked, cohort_, deadline_s_);
  for (const Arrival& a : b.arrivals) {
    if (a.counts) b.counted.push_back(a.node);
  }
  std::sort(b.counted.begin(), b.counted.end());
  draw.counted = static_cast<uint32_t>(b.counted.size());
  draw.steps = draw.counted >= quorum_;
  return draw;
}

std::optional<RoundDraw> ParticipationModel::Fixed() const {
  if (!alike_ || nodes_.empty() || nodes_[0].availability < 1.0 || nodes_[0].dropout > 0.0) return std::nullopt;
  RoundDraw draw;
  draw.asked = asked_;
  const bool in_time = nodes_[0].arrival_s <= deadline_s_;
  draw.counted = in_time ? cohort_ : 0;
  draw.seconds = in_time ? nodes_[0].arrival_s : deadline_s_;
  draw.steps = draw.counted >= quorum_;
  return draw;
}

ParticipationExpectation ParticipationModel::Exact() const {
  // Alike nodes: A ~ Binomial(N, a) available, S = min(A, K') asked, X ~
  // Binomial(S, q) dropped, R = S - X arriving, all at t. In time (t <= the
  // deadline): min(K, R) count, and the round lasts t when R >= K or R = S,
  // else the deadline; late (t > the deadline): none count, the deadline.
  ParticipationExpectation e;
  e.exact = true;
  const auto n = static_cast<uint32_t>(nodes_.size());
  const double t = nodes_[0].arrival_s;
  const bool in_time = t <= deadline_s_;
  const std::vector<double> available = BinomialPmf(n, nodes_[0].availability);
  for (uint32_t a = 0; a <= n; ++a) {
    const uint32_t s = std::min(a, asked_);
    if (s < quorum_) {
      e.too_few += available[a];
      e.no_step += available[a];
      continue;
    }
    const std::vector<double> dropped = BinomialPmf(s, nodes_[0].dropout);
    for (uint32_t x = 0; x <= s; ++x) {
      const double p = available[a] * dropped[x];
      const uint32_t r = s - x;
      const uint32_t counted = in_time ? std::min(cohort_, r) : 0;
      const double seconds = in_time && (r >= cohort_ || r == s) ? t : deadline_s_;
      e.asked += p * s;
      e.counted += p * counted;
      e.seconds += p * seconds;
      if (counted < quorum_) e.no_step += p;
    }
  }
  return e;
}

ParticipationExpectation ParticipationModel::MonteCarlo(uint32_t draws, uint64_t seed) const {
  ParticipationExpectation e;
  e.draws = draws;
  Rng rng(seed);
  DrawBuffers buffers(nodes());
  for (uint32_t k = 0; k < draws; ++k) {
    // With schedules, rounds differ: every round of the run in turn, or
    // rounds drawn uniformly when there are more rounds than draws.
    uint32_t round = 0;
    if (scheduled_) round = draws >= rounds_ ? k % rounds_ : static_cast<uint32_t>(rng.Below(rounds_));
    const RoundDraw d = Draw(rng, buffers, round);
    e.asked += d.asked;
    e.counted += d.counted;
    e.seconds += d.seconds;
    e.no_step += d.steps ? 0.0 : 1.0;
    e.too_few += d.too_few ? 1.0 : 0.0;
  }
  for (double* v : {&e.asked, &e.counted, &e.seconds, &e.no_step, &e.too_few}) *v /= draws;
  return e;
}

ParticipationExpectation ParticipationModel::Expected() const {
  if (alike_) return Exact();
  // A draw costs O(N): fewer draws for large populations, at least 1000.
  const uint32_t draws = std::clamp<uint32_t>(4'000'000 / std::max(1u, nodes()), 1000, kMonteCarloDraws);
  return MonteCarlo(draws, DeriveSeed(seed_, kExpectationStream));
}

}  // namespace edgefl

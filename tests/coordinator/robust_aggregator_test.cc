// The poisoning-robust aggregators (median, trimmed mean, Krum, centred
// clipping), bucketing, node momentum and norm bounding, against
// hand-computed cases and closed forms, shuffled arrival orders, checkpoint
// round trips and every form a compressor's update takes.
#include "coordinator/aggregator.h"
#include "coordinator/bucketing_aggregator.h"
#include "coordinator/centered_clip_aggregator.h"
#include "coordinator/coordinate_wise_aggregator.h"
#include "coordinator/krum_aggregator.h"
#include "coordinator/mean_aggregator.h"
#include "coordinator/node_momentum_aggregator.h"
#include "coordinator/norm_bound.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "core/rng.h"
#include "schemas/codec/bit_pack.h"

namespace edgefl {
namespace {

using Rows = std::vector<std::vector<float>>;
using Rule = CoordinateWiseAggregator::Rule;

codec::DecodedPayload Dense(const std::vector<float>& values) {
  codec::DecodedPayload p;
  p.form = codec::DecodedPayload::Form::kDense;
  p.dense = values;
  return p;
}

AggregatorConfig Config(AggregatorKind kind) {
  AggregatorConfig c;
  c.kind = kind;
  return c;
}

std::unique_ptr<Aggregator> Make(const AggregatorConfig& config, uint32_t nodes, uint32_t d) {
  return MakeAggregator(config, wire::CompressorKind::Identity, nodes, d, 0);
}

// The direction `aggregator` gives for dense `rows`, added in this order.
std::vector<double> Aggregate(Aggregator& aggregator, const Rows& rows) {
  aggregator.Reset();
  for (const auto& row : rows) aggregator.Add(Dense(row));
  std::vector<double> direction(rows.at(0).size());
  aggregator.Finish(direction);
  return direction;
}

std::vector<double> Aggregate(const AggregatorConfig& config, const Rows& rows) {
  auto aggregator = Make(config, static_cast<uint32_t>(rows.size()), static_cast<uint32_t>(rows[0].size()));
  return Aggregate(*aggregator, rows);
}

// Bit patterns, so that CHECK compares -0 and +0 (and everything else) exactly.
std::vector<uint64_t> Bits(const std::vector<double>& v) {
  std::vector<uint64_t> bits;
  for (double x : v) bits.push_back(std::bit_cast<uint64_t>(x));
  return bits;
}

TEST_CASE("median: the middle value for odd n, the mean of the two middle ones for even n") {
  // Columns: {1, 3, 2} -> 2; {5, -1, 2} -> 2; {-2, 0, 7} -> 0.
  const Rows odd = {{1, 5, -2}, {3, -1, 0}, {2, 2, 7}};
  CHECK(Aggregate(Config(AggregatorKind::kMedian), odd) == std::vector<double>{2, 2, 0});
  // Columns: {1, 2, 3, 10} -> 2.5; {4, 4, 4, -9} -> 4; {0.5, 0.25, -1, 1e6} -> 0.375.
  const Rows even = {{1, 4, 0.5f}, {10, 4, 0.25f}, {3, -9, -1}, {2, 4, 1e6f}};
  CHECK(Aggregate(Config(AggregatorKind::kMedian), even) == std::vector<double>{2.5, 4, 0.375});
  // One update is its own median; two give their mean.
  CHECK(Aggregate(Config(AggregatorKind::kMedian), {{7, -3}}) == std::vector<double>{7, -3});
  CHECK(Aggregate(Config(AggregatorKind::kMedian), {{7, -3}, {8, -4}}) == std::vector<double>{7.5, -3.5});
  // Two middle values far apart in magnitude: rounded once, to the nearest double.
  CHECK(Aggregate(Config(AggregatorKind::kMedian), {{0x1p30f}, {0x1p-30f}})[0] == (0x1p30 + 0x1p-30) / 2);
}

TEST_CASE("trimmed mean drops floor(trim n) values at each end, ties included") {
  AggregatorConfig c = Config(AggregatorKind::kTrimmedMean);
  c.trim = 0.2;  // n = 5: one value dropped at each end
  // Columns: {1, 1, 1, 5, 9}: one 1 and the 9 go -> (1 + 1 + 5)/3.
  //          {4, 4, 4, 4, 4}: ties throughout -> 4.
  //          {-100, 2, 3, 4, 1e9}: both outliers go -> 3.
  const Rows rows = {{1, 4, -100}, {9, 4, 1e9f}, {1, 4, 3}, {5, 4, 2}, {1, 4, 4}};
  const auto direction = Aggregate(c, rows);
  CHECK(direction[0] == 7.0 * (1.0 / 3));  // as the mean divides: the exact sum times 1/kept
  CHECK(direction[1] == 4);
  CHECK(direction[2] == 3);

  CHECK(CoordinateWiseAggregator::Dropped(Rule::kTrimmedMean, 0.1, 10) == 1);
  CHECK(CoordinateWiseAggregator::Dropped(Rule::kTrimmedMean, 0.3, 10) == 3);   // 0.3 x 10 is 3, not 2.9999...
  CHECK(CoordinateWiseAggregator::Dropped(Rule::kTrimmedMean, 0.29, 100) == 29);
  CHECK(CoordinateWiseAggregator::Dropped(Rule::kTrimmedMean, 0.1, 9) == 0);
  CHECK(CoordinateWiseAggregator::Dropped(Rule::kTrimmedMean, 0.4999, 2) == 0);  // one value always kept
  CHECK(CoordinateWiseAggregator::Dropped(Rule::kTrimmedMean, 0.49, 101) == 49);
  CHECK(CoordinateWiseAggregator::Dropped(Rule::kMedian, 0.0, 7) == 3);
  CHECK(CoordinateWiseAggregator::Dropped(Rule::kMedian, 0.0, 8) == 3);
}

TEST_CASE("a trimmed mean with trim = 0 is the mean, bit for bit") {
  Rng rng(3);
  Rows rows(9, std::vector<float>(300));
  for (auto& row : rows) {
    for (auto& x : row) x = static_cast<float>(rng.Normal() * std::exp(rng.Normal() * 10));
  }
  AggregatorConfig c = Config(AggregatorKind::kTrimmedMean);
  c.trim = 0.0;
  CHECK(Bits(Aggregate(c, rows)) == Bits(Aggregate(Config(AggregatorKind::kMean), rows)));
}

TEST_CASE("krum scores by the n - f - 2 nearest and averages the m lowest (hand-computed)") {
  // d = 1, n = 5, f = 1: each score sums the 2 smallest squared distances.
  //   0    -> 1 + 6.25            = 7.25
  //   1    -> 1 + 2.25            = 3.25
  //   2.5  -> 0.25 + 2.25         = 2.5
  //   3    -> 0.25 + 4            = 4.25
  //   100  -> 97^2 + 97.5^2       = 18915.25
  const Rows rows = {{3}, {100}, {0}, {2.5f}, {1}};
  AggregatorConfig c = Config(AggregatorKind::kKrum);
  c.byzantine = 1;
  KrumAggregator krum(1, 1, 5, 1, 0, 0.0);
  CHECK(Aggregate(krum, rows) == std::vector<double>{2.5});
  CHECK(std::vector<uint32_t>(krum.selected().begin(), krum.selected().end()) == std::vector<uint32_t>{3});
  CHECK_FALSE(krum.fell_back());
  c.krum_select = 3;  // 2.5, 1, 3
  CHECK(Aggregate(c, rows)[0] == doctest::Approx(6.5 / 3).epsilon(1e-15));
  c.krum_select = 4;  // and 0: m = n - f
  CHECK(Aggregate(c, rows) == std::vector<double>{1.625});
}

TEST_CASE("krum picks the honest cluster with f hostile updates; multi-krum averages only honest ones") {
  constexpr uint32_t n = 10, f = 2, d = 50;
  Rng rng(11);
  std::vector<float> gradient(d);
  for (auto& g : gradient) g = static_cast<float>(1 + rng.Normal());
  for (const char* attack : {"sign flip x10", "constant 100", "copies of one far update"}) {
    CAPTURE(attack);
    Rows rows;
    for (uint32_t i = 0; i < n; ++i) {
      std::vector<float> row(d);
      for (uint32_t j = 0; j < d; ++j) {
        const float honest = gradient[j] + static_cast<float>(0.3 * rng.Normal());
        const bool hostile = i == 2 || i == 7;
        if (!hostile) {
          row[j] = honest;
        } else if (attack[0] == 's') {
          row[j] = -10 * honest;
        } else if (attack[0] == 'c') {
          row[j] = 100;
        } else {
          row[j] = gradient[j] + 5;  // the two hostile updates agree with each other
        }
      }
      rows.push_back(row);
    }
    for (uint32_t m : {1u, 3u, n - f}) {
      CAPTURE(m);
      KrumAggregator krum(f, m, n, d, 0, 0.0);
      const auto direction = Aggregate(krum, rows);
      std::vector<uint32_t> chosen(krum.selected().begin(), krum.selected().end());
      REQUIRE(chosen.size() == m);
      for (uint32_t i : chosen) CHECK((i != 2 && i != 7));
      // The direction is the exact mean of the chosen rows.
      MeanAggregator mean(d);
      for (uint32_t i : chosen) mean.Add(Dense(rows[i]));
      std::vector<double> expected(d);
      mean.Finish(expected);
      CHECK(Bits(direction) == Bits(expected));
    }
  }
}

TEST_CASE("krum with fewer than 2f + 3 updates takes the coordinate-wise median, and says so") {
  const Rows rows = {{1, 2}, {3, -5}, {100, 7}, {2, 0}};  // n = 4; f = 1 needs 5
  KrumAggregator krum(1, 1, 6, 2, 0, 0.0);
  CHECK(Aggregate(krum, rows) == std::vector<double>{2.5, 1});
  CHECK(krum.fell_back());
  CHECK(krum.selected().empty());
  auto rows5 = rows;
  rows5.push_back({2, 1});
  Aggregate(krum, rows5);
  CHECK_FALSE(krum.fell_back());
}

TEST_CASE("robust aggregators give the same direction, bit for bit, whatever the arrival order") {
  constexpr uint32_t n = 9, d = 200;
  Rng rng(17);
  Rows rows(n, std::vector<float>(d));
  for (auto& row : rows) {
    for (auto& x : row) x = static_cast<float>(rng.Normal() * (1 + rng.Below(100)));
  }
  rows[4] = rows[1];  // identical updates: equal scores, equal rows
  rows[6] = rows[1];
  for (uint32_t j = 0; j < d; j += 7) {
    rows[0][j] = -0.0f;  // -0 and +0 in one column
    rows[3][j] = 0.0f;
  }
  rows[8] = rows[5];
  for (auto& x : rows[8]) x = -x;  // a sign-flipped copy
  std::vector<AggregatorConfig> configs;
  for (AggregatorKind kind : {AggregatorKind::kMedian, AggregatorKind::kTrimmedMean, AggregatorKind::kKrum,
                              AggregatorKind::kMean}) {
    for (uint32_t m : {1u, 3u, 7u}) {
      for (double bound : {0.0, 150.0}) {
        AggregatorConfig c = Config(kind);
        c.trim = 0.25;
        c.byzantine = 2;
        c.krum_select = m;
        c.max_update_norm = bound;
        configs.push_back(c);
      }
    }
  }
  for (const AggregatorConfig& c : configs) {
    CAPTURE(AggregatorName(c.kind));
    CAPTURE(c.krum_select);
    CAPTURE(c.max_update_norm);
    auto aggregator = Make(c, n, d);
    const auto reference = Bits(Aggregate(*aggregator, rows));
    Rows shuffled = rows;
    for (int trial = 0; trial < 20; ++trial) {
      for (uint32_t i = n - 1; i > 0; --i) std::swap(shuffled[i], shuffled[rng.Below(i + 1)]);
      CHECK(Bits(Aggregate(*aggregator, shuffled)) == reference);
    }
  }
}

TEST_CASE("norm bounding scales a long update down to the bound and leaves a short one as it is") {
  std::vector<float> v = {3, 4};  // norm 5
  CHECK_FALSE(BoundNorm(v, 5.0));
  CHECK_FALSE(BoundNorm(v, 0.0));  // off
  CHECK(v == std::vector<float>{3, 4});
  CHECK(BoundNorm(v, 2.5));
  CHECK(v == std::vector<float>{1.5f, 2.0f});
  CHECK(UpdateNorm(v) == 2.5);

  // Through the mean: one huge update moves it by at most bound / n.
  const Rows rows = {{3, 4}, {1, 0}, {1e9f, -1e9f}};
  AggregatorConfig c = Config(AggregatorKind::kMean);
  c.max_update_norm = 5.0;
  auto mean = Make(c, 3, 2);
  const auto direction = Aggregate(*mean, rows);
  CHECK(mean->bounded() == 1);
  CHECK(direction[0] == doctest::Approx((3 + 1 + 5 / std::sqrt(2.0)) / 3));
  CHECK(direction[1] == doctest::Approx((4 + 0 - 5 / std::sqrt(2.0)) / 3));
  // Every value aggregator bounds the same rows.
  for (AggregatorKind kind : {AggregatorKind::kMedian, AggregatorKind::kTrimmedMean, AggregatorKind::kKrum}) {
    CAPTURE(AggregatorName(kind));
    AggregatorConfig robust = Config(kind);
    robust.max_update_norm = 5.0;
    robust.byzantine = 0;
    auto aggregator = Make(robust, 3, 2);
    Aggregate(*aggregator, rows);
    CHECK(aggregator->bounded() == 1);
  }
  // A bound no update reaches changes nothing, bit for bit.
  Rng rng(5);
  Rows random(6, std::vector<float>(100));
  for (auto& row : random) {
    for (auto& x : row) x = static_cast<float>(rng.Normal());
  }
  c.max_update_norm = 1e6;
  CHECK(Bits(Aggregate(c, random)) == Bits(Aggregate(Config(AggregatorKind::kMean), random)));
}

TEST_CASE("robust aggregators and the bounded mean take every form a compressor's update has") {
  // Sparse (rand-k, bernoulli, top-k), signs with a scale (scaled-sign,
  // ef-sign), QSGD levels and natural codes: each must count as its
  // expanded values do.
  constexpr uint32_t d = 100, n = 5;
  constexpr uint32_t kLevels = 3, kLevelBits = codec::BitsFor(kLevels);
  Rng rng(23);
  std::vector<std::vector<uint32_t>> indices(n);
  std::vector<std::vector<float>> values(n), signs_source(n);
  std::vector<std::vector<uint8_t>> sign_bytes(n), level_bytes(n), natural_codes(n);
  std::vector<codec::DecodedPayload> sparse(n), signs(n), quantized(n), natural(n);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t j = 0; j < d; j += 1 + static_cast<uint32_t>(rng.Below(5))) {
      indices[i].push_back(j);
      values[i].push_back(static_cast<float>(rng.Normal() * 10));
    }
    sparse[i].form = codec::DecodedPayload::Form::kSparse;
    sparse[i].indices = indices[i];
    sparse[i].values = values[i];
    signs_source[i].resize(d);
    for (auto& x : signs_source[i]) x = static_cast<float>(rng.Normal());
    sign_bytes[i].assign(codec::PackedSignBytes(d), 0);
    codec::PackSigns(signs_source[i], sign_bytes[i]);
    signs[i].form = codec::DecodedPayload::Form::kSigns;
    signs[i].sign_bits = sign_bytes[i];
    signs[i].sign_scale = 0.5f + static_cast<float>(i);
    std::vector<uint16_t> fields(d);
    for (auto& field : fields) field = static_cast<uint16_t>(rng.Below(kLevels + 1));
    level_bytes[i].assign(codec::PackedFieldBytes(d, kLevelBits), 0);
    codec::PackFields(fields, kLevelBits, level_bytes[i]);
    quantized[i].form = codec::DecodedPayload::Form::kCompactDense;
    quantized[i].compact = {codec::CompactDense::Kind::kQuantized, level_bytes[i], kLevelBits, sign_bytes[i],
                            0.25f * static_cast<float>(i + 1), {}};
    natural_codes[i].resize(d);
    for (auto& code : natural_codes[i]) code = static_cast<uint8_t>((rng.Below(2) << 7) | rng.Below(104));
    natural[i].form = codec::DecodedPayload::Form::kCompactDense;
    natural[i].compact.kind = codec::CompactDense::Kind::kNatural;
    natural[i].compact.codes = natural_codes[i];
  }
  std::vector<AggregatorConfig> configs;
  for (AggregatorKind kind : {AggregatorKind::kMedian, AggregatorKind::kTrimmedMean, AggregatorKind::kKrum,
                              AggregatorKind::kMean}) {
    for (double bound : {0.0, 3.0}) {
      AggregatorConfig c = Config(kind);
      c.trim = 0.2;
      c.krum_select = 2;
      c.max_update_norm = bound;
      configs.push_back(c);
    }
  }
  for (const auto* form : {&sparse, &signs, &quantized, &natural}) {
    Rows expanded(n, std::vector<float>(d));
    for (uint32_t i = 0; i < n; ++i) codec::ExpandUpdate((*form)[i], expanded[i]);
    for (const AggregatorConfig& c : configs) {
      CAPTURE(AggregatorName(c.kind));
      CAPTURE(c.max_update_norm);
      auto aggregator = Make(c, n, d);
      for (const auto& update : *form) aggregator->Add(update);
      std::vector<double> direction(d);
      aggregator->Finish(direction);
      CHECK(Bits(direction) == Bits(Aggregate(c, expanded)));
    }
  }
}

// --- centred clipping, bucketing, node momentum ---

// The direction for dense `rows` from nodes `nodes` (by arrival), in round
// `round`.
std::vector<double> AggregateFrom(Aggregator& aggregator, const Rows& rows, const std::vector<uint32_t>& nodes,
                                  uint32_t round = 0) {
  aggregator.StartRound(round);
  for (size_t i = 0; i < rows.size(); ++i) aggregator.AddFrom(nodes[i], Dense(rows[i]), 1);
  std::vector<double> direction(rows.at(0).size());
  aggregator.Finish(direction);
  return direction;
}

std::vector<uint32_t> Iota(size_t n) {
  std::vector<uint32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint32_t>(i);
  return v;
}

// Karimireddy et al. 2021, eq. (CC), written out plainly: L steps of
// v += (1/n) sum_i z_i min(1, tau/||z_i||), z_i = g_i - v.
std::vector<double> CenteredClipByHand(const Rows& rows, std::vector<double> v, double tau, uint32_t steps) {
  for (uint32_t l = 0; l < steps; ++l) {
    std::vector<double> sum(v.size(), 0.0);
    for (const auto& g : rows) {
      double norm = 0.0;
      for (size_t j = 0; j < v.size(); ++j) norm += (g[j] - v[j]) * (g[j] - v[j]);
      norm = std::sqrt(norm);
      const double scale = std::min(1.0, tau / norm);
      for (size_t j = 0; j < v.size(); ++j) sum[j] += (g[j] - v[j]) * scale;
    }
    for (size_t j = 0; j < v.size(); ++j) v[j] += sum[j] / static_cast<double>(rows.size());
  }
  return v;
}

AggregatorConfig ClipConfig(double tau, uint32_t steps) {
  AggregatorConfig c = Config(AggregatorKind::kCenteredClip);
  c.clip_radius = tau;
  c.clip_iterations = steps;
  return c;
}

TEST_CASE("centered-clip: within the radius the mean; a far update moves it by tau/n at most") {
  // tau above every difference: one step from 0 is the mean, exactly here.
  CHECK(Aggregate(ClipConfig(100.0, 1), {{1, 2}, {3, 4}, {5, 9}}) == std::vector<double>{3, 5});
  // A far update (30, 40), norm 50, is clipped to tau = 5 along itself: (3, 4), then / n = 3.
  const auto v = Aggregate(ClipConfig(5.0, 1), {{0, 0}, {0, 0}, {30, 40}});
  CHECK(v[0] == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(v[1] == doctest::Approx(4.0 / 3.0).epsilon(1e-15));
  // However far: (3e6, 4e6) moves it just as much.
  CHECK(Aggregate(ClipConfig(5.0, 1), {{0, 0}, {0, 0}, {3e6f, 4e6f}}) == v);
}

TEST_CASE("centered-clip iterates L times and starts each round from the last round's result") {
  Rng rng(3);
  constexpr uint32_t n = 7, d = 20;
  Rows round1(n, std::vector<float>(d)), round2(n, std::vector<float>(d));
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t j = 0; j < d; ++j) {
      round1[i][j] = static_cast<float>(rng.Normal() + (i >= 5 ? 40.0 : 0.0));  // two far ones
      round2[i][j] = static_cast<float>(rng.Normal() + 1.0);
    }
  }
  for (uint32_t steps : {1u, 3u}) {
    CAPTURE(steps);
    const double tau = 2.0;
    auto aggregator = Make(ClipConfig(tau, steps), n, d);
    const auto v1 = Aggregate(*aggregator, round1);
    const auto expected1 = CenteredClipByHand(round1, std::vector<double>(d, 0.0), tau, steps);
    const auto v2 = Aggregate(*aggregator, round2);
    const auto expected2 = CenteredClipByHand(round2, expected1, tau, steps);
    for (uint32_t j = 0; j < d; ++j) {
      CHECK(v1[j] == doctest::Approx(expected1[j]).epsilon(1e-12));
      CHECK(v2[j] == doctest::Approx(expected2[j]).epsilon(1e-12));
    }
    const auto& clip = dynamic_cast<const CenteredClipAggregator&>(*aggregator);
    CHECK(std::vector<double>(clip.centre().begin(), clip.centre().end()) == v2);
  }
  // Each step moves the result by at most tau (every clipped difference is at most tau long).
  auto one = Make(ClipConfig(0.5, 1), n, d);
  const auto moved = Aggregate(*one, round1);
  double norm = 0.0;
  for (double x : moved) norm += x * x;
  CHECK(std::sqrt(norm) <= 0.5 + 1e-12);
}

TEST_CASE("centered-clip's centre survives a checkpoint: a loaded copy carries on bit for bit") {
  Rng rng(5);
  constexpr uint32_t n = 5, d = 30;
  std::vector<Rows> rounds(4, Rows(n, std::vector<float>(d)));
  for (auto& round : rounds) {
    for (auto& row : round) {
      for (auto& x : row) x = static_cast<float>(rng.Normal());
    }
  }
  for (bool momentum : {false, true}) {
    for (uint32_t bucket : {1u, 2u}) {
      CAPTURE(momentum);
      CAPTURE(bucket);
      AggregatorConfig c = ClipConfig(1.5, 2);
      c.node_momentum = momentum ? 0.8 : 0.0;
      c.bucket_size = bucket;
      auto first = MakeAggregator(c, wire::CompressorKind::Identity, n, d, 0, 11);
      AggregateFrom(*first, rounds[0], Iota(n), 0);
      AggregateFrom(*first, rounds[1], Iota(n), 1);
      StateWriter out;
      first->Save(out);
      // A round without Finish (no quorum) leaves the state as it was.
      first->StartRound(2);
      first->AddFrom(0, Dense(rounds[3][0]), 1);
      auto resumed = MakeAggregator(c, wire::CompressorKind::Identity, n, d, 0, 11);
      StateReader in(out.bytes());
      REQUIRE(resumed->Load(in).ok());
      CHECK(in.done());
      for (uint32_t r = 2; r < 4; ++r) {
        CHECK(Bits(AggregateFrom(*first, rounds[r], Iota(n), r)) ==
              Bits(AggregateFrom(*resumed, rounds[r], Iota(n), r)));
      }
      // A fresh one, without the state, differs.
      auto fresh = MakeAggregator(c, wire::CompressorKind::Identity, n, d, 0, 11);
      CHECK(Bits(AggregateFrom(*fresh, rounds[2], Iota(n), 2)) != Bits(AggregateFrom(*first, rounds[2], Iota(n), 2)));
    }
  }
}

TEST_CASE("bucketing: the order is by node id, then a shuffle drawn from the seed and round") {
  const std::vector<uint32_t> nodes = {7, 2, 9, 0, 4, 5};
  std::vector<uint32_t> order(nodes.size()), again(nodes.size());
  BucketOrder(nodes, 1, 3, order);
  BucketOrder(nodes, 1, 3, again);
  CHECK(order == again);
  std::vector<uint32_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == Iota(nodes.size()));  // a permutation of the updates
  // The same nodes arriving in another order fill the buckets with the same nodes.
  const std::vector<uint32_t> reversed(nodes.rbegin(), nodes.rend());
  std::vector<uint32_t> order_reversed(nodes.size());
  BucketOrder(reversed, 1, 3, order_reversed);
  for (size_t k = 0; k < nodes.size(); ++k) CHECK(nodes[order[k]] == reversed[order_reversed[k]]);
  // Other rounds or seeds shuffle differently (for at least one of a few).
  bool differs = false;
  for (uint32_t round = 4; round < 8; ++round) {
    BucketOrder(nodes, 1, round, again);
    differs = differs || again != order;
  }
  CHECK(differs);
}

TEST_CASE("bucketing hands the rule the bucket means (closed form with the median)") {
  constexpr uint32_t n = 6, d = 3;
  const Rows rows = {{1, 0, 5}, {2, 10, 5}, {3, 0, -5}, {4, 10, -5}, {100, -50, 0}, {6, 0, 1}};
  const std::vector<uint32_t> nodes = {3, 1, 0, 5, 2, 4};
  AggregatorConfig c = Config(AggregatorKind::kMedian);
  c.bucket_size = 2;
  auto aggregator = MakeAggregator(c, wire::CompressorKind::Identity, n, d, 0, 42);
  const auto got = AggregateFrom(*aggregator, rows, nodes, 9);
  std::vector<uint32_t> order(n);
  BucketOrder(nodes, 42, 9, order);
  std::vector<double> expected(d);
  for (uint32_t j = 0; j < d; ++j) {
    std::vector<double> means;
    for (uint32_t b = 0; b < n; b += 2) {
      means.push_back(static_cast<float>((static_cast<double>(rows[order[b]][j]) + rows[order[b + 1]][j]) * 0.5));
    }
    std::sort(means.begin(), means.end());
    expected[j] = means[1];
  }
  CHECK(got == expected);
  // One bucket of everything: the median of one mean is the mean.
  c.bucket_size = n;
  auto whole = MakeAggregator(c, wire::CompressorKind::Identity, n, d, 0, 42);
  const auto mean = AggregateFrom(*whole, rows, nodes, 9);
  CHECK(mean[0] == doctest::Approx(116.0 / 6).epsilon(1e-6));
  CHECK(mean[1] == doctest::Approx(-30.0 / 6).epsilon(1e-6));
}

TEST_CASE("node momentum: m_i = beta m_i + (1 - beta) g_i, and the rule combines the momenta") {
  AggregatorConfig c = Config(AggregatorKind::kMean);
  c.node_momentum = 0.75;
  auto aggregator = MakeAggregator(c, wire::CompressorKind::Identity, 2, 2, 64, 0);
  // Round 0: first updates are the momenta: mean of (4, 0) and (0, 8).
  CHECK(AggregateFrom(*aggregator, {{4, 0}, {0, 8}}, {0, 1}) == std::vector<double>{2, 4});
  // Round 1, node 1 alone: m_1 = 0.75 (0, 8) + 0.25 (4, 4) = (1, 7).
  CHECK(AggregateFrom(*aggregator, {{4, 4}}, {1}, 1) == std::vector<double>{1, 7});
  // A round without a step changes nothing: node 0 sends (400, 400), no Finish.
  aggregator->StartRound(2);
  aggregator->AddFrom(0, Dense({400, 400}), 1);
  // Round 3, arriving 1 then 0: m_0 = 0.75 (4, 0) + 0.25 (0, 4) = (3, 1); m_1 = 0.75 (1, 7) + 0.25 (1, -1) = (1, 5).
  CHECK(AggregateFrom(*aggregator, {{1, -1}, {0, 4}}, {1, 0}, 3) == std::vector<double>{2, 3});
  const auto& momentum = dynamic_cast<const NodeMomentumAggregator&>(*aggregator);
  CHECK(std::vector<float>(momentum.momentum(0).begin(), momentum.momentum(0).end()) == std::vector<float>{3, 1});
}

TEST_CASE("centered-clip, bucketing and node momentum give the same direction whatever the arrival order") {
  constexpr uint32_t n = 9, d = 64;
  Rng rng(23);
  std::vector<Rows> rounds(3, Rows(n, std::vector<float>(d)));
  for (auto& round : rounds) {
    for (auto& row : round) {
      for (auto& x : row) x = static_cast<float>(rng.Normal() * (1 + rng.Below(10)));
    }
    round[4] = round[1];  // identical updates
    for (auto& x : round[8]) x = 1e6f;
  }
  std::vector<AggregatorConfig> configs;
  for (AggregatorKind kind : {AggregatorKind::kCenteredClip, AggregatorKind::kMedian, AggregatorKind::kTrimmedMean,
                              AggregatorKind::kKrum, AggregatorKind::kMean}) {
    for (uint32_t bucket : {1u, 2u, 3u}) {
      for (double beta : {0.0, 0.9}) {
        if (kind == AggregatorKind::kMean && bucket > 1) continue;
        AggregatorConfig c = ClipConfig(3.0, 3);
        c.kind = kind;
        c.trim = 0.2;
        c.byzantine = bucket == 1 ? 2 : 0;
        c.krum_select = 2;
        c.bucket_size = bucket;
        c.node_momentum = beta;
        c.max_update_norm = 100.0;
        configs.push_back(c);
      }
    }
  }
  for (const AggregatorConfig& c : configs) {
    CAPTURE(AggregatorName(c.kind));
    CAPTURE(c.bucket_size);
    CAPTURE(c.node_momentum);
    // Three rounds, so that state (centre, momenta) is in play.
    auto reference_aggregator = MakeAggregator(c, wire::CompressorKind::Identity, n, d, 0, 5);
    std::vector<std::vector<uint64_t>> reference;
    for (uint32_t r = 0; r < 3; ++r) {
      reference.push_back(Bits(AggregateFrom(*reference_aggregator, rounds[r], Iota(n), r)));
    }
    for (int trial = 0; trial < 5; ++trial) {
      auto aggregator = MakeAggregator(c, wire::CompressorKind::Identity, n, d, 0, 5);
      for (uint32_t r = 0; r < 3; ++r) {
        std::vector<uint32_t> arrival = Iota(n);
        for (uint32_t i = n - 1; i > 0; --i) std::swap(arrival[i], arrival[rng.Below(i + 1)]);
        Rows shuffled;
        for (uint32_t node : arrival) shuffled.push_back(rounds[r][node]);
        CHECK(Bits(AggregateFrom(*aggregator, shuffled, arrival, r)) == reference[r]);
      }
    }
  }
}

TEST_CASE("node momentum and centred clipping leave a hidden constant shift (alie) far less room") {
  // Honest updates g_i = N(0, s^2) per coordinate, two of ten hostile send
  // -z s in every coordinate (alie, z = 1). Over rounds, the momenta of
  // honest nodes shrink their spread by sqrt((1 - beta)/(1 + beta)) and the
  // clipped centre moves far less than the mean's (h/n) z s = 0.1 a coordinate.
  constexpr uint32_t n = 10, d = 100, hostile = 2;
  constexpr double s = 0.5;
  Rng rng(8);
  AggregatorConfig plain = Config(AggregatorKind::kMean);
  AggregatorConfig defended = ClipConfig(1.0, 3);
  defended.node_momentum = 0.9;
  auto mean = MakeAggregator(plain, wire::CompressorKind::Identity, n, d, 0, 1);
  auto clip = MakeAggregator(defended, wire::CompressorKind::Identity, n, d, 0, 1);
  double mean_shift = 0.0, clip_shift = 0.0;
  for (uint32_t r = 0; r < 200; ++r) {
    Rows rows(n, std::vector<float>(d));
    for (uint32_t i = 0; i < n; ++i) {
      for (auto& x : rows[i]) x = static_cast<float>(i < n - hostile ? s * rng.Normal() : -s);
    }
    const auto a = AggregateFrom(*mean, rows, Iota(n), r);
    const auto b = AggregateFrom(*clip, rows, Iota(n), r);
    if (r >= 100) {
      for (uint32_t j = 0; j < d; ++j) {
        mean_shift += a[j] / (100.0 * d);
        clip_shift += b[j] / (100.0 * d);
      }
    }
  }
  CHECK(mean_shift == doctest::Approx(-0.1).epsilon(0.1));
  CHECK(clip_shift < 0.0);
  CHECK(clip_shift > 0.4 * mean_shift);
}

}  // namespace
}  // namespace edgefl

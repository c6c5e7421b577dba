// The poisoning-robust aggregators (median, trimmed mean, Krum) and norm
// bounding, against hand-computed cases, shuffled arrival orders and every
// form a compressor's update takes.
#include "coordinator/aggregator.h"
#include "coordinator/coordinate_wise_aggregator.h"
#include "coordinator/krum_aggregator.h"
#include "coordinator/mean_aggregator.h"
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

}  // namespace
}  // namespace edgefl

// Weighted aggregation (aggregator.weighting = "samples", coordinator/aggregator.h):
// the weighted mean and sign votes against hand-written references, the same
// bits in any arrival order, equal weights giving the unweighted bits, the
// exact division by the weights' gcd, the exact sums' headroom at the
// heaviest round allowed, and the collector refusing heavier updates.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/exact_sum.h"
#include "coordinator/mean_aggregator.h"
#include "coordinator/node_table.h"
#include "coordinator/sign_vote_aggregator.h"
#include "coordinator/update_collector.h"
#include "core/rng.h"
#include "schemas/codec/bit_pack.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

codec::DecodedPayload Dense(const std::vector<float>& values) {
  codec::DecodedPayload p;
  p.form = codec::DecodedPayload::Form::kDense;
  p.dense = values;
  return p;
}

codec::DecodedPayload Signs(const std::vector<float>& v, std::vector<uint8_t>& storage, float scale = 1.0f) {
  storage.assign(codec::PackedSignBytes(v.size()), 0);
  codec::PackSigns(v, storage);
  codec::DecodedPayload p;
  p.form = codec::DecodedPayload::Form::kSigns;
  p.sign_bits = storage;
  p.sign_scale = scale;
  return p;
}

// Bit for bit, so that +0.0 and -0.0 differ.
bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

std::vector<std::vector<float>> NormalRows(uint32_t n, uint32_t d, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<float>> rows(n, std::vector<float>(d));
  for (auto& row : rows) {
    for (auto& x : row) x = static_cast<float>(rng.Normal() * (1 + rng.Below(100)));
  }
  return rows;
}

// Fisher-Yates, from `rng`.
std::vector<uint32_t> Shuffled(uint32_t n, Rng& rng) {
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  for (uint32_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
  return order;
}

TEST_CASE("the weighted mean is sum_i w_i v_i / sum_i w_i: exact where the fixed-point sum is") {
  // Values of few bits (multiples of 2^-8 below 2^11): every product and sum
  // below is exact in double, as in the fixed-point sum, so the mean's only
  // roundings are its own: the sum times 1/W, 1/W rounded once.
  const std::vector<std::vector<float>> v = {{0.5f, -1.25f, 3.0f, 0.0f, 1000.125f},
                                             {2.0f, 0.75f, -3.5f, 1.0f, -0.00390625f},
                                             {-0.25f, 8.0f, 0.125f, -7.0f, 2.5f}};
  const uint32_t w[] = {1, 3, 7};
  MeanAggregator mean(5);
  for (int i = 0; i < 3; ++i) mean.Add(Dense(v[i]), false, w[i]);
  CHECK(mean.count() == 3);
  CHECK(mean.total_weight() == 11);
  std::vector<double> direction(5);
  mean.Finish(direction);
  for (uint32_t j = 0; j < 5; ++j) {
    CAPTURE(j);
    double sum = 0.0;
    for (int i = 0; i < 3; ++i) sum += w[i] * static_cast<double>(v[i][j]);
    CHECK(direction[j] == sum * (1.0 / 11));
  }
  // Coordinate 0 by hand: (1 x 0.5 + 3 x 2 + 7 x -0.25) / 11 = 4.75 / 11.
  CHECK(direction[0] == 4.75 * (1.0 / 11));
}

TEST_CASE("the weighted mean of arbitrary values is within a few ulps of a long double reference") {
  // Normal f32 values above 2^-41 are multiples of 2^-64, so the fixed-point
  // sum is exact, and the result is the exact weighted sum rounded to
  // double, then times 1/W: at most about 2 ulps from the exact quotient.
  // The long double reference (64-bit significand at least) is exact for
  // these three products and within 2^-63 relative of their sum.
  constexpr uint32_t d = 64;
  const auto rows = NormalRows(3, d, 11);
  const uint32_t w[] = {1, 3, 7};
  MeanAggregator mean(d);
  for (int i = 0; i < 3; ++i) mean.Add(Dense(rows[i]), false, w[i]);
  std::vector<double> direction(d);
  mean.Finish(direction);
  for (uint32_t j = 0; j < d; ++j) {
    CAPTURE(j);
    long double sum = 0.0L;
    for (int i = 0; i < 3; ++i) sum += static_cast<long double>(w[i]) * rows[i][j];
    const double reference = static_cast<double>(sum / 11.0L);
    CHECK(std::fabs(direction[j] - reference) <= 3.0 * 0x1.0p-52 * std::fabs(reference));
  }
}

TEST_CASE("every update form, weighted, sums as its dense expansion added weight times") {
  // The sums themselves, before the division: sum_i w_i ToFixed(v) is what
  // adding each update w_i times gives, bit for bit.
  constexpr uint32_t d = 300;
  constexpr uint32_t kLevels = 5, kLevelBits = codec::BitsFor(kLevels);
  Rng rng(3);
  const auto rows = NormalRows(4, d, 4);
  const uint32_t weights[] = {2, 5, 1, 9};
  enum class Form { kDense, kDenseWithMagnitudes, kSparse, kSigns, kQuantized, kNatural };
  for (Form form : {Form::kDense, Form::kDenseWithMagnitudes, Form::kSparse, Form::kSigns, Form::kQuantized,
                    Form::kNatural}) {
    CAPTURE(static_cast<int>(form));
    MeanAggregator weighted(d), repeated(d);
    std::vector<float> values(d);
    std::vector<BlockMagnitude> magnitudes(MagnitudeBlocks(d));
    std::vector<uint16_t> fields(d);
    std::vector<uint8_t> bytes, signs;
    std::vector<uint32_t> indices;
    std::vector<float> kept;
    for (int i = 0; i < 4; ++i) {
      codec::DecodedPayload update = Dense(rows[i]);
      switch (form) {
        case Form::kDense:
          break;
        case Form::kDenseWithMagnitudes:
          ScanBlockMagnitudes(rows[i], magnitudes);
          update.dense_magnitudes = magnitudes;
          break;
        case Form::kSparse:
          indices.clear();
          kept.clear();
          for (uint32_t j = static_cast<uint32_t>(i); j < d; j += 7) {
            indices.push_back(j);
            kept.push_back(rows[i][j]);
          }
          update = {};
          update.form = codec::DecodedPayload::Form::kSparse;
          update.indices = indices;
          update.values = kept;
          break;
        case Form::kSigns:
          update = Signs(rows[i], signs, std::fabs(rows[i][0]));
          break;
        case Form::kQuantized:
          for (auto& f : fields) f = static_cast<uint16_t>(rng.Below(kLevels + 1));
          bytes.assign(codec::PackedFieldBytes(d, kLevelBits), 0);
          codec::PackFields(fields, kLevelBits, bytes);
          signs.assign(codec::PackedSignBytes(d), 0);
          codec::PackSigns(rows[i], signs);
          update = {};
          update.form = codec::DecodedPayload::Form::kCompactDense;
          update.compact = {codec::CompactDense::Kind::kQuantized, bytes, kLevelBits, signs,
                            std::fabs(rows[i][1]) / kLevels, {}};
          break;
        case Form::kNatural:
          bytes.resize(d);
          for (auto& c : bytes) c = static_cast<uint8_t>((rng.Below(2) << 7) | rng.Below(104));
          update = {};
          update.form = codec::DecodedPayload::Form::kCompactDense;
          update.compact.kind = codec::CompactDense::Kind::kNatural;
          update.compact.codes = bytes;
          break;
      }
      weighted.Add(update, false, weights[i]);
      codec::ExpandUpdate(update, values);
      for (uint32_t k = 0; k < weights[i]; ++k) repeated.Add(Dense(values), false);
    }
    CHECK(weighted.total_weight() == repeated.total_weight());
    const ExactSum& a = weighted.sum();
    const ExactSum& b = repeated.sum();
    bool same = true;
    for (uint32_t j = 0; j < d; ++j) same = same && a.Sum(j) == b.Sum(j);
    CHECK(same);
  }
}

TEST_CASE("a weighted round gives the same bits whatever the order its updates arrive in") {
  constexpr uint32_t d = 257, n = 12;
  const auto rows = NormalRows(n, d, 8);
  const uint32_t weights[n] = {1, 3, 7, 180, 1, 2, 64, 5, 5, 1437, 11, 1};
  std::vector<std::vector<uint8_t>> signs(n);
  for (uint32_t i = 0; i < n; ++i) {
    signs[i].assign(codec::PackedSignBytes(d), 0);
    codec::PackSigns(rows[i], signs[i]);
  }
  struct Case {
    AggregatorKind kind;
    double bound;
    double momentum;
  };
  for (const Case c : {Case{AggregatorKind::kMean, 0.0, 0.0}, Case{AggregatorKind::kMean, 50.0, 0.0},
                       Case{AggregatorKind::kMean, 0.0, 0.5}, Case{AggregatorKind::kSignMean, 0.0, 0.0},
                       Case{AggregatorKind::kMajority, 0.0, 0.0}}) {
    CAPTURE(std::string(AggregatorName(c.kind)));
    CAPTURE(c.bound);
    CAPTURE(c.momentum);
    AggregatorConfig config;
    config.kind = c.kind;
    config.weighting = Weighting::kSamples;
    config.max_update_norm = c.bound;
    config.node_momentum = c.momentum;
    const bool sign = IsSignVote(c.kind);
    const auto compressor = sign ? wire::CompressorKind::Sign : wire::CompressorKind::Identity;
    const auto add = [&](Aggregator& aggregator, uint32_t i) {
      codec::DecodedPayload p = Dense(rows[i]);
      if (sign) {
        p = {};
        p.form = codec::DecodedPayload::Form::kSigns;
        p.sign_bits = signs[i];
      }
      aggregator.AddFrom(i, p, weights[i]);
    };
    std::vector<double> first(d), again(d);
    Rng rng(99);
    for (int trial = 0; trial < 10; ++trial) {
      const auto aggregator = MakeAggregator(config, compressor, n, d, 4096, 1);
      // Two rounds, so that node momentum carries a first one over.
      for (uint32_t round = 0; round < 2; ++round) {
        aggregator->StartRound(round);
        for (uint32_t i : Shuffled(n, rng)) add(*aggregator, i);
        aggregator->Finish(trial == 0 ? first : again);
      }
      if (trial > 0) CHECK(SameBits(first, again));
    }
  }
}

TEST_CASE("equal weights give the unweighted aggregate bit for bit; common factors cancel exactly") {
  constexpr uint32_t d = 1000, n = 9;
  const auto rows = NormalRows(n, d, 21);
  std::vector<std::vector<uint8_t>> signs(n);
  for (uint32_t i = 0; i < n; ++i) {
    signs[i].assign(codec::PackedSignBytes(d), 0);
    codec::PackSigns(rows[i], signs[i]);
  }
  struct Case {
    AggregatorKind kind;
    double bound;
    double momentum;
  };
  for (const Case c : {Case{AggregatorKind::kMean, 0.0, 0.0}, Case{AggregatorKind::kMean, 40.0, 0.0},
                       Case{AggregatorKind::kMean, 0.0, 0.9}, Case{AggregatorKind::kSignMean, 0.0, 0.0},
                       Case{AggregatorKind::kMajority, 0.0, 0.0}}) {
    CAPTURE(std::string(AggregatorName(c.kind)));
    CAPTURE(c.bound);
    CAPTURE(c.momentum);
    const bool sign = IsSignVote(c.kind);
    const auto run = [&](Weighting weighting, const std::vector<uint32_t>& weights) {
      AggregatorConfig config;
      config.kind = c.kind;
      config.weighting = weighting;
      config.max_update_norm = c.bound;
      config.node_momentum = c.momentum;
      const auto aggregator =
          MakeAggregator(config, sign ? wire::CompressorKind::Sign : wire::CompressorKind::Identity, n, d, 4096, 1);
      std::vector<double> direction(d), result;
      for (uint32_t round = 0; round < 2; ++round) {
        aggregator->StartRound(round);
        for (uint32_t i = 0; i < n; ++i) {
          codec::DecodedPayload p = Dense(rows[(i + round) % n]);
          if (sign) {
            p = {};
            p.form = codec::DecodedPayload::Form::kSigns;
            p.sign_bits = signs[(i + round) % n];
          }
          aggregator->AddFrom(i, p, weights[i]);
        }
        aggregator->Finish(direction);
        result.insert(result.end(), direction.begin(), direction.end());
      }
      return result;
    };
    const auto uniform = run(Weighting::kUniform, std::vector<uint32_t>(n, 1));
    CHECK(SameBits(run(Weighting::kSamples, std::vector<uint32_t>(n, 180)), uniform));
    CHECK(SameBits(run(Weighting::kSamples, std::vector<uint32_t>(n, 1437)), uniform));
    // Weights 1, 3, 7, ... and the same times 6 are one weighting.
    std::vector<uint32_t> small = {1, 3, 7, 2, 1, 5, 4, 1, 9}, scaled(n);
    for (uint32_t i = 0; i < n; ++i) scaled[i] = 6 * small[i];
    const auto weighted = run(Weighting::kSamples, small);
    CHECK(SameBits(run(Weighting::kSamples, scaled), weighted));
    if (c.kind != AggregatorKind::kMajority) CHECK_FALSE(SameBits(weighted, uniform));
  }
}

TEST_CASE("sign votes weigh each node's signs by its weight") {
  // Three nodes, four coordinates, weights 1, 3, 7:
  //   node 0: + + - -     x1
  //   node 1: + - - +     x3
  //   node 2: - - + -     x7
  // counts:  -3 -9  3 -5  -> mean over 11, majority - - + -
  const std::vector<std::vector<float>> nodes = {{1, 1, -1, -1}, {1, -1, -1, 1}, {-1, -1, 1, -1}};
  const uint32_t w[] = {1, 3, 7};
  SignVoteAggregator mean(SignVoteAggregator::Vote::kMean, 4), vote(SignVoteAggregator::Vote::kMajority, 4);
  std::vector<uint8_t> storage;
  for (int i = 0; i < 3; ++i) {
    mean.AddFrom(static_cast<uint32_t>(i), Signs(nodes[i], storage), w[i]);
    vote.AddFrom(static_cast<uint32_t>(i), Signs(nodes[i], storage), w[i]);
  }
  CHECK(mean.total_weight() == 11);
  std::vector<double> direction(4);
  mean.Finish(direction);
  CHECK(direction == std::vector<double>{-3 * (1.0 / 11), -9 * (1.0 / 11), 3 * (1.0 / 11), -5 * (1.0 / 11)});
  vote.Finish(direction);
  CHECK(direction == std::vector<double>{-1, -1, 1, -1});
  // A weighted tie gives no vote: 2 against 1 + 1.
  vote.Reset();
  vote.AddFrom(0, Signs({1, 1, 1, 1}, storage), 2);
  vote.AddFrom(1, Signs({-1, 1, 1, 1}, storage), 1);
  vote.AddFrom(2, Signs({-1, 1, 1, 1}, storage), 1);
  vote.Finish(direction);
  CHECK(direction == std::vector<double>{0, 1, 1, 1});
}

TEST_CASE("ExactDivisor divides exact multiples without a division") {
  Rng rng(17);
  for (const uint64_t divisor : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{6}, uint64_t{7}, uint64_t{180},
                                 uint64_t{1437}, uint64_t{1} << 19, (uint64_t{1} << 20) - 1, uint64_t{1} << 20}) {
    CAPTURE(divisor);
    const ExactDivisor exact(divisor);
    for (int i = 0; i < 1000; ++i) {
      // Quotients up to 2^104 in magnitude, either sign: the sums' range.
      ExactSum::Fixed q = (static_cast<ExactSum::Fixed>(rng.NextU64() >> (i % 64)) << 40) +
                          static_cast<int64_t>(rng.NextU64() >> 1);
      if (i % 2) q = -q;
      if (i == 0) q = 0;
      REQUIRE(exact.Quotient(q * static_cast<ExactSum::Fixed>(divisor)) == q);
    }
  }
}

TEST_CASE("the heaviest round allowed, of the largest values, sums without overflow") {
  // Weights totalling codec::kMaxRoundWeight = 2^20, values just below
  // 2^40 (codec::kMaxUpdateMagnitude): sum_i w_i v_i 2^64 reaches 2^124, and
  // is still exact.
  constexpr uint32_t d = 40;
  const float big = std::nextafter(codec::kMaxUpdateMagnitude, 0.0f);
  const std::vector<uint32_t> weights = {(1u << 18) + 1, (1u << 18) - 1, 1u << 18, 1u << 18};
  REQUIRE(std::accumulate(weights.begin(), weights.end(), uint64_t{0}) == codec::kMaxRoundWeight);
  REQUIRE(codec::MaxUpdateWeight(4) == 1u << 18);
  std::vector<std::vector<float>> rows(4, std::vector<float>(d, big));
  for (uint32_t j = 0; j < d; j += 2) rows[1][j] = rows[3][j] = -big;  // and some cancelling
  for (const bool as_signs : {false, true}) {
    CAPTURE(as_signs);
    MeanAggregator mean(d);
    for (int i = 0; i < 4; ++i) {
      std::vector<uint8_t> storage;
      mean.Add(as_signs ? Signs(rows[i], storage, big) : Dense(rows[i]), false, weights[i]);
    }
    const ExactSum& sum = mean.sum();
    for (uint32_t j = 0; j < d; ++j) {
      ExactSum::Fixed expected = 0;
      for (int i = 0; i < 4; ++i) expected += ExactSum::ToFixed(rows[i][j]) * static_cast<ExactSum::Fixed>(weights[i]);
      REQUIRE(sum.Sum(j) == expected);
    }
    CHECK(sum.Sum(1) == ExactSum::ToFixed(big) * static_cast<ExactSum::Fixed>(codec::kMaxRoundWeight));
    std::vector<double> direction(d);
    mean.Finish(direction);
    CHECK(direction[1] == static_cast<double>(big));
  }
}

// An Update message of `weight`, as node `node` sends it for round 0.
struct Message {
  Message(uint32_t node, uint32_t weight, const std::vector<float>& values) {
    flatbuffers::FlatBufferBuilder fbb;
    codec::UpdateHeader header;
    header.node_id = node;
    header.weight = weight;
    codec::PayloadView payload;
    payload.values = values;
    codec::EncodeUpdate(fbb, 0, header, payload);
    words.resize((fbb.GetSize() + 7) / 8);
    std::memcpy(words.data(), fbb.GetBufferPointer(), fbb.GetSize());
    size = fbb.GetSize();
    const wire::Envelope* envelope = nullptr;
    REQUIRE(codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(words.data()), size}, &envelope).ok());
    update = envelope->body_as_Update();
  }
  std::vector<uint64_t> words;
  size_t size;
  const wire::Update* update;
};

TEST_CASE("the collector weighs updates under samples, refuses one heavier than 2^20 / run.nodes, and reads no "
          "weight under uniform") {
  constexpr uint32_t kNodes = 4, d = 3;
  const codec::CompressorSpec identity{wire::CompressorKind::Identity};
  const std::vector<float> a = {1.0f, 2.0f, 4.0f}, b = {4.0f, -8.0f, 0.0f};
  for (const Weighting weighting : {Weighting::kUniform, Weighting::kSamples}) {
    CAPTURE(static_cast<int>(weighting));
    AggregatorConfig config;
    config.weighting = weighting;
    const auto aggregator = MakeAggregator(config, identity.kind, kNodes, d, 4096);
    NodeTable nodes(kNodes);
    for (uint32_t i = 0; i < kNodes; ++i) nodes[i].joined = nodes[i].alive = true;
    UpdateCollector collector(identity, d, *aggregator, nodes, weighting);
    collector.Open(0);
    nodes.BeginRound(0);
    const Message light(0, 3, a), absent(1, 0, b), heavy(2, UINT32_MAX, a), limit(3, 1u << 18, b);
    CHECK(collector.Take(0, 0, *light.update, light.size).ok());
    CHECK(collector.Take(1, 0, *absent.update, absent.size).ok());  // weight 0 reads as 1
    const Status refused = collector.Take(2, 0, *heavy.update, heavy.size);
    if (weighting == Weighting::kSamples) {
      CHECK(std::string(refused.message()) ==
            "round 0: update weight 4294967295 is more than 262144, the most one update may weigh with run.nodes = 4 "
            "(a round's weights total at most 2^20)");
      CHECK(nodes[2].round.outcome == NodeOutcome::kRefused);
      CHECK_FALSE(nodes[2].round.accepted);
    } else {
      CHECK(refused.ok());
    }
    CHECK(collector.Take(3, 0, *limit.update, limit.size).ok());  // 2^20 / 4 is allowed
    std::vector<double> direction(d);
    aggregator->Finish(direction);
    if (weighting == Weighting::kSamples) {
      CHECK(collector.count() == 3);
      const double w = 3 + 1 + (1 << 18);
      CHECK(direction == std::vector<double>{(3 * 1.0 + 4.0 + (1 << 18) * 4.0) * (1.0 / w),
                                             (3 * 2.0 - 8.0 - (1 << 18) * 8.0) * (1.0 / w), 3 * 4.0 * (1.0 / w)});
    } else {
      CHECK(collector.count() == 4);
      CHECK(direction == std::vector<double>{10.0 * 0.25, -12.0 * 0.25, 8.0 * 0.25});
    }
  }
}

}  // namespace
}  // namespace edgefl

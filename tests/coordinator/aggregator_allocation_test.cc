// The aggregators allocate everything they need when they are made, for
// the run's node count: rounds of StartRound, AddFrom and Finish never
// touch the heap, whatever the kind, including the robust ones that keep a
// round's updates, Krum's fallback to the median, centred clipping,
// bucketing and node momentum, and the rules that take weights, weighted.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "coordinator/aggregator.h"
#include "core/rng.h"
#include "schemas/codec/bit_pack.h"
#include "tests/counting_allocator.h"

namespace edgefl {
namespace {

TEST_CASE("rounds of every aggregator allocate nothing") {
  constexpr uint32_t kNodes = 9, d = 1000;
  Rng rng(7);
  std::vector<std::vector<float>> rows(kNodes, std::vector<float>(d));
  std::vector<std::vector<uint8_t>> signs(kNodes);
  for (uint32_t i = 0; i < kNodes; ++i) {
    for (auto& x : rows[i]) x = static_cast<float>(rng.Normal() * (i == 3 ? 1e6 : 1.0));
    signs[i].assign(codec::PackedSignBytes(d), 0);
    codec::PackSigns(rows[i], signs[i]);
  }
  struct Case {
    AggregatorKind kind;
    uint32_t krum_select;
    double bound;
    bool sign;
    uint32_t bucket_size = 1;
    double node_momentum = 0.0;
    bool weighted = false;  // aggregator.weighting = "samples"
  };
  const Case cases[] = {
      {AggregatorKind::kMean, 1, 0.0, false},         {AggregatorKind::kMean, 1, 10.0, false},
      {AggregatorKind::kMedian, 1, 10.0, false},      {AggregatorKind::kTrimmedMean, 1, 0.0, false},
      {AggregatorKind::kKrum, 1, 0.0, false},         {AggregatorKind::kKrum, 5, 10.0, false},
      {AggregatorKind::kSignMean, 1, 0.0, true},      {AggregatorKind::kMajority, 1, 0.0, true},
      {AggregatorKind::kMedian, 1, 0.0, true},        {AggregatorKind::kCenteredClip, 1, 0.0, false},
      {AggregatorKind::kCenteredClip, 1, 10.0, true}, {AggregatorKind::kMedian, 1, 10.0, false, 2},
      {AggregatorKind::kCenteredClip, 1, 0.0, false, 3},
      {AggregatorKind::kKrum, 1, 0.0, false, 1, 0.9}, {AggregatorKind::kMean, 1, 10.0, false, 1, 0.9},
      {AggregatorKind::kMean, 1, 0.0, true, 1, 0.5},  {AggregatorKind::kCenteredClip, 1, 0.0, true, 2, 0.9},
      {AggregatorKind::kMean, 1, 0.0, false, 1, 0.0, true},  {AggregatorKind::kMean, 1, 10.0, false, 1, 0.9, true},
      {AggregatorKind::kMean, 1, 0.0, true, 1, 0.5, true},   {AggregatorKind::kSignMean, 1, 0.0, true, 1, 0.0, true},
      {AggregatorKind::kMajority, 1, 0.0, true, 1, 0.0, true},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(AggregatorName(c.kind)));
    CAPTURE(c.krum_select);
    CAPTURE(c.bound);
    CAPTURE(c.bucket_size);
    CAPTURE(c.node_momentum);
    CAPTURE(c.weighted);
    AggregatorConfig config;
    config.kind = c.kind;
    config.trim = 0.25;
    config.byzantine = c.bucket_size > 1 ? 0 : 2;
    config.krum_select = c.krum_select;
    config.max_update_norm = c.bound;
    config.clip_iterations = 3;
    config.bucket_size = c.bucket_size;
    config.node_momentum = c.node_momentum;
    config.weighting = c.weighted ? Weighting::kSamples : Weighting::kUniform;
    const auto compressor = c.sign ? wire::CompressorKind::Sign : wire::CompressorKind::Identity;
    const auto aggregator = MakeAggregator(config, compressor, kNodes, d, 4096, 1);
    std::vector<double> direction(d);
    uint32_t round_index = 0;
    const auto round = [&](uint32_t updates) {
      aggregator->StartRound(round_index++);
      for (uint32_t i = 0; i < updates; ++i) {
        codec::DecodedPayload p;
        if (c.sign) {
          p.form = codec::DecodedPayload::Form::kSigns;
          p.sign_bits = signs[i];
        } else {
          p.form = codec::DecodedPayload::Form::kDense;
          p.dense = rows[i];
        }
        aggregator->AddFrom(i, p, c.weighted ? 1 + 37 * i : 1);  // weights 1, 38, 75, ...: gcd 1
      }
      aggregator->Finish(direction);
    };
    testing::StartCountingAllocations();
    for (int r = 0; r < 20; ++r) {
      round(kNodes);
      round(4);  // fewer than Krum's 2f + 3: the median
    }
    CHECK(testing::StopCountingAllocations() == 0);
  }
}

}  // namespace
}  // namespace edgefl

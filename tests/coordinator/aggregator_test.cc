#include "coordinator/mean_aggregator.h"
#include "coordinator/sign_vote_aggregator.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.h"
#include "schemas/codec/bit_pack.h"

namespace edgefl {
namespace {

codec::DecodedPayload Signs(const std::vector<float>& v, std::vector<uint8_t>& storage, float scale = 1.0f) {
  storage.assign(codec::PackedSignBytes(v.size()), 0);
  codec::PackSigns(v, storage);
  codec::DecodedPayload p;
  p.form = codec::DecodedPayload::Form::kSigns;
  p.sign_bits = storage;
  p.sign_scale = scale;
  return p;
}

TEST_CASE("mean of signs and majority vote match hand-computed cases") {
  // Three nodes, four coordinates:
  //   node 0: + + - -
  //   node 1: + - - +
  //   node 2: + - + -
  // sum:      3 -1 -1 -1  -> mean 1, -1/3, -1/3, -1/3; majority + - - -
  const std::vector<std::vector<float>> nodes = {{1, 1, -1, -1}, {1, -1, -1, 1}, {1, -1, 1, -1}};
  SignVoteAggregator mean(SignVoteAggregator::Vote::kMean, 4), vote(SignVoteAggregator::Vote::kMajority, 4);
  std::vector<uint8_t> storage;
  for (const auto& n : nodes) {
    mean.Add(Signs(n, storage));
    vote.Add(Signs(n, storage));
  }
  std::vector<double> direction(4);
  mean.Finish(direction);
  CHECK(direction == std::vector<double>{1.0, -1.0 / 3, -1.0 / 3, -1.0 / 3});
  vote.Finish(direction);
  CHECK(direction == std::vector<double>{1, -1, -1, -1});

  // A tie gives no vote; Reset starts a new round.
  vote.Reset();
  vote.Add(Signs({1, -1, 1, 1}, storage));
  vote.Add(Signs({-1, -1, 1, -1}, storage));
  vote.Finish(direction);
  CHECK(direction == std::vector<double>{0, -1, 1, 0});
  CHECK(vote.count() == 2);
}

TEST_CASE("mean aggregates dense, sparse and scaled-sign updates") {
  MeanAggregator mean(3);
  const std::vector<float> dense = {1.0f, 2.0f, 3.0f};
  codec::DecodedPayload a;
  a.form = codec::DecodedPayload::Form::kDense;
  a.dense = dense;
  mean.Add(a);
  const std::vector<uint32_t> idx = {2};
  const std::vector<float> vals = {3.0f};
  codec::DecodedPayload b;
  b.form = codec::DecodedPayload::Form::kSparse;
  b.indices = idx;
  b.values = vals;
  mean.Add(b);
  std::vector<uint8_t> storage;
  mean.Add(Signs({1, -1, -1}, storage, 0.5f));
  std::vector<double> direction(3);
  mean.Finish(direction);
  CHECK(direction[0] == doctest::Approx((1.0 + 0.0 + 0.5) / 3));
  CHECK(direction[1] == doctest::Approx((2.0 + 0.0 - 0.5) / 3));
  CHECK(direction[2] == doctest::Approx((3.0 + 3.0 - 0.5) / 3));
}

TEST_CASE("held-back updates give the same direction, bit for bit, and free their buffers in order") {
  // As the coordinator does: update u is received into buffer pending(), and
  // a buffer is overwritten only once pending() has moved past it again.
  // Dense updates come with the decoder's block magnitudes or without;
  // compact ones (QSGD levels, natural codes) must sum exactly as their
  // expanded values do.
  constexpr uint32_t d = 1000, n = 3 * MeanAggregator::kMaxPending + 3;
  constexpr uint32_t kLevels = 5, kLevelBits = codec::BitsFor(kLevels);
  Rng rng(5);
  std::vector<std::vector<float>> updates(n, std::vector<float>(d));
  for (auto& u : updates) {
    for (auto& x : u) x = static_cast<float>(rng.Normal() * (1 + rng.Below(1000)));
  }
  enum class Form { kDense, kDenseWithMagnitudes, kSigns, kQuantized, kNatural };
  for (Form form : {Form::kDense, Form::kDenseWithMagnitudes, Form::kSigns, Form::kQuantized, Form::kNatural}) {
    CAPTURE(static_cast<int>(form));
    MeanAggregator immediate(d), held(d), expanded(d);
    std::vector<std::vector<float>> buffers(MeanAggregator::kMaxPending);
    std::vector<std::vector<uint8_t>> byte_buffers(MeanAggregator::kMaxPending), sign_buffers(MeanAggregator::kMaxPending);
    std::vector<BlockMagnitude> magnitudes(MagnitudeBlocks(d));  // one scratch, as the decoder's
    std::vector<uint16_t> fields(d);
    std::vector<float> values(d);
    std::vector<uint8_t> storage;
    for (uint32_t u = 0; u < n; ++u) {
      codec::DecodedPayload update;
      const uint32_t slot = held.pending();
      switch (form) {
        case Form::kDense:
        case Form::kDenseWithMagnitudes:
          buffers[slot] = updates[u];
          update.form = codec::DecodedPayload::Form::kDense;
          update.dense = buffers[slot];
          if (form == Form::kDenseWithMagnitudes) {
            ScanBlockMagnitudes(buffers[slot], magnitudes);
            update.dense_magnitudes = magnitudes;
          }
          break;
        case Form::kSigns:
          update = Signs(updates[u], sign_buffers[slot], std::fabs(updates[u][0]));
          break;
        case Form::kQuantized:
          for (auto& f : fields) f = static_cast<uint16_t>(rng.Below(kLevels + 1));
          byte_buffers[slot].assign(codec::PackedFieldBytes(d, kLevelBits), 0);
          codec::PackFields(fields, kLevelBits, byte_buffers[slot]);
          sign_buffers[slot].assign(codec::PackedSignBytes(d), 0);
          codec::PackSigns(updates[u], sign_buffers[slot]);
          update.form = codec::DecodedPayload::Form::kCompactDense;
          update.compact = {codec::CompactDense::Kind::kQuantized, byte_buffers[slot], kLevelBits, sign_buffers[slot],
                            std::fabs(updates[u][1]) / kLevels, {}};
          break;
        case Form::kNatural:
          byte_buffers[slot].resize(d);
          for (auto& c : byte_buffers[slot]) c = static_cast<uint8_t>((rng.Below(2) << 7) | rng.Below(104));
          update.form = codec::DecodedPayload::Form::kCompactDense;
          update.compact.kind = codec::CompactDense::Kind::kNatural;
          update.compact.codes = byte_buffers[slot];
          break;
      }
      immediate.Add(update);
      codec::ExpandUpdate(update, values);
      codec::DecodedPayload as_dense;
      as_dense.dense = values;
      expanded.Add(as_dense);
      held.Add(update, /*values_stay_valid=*/true);
      CHECK(held.pending() == (u + 1) % MeanAggregator::kMaxPending);
      std::fill(magnitudes.begin(), magnitudes.end(), BlockMagnitude{});  // the next decode reuses the scratch
      if (u == 5) {  // updates that are not held interleave freely
        for (MeanAggregator* a : {&immediate, &held, &expanded}) a->Add(Signs(std::vector<float>(d, 1.0f), storage, 0.25f));
      }
    }
    CHECK(held.pending() > 0);  // Finish must flush them
    std::vector<double> a(d), b(d), c(d);
    immediate.Finish(a);
    held.Finish(b);
    expanded.Finish(c);
    CHECK(held.pending() == 0);
    CHECK(a == b);
    CHECK(a == c);
  }
}

}  // namespace
}  // namespace edgefl

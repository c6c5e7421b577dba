// DownlinkStep: a sign vote's step travels as counts and moves the model
// exactly as the model-form step does; other steps travel as f32 values,
// sparse or dense by size, with all-zero parts left out; the coordinator's
// model moves by exactly what it sends.
#include "coordinator/downlink_step.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "schemas/codec/bit_pack.h"

namespace edgefl {
namespace {

constexpr uint32_t kParts = 3;
constexpr uint32_t kD = 2 * codec::kRoundStartPartValues + 100;

std::vector<float> StartingModel() {
  std::vector<float> model(kD);
  Rng rng(4);
  for (float& x : model) x = static_cast<float>(rng.Normal());
  return model;
}

// A sign vote's direction: counts of `voters` in [-voters, voters] times
// 1 / voters, as SignVoteAggregator::Finish computes it.
std::vector<double> VoteDirection(int voters) {
  std::vector<double> direction(kD);
  Rng rng(9);
  const double inverse = 1.0 / voters;
  for (double& v : direction) v = (static_cast<int>(rng.Below(2 * voters + 1)) - voters) * inverse;
  return direction;
}

TEST_CASE("a sign vote's step goes as its counts, and moves the model exactly as the model form does") {
  for (const int voters : {1, 5, 64}) {
    CAPTURE(voters);
    const std::vector<double> direction = VoteDirection(voters);
    const double eta = 0.013;
    std::vector<float> by_step = StartingModel(), by_model = StartingModel();
    StepRecord record;
    BuildStep(direction, eta, static_cast<uint32_t>(voters), 4, &record);
    REQUIRE(record.parts.size() == kParts);
    for (const auto& part : record.parts) {
      CHECK(part.type == wire::Payload::Quantized);
      CHECK(part.levels == static_cast<uint32_t>(voters));
    }
    ApplyStep(by_step, &record);
    for (size_t j = 0; j < kD; ++j) by_model[j] = static_cast<float>(by_model[j] + -eta * direction[j]);
    CHECK(by_step == by_model);
    CHECK(record.model_hash == codec::ReplicaHash(by_model));
    CHECK(record.version == 4);
    // ceil(log2(L + 1)) + 1 bits a coordinate: 2 for majority (L = 1).
    const double bits =
        8.0 * static_cast<double>(record.parts[0].packed_levels.size() + record.parts[0].packed_signs.size()) /
        codec::kRoundStartPartValues;
    CHECK(bits == doctest::Approx(codec::BitsFor(static_cast<uint32_t>(voters)) + 1));
  }
}

TEST_CASE("a direction that is not counts travels as f32 values: sparse when few are non-zero, else dense") {
  std::vector<double> u(kD, 0.0);
  // Part 0 dense, part 1 all zero (left out), part 2 (the last) sparse.
  Rng rng(2);
  for (uint32_t j = 0; j < codec::kRoundStartPartValues; ++j) u[j] = rng.Normal() / 3.0;
  const uint32_t last = 2 * codec::kRoundStartPartValues;
  u[last + 7] = 0.1;
  u[last + 99] = -1e-3;
  StepRecord record;
  BuildStep(u, 0.5, /*vote_levels=*/5, 2, &record);  // not counts of 5: floats
  REQUIRE(record.parts.size() == 2);
  CHECK(record.parts[0].offset == 0);
  CHECK(record.parts[0].type == wire::Payload::DenseF32);
  CHECK(record.parts[1].offset == last);
  CHECK(record.parts[1].type == wire::Payload::SparseF32);
  CHECK(record.parts[1].indices == std::vector<uint32_t>{7, 99});
  std::vector<float> model = StartingModel(), expected = StartingModel();
  for (size_t j = 0; j < kD; ++j) {
    expected[j] = static_cast<float>(expected[j] - 0.5 * static_cast<double>(static_cast<float>(u[j])));
  }
  ApplyStep(model, &record);
  const std::vector<float> start = StartingModel();
  size_t moved_where_zero = 0;
  for (size_t j = 0; j < kD; ++j) moved_where_zero += u[j] == 0.0 && model[j] != start[j];
  CHECK(moved_where_zero == 0);
  CHECK(model == expected);
}

TEST_CASE("a step with no change is one empty last part, and leaves the model as it is") {
  StepRecord record;
  BuildEmptyStep(kD, 9, &record);
  REQUIRE(record.parts.size() == 1);
  CHECK(record.parts[0].offset == 2 * codec::kRoundStartPartValues);
  std::vector<float> model = StartingModel();
  ApplyStep(model, &record);
  CHECK(model == StartingModel());
  CHECK(record.model_hash == codec::ReplicaHash(model));
}

TEST_CASE("TakeServerStep: a dense step is not sent, and moves the model as the model form does") {
  ExperimentConfig config;
  config.objective.dimension = kD;
  config.server.optimizer = ServerOptimizerKind::kAdam;
  const StepRunFacts facts = StepFactsOf(config);
  const std::vector<double> direction = VoteDirection(3);
  ServerStep applied(config.step, config.server, facts, kD), planned(config.step, config.server, facts, kD);
  std::vector<float> by_model = StartingModel(), by_step = StartingModel();
  StepRecord record;
  std::vector<double> scratch;
  const RoundAggregate aggregate{4, direction, 1.0, 1.0};
  const double eta = applied.Apply(aggregate, by_model);
  config.round.downlink = DownlinkForm::kStep;
  CHECK(TakeServerStep(config, planned, aggregate, 3, by_step, &record, scratch) == eta);
  CHECK(record.whole);
  CHECK(record.parts.empty());
  CHECK(by_step == by_model);
  CHECK(record.model_hash == codec::ReplicaHash(by_model));
}

TEST_CASE("TakeServerStep: a sparse change of a server optimiser goes as f32 of minus the change, step size 1") {
  ExperimentConfig config;
  config.objective.dimension = kD;
  config.server.optimizer = ServerOptimizerKind::kMomentum;
  config.round.downlink = DownlinkForm::kStep;
  ServerStep step(config.step, config.server, StepFactsOf(config), kD);
  std::vector<double> direction(kD, 0.0);
  direction[3] = 0.7;
  direction[kD - 1] = -1.0 / 3.0;
  std::vector<float> model = StartingModel();
  StepRecord record;
  std::vector<double> scratch;
  TakeServerStep(config, step, {0, direction, 1.0, 1.0}, 0, model, &record, scratch);
  REQUIRE_FALSE(record.whole);
  CHECK(record.step_size == 1.0);
  REQUIRE(record.parts.size() == 2);  // part 1 is all zero
  CHECK(record.parts[0].type == wire::Payload::SparseF32);
  CHECK(record.parts[1].offset == 2 * codec::kRoundStartPartValues);
  std::vector<float> expected = StartingModel();
  for (const size_t j : {size_t{3}, size_t{kD - 1}}) {
    expected[j] = static_cast<float>(expected[j] - static_cast<double>(static_cast<float>(-step.last_change()[j])));
  }
  CHECK(model == expected);
}

}  // namespace
}  // namespace edgefl

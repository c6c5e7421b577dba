#include "coordinator/server_step.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "coordinator/run_state.h"
#include "core/rng.h"

namespace edgefl {
namespace {

TEST_CASE("sgd steps exactly as x - eta * direction, rounded once to float") {
  constexpr uint32_t d = 1000;
  Rng rng(5);
  std::vector<double> direction(d);
  std::vector<float> model(d), expected(d);
  for (uint32_t j = 0; j < d; ++j) {
    direction[j] = rng.Normal() * 3.0;
    model[j] = static_cast<float>(rng.Normal());
  }
  ServerStep step({.rule = StepRuleKind::kConstant, .eta = 0.37}, d);
  for (uint32_t j = 0; j < d; ++j) expected[j] = static_cast<float>(model[j] - 0.37 * direction[j]);
  CHECK(step.Apply(0, direction, 1.0, model) == 0.37);
  CHECK(model == expected);  // bit for bit: the model hashes of earlier runs stay
  CHECK(step.steps_taken() == 1);
  CHECK(step.step_sizes_sum() == 0.37);
}

TEST_CASE("decay gives eta / (1 + k)^p, and counts the SDE time") {
  ServerStep step({.rule = StepRuleKind::kDecay, .eta = 0.5, .decay_power = 0.5}, 2);
  std::vector<double> direction = {1.0, -1.0};
  std::vector<float> model = {0.0f, 0.0f};
  double sum = 0.0;
  for (uint32_t k = 0; k < 4; ++k) {
    const double eta = step.Apply(k, direction, std::sqrt(2.0), model);
    CHECK(eta == doctest::Approx(0.5 / std::sqrt(1.0 + k)));
    sum += eta;
  }
  CHECK(step.steps_taken() == 4);
  CHECK(step.step_sizes_sum() == doctest::Approx(sum));
}

TEST_CASE("a server step and a run state saved and loaded carry on as if never stopped") {
  const StepConfig config{.rule = StepRuleKind::kDecay, .eta = 0.25, .decay_power = 1.0};
  constexpr uint32_t d = 3;
  ServerStep first(config, d), second(config, d);
  RunState state(d);
  state.model = {1.0f, 2.0f, 3.0f};
  const std::vector<double> direction = {0.5, -0.25, 1.0};
  for (uint32_t k = 0; k < 3; ++k) {
    first.Apply(k, direction, 1.0, state.model);
    state.losses.push_back(10.0 - k);
    state.round = k + 1;
  }
  state.failed_in_a_row = 1;
  StateWriter out;
  state.Save(out);
  first.Save(out);

  RunState loaded(d);
  StateReader in(out.bytes());
  REQUIRE(loaded.Load(in).ok());
  REQUIRE(second.Load(in).ok());
  CHECK(in.done());
  CHECK(loaded.round == 3);
  CHECK(loaded.failed_in_a_row == 1);
  CHECK(loaded.model == state.model);
  CHECK(loaded.losses == state.losses);
  CHECK(second.steps_taken() == 3);
  CHECK(second.step_sizes_sum() == first.step_sizes_sum());

  std::vector<float> a = state.model, b = loaded.model;
  CHECK(first.Apply(3, direction, 1.0, a) == second.Apply(3, direction, 1.0, b));
  CHECK(a == b);
}

TEST_CASE("a state cut short or of another dimension is refused, naming what is wrong") {
  RunState state(4);
  StateWriter out;
  state.Save(out);
  const std::vector<uint8_t> bytes = out.bytes();
  RunState other_dimension(5);
  StateReader in(bytes);
  const Status wrong = other_dimension.Load(in);
  CHECK(wrong.code() == StatusCode::kMalformed);
  CHECK(std::string(wrong.message()).find("5 are expected") != std::string::npos);
  RunState same(4);
  StateReader cut(std::span<const uint8_t>(bytes).first(bytes.size() - 3));
  const Status short_read = same.Load(cut);
  CHECK(short_read.code() == StatusCode::kMalformed);
  CHECK(std::string(short_read.message()).find("short") != std::string::npos);
}

}  // namespace
}  // namespace edgefl

#include "strategy/server_step.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "runfiles/run_state.h"
#include "core/rng.h"

namespace edgefl {
namespace {

// A rule that records what it is fed, and steps 0.5.
class RecordingRule final : public StepRule {
 public:
  double StepSize(const StepInputs& in) override {
    seen.push_back({in.round, in.steps_taken, in.step_sizes_sum,
                    std::vector<double>(in.direction.begin(), in.direction.end()),
                    std::vector<double>(in.last_direction.begin(), in.last_direction.end()),
                    std::vector<double>(in.last_change.begin(), in.last_change.end())});
    return 0.5;
  }
  struct Seen {
    uint32_t round, steps_taken;
    double step_sizes_sum;
    std::vector<double> direction, last_direction, last_change;
  };
  std::vector<Seen> seen;
};

TEST_CASE("a rule is fed the steps so far and the last step's direction and change") {
  auto rule = std::make_unique<RecordingRule>();
  const RecordingRule& record = *rule;
  ServerStep step(std::move(rule), std::make_unique<SgdOptimizer>(), StepConfig{}, 2);
  std::vector<float> model = {1.0f, 1.0f};
  const std::vector<double> first = {1.0, 2.0}, second = {-1.0, 0.0};
  step.Apply(0, first, 1.0, model);
  step.Apply(4, second, 1.0, model);  // rounds 1-3 lacked their quorum
  REQUIRE(record.seen.size() == 2);
  CHECK(record.seen[0].steps_taken == 0);
  CHECK(record.seen[0].last_direction.empty());
  CHECK(record.seen[0].last_change.empty());
  CHECK(record.seen[1].round == 4);
  CHECK(record.seen[1].steps_taken == 1);
  CHECK(record.seen[1].step_sizes_sum == 0.5);
  CHECK(record.seen[1].direction == second);
  CHECK(record.seen[1].last_direction == first);
  CHECK(record.seen[1].last_change == std::vector<double>{-0.5, -1.0});
  CHECK(step.last_change()[0] == 0.5);
  CHECK(model == std::vector<float>{1.0f, 0.0f});
}

TEST_CASE("n_k: the aggregate's norm, the nodes' mean report, or a running mean") {
  std::vector<float> model = {0.0f};
  const std::vector<double> d = {1.0};
  ServerStep aggregate({.rule = StepRuleKind::kNormalized, .eta = 1.0}, {}, {}, 1);
  aggregate.Apply({0, d, 2.0, 8.0}, model);
  CHECK(aggregate.norm_estimate() == 2.0);
  ServerStep nodes({.rule = StepRuleKind::kNormalized, .eta = 1.0, .norm = NormEstimateKind::kNodes}, {}, {}, 1);
  CHECK(nodes.Apply({0, d, 2.0, 8.0}, model) == 0.125);
  CHECK(nodes.norm_estimate() == 8.0);
  nodes.Apply({1, d, 2.0, NAN}, model);  // no node reported a finite norm
  CHECK(nodes.norm_estimate() == 2.0);
  ServerStep running(
      {.rule = StepRuleKind::kNormalized, .eta = 1.0, .norm = NormEstimateKind::kRunning, .norm_smoothing = 0.75}, {},
      {}, 1);
  running.Apply({0, d, 4.0, NAN}, model);
  CHECK(running.norm_estimate() == 4.0);
  running.Apply({1, d, 8.0, NAN}, model);
  CHECK(running.norm_estimate() == 0.75 * 4.0 + 0.25 * 8.0);
}

TEST_CASE("sgd steps exactly as x - eta * direction, rounded once to float") {
  constexpr uint32_t d = 1000;
  Rng rng(5);
  std::vector<double> direction(d);
  std::vector<float> model(d), expected(d);
  for (uint32_t j = 0; j < d; ++j) {
    direction[j] = rng.Normal() * 3.0;
    model[j] = static_cast<float>(rng.Normal());
  }
  ServerStep step({.rule = StepRuleKind::kConstant, .eta = 0.37}, {}, {}, d);
  for (uint32_t j = 0; j < d; ++j) expected[j] = static_cast<float>(model[j] - 0.37 * direction[j]);
  CHECK(step.Apply(0, direction, 1.0, model) == 0.37);
  CHECK(model == expected);  // bit for bit: the model hashes of earlier runs stay
  CHECK(step.steps_taken() == 1);
  CHECK(step.step_sizes_sum() == 0.37);
}

TEST_CASE("decay gives eta / (1 + k)^p, and counts the SDE time") {
  ServerStep step({.rule = StepRuleKind::kDecay, .eta = 0.5, .decay_power = 0.5}, {}, {}, 2);
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
  const ServerConfig adam{.optimizer = ServerOptimizerKind::kAdam};
  ServerStep first(config, adam, {}, d), second(config, adam, {}, d);
  RunState state(d, 2);
  state.model = {1.0f, 2.0f, 3.0f};
  const std::vector<double> direction = {0.5, -0.25, 1.0};
  for (uint32_t k = 0; k < 3; ++k) {
    first.Apply(k, direction, 1.0, state.model);
    state.losses.push_back(10.0 - k);
    state.round = k + 1;
  }
  state.failed_in_a_row = 1;
  state.accepted_update_bytes = 12345;
  state.summary.rounds = state.summary.steps = 3;
  state.summary.initial_loss = 14.0;
  state.summary.best_loss = state.summary.final_loss = 8.0;
  state.summary.best_test_accuracy = 0.75;
  state.summary.diverged_at = -1;
  state.summary.bytes_up = 999;
  state.summary.rejected = 2;
  StateWriter out;
  state.Save(out);
  first.Save(out);

  RunState loaded(d, 2);
  StateReader in(out.bytes());
  REQUIRE(loaded.Load(in).ok());
  REQUIRE(second.Load(in).ok());
  CHECK(in.done());
  CHECK(loaded.round == 3);
  CHECK(loaded.failed_in_a_row == 1);
  CHECK(loaded.model == state.model);
  CHECK(loaded.losses == state.losses);
  CHECK(loaded.accepted_update_bytes == 12345);
  CHECK(loaded.summary.steps == 3);
  CHECK(loaded.summary.initial_loss == 14.0);
  CHECK(loaded.summary.final_loss == 8.0);
  CHECK(loaded.summary.best_test_accuracy == 0.75);
  CHECK(loaded.summary.bytes_up == 999);
  CHECK(loaded.summary.rejected == 2);
  CHECK(second.steps_taken() == 3);
  CHECK(second.step_sizes_sum() == first.step_sizes_sum());

  std::vector<float> a = state.model, b = loaded.model;
  CHECK(first.Apply(3, direction, 1.0, a) == second.Apply(3, direction, 1.0, b));
  CHECK(a == b);
}

TEST_CASE("a state cut short or of another dimension is refused, naming what is wrong") {
  RunState state(4, 2);
  StateWriter out;
  state.Save(out);
  const std::vector<uint8_t> bytes = out.bytes();
  RunState other_dimension(5, 2);
  StateReader in(bytes);
  const Status wrong = other_dimension.Load(in);
  CHECK(wrong.code() == StatusCode::kMalformed);
  CHECK(std::string(wrong.message()).find("5 are expected") != std::string::npos);
  RunState same(4, 2);
  StateReader cut(std::span<const uint8_t>(bytes).first(bytes.size() - 3));
  const Status short_read = same.Load(cut);
  CHECK(short_read.code() == StatusCode::kMalformed);
  CHECK(std::string(short_read.message()).find("short") != std::string::npos);
}

TEST_CASE("online with no starting constants: steps of eta / n_k until the fit has three samples") {
  // A data objective whose L0 and L1 are left to the fit (l0 = l1 = 0):
  // before the fit, the l0l1 rule would divide by a + b n_k = 0.
  StepConfig config{.rule = StepRuleKind::kL0L1, .eta = 0.1, .l0 = 0.0, .l1 = 0.0,
                    .smoothness = SmoothnessSource::kOnline};
  ServerStep step(config, {}, {.dimension = 1, .nodes = 1}, 1);
  std::vector<float> model = {8.0f};
  // f = x^2 / 2: the gradient is x, and the aggregate a noisy one.
  for (int k = 0; k < 6; ++k) {
    const float before = model[0];
    const double g = before + (k % 2 == 0 ? 0.5 : -0.5);
    const std::vector<double> direction = {g};
    const double eta = step.Apply(k, direction, std::fabs(g), model);
    step.ObserveGradients(std::vector<float>{before}, model);
    INFO("round " << k);
    if (!step.smoothness_estimated()) {
      CHECK(eta == doctest::Approx(0.1 / std::fabs(g)));
      CHECK(std::isnan(step.l0()));
    } else {
      // The exact gradients give ell = 1 (f'' = 1) whatever the noise.
      CHECK(step.l0() == doctest::Approx(1.0));
      CHECK(step.l1() == doctest::Approx(0.0));
      CHECK(std::isfinite(eta));
    }
  }
  CHECK(step.smoothness_estimated());
  // With constants to start from, the rule steps with them from round 0.
  config.l0 = 1.0;
  ServerStep declared(config, {}, {.dimension = 1, .nodes = 1}, 1);
  model = {8.0f};
  const double eta = declared.Apply(0, std::vector<double>{8.0}, 8.0, model);
  CHECK(eta == doctest::Approx(2 * 0.5 / 1.0));  // 2 eps / a with a = L0 rho, rho = 1, L1 = 0
  CHECK(declared.l0() == 1.0);
}

}  // namespace
}  // namespace edgefl

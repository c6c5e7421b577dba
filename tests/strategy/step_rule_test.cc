// Each step rule against values computed by hand.
#include "strategy/step_rule.h"

#include <doctest/doctest.h>

#include <cmath>

namespace edgefl {
namespace {

double Step(const StepConfig& config, uint32_t round, double norm, const StepRunFacts& facts = {}) {
  StepInputs in;
  in.round = round;
  in.direction_norm = in.norm_estimate = norm;
  in.l0 = config.l0;  // as ServerStep passes the declared constants
  in.l1 = config.l1;
  return MakeStepRule(config, facts)->StepSize(in);
}

TEST_CASE("schedules: constant, decay, decay in SDE time, step decay") {
  CHECK(Step({.rule = StepRuleKind::kConstant, .eta = 0.3}, 7, 5.0) == 0.3);
  // 0.4 / (1 + 3)^0.5 = 0.2
  CHECK(Step({.rule = StepRuleKind::kDecay, .eta = 0.4, .decay_power = 0.5}, 3, 1.0) == doctest::Approx(0.2));
  // t = k eta = 30 * 0.1 = 3: 0.1 / (1 + 3)^0.5 = 0.05 (docs/theory.md 4.2's 1/sqrt(t + 1), times eta)
  CHECK(Step({.rule = StepRuleKind::kDecayTime, .eta = 0.1, .decay_power = 0.5}, 30, 1.0) == doctest::Approx(0.05));
  const StepConfig step_decay{.rule = StepRuleKind::kStepDecay, .eta = 0.8, .decay_factor = 0.5, .decay_every = 10};
  CHECK(Step(step_decay, 9, 1.0) == 0.8);
  CHECK(Step(step_decay, 10, 1.0) == 0.4);
  CHECK(Step(step_decay, 25, 1.0) == 0.2);
}

TEST_CASE("normalising rules: normalized, clip, vankov, l0l1-gd") {
  CHECK(Step({.rule = StepRuleKind::kNormalized, .eta = 0.5}, 0, 4.0) == 0.125);
  CHECK(Step({.rule = StepRuleKind::kNormalized, .eta = 0.5}, 0, 0.0) == 0.0);  // a zero direction steps 0
  const StepConfig clip{.rule = StepRuleKind::kClip, .eta = 0.5, .clip_norm = 1.0};
  CHECK(Step(clip, 0, 1.0) == 0.5);   // min(0.5, 1/1)
  CHECK(Step(clip, 0, 4.0) == 0.25);  // min(0.5, 1/4)
  // 1 / (2 + 1.5 * 3 * 2) = 1/11
  CHECK(Step({.rule = StepRuleKind::kVankov, .l0 = 2.0, .l1 = 3.0}, 0, 2.0) == doctest::Approx(1.0 / 11.0));
  // 0.6 / (2 + 3 * 2) = 0.075
  CHECK(Step({.rule = StepRuleKind::kL0L1Gd, .eta = 0.6, .l0 = 2.0, .l1 = 3.0}, 0, 2.0) == doctest::Approx(0.075));
}

TEST_CASE("l0l1: 2 eps s_k / (a + b n_k) with a and b of docs/theory.md 4.3") {
  // d = 10, N = 4, omega = 3, sigma0^2 = 0.5, sigma1^2 = 0.2, L0 = 2, L1 = 0.5:
  // rho = 1 + (3 + 10 * 0.2 * 4) / 4 = 3.75
  // a = 2 * 3.75 + 0.5 * 10 * 0.5 * 4 / 4 = 10,  b = 0.5 * 3.75 = 1.875
  const StepRunFacts facts{.dimension = 10, .nodes = 4, .omega = 3.0, .sigma0_squared = 0.5, .sigma1_squared = 0.2};
  const StepConfig config{.rule = StepRuleKind::kL0L1, .l0 = 2.0, .l1 = 0.5, .eps = 0.5, .schedule_power = 0.5};
  const L0L1Coefficients c = L0L1StepCoefficients(config.l0, config.l1, facts);
  CHECK(c.a == doctest::Approx(10.0));
  CHECK(c.b == doctest::Approx(1.875));
  // k = 3: s = 1/2; n = 4: 2 * 0.5 * 0.5 / (10 + 7.5) = 1/35
  CHECK(Step(config, 3, 4.0, facts) == doctest::Approx(1.0 / 35.0));
  // L1 = 0 gives a constant step 2 eps / (L0 (1 + omega/N)).
  StepConfig flat = config;
  flat.l1 = 0.0;
  flat.schedule_power = 0.0;
  CHECK(Step(flat, 9, 100.0, {.dimension = 10, .nodes = 4, .omega = 3.0}) == doctest::Approx(1.0 / (2.0 * 1.75)));
}

TEST_CASE("which rules read n_k and L0, L1") {
  CHECK_FALSE(UsesNormEstimate(StepRuleKind::kDecay));
  CHECK(UsesNormEstimate(StepRuleKind::kClip));
  CHECK_FALSE(UsesSmoothness(StepRuleKind::kClip));
  CHECK(UsesSmoothness(StepRuleKind::kL0L1));
}

}  // namespace
}  // namespace edgefl

// The scaling-rule calculator (docs/theory.md 5) on the quickstart's
// settings, where docs/theory.md quotes the closed-form floors.
#include "sim/scaling_rules.h"

#include <doctest/doctest.h>

#include <string>

#include "sim/closed_forms.h"

namespace edgefl {
namespace {

// The quickstart: d = 1000, lambda in [1, 4], N = 8, B = 4, eta = 0.05.
ExperimentConfig Quickstart() {
  ExperimentConfig c;
  c.nodes = 8;
  c.batch_size = 4;
  c.objective.dimension = 1000;
  c.objective.lambda_min = 1.0;
  c.objective.lambda_max = 4.0;
  c.step.eta = 0.05;
  return c;
}

const ScalingProposal& Proposal(const ScalingPlan& plan, const std::string& key) {
  for (const ScalingProposal& p : plan.proposals) {
    if (p.key == key) return p;
  }
  FAIL("no proposal for " << key);
  return plan.proposals.front();
}

TEST_CASE("from DSGD to rand-k with omega = 9: ten times the nodes, the batch, or a tenth of the step") {
  const ExperimentConfig base = Quickstart();
  ExperimentConfig changed = base;
  changed.compressor = {.kind = wire::CompressorKind::RandK, .k = 100};
  ScalingPlan plan;
  REQUIRE(PlanScaling(base, changed, &plan).ok());
  CHECK(plan.ratio == doctest::Approx(10.0));
  CHECK(*plan.base_floor == doctest::Approx(0.4169).epsilon(1e-3));
  CHECK(*plan.changed_floor == doctest::Approx(4.517).epsilon(1e-3));
  REQUIRE(plan.proposals.size() == 3);
  // Solved on the closed form: the step keeps the floor exactly, N and B are
  // the least integers whose floor is at most the base's (the proxy's 0.005,
  // 80 and 40 leave the floor at 0.396, 0.420 and 0.452: the stability
  // factors it leaves out).
  const ScalingProposal& eta = Proposal(plan, "step.eta");
  CHECK(eta.exact);
  CHECK(*eta.floor == doctest::Approx(*plan.base_floor).epsilon(1e-9));
  CHECK(eta.value == doctest::Approx(0.005).epsilon(0.06));
  for (const char* key : {"run.nodes", "noise.batch_size"}) {
    const ScalingProposal& p = Proposal(plan, key);
    CAPTURE(key);
    CHECK(p.exact);
    CHECK(*p.floor <= *plan.base_floor);
    ExperimentConfig one_less = p.config;
    (std::string(key) == "run.nodes" ? one_less.nodes : one_less.batch_size) -= 1;
    CHECK(*PredictedStationaryLoss(one_less) > *plan.base_floor);
    CHECK(p.value == doctest::Approx(std::string(key) == "run.nodes" ? 80 : 40).epsilon(0.1));
  }
  for (const ScalingProposal& p : plan.proposals) CHECK(p.stability < 2.0);
}

TEST_CASE("near the stability limit the closed form, not the proxy: omega 4, N 4 -> 16 takes eta 0.348, not 0.4") {
  // An isotropic quadratic (lambda = 1): the floor is eta (1 + omega) s^2 d /
  // (4 N (1 - eta (1 + omega/N) / 2)); eta 0.1 at N = 4 and eta at N = 16
  // give the same floor at eta = 0.4444 (1 - 0.625 eta), eta = 0.34783.
  ExperimentConfig base;
  base.objective.dimension = 100;
  base.objective.lambda_min = base.objective.lambda_max = 1.0;
  base.step.eta = 0.1;
  base.compressor = {.kind = wire::CompressorKind::Bernoulli, .p = 0.2};  // omega = 4
  ExperimentConfig changed = base;
  changed.nodes = 16;
  ScalingPlan plan;
  REQUIRE(PlanScaling(base, changed, &plan).ok());
  const ScalingProposal& eta = Proposal(plan, "step.eta");
  CHECK(eta.exact);
  CHECK(eta.value == doctest::Approx(0.4444 / 1.27778).epsilon(1e-3));
  CHECK(eta.kept_ratio < 0.9);  // the proxy would have taken eta 0.4
}

TEST_CASE("from a compressed base, the base's own omega counts: omega 9 -> 19 needs about twice the nodes, not 20 times") {
  ExperimentConfig base = Quickstart();
  base.compressor = {.kind = wire::CompressorKind::RandK, .k = 100};
  ExperimentConfig changed = base;
  changed.compressor.k = 50;
  ScalingPlan plan;
  REQUIRE(PlanScaling(base, changed, &plan).ok());
  CHECK(plan.ratio == doctest::Approx(2.0));
  // The proxy's 16 nodes, and one more for the stability factor it leaves out.
  CHECK(Proposal(plan, "run.nodes").value == 17);
  CHECK(*Proposal(plan, "run.nodes").floor <= *plan.base_floor);
}

TEST_CASE("sign: the floor goes with eta s / N, so halving N takes four times the batch") {
  ExperimentConfig base = Quickstart();
  base.compressor.kind = wire::CompressorKind::Sign;
  base.aggregator.kind = AggregatorKind::kSignMean;
  ExperimentConfig changed = base;
  changed.nodes = 4;
  ScalingPlan plan;
  REQUIRE(PlanScaling(base, changed, &plan).ok());
  CHECK(plan.sign);
  CHECK(plan.proposals.size() == 2);  // N was the change
  CHECK(Proposal(plan, "noise.batch_size").value == 16);
  CHECK(Proposal(plan, "step.eta").value == doctest::Approx(0.025));
  CHECK(*Proposal(plan, "step.eta").floor == doctest::Approx(*plan.base_floor));
}

TEST_CASE("a proposal past the stability limit is marked, and so is the bound that then fails") {
  const ExperimentConfig base = Quickstart();
  ExperimentConfig changed = base;
  changed.nodes = 1;
  changed.compressor = {.kind = wire::CompressorKind::RandK, .k = 10};  // omega = 99
  ScalingPlan plan;
  REQUIRE(PlanScaling(base, changed, &plan).ok());
  CHECK(plan.changed_stability > 2.0);
  CHECK(Proposal(plan, "step.eta").stability < 2.0);
  CHECK(Proposal(plan, "noise.batch_size").stability > 2.0);  // a larger batch does not restore stability
  CHECK_FALSE(Proposal(plan, "noise.batch_size").guaranteed);
}

TEST_CASE("what the rules do not cover is refused with the reason") {
  const ExperimentConfig base = Quickstart();
  ExperimentConfig changed = base;
  changed.compressor.kind = wire::CompressorKind::Sign;
  changed.aggregator.kind = AggregatorKind::kSignMean;
  ScalingPlan plan;
  CHECK(std::string(PlanScaling(base, changed, &plan).message()).find("DSignSGD") != std::string::npos);
  changed = base;
  changed.step.rule = StepRuleKind::kDecay;
  CHECK(std::string(PlanScaling(base, changed, &plan).message()).find("constant step") != std::string::npos);
  changed = base;
  changed.compressor.kind = wire::CompressorKind::TopK;
  CHECK(std::string(PlanScaling(base, changed, &plan).message()).find("unbiased") != std::string::npos);
}

}  // namespace
}  // namespace edgefl

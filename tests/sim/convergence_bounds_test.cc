// P1's bounds (docs/theory.md 4.1) for configs: their closed forms, where
// they give no guarantee, and that the forecast stays under them.
#include "sim/convergence_bounds.h"

#include <doctest/doctest.h>

#include <cmath>

#include "maths/compressor_maths.h"
#include "sim/closed_forms.h"
#include "sim/sde_predictor.h"

namespace edgefl {
namespace {

ExperimentConfig Quadratic(double lambda_min, double lambda_max) {
  ExperimentConfig c;
  c.nodes = 4;
  c.rounds = 300;
  c.objective.dimension = 100;
  c.objective.lambda_min = lambda_min;
  c.objective.lambda_max = lambda_max;
  c.step.eta = 0.05;
  return c;
}

TEST_CASE("DCSGD's bound: on an isotropic quadratic it is the exact floor of the discrete iteration") {
  // mu = L = lambda: floor = eta lambda d s^2 (1 + omega) / (4 lambda N A) =
  // sum_j eta (1 + omega) s^2 / (4 N (1 - eta lambda (1 + omega/N) / 2)).
  ExperimentConfig c = Quadratic(2.0, 2.0);
  for (const double p : {1.0, 0.25}) {
    c.compressor = {.kind = p < 1.0 ? wire::CompressorKind::Bernoulli : wire::CompressorKind::Identity, .p = p};
    const auto bound = TheoremBound(c);
    REQUIRE(bound.has_value());
    CHECK(bound->holds);
    CHECK(bound->floor == doctest::Approx(*PredictedStationaryLoss(c)).epsilon(1e-9));
    CHECK(bound->At(50.0, 0) == 50.0);
    CHECK(bound->At(50.0, 1e6) == doctest::Approx(bound->floor));
  }
}

TEST_CASE("DCSGD's bound lies above the exact floor up to the stability limit, and holds nowhere past it") {
  ExperimentConfig c = Quadratic(1.0, 4.0);
  c.compressor = {.kind = wire::CompressorKind::RandK, .k = 20};  // omega = 4, N = 4: eta < 2 / (4 x 2)
  for (const double eta : {0.01, 0.1, 0.2, 0.249}) {
    c.step.eta = eta;
    const auto bound = TheoremBound(c);
    REQUIRE(bound.has_value());
    CHECK(bound->holds);
    CHECK(bound->step_limit == doctest::Approx(0.25));
    CHECK(bound->floor >= *PredictedStationaryLoss(c));
  }
  c.step.eta = 0.25 * 1.01;
  CHECK_FALSE(TheoremBound(c)->holds);
  CHECK(std::isinf(TheoremBound(c)->floor));
  CHECK(std::isinf(TheoremBound(c)->At(1.0, 10)));
}

TEST_CASE("DSignSGD's bound with Gaussian noise is 2 L / mu times the closed-form floor") {
  // floor = eta L d s sqrt(2 pi) / (4 mu N) against d eta s sqrt(pi/2) / (4N).
  ExperimentConfig c = Quadratic(1.0, 3.0);
  c.compressor.kind = wire::CompressorKind::Sign;
  c.aggregator.kind = AggregatorKind::kSignMean;
  const auto bound = TheoremBound(c);
  REQUIRE(bound.has_value());
  CHECK(bound->floor == doctest::Approx(6.0 * *PredictedStationaryLoss(c)).epsilon(1e-6));
  CHECK(std::string(bound->assumption).find("F'(0)") != std::string::npos);
}

TEST_CASE("the forecast stays under the bound, round after round") {
  ExperimentConfig c = Quadratic(1.0, 2.0);
  c.compressor = {.kind = wire::CompressorKind::Bernoulli, .p = 0.5};
  const auto bound = TheoremBound(c);
  REQUIRE(bound.has_value());
  Prediction p;
  PredictOptions options;
  options.paths = 32;
  REQUIRE(PredictLoss(c, options, &p).ok());
  for (uint32_t k = 0; k < c.rounds; k += 10) CHECK(p.mean_loss[k] <= bound->At(p.initial_loss, k + 1));
}

TEST_CASE("the stability limit a diverging forecast names") {
  ExperimentConfig c = Quadratic(1.0, 4.0);
  c.compressor = {.kind = wire::CompressorKind::RandK, .k = 20};  // omega = 4, N = 4
  CHECK(StepSizeLimit(c)->eta == doctest::Approx(2.0 / (4.0 * 2.0)));
  // The quartic of docs/theory.md 4.4, small: x_0 = 2 (|grad f| = 80 at d =
  // 100), omega = 16, N = 8, sigma = 0.1: G = 1 + 3 * 80, rho = 1 + 16/8.
  c = Quadratic(1.0, 1.0);
  c.nodes = 8;
  c.objective.kind = wire::ObjectiveKind::Quartic;
  c.objective.initial_value = 2.0;
  c.noise.sigma = 0.1;
  c.compressor = {.kind = wire::CompressorKind::Bernoulli, .p = 1.0 / 17.0};
  const double omega = CompressorOmega(c.compressor, 100);
  CHECK(StepSizeLimit(c)->eta ==
        doctest::Approx(2.0 / (241.0 * (1.0 + omega / 8) + 3.0 * 100 * 0.01 * (1.0 + omega) / 8)).epsilon(1e-5));
  c.compressor.kind = wire::CompressorKind::Sign;
  c.aggregator.kind = AggregatorKind::kSignMean;
  CHECK_FALSE(StepSizeLimit(c).has_value());  // P2 Thm 4.4: no condition on the step
}

TEST_CASE("no bound where the theorems' assumptions fail") {
  ExperimentConfig c = Quadratic(1.0, 2.0);
  c.objective.kind = wire::ObjectiveKind::Quartic;  // not L-smooth
  CHECK_FALSE(TheoremBound(c).has_value());
  c = Quadratic(1.0, 2.0);
  c.step.rule = StepRuleKind::kDecay;
  CHECK_FALSE(TheoremBound(c).has_value());
  c = Quadratic(1.0, 2.0);
  c.noise = {.kind = wire::NoiseKind::StudentT, .sigma = 1.0, .nu = 2.0};  // infinite variance
  CHECK_FALSE(TheoremBound(c).has_value());
}

}  // namespace
}  // namespace edgefl

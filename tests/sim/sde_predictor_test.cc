// The SDE predictor against the closed forms of docs/theory.md 3.5, its
// stability limit, and its determinism across thread counts.
#include "sim/sde_predictor.h"

#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "maths/synthetic_objective.h"
#include "sim/closed_forms.h"
#include "sim/round_cost.h"

namespace edgefl {
namespace {

// d = 100, lambda = 1, N = 4, eta = 0.1, sigma = 1: DSGD's discrete floor is
// d eta sigma^2 / (2 N (2 - eta lambda)) = 0.6579; the first-order SDE's
// d eta sigma^2 / (4 N) = 0.625.
ExperimentConfig Quadratic() {
  ExperimentConfig c;
  c.nodes = 4;
  c.rounds = 1000;
  c.objective.dimension = 100;
  c.objective.initial_value = 0.0;  // start at the optimum: the floor from round 0
  c.step.eta = 0.1;
  return c;
}

double TailMean(const Prediction& p) {
  const size_t n = p.mean_loss.size();
  return std::accumulate(p.mean_loss.begin() + static_cast<std::ptrdiff_t>(n / 5), p.mean_loss.end(), 0.0) /
         static_cast<double>(n - n / 5);
}

Prediction Predict(const ExperimentConfig& c, SdeDrift drift, uint32_t substeps = 16, uint32_t threads = 2) {
  Prediction p;
  PredictOptions options;
  options.paths = 64;
  options.substeps = substeps;
  options.threads = threads;
  options.drift = drift;
  const Status s = PredictLoss(c, options, &p);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return p;
}

TEST_CASE("the corrected SDE reproduces the discrete DSGD and DCSGD floors; the first-order one its own") {
  // Monte-Carlo error: one round's loss has relative sd sqrt(2/d) = 0.14;
  // 64 paths x ~80 independent stretches of 10 rounds leave ~0.2%, and
  // 16 sub-steps a discretisation error of ~0.5%: checked at 3%.
  ExperimentConfig c = Quadratic();
  std::vector<float> lambda(100, 1.0f);
  CHECK(TailMean(Predict(c, SdeDrift::kCorrected)) ==
        doctest::Approx(StationaryLossDcsgd(lambda, 0.1, 0.0, 1.0, 4)).epsilon(0.03));
  CHECK(TailMean(Predict(c, SdeDrift::kFirstOrder)) == doctest::Approx(100 * 0.1 / 16.0).epsilon(0.03));
  c.compressor = {.kind = wire::CompressorKind::Bernoulli, .p = 0.2};  // omega = 4
  CHECK(TailMean(Predict(c, SdeDrift::kCorrected)) ==
        doctest::Approx(*PredictedStationaryLoss(c)).epsilon(0.04));
  c.compressor = {.kind = wire::CompressorKind::RandK, .k = 20};  // omega = 4, with its negative correlation
  CHECK(TailMean(Predict(c, SdeDrift::kCorrected)) ==
        doctest::Approx(*PredictedStationaryLoss(c)).epsilon(0.04));
}

TEST_CASE("the corrected SDE diverges past the discrete stability limit eta lambda = 2; the first-order one cannot") {
  ExperimentConfig c = Quadratic();
  c.rounds = 300;
  c.objective.initial_value = 1.0;
  c.step.eta = 2.1;
  CHECK(Predict(c, SdeDrift::kCorrected).diverged_at >= 0);
  CHECK(Predict(c, SdeDrift::kFirstOrder).diverged_at == -1);
  c.step.eta = 1.9;
  CHECK(Predict(c, SdeDrift::kCorrected).diverged_at == -1);
}

TEST_CASE("DSignSGD's SDE settles near its closed-form floor") {
  // d eta s / (4 N sqrt(2/pi)) holds for a small signal-to-noise ratio: 10%.
  ExperimentConfig c = Quadratic();
  c.compressor.kind = wire::CompressorKind::Sign;
  c.aggregator.kind = AggregatorKind::kSignMean;
  c.step.eta = 0.01;
  c.rounds = 4000;
  CHECK(TailMean(Predict(c, SdeDrift::kFirstOrder, 2)) == doctest::Approx(*PredictedStationaryLoss(c)).epsilon(0.10));
}

TEST_CASE("the forecast is the same bit for bit whatever the thread count") {
  ExperimentConfig c = Quadratic();
  c.rounds = 100;
  c.compressor = {.kind = wire::CompressorKind::Qsgd, .levels = 2};
  const Prediction one = Predict(c, SdeDrift::kCorrected, 2, 1);
  const Prediction three = Predict(c, SdeDrift::kCorrected, 2, 3);
  CHECK(one.mean_loss == three.mean_loss);
  CHECK(one.high_loss == three.high_loss);
}

TEST_CASE("the biased compressors' models: a one-node vote is a mean of signs; error feedback is DSGD's SDE") {
  ExperimentConfig c = Quadratic();
  c.rounds = 50;
  c.objective.initial_value = 1.0;
  c.nodes = 1;
  c.compressor.kind = wire::CompressorKind::Sign;
  c.aggregator.kind = AggregatorKind::kSignMean;
  const Prediction mean = Predict(c, SdeDrift::kFirstOrder, 2);
  c.aggregator.kind = AggregatorKind::kMajority;  // one vote: P(S > 0) = F(g / s)
  const Prediction vote = Predict(c, SdeDrift::kFirstOrder, 2);
  for (size_t k = 0; k < c.rounds; ++k) CHECK(vote.mean_loss[k] == doctest::Approx(mean.mean_loss[k]).epsilon(1e-4));
  CHECK(std::string(vote.approximation).find("vote") != std::string::npos);
  c.nodes = 7;  // seven votes are surer than one: a lower floor than one node's
  CHECK(TailMean(Predict(c, SdeDrift::kFirstOrder, 2)) < TailMean(mean));

  c = Quadratic();
  c.rounds = 50;
  const Prediction dense = Predict(c, SdeDrift::kCorrected, 2);
  c.compressor = {.kind = wire::CompressorKind::TopK, .k = 10};
  const Prediction top_k = Predict(c, SdeDrift::kCorrected, 2);
  CHECK(top_k.mean_loss == dense.mean_loss);
  CHECK(std::string(top_k.approximation).find("virtual iterate") != std::string::npos);
}

TEST_CASE("a data objective's forecast uses the data's own noise, and is the same whatever the thread count") {
  // The digits data set (scripts/setup.sh installs it), 4 nodes, softmax
  // regression: the loss falls from ln 10 = 2.30 at zero weights.
  ExperimentConfig c;
  c.nodes = 4;
  c.rounds = 12;
  c.objective.kind = wire::ObjectiveKind::Logistic;
  std::snprintf(c.objective.dataset, sizeof(c.objective.dataset), "digits");
  c.noise.kind = wire::NoiseKind::None;
  c.batch_size = 16;
  c.step.eta = 0.5;
  c.compressor = {.kind = wire::CompressorKind::Qsgd, .levels = 4};
  const Prediction one = Predict(c, SdeDrift::kFirstOrder, 2, 1);
  const Prediction two = Predict(c, SdeDrift::kFirstOrder, 2, 2);
  CHECK(one.mean_loss == two.mean_loss);
  CHECK(one.initial_loss == doctest::Approx(std::log(10.0)).epsilon(1e-4));
  CHECK(one.mean_loss.back() < 0.7 * one.initial_loss);
  CHECK(one.low_loss.back() < one.high_loss.back());  // the paths differ: the noise is there
  CHECK(std::string(one.model).find("minibatch") != std::string::npos);
}

TEST_CASE("server momentum: one step a round is the heavy-ball iteration; fine steps its continuous limit") {
  // Heavy ball m' = beta m + d, x' = x - eta m' on lambda = 1, per coordinate:
  // E x^2 = eta (s^2/N) (1 + beta) / (lambda (1 - beta) (2 (1 + beta) - eta lambda)),
  // whose continuous limit drops the eta lambda. Loss = d lambda E x^2 / 2.
  ExperimentConfig c = Quadratic();  // d = 100, N = 4, eta = 0.1, sigma = 1, from the optimum
  c.server.optimizer = ServerOptimizerKind::kMomentum;
  c.server.momentum = 0.5;
  const double discrete = 100 * 0.5 * 0.1 * 0.25 * 1.5 / (0.5 * (3.0 - 0.1));
  const double continuous = 100 * 0.5 * 0.1 * 0.25 * 1.5 / (0.5 * 3.0);
  CHECK(TailMean(Predict(c, SdeDrift::kFirstOrder, 1)) == doctest::Approx(discrete).epsilon(0.02));
  CHECK(TailMean(Predict(c, SdeDrift::kFirstOrder, 16)) == doctest::Approx(continuous).epsilon(0.02));
  c.server.optimizer = ServerOptimizerKind::kAdam;
  Prediction p;
  CHECK(std::string(PredictLoss(c, {}, &p).message()).find("adaptive") != std::string::npos);
}

TEST_CASE("a round's cost: the wire's exact bytes over the link, latency and compute") {
  ExperimentConfig c;
  c.objective.dimension = 1000;
  CHECK(std::isnan(RoundCostOf(c).seconds));  // no [link]: no time
  c.link = {.preset = LinkPreset::kLteM, .latency_ms = 50.0, .compute_ms = 2.0};
  const RoundCost cost = RoundCostOf(c);
  CHECK(cost.up_bytes == 4120.0);    // docs/protocol.md 8: identity at d = 1000
  CHECK(cost.down_bytes == 4060.0);  // a RoundStart of 1000 values
  CHECK(cost.uplink_bps == 0.69e6);
  CHECK(cost.downlink_bps == 0.69e6);
  CHECK(cost.seconds == doctest::Approx(0.1 + 0.002 + 8.0 * (4060 + 4120) / 0.69e6));
  c.compressor = {.kind = wire::CompressorKind::Sign};
  c.link.downlink_bps = 10e6;
  CHECK(RoundCostOf(c).up_bytes == 256.0);
  CHECK(RoundCostOf(c).seconds == doctest::Approx(0.102 + 8.0 * 4060 / 10e6 + 8.0 * 256 / 0.69e6));
}

TEST_CASE("E local sgd steps on the quadratic: the forecast settles at their closed form") {
  // One exact linear step a round (sim/local_steps.h): 64 paths of 1000
  // rounds, the tail's mean within 3% of docs/theory.md 6.1's floor.
  ExperimentConfig c = Quadratic();
  c.objective.lambda_max = 4.0;
  c.local.steps = 5;
  c.local.lr = 0.05;
  c.step.eta = 0.05;
  Prediction p;
  PredictOptions options;
  options.paths = 64;
  options.threads = 2;
  REQUIRE(PredictLoss(c, options, &p).ok());
  CHECK(std::string(p.model).find("local sgd") != std::string::npos);
  std::vector<float> lambda(100);
  FillSpectrum(c.objective, lambda);
  const double floor = StationaryLossLocalSgd(lambda, 0.05, c.local, 1.0, 4);
  CHECK(PredictedStationaryLoss(c).value() == doctest::Approx(floor).epsilon(1e-12));
  CHECK(TailMean(p) == doctest::Approx(floor).epsilon(0.03));
}

TEST_CASE("what the predictor does not model yet is refused with a reason") {
  ExperimentConfig c = Quadratic();
  c.server.optimizer = ServerOptimizerKind::kAdam;
  Prediction p;
  CHECK(std::string(PredictLoss(c, {}, &p).message()).find("adaptive server optimisers") != std::string::npos);
  c = Quadratic();
  c.noise = {.kind = wire::NoiseKind::StudentT, .sigma = 1.0, .nu = 1.5};
  CHECK(std::string(PredictLoss(c, {}, &p).message()).find("infinite variance") != std::string::npos);
  // Local training it does not model: adam (a sign-like direction), FedProx,
  // local steps beside a compressor.
  c = Quadratic();
  c.local.optimizer = wire::LocalOptimizer::Adam;
  CHECK(std::string(PredictLoss(c, {}, &p).message()).find("\"adam\"") != std::string::npos);
  c = Quadratic();
  c.local.steps = 5;
  c.local.prox_mu = 0.1;
  CHECK(std::string(PredictLoss(c, {}, &p).message()).find("FedProx") != std::string::npos);
  c.local.prox_mu = 0.0;
  c.compressor = {.kind = wire::CompressorKind::Qsgd, .levels = 4};
  CHECK(std::string(PredictLoss(c, {}, &p).message()).find("local steps with a compressor") != std::string::npos);
  // Clipping alone, and central DP.
  c = Quadratic();
  c.privacy.clip_norm = 1.0;
  CHECK(std::string(PredictLoss(c, {}, &p).message()).find("does not model privacy") != std::string::npos);
  c.privacy = {.mode = PrivacyMode::kCentral, .clip_norm = 1.0, .noise_multiplier = 1.0, .delta = 1e-5};
  CHECK(std::string(PredictLoss(c, {}, &p).message()).find("does not model privacy") != std::string::npos);
}

}  // namespace
}  // namespace edgefl

// The forecast's discrete model (sim/discrete_round.h): its binomials, its
// aggregate's first two moments against the compressors' exact ones, and
// its stationary loss against the iteration's closed form near the limit.
#include "sim/discrete_round.h"

#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "sim/agreement.h"
#include "sim/closed_forms.h"
#include "sim/sde_predictor.h"

namespace edgefl {
namespace {

TEST_CASE("binomials: exact below a mean of 50 and normal above, each with its mean and variance") {
  Rng rng(3);
  struct Case {
    uint32_t n;
    double p;
  };
  for (const Case c : {Case{4, 0.2}, Case{16, 0.9}, Case{300, 0.05}, Case{4096, 0.5}, Case{40, 0.0}, Case{40, 1.0}}) {
    CAPTURE(c.n);
    CAPTURE(c.p);
    constexpr int kDraws = 20000;
    double sum = 0.0, squares = 0.0;
    for (int i = 0; i < kDraws; ++i) {
      const double x = DrawBinomial(rng, c.n, c.p);
      REQUIRE(x <= c.n);
      sum += x;
      squares += x * x;
    }
    const double mean = sum / kDraws, variance = squares / kDraws - mean * mean;
    const double want_mean = c.n * c.p, want_variance = c.n * c.p * (1.0 - c.p);
    // The mean within 5 standard errors; the variance within 5 of its own
    // (about var sqrt(2 / draws) for these near-normal counts) and 2%.
    CHECK(std::abs(mean - want_mean) <= 5.0 * std::sqrt(want_variance / kDraws) + 1e-12);
    CHECK(std::abs(variance - want_variance) <= 5.0 * want_variance * std::sqrt(2.0 / kDraws) + 0.02 * want_variance + 1e-12);
  }
}

TEST_CASE("the aggregate: mean g, and the compressor's variance (omega g^2 + (1 + omega) s^2) / m") {
  for (const wire::CompressorKind kind :
       {wire::CompressorKind::Identity, wire::CompressorKind::Bernoulli, wire::CompressorKind::RandK}) {
    CAPTURE(static_cast<int>(kind));
    ExperimentConfig c;
    c.objective.dimension = 50;
    c.noise.sigma = 0.5;
    c.compressor = {.kind = kind, .k = 10, .p = 0.2};  // omega = 4 for both
    const double omega = kind == wire::CompressorKind::Identity ? 0.0 : 4.0;
    REQUIRE(DiscreteAggregate::Unsupported(c) == nullptr);
    const DiscreteAggregate aggregate(c);
    const uint32_t m = 3;
    std::vector<float> g(50), z(50), out(50);
    std::vector<uint32_t> counts(50), marks(50);
    for (uint32_t j = 0; j < 50; ++j) g[j] = 0.1f * static_cast<float>(j % 7) - 0.3f;
    Rng rng(9);
    constexpr int kDraws = 20000;
    std::vector<double> sum(50, 0.0), squares(50, 0.0);
    for (int i = 0; i < kDraws; ++i) {
      for (float& v : z) v = static_cast<float>(rng.Normal());
      aggregate.Draw(g, m, z, rng, counts, marks, out);
      for (uint32_t j = 0; j < 50; ++j) {
        sum[j] += out[j];
        squares[j] += double{out[j]} * out[j];
      }
    }
    for (uint32_t j = 0; j < 50; j += 7) {
      const double want = (omega * g[j] * g[j] + (1.0 + omega) * 0.25) / m;
      const double mean = sum[j] / kDraws, variance = squares[j] / kDraws - mean * mean;
      CHECK(std::abs(mean - g[j]) <= 5.0 * std::sqrt(want / kDraws));
      // A Bernoulli-scaled aggregate's fourth moment is large: 10% holds it at 20000 draws.
      CHECK(variance == doctest::Approx(want).epsilon(0.10));
    }
  }
}

TEST_CASE("near the stability limit the discrete model settles at the iteration's closed form, and auto takes it there only") {
  // f = 1/2 |x|^2, d = 100, bernoulli omega = 16, N = 4: the limit is 0.4,
  // and eta = 0.36 is 90% of it.
  ExperimentConfig c;
  c.nodes = 4;
  c.rounds = 3000;
  c.objective.dimension = 100;
  c.objective.lambda_min = c.objective.lambda_max = 1.0;
  c.compressor = {.kind = wire::CompressorKind::Bernoulli, .p = 1.0 / 17.0};
  c.step.eta = 0.36;
  const double exact = *PredictedStationaryLoss(c);  // 382.5
  CHECK(exact == doctest::Approx(0.36 * 17 * 100 / (16 * 0.1)));
  CHECK(DiscreteReason(c).find("90% of the stability limit") != std::string::npos);
  PredictOptions options;
  options.paths = 64;
  options.threads = 2;
  Prediction p;
  REQUIRE(PredictLoss(c, options, &p).ok());
  CHECK(!p.why_discrete.empty());
  MESSAGE("discrete: " << p.tail_mean << " +- " << p.tail_error << " (" << p.diverged_paths << " diverged) against "
                       << exact);
  CHECK(p.diverged_paths == 0);
  CHECK(std::abs(p.tail_mean - exact) < 4.0 * p.tail_error + 0.03 * exact);

  // Far from the limit (eta 0.1: 25% of it) auto keeps the SDE.
  c.step.eta = 0.1;
  CHECK(DiscreteReason(c).empty());
  // The quartic with compression: always the iteration.
  c.objective.kind = wire::ObjectiveKind::Quartic;
  CHECK(DiscreteReason(c).find("quartic") != std::string::npos);
  // Asked for where it does not apply: refused, with the reason.
  c.compressor = {.kind = wire::CompressorKind::Qsgd, .levels = 4};
  options.model = PathModel::kDiscrete;
  const Status refused = PredictLoss(c, options, &p);
  CHECK(std::string(refused.message()).find("--model discrete does not model this compressor") != std::string::npos);
}

TEST_CASE("metastable paths: some diverge, the rest settle; the means are the settled ones', the verdict theirs") {
  // The quartic (lambda from 1 to 2), d = 200, bernoulli omega 4, sigma 2, eta 0.1: runs settle
  // near 14.7, and now and then one escapes and blows up.
  ExperimentConfig c;
  c.nodes = 4;
  c.rounds = 3000;
  c.objective = {.kind = wire::ObjectiveKind::Quartic, .dimension = 200, .lambda_max = 2.0, .initial_value = 1.0};
  c.noise.sigma = 2.0;
  c.compressor = {.kind = wire::CompressorKind::Bernoulli, .p = 0.2};
  c.step.eta = 0.1;
  PredictOptions options;
  options.paths = 64;
  options.threads = 2;
  Prediction p;
  REQUIRE(PredictLoss(c, options, &p).ok());
  MESSAGE(p.diverged_paths << " of 64 diverged; settled tail " << p.tail_mean << " +- " << p.tail_error);
  CHECK(p.diverged_paths > 0);
  CHECK(2 * p.diverged_paths < 64);
  CHECK(p.first_diverged_at >= 0);
  CHECK(p.diverged_fraction.back() == doctest::Approx(p.diverged_paths / 64.0));
  for (const double loss : p.mean_loss) REQUIRE(std::isfinite(loss));
  // Not "diverges" for a minority of paths, and the curve is the settled
  // paths': its tail is theirs.
  CHECK(ClassifyLosses(p.initial_loss, p.mean_loss, p.diverged_at) == RunVerdict::kConverges);
  CHECK(MeasuredStationaryLoss(p.mean_loss).mean == doctest::Approx(p.tail_mean).epsilon(0.02));
  CHECK(p.tail_mean == doctest::Approx(14.66).epsilon(0.05));  // three seeds of real runs (docs/validation.md)
}

}  // namespace
}  // namespace edgefl

#include "sim/closed_forms.h"

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "core/rng.h"

namespace edgefl {
namespace {

TEST_CASE("closed forms reduce to docs/theory.md 3.5 on an isotropic quadratic") {
  const std::vector<float> lambda(100, 1.0f);
  // discrete DSGD: d eta sigma^2 / (2 N B (2 - eta lambda))
  CHECK(StationaryLossDcsgd(lambda, 0.1, 0.0, 1.0, 4) == doctest::Approx(100 * 0.1 / (2 * 4 * 1.9)));
  // DCSGD: d eta sigma^2 (1+omega) / (4 N B (1 - (eta lambda / 2)(1 + omega/N)))
  CHECK(StationaryLossDcsgd(lambda, 0.1, 4.0, 2.0 * 2.0 / 2, 4) ==
        doctest::Approx(100 * 0.1 * 4.0 * 5.0 / (4 * 4 * 2 * (1 - 0.05 * 2.0))));
  // unstable past eta = 2 / (lambda (1 + omega/N))
  CHECK(std::isinf(StationaryLossDcsgd(lambda, 1.0, 4.0, 1.0, 4)));
  CHECK(StationaryLossSignSgd(100, 0.01, 1.0, 4) == doctest::Approx(100 * 0.01 / (16 * std::sqrt(2 / std::numbers::pi))));
}

TEST_CASE("the DSGD closed form matches a direct simulation of the iteration") {
  // d = 100, N = 4, eta = 0.1, lambda = 1, sigma = 1: docs/theory.md 3.5 reports
  // agreement within 0.5% over 2e5 steps; 4e4 steps after burn-in keep the
  // estimate's relative error near 1%, checked at 5%.
  constexpr int d = 100, nodes = 4, steps = 40000, burn_in = 2000;
  const double eta = 0.1;
  Rng rng(77);
  std::vector<double> x(d, 1.0);
  double loss_sum = 0;
  for (int t = 0; t < steps + burn_in; ++t) {
    double loss = 0;
    for (int j = 0; j < d; ++j) {
      double noise = 0;
      for (int i = 0; i < nodes; ++i) noise += rng.Normal();
      x[j] -= eta * (x[j] + noise / nodes);
      loss += 0.5 * x[j] * x[j];
    }
    if (t >= burn_in) loss_sum += loss;
  }
  const std::vector<float> lambda(d, 1.0f);
  CHECK(loss_sum / steps == doctest::Approx(StationaryLossDcsgd(lambda, eta, 0.0, 1.0, nodes)).epsilon(0.05));
}

TEST_CASE("E local sgd steps: one step of sgd at E = 1, and the closed form of a direct simulation of the nodes") {
  codec::LocalSpec local;
  local.lr = 0.05;
  // E = 1 is the plain gradient: DSGD's closed form.
  std::vector<float> lambda(64);
  for (size_t j = 0; j < lambda.size(); ++j) lambda[j] = 1.0f + 3.0f * static_cast<float>(j) / 63.0f;
  CHECK(StationaryLossLocalSgd(lambda, 0.1, local, 0.25, 8) ==
        doctest::Approx(StationaryLossDcsgd(lambda, 0.1, 0.0, 0.25, 8)).epsilon(1e-12));
  // E = 5, lr = 0.05, eta = 0.05 on lambda in [1, 4], sigma^2/B = 1/4, N = 4:
  // every node takes its five noisy steps from the round's x, sends
  // (x_0 - x_E)/lr, and x moves by eta times their mean. 3e4 rounds after
  // burn-in: the estimate's relative error is near 1%, checked at 5%.
  local.steps = 5;
  constexpr int d = 64, nodes = 4, rounds = 30000, burn_in = 1000;
  const double eta = 0.05, lr = 0.05, deviation = 0.5;
  Rng rng(91);
  std::vector<double> x(d, 1.0);
  double loss_sum = 0.0;
  for (int k = 0; k < rounds + burn_in; ++k) {
    double loss = 0.0;
    for (int j = 0; j < d; ++j) {
      double mean_delta = 0.0;
      for (int i = 0; i < nodes; ++i) {
        double local_x = x[j];
        for (uint32_t t = 0; t < local.steps; ++t) local_x -= lr * (lambda[j] * local_x + deviation * rng.Normal());
        mean_delta += (x[j] - local_x) / lr / nodes;
      }
      x[j] -= eta * mean_delta;
      loss += 0.5 * lambda[j] * x[j] * x[j];
    }
    if (k >= burn_in) loss_sum += loss;
  }
  const double closed = StationaryLossLocalSgd(lambda, eta, local, deviation * deviation, nodes);
  MESSAGE("E = 5 local sgd: simulated " << loss_sum / rounds << ", closed form " << closed);
  CHECK(loss_sum / rounds == doctest::Approx(closed).epsilon(0.05));
  // Unstable once eta gain reaches 2: at lambda = 4, r = 0.8 and the gain is
  // (1 - 0.8^5)/0.05 = 13.4, so past eta = 0.149.
  CHECK(std::isfinite(StationaryLossLocalSgd(lambda, 0.148, local, 0.25, 4)));
  CHECK(std::isinf(StationaryLossLocalSgd(lambda, 0.15, local, 0.25, 4)));
}

}  // namespace
}  // namespace edgefl

// How a forecast is compared with its run: the verdict rule and the
// stationary loss's Monte-Carlo error.
#include "sim/agreement.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"

namespace edgefl {
namespace {

TEST_CASE("verdicts: diverges when the test fired, converges below half the loss at x_0, stalls otherwise") {
  const std::vector<double> falling = {50, 20, 10, 5, 4, 4};
  CHECK(ClassifyLosses(100, falling, -1) == RunVerdict::kConverges);
  CHECK(ClassifyLosses(6, falling, -1) == RunVerdict::kStalls);
  CHECK(ClassifyLosses(100, falling, 3) == RunVerdict::kDiverges);
  const std::vector<double> blown = {1, 2, std::numeric_limits<double>::infinity(), 1};
  CHECK(ClassifyLosses(100, blown, -1) == RunVerdict::kDiverges);
}

TEST_CASE("the stationary loss's batch-means error matches sd / sqrt(n) on independent draws") {
  // 20000 draws of mean 2 and sd 1: the tail (10000) has a standard error of
  // 0.01; ten batch means estimate it with a relative spread of about 1/sqrt(18).
  Rng rng;
  rng.Seed(11);
  std::vector<double> losses(20000);
  for (double& v : losses) v = 2.0 + rng.Normal();
  const StationaryLoss s = MeasuredStationaryLoss(losses);
  CHECK(s.mean == doctest::Approx(2.0).epsilon(0.02));
  CHECK(s.error == doctest::Approx(0.01).epsilon(0.6));
}

TEST_CASE("Compare: relative error and its sigma, verdicts over the rounds the run made") {
  Prediction p;
  p.initial_loss = 100;
  p.mean_loss.assign(40, 10.0);
  p.mean_loss[0] = 50;
  p.tail_mean = 10.0;
  p.tail_error = 0.3;
  p.diverged_at = 30;  // past the run's 20 rounds: it does not count
  std::vector<double> losses(20, 8.0);
  for (size_t k = 10; k < 20; ++k) losses[k] = k % 2 ? 7.6 : 8.4;
  const Agreement a = Compare(100, losses, -1, p);
  CHECK(a.measured_verdict == RunVerdict::kConverges);
  CHECK(a.predicted_verdict == RunVerdict::kConverges);
  CHECK(a.verdict_agrees());
  CHECK(a.measured.mean == doctest::Approx(8.0));
  CHECK(a.predicted.mean == doctest::Approx(10.0));  // the mean curve's tail over the same 20 rounds
  CHECK(a.relative_error == doctest::Approx(0.25));
  CHECK(a.relative_error_sigma > 0.0);
}

}  // namespace
}  // namespace edgefl

#include "sim/agreement.h"

#include <cmath>
#include <limits>

namespace edgefl {

const char* RunVerdictName(RunVerdict verdict) {
  switch (verdict) {
    case RunVerdict::kConverges:
      return "converges";
    case RunVerdict::kStalls:
      return "stalls";
    case RunVerdict::kDiverges:
      return "diverges";
  }
  return "unknown";
}

RunVerdict ClassifyLosses(double initial_loss, std::span<const double> losses, int64_t diverged_at) {
  if (diverged_at >= 0) return RunVerdict::kDiverges;
  if (losses.empty()) return RunVerdict::kStalls;
  const double tail = MeasuredStationaryLoss(losses).mean;
  if (!std::isfinite(tail)) return RunVerdict::kDiverges;
  return tail < 0.5 * initial_loss ? RunVerdict::kConverges : RunVerdict::kStalls;
}

StationaryLoss MeasuredStationaryLoss(std::span<const double> losses) {
  StationaryLoss out;
  const size_t start = losses.size() / 2, n = losses.size() - start;
  if (n == 0) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  double sum = 0.0;
  for (size_t k = start; k < losses.size(); ++k) sum += losses[k];
  out.mean = sum / static_cast<double>(n);
  constexpr size_t kBatches = 10;
  if (n < kBatches || !std::isfinite(out.mean)) {
    out.error = std::numeric_limits<double>::infinity();
    return out;
  }
  // Batch b holds rounds [start + b n / 10, start + (b + 1) n / 10).
  double squares = 0.0;
  for (size_t b = 0; b < kBatches; ++b) {
    const size_t from = start + b * n / kBatches, to = start + (b + 1) * n / kBatches;
    double batch = 0.0;
    for (size_t k = from; k < to; ++k) batch += losses[k];
    batch /= static_cast<double>(to - from);
    squares += (batch - out.mean) * (batch - out.mean);
  }
  out.error = std::sqrt(squares / (kBatches - 1) / kBatches);
  return out;
}

Agreement Compare(double initial_loss, std::span<const double> losses, int64_t diverged_at,
                  const Prediction& prediction) {
  Agreement a;
  a.measured_verdict = ClassifyLosses(initial_loss, losses, diverged_at);
  // The prediction over the rounds the run made (a run can stop early).
  const size_t rounds = std::min(losses.size(), prediction.mean_loss.size());
  const std::span<const double> predicted(prediction.mean_loss.data(), rounds);
  a.predicted_verdict = ClassifyLosses(prediction.initial_loss, predicted, prediction.diverged_at >= 0 &&
                                                          static_cast<size_t>(prediction.diverged_at) < rounds
                                                      ? prediction.diverged_at
                                                      : -1);
  a.measured = MeasuredStationaryLoss(losses);
  if (rounds == prediction.mean_loss.size()) {
    a.predicted = {prediction.tail_mean, prediction.tail_error};
  } else {
    a.predicted = MeasuredStationaryLoss(predicted);  // the per-path spread is only kept for all rounds
  }
  a.relative_error = a.predicted.mean / a.measured.mean - 1.0;
  a.relative_error_sigma =
      std::sqrt(a.measured.error * a.measured.error + a.predicted.error * a.predicted.error) / a.measured.mean;
  return a;
}

TimeAgreement CompareTime(std::span<const double> time_s, std::span<const double> losses, double target_loss,
                          double seconds_per_round, const Prediction& prediction) {
  TimeAgreement t;
  if (time_s.empty() || !std::isfinite(seconds_per_round)) return t;
  t.compared = true;
  const auto rounds = static_cast<double>(time_s.size());
  t.measured_seconds_per_round = time_s.back() / rounds;
  t.predicted_seconds_per_round = seconds_per_round;
  t.relative_error = seconds_per_round / t.measured_seconds_per_round - 1.0;
  t.target_reached = target_loss > 0.0 && !losses.empty() && losses.back() <= target_loss;
  if (t.target_reached) {
    t.measured_rounds_to_target = rounds;
    t.measured_seconds_to_target = time_s.back();
    t.predicted_rounds_to_target = prediction.target_rounds;
    t.predicted_seconds_to_target = prediction.target_seconds;
    t.target_relative_error = t.predicted_seconds_to_target / t.measured_seconds_to_target - 1.0;
  }
  return t;
}

}  // namespace edgefl

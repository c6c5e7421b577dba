// Agreement: how a forecast (sim/sde_predictor.h) compares with the run it
// forecast. Both sides are classified by one rule, and their stationary
// losses compared with the Monte-Carlo error of each:
//   verdict: diverges (the run's divergence test fired), converges (mean
//     loss over the last half of the rounds below half the loss at x_0), or
//     stalls (otherwise);
//   stationary loss: the mean loss over the last half of the rounds; the
//     measured one's standard error from 10 batch means of that half (rounds
//     close together are correlated, batches far apart nearly not), the
//     predicted one's from the spread over paths;
//   relative error = predicted / measured - 1, with the combined standard
//     error sqrt(se_m^2 + se_p^2) / measured;
//   time: the run's seconds a round (metrics.csv's time_s at its last round
//     over its rounds) against the forecast's expected round length
//     (sim/round_cost.h), and, when the run stopped at run.target_loss, its
//     rounds and seconds to it against the paths' mean first passage.
// Pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "sim/sde_predictor.h"

namespace edgefl {

enum class RunVerdict : uint8_t { kConverges, kStalls, kDiverges };
const char* RunVerdictName(RunVerdict verdict);

// The verdict on a loss curve from `initial_loss` (at x_0); `diverged_at` >=
// 0 when the divergence test fired.
RunVerdict ClassifyLosses(double initial_loss, std::span<const double> losses, int64_t diverged_at);

struct StationaryLoss {
  double mean = 0.0;
  double error = 0.0;  // standard error of the mean
};
// Over the last half of `losses` (rounds up: one round counts).
StationaryLoss MeasuredStationaryLoss(std::span<const double> losses);

struct Agreement {
  RunVerdict measured_verdict = RunVerdict::kStalls;
  RunVerdict predicted_verdict = RunVerdict::kStalls;
  StationaryLoss measured, predicted;
  double relative_error = 0.0;        // predicted / measured - 1
  double relative_error_sigma = 0.0;  // its Monte-Carlo standard error
  bool verdict_agrees() const { return measured_verdict == predicted_verdict; }
};

// `losses` the run's per-round losses (metrics.csv), `initial_loss` and
// `diverged_at` its summary's; the prediction over the same rounds.
Agreement Compare(double initial_loss, std::span<const double> losses, int64_t diverged_at,
                  const Prediction& prediction);

struct TimeAgreement {
  bool compared = false;  // the forecast has a time ([link] bandwidth) and the run a time_s
  double measured_seconds_per_round = 0.0;
  double predicted_seconds_per_round = 0.0;
  double relative_error = 0.0;  // predicted / measured - 1
  bool target_reached = false;  // the run's loss reached run.target_loss (it stops there)
  double measured_rounds_to_target = 0.0, measured_seconds_to_target = 0.0;
  double predicted_rounds_to_target = 0.0, predicted_seconds_to_target = 0.0;  // NaN: no path reached it
  double target_relative_error = 0.0;  // of the seconds
};

// `time_s` and `losses` the run's metrics.csv columns; `seconds_per_round`
// the forecast's round length (NaN without a [link] bandwidth).
TimeAgreement CompareTime(std::span<const double> time_s, std::span<const double> losses, double target_loss,
                          double seconds_per_round, const Prediction& prediction);

}  // namespace edgefl

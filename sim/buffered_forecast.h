// PredictBuffered: edgefl predict for buffered runs (async.mode = "buffered",
// docs/theory.md 7.3), as the iteration itself with its delays. On the
// virtual clock the schedule follows from the links alone
// (experiment/buffered_schedule.h): which version each of a step's K updates
// was computed on, and when the step ends. Each path then steps
//   x_{k+1} = x_k - eta_k (1 / (Q K)) sum_i W_i (Lambda x_{k - s_i} + xi_i),
// W_i the integer staleness weights the coordinator counts
// (experiment/staleness_weight.h), xi_i ~ N(0, sigma^2 / B) per coordinate
// and update, independent: together sqrt(sum_i W_i^2) sigma / sqrt(B) per
// coordinate. On the quadratic with dense updates and Gaussian noise that is
// the run's iteration, exactly in distribution. An unbiased compressor C
// adds to each update, about its noisy gradient v_i, Gaussian noise of C's
// exact variances given v_i (maths/compressor_maths.h): the expected loss
// of a diagonal quadratic depends on the updates' first two moments only, so
// it stays exact, the spread's shape approximate (rand-k's correlation
// between coordinates does not reach the loss). ChooseForecastModel
// (sim/forecast_model.h) refuses buffered configs it does not fit.
#pragma once

#include "core/status.h"
#include "experiment/experiment_config.h"
#include "sim/sde_predictor.h"

namespace edgefl {

Status PredictBuffered(const ExperimentConfig& config, const PredictOptions& options, Prediction* out);

}  // namespace edgefl

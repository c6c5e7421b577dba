// RunPaths: a forecast's paths on threads, then their summary into a
// Prediction: the means over the paths still finite, the 10% and 90%
// quantiles, the fraction diverged by each round, each path's tail mean and
// the first passages to run.target_loss. Path p runs on thread p % threads
// and its numbers depend on p alone, so a forecast is the same bit for bit
// whatever the thread count. Shared by the synthetic objectives' simulator
// (sde_predictor.cc) and the data objectives' (data_forecast.h).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "experiment/experiment_config.h"
#include "sim/sde_predictor.h"

namespace edgefl {

// One path's figures after each round: its loss, gradient norm, step size
// and the round's length as its cohort drew it.
struct PathSpans {
  std::span<double> losses, grad_norms, steps, seconds;
};

// Streams of path p, by purpose: the increments, scaled-sign's noisy
// gradient, and the cohorts.
constexpr uint64_t kIncrementStream = 0x5DE, kNoisyGradientStream = 0x5DF, kCohortStream = 0x5E0;

// Runs `run_path(p, spans)` for every path, and summarises the paths into *out.
using RunPath = std::function<void(uint32_t path, const PathSpans& spans)>;
void RunPaths(const ExperimentConfig& config, const PredictOptions& options, const RunPath& run_path,
              Prediction* out);

}  // namespace edgefl

// Closed-form stationary losses of the discrete iterations on a diagonal
// quadratic f = 1/2 sum_j lambda_j x_j^2 with Gaussian noise of variance
// s^2 = sigma^2/B per coordinate (docs/theory.md 3.5, per coordinate and
// summed, so any spectrum works). s and s^2 come from the noise model
// (maths/gradient_noise.h), omega from the compressor's (maths/compressor_maths.h). They are what a run's loss settles around, and
// what the SDE predictor and tests measure against.
#pragma once

#include <optional>
#include <span>

#include "experiment/experiment_config.h"

namespace edgefl {

// DCSGD with a compressor whose marginal is Bernoulli-like (identity:
// omega = 0, bernoulli: 1/p - 1, rand-k: d/k - 1):
//   E f_j = eta (1 + omega) s^2 / (4 N (1 - eta lambda_j (1 + omega/N) / 2)),
// finite iff eta lambda_j (1 + omega/N) < 2 for every j.
double StationaryLossDcsgd(std::span<const float> lambda, double eta, double omega, double noise_variance,
                           uint32_t nodes);

// E local sgd steps of size local.lr a round, dense updates (docs/theory.md
// 6.1; sim/local_steps.h): each coordinate is the AR(1) x <- (1 - eta gain) x
// - eta xi with Var xi = V/N, so E f = sum_j lambda_j eta V_j / (2 N gain_j
// (2 - eta gain_j)); infinity unless 0 < eta gain_j < 2 for every j.
double StationaryLossLocalSgd(std::span<const float> lambda, double eta, const codec::LocalSpec& local,
                              double noise_variance, uint32_t nodes);

// DSignSGD, mean of signs, small signal-to-noise (docs/theory.md 3.5):
//   E f = d eta s / (4 N sqrt(2/pi)), whatever the spectrum.
double StationaryLossSignSgd(uint32_t dimension, double eta, double noise_scale, uint32_t nodes);

// The stationary loss of a config when a closed form applies (quadratic,
// Gaussian noise, constant step, sgd at the server, identity/bernoulli/
// rand-k with mean, or sign with sign-mean); nullopt otherwise.
std::optional<double> PredictedStationaryLoss(const ExperimentConfig& config);

}  // namespace edgefl

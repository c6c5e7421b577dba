// SdePredictor: forecasts a run's loss from the SDE models of docs/theory.md 3,
// before spending any bandwidth. Euler-Maruyama in SDE time (round k spans
// eta_k, in `substeps` steps), over many independent paths, each on its own random stream, so
// the forecast is the same bit for bit whatever the thread count:
//   dX = drift dt + sqrt(eta/N) Sigma(X)^(1/2) dW
//   DSGD, DCSGD (P1 Thm 3.2, 3.6): Sigma = the noise covariance plus the
//     compressor's exact covariance E[Phi Phi^T] (docs/theory.md 3.2), averaged
//     over the noise: in closed form for bernoulli and rand-k (its negative
//     correlation included), and for qsgd and natural from one noisy gradient
//     drawn a step (an unbiased Monte-Carlo estimate of the average);
//   DSignSGD, mean of signs (P1 Thm 3.10): drift -2 Xi(grad f / s), diffusion
//     sqrt(eta/N) (1 - 4 Xi^2)^(1/2), Xi = F - 1/2 with F the standardised
//     noise CDF (maths/gradient_noise.h).
// The drift of DSGD/DCSGD is -grad f, plus (eta/2) H grad f for the
// curvature-corrected SDE (docs/theory.md 3.4, the default: it has the
// discrete iteration's stability limit) or minus it for the classic second
// order one. Synthetic objectives (quadratic, quartic, cosh) only, with the
// schedules of step.rule; the normalising rules, server optimisers other than
// sgd, the biased compressors other than sign with sign-mean, and data
// objectives are refused with a message, for now.
#pragma once

#include <cstdint>
#include <vector>

#include "coordinator/experiment_config.h"
#include "core/status.h"

namespace edgefl {

enum class SdeDrift : uint8_t {
  kFirstOrder,   // -grad f
  kCorrected,    // -grad f + (eta/2) H grad f   (docs/theory.md 3.4)
  kSecondOrder,  // -grad f - (eta/2) H grad f   (the classic modified equation)
};
const char* SdeDriftName(SdeDrift drift);
bool ParseSdeDrift(const char* name, SdeDrift* drift);

struct PredictOptions {
  uint32_t paths = 256;
  // Euler-Maruyama steps per round, each of dt = eta_k / substeps: 1 is the
  // scheme at dt = eta, whose own discretisation error is of the order of the
  // correction; more approach the SDE itself.
  uint32_t substeps = 4;
  uint32_t threads = 0;  // 0: every core
  SdeDrift drift = SdeDrift::kCorrected;
};

struct Prediction {
  const char* model = "";          // which SDE, in words
  std::vector<double> mean_loss;   // E f(X) after each round, over the paths
  std::vector<double> low_loss;    // the 10% and 90% quantiles over the paths
  std::vector<double> high_loss;
  uint32_t diverged_paths = 0;     // paths whose loss passed the run's divergence test
  int64_t diverged_at = -1;        // the first round in which most paths had diverged
};

// Forecasts config.rounds rounds of `config`.
Status PredictLoss(const ExperimentConfig& config, const PredictOptions& options, Prediction* out);

}  // namespace edgefl

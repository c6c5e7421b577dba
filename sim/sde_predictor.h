// SdePredictor: forecasts a run's loss from the SDE models of docs/theory.md 3,
// before spending any bandwidth. Euler-Maruyama in SDE time (round k spans
// eta_k, in `substeps` steps), over many independent paths, each on its own random stream, so
// the forecast is the same bit for bit whatever the thread count:
//   dX = drift dt + sqrt(eta/m_k) Sigma(X)^(1/2) dW
// m_k is the number of updates round k's step averages: each path draws
// every round's cohort (sim/participation.h: availability, the uniform
// sample of K' asked nodes, dropouts, arrivals against the deadline, the
// first K counted) from a stream of its own, so the forecast averages over
// cohorts as it does over noise. With everyone asked and answering, m_k = N
// every round. A round with fewer than the quorum counted makes no step: x
// and the step rule stay as they were (docs/theory.md 3.6).
//   DSGD, DCSGD (P1 Thm 3.2, 3.6): Sigma = the noise covariance plus the
//     compressor's exact covariance E[Phi Phi^T] (docs/theory.md 3.2), averaged
//     over the noise: in closed form for bernoulli and rand-k (its negative
//     correlation included), and for qsgd and natural from one noisy gradient
//     drawn a step (an unbiased Monte-Carlo estimate of the average);
//   DSignSGD, mean of signs (P1 Thm 3.10): drift -2 Xi(grad f / s), diffusion
//     sqrt(eta/m) (1 - 4 Xi^2)^(1/2), Xi = F - 1/2 with F the standardised
//     noise CDF (maths/gradient_noise.h).
// Increments are standard normal draws (sim/gaussian_block.h).
// The drift of DSGD/DCSGD is -grad f, plus (eta/2) H grad f for the
// curvature-corrected SDE (docs/theory.md 3.4, the default: it has the
// discrete iteration's stability limit) or minus it for the classic second
// order one.
// Step rules: the schedules exactly; the normalising rules (normalized, clip,
// vankov, l0l1-gd, l0l1) per path, eta_k fixed for the round from the rule
// fed the path's expected norms at the round's start: the aggregate's
// sqrt(|grad f|^2 + tr Sigma / m), the nodes' sqrt(|grad f|^2 + tr noise), with
// the declared L0 and L1 (step.smoothness = "online" is modelled by them).
// The biased compressors, approximately (Prediction::approximation says how):
//   majority vote: the vote's exact per-coordinate mean and variance in the
//     DSignSGD SDE's place;
//   scaled-sign: the mean of signs scaled by |g_i|_1 / d, the scale taken
//     independent of each coordinate's sign;
//   ef-sign, top-k (error feedback): the virtual iterate x - eta e follows
//     SGD exactly; modelled by DSGD's SDE, ignoring that the gradient is
//     taken at x, not at the virtual iterate.
// Synthetic objectives (quadratic, quartic, cosh), and data objectives with
// their own minibatch noise (sim/data_sde.h; the DCSGD family), with sgd at
// the server; the other server optimisers are refused with a message.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "experiment/experiment_config.h"
#include "core/status.h"

namespace edgefl {

enum class SdeDrift : uint8_t {
  kFirstOrder,   // -grad f
  kCorrected,    // -grad f + (eta/2) H grad f   (docs/theory.md 3.4)
  kSecondOrder,  // -grad f - (eta/2) H grad f   (the classic modified equation)
};
const char* SdeDriftName(SdeDrift drift);
bool ParseSdeDrift(const char* name, SdeDrift* drift);

// Which model steps a path: the SDE of docs/theory.md 3, or the iteration
// itself from its sufficient statistics (sim/discrete_round.h, 3.7); auto
// takes the iteration where the SDE's continuous limit fails (DCSGD on the
// quartic or the cosh, or with bernoulli or rand-k at half its stability
// limit or more on the quadratic) and the SDE elsewhere.
enum class PathModel : uint8_t { kAuto, kSde, kDiscrete };
const char* PathModelName(PathModel model);
bool ParsePathModel(const char* name, PathModel* model);

struct PredictOptions {
  uint32_t paths = 256;
  PathModel model = PathModel::kAuto;
  // Euler-Maruyama steps per round, each of dt = eta_k / substeps. 0 picks
  // enough that the scheme's own error is about 1%: its stationary variance
  // exceeds the SDE's by a factor of about 1 + a dt / 2, a the drift's
  // stiffness (eta L for DCSGD, L the largest curvature at x_0), so
  // substeps = clamp(ceil(a / 0.02), 4, 64). 1 is the scheme at dt = eta,
  // whose error is of the order of the correction of docs/theory.md 3.4.
  uint32_t substeps = 0;
  uint32_t threads = 0;  // 0: every core
  SdeDrift drift = SdeDrift::kCorrected;
  std::string data_dir;  // where a data objective's data set is (empty: the default search path)
  // Called from the calling thread about five times a second while paths
  // run, with the paths done and the total; the result does not depend on it.
  std::function<void(uint32_t done, uint32_t total)> progress;
};

struct Prediction {
  const char* model = "";           // which SDE, in words
  const char* drift = "";           // which drift (docs/theory.md 3.4)
  const char* approximation = "";   // what the model approximates beyond the papers ("" if nothing)
  std::string why_discrete;         // auto: why the iteration replaced the SDE ("" when it did not)
  uint32_t substeps = 0;            // as used
  double initial_loss = 0.0;        // f(x_0)
  // E f(X) after each round, over the paths that never diverge (a diverged
  // path's loss is infinite, and one on its way out huge; diverged_fraction
  // counts them), or when every path does, over those still finite.
  std::vector<double> mean_loss;
  std::vector<double> low_loss;     // the 10% and 90% quantiles over the paths
  std::vector<double> high_loss;
  std::vector<double> mean_grad_norm;  // E |grad f(X)| after each round
  std::vector<double> mean_step;       // E eta_k (the same on every path for the schedules)
  // The stationary loss: each path's mean loss over the last half of the
  // rounds, averaged over the paths that did not diverge, and the
  // Monte-Carlo standard error of that average (their spread / sqrt(their
  // number)). Infinite when every path diverged.
  double tail_mean = 0.0;
  double tail_error = 0.0;
  uint32_t diverged_paths = 0;     // paths whose loss passed the run's divergence test
  int64_t diverged_at = -1;        // the first round in which most paths had diverged
  int64_t first_diverged_at = -1;  // the first round in which any path had
  // The fraction of paths diverged by each round: where some paths diverge
  // and others settle (metastable runs), the chance that a run has diverged
  // by then.
  std::vector<double> diverged_fraction;
  // run.target_loss > 0: each path's first passage, the round its loss first
  // reached the target (a run stops there), over the paths that reached it:
  // the mean number of rounds to it, that round included, and the mean time,
  // the sum of those rounds' lengths as the path's cohorts drew them. NaN when
  // no path reached it.
  uint32_t target_paths = 0;
  double target_rounds = 0.0;
  double target_seconds = 0.0;
};

// Forecasts config.rounds rounds of `config`.
Status PredictLoss(const ExperimentConfig& config, const PredictOptions& options, Prediction* out);

}  // namespace edgefl

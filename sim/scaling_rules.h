// The scaling rules of docs/theory.md 5 (after P1): a user changes a setting
// (the compressor, N, B, eta, sigma) and asks what one other setting must do
// to keep the loss the run settles at, and whether the result is stable.
// Away from the stability limit the floor is proportional to
//   DCSGD (every unbiased compressor, mean):  eta (1 + omega) s^2 / N,
//   DSignSGD (sign, sign-mean):               eta s / N,
// s^2 = the noise's per-coordinate variance (sigma^2 / B for Gaussian noise).
// Where the base and the changed config have the closed-form floor of
// docs/theory.md 3.5 (the quadratic with Gaussian noise), each knob is
// solved on it: the eta whose floor equals the base's, or the least N or B
// whose floor is at most it. Elsewhere the rule keeps the proxy: from the
// change's ratio r = changed / base, it scales one other knob: eta by 1/r,
// N by r, or B by r (by r^2 for sign), rounding N and B up to integers.
// The proxy ignores the floor's 1 / (1 - eta lambda (1 + omega/N) / 2)
// factor, so near the stability limit it misses (N 4 -> 16 at omega 4
// proposes eta x 4, whose floor is a fifth above the base's). Because the proxy is computed from each
// config's own omega, the same equation serves an uncompressed base
// (kappa (1 + beta omega) / (alpha delta) = 1) and a compressed one
// (= 1 + omega). Each proposal is checked against the stability limit of
// the quadratic, eta lambda_max (1 + omega/N) < 2 (docs/theory.md 3.5), and
// whether the bound of 4.1 holds for it, and given its exact floor where
// docs/theory.md 3.5 has a closed form. For
// qsgd and natural compression omega is a bound, not their variance
// (docs/theory.md 3.5): the proxy then overstates their floor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "experiment/experiment_config.h"
#include "core/status.h"

namespace edgefl {

struct ScalingProposal {
  std::string key;           // step.eta, run.nodes or noise.batch_size
  double value = 0.0;        // its proposed value
  bool exact = false;        // solved on the closed form, not scaled by the proxy
  double kept_ratio = 1.0;   // proxy(proposal) / proxy(base): 1 up to rounding when not exact
  ExperimentConfig config;   // the changed config with the proposal
  std::optional<double> floor;  // exact, where a closed form applies
  double stability = 0.0;    // eta lambda_max (1 + omega/N); stable below 2 (NaN for sign: no limit)
  bool guaranteed = false;   // the bound of docs/theory.md 4.1 holds (sim/convergence_bounds.h)
};

struct ScalingPlan {
  bool sign = false;          // DSignSGD's rule, not DCSGD's
  double omega_base = 0.0, omega_changed = 0.0;
  double ratio = 1.0;         // the change's proxy ratio r
  std::optional<double> base_floor, changed_floor;  // exact, where a closed form applies
  double changed_stability = 0.0;
  std::vector<ScalingProposal> proposals;  // one per knob the change left alone
};

// `changed` is `base` with the user's change applied.
Status PlanScaling(const ExperimentConfig& base, const ExperimentConfig& changed, ScalingPlan* plan);

}  // namespace edgefl

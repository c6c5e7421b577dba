// PrivacyLedger: differential privacy at the coordinator (docs/theory.md 6.3).
// Under central DP it adds the Gaussian noise to each step's mean; under
// either mode it says what (epsilon, privacy.delta) the run has spent, from
// the RDP accountant of the sampled Gaussian mechanism
// (maths/privacy_accountant.h):
//
//   central  each step releases the noisy mean of a Poisson sample of nodes
//            (rate q = the largest availability of any node; adding or
//            removing one node's data moves the sum by at most C, the noise
//            on the sum is z C): T = the steps taken, multiplier z, rate q.
//   local    each node releases its own noisy update every round it is asked;
//            any two of its data sets move the clipped update by at most 2C,
//            so the multiplier is z/2, with no sampling to amplify it (the
//            coordinator knows who was asked): T = the rounds run, which
//            bounds every node's releases.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "experiment/experiment_config.h"
#include "maths/privacy_accountant.h"

namespace edgefl {

// Central DP's noise: N(0, (z C / n)^2) on each coordinate of the mean of
// n updates, drawn from (run.seed, round) alone so that a replay adds the
// same. Nothing unless privacy.mode = "central".
void AddCentralNoise(const ExperimentConfig& config, uint32_t round, uint32_t updates, std::span<double> mean);

class PrivacyLedger {
 public:
  explicit PrivacyLedger(const ExperimentConfig& config);

  // Whether the run spends privacy (privacy.mode is not "off").
  bool active() const { return active_; }
  // epsilon at privacy.delta once `rounds` rounds have run and `steps` of
  // them stepped; NaN when the run spends none.
  double EpsilonAfter(uint32_t rounds, uint32_t steps) const;

  // The mechanism the accountant composes, for the log and the docs.
  double sampling_rate() const { return sampling_rate_; }
  double noise_multiplier() const { return noise_multiplier_; }

 private:
  bool active_ = false;
  bool central_ = false;
  double delta_ = 0.0;
  double sampling_rate_ = 1.0;
  double noise_multiplier_ = 0.0;
  PrivacyAccountant accountant_;
};

}  // namespace edgefl

#include "coordinator/privacy_ledger.h"

#include <algorithm>
#include <cmath>

#include "core/rng.h"

namespace edgefl {
namespace {

// DeriveSeed's tag for central DP's noise (no node's streams use it).
constexpr uint64_t kCentralNoiseTag = 0xD9;

// The largest chance any node has of being asked in a round: the Poisson
// sampling rate the accountant may assume for every node.
double LargestAvailability(const ExperimentConfig& config) {
  double q = 0.0;
  for (uint32_t node = 0; node < config.nodes; ++node) q = std::max(q, config.ParticipationOf(node).availability);
  return q;
}

}  // namespace

void AddCentralNoise(const ExperimentConfig& config, uint32_t round, uint32_t updates, std::span<double> mean) {
  const PrivacyConfig& p = config.privacy;
  if (p.mode != PrivacyMode::kCentral || updates == 0) return;
  const double deviation = p.noise_multiplier * p.clip_norm / static_cast<double>(updates);
  Rng rng(DeriveSeed(config.seed, kCentralNoiseTag, round));
  for (double& v : mean) v += deviation * rng.Normal();
}

PrivacyLedger::PrivacyLedger(const ExperimentConfig& config)
    : active_(config.privacy.mode != PrivacyMode::kOff),
      central_(config.privacy.mode == PrivacyMode::kCentral),
      delta_(config.privacy.delta),
      sampling_rate_(central_ ? LargestAvailability(config) : 1.0),
      noise_multiplier_(central_ ? config.privacy.noise_multiplier : config.privacy.noise_multiplier / 2.0),
      accountant_(sampling_rate_, active_ ? noise_multiplier_ : 1.0) {}

double PrivacyLedger::EpsilonAfter(uint32_t rounds, uint32_t steps) const {
  if (!active_) return NAN;
  PrivacyAccountant composed = accountant_;
  composed.Step(central_ ? steps : rounds);
  return composed.EpsilonAt(delta_).epsilon;
}

}  // namespace edgefl

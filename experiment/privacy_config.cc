// What differential privacy needs of the rest of the config
// (experiment_config.h, PrivacyConfig).
#include <algorithm>

#include "experiment/experiment_config.h"

namespace edgefl {
namespace {

Status Bad(const char* format, auto... args) { return Status::Error(StatusCode::kInvalidArgument, format, args...); }

const char* ModeName(PrivacyMode mode) { return codec::NameIn(PrivacyModeNames(), mode); }

}  // namespace

AggregatorConfig AggregatorAsRun(const ExperimentConfig& c) {
  AggregatorConfig aggregator = c.aggregator;
  if (c.privacy.mode == PrivacyMode::kCentral) {
    const double bound = aggregator.max_update_norm;
    aggregator.max_update_norm = bound > 0.0 ? std::min(bound, c.privacy.clip_norm) : c.privacy.clip_norm;
  }
  return aggregator;
}

Status CheckPrivacy(const ExperimentConfig& c) {
  const PrivacyConfig& p = c.privacy;
  // SCAFFOLD's control change is a second release of each node's data that
  // the clipping and the accountant do not cover.
  if (c.local.HasControl() && (p.mode != PrivacyMode::kOff || p.clip_norm > 0.0)) {
    return Bad("local.optimizer = \"scaffold\" sends each node's control variate change beside its update, unclipped "
               "and without noise: it cannot run with privacy (privacy.mode = \"%s\", clip_norm = %g)",
               ModeName(p.mode), p.clip_norm);
  }
  if (p.mode == PrivacyMode::kOff) {
    if (p.noise_multiplier > 0.0) {
      return Bad("privacy.noise_multiplier = %g with privacy.mode = \"off\": no noise is added; set privacy.mode to "
                 "\"local\" or \"central\", or leave the multiplier out",
                 p.noise_multiplier);
    }
    return Status::Ok();
  }
  if (p.clip_norm <= 0.0 || p.noise_multiplier <= 0.0) {
    return Bad("privacy.mode = \"%s\" needs privacy.clip_norm > 0 and privacy.noise_multiplier > 0 (got %g and %g): "
               "the noise's scale is their product",
               ModeName(p.mode), p.clip_norm, p.noise_multiplier);
  }
  if (p.mode == PrivacyMode::kLocal) return Status::Ok();
  // Central DP's noise covers one node's change to the sum, which only the
  // plain mean bounds by the clip norm: a robust rule's output, a weighted
  // mean or a node's momentum can move further than one update.
  const AggregatorConfig& a = c.aggregator;
  if (a.kind != AggregatorKind::kMean || a.weighting != Weighting::kUniform || a.node_momentum > 0.0 ||
      a.bucket_size > 1) {
    return Bad("privacy.mode = \"central\" needs aggregator.kind = \"mean\", weighting = \"uniform\", no node_momentum "
               "and no bucketing (got \"%s\"): the noise is calibrated to one update's bounded share of a plain "
               "mean",
               AggregatorName(a.kind));
  }
  // The accountant's subsampled Gaussian assumes Poisson sampling: each node
  // in a round independently with probability q. round.availability draws
  // exactly that when every available node is asked; a cohort of fixed size
  // is another sampling, whose bound this accountant does not give.
  if (c.round.cohort != 0) {
    return Bad("privacy.mode = \"central\" samples the nodes of a round as the accountant assumes, each independently "
               "with probability round.availability (Poisson sampling): leave round.cohort at 0 (got %u) and set "
               "round.availability to the sampling rate q",
               c.round.cohort);
  }
  return Status::Ok();
}

}  // namespace edgefl

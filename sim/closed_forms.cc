#include "sim/closed_forms.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "maths/gradient_noise.h"
#include "maths/compressor_maths.h"
#include "maths/synthetic_objective.h"
#include "sim/local_steps.h"
#include "sim/round_cost.h"

namespace edgefl {

double StationaryLossDcsgd(std::span<const float> lambda, double eta, double omega, double noise_variance,
                           uint32_t nodes) {
  const double s2 = noise_variance;
  double total = 0.0;
  for (float l : lambda) {
    const double margin = 1.0 - eta * l * (1.0 + omega / nodes) / 2.0;
    if (margin <= 0.0) return std::numeric_limits<double>::infinity();
    total += eta * (1.0 + omega) * s2 / (4.0 * nodes * margin);
  }
  return total;
}

double StationaryLossSignSgd(uint32_t dimension, double eta, double noise_scale, uint32_t nodes) {
  const double s = noise_scale;
  return dimension * eta * s / (4.0 * nodes * std::sqrt(2.0 / std::numbers::pi));
}

double StationaryLossLocalSgd(std::span<const float> lambda, double eta, const codec::LocalSpec& local,
                              double noise_variance, uint32_t nodes) {
  // Per coordinate x <- (1 - eta gain) x - eta xi, Var xi = V/N: the AR(1)
  // variance eta V / (N gain (2 - eta gain)), weighed by lambda/2.
  double total = 0.0;
  for (float l : lambda) {
    const LocalSgdCoordinate c = LocalSgdOf(l, local.lr, local.steps, noise_variance);
    const double contraction = eta * c.gain;
    if (!(contraction > 0.0 && contraction < 2.0)) return std::numeric_limits<double>::infinity();
    total += 0.5 * l * eta * c.noise_variance / (nodes * c.gain * (2.0 - contraction));
  }
  return total;
}

std::optional<double> PredictedStationaryLoss(const ExperimentConfig& c) {
  if (c.objective.kind != wire::ObjectiveKind::Quadratic || c.noise.kind != wire::NoiseKind::Gaussian ||
      c.step.rule != StepRuleKind::kConstant || c.server.optimizer != ServerOptimizerKind::kSgd ||
      c.aggregator.max_update_norm > 0.0) {
    return std::nullopt;
  }
  // Of the nodes' own training, only E plain sgd steps are linear (no
  // moments, no pull, no clipping by the update's own norm).
  if (c.local.optimizer != wire::LocalOptimizer::Sgd || c.local.prox_mu > 0.0 || c.privacy.mode != PrivacyMode::kOff ||
      c.privacy.clip_norm > 0.0) {
    return std::nullopt;
  }
  // N is the updates a step averages: K of a cohort, when that is the same every round.
  const std::optional<uint32_t> nodes = FixedCountedUpdates(c);
  if (!nodes) return std::nullopt;
  using Kind = wire::CompressorKind;
  const Kind kind = c.compressor.kind;
  if (c.local.steps > 1) {  // E sgd steps: exact for dense updates
    if (kind != Kind::Identity || c.aggregator.kind != AggregatorKind::kMean) return std::nullopt;
    std::vector<float> lambda(c.objective.dimension);
    FillSpectrum(c.objective, lambda);
    return StationaryLossLocalSgd(lambda, c.step.eta, c.local, NoiseVariance(c.noise, c.batch_size), *nodes);
  }
  if (kind == Kind::Sign && c.aggregator.kind == AggregatorKind::kSignMean) {
    return StationaryLossSignSgd(c.objective.dimension, c.step.eta, NoiseScale(c.noise, c.batch_size), *nodes);
  }
  if (kind != Kind::Identity && kind != Kind::Bernoulli && kind != Kind::RandK) return std::nullopt;
  if (c.aggregator.kind != AggregatorKind::kMean) return std::nullopt;
  std::vector<float> lambda(c.objective.dimension);
  FillSpectrum(c.objective, lambda);
  return StationaryLossDcsgd(lambda, c.step.eta, CompressorOmega(c.compressor, c.objective.dimension),
                             NoiseVariance(c.noise, c.batch_size), *nodes);
}

}  // namespace edgefl

#include "sim/convergence_bounds.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "maths/compressor_maths.h"
#include "maths/gradient_noise.h"
#include "maths/synthetic_objective.h"
#include "maths/vector_norms.h"
#include "sim/round_cost.h"

namespace edgefl {

double ConvergenceBound::At(double initial_loss, double rounds) const {
  if (!holds) return std::numeric_limits<double>::infinity();
  const double decay = std::pow(std::max(0.0, contraction), rounds);
  return initial_loss * decay + (1.0 - decay) * floor;
}

std::optional<ConvergenceBound> TheoremBound(const ExperimentConfig& c) {
  if (c.objective.kind != wire::ObjectiveKind::Quadratic || c.step.rule != StepRuleKind::kConstant ||
      c.server.optimizer != ServerOptimizerKind::kSgd || c.noise.kind == wire::NoiseKind::Affine ||
      c.aggregator.max_update_norm > 0.0 || !SendsPlainGradient(c) || c.async.Buffered()) {
    return std::nullopt;
  }
  // N is the updates a step averages: K of a cohort, when that is the same every round.
  const std::optional<uint32_t> counted = FixedCountedUpdates(c);
  if (!counted) return std::nullopt;
  ConvergenceBound b;
  b.mu = std::min(c.objective.lambda_min, c.objective.lambda_max);
  b.l = std::max(c.objective.lambda_min, c.objective.lambda_max);
  const double eta = c.step.eta, d = c.objective.dimension, n = *counted;
  const double scale = eta * b.l * d / (4.0 * b.mu * n);
  using Kind = wire::CompressorKind;
  switch (c.compressor.kind) {
    case Kind::Identity:
    case Kind::Bernoulli:
    case Kind::RandK:
    case Kind::Qsgd:
    case Kind::Natural: {
      if (c.aggregator.kind != AggregatorKind::kMean) return std::nullopt;
      const double variance = NoiseVariance(c.noise, c.batch_size);
      if (!std::isfinite(variance)) return std::nullopt;
      const double omega = CompressorOmega(c.compressor, c.objective.dimension);
      b.theorem = "descent lemma under PL for DCSGD's iteration (P1 Thm 3's floor with A for Delta)";
      const double a = 1.0 - eta * b.l * (1.0 + omega / n) / 2.0;
      b.step_limit = 2.0 / (b.l * (1.0 + omega / n));
      b.holds = a > 0.0;
      b.contraction = 1.0 - 2.0 * b.mu * eta * a;
      b.floor = b.holds ? scale * variance * (1.0 + omega) / a : std::numeric_limits<double>::infinity();
      return b;
    }
    case Kind::Sign: {
      if (c.aggregator.kind != AggregatorKind::kSignMean) return std::nullopt;
      const double s = NoiseScale(c.noise, c.batch_size);
      if (!(s > 0.0)) return std::nullopt;
      const double h = 1e-6;  // F'(0), by a central difference of the CDF
      const double density = (StandardNoiseCdf(c.noise, h) - StandardNoiseCdf(c.noise, -h)) / (2.0 * h);
      b.theorem = "P1 Thm 4 (DSignSGD's SDE)";
      b.assumption = "l taken as F'(0), the noise density at 0; the theorem states Student-t noise";
      b.holds = true;
      b.contraction = std::exp(-2.0 * b.mu * density / s * eta);
      b.floor = scale * s / density;
      return b;
    }
    case Kind::ScaledSign:
    case Kind::EfSign:
    case Kind::TopK:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<StepLimit> StepSizeLimit(const ExperimentConfig& c) {
  using Kind = wire::CompressorKind;
  if (codec::IsDataObjective(c.objective.kind) || c.aggregator.kind != AggregatorKind::kMean ||
      c.compressor.kind == Kind::Sign || c.compressor.kind == Kind::ScaledSign || !SendsPlainGradient(c) ||
      c.async.Buffered()) {
    return std::nullopt;
  }
  double omega = CompressorOmega(c.compressor, c.objective.dimension);
  if (!std::isfinite(omega)) omega = 0.0;  // error feedback: its virtual iterate
  // N: the updates a step averages, or when that varies the fewest a step
  // can average (the quorum), where the limit is lowest.
  const double n = FixedCountedUpdates(c).value_or(c.QuorumCount()), d = c.objective.dimension;
  const double l0 = std::max(c.objective.lambda_min, c.objective.lambda_max);
  if (c.objective.kind == wire::ObjectiveKind::Quadratic) {
    return StepLimit{2.0 / (l0 * (1.0 + omega / n)), "eta lambda_max (1 + omega/N) < 2, docs/theory.md 3.5", true};
  }
  std::vector<float> lambda(c.objective.dimension), x0(c.objective.dimension), g(c.objective.dimension);
  SyntheticObjective objective(c.objective, lambda);
  objective.InitialPoint(c.seed, x0);
  objective.Gradient(x0, g);
  const double l1 = c.objective.kind == wire::ObjectiveKind::Quartic ? 3.0 : c.objective.cosh_scale;
  const double sigma0 = NoiseVariance(c.noise, c.batch_size), sigma1 = NoiseVarianceSlope(c.noise, c.batch_size);
  if (!std::isfinite(sigma0)) return std::nullopt;
  const double rho = 1.0 + (omega + d * sigma1 * (1.0 + omega)) / n;
  const double big_g = l0 + l1 * std::sqrt(SquaredNorm(g));
  return StepLimit{2.0 / (big_g * rho + l1 * d * sigma0 * (1.0 + omega) / n),
                   "P2's condition at x_0, docs/theory.md 4.2", false};
}

}  // namespace edgefl

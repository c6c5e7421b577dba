#include "sim/discrete_round.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "maths/compressor_maths.h"
#include "maths/gradient_noise.h"
#include "maths/vector_norms.h"
#include "sim/round_cost.h"

namespace edgefl {

using Kind = wire::CompressorKind;

uint32_t DrawBinomial(Rng& rng, uint32_t n, double p) {
  if (p <= 0.0) return 0;
  if (p >= 1.0) return n;
  const bool flip = p > 0.5;
  const double q = flip ? 1.0 - p : p;
  uint32_t successes = 0;
  if (n <= 16) {
    for (uint32_t i = 0; i < n; ++i) successes += rng.Uniform() < q ? 1 : 0;
  } else if (n * q <= 50.0) {
    // The gaps between successes are geometric: skip ahead by them.
    const double log_miss = std::log1p(-q);
    for (double position = 0.0;;) {
      const double u = rng.Uniform();
      position += std::floor(std::log(u > 0.0 ? u : 0x1.0p-53) / log_miss) + 1.0;
      if (position > n) break;
      ++successes;
    }
  } else {
    const double mean = n * q, sd = std::sqrt(n * q * (1.0 - q));
    successes = static_cast<uint32_t>(std::clamp(std::round(mean + sd * rng.Normal()), 0.0, double(n)));
  }
  return flip ? n - successes : successes;
}

const char* DiscreteAggregate::Unsupported(const ExperimentConfig& c) {
  if (codec::IsDataObjective(c.objective.kind)) return "a data objective (its SDE draws the shards' own noise)";
  if (c.aggregator.kind != AggregatorKind::kMean) return "an aggregator other than the mean";
  if (c.aggregator.max_update_norm > 0.0) return "norm bounding (aggregator.max_update_norm)";
  const Kind kind = c.compressor.kind;
  if (kind != Kind::Identity && kind != Kind::Bernoulli && kind != Kind::RandK) {
    return "this compressor (identity, bernoulli and rand-k only)";
  }
  return nullptr;
}

std::string DiscreteReason(const ExperimentConfig& c) {
  if (DiscreteAggregate::Unsupported(c) != nullptr) return "";
  const double omega = CompressorOmega(c.compressor, c.objective.dimension);
  char text[320];
  if (c.objective.kind != wire::ObjectiveKind::Quadratic) {
    if (omega > 0.0) {
      std::snprintf(text, sizeof(text),
                    "the %s's curvature grows with x, and the SDE's Gaussian increments of the compressor's variance "
                    "(omega %.3g) escape where its own bounded kicks do not",
                    codec::ObjectiveName(c.objective.kind), omega);
    } else {
      std::snprintf(text, sizeof(text),
                    "the %s's curvature grows with x, faster than the SDE's correction of docs/theory.md 3.4 follows "
                    "over one step",
                    codec::ObjectiveName(c.objective.kind));
    }
    return text;
  }
  if (c.compressor.kind == Kind::Identity) return "";  // additive noise: the corrected SDE has the iteration's limit
  const double m = FixedCountedUpdates(c).value_or(c.QuorumCount());
  const double lambda = std::max(c.objective.lambda_min, c.objective.lambda_max);
  const double stability = c.step.eta * lambda * (1.0 + omega / m);
  if (stability < 1.0) return "";
  std::snprintf(text, sizeof(text),
                "eta lambda_max (1 + omega/m) = %.3g, %.0f%% of the stability limit 2, where the SDE's Gaussian kicks "
                "misstate the iteration's heavy-tailed loss",
                stability, 50.0 * stability);
  return text;
}

DiscreteAggregate::DiscreteAggregate(const ExperimentConfig& config)
    : noise_(config.noise),
      batch_size_(config.batch_size),
      kind_(config.compressor.kind),
      student_t_(config.noise.kind == wire::NoiseKind::StudentT) {
  const double d = config.objective.dimension;
  if (kind_ == Kind::Bernoulli) {
    keep_ = config.compressor.p;
    scale_ = 1.0 / keep_;
  } else if (kind_ == Kind::RandK) {
    k_ = config.compressor.k;
    scale_ = d / k_;
  }
}

void DiscreteAggregate::CountRandK(uint32_t m, Rng& rng, std::span<uint32_t> counts,
                                   std::span<uint32_t> marks) const {
  // Floyd's algorithm, node by node: k distinct coordinates, uniformly; a
  // coordinate is marked with the node's stamp (node + 1) once picked.
  const auto d = static_cast<uint32_t>(counts.size());
  std::fill(counts.begin(), counts.end(), 0u);
  std::fill(marks.begin(), marks.end(), 0u);
  for (uint32_t node = 0; node < m; ++node) {
    const uint32_t stamp = node + 1;
    for (uint32_t j = d - k_; j < d; ++j) {
      uint32_t pick = rng.Below(j + 1);
      if (marks[pick] == stamp) pick = j;
      marks[pick] = stamp;
      ++counts[pick];
    }
  }
}

double DiscreteAggregate::NoiseSum(uint32_t c, double scale, float z, Rng& rng) const {
  if (c == 0 || scale == 0.0) return 0.0;
  if (!student_t_) return std::sqrt(static_cast<double>(c)) * scale * z;
  double sum = 0.0;
  for (uint32_t i = 0; i < c; ++i) sum += rng.StudentT(noise_.nu);
  return scale * sum;
}

void DiscreteAggregate::Draw(std::span<const float> g, uint32_t m, std::span<const float> z, Rng& rng,
                             std::span<uint32_t> counts, std::span<uint32_t> marks, std::span<float> out) const {
  const auto d = static_cast<uint32_t>(g.size());
  // The noise's scale per node and coordinate: its standard deviation for
  // Gaussian and affine noise (the latter from |grad f|), Student-t's s.
  double scale = NoiseScale(noise_, batch_size_);
  if (!student_t_) {
    const double slope = NoiseVarianceSlope(noise_, batch_size_);
    scale = std::sqrt(NoiseVariance(noise_, batch_size_) + (slope != 0.0 ? slope * SquaredNorm(g) : 0.0));
  }
  if (kind_ == Kind::RandK) CountRandK(m, rng, counts, marks);
  const double per_update = scale_ / m;
  for (uint32_t j = 0; j < d; ++j) {
    uint32_t c = m;
    if (kind_ == Kind::Bernoulli) c = DrawBinomial(rng, m, keep_);
    if (kind_ == Kind::RandK) c = counts[j];
    out[j] = static_cast<float>(per_update * (c * double{g[j]} + NoiseSum(c, scale, z[j], rng)));
  }
}

}  // namespace edgefl

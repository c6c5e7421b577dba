// DiscreteAggregate: a round's aggregate as the run itself makes it, drawn
// from each coordinate's sufficient statistics, for the forecast where the
// SDE's continuous limit fails (docs/theory.md 3.7). The SDE gives a
// compressor's kicks a Gaussian of the right variance; near the stability
// limit, and on objectives whose curvature grows with x (the quartic, the
// cosh), that Gaussian's tails carry paths away where the compressor's own
// bounded kicks do not. So, for the mean of m updates of DCSGD, per
// coordinate j and round:
//   identity:  all m nodes send j                          C_j = m,  scale 1
//   bernoulli: C_j ~ Binomial(m, p) nodes keep j            scale 1/p
//   rand-k:    each node keeps k of the d coordinates, drawn uniformly
//              node by node (their negative correlation exact)  scale d/k
//   aggregate_j = scale (C_j g_j + S(C_j)) / m,
// S(c) the sum of c nodes' noise on j: sqrt(c) s Z for Gaussian and affine
// noise (s from the gradient's norm for affine), c Student-t draws of scale
// s otherwise. With the nodes' noise and compressors independent, that is
// the iteration's own distribution, not an approximation of it. Binomials
// are exact up to a mean of 50 per coordinate and Gaussian beyond (where
// the SDE is accurate anyway). Immutable after construction; the caller
// owns the buffers and streams, so one serves every path and thread, and
// Draw allocates nothing.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/rng.h"
#include "experiment/experiment_config.h"

namespace edgefl {

class DiscreteAggregate {
 public:
  // nullptr when the discrete model covers `config`, else why not.
  static const char* Unsupported(const ExperimentConfig& config);

  explicit DiscreteAggregate(const ExperimentConfig& config);

  // The aggregate of `m` counted updates at the gradient `g` into `out`.
  // `z`: d standard normals for the Gaussian sums; `rng`: the binomials,
  // rand-k's picks and Student-t draws; `counts`, `marks`: d each, scratch.
  void Draw(std::span<const float> g, uint32_t m, std::span<const float> z, Rng& rng, std::span<uint32_t> counts,
            std::span<uint32_t> marks, std::span<float> out) const;

 private:
  void CountRandK(uint32_t m, Rng& rng, std::span<uint32_t> counts, std::span<uint32_t> marks) const;
  double NoiseSum(uint32_t c, double scale, float z, Rng& rng) const;

  codec::NoiseSpec noise_;
  uint32_t batch_size_;
  wire::CompressorKind kind_;
  double keep_ = 1.0;   // bernoulli's p
  double scale_ = 1.0;  // 1/p, d/k or 1
  uint32_t k_ = 0;
  bool student_t_ = false;
};

// Why the forecast should step `config` by the iteration rather than the
// SDE, in words, or "" where the SDE holds: DCSGD (identity, bernoulli,
// rand-k) on the quartic or the cosh, or with a multiplicative compressor
// (bernoulli, rand-k) on the quadratic at eta lambda_max (1 + omega/m) >= 1,
// half the stability limit or more (docs/theory.md 3.7).
std::string DiscreteReason(const ExperimentConfig& config);

// Binomial(n, p): exact (counting uniforms, or geometric waiting times)
// while n min(p, 1 - p) <= 50; above, the normal approximation, rounded and
// clamped to [0, n].
uint32_t DrawBinomial(Rng& rng, uint32_t n, double p);

}  // namespace edgefl

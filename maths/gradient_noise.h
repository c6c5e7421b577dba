// Gradient noise models (docs/theory.md 2): g_i = grad f(x) + noise,
// independent across coordinates, nodes and rounds. A batch of B samples
// scales the per-sample sigma by 1/sqrt(B): noise_j = s Z with s = sigma/sqrt(B)
// and Z standardised:
//   none:      Z = 0
//   gaussian:  Z ~ N(0, 1)                 Var = s^2
//   student-t: Z ~ Student-t(nu)           Var = s^2 nu/(nu - 2) for nu > 2, infinite otherwise
//   affine:    Z ~ N(0, 1), scaled by sqrt((sigma^2 + sigma1^2 ||g||^2) / B) instead of s, with ||g||
//              the norm of the gradient before noise (docs/theory.md 2, P2's affine variance)
// The sampler (the node's), the variance (the closed forms' and the DCSGD
// SDE's diffusion) and the CDF of Z (the sign SDE's drift, E sign(g + s Z) =
// 1 - 2 F(-g/s)) live together here. Allocation-free; the Rng is the
// caller's, seeded per (node, round).
#pragma once

#include <span>

#include "core/rng.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

void AddGradientNoise(const codec::NoiseSpec& spec, uint32_t batch_size, Rng& rng, std::span<float> grad);

// s = sigma / sqrt(B).
double NoiseScale(const codec::NoiseSpec& spec, uint32_t batch_size);

// Var(noise_j) of one coordinate: 0, s^2, s^2 nu/(nu - 2) or +infinity; for
// affine noise its part that does not grow with the gradient, sigma^2 / B.
double NoiseVariance(const codec::NoiseSpec& spec, uint32_t batch_size);

// How Var(noise_j) grows with ||g||^2: sigma1^2 / B for affine noise, 0 for
// the others.
double NoiseVarianceSlope(const codec::NoiseSpec& spec, uint32_t batch_size);

// P(Z <= z) for the standardised noise Z (a step at 0 for none).
double StandardNoiseCdf(const codec::NoiseSpec& spec, double z);

// I_x(a, b), the regularised incomplete beta function, for a, b > 0 and x in
// [0, 1] (the Student-t CDF is built on it).
double RegularisedIncompleteBeta(double a, double b, double x);

}  // namespace edgefl

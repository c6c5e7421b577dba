// NodeAttack: a testing aid that makes an edgefl-node hostile, to measure
// the poisoning-robust aggregators on real runs (docs/experiments.md). It
// is off unless `edgefl-node --attack KIND` (or `edgefl run --hostile H
// --attack KIND`) asks for it, and a real deployment never sets it. The
// attack replaces the node's gradient before the compressor, so it travels
// in every compressor's form; the loss the node reports stays the honest
// one, and the gradient norm it reports is the attacked gradient's.
//   sign-flip    g <- -g                        (after the noise)
//   scale:F      g <- F g                       (after the noise; e.g. scale:100)
//   constant:V   g_j <- V for all j             (e.g. constant:100, constant:1e12)
//   alie:Z       g_j <- grad_j - Z s_j          "A little is enough" (Baruch, Baruch, Goldberg,
//                                               NeurIPS 2019), z = Z; no noise added
//   max-norm:R   g <- -R v / ||v||              norm R exactly (never above it), so a bound
//                                               aggregator.max_update_norm = R never scales it
//                                               down, and the server's step -eta g moves the
//                                               model along v, away from the optimum; no
//                                               noise added
// grad is the node's gradient before noise (the exact gradient of a
// synthetic objective, the minibatch gradient of a data objective) and s_j
// the standard deviation of the noise an honest node adds to coordinate j
// (AttackNoiseStd). In the paper the colluding attackers know the honest
// updates' mean and per-coordinate spread; a node sees no other node's
// update, but it knows the objective and the noise model, so on synthetic
// objectives it computes the honest mean (grad) and spread (s) exactly. On
// data objectives grad is its own minibatch's gradient and s counts only
// the configured added noise, not the spread between minibatches, so there
// the attack is weaker than the paper's. max-norm's v is x - x*, the
// model's offset from the optimum, where the node knows x* (x* = 0 for every
// synthetic objective): a constant push of norm R along the flattest
// direction is the worst a bounded node can do to the mean
// (docs/experiments.md), and pushing along x - x* drifts there. On data
// objectives, whose optimum the node does not know, v = grad. `max-norm`
// without R takes the
// run's aggregator.max_update_norm (edgefl run fills it in; edgefl-node
// needs R).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

enum class AttackKind : uint8_t { kNone, kSignFlip, kScale, kConstant, kAlie, kMaxNorm };

struct NodeAttack {
  AttackKind kind = AttackKind::kNone;
  // scale: the factor; constant: the value; alie: z; max-norm: R (0: the
  // run's aggregator.max_update_norm, not resolved yet)
  float value = 0.0f;

  bool operator==(const NodeAttack&) const = default;
};

// Parses "sign-flip", "scale:F", "constant:V", "alie:Z" (Z > 0), "max-norm"
// or "max-norm:R" (R > 0) (F, V, Z and R finite numbers that fit a float);
// the error names what was wrong.
Status ParseAttack(std::string_view text, NodeAttack* out);

// "sign-flip", "scale:100", "constant:1e+12", "alie:1", "max-norm:30",
// "max-norm"; "none".
std::string DescribeAttack(const NodeAttack& attack);

// Whether the attack is built from the gradient before noise (alie,
// max-norm): the node then adds no noise and hands ApplyAttack that gradient.
bool UsesGradientBeforeNoise(const NodeAttack& attack);

// Gives a bare `max-norm` the run's bound R = max_update_norm; an error
// naming aggregator.max_update_norm when that is 0. Other attacks are left
// as they are.
Status ResolveMaxNorm(double max_update_norm, NodeAttack* attack);

// s, the standard deviation of the noise an honest node adds to each
// coordinate of `gradient` (taken before noise): sqrt(NoiseVariance +
// NoiseVarianceSlope ||gradient||^2) (maths/gradient_noise.h), or the scale
// sigma/sqrt(B) where the variance is infinite (student-t, nu <= 2).
double AttackNoiseStd(const codec::NoiseSpec& noise, uint32_t batch_size, std::span<const float> gradient);

// What an attack may use besides the gradient.
struct AttackContext {
  double noise_std = 0.0;            // alie: s
  std::span<const float> away = {};  // max-norm: v = x - x*; empty: v = the gradient
};

// Applies `attack` to `gradient` in place (nothing for kNone). Allocates
// nothing.
void ApplyAttack(const NodeAttack& attack, const AttackContext& context, std::span<float> gradient);

}  // namespace edgefl

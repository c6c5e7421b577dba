// NodeAttack: a testing aid that makes an edgefl-node hostile, to measure
// the poisoning-robust aggregators on real runs (docs/experiments.md). It
// is off unless `edgefl-node --attack KIND` (or `edgefl run --hostile H
// --attack KIND`) asks for it, and a real deployment never sets it. The
// attack replaces the node's gradient after the noise and before the
// compressor, so it travels in every compressor's form; the loss the node
// reports stays the honest one, and the gradient norm it reports is the
// attacked gradient's.
//   sign-flip    g <- -g
//   scale:F      g <- F g          (e.g. scale:100)
//   constant:V   g_j <- V for all j (e.g. constant:100, constant:1e12)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace edgefl {

enum class AttackKind : uint8_t { kNone, kSignFlip, kScale, kConstant };

struct NodeAttack {
  AttackKind kind = AttackKind::kNone;
  float value = 0.0f;  // scale: the factor; constant: the value

  bool operator==(const NodeAttack&) const = default;
};

// Parses "sign-flip", "scale:F" or "constant:V" (F and V finite numbers
// that fit a float); the error names what was wrong.
Status ParseAttack(std::string_view text, NodeAttack* out);

// "sign-flip", "scale:100", "constant:1e+12"; "none".
std::string DescribeAttack(const NodeAttack& attack);

// Applies `attack` to `gradient` in place (nothing for kNone).
void ApplyAttack(const NodeAttack& attack, std::span<float> gradient);

}  // namespace edgefl

// Gradient noise models (THEORY.md 2): g_i = grad f(x) + noise, independent
// across nodes and rounds. A batch of B samples scales the per-sample
// sigma by 1/sqrt(B):
//   gaussian:  noise_j = sigma/sqrt(B) * Z,        Z ~ N(0, 1)
//   student-t: noise_j = sigma/sqrt(B) * T,        T ~ Student-t(nu)
// Allocation-free; the Rng is the caller's, seeded per (node, round).
#pragma once

#include <span>

#include "core/rng.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

void AddGradientNoise(const codec::NoiseSpec& spec, uint32_t batch_size, Rng& rng, std::span<float> grad);

}  // namespace edgefl

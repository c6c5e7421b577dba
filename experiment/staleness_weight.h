// Staleness weights of buffered aggregation (async.staleness): what an
// update computed on a model s versions old is worth, w(s) in (0, 1], and
// the integer the exact sums count it with. A step's K updates are added
// with weights round(w(s_i) Q), at least 1, where Q is the largest power of
// two with K Q <= 2^20 (codec::kMaxRoundWeight, the sums' headroom), so a
// step's weights always fit; fresh updates weigh Q each, and a buffer of
// them gives the unweighted mean bit for bit (the mean divides by the
// weights' gcd first, aggregator.h). Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "experiment/experiment_config.h"

namespace edgefl {

// constant: 1; polynomial: (1 + s)^-a; hinge: 1 for s <= b, else 1 / (1 + a (s - b)).
double StalenessWeight(const AsyncConfig& async, uint32_t staleness);

// Q for a buffer of `buffer` updates (>= 1).
uint32_t StalenessQuantum(uint32_t buffer);

// max(1, round(w(s) Q)) with Q = StalenessQuantum(async.buffer).
uint32_t QuantizedStalenessWeight(const AsyncConfig& async, uint32_t staleness);

}  // namespace edgefl

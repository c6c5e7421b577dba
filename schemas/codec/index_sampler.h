// The seeded coordinate generators behind SeededSparseF32 payloads. Node and
// coordinator must produce the same indices from the same seed on any host,
// so both use integer arithmetic only (no log/exp, whose last bit may differ
// between libm builds). docs/protocol.md specifies them for other languages.
#pragma once

#include <cstdint>
#include <span>

namespace edgefl::codec {

// Rand-k: k distinct coordinates of [0, d), increasing, by sequential
// selection sampling (Knuth's Algorithm S): coordinate j is kept iff
// Below(d - j) < k - kept. Writes k indices.
void SampleRandK(uint64_t seed, uint32_t dimension, std::span<uint32_t> indices);

// Bernoulli(p): each coordinate kept independently iff a 32-bit draw is below
// KeepThreshold(p) (two draws per 64-bit word, low half first). Returns how
// many were kept; indices past the capacity of `indices` are counted, not
// written.
uint32_t SampleBernoulli(uint64_t seed, uint32_t dimension, double keep_probability,
                         std::span<uint32_t> indices);

// The 32-bit threshold for probability p in (0, 1], and the exact
// probability it realises (threshold / 2^32), which unbiased scaling uses.
uint64_t KeepThreshold(double keep_probability);
double RealisedKeepProbability(double keep_probability);

}  // namespace edgefl::codec

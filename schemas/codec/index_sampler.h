// The seeded coordinate generators behind SeededSparseF32 payloads. Node and
// coordinator must produce the same indices from the same seed on any host,
// so both use integer arithmetic only (no log/exp, whose last bit may differ
// between libm builds). docs/protocol.md specifies them for other languages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace edgefl::codec {

// 64-bit words of the scratch bitmap SampleRandK needs for a dimension.
inline constexpr size_t RandKBitmapWords(uint32_t dimension) { return (size_t{dimension} + 63) / 64; }

// Rand-k: k = indices.size() <= d distinct coordinates of [0, d), each
// k-subset equally likely, written in increasing order. Floyd's algorithm
// ("A sample of brilliance", CACM 1987) over a bitmap: for j = d-k .. d-1,
// t = Below(j + 1); set bit j if bit t is already set, else bit t. Then the
// set bits are read out word by word. Exactly k draws and a d/64-word scan,
// so the cost is O(k + d/64), not the O(d) draws of sequential selection.
// `bitmap` is scratch of at least RandKBitmapWords(d) words; this clears
// the words it uses, so it need not be zero on entry.
void SampleRandK(uint64_t seed, uint32_t dimension, std::span<uint32_t> indices, std::span<uint64_t> bitmap);

// Bernoulli(p): each coordinate kept independently iff a 32-bit draw is below
// KeepThreshold(p). Coordinate j's draw is lane j % 8 of step j / 8 of a
// LaneRng (eight xoshiro128** lanes) seeded with `seed`, so eight
// coordinates cost one vector step. Returns how many were kept; indices
// past the capacity of `indices` are counted, not written.
uint32_t SampleBernoulli(uint64_t seed, uint32_t dimension, double keep_probability,
                         std::span<uint32_t> indices);

// The 32-bit threshold for probability p in (0, 1], and the exact
// probability it realises (threshold / 2^32), which unbiased scaling uses.
uint64_t KeepThreshold(double keep_probability);
double RealisedKeepProbability(double keep_probability);

}  // namespace edgefl::codec

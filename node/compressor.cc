#include "node/compressor.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "core/lane_rng.h"
#include "core/vectors.h"

#include "maths/vector_norms.h"
#include "schemas/codec/bit_pack.h"
#include "schemas/codec/index_sampler.h"

namespace edgefl {
namespace {

using Kind = wire::CompressorKind;

// Arena bytes (codes, packed_levels, packed_signs) or entries (the rest).
struct BufferPlan {
  size_t values = 0, indices = 0, codes = 0, packed_levels = 0, packed_signs = 0, error = 0, histogram = 0,
         bitmap = 0;
};

// QSGD and natural compression draw their per-coordinate random bits in
// blocks of this many, outside the loop that uses them, and process them
// kLanes at a time (core/vectors.h); QSGD and EF-SignSGD pack each block
// while it is in cache. A multiple of 8, so blocks start on a byte of
// every packed stream.
constexpr uint32_t kDrawBlock = 512;

// Top-k finds its threshold with a most-significant-digit radix select:
// 11, 11 and 9 bits of |p|'s 31-bit pattern, one counting pass each.
constexpr size_t kRadixBins = 2048;

// Top-k's values and indices buffers double as its candidate buffer, of
// TopKCandidates entries: every key at or above a lower bound on the
// threshold, copied there in index order by one pass, so that the select
// then runs on them alone. The bound comes from a sample of
// kTopKSamples keys, aiming at about sqrt(k C) candidates (2k for C = 4k);
// the sample's rank error is ~10% at k = d/100, so k <= count < C is all
// but certain. That is 3k entries (24k bytes) more than the payload needs:
// 240 KB at d = 10^6, k = d/100, 6% of the error memory. Below
// kTopKCandidateMinDimension there is no candidate buffer (no arena
// growth; the full-scan passes take microseconds there).
// Whenever the candidates miss (fewer than k, or more than C: heavy ties,
// an odd sample), the passes scan all d keys instead: slower, same result.
constexpr uint32_t kTopKSamples = 4096;
constexpr uint32_t kTopKCandidateMinDimension = 1u << 15;

uint32_t TopKCandidates(uint32_t k, uint32_t d) {
  if (d < kTopKCandidateMinDimension) return k;
  const uint64_t wanted = std::max<uint64_t>(4 * uint64_t{k}, kTopKSamples);
  return static_cast<uint32_t>(std::max<uint64_t>(k, std::min<uint64_t>(d, wanted)));
}

BufferPlan PlanFor(const codec::CompressorSpec& spec, uint32_t d) {
  BufferPlan plan;
  switch (spec.kind) {
    case Kind::RandK:
      plan.values = plan.indices = spec.k;
      plan.bitmap = codec::RandKBitmapWords(d);  // SampleRandK's scratch
      break;
    case Kind::Bernoulli:
      plan.values = plan.indices = d;
      break;
    case Kind::Qsgd:
      plan.packed_levels = codec::PackedFieldBytes(d, codec::BitsFor(spec.levels));
      plan.packed_signs = codec::PackedSignBytes(d);
      break;
    case Kind::Natural:
      plan.codes = d;
      break;
    case Kind::TopK:
      plan.values = plan.indices = TopKCandidates(spec.k, d);  // at least k: the payload
      plan.histogram = kRadixBins;
      plan.error = d;
      break;
    case Kind::Sign:
    case Kind::ScaledSign:
      plan.packed_signs = codec::PackedSignBytes(d);
      break;
    case Kind::EfSign:
      plan.error = d;
      plan.packed_signs = codec::PackedSignBytes(d);
      break;
    case Kind::Identity:  // sends the gradient in place
      break;
  }
  return plan;
}

}  // namespace

size_t Compressor::ArenaBytes(const codec::CompressorSpec& spec, uint32_t dimension) {
  const BufferPlan plan = PlanFor(spec, dimension);
  const auto rounded = [](size_t bytes) { return (bytes + Arena::kAlignment - 1) / Arena::kAlignment * Arena::kAlignment; };
  return rounded(plan.values * sizeof(float)) + rounded(plan.indices * sizeof(uint32_t)) +
         rounded(plan.codes) + rounded(plan.packed_levels) + rounded(plan.packed_signs) +
         rounded(plan.error * sizeof(float)) +
         rounded(plan.histogram * sizeof(uint32_t)) + rounded(plan.bitmap * sizeof(uint64_t));
}

Compressor::Compressor(const codec::CompressorSpec& spec, uint32_t dimension, Arena& arena)
    : spec_(spec), dimension_(dimension) {
  const BufferPlan plan = PlanFor(spec, dimension);
  if (plan.values) values_ = arena.Allocate<float>(plan.values, "compressor values");
  if (plan.indices) indices_ = arena.Allocate<uint32_t>(plan.indices, "compressor indices");
  if (plan.packed_levels) packed_levels_ = arena.Allocate<uint8_t>(plan.packed_levels, "qsgd packed levels");
  if (plan.packed_signs) packed_signs_ = arena.Allocate<uint8_t>(plan.packed_signs, "packed signs");
  if (plan.codes) codes_ = arena.Allocate<uint8_t>(plan.codes, "natural codes");
  if (plan.error) error_ = arena.Allocate<float>(plan.error, "error memory");
  if (plan.histogram) histogram_ = arena.Allocate<uint32_t>(plan.histogram, "top-k histogram");
  if (plan.bitmap) bitmap_ = arena.Allocate<uint64_t>(plan.bitmap, "rand-k bitmap");
}

void Compressor::Compress(std::span<float> grad, Rng& rng, codec::PayloadView* out) {
  *out = codec::PayloadView();
  out->type = codec::PayloadTypeOf(spec_.kind);
  const float d = static_cast<float>(dimension_);
  switch (spec_.kind) {
    case Kind::Identity:
      out->values = grad;
      return;
    case Kind::RandK: {
      const uint64_t seed = rng.NextU64();
      codec::SampleRandK(seed, dimension_, indices_, bitmap_);
      const float scale = d / static_cast<float>(spec_.k);
      for (uint32_t i = 0; i < spec_.k; ++i) values_[i] = grad[indices_[i]] * scale;
      out->sampler = wire::IndexSampler::RandK;
      out->seed = seed;
      out->values = values_.first(spec_.k);
      return;
    }
    case Kind::Bernoulli: {
      const uint64_t seed = rng.NextU64();
      const uint32_t kept = codec::SampleBernoulli(seed, dimension_, spec_.p, indices_);
      // Scale by the probability the sampler realises, so E C(v) = v exactly.
      const auto scale = static_cast<float>(1.0 / codec::RealisedKeepProbability(spec_.p));
      for (uint32_t i = 0; i < kept; ++i) values_[i] = grad[indices_[i]] * scale;
      out->sampler = wire::IndexSampler::Bernoulli;
      out->seed = seed;
      out->keep_probability = spec_.p;
      out->values = values_.first(kept);
      return;
    }
    case Kind::Qsgd:
      CompressQsgd(grad, rng, out);
      return;
    case Kind::Natural:
      CompressNatural(grad, rng, out);
      return;
    case Kind::Sign:
      codec::PackSigns(grad, packed_signs_);
      out->packed_signs = packed_signs_;
      return;
    case Kind::ScaledSign:
      codec::PackSigns(grad, packed_signs_);
      out->packed_signs = packed_signs_;
      out->scale = static_cast<float>(L1Norm(grad) / dimension_);
      return;
    case Kind::EfSign:
      CompressEfSign(grad, out);
      return;
    case Kind::TopK:
      CompressTopK(grad, out);
      return;
  }
}

namespace {

// The natural-compression code of v rounded up or down by the draw: a normal
// |v| = 1.m 2^e with e >= -63 rounds up to 2^(e+1) with probability m / 2^23
// exactly (the draw's top 23 bits against m); smaller values choose between 0
// and 2^-63 with probability |v| / 2^-63.
uint8_t NaturalCode(float v, uint32_t draw) {
  const uint32_t bits = std::bit_cast<uint32_t>(v);
  const auto sign = static_cast<uint8_t>((bits >> 31) << 7);
  const int biased_exponent = static_cast<int>((bits >> 23) & 0xFF);
  const int exponent = biased_exponent - 127;
  int code;
  if (biased_exponent == 0 || exponent < -63) {
    const double up = std::fabs(static_cast<double>(v)) * 0x1.0p63;
    code = static_cast<double>(draw) * 0x1.0p-32 < up ? 1 : 0;
  } else {
    code = std::min(127, exponent + 64 + ((draw >> 9) < (bits & 0x7FFFFF) ? 1 : 0));
  }
  return static_cast<uint8_t>(code == 0 ? 0 : (sign | code));
}

// The QSGD levels of grad[0..8) with the coins draws[0..8), as
// QuantizeBlocks' scalar tail computes them, lane by lane.
[[gnu::always_inline]] inline void EightLevels(const float* grad, const uint32_t* draws, float to_levels, float s,
                                               int32_t max_level, I32x8& level) {
  F32x8 g;
  U32x8 draw;
  std::memcpy(&g, grad, sizeof(g));
  std::memcpy(&draw, draws, sizeof(draw));
  F32x8 r = (F32x8)((U32x8)(g) & 0x7FFFFFFFu) * to_levels;
  r = r < s ? r : F32x8{} + s;
  const I32x8 whole = __builtin_convertvector(r, I32x8);  // floor, as r >= 0
  const F32x8 frac = r - __builtin_convertvector(whole, F32x8);
  const F32x8 u = __builtin_convertvector((I32x8)(draw >> 8), F32x8) * 0x1.0p-24f;
  level = whole - (u < frac);  // a true lane compares as -1
  level = level < max_level ? level : I32x8{} + max_level;
}

// Level j = QSGD level of |grad[j]| * to_levels (in [0, s]): floor(r) +
// Bernoulli(frac(r)), the coin a 24-bit uniform u from the draws of `seed`:
// P(u < frac) = ceil(frac 2^24) / 2^24, so E level = r to 2^-24, the
// precision the decoder's float arithmetic has anyway. Each block's levels
// are packed into `packed_levels` (BitsFor(s) bits each, the layout of
// codec::PackFields) and its signs into `packed_signs` while the block is
// in cache. kBits 1, 2, 4 and 8 (s = 1, 3, 15, 255) pack levels straight
// from the vector lanes; kBits = 0 (any other width) goes through 16-bit
// fields and PackFields. to_levels = 0 gives level 0 everywhere.
template <unsigned kBits>
[[gnu::always_inline]] inline void QuantizeBlocks(const float* grad, uint32_t dimension, uint64_t seed,
                                                  float to_levels, uint32_t levels, uint8_t* packed_levels,
                                                  uint8_t* packed_signs) {
  static_assert(kBits == 0 || kBits == 1 || kBits == 2 || kBits == 4 || kBits == 8);
  // 1-, 2- and 4-bit levels: the groups of eight whose levels fill one
  // 32-bit word are shifted into place and OR-ed across the lanes once.
  constexpr uint32_t kGroups = kBits == 1 || kBits == 2 || kBits == 4 ? 4 / kBits : 1;
  const auto s = static_cast<float>(levels);
  const auto max_level = static_cast<int32_t>(levels);
  const unsigned bits = codec::BitsFor(levels);
  const U32x8 lane_shift = U32x8{0, 1, 2, 3, 4, 5, 6, 7} * kBits;
  LaneRng coins(seed);
  uint32_t draws[kDrawBlock];
  uint16_t fields[kDrawBlock];
  for (uint32_t start = 0; start < dimension; start += kDrawBlock) {
    const uint32_t count = std::min(kDrawBlock, dimension - start);
    uint8_t* const block_levels = packed_levels + size_t{start} * bits / 8;
    coins.Fill(draws, count);
    uint32_t i = 0;
    for (; i + kGroups * kLanes <= count; i += kGroups * kLanes) {
      I32x8 level;
      if constexpr (kBits == 0) {
        EightLevels(grad + start + i, draws + i, to_levels, s, max_level, level);
        StoreLowHalves((U32x8)(level), fields + i);
      } else if constexpr (kBits == 8) {
        EightLevels(grad + start + i, draws + i, to_levels, s, max_level, level);
        StoreLowBytes((U32x8)(level), block_levels + i);
      } else {
        U32x8 placed = {};
#pragma GCC unroll 4
        for (uint32_t group = 0; group < kGroups; ++group) {
          const uint32_t j = i + group * kLanes;
          EightLevels(grad + start + j, draws + j, to_levels, s, max_level, level);
          placed |= (U32x8)(level) << (lane_shift + group * kLanes * kBits);
        }
        const uint32_t word = OrAcrossLanes(placed);
        std::memcpy(block_levels + i / 8 * kBits, &word, sizeof(word));
      }
    }
    const uint32_t vector_count = kBits == 0 ? 0 : i;  // levels already packed
    for (; i < count; ++i) {
      const float r = std::min(s, std::fabs(grad[start + i]) * to_levels);
      const auto whole = static_cast<int32_t>(r);
      const float frac = r - static_cast<float>(whole);
      const float u = static_cast<float>(static_cast<int32_t>(draws[i] >> 8)) * 0x1.0p-24f;
      fields[i] = static_cast<uint16_t>(std::min(whole + (u < frac ? 1 : 0), max_level));
    }
    if (vector_count < count) {
      // vector_count is a multiple of 8: its fields start a byte.
      const uint32_t rest = count - vector_count;
      codec::PackFields({fields + vector_count, rest}, bits,
                        {block_levels + size_t{vector_count} * bits / 8, codec::PackedFieldBytes(rest, bits)});
    }
    codec::PackSigns({grad + start, count}, {packed_signs + start / 8, codec::PackedSignBytes(count)});
  }
}

EDGEFL_VECTOR_CLONES void QuantizeLevels(const float* grad, uint32_t dimension, uint64_t seed, float to_levels,
                                         uint32_t levels, uint8_t* packed_levels, uint8_t* packed_signs) {
  switch (codec::BitsFor(levels)) {
    case 1:
      return QuantizeBlocks<1>(grad, dimension, seed, to_levels, levels, packed_levels, packed_signs);
    case 2:
      return QuantizeBlocks<2>(grad, dimension, seed, to_levels, levels, packed_levels, packed_signs);
    case 4:
      return QuantizeBlocks<4>(grad, dimension, seed, to_levels, levels, packed_levels, packed_signs);
    case 8:
      return QuantizeBlocks<8>(grad, dimension, seed, to_levels, levels, packed_levels, packed_signs);
    default:
      return QuantizeBlocks<0>(grad, dimension, seed, to_levels, levels, packed_levels, packed_signs);
  }
}

// codes[j] = NaturalCode(grad[j], draw j of `seed`), eight lanes at a time
// for normal values with exponent >= -63 (the common case); a group with any
// other value takes the scalar NaturalCode, with the same draws.
EDGEFL_VECTOR_CLONES void NaturalCodes(const float* grad, uint32_t dimension, uint64_t seed, uint8_t* codes) {
  LaneRng coins(seed);
  uint32_t draws[kDrawBlock];
  for (uint32_t start = 0; start < dimension; start += kDrawBlock) {
    const uint32_t count = std::min(kDrawBlock, dimension - start);
    coins.Fill(draws, count);
    // Any value that is not normal with exponent >= -63 sends the whole
    // block through the scalar NaturalCode (rare in gradients).
    I32x8 unusual = {};
    const uint32_t vector_count = count / kLanes * kLanes;
    for (uint32_t i = 0; i < vector_count; i += kLanes) {
      U32x8 bits;
      std::memcpy(&bits, grad + start + i, sizeof(bits));
      const I32x8 biased_exponent = (I32x8)((bits >> 23) & 0xFFu);
      unusual |= (biased_exponent < 127 - 63) | (biased_exponent == 255);
    }
    int32_t lanes[kLanes];
    std::memcpy(lanes, &unusual, sizeof(lanes));
    bool all_usual = true;
    for (int32_t lane : lanes) all_usual &= lane == 0;
    uint32_t i = 0;
    for (; all_usual && i < vector_count; i += kLanes) {
      U32x8 bits, draw;
      std::memcpy(&bits, grad + start + i, sizeof(bits));
      std::memcpy(&draw, draws + i, sizeof(draw));
      const I32x8 biased_exponent = (I32x8)((bits >> 23) & 0xFFu);
      // exponent + 64 + round-up = biased_exponent - 63 + (draw < m), at most 127.
      I32x8 code = biased_exponent - 63 - (I32x8)((draw >> 9) < (bits & 0x7FFFFFu));
      code = code < 127 ? code : I32x8{} + 127;
      StoreLowBytes((U32x8)(code) | ((bits >> 31) << 7), codes + start + i);
    }
    for (; i < count; ++i) codes[start + i] = NaturalCode(grad[start + i], draws[i]);
  }
}

}  // namespace

void Compressor::CompressQsgd(std::span<const float> grad, Rng& rng, codec::PayloadView* out) {
  const auto norm = static_cast<float>(std::sqrt(SquaredNorm(grad)));
  // A zero gradient quantises to level 0 everywhere (to_levels = 0); the
  // coins are drawn all the same, so the stream does not depend on it.
  const float to_levels = norm == 0.0f ? 0.0f : static_cast<float>(spec_.levels) / norm;
  QuantizeLevels(grad.data(), dimension_, rng.NextU64(), to_levels, spec_.levels, packed_levels_.data(),
                 packed_signs_.data());
  out->norm = norm;
  out->levels = spec_.levels;
  out->packed_levels = packed_levels_;
  out->packed_signs = packed_signs_;
}

void Compressor::CompressNatural(std::span<const float> grad, Rng& rng, codec::PayloadView* out) {
  // |v| in [2^a, 2^(a+1)): round up with probability |v|/2^a - 1, so the
  // expectation is |v| (Horvath et al., natural compression). Codes hold
  // exponents 2^-63 .. 2^63.
  NaturalCodes(grad.data(), dimension_, rng.NextU64(), codes_.data());
  out->codes = codes_;
}

void Compressor::CompressEfSign(std::span<float> grad, codec::PayloadView* out) {
  // p = g + e; C(p) = ||p||_1/d sign(p); e <- p - C(p)  (Karimireddy et al. 2019).
  // Two passes: p and its norm together, then e and the packed signs a
  // block at a time, while the block is in cache.
  const auto scale = static_cast<float>(AddAndL1Norm(grad, error_) / dimension_);
  for (uint32_t start = 0; start < dimension_; start += kDrawBlock) {
    const uint32_t count = std::min(kDrawBlock, dimension_ - start);
    // copysign, not a branch on the sign: signs are coin flips to a predictor.
    for (uint32_t j = start; j < start + count; ++j) error_[j] = grad[j] - std::copysign(scale, grad[j]);
    codec::PackSigns(grad.subspan(start, count), packed_signs_.subspan(start / 8, codec::PackedSignBytes(count)));
  }
  out->packed_signs = packed_signs_;
  out->scale = scale;
}

namespace {

// Top-k's key for p: |p|'s float bits with the sign cleared, which order
// like |p|. Keys (and bounds on them) are below 2^31, so in int32 lanes
// key - lo never overflows and is negative exactly when key < lo: the
// vector code tests that sign rather than compare, as GCC spells an
// eight-lane compare out lane by lane for SSE2.
inline uint32_t TopKKey(float p) { return std::bit_cast<uint32_t>(p) & 0x7FFFFFFFu; }

// Whether any of the kLanes keys at p is >= lo, or has `prefix` under
// `prefix_mask` (which never holds the sign bit).
[[gnu::always_inline]] inline bool AnyKeyAtLeast(const float* p, uint32_t lo) {
  I32x8 bits;
  std::memcpy(&bits, p, sizeof(bits));
  const I32x8 hit = ~(((bits & 0x7FFFFFFF) - static_cast<int32_t>(lo)) >> 31);
  uint64_t words[4];
  std::memcpy(words, &hit, sizeof(words));
  return (words[0] | words[1] | words[2] | words[3]) != 0;
}

[[gnu::always_inline]] inline bool AnyKeyWithPrefix(const float* p, uint32_t prefix, uint32_t prefix_mask) {
  I32x8 bits;
  std::memcpy(&bits, p, sizeof(bits));
  // x ^ prefix is in [0, 2^31): minus one, negative exactly when zero.
  const I32x8 hit = (((bits & static_cast<int32_t>(prefix_mask)) ^ static_cast<int32_t>(prefix)) - 1) >> 31;
  uint64_t words[4];
  std::memcpy(words, &hit, sizeof(words));
  return (words[0] | words[1] | words[2] | words[3]) != 0;
}

// error = grad + error (= p), the same float additions as grad[j] + error[j].
EDGEFL_VECTOR_CLONES void AddInto(const float* grad, float* error, uint32_t d) {
  uint32_t j = 0;
  for (; j + kLanes <= d; j += kLanes) {
    F32x8 g, e;
    std::memcpy(&g, grad + j, sizeof(g));
    std::memcpy(&e, error + j, sizeof(e));
    const F32x8 p = g + e;
    std::memcpy(error + j, &p, sizeof(p));
  }
  for (; j < d; ++j) error[j] = grad[j] + error[j];
}

// kCompactLanes[m]: the lanes set in the 8-bit mask m, in ascending order
// (then zeros): the shuffle that packs a group's chosen lanes to its front.
constexpr auto kCompactLanes = [] {
  std::array<std::array<int32_t, kLanes>, 256> table{};
  for (uint32_t m = 0; m < 256; ++m) {
    uint32_t n = 0;
    for (int32_t lane = 0; lane < static_cast<int32_t>(kLanes); ++lane) {
      if (m >> lane & 1) table[m][n++] = lane;
    }
  }
  return table;
}();

// AddInto, and on the way what CollectKeysAtLeast(error, ...) would return
// afterwards (if the keys do not fit, error still receives all of p). A
// group of kLanes keys with any >= lo appends all of its lanes at the end of
// the candidates, which then grow by the count: with kPack the chosen ones
// first, packed by one shuffle, and no branch on the keys at all; without,
// lane by lane, each before it is counted.
template <bool kPack>
[[gnu::always_inline]] inline uint32_t AddIntoAndCollectBody(const float* grad, float* error, uint32_t d, uint32_t lo,
                                                             uint32_t capacity, uint32_t* indices, float* values) {
  const I32x8 lane_bits = {1, 2, 4, 8, 16, 32, 64, 128};
  I32x8 index = {0, 1, 2, 3, 4, 5, 6, 7};
  uint32_t n = 0;
  bool fits = capacity >= kLanes;
  uint32_t j = 0;
  for (; j + kLanes <= d; j += kLanes, index += static_cast<int32_t>(kLanes)) {
    F32x8 g, e;
    std::memcpy(&g, grad + j, sizeof(g));
    std::memcpy(&e, error + j, sizeof(e));
    const F32x8 p = g + e;
    std::memcpy(error + j, &p, sizeof(p));
    if (!fits) continue;
    const I32x8 bits = (I32x8)(p);
    const I32x8 hit_bits = ~(((bits & 0x7FFFFFFF) - static_cast<int32_t>(lo)) >> 31) & lane_bits;
    uint64_t words[4];
    std::memcpy(words, &hit_bits, sizeof(words));
    const uint64_t folded = words[0] | words[1] | words[2] | words[3];
    const auto mask = static_cast<uint32_t>(folded | folded >> 32);
    if constexpr (kPack) {
      I32x8 lanes;
      std::memcpy(&lanes, kCompactLanes[mask].data(), sizeof(lanes));
      I32x8 packed_index, packed_bits;
      ShuffleLanes(index, lanes, packed_index);
      ShuffleLanes(bits, lanes, packed_bits);
      std::memcpy(indices + n, &packed_index, sizeof(packed_index));
      std::memcpy(values + n, &packed_bits, sizeof(packed_bits));
      n += static_cast<uint32_t>(std::popcount(mask));
    } else {
      if (mask == 0) continue;
      for (uint32_t lane = 0; lane < kLanes; ++lane) {
        indices[n] = j + lane;
        values[n] = error[j + lane];
        n += mask >> lane & 1;
      }
    }
    fits = n <= capacity - kLanes;
  }
  for (; j < d; ++j) {
    error[j] = grad[j] + error[j];
    if (fits && TopKKey(error[j]) >= lo) {
      indices[n] = j;
      values[n++] = error[j];
    }
  }
  return fits ? n : capacity + 1;
}

// AVX2 packs a group with one vpermd. SSE2 has no lane shuffle with a
// variable pattern, and NEON none of eight 32-bit lanes: GCC spells the
// shuffle out lane by lane (10x slower on SSE2), so they append lane by lane.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("avx2"))) uint32_t AddIntoAndCollect(const float* grad, float* error, uint32_t d, uint32_t lo,
                                                           uint32_t capacity, uint32_t* indices, float* values) {
  return AddIntoAndCollectBody<true>(grad, error, d, lo, capacity, indices, values);
}
__attribute__((target("default"))) uint32_t AddIntoAndCollect(const float* grad, float* error, uint32_t d,
                                                              uint32_t lo, uint32_t capacity, uint32_t* indices,
                                                              float* values) {
  return AddIntoAndCollectBody<false>(grad, error, d, lo, capacity, indices, values);
}
#else
uint32_t AddIntoAndCollect(const float* grad, float* error, uint32_t d, uint32_t lo, uint32_t capacity,
                           uint32_t* indices, float* values) {
  return AddIntoAndCollectBody<false>(grad, error, d, lo, capacity, indices, values);
}
#endif

// histogram[(key >> shift) & bin_mask]++ for each of the n keys at p with
// `prefix` under `prefix_mask`. Groups of keys without one are skipped
// after one vector compare; within a group the count is branch-free.
EDGEFL_VECTOR_CLONES void CountDigit(const float* p, uint32_t n, uint32_t prefix, uint32_t prefix_mask, uint32_t shift,
                                     uint32_t bin_mask, uint32_t* histogram) {
  const auto count = [&](uint32_t i) {
    const uint32_t key = TopKKey(p[i]);
    histogram[(key >> shift) & bin_mask] += (key & prefix_mask) == prefix ? 1u : 0u;
  };
  uint32_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    if (prefix_mask != 0 && !AnyKeyWithPrefix(p + j, prefix, prefix_mask)) continue;
    for (uint32_t i = j; i < j + kLanes; ++i) count(i);
  }
  for (; j < n; ++j) count(j);
}

// Copies (j, p[j]) for every key >= lo, in index order, to indices and
// values (capacity entries each); returns how many, or capacity + 1 if they
// do not fit (it then stops). Branch-free within a group of keys: each is
// written before it is counted.
EDGEFL_VECTOR_CLONES uint32_t CollectKeysAtLeast(const float* p, uint32_t d, uint32_t lo, uint32_t capacity,
                                                 uint32_t* indices, float* values) {
  uint32_t n = 0;
  const auto keep = [&](uint32_t i) {
    indices[n] = i;
    values[n] = p[i];
    n += TopKKey(p[i]) >= lo ? 1u : 0u;
  };
  uint32_t j = 0;
  for (; j + kLanes <= d; j += kLanes) {
    if (!AnyKeyAtLeast(p + j, lo)) continue;
    if (n > capacity - kLanes) return capacity + 1;  // only called with capacity > k: >= kTopKSamples
    for (uint32_t i = j; i < j + kLanes; ++i) keep(i);
  }
  for (; j < d; ++j) {
    if (n == capacity) return capacity + 1;
    keep(j);
  }
  return n;
}

// In index order, every key above the threshold and the first `ties` keys
// equal to it, into indices and values (k of them in all).
EDGEFL_VECTOR_CLONES void SelectAboveThreshold(const float* p, uint32_t d, uint32_t threshold, uint32_t ties,
                                               uint32_t k, uint32_t* indices, float* values) {
  uint32_t taken = 0;
  const auto visit = [&](uint32_t i) {
    const uint32_t key = TopKKey(p[i]);
    if (key > threshold || (key == threshold && ties > 0)) {
      if (key == threshold) --ties;
      indices[taken] = i;
      values[taken++] = p[i];
    }
  };
  uint32_t j = 0;
  for (; j + kLanes <= d && taken < k; j += kLanes) {
    if (!AnyKeyAtLeast(p + j, threshold)) continue;
    for (uint32_t i = j; i < j + kLanes; ++i) visit(i);
  }
  for (; j < d && taken < k; ++j) visit(j);
}

// A key of p = grad + error that about `expected` of its d keys are at or
// above, read off `samples` keys (into scratch), one from each of `samples`
// equal stretches of p at a scrambled offset, so periodic data does not
// alias.
uint32_t SampledKeyBound(const float* grad, const float* error, uint32_t d, uint32_t samples, uint64_t expected,
                         uint32_t* scratch) {
  const uint32_t stride = d / samples;
  for (uint32_t i = 0; i < samples; ++i) {
    const size_t j = size_t{i} * stride + static_cast<uint32_t>((uint64_t{i * 2654435761u} * stride) >> 32);
    scratch[i] = TopKKey(grad[j] + error[j]);
  }
  const uint64_t rank = std::clamp<uint64_t>(expected * samples / d, 1, samples) - 1;  // from the top
  std::nth_element(scratch, scratch + rank, scratch + samples, std::greater<uint32_t>());
  return scratch[rank];
}

}  // namespace

void Compressor::CompressTopK(std::span<float> grad, codec::PayloadView* out) {
  // p = g + e; send the k largest |p_j| (ties to the lower index, so the
  // choice is deterministic); e <- p with the sent coordinates zeroed.
  //
  // |p_j|'s float bits with the sign cleared (TopKKey) order like |p_j|. A
  // radix select over those keys finds the k-th largest, T, digit by digit
  // (11, 11 and 9 bits); then, in index order, every key above T and the
  // first `ties` at T are taken.
  //
  // The select runs on candidates when it can (see TopKCandidates): all
  // keys at or above a bound L, copied in index order into values_ and
  // indices_. If there are at least k of them, T >= L, so every key the
  // select and the final pass look at is among them, in the same order:
  // the result is exactly that of passes over all d keys. L comes from a
  // sample; failing that, the first digit's bin once its keys fit.
  const uint32_t k = spec_.k;
  const auto capacity = static_cast<uint32_t>(indices_.size());
  const float* keys = error_.data();  // all of p, or the candidates
  uint32_t count = dimension_;
  bool candidates = false;
  // e holds p from here on; grad is left as it is.
  if (capacity >= 2 * uint64_t{k} && capacity >= kTopKSamples) {
    const auto expected = static_cast<uint64_t>(std::sqrt(static_cast<double>(k) * capacity));
    const uint32_t bound =
        SampledKeyBound(grad.data(), error_.data(), dimension_, kTopKSamples, expected, indices_.data());
    const uint32_t n =
        AddIntoAndCollect(grad.data(), error_.data(), dimension_, bound, capacity, indices_.data(), values_.data());
    if (n >= k && n <= capacity) {
      keys = values_.data();
      count = n;
      candidates = true;
    }
  } else {
    AddInto(grad.data(), error_.data(), dimension_);
  }

  uint32_t* const histogram = histogram_.data();
  uint32_t prefix = 0, prefix_mask = 0, wanted = k;  // wanted: rank of T among keys matching the prefix
  constexpr std::pair<uint32_t, uint32_t> kDigits[] = {{20, 11}, {9, 11}, {0, 9}};  // shift, bits
  for (const auto& [shift, bits] : kDigits) {
    const uint32_t bin_mask = (1u << bits) - 1;
    std::fill(histogram, histogram + bin_mask + 1, 0u);
    CountDigit(keys, count, prefix, prefix_mask, shift, bin_mask, histogram);
    uint32_t bin = bin_mask;
    while (histogram[bin] < wanted) wanted -= histogram[bin--];
    prefix |= bin << shift;
    prefix_mask |= bin_mask << shift;
    // Keys >= prefix: the k - wanted above this bin and the bin's own.
    const uint64_t at_least = uint64_t{k} - wanted + histogram[bin];
    if (!candidates && shift != 0 && at_least < capacity) {
      const uint32_t n =
          CollectKeysAtLeast(error_.data(), dimension_, prefix, capacity, indices_.data(), values_.data());
      if (n <= capacity) {
        keys = values_.data();
        count = n;
        candidates = true;
      }
    }
  }
  const uint32_t threshold = prefix;
  uint32_t ties = wanted;  // keys equal to T to take, lowest indices first
  if (candidates) {
    // Compacts the chosen candidates in place (taken <= i), branch-free.
    uint32_t taken = 0;
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t index = indices_[i];
      const float value = values_[i];
      const uint32_t key = TopKKey(value);
      const uint32_t tie = key == threshold ? 1u : 0u;
      const uint32_t take = (key > threshold ? 1u : 0u) | (tie & (ties != 0 ? 1u : 0u));
      ties -= tie & take;
      indices_[taken] = index;
      values_[taken] = value;
      taken += take;
    }
  } else {
    SelectAboveThreshold(error_.data(), dimension_, threshold, ties, k, indices_.data(), values_.data());
  }
  for (uint32_t i = 0; i < k; ++i) error_[indices_[i]] = 0.0f;
  out->indices = indices_.first(k);
  out->values = values_.first(k);
}

}  // namespace edgefl

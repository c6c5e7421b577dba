#include "node/compressor.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/lane_rng.h"
#include "core/vector_clones.h"

#include "schemas/codec/bit_pack.h"
#include "node/vector_norms.h"
#include "schemas/codec/index_sampler.h"

namespace edgefl {
namespace {

using Kind = wire::CompressorKind;


struct BufferPlan {
  size_t values = 0, indices = 0, fields = 0, codes = 0, error = 0, histogram = 0, bitmap = 0;
};

// QSGD and natural compression draw their per-coordinate random bits in
// blocks of this many, outside the loop that uses them, and process them
// kLanes at a time with GCC vector extensions (SSE2/AVX2 on x86-64, NEON on
// aarch64).
constexpr uint32_t kDrawBlock = 64;
constexpr uint32_t kLanes = LaneRng::kLanes;
typedef float F32x8 __attribute__((vector_size(32)));
typedef int32_t I32x8 __attribute__((vector_size(32)));
typedef uint32_t U32x8 __attribute__((vector_size(32)));
typedef uint16_t U16x8 __attribute__((vector_size(16)));
typedef uint8_t U8x8 __attribute__((vector_size(8)));

// Top-k finds its threshold with a most-significant-digit radix select:
// 11, 11 and 9 bits of |p|'s 31-bit pattern, one counting pass each.
constexpr size_t kRadixBins = 2048;

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
      plan.fields = d;
      break;
    case Kind::Natural:
      plan.codes = d;
      break;
    case Kind::TopK:
      plan.values = spec.k;
      plan.indices = spec.k;
      plan.histogram = kRadixBins;
      plan.error = d;
      break;
    case Kind::EfSign:
      plan.error = d;
      break;
    default:
      break;
  }
  return plan;
}

}  // namespace

size_t Compressor::ArenaBytes(const codec::CompressorSpec& spec, uint32_t dimension) {
  const BufferPlan plan = PlanFor(spec, dimension);
  const auto rounded = [](size_t bytes) { return (bytes + Arena::kAlignment - 1) / Arena::kAlignment * Arena::kAlignment; };
  return rounded(plan.values * sizeof(float)) + rounded(plan.indices * sizeof(uint32_t)) +
         rounded(plan.fields * sizeof(uint16_t)) + rounded(plan.codes) + rounded(plan.error * sizeof(float)) +
         rounded(plan.histogram * sizeof(uint32_t)) + rounded(plan.bitmap * sizeof(uint64_t));
}

Compressor::Compressor(const codec::CompressorSpec& spec, uint32_t dimension, Arena& arena)
    : spec_(spec), dimension_(dimension) {
  const BufferPlan plan = PlanFor(spec, dimension);
  if (plan.values) values_ = arena.Allocate<float>(plan.values, "compressor values");
  if (plan.indices) indices_ = arena.Allocate<uint32_t>(plan.indices, "compressor indices");
  if (plan.fields) fields_ = arena.Allocate<uint16_t>(plan.fields, "qsgd levels");
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
      out->sign_source = grad;
      return;
    case Kind::ScaledSign:
      out->sign_source = grad;
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

// fields[j] = QSGD level of |grad[j]| * to_levels (in [0, s]): floor(r) +
// Bernoulli(frac(r)), the coin a 24-bit uniform u from the draws of `seed`:
// P(u < frac) = ceil(frac 2^24) / 2^24, so E level = r to 2^-24, the
// precision the decoder's float arithmetic has anyway.
EDGEFL_VECTOR_CLONES void QuantizeLevels(const float* grad, uint32_t dimension, uint64_t seed, float to_levels,
                                         uint32_t levels, uint16_t* fields) {
  const auto s = static_cast<float>(levels);
  const auto max_level = static_cast<int32_t>(levels);
  LaneRng coins(seed);
  uint32_t draws[kDrawBlock];
  for (uint32_t start = 0; start < dimension; start += kDrawBlock) {
    const uint32_t count = std::min(kDrawBlock, dimension - start);
    coins.Fill(draws, count);
    uint32_t i = 0;
    for (; i + kLanes <= count; i += kLanes) {
      F32x8 g;
      U32x8 draw;
      std::memcpy(&g, grad + start + i, sizeof(g));
      std::memcpy(&draw, draws + i, sizeof(draw));
      F32x8 r = (F32x8)((U32x8)(g) & 0x7FFFFFFFu) * to_levels;
      r = r < s ? r : F32x8{} + s;
      const I32x8 whole = __builtin_convertvector(r, I32x8);  // floor, as r >= 0
      const F32x8 frac = r - __builtin_convertvector(whole, F32x8);
      const F32x8 u = __builtin_convertvector((I32x8)(draw >> 8), F32x8) * 0x1.0p-24f;
      I32x8 level = whole - (u < frac);  // a true lane compares as -1
      level = level < max_level ? level : I32x8{} + max_level;
      const U16x8 narrow = __builtin_convertvector(level, U16x8);
      std::memcpy(fields + start + i, &narrow, sizeof(narrow));
    }
    for (; i < count; ++i) {
      const float r = std::min(s, std::fabs(grad[start + i]) * to_levels);
      const auto whole = static_cast<int32_t>(r);
      const float frac = r - static_cast<float>(whole);
      const float u = static_cast<float>(static_cast<int32_t>(draws[i] >> 8)) * 0x1.0p-24f;
      fields[start + i] = static_cast<uint16_t>(std::min(whole + (u < frac ? 1 : 0), max_level));
    }
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
      const U8x8 narrow = __builtin_convertvector((U32x8)(code) | ((bits >> 31) << 7), U8x8);
      std::memcpy(codes + start + i, &narrow, sizeof(narrow));
    }
    for (; i < count; ++i) codes[start + i] = NaturalCode(grad[start + i], draws[i]);
  }
}

}  // namespace

void Compressor::CompressQsgd(std::span<const float> grad, Rng& rng, codec::PayloadView* out) {
  const auto norm = static_cast<float>(std::sqrt(SquaredNorm(grad)));
  const auto s = static_cast<float>(spec_.levels);
  if (norm == 0.0f) {
    std::fill(fields_.begin(), fields_.end(), uint16_t{0});
  } else {
    QuantizeLevels(grad.data(), dimension_, rng.NextU64(), s / norm, spec_.levels, fields_.data());
  }
  out->norm = norm;
  out->levels = spec_.levels;
  out->level_fields = fields_;
  out->sign_source = grad;
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
  for (uint32_t j = 0; j < dimension_; ++j) grad[j] += error_[j];
  const auto scale = static_cast<float>(L1Norm(grad) / dimension_);
  // copysign, not a branch on the sign: signs are coin flips to a predictor.
  for (uint32_t j = 0; j < dimension_; ++j) error_[j] = grad[j] - std::copysign(scale, grad[j]);
  out->sign_source = grad;
  out->scale = scale;
}

void Compressor::CompressTopK(std::span<float> grad, codec::PayloadView* out) {
  // p = g + e; send the k largest |p_j| (ties to the lower index, so the
  // choice is deterministic); e <- p with the sent coordinates zeroed.
  //
  // |p_j|'s float bits with the sign cleared order like |p_j|. A radix
  // select over those keys finds the k-th largest, T, in three counting
  // passes; then one pass takes, in index order, every key above T and the
  // first ties at T.
  for (uint32_t j = 0; j < dimension_; ++j) grad[j] += error_[j];
  const auto key = [&grad](uint32_t j) { return std::bit_cast<uint32_t>(grad[j]) & 0x7FFFFFFFu; };
  const uint32_t k = spec_.k;
  uint32_t prefix = 0, prefix_mask = 0, wanted = k;  // wanted: rank of T among keys matching the prefix
  for (const auto& [shift, bits] : {std::pair{20u, 11u}, std::pair{9u, 11u}, std::pair{0u, 9u}}) {
    const uint32_t bin_mask = (1u << bits) - 1;
    std::fill(histogram_.begin(), histogram_.begin() + (bin_mask + 1), 0u);
    for (uint32_t j = 0; j < dimension_; ++j) {
      const uint32_t kj = key(j);
      if ((kj & prefix_mask) == prefix) ++histogram_[(kj >> shift) & bin_mask];
    }
    uint32_t bin = bin_mask;
    while (histogram_[bin] < wanted) wanted -= histogram_[bin--];
    prefix |= bin << shift;
    prefix_mask |= bin_mask << shift;
  }
  const uint32_t threshold = prefix;
  uint32_t ties = wanted;  // keys equal to T to take, lowest indices first
  std::copy(grad.begin(), grad.end(), error_.begin());
  uint32_t taken = 0;
  for (uint32_t j = 0; j < dimension_ && taken < k; ++j) {
    const uint32_t kj = key(j);
    if (kj > threshold || (kj == threshold && ties > 0)) {
      if (kj == threshold) --ties;
      indices_[taken] = j;
      values_[taken++] = grad[j];
      error_[j] = 0.0f;
    }
  }
  out->indices = indices_.first(k);
  out->values = values_.first(k);
}

double CompressorOmega(const codec::CompressorSpec& spec, uint32_t dimension) {
  const double d = dimension;
  switch (spec.kind) {
    case Kind::Identity:
      return 0.0;
    case Kind::RandK:
      return d / spec.k - 1.0;
    case Kind::Bernoulli:
      return 1.0 / codec::RealisedKeepProbability(spec.p) - 1.0;
    case Kind::Qsgd: {
      const double s = spec.levels;
      return std::min(d / (s * s), std::sqrt(d) / s);
    }
    case Kind::Natural:
      return 1.0 / 8.0;
    default:
      return std::numeric_limits<double>::quiet_NaN();
  }
}

double PayloadBitsPerCoordinate(const codec::CompressorSpec& spec, uint32_t dimension) {
  const double d = dimension;
  switch (spec.kind) {
    case Kind::Identity:
      return 32.0;
    case Kind::RandK:
      return (32.0 * spec.k + 64.0) / d;
    case Kind::Bernoulli:
      return 32.0 * codec::RealisedKeepProbability(spec.p) + 64.0 / d;
    case Kind::Qsgd:
      return codec::BitsFor(spec.levels) + 1.0 + 32.0 / d;
    case Kind::Natural:
      return 8.0;
    case Kind::Sign:
      return 1.0;
    case Kind::ScaledSign:
    case Kind::EfSign:
      return 1.0 + 32.0 / d;
    case Kind::TopK:
      return 64.0 * spec.k / d;
  }
  return 0.0;
}

}  // namespace edgefl

// ExactSum: an order-independent running sum of f32 vectors.
//
// Updates reach the coordinator in a different order every run, and float
// addition is not associative, so a float running sum would change the model
// from run to run. Here every value is converted to a 128-bit fixed-point
// integer with 64 fractional bits (round half away from zero at 2^-64), and
// integers add associatively: the sum is the same bit for bit in any order.
// It is exact for every f32 that is a multiple of 2^-64 — all normal values
// above 2^-41 — and sums 2^20 values of magnitude below 2^40
// (codec::kMaxUpdateMagnitude, enforced on decode) without overflow.
//
// Storage: each sum S_j is kept as two 64-bit limbs, S_j = high_j * 2^62 +
// low_j with low_j in [0, 2^62). A limb of 62 rather than 64 bits leaves
// headroom: an addend's low part (|L| < 2^62) never overflows low_j, and the
// carry is an arithmetic shift rather than an unsigned compare, so an add is
// a few 64-bit operations. high_j stays below 2^62 for |S_j| < 2^124. The
// integer S_j is the one a single __int128 would hold, so Sum() and Value()
// are unchanged bit for bit.
// Memory: 16 bytes a coordinate. Not thread-safe.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace edgefl {

class ExactSum {
 public:
  __extension__ typedef __int128 Fixed;
  static constexpr int kFractionBits = 64;

  explicit ExactSum(uint32_t dimension)
      : dimension_(dimension), low_(new int64_t[dimension]()), high_(new int64_t[dimension]()) {}

  uint32_t dimension() const { return dimension_; }
  void Clear() {
    std::fill(low_.get(), low_.get() + dimension_, int64_t{0});
    std::fill(high_.get(), high_.get() + dimension_, int64_t{0});
  }

  // Adds values[j] to sum j for every j < dimension().
  void AddDense(std::span<const float> values) {
    assert(values.size() >= dimension_);
    const float* v = values.data();
    // Blocks small enough to stay in L1 between the scan and the adds.
    constexpr uint32_t kBlock = 256;
    for (uint32_t start = 0; start < dimension_; start += kBlock) {
      const uint32_t end = std::min(dimension_, start + kBlock);
      if (AllOrdinary(v + start, end - start)) {
        for (uint32_t j = start; j < end; ++j) AddOrdinary(j, v[j]);
      } else {
        for (uint32_t j = start; j < end; ++j) AddAny(j, v[j]);
      }
    }
  }
  void AddSparse(std::span<const uint32_t> indices, std::span<const float> values) {
    for (size_t i = 0; i < indices.size(); ++i) AddAny(indices[i], values[i]);
  }
  // Adds +magnitude to sum j where bit j of `packed` is clear and -magnitude
  // where it is set (bit j in byte j/8, LSB first, as codec::PackSigns).
  void AddSigns(std::span<const uint8_t> packed, Fixed magnitude) {
    // Indexed by the bit: a load instead of a branch on random signs.
    const Limbs addend[2] = {Split(magnitude), Split(-magnitude)};
    const uint32_t full = dimension_ / 8;
    for (uint32_t b = 0; b < full; ++b) {
      const unsigned byte = packed[b];
      for (uint32_t i = 0; i < 8; ++i) {
        const Limbs& a = addend[(byte >> i) & 1u];
        AddLimbs(b * 8 + i, a.high, a.low);
      }
    }
    for (uint32_t j = full * 8; j < dimension_; ++j) {
      const Limbs& a = addend[(packed[j >> 3] >> (j & 7)) & 1u];
      AddLimbs(j, a.high, a.low);
    }
  }
  void Add(uint32_t j, Fixed value) {
    const Limbs limbs = Split(value);
    AddLimbs(j, limbs.high, limbs.low);
  }

  // The exact sum j in units of 2^-64.
  Fixed Sum(uint32_t j) const { return static_cast<Fixed>(high_[j]) * (Fixed{1} << kLowBits) + low_[j]; }

  // sum_j * scale, rounded once to double.
  double Value(uint32_t j, double scale = 1.0) const { return static_cast<double>(Sum(j)) * 0x1.0p-64 * scale; }

  // v * 2^64 rounded to an integer, for |v| < 2^40 (larger values saturate
  // at +-2^104, which decoding never lets through). This is the definition;
  // the fast paths below must agree with it for every input.
  static Fixed ToFixed(float v) {
    const uint32_t bits = std::bit_cast<uint32_t>(v);
    const int biased = static_cast<int>((bits >> 23) & 0xFF);
    uint32_t mantissa = bits & 0x7FFFFF;
    int exponent;  // |v| = mantissa * 2^exponent
    if (biased == 0) {
      exponent = -149;
    } else {
      mantissa |= 0x800000;
      exponent = biased - 150;
    }
    const int shift = exponent + kFractionBits;
    Fixed magnitude;
    if (shift >= 0) {
      magnitude = static_cast<Fixed>(mantissa) << (shift > 80 ? 80 : shift);
    } else if (shift > -25) {
      const uint32_t half = uint32_t{1} << (-shift - 1);
      magnitude = static_cast<Fixed>((uint64_t{mantissa} + half) >> -shift);
    } else {
      magnitude = 0;
    }
    return (bits >> 31) ? -magnitude : magnitude;
  }

 private:
  static constexpr int kLowBits = 62;
  static constexpr int64_t kLowMask = (int64_t{1} << kLowBits) - 1;
  // Float bit patterns (sign cleared) bounding the ordinary values
  // 2^-41 <= |v| < 2^40, whose v * 2^64 is an integer below 2^104.
  static constexpr uint32_t kOrdinaryMinBits = (127 - 41) << 23;
  static constexpr uint32_t kOrdinaryEndBits = (127 + 40) << 23;

  struct Limbs {
    int64_t high;
    int64_t low;
  };

  // value = high * 2^62 + low with low in [0, 2^62).
  static Limbs Split(Fixed value) {
    return {static_cast<int64_t>(value >> kLowBits), static_cast<int64_t>(value & kLowMask)};
  }

  // Adds high * 2^62 + low for any |low| < 2^62: low_ + low stays within
  // (-2^62, 2^63), and its bits from 62 up (-1, 0 or 1) carry into high_.
  void AddLimbs(uint32_t j, int64_t high, int64_t low) {
    const int64_t sum = low_[j] + low;
    low_[j] = sum & kLowMask;
    high_[j] += high + (sum >> kLowBits);
  }

  // True if every value is 0 or ordinary (a scan the compiler vectorises).
  static bool AllOrdinary(const float* v, uint32_t count) {
    uint32_t unusual = 0;
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t abs_bits = std::bit_cast<uint32_t>(v[i]) & 0x7FFFFFFFu;
      unusual |= static_cast<uint32_t>(abs_bits - kOrdinaryMinBits >= kOrdinaryEndBits - kOrdinaryMinBits) &
                 static_cast<uint32_t>(abs_bits != 0);
    }
    return unusual == 0;
  }

  // v * 2^64 for v = 0 or ordinary, in float arithmetic where every step is
  // exact: w = 4v (a power-of-two scaling), h = trunc(w) is an integer float
  // (|h| < 2^42), w - h keeps the bits of w below 1 (the same sign as v),
  // and since v >= 2^-41 has no bits below 2^-64, (w - h) * 2^62 is an
  // integer below 2^62. So v * 2^64 = h * 2^62 + (w - h) * 2^62 with two
  // exact conversions and no rounding: ToFixed(v) for these v, without its
  // branches and 128-bit shifts.
  void AddOrdinary(uint32_t j, float v) {
    const float w = v * 4.0f;
    const auto high = static_cast<int64_t>(w);
    AddLimbs(j, high, static_cast<int64_t>((w - static_cast<float>(high)) * 0x1.0p62f));
  }

  void AddAny(uint32_t j, float v) {
    const uint32_t abs_bits = std::bit_cast<uint32_t>(v) & 0x7FFFFFFFu;
    if (abs_bits - kOrdinaryMinBits < kOrdinaryEndBits - kOrdinaryMinBits || abs_bits == 0) {
      AddOrdinary(j, v);
    } else {
      Add(j, ToFixed(v));
    }
  }

  uint32_t dimension_;
  std::unique_ptr<int64_t[]> low_;
  std::unique_ptr<int64_t[]> high_;
};

}  // namespace edgefl

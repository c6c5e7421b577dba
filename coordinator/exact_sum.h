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
// Memory: 16 bytes a coordinate. Not thread-safe.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <span>

namespace edgefl {

class ExactSum {
 public:
  __extension__ typedef __int128 Fixed;
  static constexpr int kFractionBits = 64;

  explicit ExactSum(uint32_t dimension) : dimension_(dimension), sums_(new Fixed[dimension]()) {}

  uint32_t dimension() const { return dimension_; }
  void Clear() { std::fill(sums_.get(), sums_.get() + dimension_, Fixed{0}); }

  void AddDense(std::span<const float> values) {
    for (uint32_t j = 0; j < dimension_; ++j) sums_[j] += ToFixed(values[j]);
  }
  void AddSparse(std::span<const uint32_t> indices, std::span<const float> values) {
    for (size_t i = 0; i < indices.size(); ++i) sums_[indices[i]] += ToFixed(values[i]);
  }
  void Add(uint32_t j, Fixed value) { sums_[j] += value; }

  // sum_j * scale, rounded once to double.
  double Value(uint32_t j, double scale = 1.0) const {
    return static_cast<double>(sums_[j]) * 0x1.0p-64 * scale;
  }

  // v * 2^64 rounded to an integer, for |v| < 2^40 (larger values saturate
  // at +-2^104, which decoding never lets through).
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
  uint32_t dimension_;
  std::unique_ptr<Fixed[]> sums_;
};

}  // namespace edgefl

// ExactSum: an order-independent running sum of f32 vectors.
//
// Updates reach the coordinator in a different order every run, and float
// addition is not associative, so a float running sum would change the model
// from run to run. Here every value is converted to a 128-bit fixed-point
// integer with 64 fractional bits (round half away from zero at 2^-64), and
// integers add associatively: the sum is the same bit for bit in any order,
// and in any grouping (one vector at a time or a batch at once).
// It is exact for every f32 that is a multiple of 2^-64 — all normal values
// above 2^-41 — and sums 2^20 values of magnitude below 2^40
// (codec::kMaxUpdateMagnitude, enforced on decode) without overflow.
//
// Weights: an addend of weight w (1 <= w <= 2^20) adds w * ToFixed(v), an
// integer, so a weighted sum is exact and order-independent too, and the
// same bit for bit as adding the vector w times. The weights count against
// the 2^20 values above (codec::kMaxRoundWeight): weights totalling at most
// 2^20 never overflow. Weighted values take the same limb rows: w v is exact
// in double (a 24-bit significand times w < 2^21), and while |w v| < 2^40
// the split below is exact in double too, giving four limbs below 2^26 as
// any value's: a weighted vector counts once towards kMaxUnfolded, and
// costs the kernels double lanes instead of float ones. Other values
// (|w v| >= 2^40, or |v| below 2^-41) take w * ToFixed(v).
//
// Storage: each sum S_j is kept as two 64-bit limbs, S_j = high_j * 2^62 +
// low_j with low_j in [0, 2^62). A limb of 62 rather than 64 bits leaves
// headroom: an addend's low part (|L| < 2^62) never overflows low_j, and the
// carry is an arithmetic shift rather than an unsigned compare. high_j stays
// below 2^62 for |S_j| < 2^124. The integer S_j is the one a single __int128
// would hold, so Sum() and Value() are unchanged bit for bit.
//
// Speed (exact_sum.cc): every "ordinary" value of a dense vector or a sign
// update (0 or 2^-41 <= |v| < 2^40) is split, with exact float steps that
// vectorise, into four int32 limbs of 26 bits (v * 2^64 = q0 2^78 + q1 2^52 +
// q2 2^26 + q3), and the limbs are summed in four int32 rows. 32 limbs below
// 2^26 sum below 2^31, so the rows are folded into the 128-bit sums once
// every kMaxUnfolded vectors, and Sum() adds what is not folded yet. Other
// values take the scalar ToFixed path. Work goes a block of kMagnitudeBlock
// coordinates at a time: a block's rows stay in registers while every vector
// of a batch adds to them, only the rows its values reach are touched, and a
// fold that is due happens block by block in the same pass.
// Memory: 32 bytes a coordinate and 64 KiB. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/block_magnitudes.h"

namespace edgefl {

class ExactSum {
 public:
  __extension__ typedef __int128 Fixed;
  __extension__ typedef unsigned __int128 UnsignedFixed;
  static constexpr int kFractionBits = 64;
  // Vectors summed in the int32 limb rows between folds.
  static constexpr uint32_t kMaxUnfolded = 32;

  explicit ExactSum(uint32_t dimension);

  uint32_t dimension() const { return dimension_; }
  void Clear();

  // A dense vector to add, at least dimension() long: its values, or a
  // function that writes values [start, start + count) (count <=
  // kMagnitudeBlock) to `out` from a compact form, called once a block.
  // `magnitudes`, when given, must be ScanBlockMagnitudes of exactly these
  // values (the decoder computes them while checking an update); when empty
  // they are scanned here.
  struct DenseAddend {
    using BlockDecoder = void (*)(const void* context, uint32_t start, uint32_t count, float* out);
    std::span<const float> values;
    std::span<const BlockMagnitude> magnitudes = {};
    BlockDecoder decode_block = nullptr;  // when set, used instead of `values`
    const void* context = nullptr;
    uint32_t weight = 1;  // the vector counts this many times (>= 1)
  };
  // +magnitude at coordinate j where bit j of `packed` is clear, -magnitude
  // where it is set (bit j in byte j/8, LSB first, as codec::PackSigns).
  struct SignAddend {
    std::span<const uint8_t> packed;
    float magnitude = 0.0f;
    uint32_t weight = 1;  // the vector counts this many times (>= 1)
  };

  // Adds values[j] to sum j for every j < dimension().
  void AddDense(std::span<const float> values, std::span<const BlockMagnitude> magnitudes = {}) {
    AddDense(DenseAddend{values, magnitudes});
  }
  void AddDense(const DenseAddend& addend) { AddDenseBatch({&addend, 1}); }
  // Adds every vector of `batch` (at most kMaxUnfolded) in one pass over the
  // sums, whose rows stay in registers while every vector adds to them: B
  // vectors cost one pass over the rows instead of B. The same sums as
  // AddDense each, bit for bit.
  void AddDenseBatch(std::span<const DenseAddend> batch);
  void AddSigns(std::span<const uint8_t> packed, float magnitude, uint32_t weight = 1) {
    const SignAddend addend{packed, magnitude, weight};
    AddSignsBatch({&addend, 1});
  }
  // Adds every sign vector of `batch` (at most kMaxUnfolded) in one pass.
  void AddSignsBatch(std::span<const SignAddend> batch);
  // Adds weight * values[i] to sum indices[i].
  void AddSparse(std::span<const uint32_t> indices, std::span<const float> values, uint32_t weight = 1);
  void Add(uint32_t j, Fixed value);

  // The exact sum j in units of 2^-64.
  Fixed Sum(uint32_t j) const;

  // sum_j * scale, rounded once to double.
  double Value(uint32_t j, double scale = 1.0) const { return static_cast<double>(Sum(j)) * 0x1.0p-64 * scale; }

  // v * 2^64 rounded to an integer, for |v| < 2^40 (larger values saturate
  // at +-2^104, which decoding never lets through). This is the definition;
  // the fast paths must agree with it for every input.
  static Fixed ToFixed(float v);

 private:
  static constexpr int kLowBits = 62;
  static constexpr int64_t kLowMask = (int64_t{1} << kLowBits) - 1;

  // Adds high * 2^62 + low for any |low| < 2^62: low_ + low stays within
  // (-2^62, 2^63), and its bits from 62 up (-1, 0 or 1) carry into high_.
  void AddLimbs(uint32_t j, int64_t high, int64_t low) {
    const int64_t sum = low_[j] + low;
    low_[j] = sum & kLowMask;
    high_[j] += high + (sum >> kLowBits);
  }

  // Counts `count` more vectors into the limb rows. Returns true when they
  // would not fit below kMaxUnfolded: the caller must then FoldBlock every
  // block before it adds to it.
  bool CountUnfolded(uint32_t count);
  // Folds the limb rows of coordinates [start, start + count) into their
  // 128-bit sums and clears them.
  void FoldBlock(uint32_t start, uint32_t count);
  // The row pointers at coordinate `start`.
  void RowsAt(uint32_t start, int32_t* rows[4]) {
    for (int i = 0; i < 4; ++i) rows[i] = Row(i) + start;
  }
  int32_t* Row(int i) { return limbs_.get() + static_cast<size_t>(i) * dimension_; }

  uint32_t dimension_;
  std::unique_ptr<int64_t[]> low_;
  std::unique_ptr<int64_t[]> high_;
  std::unique_ptr<int32_t[]> limbs_;  // four rows of dimension_: q0, q1, q2, q3 sums
  std::unique_ptr<float[]> decoded_;  // a block of each compact addend of a batch
  uint32_t unfolded_ = 0;             // vectors in limbs_ since the last fold
};

// Exact division by a divisor fixed in advance, without a division: for
// every S that is a multiple of `divisor`, Quotient(S) = S / divisor. With
// divisor = 2^s o, o odd, S >> s is exact, and multiplying it by o's inverse
// modulo 2^128 gives the quotient, since q o = S / 2^s (Granlund and
// Montgomery, "Division by Invariant Integers using Multiplication", PLDI
// 1994, section 9). The inverse comes from Newton's iteration x <- x (2 -
// o x), which doubles the correct low bits each time from the 3 that x = o
// has (o^2 = 1 mod 8). The mean divides its weighted sums by the weights'
// gcd with it, d sums a round, at the cost of a multiplication each.
class ExactDivisor {
 public:
  explicit ExactDivisor(uint64_t divisor);
  ExactSum::Fixed Quotient(ExactSum::Fixed multiple) const {
    return static_cast<ExactSum::Fixed>(static_cast<ExactSum::UnsignedFixed>(multiple >> shift_) * inverse_);
  }

 private:
  int shift_;
  ExactSum::UnsignedFixed inverse_;
};

}  // namespace edgefl

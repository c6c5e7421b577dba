#include "coordinator/exact_sum.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "core/vectors.h"

// The 128-bit sums: ToFixed, scalar adds, and folding the limb rows into
// the sums. The batch kernels (AddDenseBatch, AddSignsBatch) that fill the
// limb rows are in exact_sum_batch.cc.

namespace edgefl {
namespace {

// S += a0 2^78 + a1 2^52 + a2 2^26 + a3 (|a_i| < 2^31) for the sums kept as
// high 2^62 + low (exact_sum.h): a0 2^78 = (a0 2^16) 2^62, a1 2^52 =
// (a1 >> 10) 2^62 + (a1 & 1023) 2^52 (the caller splits a1 in int32), and
// L = (a1 & 1023) 2^52 + a2 2^26 + a3 lies in (-2^58, 2^62 + 2^58), so its
// bits from 62 up (-1, 0 or 1) move to high first. Then low + L lies in
// [0, 2^63) and carries the same way. AVX2 has no arithmetic shift of
// 64-bit lanes, so the carries are logical shifts of non-negative values:
// L + 2^62 >= 0, and floor(L / 2^62) = ((L + 2^62) >> 62) - 1.
template <typename Int, typename UInt>
[[gnu::always_inline]] inline void FoldOne(const Int& a0, const Int& a1_high, const Int& a1_low, const Int& a2,
                                           const Int& a3, Int& low, Int& high) {
  constexpr int64_t kMask = (int64_t{1} << 62) - 1;
  constexpr int64_t kBias = int64_t{1} << 62;
  const Int addend = (a1_low << 52) + (a2 << 26) + a3;
  const Int sum = low + (addend & kMask);
  low = sum & kMask;
  const Int addend_carry = (Int)((UInt)(addend + kBias) >> 62) - 1;
  const Int sum_carry = (Int)((UInt)sum >> 62);
  high += (a0 << 16) + a1_high + addend_carry + sum_carry;
}

// Adds the limb sums of rows[.][j] to sum j, for j < count.
EDGEFL_VECTOR_CLONES void FoldLimbSums(int32_t* const rows[4], uint32_t count, int64_t* __restrict low,
                                       int64_t* __restrict high) {
  typedef uint64_t U64x4 __attribute__((vector_size(32)));
  uint32_t j = 0;
  for (; j + 4 <= count; j += 4) {
    I32x4 a0, a1, a2, a3;
    std::memcpy(&a0, rows[0] + j, sizeof(a0));
    std::memcpy(&a1, rows[1] + j, sizeof(a1));
    std::memcpy(&a2, rows[2] + j, sizeof(a2));
    std::memcpy(&a3, rows[3] + j, sizeof(a3));
    I64x4 l, h;
    std::memcpy(&l, low + j, sizeof(l));
    std::memcpy(&h, high + j, sizeof(h));
    FoldOne<I64x4, U64x4>(__builtin_convertvector(a0, I64x4), __builtin_convertvector(a1 >> 10, I64x4),
                          __builtin_convertvector(a1 & 1023, I64x4), __builtin_convertvector(a2, I64x4),
                          __builtin_convertvector(a3, I64x4), l, h);
    std::memcpy(low + j, &l, sizeof(l));
    std::memcpy(high + j, &h, sizeof(h));
  }
  for (; j < count; ++j) {
    const int32_t a1 = rows[1][j];
    FoldOne<int64_t, uint64_t>(rows[0][j], a1 >> 10, a1 & 1023, rows[2][j], rows[3][j], low[j], high[j]);
  }
}

}  // namespace

ExactSum::ExactSum(uint32_t dimension)
    : dimension_(dimension),
      low_(new int64_t[dimension]()),
      high_(new int64_t[dimension]()),
      limbs_(new int32_t[4 * size_t{dimension}]()),
      decoded_(new float[kMaxUnfolded * kMagnitudeBlock]) {}

void ExactSum::Clear() {
  std::fill(low_.get(), low_.get() + dimension_, int64_t{0});
  std::fill(high_.get(), high_.get() + dimension_, int64_t{0});
  std::fill(limbs_.get(), limbs_.get() + 4 * size_t{dimension_}, 0);
  unfolded_ = 0;
}

ExactSum::Fixed ExactSum::ToFixed(float v) {
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

void ExactSum::Add(uint32_t j, Fixed value) {
  AddLimbs(j, static_cast<int64_t>(value >> kLowBits), static_cast<int64_t>(value & kLowMask));
}

bool ExactSum::CountUnfolded(uint32_t count) {
  assert(count <= kMaxUnfolded);
  const bool fold = unfolded_ + count > kMaxUnfolded;
  unfolded_ = fold ? count : unfolded_ + count;
  return fold;
}

void ExactSum::FoldBlock(uint32_t start, uint32_t count) {
  int32_t* rows[4];
  RowsAt(start, rows);
  FoldLimbSums(rows, count, low_.get() + start, high_.get() + start);
  for (int32_t* row : rows) std::fill(row, row + count, 0);
}

// |ToFixed(v)| <= 2^104 and w <= 2^20 (codec::kMaxRoundWeight): every
// product fits a Fixed, and Add takes it.
void ExactSum::AddSparse(std::span<const uint32_t> indices, std::span<const float> values, uint32_t weight) {
  const Fixed w = weight;
  for (size_t i = 0; i < indices.size(); ++i) Add(indices[i], ToFixed(values[i]) * w);
}

ExactSum::Fixed ExactSum::Sum(uint32_t j) const {
  const size_t d = dimension_;
  const Fixed unfolded = (static_cast<Fixed>(limbs_[j]) << 78) + (static_cast<Fixed>(limbs_[d + j]) << 52) +
                         (static_cast<Fixed>(limbs_[2 * d + j]) << 26) + limbs_[3 * d + j];
  return static_cast<Fixed>(high_[j]) * (Fixed{1} << kLowBits) + low_[j] + unfolded;
}

ExactDivisor::ExactDivisor(uint64_t divisor) {
  assert(divisor > 0);
  shift_ = std::countr_zero(divisor);
  const ExactSum::UnsignedFixed odd = divisor >> shift_;
  ExactSum::UnsignedFixed inverse = odd;  // right in the low 3 bits
  for (int bits = 3; bits < 128; bits *= 2) inverse *= 2 - odd * inverse;
  inverse_ = inverse;
}

}  // namespace edgefl

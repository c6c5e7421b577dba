#include "coordinator/exact_sum.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>

#include "core/vectors.h"

// The kernels below use the eight-lane vector types of core/vectors.h.

namespace edgefl {
namespace {

// Coordinates checked for ordinary values at a time (2 KB of floats, in L1).
constexpr uint32_t kBlock = 512;


// Float bit patterns (sign cleared) bounding the ordinary values
// 2^-41 <= |v| < 2^40, whose v * 2^64 is an integer below 2^104.
constexpr uint32_t kOrdinaryMinBits = (127 - 41) << 23;
constexpr uint32_t kOrdinaryEndBits = (127 + 40) << 23;

bool IsOrdinary(float v) {
  const uint32_t abs_bits = std::bit_cast<uint32_t>(v) & 0x7FFFFFFFu;
  return abs_bits - kOrdinaryMinBits < kOrdinaryEndBits - kOrdinaryMinBits || abs_bits == 0;
}

// v * 2^64 = q0 2^78 + q1 2^52 + q2 2^26 + q3 for ordinary v, |q_i| < 2^26,
// every q_i with the sign of v. Each step is exact in float: f = v 2^-14 is a
// power-of-two scaling (|f| < 2^26); q = trunc(f) is an integer below 2^26;
// f - q keeps f's bits below 1, which fit f's 24-bit significand; scaling by
// 2^26 is exact again. After three rounds f = v 2^64 mod 2^26 is an integer,
// because an ordinary v has no bits below 2^-64. The vector kernel performs
// the same steps lane by lane.
void SplitOrdinary(float v, int32_t q[4]) {
  float f = v * 0x1.0p-14f;
  for (int i = 0; i < 3; ++i) {
    q[i] = static_cast<int32_t>(f);
    f = (f - static_cast<float>(q[i])) * 0x1.0p26f;
  }
  q[3] = static_cast<int32_t>(f);
}

// rows[i][j] += q_i of one ordinary v: the scalar path beside the kernels.
void AddOrdinaryValue(float v, int32_t* const rows[4], uint32_t j) {
  int32_t q[4];
  SplitOrdinary(v, q);
  for (int i = 0; i < 4; ++i) rows[i][j] += q[i];
}

// row[0..8) += q. Inlined into each clone, so it takes the clone's ISA.
[[gnu::always_inline]] inline void AddToRow(int32_t* row, const I32x8& q) {
  I32x8 sum;
  std::memcpy(&sum, row, sizeof(sum));
  sum += q;
  std::memcpy(row, &sum, sizeof(sum));
}

// Limb row i holds the bits of v * 2^64 from 2^(26 (3 - i)) up, that is the
// bits of v from 2^kRowLowestBit[i] to 2^(kRowLowestBit[i] + 25).
constexpr int kRowLowestBit[4] = {14, -12, -38, -64};

// The limb rows a run of values can touch, or none when some value is not
// ordinary (or when all are zero: first_row > last_row).
struct RowSpan {
  bool ordinary = false;
  int first_row = 0;
  int last_row = -1;
};

// A value with exponent e has bits from 2^(e - 23) to 2^e, so only the rows
// that meet [min_e - 23, max_e] over the run's nonzero values can be
// nonzero: most gradients need two or three of the four rows.
EDGEFL_VECTOR_CLONES RowSpan Classify(const float* v, uint32_t count) {
  U32x8 largest = {}, smallest = U32x8{} + 0xFFFFFFFFu;  // over nonzero |v| bits
  uint32_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    U32x8 bits;
    std::memcpy(&bits, v + i, sizeof(bits));
    bits &= 0x7FFFFFFFu;
    largest = bits > largest ? bits : largest;
    const U32x8 nonzero = bits == 0u ? U32x8{} + 0xFFFFFFFFu : bits;
    smallest = nonzero < smallest ? nonzero : smallest;
  }
  uint32_t max_bits = 0, min_bits = 0xFFFFFFFFu;
  for (uint32_t lane = 0; lane < kLanes; ++lane) {
    max_bits = std::max(max_bits, largest[lane]);
    min_bits = std::min(min_bits, smallest[lane]);
  }
  for (; i < count; ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(v[i]) & 0x7FFFFFFFu;
    max_bits = std::max(max_bits, bits);
    if (bits != 0) min_bits = std::min(min_bits, bits);
  }
  RowSpan span;
  if (max_bits == 0) {  // all zero: nothing to add
    span.ordinary = true;
    return span;
  }
  if (max_bits >= kOrdinaryEndBits || min_bits < kOrdinaryMinBits) return span;
  span.ordinary = true;
  const int max_exponent = static_cast<int>(max_bits >> 23) - 127;
  const int min_exponent = static_cast<int>(min_bits >> 23) - 127;
  span.first_row = 0;
  while (kRowLowestBit[span.first_row] > max_exponent) ++span.first_row;
  span.last_row = 3;
  while (kRowLowestBit[span.last_row] + 25 < min_exponent - 23) --span.last_row;
  return span;
}

// rows[i][j] += q_i of v[j] for j < count and i in the span, every v[j]
// ordinary with no bits outside the span's rows. Starting at the span's
// first row gives the same f as the steps above it, which produce q = 0 and
// leave f scaled by 2^26; at the last row f is an integer (no lower bits).
EDGEFL_VECTOR_CLONES void AddOrdinaryLimbs(const float* v, uint32_t count, RowSpan span, int32_t* const rows[4]) {
  const float scale = std::ldexp(1.0f, -kRowLowestBit[span.first_row]);
  uint32_t j = 0;
  for (; j + kLanes <= count; j += kLanes) {
    F32x8 f;
    std::memcpy(&f, v + j, sizeof(f));
    f *= scale;
    for (int i = span.first_row; i < span.last_row; ++i) {
      const I32x8 q = __builtin_convertvector(f, I32x8);
      AddToRow(rows[i] + j, q);
      f = (f - __builtin_convertvector(q, F32x8)) * 0x1.0p26f;
    }
    AddToRow(rows[span.last_row] + j, __builtin_convertvector(f, I32x8));
  }
  for (; j < count; ++j) {
    AddOrdinaryValue(v[j], rows, j);
  }
}

// rows[i][j] += -q_i where sign bit j is set, +q_i where clear, for j < count.
EDGEFL_VECTOR_CLONES void AddSignLimbs(const uint8_t* packed, uint32_t count, const int32_t q[4],
                                       int32_t* const rows[4]) {
  const I32x8 lane_bit = {1, 2, 4, 8, 16, 32, 64, 128};
  uint32_t j = 0;
  for (; j + kLanes <= count; j += kLanes) {
    const I32x8 byte = I32x8{} + static_cast<int32_t>(packed[j / 8]);
    const I32x8 negative = (byte & lane_bit) != 0;  // -1 where set
    if (q[0] != 0) AddToRow(rows[0] + j, ((I32x8{} + q[0]) ^ negative) - negative);
    AddToRow(rows[1] + j, ((I32x8{} + q[1]) ^ negative) - negative);
    AddToRow(rows[2] + j, ((I32x8{} + q[2]) ^ negative) - negative);
    AddToRow(rows[3] + j, ((I32x8{} + q[3]) ^ negative) - negative);
  }
  for (; j < count; ++j) {
    const bool negative = (packed[j >> 3] >> (j & 7)) & 1u;
    for (int i = 0; i < 4; ++i) rows[i][j] += negative ? -q[i] : q[i];
  }
}

// S += a0 2^78 + a1 2^52 + a2 2^26 + a3 (|a_i| < 2^31) for the sums kept as
// high 2^62 + low (exact_sum.h): a0 2^78 = (a0 2^16) 2^62, a1 2^52 =
// (a1 >> 10) 2^62 + (a1 & 1023) 2^52, and L = (a1 & 1023) 2^52 + a2 2^26 + a3
// lies in (-2^58, 2^62 + 2^58), so its bits from 62 up (-1, 0 or 1) move to
// high first. Then low + L lies in [0, 2^63) and carries the same way.
template <typename Int>
[[gnu::always_inline]] inline void FoldOne(const Int& a0, const Int& a1, const Int& a2, const Int& a3, Int& low,
                                           Int& high) {
  constexpr int64_t kMask = (int64_t{1} << 62) - 1;
  const Int addend = ((a1 & 1023) << 52) + (a2 << 26) + a3;
  const Int sum = low + (addend & kMask);
  low = sum & kMask;
  high += (a0 << 16) + (a1 >> 10) + (addend >> 62) + (sum >> 62);
}

// Adds the limb sums of rows[.][j] to sum j, for j < count.
EDGEFL_VECTOR_CLONES void FoldLimbSums(int32_t* const rows[4], uint32_t count, int64_t* __restrict low,
                                       int64_t* __restrict high) {
  uint32_t j = 0;
  for (; j + 4 <= count; j += 4) {
    I32x4 narrow[4];
    for (int i = 0; i < 4; ++i) std::memcpy(&narrow[i], rows[i] + j, sizeof(narrow[i]));
    const I64x4 a0 = __builtin_convertvector(narrow[0], I64x4), a1 = __builtin_convertvector(narrow[1], I64x4),
                a2 = __builtin_convertvector(narrow[2], I64x4), a3 = __builtin_convertvector(narrow[3], I64x4);
    I64x4 l, h;
    std::memcpy(&l, low + j, sizeof(l));
    std::memcpy(&h, high + j, sizeof(h));
    FoldOne(a0, a1, a2, a3, l, h);
    std::memcpy(low + j, &l, sizeof(l));
    std::memcpy(high + j, &h, sizeof(h));
  }
  for (; j < count; ++j) {
    const int64_t a0 = rows[0][j], a1 = rows[1][j], a2 = rows[2][j], a3 = rows[3][j];
    FoldOne(a0, a1, a2, a3, low[j], high[j]);
  }
}

}  // namespace

ExactSum::ExactSum(uint32_t dimension)
    : dimension_(dimension),
      low_(new int64_t[dimension]()),
      high_(new int64_t[dimension]()),
      limbs_(new int32_t[4 * size_t{dimension}]()) {}

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

void ExactSum::MakeRoomFor(uint32_t count) {
  assert(count <= kMaxUnfolded);
  if (unfolded_ + count > kMaxUnfolded) {
    int32_t* const rows[4] = {Row(0), Row(1), Row(2), Row(3)};
    FoldLimbSums(rows, dimension_, low_.get(), high_.get());
    std::fill(limbs_.get(), limbs_.get() + 4 * size_t{dimension_}, 0);
    unfolded_ = 0;
  }
  unfolded_ += count;
}

void ExactSum::AddDenseBatch(std::span<const std::span<const float>> batch) {
  MakeRoomFor(static_cast<uint32_t>(batch.size()));
  for (uint32_t start = 0; start < dimension_; start += kBlock) {
    const uint32_t count = std::min(kBlock, dimension_ - start);
    int32_t* const rows[4] = {Row(0) + start, Row(1) + start, Row(2) + start, Row(3) + start};
    for (const std::span<const float> values : batch) {
      assert(values.size() >= dimension_);
      const float* v = values.data() + start;
      const RowSpan span = Classify(v, count);
      if (span.ordinary) {
        if (span.first_row <= span.last_row) AddOrdinaryLimbs(v, count, span, rows);
        continue;
      }
      for (uint32_t j = 0; j < count; ++j) {
        if (IsOrdinary(v[j])) {
          AddOrdinaryValue(v[j], rows, j);
        } else {
          Add(start + j, ToFixed(v[j]));
        }
      }
    }
  }
}

void ExactSum::AddSparse(std::span<const uint32_t> indices, std::span<const float> values) {
  for (size_t i = 0; i < indices.size(); ++i) Add(indices[i], ToFixed(values[i]));
}

void ExactSum::AddSigns(std::span<const uint8_t> packed, float magnitude) {
  assert(packed.size() * 8 >= dimension_);
  if (!IsOrdinary(magnitude)) {
    const Fixed m = ToFixed(magnitude);
    for (uint32_t j = 0; j < dimension_; ++j) Add(j, (packed[j >> 3] >> (j & 7)) & 1u ? -m : m);
    return;
  }
  MakeRoomFor(1);
  int32_t q[4];
  SplitOrdinary(magnitude, q);
  int32_t* const rows[4] = {Row(0), Row(1), Row(2), Row(3)};
  AddSignLimbs(packed.data(), dimension_, q, rows);
}

ExactSum::Fixed ExactSum::Sum(uint32_t j) const {
  const size_t d = dimension_;
  const Fixed unfolded = (static_cast<Fixed>(limbs_[j]) << 78) + (static_cast<Fixed>(limbs_[d + j]) << 52) +
                         (static_cast<Fixed>(limbs_[2 * d + j]) << 26) + limbs_[3 * d + j];
  return static_cast<Fixed>(high_[j]) * (Fixed{1} << kLowBits) + low_[j] + unfolded;
}

}  // namespace edgefl

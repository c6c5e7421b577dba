// The batch kernels of ExactSum (exact_sum.h): a batch of dense or sign
// vectors split into int32 limbs with exact float steps and summed in limb
// rows that stay in registers while every vector adds to them. The 128-bit
// sums, ToFixed and the folding of the rows into them are in exact_sum.cc.
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

// SplitOrdinary for x = w v, a weighted value: w < 2^21 and v's 24-bit
// significand make x exact in double (at most 44 bits), and while |x| < 2^40
// the steps above are exact in double for the same reasons (f - q keeps at
// most 44 bits), and x has no bits below v's lowest, so x 2^64 is an integer
// too and its limbs are below 2^26 like any value's.
void SplitWeighted(double x, int32_t q[4]) {
  double f = x * 0x1.0p-14;
  for (int i = 0; i < 3; ++i) {
    q[i] = static_cast<int32_t>(f);
    f = (f - static_cast<double>(q[i])) * 0x1.0p26;
  }
  q[3] = static_cast<int32_t>(f);
}

// Limb row i holds the bits of v * 2^64 from 2^(26 (3 - i)) up, that is the
// bits of v from 2^kRowLowestBit[i] to 2^(kRowLowestBit[i] + 25).
constexpr int kRowLowestBit[4] = {14, -12, -38, -64};
// 2^-kRowLowestBit[i]: the scaling that starts a split at row i.
constexpr float kRowScale[4] = {0x1.0p-14f, 0x1.0p12f, 0x1.0p38f, 0x1.0p64f};
constexpr double kRowScaleDouble[4] = {0x1.0p-14, 0x1.0p12, 0x1.0p38, 0x1.0p64};

// The limb rows a block's values can touch: rows first..last (none when
// first > last), or not ordinary when some value needs ToFixed.
struct RowSpan {
  bool ordinary = true;
  int first = 4;
  int last = -1;

  bool empty() const { return first > last; }
  void Merge(RowSpan other) {
    first = std::min(first, other.first);
    last = std::max(last, other.last);
  }
};

// A value with exponent e has bits from 2^(e - 23) to 2^e, so only the rows
// that meet [min_e - 23, max_e] over a block's nonzero values can be
// nonzero: most gradients need two of the four rows. Weighted by w <= 2^c
// (c = `weight_bits`), a value's top bit rises by at most c and its lowest
// does not fall, and the block stays ordinary while |w v| < 2^40.
[[gnu::always_inline]] inline RowSpan RowsReached(BlockMagnitude m, int weight_bits = 0) {
  RowSpan span;
  if (m.largest_bits == 0) return span;  // all zero: nothing to add
  if (m.largest_bits >= kOrdinaryEndBits - (static_cast<uint32_t>(weight_bits) << 23) ||
      m.smallest_nonzero_bits < kOrdinaryMinBits) {
    span.ordinary = false;
    return span;
  }
  const int max_exponent = static_cast<int>(m.largest_bits >> 23) - 127 + weight_bits;
  const int min_exponent = static_cast<int>(m.smallest_nonzero_bits >> 23) - 127;
  span.first = 0;
  while (kRowLowestBit[span.first] > max_exponent) ++span.first;
  span.last = 3;
  while (kRowLowestBit[span.last] + 25 < min_exponent - 23) --span.last;
  return span;
}

// rows[i][j] += q_i of vectors[u][j] for u < n, j < count and i in
// [First, Last], every value ordinary with no bits outside those rows. The
// rows of eight coordinates are loaded once, take every vector's limbs in
// registers, and are stored once. Starting at row First gives the same f as
// the steps above it, which produce q = 0 and leave f scaled by 2^26; at row
// Last f is an integer (no lower bits).
template <int First, int Last>
[[gnu::always_inline]] inline void AddLimbsOfRows(const float* const* vectors, uint32_t n, uint32_t count,
                                                  int32_t* const rows[4]) {
  constexpr int kRows = Last - First + 1;
  uint32_t j = 0;
  for (; j + kLanes <= count; j += kLanes) {
    I32x8 sum[kRows];
    for (int r = 0; r < kRows; ++r) std::memcpy(&sum[r], rows[First + r] + j, sizeof(sum[r]));
    for (uint32_t u = 0; u < n; ++u) {
      F32x8 f;
      std::memcpy(&f, vectors[u] + j, sizeof(f));
      f *= kRowScale[First];
      for (int r = 0; r + 1 < kRows; ++r) {
        const I32x8 q = __builtin_convertvector(f, I32x8);
        sum[r] += q;
        f = (f - __builtin_convertvector(q, F32x8)) * 0x1.0p26f;
      }
      sum[kRows - 1] += __builtin_convertvector(f, I32x8);
    }
    for (int r = 0; r < kRows; ++r) std::memcpy(rows[First + r] + j, &sum[r], sizeof(sum[r]));
  }
  for (uint32_t u = 0; u < n; ++u) {
    for (uint32_t k = j; k < count; ++k) AddOrdinaryValue(vectors[u][k], rows, k);
  }
}

// rows[i][j] += q[u][i] where bit j of packed[u] is clear, -q[u][i] where it
// is set, for u < n, j < count and i in [First, Last] (q[u][i] = 0 outside).
template <int First, int Last>
[[gnu::always_inline]] inline void AddSignLimbsOfRows(const uint8_t* const* packed, const int32_t (*q)[4], uint32_t n,
                                                      uint32_t count, int32_t* const rows[4]) {
  constexpr int kRows = Last - First + 1;
  const I32x8 lane_bit = {1, 2, 4, 8, 16, 32, 64, 128};
  uint32_t j = 0;
  for (; j + kLanes <= count; j += kLanes) {
    I32x8 sum[kRows];
    for (int r = 0; r < kRows; ++r) std::memcpy(&sum[r], rows[First + r] + j, sizeof(sum[r]));
    for (uint32_t u = 0; u < n; ++u) {
      const I32x8 byte = I32x8{} + static_cast<int32_t>(packed[u][j / 8]);
      const I32x8 negative = (byte & lane_bit) != 0;  // -1 where set
      for (int r = 0; r < kRows; ++r) sum[r] += ((I32x8{} + q[u][First + r]) ^ negative) - negative;
    }
    for (int r = 0; r < kRows; ++r) std::memcpy(rows[First + r] + j, &sum[r], sizeof(sum[r]));
  }
  for (uint32_t u = 0; u < n; ++u) {
    for (uint32_t k = j; k < count; ++k) {
      const bool negative = (packed[u][k >> 3] >> (k & 7)) & 1u;
      for (int i = First; i <= Last; ++i) rows[i][k] += negative ? -q[u][i] : q[u][i];
    }
  }
}

// rows[i][j] += q_i of weights[u] * vectors[u][j] (SplitWeighted's
// steps), as AddLimbsOfRows for weighted values: each product and split in
// double lanes, four at a time, every product ordinary with no bits outside
// rows [First, Last].
template <int First, int Last>
[[gnu::always_inline]] inline void AddWeightedLimbsOfRows(const float* const* vectors, const double* weights,
                                                          uint32_t n, uint32_t count, int32_t* const rows[4]) {
  typedef double F64x4 __attribute__((vector_size(32)));
  constexpr int kRows = Last - First + 1;
  uint32_t j = 0;
  for (; j + kLanes <= count; j += kLanes) {
    I32x8 sum[kRows];
    for (int r = 0; r < kRows; ++r) std::memcpy(&sum[r], rows[First + r] + j, sizeof(sum[r]));
    for (uint32_t u = 0; u < n; ++u) {
      F32x8 v;
      std::memcpy(&v, vectors[u] + j, sizeof(v));
      const double scale = weights[u] * kRowScaleDouble[First];  // a power of two times w: exact
      F64x4 low = __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3), F64x4) * scale;
      F64x4 high = __builtin_convertvector(__builtin_shufflevector(v, v, 4, 5, 6, 7), F64x4) * scale;
      for (int r = 0; r + 1 < kRows; ++r) {
        const I32x4 q_low = __builtin_convertvector(low, I32x4), q_high = __builtin_convertvector(high, I32x4);
        sum[r] += __builtin_shufflevector(q_low, q_high, 0, 1, 2, 3, 4, 5, 6, 7);
        low = (low - __builtin_convertvector(q_low, F64x4)) * 0x1.0p26;
        high = (high - __builtin_convertvector(q_high, F64x4)) * 0x1.0p26;
      }
      sum[kRows - 1] += __builtin_shufflevector(__builtin_convertvector(low, I32x4),
                                                __builtin_convertvector(high, I32x4), 0, 1, 2, 3, 4, 5, 6, 7);
    }
    for (int r = 0; r < kRows; ++r) std::memcpy(rows[First + r] + j, &sum[r], sizeof(sum[r]));
  }
  for (uint32_t u = 0; u < n; ++u) {
    for (uint32_t k = j; k < count; ++k) {
      int32_t q[4];
      SplitWeighted(weights[u] * vectors[u][k], q);
      for (int i = 0; i < 4; ++i) rows[i][k] += q[i];
    }
  }
}

// Calls body.template operator()<First, Last>() for a nonempty span: one
// unrolled kernel for each of the ten row ranges. The bodies are marked
// always_inline so that they take the calling clone's ISA (a lambda is a
// function of its own, built for the baseline unless inlined).
template <typename Body>
[[gnu::always_inline]] inline void ForRowSpan(RowSpan span, Body&& body) {
  switch (span.first * 4 + span.last) {
    case 0 * 4 + 0: return body.template operator()<0, 0>();
    case 0 * 4 + 1: return body.template operator()<0, 1>();
    case 0 * 4 + 2: return body.template operator()<0, 2>();
    case 0 * 4 + 3: return body.template operator()<0, 3>();
    case 1 * 4 + 1: return body.template operator()<1, 1>();
    case 1 * 4 + 2: return body.template operator()<1, 2>();
    case 1 * 4 + 3: return body.template operator()<1, 3>();
    case 2 * 4 + 2: return body.template operator()<2, 2>();
    case 2 * 4 + 3: return body.template operator()<2, 3>();
    case 3 * 4 + 3: return body.template operator()<3, 3>();
    default: assert(false);
  }
}

EDGEFL_VECTOR_CLONES void AddOrdinaryLimbs(const float* const* vectors, uint32_t n, uint32_t count, RowSpan span,
                                           int32_t* const rows[4]) {
  ForRowSpan(span, [&]<int First, int Last>() __attribute__((always_inline)) {
    AddLimbsOfRows<First, Last>(vectors, n, count, rows);
  });
}

EDGEFL_VECTOR_CLONES void AddWeightedLimbs(const float* const* vectors, const double* weights, uint32_t n,
                                           uint32_t count, RowSpan span, int32_t* const rows[4]) {
  ForRowSpan(span, [&]<int First, int Last>() __attribute__((always_inline)) {
    AddWeightedLimbsOfRows<First, Last>(vectors, weights, n, count, rows);
  });
}

EDGEFL_VECTOR_CLONES void AddSignLimbs(const uint8_t* const* packed, const int32_t (*q)[4], uint32_t n,
                                       uint32_t count, RowSpan span, int32_t* const rows[4]) {
  ForRowSpan(span, [&]<int First, int Last>() __attribute__((always_inline)) {
    AddSignLimbsOfRows<First, Last>(packed, q, n, count, rows);
  });
}

}  // namespace

EDGEFL_VECTOR_CLONES void ExactSum::AddDenseBatch(std::span<const DenseAddend> batch) {
  const bool fold = CountUnfolded(static_cast<uint32_t>(batch.size()));
  const float* ordinary[kMaxUnfolded];
  double weights[kMaxUnfolded];
  for (uint32_t start = 0, block = 0; start < dimension_; start += kMagnitudeBlock, ++block) {
    const uint32_t count = std::min(kMagnitudeBlock, dimension_ - start);
    if (fold) FoldBlock(start, count);
    int32_t* rows[4];
    RowsAt(start, rows);
    RowSpan rows_reached;
    uint32_t n = 0;
    bool weighted = false;  // some ordinary vector of the block has a weight above 1
    for (size_t u = 0; u < batch.size(); ++u) {
      const DenseAddend& addend = batch[u];
      assert(addend.weight >= 1);
      const float* v;
      if (addend.decode_block != nullptr) {
        float* out = decoded_.get() + u * kMagnitudeBlock;
        addend.decode_block(addend.context, start, count, out);
        v = out;
      } else {
        assert(addend.values.size() >= dimension_);
        v = addend.values.data() + start;
      }
      const RowSpan span =
          RowsReached(addend.magnitudes.empty() ? ScanBlockMagnitude(v, count) : addend.magnitudes[block],
                      std::bit_width(addend.weight - 1));
      if (span.ordinary) {
        if (!span.empty()) {
          weights[n] = addend.weight;
          weighted = weighted || addend.weight != 1;
          ordinary[n++] = v;
        }
        rows_reached.Merge(span);
        continue;
      }
      if (addend.weight != 1) {  // w ToFixed(v), exact in 128 bits (w v < 2^60)
        const Fixed w = addend.weight;
        for (uint32_t j = 0; j < count; ++j) {
          if (v[j] != 0.0f) Add(start + j, ToFixed(v[j]) * w);
        }
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
    if (n == 0) continue;
    if (weighted) {
      AddWeightedLimbs(ordinary, weights, n, count, rows_reached, rows);
    } else {
      AddOrdinaryLimbs(ordinary, n, count, rows_reached, rows);
    }
  }
}

EDGEFL_VECTOR_CLONES void ExactSum::AddSignsBatch(std::span<const SignAddend> batch) {
  const bool fold = CountUnfolded(static_cast<uint32_t>(batch.size()));
  // Each ordinary magnitude's limbs, once for the whole vector.
  int32_t limbs[kMaxUnfolded][4];
  const uint8_t* ordinary[kMaxUnfolded];
  RowSpan rows_reached;
  uint32_t n = 0;
  for (const SignAddend& addend : batch) {
    assert(addend.packed.size() * 8 >= dimension_ && addend.weight >= 1);
    // Weighted, the limbs of w * magnitude (exact in double) while it stays ordinary.
    const double weighted = static_cast<double>(addend.magnitude) * addend.weight;
    if (IsOrdinary(addend.magnitude) && std::fabs(weighted) < 0x1.0p40) {
      if (addend.weight == 1) {
        SplitOrdinary(addend.magnitude, limbs[n]);
      } else {
        SplitWeighted(weighted, limbs[n]);
      }
      for (int i = 0; i < 4; ++i) {
        if (limbs[n][i] != 0) rows_reached.Merge({true, i, i});
      }
      ordinary[n++] = addend.packed.data();
    } else {
      const Fixed m = ToFixed(addend.magnitude) * Fixed{addend.weight};
      for (uint32_t j = 0; j < dimension_; ++j) Add(j, (addend.packed[j >> 3] >> (j & 7)) & 1u ? -m : m);
    }
  }
  const uint8_t* packed[kMaxUnfolded];
  for (uint32_t start = 0; start < dimension_; start += kMagnitudeBlock) {
    const uint32_t count = std::min(kMagnitudeBlock, dimension_ - start);
    if (fold) FoldBlock(start, count);
    if (rows_reached.empty()) continue;
    int32_t* rows[4];
    RowsAt(start, rows);
    for (uint32_t u = 0; u < n; ++u) packed[u] = ordinary[u] + start / 8;
    AddSignLimbs(packed, limbs, n, count, rows_reached, rows);
  }
}

}  // namespace edgefl

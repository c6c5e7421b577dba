#include "maths/vector_norms.h"

#include <cmath>
#include <cstring>

#include "core/vectors.h"

namespace edgefl {
namespace {

typedef float F32x4 __attribute__((vector_size(16)));
typedef double F64x4 __attribute__((vector_size(32)));

constexpr size_t kChains = 4;               // vectors of four doubles
constexpr size_t kLaneCount = 4 * kChains;  // sixteen lanes

enum class Term { kSquare, kAbs };

// sum += the term of x, lane by lane (vectors by reference: see vectors.h).
template <Term kTerm>
[[gnu::always_inline]] inline void AddTerm(F64x4& sum, const F64x4& x) {
  if constexpr (kTerm == Term::kSquare) {
    sum += x * x;
  } else {
    sum += x < 0.0 ? -x : x;
  }
}

template <Term kTerm>
[[gnu::always_inline]] inline void AddTerm(double& sum, double x) {
  sum += kTerm == Term::kSquare ? x * x : std::fabs(x);
}

// The sum of the terms of v[0..n). With kAddFirst (Value = float), v[j] +=
// add[j] first, in float, and the sum is over the results (stored back).
template <Term kTerm, bool kAddFirst, typename Value>
[[gnu::always_inline]] inline double LaneSum(Value* v, const float* add, size_t n) {
  F64x4 chains[kChains] = {};
  size_t j = 0;
  for (; j + kLaneCount <= n; j += kLaneCount) {
#pragma GCC unroll 4  // so that the chains live in registers
    for (size_t c = 0; c < kChains; ++c) {
      F32x4 x;
      std::memcpy(&x, v + j + 4 * c, sizeof(x));
      if constexpr (kAddFirst) {
        F32x4 a;
        std::memcpy(&a, add + j + 4 * c, sizeof(a));
        x += a;
        std::memcpy(v + j + 4 * c, &x, sizeof(x));
      }
      AddTerm<kTerm>(chains[c], __builtin_convertvector(x, F64x4));
    }
  }
  double lanes[kLaneCount];
  std::memcpy(lanes, chains, sizeof(lanes));
  for (size_t lane = 0; j < n; ++j, ++lane) {
    if constexpr (kAddFirst) v[j] += add[j];
    AddTerm<kTerm>(lanes[lane], static_cast<double>(v[j]));
  }
  // A fixed tree: pairs, then pairs of pairs.
  for (size_t width = kLaneCount / 2; width >= 1; width /= 2) {
    for (size_t lane = 0; lane < width; ++lane) lanes[lane] += lanes[lane + width];
  }
  return lanes[0];
}

}  // namespace

EDGEFL_VECTOR_CLONES double SquaredNorm(std::span<const float> v) {
  return LaneSum<Term::kSquare, false>(v.data(), nullptr, v.size());
}

EDGEFL_VECTOR_CLONES double L1Norm(std::span<const float> v) {
  return LaneSum<Term::kAbs, false>(v.data(), nullptr, v.size());
}

EDGEFL_VECTOR_CLONES double AddAndL1Norm(std::span<float> p, std::span<const float> add) {
  return LaneSum<Term::kAbs, true>(p.data(), add.data(), p.size());
}

double ClipToNorm(std::span<float> v, double bound) {
  const double norm = std::sqrt(SquaredNorm(v));
  if (!(norm > bound)) return norm;
  const double scale = bound / norm * (1.0 - 0x1p-20);
  for (float& x : v) x = static_cast<float>(static_cast<double>(x) * scale);
  return norm;
}

double EuclideanNorm(std::span<const double> v) {
  double sum = 0.0;
  for (const double x : v) sum += x * x;
  return std::sqrt(sum);
}

}  // namespace edgefl

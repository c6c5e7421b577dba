#include "node/vector_norms.h"

#include <cmath>
#include <cstring>

#include "core/vectors.h"

namespace edgefl {
namespace {

typedef float F32x4 __attribute__((vector_size(16)));
typedef double F64x4 __attribute__((vector_size(32)));

constexpr size_t kChains = 4;                   // vectors of four doubles
constexpr size_t kLaneCount = 4 * kChains;      // sixteen lanes

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

template <Term kTerm>
[[gnu::always_inline]] inline double LaneSum(std::span<const float> v) {
  F64x4 chains[kChains] = {};
  size_t j = 0;
  for (; j + kLaneCount <= v.size(); j += kLaneCount) {
#pragma GCC unroll 4  // so that the chains live in registers
    for (size_t c = 0; c < kChains; ++c) {
      F32x4 x;
      std::memcpy(&x, v.data() + j + 4 * c, sizeof(x));
      AddTerm<kTerm>(chains[c], __builtin_convertvector(x, F64x4));
    }
  }
  double lanes[kLaneCount];
  std::memcpy(lanes, chains, sizeof(lanes));
  for (size_t lane = 0; j < v.size(); ++j, ++lane) AddTerm<kTerm>(lanes[lane], static_cast<double>(v[j]));
  // A fixed tree: pairs, then pairs of pairs.
  for (size_t width = kLaneCount / 2; width >= 1; width /= 2) {
    for (size_t lane = 0; lane < width; ++lane) lanes[lane] += lanes[lane + width];
  }
  return lanes[0];
}

}  // namespace

EDGEFL_VECTOR_CLONES double SquaredNorm(std::span<const float> v) { return LaneSum<Term::kSquare>(v); }

EDGEFL_VECTOR_CLONES double L1Norm(std::span<const float> v) { return LaneSum<Term::kAbs>(v); }

}  // namespace edgefl

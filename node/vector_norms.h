// Norms of float vectors, accumulated in double over four fixed lanes: the
// same bits on every run and host, and no single chain of dependent
// additions. Allocation-free; for the round loop and the coordinator alike.
#pragma once

#include <cmath>
#include <span>

namespace edgefl {

template <typename Term>
double LaneSum(std::span<const float> v, Term term) {
  double lanes[4] = {};
  size_t j = 0;
  for (; j + 4 <= v.size(); j += 4) {
    for (size_t lane = 0; lane < 4; ++lane) lanes[lane] += term(v[j + lane]);
  }
  for (; j < v.size(); ++j) lanes[0] += term(v[j]);
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

inline double SquaredNorm(std::span<const float> v) {
  return LaneSum(v, [](float x) { return static_cast<double>(x) * x; });
}

inline double L1Norm(std::span<const float> v) {
  return LaneSum(v, [](float x) { return static_cast<double>(std::fabs(x)); });
}

}  // namespace edgefl

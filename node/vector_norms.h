// Norms of float vectors, accumulated in double over sixteen fixed lanes
// (lane j % 16, then a fixed tree): the same bits on every run and host,
// whichever vector instructions the CPU has, and sixteen independent chains
// of additions instead of one. Allocation-free, for the round loop.
#pragma once

#include <span>

namespace edgefl {

double SquaredNorm(std::span<const float> v);  // sum of v_j^2
double L1Norm(std::span<const float> v);       // sum of |v_j|

}  // namespace edgefl

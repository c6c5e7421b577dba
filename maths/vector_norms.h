// Norms of float vectors, accumulated in double over sixteen fixed lanes
// (lane j % 16, then a fixed tree): the same bits on every run and host,
// whichever vector instructions the CPU has, and sixteen independent chains
// of additions instead of one. Allocation-free, for the round loop.
#pragma once

#include <span>

namespace edgefl {

double SquaredNorm(std::span<const float> v);  // sum of v_j^2
double L1Norm(std::span<const float> v);       // sum of |v_j|
// p_j += add_j (in float) for every j, then L1Norm(p), in one pass; add is
// at least p.size() long.
double AddAndL1Norm(std::span<float> p, std::span<const float> add);

// ||v||_2 of a double vector (the coordinator's aggregates), summed in index
// order.
double EuclideanNorm(std::span<const double> v);

}  // namespace edgefl

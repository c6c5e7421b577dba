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

// DP-FedAvg's clipping: scales v to L2 norm at most `bound` when it is
// longer, by (bound / ||v||) (1 - 2^-20), each product rounded to f32 once;
// the margin keeps f32 rounding (at most 2^-24 relative a coordinate) from
// carrying the result past the bound. Returns ||v|| before.
double ClipToNorm(std::span<float> v, double bound);

// ||v||_2 of a double vector (the coordinator's aggregates), summed in index
// order.
double EuclideanNorm(std::span<const double> v);

}  // namespace edgefl

// The maths of each compressor C (docs/theory.md 1 and 3.2), beside its
// encoder (node/compressor.h): how far it spreads an update, and how many
// bytes it sends.
//   compressor  omega: E||C(v) - v||^2 <= omega ||v||^2   Cov(C(v)) given v
//   identity    0                                       0
//   rand-k      d/k - 1                                 (d/k - 1) diag(v^2) - (d - k)/(k (d - 1)) (v v^T - diag(v^2))
//   bernoulli   1/p' - 1 (p' the realised probability)   omega diag(v^2)
//   qsgd        min(d/s^2, sqrt(d)/s)                   diag((||v||/s)^2 q_j (1 - q_j)), q_j = frac(s |v_j| / ||v||)
//   natural     1/8                                     diag((2^(a+1) - |v_j|)(|v_j| - 2^a)), 2^a <= |v_j| < 2^(a+1)
// The sign, scaled-sign, ef-sign and top-k compressors are biased: no
// omega, no covariance about v. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "schemas/codec/task_spec.h"

namespace edgefl {

// omega for an unbiased compressor (0 for identity); NaN for the biased ones.
double CompressorOmega(const codec::CompressorSpec& spec, uint32_t dimension);

// The exact covariance of C(v) about v, for one v: writes its diagonal
// E[(C(v)_j - v_j)^2] and returns rho, the factor of its off-diagonal part
// rho (v v^T - diag(v^2)) (rand-k's negative correlation; 0 for the others).
// NaN (and a NaN diagonal) for the biased compressors. QSGD follows the
// encoder: the norm it scales by is ||v|| rounded to float.
double CompressorCovariance(const codec::CompressorSpec& spec, std::span<const float> v, std::span<double> diagonal);

// How much larger than max_j |v_j| a coordinate of C(v) can be: 1 for
// identity, scaled-sign and sign, 1/p' for bernoulli, d/k for rand-k,
// sqrt(d) for qsgd (a coordinate is at most ||v||), 2 for natural. The
// error-feedback kinds also send what earlier rounds left (taken as d/k for
// top-k and d for ef-sign). A coordinator uses it to tell whether an
// update's overflow is explained by the model's own gradient.
double CompressorMaxAmplification(const codec::CompressorSpec& spec, uint32_t dimension);

// Payload bits a coordinate on the wire, not counting message framing (the
// "payload bits" of docs/config.md).
double PayloadBitsPerCoordinate(const codec::CompressorSpec& spec, uint32_t dimension);

// The values a sparse update carries (codec::UpdateMessageBytes' `kept`): k
// for rand-k and top-k; bernoulli's count is random, round(p' d) expected and
// d at most; 0 for the dense and sign kinds.
uint32_t ExpectedKeptValues(const codec::CompressorSpec& spec, uint32_t dimension);
uint32_t MaxKeptValues(const codec::CompressorSpec& spec, uint32_t dimension);

// An Update's exact size in bytes (header and framing included), at the
// expected count of kept values, and the same in bits a coordinate.
double ExpectedUpdateMessageBytes(const codec::CompressorSpec& spec, uint32_t dimension);
double MessageBitsPerCoordinate(const codec::CompressorSpec& spec, uint32_t dimension);

}  // namespace edgefl

// Compressor: turns a node's stochastic gradient into the payload it sends
// (docs/theory.md 1 and 3.2); its variance, omega and message size are in
// maths/compressor_maths.h. Owns its working buffers and, for the
// error-feedback kinds, the error memory e; all of it is carved from the
// node's Arena at construction, so Compress() never allocates.
// Not thread-safe: one per node.
//
//   identity     C(v) = v                                           omega = 0
//   rand-k       k uniform coordinates times d/k                    omega = d/k - 1
//   bernoulli    v_j b_j / p, b_j ~ Bern(p)                         omega = 1/p - 1
//   qsgd         ||v|| sign(v_j) round_stoch(s|v_j|/||v||) / s      omega = min(d/s^2, sqrt(d)/s)
//   natural      |v_j| rounded stochastically to a power of two     omega = 1/8
//   sign         sign(v)                                            (biased)
//   scaled-sign  ||v||_1/d sign(v)                                  (biased)
//   ef-sign      p = v + e, C = ||p||_1/d sign(p), e <- p - C       (error feedback)
//   top-k        p = v + e, C = k largest |p_j|, e <- p - C         (error feedback)
#pragma once

#include <span>

#include "core/rng.h"
#include "node/arena.h"
#include "schemas/codec/task_spec.h"
#include "schemas/codec/wire.h"

namespace edgefl {

class Compressor {
 public:
  // Carves its buffers from `arena`; check arena.status() afterwards.
  Compressor(const codec::CompressorSpec& spec, uint32_t dimension, Arena& arena);

  // Compresses `grad` (which it may overwrite) into buffers it owns; `out`
  // points into them until the next call.
  void Compress(std::span<float> grad, Rng& rng, codec::PayloadView* out);

  // Bytes this compressor takes from the arena for a dimension (memory plan).
  static size_t ArenaBytes(const codec::CompressorSpec& spec, uint32_t dimension);

  std::span<const float> error_memory() const { return error_; }
  // The same, writable: what a node's saved state restores (node_state_store.h).
  std::span<float> mutable_error_memory() { return error_; }

 private:
  void CompressQsgd(std::span<const float> grad, Rng& rng, codec::PayloadView* out);
  void CompressNatural(std::span<const float> grad, Rng& rng, codec::PayloadView* out);
  void CompressTopK(std::span<float> grad, codec::PayloadView* out);
  void CompressEfSign(std::span<float> grad, codec::PayloadView* out);

  codec::CompressorSpec spec_;
  uint32_t dimension_;
  std::span<float> values_;
  std::span<uint32_t> indices_;
  std::span<uint32_t> histogram_;
  std::span<uint64_t> bitmap_;  // rand-k: SampleRandK's scratch
  std::span<uint8_t> packed_levels_;  // qsgd
  std::span<uint8_t> packed_signs_;   // qsgd and the sign compressors
  std::span<uint8_t> codes_;
  std::span<float> error_;
};

}  // namespace edgefl

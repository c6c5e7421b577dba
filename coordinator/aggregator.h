// Aggregators: streaming combination of a round's updates into one
// direction, in O(d) memory whatever the number of nodes, and independent
// of the order updates arrive in (so a seed gives one model, bit for bit).
//   mean       (1/n) sum_i C_i(g_i)           exact fixed-point sum (exact_sum.h)
//   sign-mean  (1/n) sum_i sign(g_i)          integer counts; DSignSGD (THEORY.md 1)
//   majority   sign(sum_i sign(g_i))          integer counts; ties give 0
// n is the number of updates accepted this round.
// Updates of a mean whose bytes the caller keeps valid (they live in a
// receive buffer the caller sets aside) are held back and added up to
// kMaxPending at a time, one pass over the sums for them all; compact ones
// (QSGD, natural) are expanded a block at a time on the way. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "coordinator/exact_sum.h"
#include "coordinator/experiment_config.h"
#include "schemas/codec/wire.h"

namespace edgefl {

class Aggregator {
 public:
  Aggregator(AggregatorKind kind, uint32_t dimension);

  static constexpr uint32_t kMaxPending = 8;
  // Whether a run's updates can be held back: a mean of any payload whose
  // decoded form views the message (sparse ones are added at once: rand-k
  // and Bernoulli indices live in the decoder's scratch, and a sparse add
  // touches only k sums).
  static bool CanHoldUpdates(AggregatorKind kind, wire::CompressorKind compressor) {
    const wire::Payload payload = codec::PayloadTypeOf(compressor);
    return kind == AggregatorKind::kMean && payload != wire::Payload::SparseF32 &&
           payload != wire::Payload::SeededSparseF32;
  }

  void Reset();
  // Adds one decoded update (any form the run's compressor produces). With
  // `values_stay_valid`, a dense, compact or sign update may be held back
  // instead (the held ones must all have one form, as a run's updates do),
  // and its values must then stay valid until pending() drops back to 0 (Add
  // flushes when kMaxPending are held; Flush, Finish and Reset too). So a
  // caller that receives each update into buffer number pending() of
  // kMaxPending never overwrites a held update.
  void Add(const codec::DecodedPayload& update, bool values_stay_valid = false);
  // Adds the held-back updates.
  void Flush();
  uint32_t pending() const { return static_cast<uint32_t>(pending_count_); }
  uint32_t count() const { return count_; }
  // Flushes, then writes the direction, for count() > 0.
  void Finish(std::span<double> direction);

 private:
  AggregatorKind kind_;
  uint32_t dimension_;
  uint32_t count_ = 0;
  ExactSum sum_;                       // mean
  std::unique_ptr<int32_t[]> counts_;  // sign-mean, majority
  // mean: updates held back, all dense addends or all signs (a run has one
  // form), with what their addends point to: the compact views and the
  // block magnitudes.
  ExactSum::DenseAddend pending_dense_[kMaxPending];
  ExactSum::SignAddend pending_signs_[kMaxPending];
  codec::CompactDense pending_compact_[kMaxPending];
  std::unique_ptr<BlockMagnitude[]> pending_magnitudes_;  // kMaxPending x MagnitudeBlocks(d)
  size_t pending_count_ = 0;
  bool pending_signs_held_ = false;
};

}  // namespace edgefl

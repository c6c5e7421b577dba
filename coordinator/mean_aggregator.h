// MeanAggregator: the mean (1/n) sum_i C_i(g_i) of a round's updates, or
// with weights w_i the weighted mean sum_i w_i C_i(g_i) / sum_i w_i (FedAvg,
// McMahan et al. 2017), from an exact fixed-point sum (exact_sum.h), so
// independent of their order. Takes every form a compressor produces:
// dense, compact (QSGD, natural), sparse and signs (+-scale a coordinate).
// Weighted exactly: the sums hold sum_i w_i ToFixed(v_i), and Finish
// divides them by g = gcd_i w_i exactly (ExactDivisor) before the one
// rounding, so weights with a common factor give the sums of the reduced
// weights, bit for bit, and equal weights the unweighted mean's bits. The
// weights of a round must total at most codec::kMaxRoundWeight (2^20), the
// sums' headroom; the coordinator refuses heavier updates (update_collector.h).
// Updates whose bytes the caller keeps valid are held back and added up to
// kMaxPending at a time, one pass over the sums for them all; compact ones
// are expanded a block at a time on the way. Through the Aggregator
// interface the mean owns its receive buffers and keeps that contract
// itself: it hands out buffer number pending() of kMaxPending, so a held
// update is never overwritten. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/exact_sum.h"
#include "experiment/experiment_config.h"
#include "schemas/codec/wire.h"

namespace edgefl {

class MeanAggregator final : public Aggregator {
 public:
  // Receive buffers of `max_message_bytes` (none for 0: a caller that
  // passes its own bytes to Add(update, values_stay_valid)); kMaxPending of
  // them when `hold_updates`.
  explicit MeanAggregator(uint32_t dimension, size_t max_message_bytes = 0, bool hold_updates = false);

  static constexpr uint32_t kMaxPending = 8;
  // Whether a run's updates can be held back: any payload whose decoded
  // form views the message (sparse ones are added at once: rand-k and
  // Bernoulli indices live in the decoder's scratch, and a sparse add
  // touches only k sums).
  static bool CanHoldUpdates(wire::CompressorKind compressor) {
    const wire::Payload payload = codec::PayloadTypeOf(compressor);
    return payload != wire::Payload::SparseF32 && payload != wire::Payload::SeededSparseF32;
  }

  std::span<uint64_t> ReceiveBuffer() override;
  void Add(const codec::DecodedPayload& update) override { Add(update, hold_updates_); }
  void Reset() override;
  // Weighted: the update counts `weight` (>= 1) times.
  void AddFrom(uint32_t node, const codec::DecodedPayload& update, uint32_t weight) override {
    (void)node;
    Add(update, hold_updates_, weight);
  }
  // Adds one decoded update (any form the run's compressor produces),
  // counted `weight` times. With `values_stay_valid`, a dense, compact or
  // sign update may be held back instead (the held ones must all have one
  // form, as a run's updates do), and its values must then stay valid until
  // pending() drops back to 0 (Add flushes when kMaxPending are held; Flush,
  // Finish and Reset too). So a caller that receives each update into buffer
  // number pending() of kMaxPending never overwrites a held update.
  void Add(const codec::DecodedPayload& update, bool values_stay_valid, uint32_t weight = 1);
  // Adds the held-back updates.
  void Flush();
  uint32_t pending() const { return static_cast<uint32_t>(pending_count_); }
  uint32_t count() const override { return count_; }
  // The weights added this round, in all; their gcd (0 before any).
  uint64_t total_weight() const { return total_weight_; }
  uint32_t weight_gcd() const { return weight_gcd_; }
  // Flushes, then writes the direction, for count() > 0.
  void Finish(std::span<double> direction) override;
  // The exact sum of this round's updates (flushed).
  const ExactSum& sum() {
    Flush();
    return sum_;
  }
  std::optional<wire::PartialKind> partial_kind() const override { return wire::PartialKind::Sums; }
  // The exact sums, with the count and weights (flushed first).
  void ExportPartial(std::span<codec::Int128> values, codec::ExactPartial* out) override;
  void AddPartial(const codec::ExactPartial& partial) override;

 private:
  uint32_t dimension_;
  uint32_t count_ = 0;
  uint64_t total_weight_ = 0;
  uint32_t weight_gcd_ = 0;
  ExactSum sum_;
  // Updates held back, all dense addends or all signs (a run has one
  // form), with what their addends point to: the compact views and the
  // block magnitudes.
  ExactSum::DenseAddend pending_dense_[kMaxPending];
  ExactSum::SignAddend pending_signs_[kMaxPending];
  codec::CompactDense pending_compact_[kMaxPending];
  std::unique_ptr<BlockMagnitude[]> pending_magnitudes_;  // kMaxPending x MagnitudeBlocks(d)
  size_t pending_count_ = 0;
  bool pending_signs_held_ = false;
  bool hold_updates_;
  std::vector<std::vector<uint64_t>> receive_buffers_;  // 8-byte aligned for the verifier
};

}  // namespace edgefl

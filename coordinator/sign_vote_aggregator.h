// SignVoteAggregator: a round's plain sign updates counted per coordinate
// in integers (exact, so independent of arrival order), giving either their
// mean (1/n) sum_i sign(g_i) (DSignSGD, docs/theory.md 1) or the majority
// vote sign(sum_i sign(g_i)), where a tie gives 0. Configuration pairs it
// with compressor.kind = "sign" only. Counts are added as each update
// arrives, so one receive buffer serves. With weights w_i (aggregator.h)
// the counts are sum_i w_i sign(g_i), still integers: the mean divides them
// by sum_i w_i (both reduced by gcd_i w_i first, exactly, so equal weights
// give the unweighted mean's bits) and the majority takes their sign. The
// weights total at most 2^20 (codec::kMaxRoundWeight), so the counts fit
// int32. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "coordinator/aggregator.h"

namespace edgefl {

class SignVoteAggregator final : public Aggregator {
 public:
  enum class Vote : uint8_t { kMean, kMajority };

  SignVoteAggregator(Vote vote, uint32_t dimension, size_t max_message_bytes = 0);

  void Reset() override;
  std::span<uint64_t> ReceiveBuffer() override { return receive_buffer_; }
  void Add(const codec::DecodedPayload& update) override { AddFrom(0, update, 1); }
  // Counts the update's signs `weight` (>= 1) times.
  void AddFrom(uint32_t node, const codec::DecodedPayload& update, uint32_t weight) override;
  uint32_t count() const override { return count_; }
  void Finish(std::span<double> direction) override;
  // sum_i w_i sign(g_i) a coordinate.
  std::span<const int32_t> counts() const { return {counts_.get(), dimension_}; }
  uint64_t total_weight() const { return total_weight_; }
  std::optional<wire::PartialKind> partial_kind() const override { return wire::PartialKind::Counts; }
  // The counts, with the count and weights.
  void ExportPartial(std::span<codec::Int128> values, codec::ExactPartial* out) override;
  void AddPartial(const codec::ExactPartial& partial) override;
  uint32_t vote_levels() const override;

 private:
  Vote vote_;
  uint32_t dimension_;
  uint32_t count_ = 0;
  uint64_t total_weight_ = 0;
  uint32_t weight_gcd_ = 0;
  std::unique_ptr<int32_t[]> counts_;
  std::vector<uint64_t> receive_buffer_;
};

}  // namespace edgefl

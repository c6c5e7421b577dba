#include "coordinator/sign_vote_aggregator.h"

#include <algorithm>
#include <cassert>
#include <numeric>

#include "schemas/codec/bit_pack.h"

namespace edgefl {

SignVoteAggregator::SignVoteAggregator(Vote vote, uint32_t dimension, size_t max_message_bytes)
    : vote_(vote), dimension_(dimension), counts_(new int32_t[dimension]()), receive_buffer_((max_message_bytes + 7) / 8) {}

void SignVoteAggregator::Reset() {
  count_ = 0;
  total_weight_ = 0;
  weight_gcd_ = 0;
  std::fill(counts_.get(), counts_.get() + dimension_, 0);
}

void SignVoteAggregator::AddFrom(uint32_t node, const codec::DecodedPayload& update, uint32_t weight) {
  (void)node;
  assert(weight >= 1);
  ++count_;
  total_weight_ += weight;
  weight_gcd_ = std::gcd(weight_gcd_, weight);
  assert(total_weight_ <= codec::kMaxRoundWeight);
  if (weight == 1) {
    codec::AccumulateSigns(update.sign_bits, {counts_.get(), dimension_});
    return;
  }
  const int32_t w = static_cast<int32_t>(weight);
  for (uint32_t j = 0; j < dimension_; ++j) counts_[j] += codec::SignBit(update.sign_bits, j) ? -w : w;
}

uint32_t SignVoteAggregator::vote_levels() const {
  if (vote_ == Vote::kMajority) return 1;
  const uint64_t g = std::max(weight_gcd_, 1u);
  return static_cast<uint32_t>(total_weight_ / g);
}

void SignVoteAggregator::Finish(std::span<double> direction) {
  // Counts and total reduced by the weights' gcd, which divides both
  // exactly: unweighted, g = 1 and the total is n.
  const int32_t g = static_cast<int32_t>(std::max(weight_gcd_, 1u));
  const double inverse = 1.0 / static_cast<double>(total_weight_ / static_cast<uint32_t>(g));
  switch (vote_) {
    case Vote::kMean:
      if (g == 1) {
        for (uint32_t j = 0; j < dimension_; ++j) direction[j] = counts_[j] * inverse;
      } else {
        for (uint32_t j = 0; j < dimension_; ++j) direction[j] = (counts_[j] / g) * inverse;
      }
      break;
    case Vote::kMajority:
      for (uint32_t j = 0; j < dimension_; ++j) direction[j] = (counts_[j] > 0) - (counts_[j] < 0);
      break;
  }
}

void SignVoteAggregator::ExportPartial(std::span<codec::Int128> values, codec::ExactPartial* out) {
  for (uint32_t j = 0; j < dimension_; ++j) values[j] = counts_[j];
  *out = codec::ExactPartial{.kind = wire::PartialKind::Counts,
                             .updates = count_,
                             .total_weight = total_weight_,
                             .weight_gcd = weight_gcd_,
                             .bounded = 0,
                             .values = values.first(dimension_)};
}

void SignVoteAggregator::AddPartial(const codec::ExactPartial& partial) {
  assert(partial.kind == wire::PartialKind::Counts && partial.values.size() == dimension_);
  count_ += partial.updates;
  total_weight_ += partial.total_weight;
  weight_gcd_ = std::gcd(weight_gcd_, partial.weight_gcd);
  // |count| <= the total weight, at most 2^20 (DecodeExactPartial checks it).
  assert(total_weight_ <= codec::kMaxRoundWeight);
  for (uint32_t j = 0; j < dimension_; ++j) counts_[j] += static_cast<int32_t>(partial.values[j]);
}

}  // namespace edgefl

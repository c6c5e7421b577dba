#include "coordinator/sign_vote_aggregator.h"

#include <algorithm>

#include "schemas/codec/bit_pack.h"

namespace edgefl {

SignVoteAggregator::SignVoteAggregator(Vote vote, uint32_t dimension, size_t max_message_bytes)
    : vote_(vote), dimension_(dimension), counts_(new int32_t[dimension]()), receive_buffer_((max_message_bytes + 7) / 8) {}

void SignVoteAggregator::Reset() {
  count_ = 0;
  std::fill(counts_.get(), counts_.get() + dimension_, 0);
}

void SignVoteAggregator::Add(const codec::DecodedPayload& update) {
  ++count_;
  codec::AccumulateSigns(update.sign_bits, {counts_.get(), dimension_});
}

void SignVoteAggregator::Finish(std::span<double> direction) {
  const double inverse = 1.0 / count_;
  switch (vote_) {
    case Vote::kMean:
      for (uint32_t j = 0; j < dimension_; ++j) direction[j] = counts_[j] * inverse;
      break;
    case Vote::kMajority:
      for (uint32_t j = 0; j < dimension_; ++j) direction[j] = (counts_[j] > 0) - (counts_[j] < 0);
      break;
  }
}

}  // namespace edgefl

#include "coordinator/aggregator.h"

#include "coordinator/mean_aggregator.h"
#include "coordinator/sign_vote_aggregator.h"

namespace edgefl {

std::unique_ptr<Aggregator> MakeAggregator(AggregatorKind kind, wire::CompressorKind compressor, uint32_t dimension,
                                           size_t max_message_bytes) {
  // Held updates each keep a receive buffer: only while they all fit this.
  constexpr size_t kReceiveBuffersBudgetBytes = size_t{128} << 20;
  switch (kind) {
    case AggregatorKind::kMean: {
      const bool hold = MeanAggregator::CanHoldUpdates(compressor) &&
                        MeanAggregator::kMaxPending * max_message_bytes <= kReceiveBuffersBudgetBytes;
      return std::make_unique<MeanAggregator>(dimension, max_message_bytes, hold);
    }
    case AggregatorKind::kSignMean:
      return std::make_unique<SignVoteAggregator>(SignVoteAggregator::Vote::kMean, dimension, max_message_bytes);
    case AggregatorKind::kMajority:
      return std::make_unique<SignVoteAggregator>(SignVoteAggregator::Vote::kMajority, dimension, max_message_bytes);
  }
  return nullptr;
}

}  // namespace edgefl

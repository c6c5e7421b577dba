#include "coordinator/aggregator.h"

#include "coordinator/coordinate_wise_aggregator.h"
#include "coordinator/krum_aggregator.h"
#include "coordinator/mean_aggregator.h"
#include "coordinator/norm_bound.h"
#include "coordinator/sign_vote_aggregator.h"

namespace edgefl {

std::unique_ptr<Aggregator> MakeAggregator(const AggregatorConfig& config, wire::CompressorKind compressor,
                                           uint32_t nodes, uint32_t dimension, size_t max_message_bytes) {
  // Held updates each keep a receive buffer: only while they all fit this.
  constexpr size_t kReceiveBuffersBudgetBytes = size_t{128} << 20;
  const double bound = config.max_update_norm;
  using Rule = CoordinateWiseAggregator::Rule;
  switch (config.kind) {
    case AggregatorKind::kMean: {
      if (bound > 0.0) {
        // A bounded update lives in the wrapper's scratch: the mean adds each at once.
        return std::make_unique<NormBoundingAggregator>(
            std::make_unique<MeanAggregator>(dimension, max_message_bytes, /*hold_updates=*/false), dimension, bound);
      }
      const bool hold = MeanAggregator::CanHoldUpdates(compressor) &&
                        MeanAggregator::kMaxPending * max_message_bytes <= kReceiveBuffersBudgetBytes;
      return std::make_unique<MeanAggregator>(dimension, max_message_bytes, hold);
    }
    case AggregatorKind::kSignMean:
      return std::make_unique<SignVoteAggregator>(SignVoteAggregator::Vote::kMean, dimension, max_message_bytes);
    case AggregatorKind::kMajority:
      return std::make_unique<SignVoteAggregator>(SignVoteAggregator::Vote::kMajority, dimension, max_message_bytes);
    case AggregatorKind::kMedian:
      return std::make_unique<CoordinateWiseAggregator>(Rule::kMedian, 0.0, nodes, dimension, max_message_bytes, bound);
    case AggregatorKind::kTrimmedMean:
      return std::make_unique<CoordinateWiseAggregator>(Rule::kTrimmedMean, config.trim, nodes, dimension,
                                                        max_message_bytes, bound);
    case AggregatorKind::kKrum:
      return std::make_unique<KrumAggregator>(config.byzantine, config.krum_select, nodes, dimension, max_message_bytes,
                                              bound);
  }
  return nullptr;
}

}  // namespace edgefl

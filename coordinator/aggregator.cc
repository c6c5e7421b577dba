#include "coordinator/aggregator.h"

#include "coordinator/bucketing_aggregator.h"
#include "coordinator/centered_clip_aggregator.h"
#include "coordinator/coordinate_wise_aggregator.h"
#include "coordinator/krum_aggregator.h"
#include "coordinator/mean_aggregator.h"
#include "coordinator/node_momentum_aggregator.h"
#include "coordinator/norm_bound.h"
#include "coordinator/sign_vote_aggregator.h"

namespace edgefl {
namespace {

// The rule alone, for rounds of at most `inputs` updates, each bounded to
// `bound` (0: not bounded). `held` says whether the mean may keep updates
// as views of their receive buffers until it adds them.
std::unique_ptr<Aggregator> MakeRule(const AggregatorConfig& config, wire::CompressorKind compressor, uint32_t inputs,
                                     uint32_t dimension, size_t max_message_bytes, double bound, bool held) {
  // Held updates each keep a receive buffer: only while they all fit this.
  constexpr size_t kReceiveBuffersBudgetBytes = size_t{128} << 20;
  using Rule = CoordinateWiseAggregator::Rule;
  switch (config.kind) {
    case AggregatorKind::kMean: {
      if (bound > 0.0) {
        // A bounded update lives in the wrapper's scratch: the mean adds each at once.
        return std::make_unique<NormBoundingAggregator>(
            std::make_unique<MeanAggregator>(dimension, max_message_bytes, /*hold_updates=*/false), dimension, bound);
      }
      const bool hold = held && MeanAggregator::CanHoldUpdates(compressor) &&
                        MeanAggregator::kMaxPending * max_message_bytes <= kReceiveBuffersBudgetBytes;
      return std::make_unique<MeanAggregator>(dimension, max_message_bytes, hold);
    }
    case AggregatorKind::kSignMean:
      return std::make_unique<SignVoteAggregator>(SignVoteAggregator::Vote::kMean, dimension, max_message_bytes);
    case AggregatorKind::kMajority:
      return std::make_unique<SignVoteAggregator>(SignVoteAggregator::Vote::kMajority, dimension, max_message_bytes);
    case AggregatorKind::kMedian:
      return std::make_unique<CoordinateWiseAggregator>(Rule::kMedian, 0.0, inputs, dimension, max_message_bytes,
                                                        bound);
    case AggregatorKind::kTrimmedMean:
      return std::make_unique<CoordinateWiseAggregator>(Rule::kTrimmedMean, config.trim, inputs, dimension,
                                                        max_message_bytes, bound);
    case AggregatorKind::kKrum:
      return std::make_unique<KrumAggregator>(config.byzantine, config.krum_select, inputs, dimension,
                                              max_message_bytes, bound);
    case AggregatorKind::kCenteredClip:
      return std::make_unique<CenteredClipAggregator>(config.clip_radius, config.clip_iterations, inputs, dimension,
                                                      max_message_bytes, bound);
  }
  return nullptr;
}

}  // namespace

std::unique_ptr<Aggregator> MakeAggregator(const AggregatorConfig& config, wire::CompressorKind compressor,
                                           uint32_t nodes, uint32_t dimension, size_t max_message_bytes,
                                           uint64_t seed) {
  const double bound = config.max_update_norm;
  const bool momentum = config.node_momentum > 0.0;
  // The rule sees the nodes' momenta (dense, in the momentum wrapper's
  // memory until Finish) and, with bucketing, bucket means.
  std::unique_ptr<Aggregator> aggregator;
  if (config.bucket_size > 1) {
    const uint32_t buckets = (nodes + config.bucket_size - 1) / config.bucket_size;
    aggregator = std::make_unique<BucketingAggregator>(
        MakeRule(config, wire::CompressorKind::Identity, buckets, dimension, max_message_bytes, 0.0, false),
        config.bucket_size, seed, nodes, dimension, max_message_bytes, bound);
  } else {
    aggregator = MakeRule(config, momentum ? wire::CompressorKind::Identity : compressor, nodes, dimension,
                          max_message_bytes, bound, !momentum);
  }
  if (momentum) {
    aggregator =
        std::make_unique<NodeMomentumAggregator>(std::move(aggregator), config.node_momentum, nodes, dimension);
  }
  return aggregator;
}

}  // namespace edgefl

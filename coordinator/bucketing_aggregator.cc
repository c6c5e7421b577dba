#include "coordinator/bucketing_aggregator.h"

#include <algorithm>
#include <cassert>
#include <numeric>

#include "core/rng.h"

namespace edgefl {
namespace {

// The stream bucketing draws from: (run seed, kBucketStream, round). Node
// streams are (seed, node index, round, purpose) with purposes 1 to 3
// (node_runtime.h); this one's fourth part keeps it apart from them.
constexpr uint64_t kBucketStream = 0xB0C4E7;

}  // namespace

void BucketOrder(std::span<const uint32_t> nodes, uint64_t seed, uint32_t round, std::span<uint32_t> order) {
  assert(order.size() == nodes.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return nodes[a] < nodes[b] || (nodes[a] == nodes[b] && a < b); });
  Rng rng(DeriveSeed(seed, kBucketStream, round, kBucketStream));
  for (size_t k = order.size(); k > 1; --k) {
    std::swap(order[k - 1], order[rng.Below(static_cast<uint32_t>(k))]);
  }
}

BucketingAggregator::BucketingAggregator(std::unique_ptr<Aggregator> rule, uint32_t bucket_size, uint64_t seed,
                                         uint32_t capacity, uint32_t dimension, size_t max_message_bytes,
                                         double max_update_norm)
    : rule_(std::move(rule)),
      bucket_size_(bucket_size),
      seed_(seed),
      rows_(capacity, dimension, max_update_norm),
      sum_(dimension),
      mean_(dimension),
      receive_buffer_((max_message_bytes + 7) / 8) {
  nodes_.reserve(capacity);
  order_.reserve(capacity);
}

void BucketingAggregator::Reset() {
  rows_.Clear();
  nodes_.clear();
  rule_->StartRound(round_);
}

void BucketingAggregator::AddFrom(uint32_t node, const codec::DecodedPayload& update, uint32_t weight) {
  (void)weight;
  assert(weight == 1 && "bucketing takes no weights");
  if (rows_.count() >= rows_.capacity()) return;  // UpdateRows asserts
  nodes_.push_back(node);
  rows_.Add(update);
}

void BucketingAggregator::Finish(std::span<double> direction) {
  const uint32_t n = rows_.count(), d = rows_.dimension();
  order_.resize(n);
  BucketOrder(nodes_, seed_, round_, order_);
  rule_->StartRound(round_);
  for (uint32_t start = 0; start < n; start += bucket_size_) {
    const uint32_t end = std::min(n, start + bucket_size_);
    std::fill(sum_.begin(), sum_.end(), 0.0);
    for (uint32_t k = start; k < end; ++k) {
      const std::span<const float> row = rows_.row(order_[k]);
      for (uint32_t j = 0; j < d; ++j) sum_[j] += row[j];
    }
    const double inverse = 1.0 / static_cast<double>(end - start);
    for (uint32_t j = 0; j < d; ++j) mean_[j] = static_cast<float>(sum_[j] * inverse);
    codec::DecodedPayload bucket;
    bucket.form = codec::DecodedPayload::Form::kDense;
    bucket.dense = mean_;
    rule_->Add(bucket);  // the rule copies it into its rows
  }
  rule_->Finish(direction);
}

}  // namespace edgefl

// BucketingAggregator: bucketing (Karimireddy, He, Jaggi, "Byzantine-robust
// learning on heterogeneous datasets via bucketing", ICLR 2022, Algorithm
// 1). A round's n updates are ordered by node id, permuted by a shuffle
// drawn from (run.seed, round), cut into ceil(n/s) buckets of s consecutive
// updates (the last holds what is left), and each bucket's mean is handed
// to a robust rule (median, trimmed mean, Krum, centred clipping), which
// returns the direction. Averaging s updates shrinks the honest updates'
// spread by sqrt(s) while a hostile update still lands in one bucket, so a
// rule that tolerates a fraction delta of outliers among the bucket means
// then tolerates delta/s hostile nodes; in exchange the rule's own bias
// shrinks with the honest spread.
//
// Independent of arrival order, bit for bit: the buckets depend on the
// node ids, the seed and the round only, each bucket's mean is summed in
// double in bucket order and rounded once to float, and the rule itself is
// arrival-order independent. Norm bounding (aggregator.max_update_norm)
// applies to the updates, before bucketing.
//
// Memory, allocated at construction for n_max = run.nodes: the updates (4
// n_max d bytes), a bucket mean (4 d bytes), the rule's own (for
// ceil(n_max/s) inputs). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/update_rows.h"

namespace edgefl {

// The buckets' order: `nodes[k]` is the node id of update k; writes to
// `order` the updates sorted by node id, then shuffled (Fisher-Yates) with
// a stream seeded from (seed, round). Update order[b s + t] is the t-th of
// bucket b.
void BucketOrder(std::span<const uint32_t> nodes, uint64_t seed, uint32_t round, std::span<uint32_t> order);

class BucketingAggregator final : public Aggregator {
 public:
  // `rule` is made for ceil(capacity / bucket_size) inputs, without a norm
  // bound (this wrapper bounds the updates).
  BucketingAggregator(std::unique_ptr<Aggregator> rule, uint32_t bucket_size, uint64_t seed, uint32_t capacity,
                      uint32_t dimension, size_t max_message_bytes, double max_update_norm);

  void Reset() override;
  void StartRound(uint32_t round) override {
    round_ = round;
    Reset();
  }
  std::span<uint64_t> ReceiveBuffer() override { return receive_buffer_; }
  // Without a node id (tests), the update's arrival index stands in.
  void Add(const codec::DecodedPayload& update) override { AddFrom(rows_.count(), update, 1); }
  // Weight 1 only: bucketing feeds robust rules, which take no weights
  // (aggregator.h).
  void AddFrom(uint32_t node, const codec::DecodedPayload& update, uint32_t weight) override;
  uint32_t count() const override { return rows_.count(); }
  void Finish(std::span<double> direction) override;
  uint32_t bounded() const override { return rows_.bounded(); }
  bool fell_back() const override { return rule_->fell_back(); }
  void Save(StateWriter& out) const override { rule_->Save(out); }
  Status Load(StateReader& in) override { return rule_->Load(in); }

 private:
  std::unique_ptr<Aggregator> rule_;
  uint32_t bucket_size_;
  uint64_t seed_;
  uint32_t round_ = 0;
  UpdateRows rows_;
  std::vector<uint32_t> nodes_;  // by arrival
  std::vector<uint32_t> order_;
  std::vector<double> sum_;
  std::vector<float> mean_;
  std::vector<uint64_t> receive_buffer_;
};

}  // namespace edgefl

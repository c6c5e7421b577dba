// Norm bounding (aggregator.max_update_norm): an update whose L2 norm
// exceeds the bound is scaled down to it before it is aggregated, so one
// node can move the aggregate by at most bound/n (under the mean) whatever
// it sends. An update within the bound is left as it is, bit for bit.
//
// The robust aggregators bound the rows they keep (BoundNorm). The mean
// streams compact and sparse updates without expanding them, so it is
// wrapped in NormBoundingAggregator, which expands each update, measures
// it, and hands the mean either the update unchanged or its scaled-down
// dense copy. Sign votes (sign-mean, majority) give every node one vote a
// coordinate already; the config refuses a bound with them. Under weights
// (aggregator.h) the bound applies to the update, before its weight: a node
// then moves the weighted mean by at most bound w_i / sum_i w_i.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "coordinator/aggregator.h"

namespace edgefl {

// ||values||_2, summed in double in coordinate order (so the same for an
// update whatever order updates arrive in).
double UpdateNorm(std::span<const float> values);

// Scales `values` by max_norm / ||values|| (each product rounded to float)
// when ||values|| > max_norm > 0; returns whether it did.
bool BoundNorm(std::span<float> values, double max_norm);

// An aggregator whose every update is norm-bounded first. `inner` must not
// hold updates past Add (a MeanAggregator built without hold_updates): a
// bounded update lives in this wrapper's one scratch vector. Memory: 4
// bytes a coordinate.
class NormBoundingAggregator final : public Aggregator {
 public:
  NormBoundingAggregator(std::unique_ptr<Aggregator> inner, uint32_t dimension, double max_norm);

  void Reset() override;
  std::span<uint64_t> ReceiveBuffer() override { return inner_->ReceiveBuffer(); }
  void Add(const codec::DecodedPayload& update) override { AddFrom(0, update, 1); }
  // Bounds the update, then hands it to the rule with its node and weight.
  void AddFrom(uint32_t node, const codec::DecodedPayload& update, uint32_t weight) override;
  uint32_t count() const override { return inner_->count(); }
  void Finish(std::span<double> direction) override { inner_->Finish(direction); }
  uint32_t bounded() const override { return bounded_; }
  // A relay bounds its nodes' updates; its partial says how many it bounded.
  std::optional<wire::PartialKind> partial_kind() const override { return inner_->partial_kind(); }
  void ExportPartial(std::span<codec::Int128> values, codec::ExactPartial* out) override {
    inner_->ExportPartial(values, out);
    out->bounded = bounded_;
  }
  void AddPartial(const codec::ExactPartial& partial) override {
    bounded_ += partial.bounded;
    inner_->AddPartial(partial);
  }

 private:
  std::unique_ptr<Aggregator> inner_;
  double max_norm_;
  std::unique_ptr<float[]> scratch_;
  uint32_t dimension_;
  uint32_t bounded_ = 0;
};

}  // namespace edgefl

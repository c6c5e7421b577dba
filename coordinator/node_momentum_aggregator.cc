#include "coordinator/node_momentum_aggregator.h"

#include <algorithm>
#include <cassert>

namespace edgefl {

NodeMomentumAggregator::NodeMomentumAggregator(std::unique_ptr<Aggregator> rule, double beta, uint32_t nodes,
                                               uint32_t dimension)
    : rule_(std::move(rule)),
      beta_(beta),
      nodes_(nodes),
      dimension_(dimension),
      momenta_(size_t{nodes} * dimension, 0.0f),
      started_(nodes, 0),
      new_(size_t{nodes} * dimension),
      new_node_(nodes) {}

void NodeMomentumAggregator::Reset() {
  pending_ = 0;
  rule_->Reset();
}

void NodeMomentumAggregator::StartRound(uint32_t round) {
  pending_ = 0;
  rule_->StartRound(round);
}

void NodeMomentumAggregator::AddFrom(uint32_t node, const codec::DecodedPayload& update, uint32_t weight) {
  assert(node < nodes_ && pending_ < nodes_);
  if (node >= nodes_ || pending_ >= nodes_) return;
  const std::span<float> m = new_row(pending_);
  codec::ExpandUpdate(update, m);
  if (started_[node]) {
    const float* old = momenta_.data() + size_t{node} * dimension_;
    for (uint32_t j = 0; j < dimension_; ++j) {
      m[j] = static_cast<float>(beta_ * static_cast<double>(old[j]) + (1.0 - beta_) * static_cast<double>(m[j]));
    }
  }
  new_node_[pending_++] = node;
  codec::DecodedPayload momentum;
  momentum.form = codec::DecodedPayload::Form::kDense;
  momentum.dense = m;
  rule_->AddFrom(node, momentum, weight);
}

void NodeMomentumAggregator::Finish(std::span<double> direction) {
  rule_->Finish(direction);
  for (uint32_t k = 0; k < pending_; ++k) {
    const std::span<const float> m = new_row(k);
    std::copy(m.begin(), m.end(), momenta_.begin() + static_cast<ptrdiff_t>(size_t{new_node_[k]} * dimension_));
    started_[new_node_[k]] = 1;
  }
}

void NodeMomentumAggregator::Save(StateWriter& out) const {
  rule_->Save(out);
  out.PutSpan(std::span<const float>(momenta_));
  out.PutSpan(std::span<const uint8_t>(started_));
}

Status NodeMomentumAggregator::Load(StateReader& in) {
  EDGEFL_RETURN_IF_ERROR(rule_->Load(in));
  EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<float>(momenta_)));
  return in.GetSpan(std::span<uint8_t>(started_));
}

}  // namespace edgefl

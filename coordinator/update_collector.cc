#include "coordinator/update_collector.h"

#include <cmath>
#include <cstring>

namespace edgefl {

void UpdateCollector::Open(uint32_t round) {
  round_ = round;
  open_ = true;
  aggregator_.StartRound(round);
  if (control_ != nullptr) control_->Reset();
  round_bytes_up_ = 0;
  node_loss_sum_ = 0.0;
  node_loss_count_ = 0;
  node_grad_norm_sum_ = 0.0;
  node_grad_norm_count_ = 0;
  for (auto& held : held_) held.clear();
}

Status UpdateCollector::Check(uint32_t node, uint32_t round, const wire::Update& update, size_t bytes) {
  const auto refuse = [](auto... args) { return Status::Error(StatusCode::kMalformed, args...); };
  round_bytes_up_ += bytes;
  NodeSlot& slot = nodes_[node];
  slot.round.bytes_up += bytes;
  if (!open_ || round != round_) {
    return refuse("update for round %u while round %u is %s", round, round_, open_ ? "open" : "closed");
  }
  if (!slot.participant) return refuse("update from a node not asked in round %u", round);
  if (slot.answered) return refuse("duplicate update in round %u", round);
  if (update.node_id() != node) return refuse("update claims node id %u", update.node_id());
  return Status::Ok();
}

Status UpdateCollector::AddAs(uint32_t node, const wire::Update& update, NodeRoundMetrics& row,
                             uint32_t staleness_weight) {
  if (!partial_values_.empty()) {
    EDGEFL_RETURN_IF_ERROR(AddPartial(node, update, row));
    nodes_[node].answered = true;
    NoteReport(update, row);
    return Status::Ok();
  }
  // Refused like a malformed payload: a node's weight is the samples it
  // says it has, and a heavier one could overflow the round's exact sums.
  const uint32_t weight = weighted_ ? codec::UpdateWeight(update) : 1;
  if (weight > max_weight_) {
    row.outcome = NodeOutcome::kRefused;
    return Status::Error(StatusCode::kMalformed,
                         "round %u: update weight %u is more than %u, the most one update may weigh with run.nodes = "
                         "%u (a round's weights total at most 2^20)",
                         round_, weight, max_weight_, nodes_.size());
  }
  std::span<const float> control_delta;
  if (control_ != nullptr) {
    if (const Status c = codec::ReadControlDelta(update, dimension_, &control_delta); !c.ok()) {
      row.outcome = NodeOutcome::kRefused;
      return Status::Error(StatusCode::kMalformed, "round %u: %s", round_, c.message());
    }
  }
  NodeSlot& slot = nodes_[node];
  codec::DecodedPayload decoded;
  const Status s = codec::DecodeUpdatePayload(update, compressor_, dimension_, scratch_, &decoded);
  if (!s.ok()) {
    if (s.code() == StatusCode::kOverflow) {
      slot.answered = true;  // its answer is in: it overflowed
      row.outcome = NodeOutcome::kOverflowed;
      return Status::Error(StatusCode::kOverflow, "round %u: %s", round_, s.message());
    }
    row.outcome = NodeOutcome::kRefused;
    return Status::Error(StatusCode::kMalformed, "round %u: %s", round_, s.message());
  }
  slot.answered = true;
  aggregator_.AddFrom(node, decoded, weight * staleness_weight);
  if (control_ != nullptr) control_->Add(control_delta);
  NoteReport(update, row);
  return Status::Ok();
}

Status UpdateCollector::AddPartial(uint32_t relay, const wire::Update& update, NodeRoundMetrics& row) {
  codec::ExactPartial partial;
  Status s = codec::DecodeExactPartial(update, *aggregator_.partial_kind(), dimension_, partial_values_, &partial);
  // A relay combines at most the nodes it was asked for, each weighing 1
  // unless the run weighs by samples: it cannot make the round look fuller
  // or heavier than it is.
  if (s.ok() && partial.updates > nodes_[relay].serves) {
    s = Status::Error(StatusCode::kMalformed, "partial combines %u updates, and relay %u was asked for %u",
                      partial.updates, relay, nodes_[relay].serves);
  } else if (s.ok() && !weighted_ && (partial.total_weight != partial.updates || partial.weight_gcd != 1)) {
    s = Status::Error(StatusCode::kMalformed,
                      "partial of %u updates weighs %llu (gcd %u), and this run weighs every update 1",
                      partial.updates, static_cast<unsigned long long>(partial.total_weight), partial.weight_gcd);
  } else if (s.ok() && partial.total_weight > max_weight_) {
    s = Status::Error(StatusCode::kMalformed,
                      "partial weighs %llu, more than the %u its relay's share of a round's 2^20 allows",
                      static_cast<unsigned long long>(partial.total_weight), max_weight_);
  }
  if (!s.ok()) {
    row.outcome = NodeOutcome::kRefused;
    return Status::Error(StatusCode::kMalformed, "round %u: %s", round_, s.message());
  }
  aggregator_.AddPartial(partial);
  return Status::Ok();
}

void UpdateCollector::NoteReport(const wire::Update& update, NodeRoundMetrics& row) {
  row.accepted = true;
  row.outcome = NodeOutcome::kCounted;
  row.loss = update.loss();
  row.grad_norm = update.grad_norm();
  row.compute_us = update.compute_us();
  if (std::isfinite(update.loss())) {
    node_loss_sum_ += update.loss();
    ++node_loss_count_;
  }
  if (std::isfinite(update.grad_norm()) && update.grad_norm() >= 0.0) {
    node_grad_norm_sum_ += update.grad_norm();
    ++node_grad_norm_count_;
  }
}

Status UpdateCollector::Take(uint32_t node, uint32_t round, const wire::Update& update, size_t bytes) {
  EDGEFL_RETURN_IF_ERROR(Check(node, round, update, bytes));
  return Add(node, update);
}

Status UpdateCollector::Hold(uint32_t node, uint32_t round, const wire::Update& update,
                             std::span<const uint8_t> message) {
  EDGEFL_RETURN_IF_ERROR(Check(node, round, update, message.size()));
  if (held_.size() < nodes_.size()) held_.resize(nodes_.size());
  held_[node].assign(message.begin(), message.end());
  nodes_[node].answered = true;
  return Status::Ok();
}

Status UpdateCollector::TakeHeld(uint32_t node) { return AddMessage(node, held_[node], nodes_[node].round, 1); }

Status UpdateCollector::AddMessage(uint32_t node, std::span<const uint8_t> message, NodeRoundMetrics& row,
                                   uint32_t staleness_weight) {
  // Into the aggregator's receive buffer, where Add expects an update's
  // bytes (some aggregators keep views of them).
  const std::span<uint64_t> buffer = aggregator_.ReceiveBuffer();
  std::memcpy(buffer.data(), message.data(), message.size());
  const wire::Envelope* envelope = nullptr;
  EDGEFL_RETURN_IF_ERROR(
      codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(buffer.data()), message.size()}, &envelope));
  return AddAs(node, *envelope->body_as_Update(), row, staleness_weight);
}

Status UpdateCollector::TakeMessage(uint32_t node, uint32_t round, std::span<const uint8_t> message) {
  const std::span<uint64_t> buffer = aggregator_.ReceiveBuffer();
  if (message.size() > buffer.size_bytes()) {
    return Status::Error(StatusCode::kMalformed, "update of %zu bytes, more than the %zu this run takes",
                         message.size(), buffer.size_bytes());
  }
  std::memcpy(buffer.data(), message.data(), message.size());
  const wire::Envelope* envelope = nullptr;
  EDGEFL_RETURN_IF_ERROR(
      codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(buffer.data()), message.size()}, &envelope));
  if (envelope->body_type() != wire::Body::Update) return Status::Error(StatusCode::kMalformed, "not an update");
  EDGEFL_RETURN_IF_ERROR(Check(node, round, *envelope->body_as_Update(), message.size()));
  return Add(node, *envelope->body_as_Update());
}

double UpdateCollector::mean_node_grad_norm() const {
  return node_grad_norm_count_ > 0 ? node_grad_norm_sum_ / node_grad_norm_count_ : NAN;
}

double UpdateCollector::mean_node_loss() const {
  return node_loss_count_ > 0 ? node_loss_sum_ / node_loss_count_ : NAN;
}

}  // namespace edgefl

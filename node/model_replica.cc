#include "node/model_replica.h"

#include <algorithm>

#include "schemas/codec/model_step.h"
#include "schemas/codec/wire.h"

namespace edgefl {

void ModelReplica::Forget() {
  held_ = assembling_ = stepping_ = asked_ = kNone;
  assembled_values_ = next_offset_ = 0;
}

ModelReplica::Outcome ModelReplica::Take(const wire::Envelope& envelope, Status* why) {
  return envelope.body_as_RoundStart()->form() == wire::ModelForm::Step ? TakeStep(envelope, why)
                                                                         : TakeFull(envelope, why);
}

ModelReplica::Outcome ModelReplica::TakeFull(const wire::Envelope& envelope, Status* why) {
  const uint32_t d = static_cast<uint32_t>(model_.size());
  const uint32_t round = envelope.round();
  uint32_t offset = 0;
  std::span<const float> part, control;
  Status s = codec::ReadRoundStartFull(*envelope.body_as_RoundStart(), d, &offset, &part, !control_.empty(), &control);
  if (s.ok() && offset != 0 && (round != assembling_ || offset != assembled_values_)) {
    s = Status::Error(StatusCode::kMalformed, "round start part at %u, expected round %u at %u", offset, assembling_,
                      assembled_values_);
  }
  if (!s.ok()) {
    assembling_ = kNone;  // wait for a model that starts at offset 0
    *why = s;
    return Outcome::kRejected;
  }
  if (offset == 0) {
    held_ = stepping_ = kNone;  // the replica is being overwritten
    assembling_ = round;
  }
  std::copy(part.begin(), part.end(), model_.begin() + offset);
  std::copy(control.begin(), control.end(), control_.begin() + offset);
  assembled_values_ = offset + static_cast<uint32_t>(part.size());
  if (assembled_values_ < d) return Outcome::kPending;
  assembled_values_ = 0;
  assembling_ = kNone;
  held_ = round;
  if (asked_ == round) asked_ = kNone;
  return Outcome::kComplete;
}

ModelReplica::Outcome ModelReplica::NeedModel(uint32_t round, Status status, Status* why) {
  held_ = stepping_ = kNone;
  asked_ = round;
  *why = status;
  return Outcome::kNeedModel;
}

ModelReplica::Outcome ModelReplica::TakeStep(const wire::Envelope& envelope, Status* why) {
  const uint32_t d = static_cast<uint32_t>(model_.size());
  const uint32_t round = envelope.round();
  codec::ModelStepPart part;
  if (Status s = codec::ReadRoundStartStep(*envelope.body_as_RoundStart(), d, &part); !s.ok()) {
    *why = s;
    return Outcome::kRejected;
  }
  if (!control_.empty()) {
    *why = Status::Error(StatusCode::kMalformed, "a step-form round start in a run with a control variate");
    return Outcome::kRejected;
  }
  if (part.version > round) {
    *why = Status::Error(StatusCode::kMalformed, "step to the model of round %u in round %u", part.version, round);
    return Outcome::kRejected;
  }
  if (asked_ == round) return Outcome::kPending;  // the whole model is on its way
  if (stepping_ != part.version) {
    if (held_ == kNone || held_ + 1 != part.version) {
      return NeedModel(round,
                       held_ == kNone ? Status::Error(StatusCode::kUnavailable, "round %u: a step, and no model to "
                                                      "apply it to", round)
                                      : Status::Error(StatusCode::kUnavailable, "round %u: a step from the model of "
                                                      "round %u, and this node holds round %u's", round,
                                                      part.version - 1, held_),
                       why);
    }
    stepping_ = part.version;
    held_ = kNone;  // parts of the step applied, others not
    next_offset_ = 0;
  }
  if (part.offset < next_offset_) {
    return NeedModel(round, Status::Error(StatusCode::kUnavailable, "round %u: step part at %u after one ending at %u",
                                          round, part.offset, next_offset_), why);
  }
  codec::ApplyModelStep(part, model_);
  next_offset_ = part.offset + part.length;
  if (next_offset_ < d) return Outcome::kPending;
  stepping_ = kNone;
  if (codec::ReplicaHash(model_) != part.model_hash) {
    return NeedModel(round, Status::Error(StatusCode::kUnavailable, "round %u: the model after the step to round "
                                          "%u does not match its hash", round, part.version), why);
  }
  held_ = part.version;
  return held_ == round ? Outcome::kComplete : Outcome::kPending;
}

}  // namespace edgefl

// ModelReplica: the node's copy of the model, kept from round to round and
// assembled from RoundStart messages: the whole model in parts (Full), or
// the steps since the model it holds (Step; schemas/codec/model_step.h,
// docs/protocol.md 9), each checked against the hash the coordinator sends
// with it. It writes into buffers the caller owns (the runtime's arena) and
// allocates nothing. Not thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "core/status.h"
#include "schemas/edgefl_generated.h"

namespace edgefl {

class ModelReplica {
 public:
  enum class Outcome {
    kPending,    // taken; the round's model is not complete yet
    kComplete,   // the replica now holds the model of the message's round
    kNeedModel,  // a step this replica cannot take (*why): ask for the round's whole model
    kRejected,   // malformed or out of order (*why); ignored
  };

  // `model` (d values) and, for Scaffold, `control` (d values, else empty).
  ModelReplica(std::span<float> model, std::span<float> control) : model_(model), control_(control) {}

  Outcome Take(const wire::Envelope& envelope, Status* why);
  // A new coordinator: what this replica holds is no longer known to match.
  void Forget();

  // The round whose model the replica holds, if `holds()`.
  bool holds() const { return held_ != kNone; }
  uint32_t round() const { return held_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  Outcome TakeFull(const wire::Envelope& envelope, Status* why);
  Outcome TakeStep(const wire::Envelope& envelope, Status* why);
  Outcome NeedModel(uint32_t round, Status status, Status* why);

  std::span<float> model_;
  std::span<float> control_;
  uint32_t held_ = kNone;             // the round whose model is whole in model_
  uint32_t assembling_ = kNone;       // Full: the round whose parts are arriving
  uint32_t assembled_values_ = 0;     //       how many of its coordinates have
  uint32_t stepping_ = kNone;         // Step: the version being applied
  uint32_t next_offset_ = 0;          //       where its next part may start
  uint32_t asked_ = kNone;            // the round whose whole model was asked for
};

}  // namespace edgefl

// ModelBroadcast: how a round's model reaches its participants
// (round.downlink, docs/protocol.md 9). With "model", the whole model in
// parts, each encoded once. With "step", a node that holds the model of an
// earlier round gets the steps since (downlink_step.h), which this keeps
// while they cost less than the model; any other node gets the model. A
// node whose replica cannot take a step asks (ModelRequest) and gets the
// model. Every byte sent is counted in the round's metrics and the node's
// row. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "coordinator/downlink_step.h"
#include "coordinator/session.h"

namespace edgefl {

class ModelBroadcast {
 public:
  explicit ModelBroadcast(Session& session);

  // Sends round `round`'s model (state.model) to every participant; one that
  // cannot be reached stops being one.
  void SendRound(uint32_t round);
  // The step that made round record.version's model (state.model now).
  void Keep(StepRecord&& record);
  // A round without a step: round `version`'s model is the last one.
  void KeepNoStep(uint32_t version);
  // Node `node` asks for round `round`'s whole model.
  void OnModelRequest(uint32_t node, uint32_t round);

 private:
  // Sends the message staged from s_.fbb to participant `node`, counting its bytes.
  void Send(uint32_t node);
  // The model's parts to the participants `to` marks.
  void SendModel(uint32_t round, const std::vector<uint8_t>& to);
  size_t ModelBytes(uint32_t round) const;

  Session& s_;
  std::deque<StepRecord> history_;  // consecutive versions, the newest last
  size_t history_bytes_ = 0;
  std::vector<uint32_t> catch_up_from_;  // per node: the first version it is sent, or kNoReplica: the model
  std::vector<uint8_t> gets_model_;
  std::vector<uint32_t> resent_in_;  // per node: the round it was last sent the model on request
};

}  // namespace edgefl

#include "coordinator/model_broadcast.h"

#include <algorithm>

#include "core/log.h"

namespace edgefl {

ModelBroadcast::ModelBroadcast(Session& session)
    : s_(session),
      catch_up_from_(session.nodes.size(), kNoReplica),
      gets_model_(session.nodes.size(), 0),
      resent_in_(session.nodes.size(), kNoReplica) {}

size_t ModelBroadcast::ModelBytes(uint32_t round) const {
  return codec::RoundStartBytes(s_.dimension, round, s_.config.local.HasControl());
}

void ModelBroadcast::Send(uint32_t node) {
  NodeSlot& slot = s_.nodes[node];
  if (!slot.participant) return;  // unreachable earlier this round
  if (s_.SendTo(node, /*staged=*/true)) {
    s_.round_metrics.bytes_down += s_.fbb.GetSize();
    slot.round.bytes_down += s_.fbb.GetSize();
  } else {
    slot.participant = false;
    slot.replica_round = kNoReplica;
  }
}

void ModelBroadcast::SendRound(uint32_t round) {
  const bool steps = s_.config.round.downlink == DownlinkForm::kStep;
  const bool history = steps && !history_.empty() && history_.back().version == round;
  // Bytes of the steps from each kept version to the newest: a node whose
  // replica is older than the oldest, or whose steps cost more than the
  // model, gets the model.
  const size_t model_bytes = history ? ModelBytes(round) : 0;  // only steps are weighed against it
  uint32_t first = round + 1;
  for (uint32_t i = 0; i < s_.nodes.size(); ++i) {
    NodeSlot& slot = s_.nodes[i];
    catch_up_from_[i] = kNoReplica;
    gets_model_[i] = 0;
    if (!slot.participant) continue;
    const uint32_t from = slot.replica_round == kNoReplica ? kNoReplica : slot.replica_round + 1;
    if (history && from != kNoReplica && from <= round && from >= history_.front().version) {
      size_t bytes = 0;
      for (auto it = history_.rbegin(); it != history_.rend() && it->version >= from; ++it) bytes += it->message_bytes;
      if (bytes < model_bytes) {
        catch_up_from_[i] = from;
        first = std::min(first, from);
        continue;
      }
    }
    gets_model_[i] = 1;
  }
  // Each step part is encoded once and sent to every node that needs it,
  // oldest step first.
  for (const StepRecord& record : history_) {
    if (!history || record.version < first) continue;
    for (size_t p = 0; p < record.parts.size(); ++p) {
      codec::EncodeRoundStartStep(s_.fbb, round, record.View(p, s_.dimension));
      s_.transport.Stage(s_.fbb);
      for (uint32_t i = 0; i < s_.nodes.size(); ++i) {
        if (catch_up_from_[i] != kNoReplica && catch_up_from_[i] <= record.version) Send(i);
      }
    }
  }
  SendModel(round, gets_model_);
  for (uint32_t i = 0; i < s_.nodes.size(); ++i) {
    NodeSlot& slot = s_.nodes[i];
    if (slot.participant) slot.replica_round = round;
  }
}

void ModelBroadcast::SendModel(uint32_t round, const std::vector<uint8_t>& to) {
  if (std::find(to.begin(), to.end(), 1) == to.end()) return;
  s_.ForEachModelPart(round, [&] {
    s_.transport.Stage(s_.fbb);
    for (uint32_t i = 0; i < s_.nodes.size(); ++i) {
      if (to[i]) Send(i);
    }
    return true;
  });
}

void ModelBroadcast::Keep(StepRecord&& record) {
  if (record.whole || (!history_.empty() && history_.back().version + 1 != record.version)) {
    history_.clear();  // a step not sent, or not the next (a resumed run): start again
    history_bytes_ = 0;
    if (record.whole) return;
  }
  history_bytes_ += record.message_bytes;
  history_.push_back(std::move(record));
  // Steps a node could only take with more bytes than the model are no use.
  const size_t model_bytes = ModelBytes(history_.back().version);
  while (history_.size() > 1 && history_bytes_ > model_bytes) {
    history_bytes_ -= history_.front().message_bytes;
    history_.pop_front();
  }
}

void ModelBroadcast::KeepNoStep(uint32_t version) {
  StepRecord record;
  BuildEmptyStep(s_.dimension, version, &record);
  ApplyStep(s_.state.model, &record);  // moves nothing; hashes the model
  Keep(std::move(record));
}

void ModelBroadcast::OnModelRequest(uint32_t node, uint32_t round) {
  NodeSlot& slot = s_.nodes[node];
  // Only for the round being collected, from a participant yet to answer,
  // once a round: a request for another round is stale (that round's model
  // is gone), and a node that asks again gets nothing more.
  if (round != s_.state.round || !s_.collector.open() || !slot.participant || slot.answered ||
      resent_in_[node] == round) {
    return;
  }
  resent_in_[node] = round;
  ++s_.state.summary.model_requests;
  EDGEFL_LOG_INFO("round %u: node %u's replica could not take the step; sent it the model", round, node);
  std::fill(gets_model_.begin(), gets_model_.end(), 0);
  gets_model_[node] = 1;
  SendModel(round, gets_model_);
}

}  // namespace edgefl

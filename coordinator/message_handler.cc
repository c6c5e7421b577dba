#include "coordinator/message_handler.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

#include "coordinator/model_broadcast.h"
#include "core/log.h"

namespace edgefl {
namespace {

// How long the coordinator waits for its nodes' answers to Bye.
constexpr int64_t kByeTimeoutMs = 2000;

// How long a connection about to be closed has to take the Error that says why.
constexpr int64_t kCloseDelayMs = 200;

}  // namespace

MessageHandler::MessageHandler(Session& session, UpdateSink& updates, ModelBroadcast* broadcast)
    : s_(session), updates_(updates), broadcast_(broadcast), admission_(session.config, session.nodes, session.topology) {}

void MessageHandler::PollOnce(int64_t timeout_ms) {
  Incoming in;
  if (s_.transport.Receive(timeout_ms, s_.aggregator->ReceiveBuffer(), &in)) HandleIncoming(in);
  NoteLostConnections();
}

void MessageHandler::HandleIncoming(const Incoming& in) {
  const uint32_t node = NodeTable::IdOf(in.routing_id);
  if (!in.authenticated) {
    // A listed key speaking for another node: told why, and its connection
    // closed, so that it holds no node's id (the real node's connection
    // with that id would otherwise never be heard).
    Reject(kNoNode, "a connection with node %u's key used routing id %.*s: closing it (a stolen or misplaced "
           "key: take it off the allow-list)",
           in.key_node, static_cast<int>(std::min<size_t>(in.routing_id.size(), 64)), in.routing_id.data());
    codec::EncodeError(s_.fbb, s_.state.round, wire::ErrorCode::Refused,
                       "this node's CURVE key belongs to another node id: use the key made for this id");
    s_.transport.Send(in.routing_id, s_.fbb);
    s_.transport.connections().CloseAt(in.fd, s_.clock.NowMs() + kCloseDelayMs);
    ++s_.connections_closed;
    return;
  }
  if (in.untruncated_bytes > s_.max_message_bytes || in.untruncated_bytes > in.bytes.size()) {
    Reject(node, "message of %zu bytes exceeds the largest this run accepts (%zu)", in.untruncated_bytes,
           s_.max_message_bytes);
    return;
  }
  Handle(in.routing_id, node, in.bytes);
  if (s_.nodes.Joined(node) && s_.nodes[node].routing_id == in.routing_id) {
    s_.transport.connections().Bind(in.fd, node);
  }
}

void MessageHandler::NoteLostConnections() {
  uint32_t node = kNoNode;
  while (s_.transport.connections().TakeClosedNode(&node)) {
    if (node >= s_.nodes.size() || !s_.nodes[node].joined || s_.saying_bye) continue;
    ++s_.state.summary.connections_lost;
    s_.nodes[node].round.connection_lost = true;
    if (s_.nodes[node].alive) {
      EDGEFL_LOG_WARN("node %u's connection closed: its process ended, or it sent a message of more than %zu "
                      "bytes (%zu over the largest this run accepts), which closes a connection",
                      node, s_.max_message_bytes + kTransportHeadroomBytes, kTransportHeadroomBytes);
    }
    s_.nodes[node].alive = false;  // ZeroMQ reconnects a node that is still running
  }
}

void MessageHandler::Handle(std::string_view routing_id, uint32_t node, std::span<const uint8_t> bytes) {
  const wire::Envelope* envelope = nullptr;
  const Status status = codec::ReadEnvelope(bytes, &envelope);
  if (!status.ok()) {
    Reject(node, "%s", status.message());
    // A peer that has not joined (e.g. speaking another protocol version)
    // is told why, so it can stop with a clear message: in its own version,
    // which is the one it reads.
    if (!s_.nodes.Joined(node)) {
      codec::EncodeError(s_.fbb, s_.state.round, wire::ErrorCode::Malformed, status.message(),
                         codec::ReplyVersion(bytes));
      s_.transport.Send(routing_id, s_.fbb);
    }
    return;
  }
  if (envelope->body_type() == wire::Body::Hello) {
    HandleHello(routing_id, node, *envelope->body_as_Hello());
    return;
  }
  if (!s_.nodes.Joined(node)) {
    AskToJoin(routing_id, node, envelope->body_type());
    return;
  }
  NodeSlot& slot = s_.nodes[node];
  slot.last_heard_ms = s_.clock.NowMs();
  if (!slot.alive) {
    slot.alive = true;
    EDGEFL_LOG_INFO("node %u is back", node);
  }
  // The participant a message speaks for is the id it carries; this
  // connection may speak only for its own node.
  const uint32_t participant = codec::ParticipantOf(*envelope);
  if (participant != kNoNode && participant != node) {
    Reject(node, "a %s for node %u on node %u's connection", wire::EnumNameBody(envelope->body_type()), participant,
           node);
    return;
  }
  switch (envelope->body_type()) {
    case wire::Body::Update:
      if (const Status taken = updates_.OnUpdate(node, envelope->round(), *envelope->body_as_Update(), bytes);
          !taken.ok()) {
        Reject(node, "%s", taken.message());
      }
      break;
    case wire::Body::Heartbeat:
      codec::EncodeHeartbeat(s_.fbb, s_.state.round, node);
      s_.SendTo(node);
      break;
    case wire::Body::ModelRequest:
      if (broadcast_ == nullptr || s_.config.round.downlink != DownlinkForm::kStep) {
        Reject(node, "a ModelRequest, in a run whose round starts carry the whole model");
      } else {
        broadcast_->OnModelRequest(node, envelope->round());
      }
      break;
    case wire::Body::Bye:
      slot.alive = false;
      slot.joined = false;
      if (!s_.saying_bye) {
        const auto* reason = envelope->body_as_Bye()->reason();
        EDGEFL_LOG_WARN("node %u left: %s", node, reason ? reason->c_str() : "");
      }
      break;
    case wire::Body::NONE:
    case wire::Body::Hello:  // handled above
    case wire::Body::Welcome:
    case wire::Body::RoundStart:
    case wire::Body::Error:
      Reject(node, "unexpected %s message", wire::EnumNameBody(envelope->body_type()));
      break;
  }
}

void MessageHandler::AskToJoin(std::string_view routing_id, uint32_t node, wire::Body body) {
  if (node >= s_.nodes.size()) {
    Reject(node, "%s from a node that has not joined", wire::EnumNameBody(body));
    return;
  }
  // A node of this run that this coordinator does not know, e.g. one that
  // joined the coordinator this one resumed from, is told to send Hello again.
  s_.CountRejected();
  if (WarnAboutRefusal()) {
    EDGEFL_LOG_INFO("node %u sent a %s without having joined: asked it to join", node, wire::EnumNameBody(body));
  }
  char text[64];
  std::snprintf(text, sizeof(text), "node %u has not joined this coordinator: send Hello", node);
  codec::EncodeError(s_.fbb, s_.state.round, wire::ErrorCode::UnknownNode, text);
  s_.transport.Send(routing_id, s_.fbb);
}

void MessageHandler::HandleHello(std::string_view routing_id, uint32_t node, const wire::Hello& hello) {
  char text[256] = {};
  std::string_view reason = "the coordinator could not start its run";
  if (s_.evaluator != nullptr) reason = admission_.Check(node, hello, text);
  if (!reason.empty()) {
    s_.CountRejected();
    if (WarnAboutRefusal()) {
      EDGEFL_LOG_WARN("refused %.*s: %.*s", static_cast<int>(std::min<size_t>(routing_id.size(), 64)),
                      routing_id.data(), static_cast<int>(reason.size()), reason.data());
    }
    codec::EncodeRefusal(s_.fbb, std::string(reason).c_str());
    s_.transport.Send(routing_id, s_.fbb);
    return;
  }
  admission_.Join(node, routing_id, s_.clock.NowMs(), s_.collector.open(), hello.relay_nodes());
  codec::EncodeWelcome(s_.fbb, s_.config.TaskFor(node), s_.config.round.heartbeat_ms, s_.evaluator->Shard(node),
                       CurrentRunPosition());
  s_.SendTo(node);
}

codec::RunPosition MessageHandler::CurrentRunPosition() const {
  // A buffered run's nodes see task numbers as rounds, and its checkpoints
  // fall on steps, not on their rounds: a node keeps no state copy at its
  // checkpoints then, and a resumed run's tasks carry on the numbering.
  if (s_.config.async.Buffered()) {
    return {.first_round = s_.state.tasks_sent, .checkpoint_every = 0, .coordinator_instance = s_.instance};
  }
  return {.first_round = s_.state.round,
          .checkpoint_every = s_.config.checkpoint_every,
          .coordinator_instance = s_.instance};
}

void MessageHandler::Reject(uint32_t node, const char* format, ...) {
  char text[256];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof(text), format, args);
  va_end(args);
  s_.CountRejected();
  if (!WarnAboutRefusal()) return;
  if (node == kNoNode) {
    EDGEFL_LOG_WARN("rejected a message from an unknown peer: %s", text);
  } else {
    EDGEFL_LOG_WARN("rejected a message from node %u: %s", node, text);
  }
}

bool MessageHandler::WarnAboutRefusal() {
  uint64_t held_back = 0;
  if (!refusal_log_.Allow(s_.clock.NowMs(), &held_back)) return false;
  if (held_back > 0) {
    EDGEFL_LOG_WARN("%llu more messages were rejected or refused without a warning each",
                    static_cast<unsigned long long>(held_back));
  }
  return true;
}

void MessageHandler::SayBye(const char* reason) {
  // A message sent just before a socket closes is not guaranteed to leave,
  // so each node's answer is what proves it was told.
  const auto send_bye = [&] {
    codec::EncodeBye(s_.fbb, s_.state.round, kNoNode, reason);
    for (uint32_t i = 0; i < s_.nodes.size(); ++i) {
      if (s_.nodes[i].joined && !s_.SendTo(i)) s_.nodes[i].joined = false;
    }
  };
  send_bye();
  s_.saying_bye = true;
  const int64_t give_up = s_.clock.NowMs() + kByeTimeoutMs;
  int64_t resend_at = s_.clock.NowMs() + 100;
  while (s_.nodes.JoinedCount() > 0 && s_.clock.NowMs() < give_up) {
    PollOnce(std::min(give_up, resend_at) - s_.clock.NowMs());
    if (s_.clock.NowMs() >= resend_at) {
      send_bye();  // to those that have not answered (a lost Bye)
      resend_at = s_.clock.NowMs() + 100;
    }
  }
}

}  // namespace edgefl

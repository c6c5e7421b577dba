// MessageHandler: the coordinator's side of the protocol (docs/protocol.md)
// for every message that arrives, whatever the round is doing: the
// transport's verdicts (a key speaking for another node, an oversize
// message), the envelope's checks, Hello (Admission, then Welcome),
// Heartbeat, Bye, and an Update, which it hands to the round's
// UpdateSink. The participant a message speaks for is the node id it
// carries, which the connection must be allowed to speak for (today: the
// routing id "node-<id>" names it). Refusals are counted, and logged a few
// at a time. Not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "coordinator/admission.h"
#include "coordinator/session.h"
#include "core/log_throttle.h"

namespace edgefl {

// What a round does with an update that passed the protocol's checks; an
// error refuses it, with the reason.
class ModelBroadcast;

class UpdateSink {
 public:
  virtual ~UpdateSink() = default;
  virtual Status OnUpdate(uint32_t node, uint32_t round, const wire::Update& update,
                        std::span<const uint8_t> message) = 0;
};

class MessageHandler {
 public:
  // `broadcast` answers ModelRequests (null: they are rejected).
  MessageHandler(Session& session, UpdateSink& updates, ModelBroadcast* broadcast = nullptr);

  // Waits up to `timeout_ms` for one message and handles it; then notes
  // the connections that closed meanwhile.
  void PollOnce(int64_t timeout_ms);

  // Tells every joined node the run is over, and waits briefly for their Byes.
  void SayBye(const char* reason);

  // Logs a rejection of a message from `node` (kNoNode: an unknown peer),
  // a few every few seconds, and counts it.
  [[gnu::format(printf, 3, 4)]] void Reject(uint32_t node, const char* format, ...);

  // Warnings held back by the throttle, for the run's last word.
  uint64_t held_back() const { return refusal_log_.held_back(); }

 private:
  // The transport's checks (the key's node, the size), then the message's.
  void HandleIncoming(const Incoming& in);
  void Handle(std::string_view routing_id, uint32_t node, std::span<const uint8_t> bytes);
  void HandleHello(std::string_view routing_id, uint32_t node, const wire::Hello& hello);
  // A message from a node of this run that has not joined this coordinator.
  void AskToJoin(std::string_view routing_id, uint32_t node, wire::Body body);
  // Joined nodes whose connection closed: not alive until heard again.
  void NoteLostConnections();
  // Where the run stands, for a Welcome: the round (a buffered run: the
  // task) a joining node's first task has, and when it keeps state copies.
  codec::RunPosition CurrentRunPosition() const;
  // Whether to log a rejection or refusal now (docs/outputs.md: the
  // summary counts them all).
  bool WarnAboutRefusal();

  Session& s_;
  UpdateSink& updates_;
  ModelBroadcast* broadcast_;
  Admission admission_;
  LogThrottle refusal_log_{10, 5000};  // 10 warnings every 5 s
};

}  // namespace edgefl

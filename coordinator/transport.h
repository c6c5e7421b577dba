// Transport: the coordinator's ZeroMQ ROUTER socket. Nodes are DEALERs whose
// routing id is "node-<id>". Receives one message at a time into a buffer the
// caller lends (the aggregator's), and sends without ever blocking the round
// loop: a peer that is gone or whose queue is full is reported, not waited
// for. A peer that announces a message larger than the run's largest is
// disconnected by ZeroMQ before the message is buffered (ZMQ_MAXMSGSIZE), so
// no peer can make the coordinator hold more than that per connection. Not
// thread-safe: the round loop owns it.
//
// Sizes: `max_message_bytes` is the largest message the coordinator
// accepts (codec::UpdateSizeLimit). ZeroMQ takes messages up to
// kTransportHeadroomBytes more (room for CURVE's framing, 33 bytes, which
// counts against ZMQ_MAXMSGSIZE), so a message a little over the limit is
// received, rejected and counted, and the connection, with any valid update
// queued behind it, lives on. Only a peer announcing a message larger still
// is disconnected, and the ConnectionGuard reports that.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "coordinator/connection_guard.h"
#include "coordinator/zap_handler.h"
#include "core/status.h"
#include "flatbuffers/flatbuffers.h"
#include "net/curve_keys.h"

namespace edgefl {

// How the coordinator's links are secured (docs/deploy.md).
struct TransportSecurity {
  CurveKeyPair server;    // the coordinator's key pair; empty: no CURVE
  CurveAllowList allow;   // the nodes' public keys, each bound to its node id
  HandshakeLimit handshakes;
  ConnectionLimits connections;
  bool curve() const { return !server.secret_key.empty(); }
};

struct Incoming {
  std::string_view routing_id;       // valid until the next Receive
  bool authenticated = true;         // with CURVE: the peer's key is the routing id's node's
  uint32_t key_node = UINT32_MAX;    // with CURVE: the node whose key the peer holds (kNoNode: none)
  std::span<const uint8_t> bytes;    // in the lent buffer
  size_t untruncated_bytes = 0;      // > bytes.size() when it did not fit
  int fd = -1;                       // the connection's descriptor (ConnectionGuard)
};

// How much larger than the accepted limit a message may be before ZeroMQ
// closes its connection instead of delivering it to be rejected.
inline constexpr size_t kTransportHeadroomBytes = 4096;

class Transport {
 public:
  // `max_message_bytes`: the largest message accepted; ZMTP
  // heartbeats every `heartbeat_ms` close a connection silent for
  // `silent_after_ms`.
  Transport(size_t max_message_bytes, uint32_t heartbeat_ms, uint32_t silent_after_ms,
            const TransportSecurity& security = {});

  // Starts the authentication handler and binds, e.g. "tcp://127.0.0.1:*";
  // *bound receives the real endpoint.
  Status Bind(const std::string& endpoint, std::string* bound);

  // Waits up to `timeout_ms` for one message with a body and receives it
  // into `buffer`. False on timeout (or a bare identity), and when the
  // WakeOn socket has a message.
  bool Receive(int64_t timeout_ms, std::span<uint64_t> buffer, Incoming* in);

  // Receive also returns when `socket` (a ZeroMQ socket handle: a relay's
  // link to the coordinator above) has a message to read.
  void WakeOn(void* socket) { wake_on_ = socket; }
  // False when the peer is unknown, gone, or cannot take the message now.
  // Send copies the message each time; a message for several peers is
  // staged once (one copy) and sent to each without another: ZeroMQ's
  // messages share the staged bytes, counted by reference.
  void Stage(const flatbuffers::FlatBufferBuilder& fbb);
  bool SendStaged(std::string_view routing_id);
  bool Send(std::string_view routing_id, const flatbuffers::FlatBufferBuilder& fbb);

  // Connections refused during their handshake (unknown keys, too many
  // handshakes from one source).
  uint64_t refused_connections() const { return zap_.refused(); }
  ConnectionGuard& connections() { return guard_; }


 private:
  zmq::context_t context_;
  ZapHandler zap_;
  bool curve_;
  zmq::socket_t socket_;
  ConnectionGuard guard_;  // after socket_: monitors it, and stops first
  zmq::message_t identity_;
  zmq::message_t body_;
  zmq::message_t staged_;  // Stage's message
  void* wake_on_ = nullptr;
};

}  // namespace edgefl

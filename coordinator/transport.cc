#include "coordinator/transport.h"

#include <algorithm>
#include <cstring>
#include <chrono>
#include <optional>

#include "coordinator/node_table.h"
#include "core/clock.h"

namespace edgefl {

Transport::Transport(size_t max_message_bytes, uint32_t heartbeat_ms, uint32_t silent_after_ms,
                     const TransportSecurity& security)
    : zap_(context_, security.curve() ? security.allow : CurveAllowList(), security.handshakes),
      curve_(security.curve()),
      socket_(context_, zmq::socket_type::router),
      guard_(context_, socket_, security.connections) {
  // Every handshake goes through the authentication handler (zap_handler.h):
  // CURVE keys when configured, a handshake rate limit per source always.
  socket_.set(zmq::sockopt::zap_domain, "edgefl");
  if (curve_) {
    socket_.set(zmq::sockopt::curve_server, 1);
    socket_.set(zmq::sockopt::curve_secretkey, security.server.secret_key);
  }
  socket_.set(zmq::sockopt::linger, 1000);
  // A peer announcing a much bigger message is disconnected at its header.
  socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_message_bytes + kTransportHeadroomBytes));
  // A connection that has not finished its ZMTP handshake (greeting and,
  // with CURVE, the key exchange) within 10 s is closed.
  socket_.set(zmq::sockopt::handshake_ivl, 10000);
  // Sends to an unknown or gone peer fail (EHOSTUNREACH) instead of
  // vanishing silently.
  socket_.set(zmq::sockopt::router_mandatory, 1);
  // One connection per routing id: a second connection that claims a live
  // node's id is held unidentified and never heard (no handover), so no
  // process can take a joined node over or speak for it. A node that
  // restarts (a crash, a board power-cycled) gets its id back once its old
  // connection is gone: at once when its process died (the kernel closes
  // the socket), or when ZMTP heartbeats find the old peer silent for
  // `silent_after_ms` (a hung process, a cut cable).
  socket_.set(zmq::sockopt::router_handover, 0);
  socket_.set(zmq::sockopt::heartbeat_ivl, static_cast<int>(heartbeat_ms));
  socket_.set(zmq::sockopt::heartbeat_timeout, static_cast<int>(silent_after_ms));
}

Status Transport::Bind(const std::string& endpoint, std::string* bound) {
  EDGEFL_RETURN_IF_ERROR(zap_.Start());
  try {
    socket_.bind(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot bind %s: %s", endpoint.c_str(), e.what());
  }
  *bound = socket_.get(zmq::sockopt::last_endpoint);
  return Status::Ok();
}

bool Transport::Receive(int64_t timeout_ms, std::span<uint64_t> buffer, Incoming* in) {
  // Each wake-up reads the connection events before any message: an event
  // queued before a message (a closed connection whose descriptor a new one
  // reuses) is seen before it. A timeout still drains, for closes falling due.
  const int64_t until_ms = NowMs() + std::max<int64_t>(timeout_ms, 0);
  for (;;) {
    zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0},
                               {guard_.handle(), 0, ZMQ_POLLIN, 0},
                               {wake_on_, 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, wake_on_ != nullptr ? 3 : 2,
                std::chrono::milliseconds(std::max<int64_t>(until_ms - NowMs(), 0)));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) return false;
      throw;
    }
    guard_.Drain(NowMs());
    if (items[0].revents & ZMQ_POLLIN) break;
    if ((items[2].revents & ZMQ_POLLIN) != 0 || NowMs() >= until_ms) return false;
  }
  if (!socket_.recv(identity_, zmq::recv_flags::dontwait)) return false;
  if (!socket_.get(zmq::sockopt::rcvmore)) return false;  // a bare identity: nothing to do
  // The body is received whole, then copied into the lent buffer (zmq_recv
  // into a buffer copies as much): the message carries its connection's
  // descriptor (for the ConnectionGuard) and, with CURVE, the name the
  // authentication handler gave the connection after its key, which must be
  // the routing id.
  std::optional<zmq::recv_buffer_size> size;
  if (socket_.recv(body_, zmq::recv_flags::dontwait)) {
    size = zmq::recv_buffer_size{std::min(body_.size(), buffer.size_bytes()), body_.size()};
    std::memcpy(buffer.data(), body_.data(), size->size);
    in->fd = zmq_msg_get(body_.handle(), ZMQ_SRCFD);
    if (curve_) {
      const char* user = zmq_msg_gets(body_.handle(), "User-Id");
      in->authenticated = user != nullptr && std::string_view(static_cast<const char*>(identity_.data()),
                                                              identity_.size()) == user;
      in->key_node = user != nullptr ? NodeTable::IdOf(user) : kNoNode;
    }
  }
  while (socket_.get(zmq::sockopt::rcvmore)) {  // drain frames a node never sends
    zmq::message_t extra;
    (void)socket_.recv(extra, zmq::recv_flags::dontwait);
  }
  if (!size) return false;
  in->routing_id = std::string_view(static_cast<const char*>(identity_.data()), std::min<size_t>(identity_.size(), 256));
  in->bytes = {reinterpret_cast<const uint8_t*>(buffer.data()), size->size};
  in->untruncated_bytes = size->untruncated_size;
  return true;
}

bool Transport::Send(std::string_view routing_id, const flatbuffers::FlatBufferBuilder& fbb) {
  try {
    if (!socket_.send(zmq::const_buffer(routing_id.data(), routing_id.size()),
                      zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return false;  // the peer's queue is full
    }
    return socket_.send(zmq::const_buffer(fbb.GetBufferPointer(), fbb.GetSize()), zmq::send_flags::dontwait)
        .has_value();
  } catch (const zmq::error_t& e) {
    if (e.num() != EHOSTUNREACH) throw;
    return false;
  }
}

void Transport::Stage(const flatbuffers::FlatBufferBuilder& fbb) { staged_.rebuild(fbb.GetBufferPointer(), fbb.GetSize()); }

bool Transport::SendStaged(std::string_view routing_id) {
  try {
    if (!socket_.send(zmq::const_buffer(routing_id.data(), routing_id.size()),
                      zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return false;
    }
    zmq::message_t shared;
    shared.copy(staged_);  // a reference to the staged bytes, not a copy of them
    return socket_.send(shared, zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t& e) {
    if (e.num() != EHOSTUNREACH) throw;
    return false;
  }
}

}  // namespace edgefl

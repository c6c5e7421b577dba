#include "coordinator/transport.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "node/socket_poll.h"

namespace edgefl {

Transport::Transport(size_t max_message_bytes, uint32_t heartbeat_ms, uint32_t silent_after_ms,
                     const TransportSecurity& security)
    : zap_(context_, security.curve() ? security.allow : CurveAllowList(), security.handshakes),
      curve_(security.curve()),
      socket_(context_, zmq::socket_type::router) {
  // Every handshake goes through the authentication handler (zap_handler.h):
  // CURVE keys when configured, a handshake rate limit per source always.
  socket_.set(zmq::sockopt::zap_domain, "edgefl");
  if (curve_) {
    socket_.set(zmq::sockopt::curve_server, 1);
    socket_.set(zmq::sockopt::curve_secretkey, security.server.secret_key);
  }
  socket_.set(zmq::sockopt::linger, 1000);
  // A peer announcing a bigger message is disconnected at its header.
  socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_message_bytes));
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
  if (!WaitReadable(socket_, timeout_ms)) return false;
  if (!socket_.recv(identity_, zmq::recv_flags::dontwait)) return false;
  if (!socket_.get(zmq::sockopt::rcvmore)) return false;  // a bare identity: nothing to do
  auto* bytes = reinterpret_cast<uint8_t*>(buffer.data());
  const size_t capacity = buffer.size_bytes();
  std::optional<zmq::recv_buffer_size> size;
  if (curve_) {
    // With CURVE, the frame carries the name the authentication handler
    // gave the connection after its key: it must be the routing id.
    // (Received whole, then copied: metadata comes with a message.)
    if (socket_.recv(body_, zmq::recv_flags::dontwait)) {
      size = zmq::recv_buffer_size{std::min(body_.size(), capacity), body_.size()};
      std::memcpy(bytes, body_.data(), size->size);
      const char* user = zmq_msg_gets(body_.handle(), "User-Id");
      in->authenticated = user != nullptr && std::string_view(static_cast<const char*>(identity_.data()),
                                                              identity_.size()) == user;
    }
  } else {
    size = socket_.recv(zmq::mutable_buffer(bytes, capacity), zmq::recv_flags::dontwait);
  }
  while (socket_.get(zmq::sockopt::rcvmore)) {  // drain frames a node never sends
    zmq::message_t extra;
    (void)socket_.recv(extra, zmq::recv_flags::dontwait);
  }
  if (!size) return false;
  in->routing_id = std::string_view(static_cast<const char*>(identity_.data()), std::min<size_t>(identity_.size(), 256));
  in->bytes = {bytes, size->size};
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

}  // namespace edgefl

#include "net/socket_monitor.h"

#include <zmq.h>

#include <cstring>

namespace edgefl {

SocketMonitor::SocketMonitor(zmq::context_t& context, zmq::socket_t& socket, const std::string& name, int events)
    : socket_(socket), pair_(context, zmq::socket_type::pair) {
  const std::string endpoint = "inproc://" + name;
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), events) != 0) throw zmq::error_t();
  pair_.set(zmq::sockopt::linger, 0);
  pair_.connect(endpoint);
}

SocketMonitor::~SocketMonitor() {
  // Stops ZeroMQ's side, so the socket can close (or be monitored anew).
  zmq_socket_monitor(socket_.handle(), nullptr, 0);
}

bool SocketMonitor::Next(MonitorEvent* event) {
  // Each event is two frames: 2 bytes of event and 4 of value, then the
  // local endpoint's address (ZeroMQ's version 1 format).
  zmq::message_t head;
  if (!pair_.recv(head, zmq::recv_flags::dontwait)) return false;
  bool well_formed = head.size() == 6;
  if (well_formed) {
    std::memcpy(&event->event, head.data(), sizeof(event->event));
    std::memcpy(&event->value, static_cast<const char*>(head.data()) + 2, sizeof(event->value));
  }
  while (pair_.get(zmq::sockopt::rcvmore)) {
    zmq::message_t rest;
    (void)pair_.recv(rest, zmq::recv_flags::dontwait);
  }
  if (!well_formed) event->event = 0;
  return true;
}

const char* DescribeHandshakeFailure(const MonitorEvent& e) {
  switch (e.event) {
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      // The ZAP handler's status code: 400 is a refusal, 300 a try-later.
      return e.value == 400 ? "the coordinator refused the handshake: a key not on its allow-list, or too many "
                              "handshakes from one address"
                            : "the coordinator's authentication failed";
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      if (e.value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
        return "the two ends disagree on security: one uses CURVE keys and the other does not (--key and "
               "--server-key on a node, --key and --allow on the coordinator)";
      }
      if (e.value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) {
        return "the CURVE handshake could not be decrypted: the client does not hold the server's public key";
      }
      return "the peer broke the ZMTP handshake";
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
      return "the connection closed during the handshake";
    default:
      return nullptr;
  }
}

}  // namespace edgefl

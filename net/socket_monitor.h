// SocketMonitor: the events ZeroMQ reports about one socket's connections
// (zmq_socket_monitor): accepted and closed TCP connections with their file
// descriptors, and why a handshake failed. ZeroMQ sends them over an inproc
// PAIR socket, which this class owns; Next() reads one without waiting, and
// handle() lets a caller poll it beside other sockets. Used by the
// coordinator (connection_guard.h) and, while it joins, by the node (to say
// why a handshake failed). Not thread-safe: the owner of the monitored
// socket's thread reads it.
#pragma once

#include <cstdint>
#include <string>
#include <zmq.hpp>

namespace edgefl {

struct MonitorEvent {
  uint16_t event = 0;  // ZMQ_EVENT_*
  int32_t value = 0;   // the connection's descriptor, or an error or ZAP status code
};

class SocketMonitor {
 public:
  // Starts monitoring `socket` (events: ZMQ_EVENT_* bits) over
  // inproc://`name`, which must be unique in `context`.
  SocketMonitor(zmq::context_t& context, zmq::socket_t& socket, const std::string& name, int events);
  ~SocketMonitor();
  SocketMonitor(const SocketMonitor&) = delete;
  SocketMonitor& operator=(const SocketMonitor&) = delete;

  // The next event, without waiting; false when none is queued.
  bool Next(MonitorEvent* event);
  void* handle() { return pair_.handle(); }

 private:
  zmq::socket_t& socket_;
  zmq::socket_t pair_;
};

// Why a handshake failed, in words, for an event of kind
// ZMQ_EVENT_HANDSHAKE_FAILED_*; nullptr for other events.
const char* DescribeHandshakeFailure(const MonitorEvent& event);

}  // namespace edgefl

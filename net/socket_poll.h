// Waiting for a ZeroMQ socket to become readable, where a signal (Ctrl-C)
// is a normal way for the wait to end rather than an exception.
#pragma once

#include <chrono>
#include <cstdint>
#include <zmq.hpp>

namespace edgefl {

// True when `socket` has a message; false on timeout or signal.
inline bool WaitReadable(zmq::socket_t& socket, int64_t timeout_ms) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  try {
    zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms));
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return false;
    throw;
  }
  return (item.revents & ZMQ_POLLIN) != 0;
}

}  // namespace edgefl

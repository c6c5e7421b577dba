// Waiting for a ZeroMQ socket to become readable, where a signal (Ctrl-C)
// is a normal way for the wait to end rather than an exception.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>
#include <zmq.hpp>

#include "core/clock.h"

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

// True when `socket` has a message; false once NowUs() reaches `until_us`,
// or on a signal. zmq_poll counts whole milliseconds, so the last fraction of
// one is slept (a timer, not a spin) after a look at the socket: a caller
// pacing messages (the node's link, node/node_link.h) wakes within tens of
// microseconds of its time, and a message arriving meanwhile waits at most
// that fraction.
inline bool WaitReadableUntilUs(zmq::socket_t& socket, int64_t until_us) {
  const int64_t left_us = until_us - NowUs();
  if (left_us >= 1000) return WaitReadable(socket, left_us / 1000);
  if (WaitReadable(socket, 0)) return true;
  if (left_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(left_us));
  return false;
}

}  // namespace edgefl

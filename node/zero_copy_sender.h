// ZeroCopySender: sends a message straight from a buffer the caller keeps
// (the update in the node's arena), without the copy ZeroMQ makes of a
// plain send — 4d bytes for a dense update, a second model-sized buffer at
// d = 1e6. ZeroMQ reads the buffer from its I/O thread until it releases the
// message (sent or dropped); the caller must not rewrite the buffer before
// WaitReleased() says so. One message in flight at a time. Thread-safe only
// in that ZeroMQ's I/O thread may release while the owner waits.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <thread>
#include <zmq.hpp>

namespace edgefl {

class ZeroCopySender {
 public:
  // False when ZeroMQ did not take the message; nothing is in flight then.
  bool Send(zmq::socket_t& socket, std::span<const uint8_t> message) {
    in_flight_.store(true, std::memory_order_release);
    zmq::message_t zero_copy(const_cast<uint8_t*>(message.data()), message.size(), &Release, &in_flight_);
    // On failure zero_copy still owns the buffer, and its destructor
    // releases it.
    return socket.send(zero_copy, zmq::send_flags::dontwait).has_value();
  }

  // True once the last message is released, waiting up to timeout_ms.
  bool WaitReleased(int timeout_ms) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (in_flight_.load(std::memory_order_acquire)) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return true;
  }

 private:
  static void Release(void* /*data*/, void* hint) {
    static_cast<std::atomic<bool>*>(hint)->store(false, std::memory_order_release);
  }

  std::atomic<bool> in_flight_{false};
};

}  // namespace edgefl

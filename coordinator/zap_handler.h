// ZapHandler: the coordinator's ZeroMQ authentication handler (ZAP, ZeroMQ
// RFC 27), on its own thread. ZeroMQ asks it about every new connection
// during the handshake, before any message is heard:
//   - with CURVE keys, it admits only public keys on the allow-list, and
//     names the connection's user "node-<id>" after the key, which the
//     coordinator then requires to equal the routing id (a key speaks for
//     its own node only);
//   - with keys, it limits handshakes per listed key (a token bucket:
//     `burst` at once, then `per_second`); an unknown key is refused without
//     spending anyone's budget, so a flood of unknown keys from a board's
//     own address (behind the same NAT) cannot keep the board out. Without
//     keys it admits every handshake: ConnectionGuard bounds connections.
// Refusals are counted, and logged a few at a time. Thread-safe: the counter
// is atomic; everything else belongs to the handler's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "core/status.h"
#include "net/curve_keys.h"

namespace edgefl {

struct HandshakeLimit {
  uint32_t burst = 20;      // handshakes one key may start at once
  double per_second = 5.0;  // and then, on average
};

class ZapHandler {
 public:
  // `allow` empty: no CURVE (rate limit only).
  ZapHandler(zmq::context_t& context, CurveAllowList allow, HandshakeLimit limit);
  ~ZapHandler();

  // Binds inproc://zeromq.zap.01 in the context and starts the thread; call
  // before the socket it guards binds.
  Status Start();
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  void Serve();

  zmq::context_t& context_;
  CurveAllowList allow_;
  HandshakeLimit limit_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> refused_{0};
  zmq::socket_t socket_;
  std::thread thread_;
};

}  // namespace edgefl

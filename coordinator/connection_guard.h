// ConnectionGuard: keeps count of the coordinator's TCP connections, from
// the events ZeroMQ reports about its ROUTER socket (net/socket_monitor.h),
// and closes those it must:
//   - A connection that has not joined a node (a node before its Hello is
//     accepted, a scanner, a connection that never sends a greeting) is
//     "unbound". At most `per_address` unbound connections from one source
//     address, and `total` in all, stay open: past either, the oldest one
//     (from that address, or overall) is closed, or the newest when every
//     one is younger than kGraceMs. A node's connection is heard within
//     milliseconds, so a flood of idle connections cannot keep a node out
//     for long, and cannot take the descriptors the run's own files need.
//     An unbound connection open for kUnboundTimeoutMs is closed too: a
//     node is heard at once, and a silent connection may hold a node's id
//     (a ROUTER hears only the first connection with an id).
//   - A joined node's connection that closes is reported (TakeClosedNode):
//     its process ended, or it sent a message larger than the transport
//     takes, which ZeroMQ answers by closing the connection.
//   - Connections may be closed on request (CloseAt), e.g. one whose CURVE
//     key belongs to another node than the routing id it claims, so that it
//     does not hold that id.
// Closing is shutdown(2) on the descriptor: ZeroMQ's I/O thread then sees the
// connection end and cleans up as for any peer that left. Handshakes that
// fail are counted and logged a few at a time. Not thread-safe: the round
// loop's thread owns it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "core/log_throttle.h"
#include "core/status.h"
#include "net/socket_monitor.h"

namespace edgefl {

struct ConnectionLimits {
  uint32_t per_address = 16;  // unbound connections from one source address
  uint32_t total = 64;        // unbound connections in all
};

// Descriptors kept for the coordinator's own files (checkpoint, model,
// metrics, summary) and ZeroMQ's sockets, never given to connections.
inline constexpr uint64_t kReservedDescriptors = 64;

// The limits for a run of `nodes` nodes: max(16, 2 nodes) unbound
// connections from one address (a whole local simulation, reconnecting),
// max(64, 4 nodes) in all; both within the process's open-file limit, which
// this raises to its hard limit first, less the nodes' own connections and
// kReservedDescriptors. An error names the limit when it is too low for the
// run.
Status ConnectionLimitsFor(uint32_t nodes, ConnectionLimits* limits);

class ConnectionGuard {
 public:
  static constexpr uint32_t kUnbound = UINT32_MAX;
  static constexpr int64_t kUnboundTimeoutMs = 10000;
  static constexpr int64_t kGraceMs = 1000;

  ConnectionGuard(zmq::context_t& context, zmq::socket_t& router, ConnectionLimits limits);

  // The monitor's socket, to poll beside the ROUTER.
  void* handle() { return monitor_.handle(); }
  // Reads every queued event, enforces the limits and closes what is due.
  void Drain(int64_t now_ms);
  // The connection `fd` carries node `node`'s messages from now on.
  void Bind(int fd, uint32_t node);
  // Closes `fd` at `at_ms` (time for a message to it to leave first).
  void CloseAt(int fd, int64_t at_ms);
  // One joined node whose connection closed since the last call.
  bool TakeClosedNode(uint32_t* node);

  // "10.79.0.11 (2), 10.79.0.12 (2)": the addresses nodes' connections
  // come from, each with its count, in address order; at most `listed`
  // addresses, then how many more.
  std::string NodeAddresses(size_t listed = 8) const;

  uint64_t closed_for_limits() const { return closed_for_limits_; }
  uint64_t failed_handshakes() const { return failed_handshakes_; }

 private:
  struct Connection {
    std::string address;  // the peer's IP address
    uint64_t order = 0;   // accept order: smaller is older
    int64_t accepted_ms = 0;
    uint32_t node = kUnbound;
    bool closing = false;
  };
  struct PendingClose {
    int fd;
    uint64_t order;  // the connection's: a descriptor reused by a later one is not it
    int64_t at_ms;
  };

  void Accepted(int fd, int64_t now_ms);
  void Closed(int fd);
  void Close(int fd, Connection& c);

  SocketMonitor monitor_;
  ConnectionLimits limits_;
  std::unordered_map<int, Connection> open_;
  std::vector<uint32_t> closed_nodes_;
  std::vector<PendingClose> pending_closes_;
  uint64_t next_order_ = 0;
  int64_t next_sweep_ms_ = 0;
  uint64_t closed_for_limits_ = 0;
  uint64_t failed_handshakes_ = 0;
  LogThrottle log_{10, 5000};
};

}  // namespace edgefl

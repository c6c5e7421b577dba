#include "coordinator/connection_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <zmq.h>

#include <algorithm>
#include <map>

#include "core/log.h"

namespace edgefl {
namespace {

// The IP address of the peer of the connected socket `fd`, or "" when it
// has none (already gone).
std::string PeerAddress(int fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof(peer);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return "";
  char text[INET6_ADDRSTRLEN] = {};
  if (peer.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&peer)->sin_addr, text, sizeof(text));
  } else if (peer.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_addr, text, sizeof(text));
  } else {
    return "local";
  }
  return text;
}

constexpr int kEvents = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                        ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

}  // namespace

Status ConnectionLimitsFor(uint32_t nodes, ConnectionLimits* limits) {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &files) != 0) getrlimit(RLIMIT_NOFILE, &files);
  }
  const uint64_t open_files = files.rlim_cur == RLIM_INFINITY ? UINT32_MAX : files.rlim_cur;
  const uint64_t needed = kReservedDescriptors + nodes + 8;
  if (open_files < needed) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the open-file limit (ulimit -n) is %llu, and run.nodes = %u needs at least %llu: %u "
                         "connections, %llu descriptors for the run's files and sockets, and 8 for nodes joining",
                         static_cast<unsigned long long>(open_files), nodes, static_cast<unsigned long long>(needed),
                         nodes, static_cast<unsigned long long>(kReservedDescriptors));
  }
  const uint64_t spare = open_files - kReservedDescriptors - nodes;
  limits->total = static_cast<uint32_t>(std::min<uint64_t>(std::max<uint64_t>(64, 4ull * nodes), spare));
  limits->per_address = std::min(std::max(16u, 2 * nodes), limits->total);
  return Status::Ok();
}

ConnectionGuard::ConnectionGuard(zmq::context_t& context, zmq::socket_t& router, ConnectionLimits limits)
    : monitor_(context, router, "edgefl.coordinator.monitor", kEvents), limits_(limits) {}

void ConnectionGuard::Drain(int64_t now_ms) {
  MonitorEvent e;
  while (monitor_.Next(&e)) {
    switch (e.event) {
      case ZMQ_EVENT_ACCEPTED:
        Accepted(e.value, now_ms);
        break;
      case ZMQ_EVENT_DISCONNECTED:
        Closed(e.value);
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: {
        ++failed_handshakes_;
        uint64_t held_back = 0;
        // ZAP refusals (AUTH) are logged by the handler, with their reason.
        if (e.event != ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && log_.Allow(now_ms, &held_back)) {
          EDGEFL_LOG_WARN("a node's handshake failed: %s%s", DescribeHandshakeFailure(e),
                          held_back > 0 ? " (and more, not each logged)" : "");
        }
        break;
      }
      default:
        break;
    }
  }
  // Unbound connections past their time, checked once a second.
  if (now_ms >= next_sweep_ms_) {
    next_sweep_ms_ = now_ms + 1000;
    for (auto& [fd, c] : open_) {
      if (c.node != kUnbound || c.closing || now_ms - c.accepted_ms < kUnboundTimeoutMs) continue;
      Close(fd, c);
      ++closed_for_limits_;
      uint64_t held_back = 0;
      if (log_.Allow(now_ms, &held_back)) {
        EDGEFL_LOG_WARN("closed a connection from %s that joined no node in %lld s%s", c.address.c_str(),
                        static_cast<long long>(kUnboundTimeoutMs / 1000),
                        held_back > 0 ? " (and more, not each logged)" : "");
      }
    }
  }
  // Closes that are due; the list holds a few at most.
  for (size_t i = 0; i < pending_closes_.size();) {
    if (pending_closes_[i].at_ms > now_ms) {
      ++i;
      continue;
    }
    // Only the connection it was meant for: once that one has closed, its
    // descriptor may already carry a new connection (a node's).
    const auto it = open_.find(pending_closes_[i].fd);
    if (it != open_.end() && it->second.order == pending_closes_[i].order && !it->second.closing) {
      Close(it->first, it->second);
    }
    pending_closes_[i] = pending_closes_.back();
    pending_closes_.pop_back();
  }
}

std::string ConnectionGuard::NodeAddresses(size_t listed) const {
  std::map<std::string, uint32_t> by_address;
  for (const auto& [fd, c] : open_) {
    if (c.node != kUnbound && !c.closing) ++by_address[c.address.empty() ? "?" : c.address];
  }
  std::string text;
  size_t shown = 0;
  for (const auto& [address, count] : by_address) {
    if (shown++ == listed) {
      text += ", and " + std::to_string(by_address.size() - listed) + " more";
      break;
    }
    text += (text.empty() ? "" : ", ") + address + " (" + std::to_string(count) + ")";
  }
  return text;
}

void ConnectionGuard::Accepted(int fd, int64_t now_ms) {
  Connection c;
  c.address = PeerAddress(fd);
  c.order = next_order_++;
  c.accepted_ms = now_ms;
  open_[fd] = c;  // a descriptor reused after a close we missed starts anew
  uint32_t from_address = 0, unbound = 0;
  for (const auto& [other_fd, other] : open_) {
    if (other.node != kUnbound || other.closing) continue;
    ++unbound;
    if (other.address == c.address) ++from_address;
  }
  const bool per_address = from_address > limits_.per_address;
  if (!per_address && unbound <= limits_.total) return;
  // Over a limit: the oldest unbound connection goes, unless it is younger
  // than kGraceMs (a node's Hello may still be on its way), and then the
  // newest does. Under a flood a few connections a second still get in and
  // keep their grace, so a node among the flood joins after a few of its
  // reconnections instead of never.
  Connection* victim = &open_[fd];
  int victim_fd = fd;
  for (auto& [other_fd, other] : open_) {
    if (other.node != kUnbound || other.closing || (per_address && other.address != c.address)) continue;
    if (now_ms - other.accepted_ms >= kGraceMs && other.order < victim->order) {
      victim = &other;
      victim_fd = other_fd;
    }
  }
  Close(victim_fd, *victim);
  ++closed_for_limits_;
  uint64_t held_back = 0;
  if (log_.Allow(now_ms, &held_back)) {
    EDGEFL_LOG_WARN("closed %s connection that had not joined a node: more than %u were open %s (from %s)%s",
                    victim_fd == fd ? "a new" : "the oldest", per_address ? limits_.per_address : limits_.total,
                    per_address ? "from one address" : "in all", c.address.c_str(),
                    held_back > 0 ? " (and more, not each logged)" : "");
  }
}

void ConnectionGuard::Closed(int fd) {
  const auto it = open_.find(fd);
  if (it == open_.end()) return;
  if (it->second.node != kUnbound && !it->second.closing) closed_nodes_.push_back(it->second.node);
  open_.erase(it);
}

void ConnectionGuard::Close(int fd, Connection& c) {
  // ZeroMQ owns the descriptor and closes it once it sees the connection
  // end; shutdown only ends the connection, so the descriptor cannot be
  // reused under ZeroMQ's feet.
  shutdown(fd, SHUT_RDWR);
  c.closing = true;
}

void ConnectionGuard::Bind(int fd, uint32_t node) {
  const auto it = open_.find(fd);
  if (it == open_.end() || it->second.node == node) return;
  for (auto& [other_fd, other] : open_) {
    if (other.node == node) other.node = kUnbound;  // the node's earlier connection
  }
  it->second.node = node;
}

void ConnectionGuard::CloseAt(int fd, int64_t at_ms) {
  const auto it = open_.find(fd);
  if (it == open_.end()) return;
  for (const PendingClose& p : pending_closes_) {
    if (p.fd == fd && p.order == it->second.order) return;
  }
  pending_closes_.push_back({fd, it->second.order, at_ms});
}

bool ConnectionGuard::TakeClosedNode(uint32_t* node) {
  if (closed_nodes_.empty()) return false;
  *node = closed_nodes_.front();
  closed_nodes_.erase(closed_nodes_.begin());
  return true;
}

}  // namespace edgefl

#include "coordinator/zap_handler.h"

#include <zmq.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "core/log_throttle.h"
#include "net/socket_poll.h"

namespace edgefl {
namespace {

struct Bucket {
  double tokens = 0.0;
  int64_t updated_ms = 0;
};

// The tokens `b` holds at `now`: refilled at per_second, at most burst.
double Refilled(const Bucket& b, const HandshakeLimit& limit, int64_t now) {
  return std::min<double>(limit.burst,
                          b.tokens + limit.per_second * static_cast<double>(now - b.updated_ms) / 1000.0);
}

// Prunes `buckets` once it holds kMaxBuckets: a full bucket is the same as
// none, so dropping full ones forgets nothing; when none is full (a spray
// of sources each spending), the fullest go.
void Prune(std::unordered_map<std::string, Bucket>& buckets, const HandshakeLimit& limit, int64_t now) {
  constexpr size_t kMaxBuckets = 4096;
  if (buckets.size() < kMaxBuckets) return;
  const auto refilled = [&](const Bucket& b) { return Refilled(b, limit, now); };
  std::erase_if(buckets, [&](const auto& entry) { return refilled(entry.second) >= limit.burst; });
  while (buckets.size() >= kMaxBuckets) {
    auto fullest = buckets.begin();
    for (auto it = buckets.begin(); it != buckets.end(); ++it) {
      if (refilled(it->second) > refilled(fullest->second)) fullest = it;
    }
    buckets.erase(fullest);
  }
}

// Spends one token of `source`'s bucket; false when it is empty.
bool Take(std::unordered_map<std::string, Bucket>& buckets, const HandshakeLimit& limit, const std::string& source,
          int64_t now) {
  Prune(buckets, limit, now);
  auto [it, fresh] = buckets.try_emplace(source, Bucket{static_cast<double>(limit.burst), now});
  Bucket& bucket = it->second;
  bucket.tokens = Refilled(bucket, limit, now);
  bucket.updated_ms = now;
  if (bucket.tokens < 1.0) return false;
  bucket.tokens -= 1.0;
  return true;
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, CurveAllowList allow, HandshakeLimit limit)
    : context_(context), allow_(std::move(allow)), limit_(limit), socket_(context, zmq::socket_type::rep) {}

ZapHandler::~ZapHandler() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

Status ZapHandler::Start() {
  try {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("inproc://zeromq.zap.01");
  } catch (const zmq::error_t& e) {
    return Status::Error(StatusCode::kInternal, "cannot start the authentication handler: %s", e.what());
  }
  thread_ = std::thread([this] { Serve(); });
  return Status::Ok();
}

void ZapHandler::Serve() {
  std::unordered_map<std::string, Bucket> buckets;
  LogThrottle log(10, 5000);
  while (!stop_.load()) {
    if (!WaitReadable(socket_, 100)) continue;
    std::vector<zmq::message_t> request;
    do {
      request.emplace_back();
      if (!socket_.recv(request.back(), zmq::recv_flags::dontwait)) break;
    } while (request.back().more());
    // version, request id, domain, address, identity, mechanism, credentials...
    std::string status = "200", text = "OK", user;
    const std::string address = request.size() > 3 ? request[3].to_string() : "";
    const std::string mechanism = request.size() > 5 ? request[5].to_string() : "";
    const int64_t now = NowMs();
    if (request.size() < 6 || request[0].to_string() != "1.0") {
      status = "500", text = "malformed ZAP request";
    } else if (!allow_.empty()) {
      // With keys, a handshake's key decides: one on no allow-list is
      // refused outright, at no cost to anyone's budget, so a flood of
      // unknown keys from a board's own address (behind the same NAT) does
      // not keep the board out. Each listed key has a budget of its own.
      char key[41] = {};
      const bool has_key = mechanism == "CURVE" && request.size() >= 7 && request[6].size() == 32 &&
                           zmq_z85_encode(key, static_cast<const uint8_t*>(request[6].data()), 32) != nullptr;
      const auto found = has_key ? allow_.find(key) : allow_.end();
      if (!has_key) {
        status = "400", text = "a CURVE key is required";
      } else if (found == allow_.end()) {
        status = "400", text = std::string("key ") + key + " is not on the allow-list";
      } else if (!Take(buckets, limit_, key, now)) {
        status = "400", text = "too many handshakes with the key of node-" + std::to_string(found->second);
      } else {
        user = "node-" + std::to_string(found->second);
      }
    }
    // Without keys nothing tells a node from anyone else at its handshake,
    // so none is refused: a budget per address would be spent by a flood
    // from a node's own address (a NAT) and keep the node out. The
    // ConnectionGuard bounds the connections instead.
    if (status != "200") {
      refused_.fetch_add(1, std::memory_order_relaxed);
      uint64_t held_back = 0;
      if (log.Allow(now, &held_back)) {
        EDGEFL_LOG_WARN("refused a connection from %s: %s%s", address.c_str(), text.c_str(),
                        held_back > 0 ? " (and more, not each logged)" : "");
      }
    }
    const std::string request_id = request.size() > 1 ? request[1].to_string() : "";
    try {
      socket_.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(status), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(text), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(user), zmq::send_flags::sndmore);
      socket_.send(zmq::const_buffer(nullptr, 0), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      EDGEFL_LOG_WARN("authentication handler: %s", e.what());
    }
  }
}

}  // namespace edgefl

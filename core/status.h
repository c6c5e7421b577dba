// Status: the result of an operation that can fail for a reason a user must
// read (bad config, malformed bytes, a dead peer). It never allocates: the
// message lives in a fixed buffer, so the node's round loop may return one.
// Not thread-safe to share; copy it.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>

namespace edgefl {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,   // a config value or flag
  kMalformed,         // bytes from the network
  kOverflow,          // well-formed numbers too large to use (|v| >= 2^40, or not finite)
  kTimeout,           // a peer did not answer in time
  kUnavailable,       // a peer is gone
  kResourceExhausted, // a memory budget
  kRefused,           // the peer said no
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }

  // printf-style; the message is truncated to fit kMaxMessage.
  [[gnu::format(printf, 2, 3)]] static Status Error(StatusCode code, const char* format, ...) {
    Status s;
    s.code_ = code;
    va_list args;
    va_start(args, format);
    std::vsnprintf(s.message_, sizeof(s.message_), format, args);
    va_end(args);
    return s;
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const char* message() const { return ok() ? "ok" : message_; }

 private:
  static constexpr int kMaxMessage = 240;
  StatusCode code_ = StatusCode::kOk;
  char message_[kMaxMessage] = {};
};

#define EDGEFL_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::edgefl::Status status_ = (expr);        \
    if (!status_.ok()) return status_;        \
  } while (0)

}  // namespace edgefl

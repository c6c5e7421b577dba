// LogThrottle: keeps a flood of one kind of warning (say, a peer sending
// junk thousands of times a second) from flooding the log. In each window
// of `window_ms` the first `burst` events pass; the rest are counted, and
// the next event after the window reports how many were held back, so the
// log says what happened in a few lines. Not thread-safe.
#pragma once

#include <cstdint>

namespace edgefl {

class LogThrottle {
 public:
  LogThrottle(uint32_t burst, int64_t window_ms) : burst_(burst), window_ms_(window_ms) {}

  // Whether to log this event at `now_ms`. *held_back is set to the events
  // held back in the windows since the last one that passed (0 if none):
  // report it beside this one.
  bool Allow(int64_t now_ms, uint64_t* held_back) {
    *held_back = 0;
    if (now_ms - window_start_ms_ >= window_ms_) {
      window_start_ms_ = now_ms;
      passed_ = 0;
    }
    if (passed_ < burst_) {
      ++passed_;
      *held_back = held_;
      held_ = 0;
      return true;
    }
    ++held_;
    return false;
  }

  // Events held back and not yet reported (for a closing summary).
  uint64_t held_back() const { return held_; }

 private:
  uint32_t burst_;
  int64_t window_ms_;
  int64_t window_start_ms_ = INT64_MIN / 2;
  uint32_t passed_ = 0;
  uint64_t held_ = 0;
};

}  // namespace edgefl

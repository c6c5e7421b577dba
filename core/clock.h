// Monotonic time for deadlines and metrics. A timeout is a normal result.
// NowUs/NowMs read the machine's steady clock; code that decides by time
// (the coordinator's round engine) takes a Clock instead, so that a test
// can drive it, and so that simulated time has one interface.
#pragma once

#include <chrono>
#include <cstdint>

namespace edgefl {

inline int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline int64_t NowMs() { return NowUs() / 1000; }

// Where the round engine reads the time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
};

// The machine's steady clock.
class WallClock final : public Clock {
 public:
  int64_t NowMs() const override { return edgefl::NowMs(); }
};

// A clock that moves only when told: tests of timing decisions.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 0) : now_ms_(start_ms) {}
  int64_t NowMs() const override { return now_ms_; }
  void Advance(int64_t ms) { now_ms_ += ms; }

 private:
  int64_t now_ms_;
};

}  // namespace edgefl

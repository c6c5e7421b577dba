// Monotonic time for deadlines and metrics. A timeout is a normal result.
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

}  // namespace edgefl

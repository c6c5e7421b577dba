// LaneRng: eight independent xoshiro128** generators (Blackman and Vigna)
// advanced together, for loops that consume one 32-bit draw per coordinate
// (QSGD's and natural compression's rounding coins, Bernoulli's keep draws).
// The eight lanes step as one vector, so a block of draws costs a few vector
// operations instead of a serial chain of 64-bit steps. Integer-only: the
// same seed gives the same draws on every host. Each lane is seeded from
// SplitMix64. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/rng.h"
#include "core/vectors.h"

namespace edgefl {

class LaneRng {
 public:
  static constexpr uint32_t kLanes = edgefl::kLanes;

  explicit LaneRng(uint64_t seed) {
    uint32_t words[4][kLanes];
    for (uint32_t lane = 0; lane < kLanes; ++lane) {
      for (int w = 0; w < 4; w += 2) {
        const uint64_t bits = SplitMix64(seed);
        words[w][lane] = static_cast<uint32_t>(bits);
        words[w + 1][lane] = static_cast<uint32_t>(bits >> 32);
      }
    }
    std::memcpy(state_, words, sizeof(state_));
  }

  // out[0..count) = the next draws, lane by lane, kLanes at a time (a
  // partial last group discards its unused draws). Out of line on purpose:
  // inlined into a caller's loop nest, the state competed for registers
  // with the caller's loop and was spilled inside every step's chain of
  // dependent operations. Per call (a block of draws) it costs a call.
  void Fill(uint32_t* out, uint32_t count);

 private:
  U32x8 state_[4];
};

}  // namespace edgefl

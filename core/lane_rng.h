// LaneRng: eight independent xoshiro128** generators (Blackman and Vigna)
// advanced together, for loops that consume one 32-bit draw per coordinate
// (QSGD's and natural compression's rounding coins). The eight lanes step as
// one vector, so a block of draws costs a few vector operations instead of a
// serial chain of 64-bit steps. Integer-only: the same seed gives the same
// draws on every host. Each lane is seeded from SplitMix64. Not thread-safe.
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
  // partial last group discards its unused draws). The state lives in
  // locals meanwhile, and the step is written out in the loop: stores to
  // `out` could alias the member state, and a helper taking the state by
  // reference left it on the stack, a store and a load inside every step's
  // chain of dependent operations.
  [[gnu::always_inline]] void Fill(uint32_t* out, uint32_t count) {
    U32x8 s0 = state_[0], s1 = state_[1], s2 = state_[2], s3 = state_[3];
    for (uint32_t i = 0; i < count; i += kLanes) {
      // xoshiro128**: result = rotl(s1 * 5, 7) * 9; multiplications by 5
      // and 9 as shifts and adds, which every SIMD unit has.
      const U32x8 times5 = (s1 << 2) + s1;
      const U32x8 rotated = (times5 << 7) | (times5 >> 25);
      const U32x8 result = (rotated << 3) + rotated;
      const U32x8 t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >> 21);
      if (count - i >= kLanes) {
        std::memcpy(out + i, &result, sizeof(result));
      } else {
        uint32_t group[kLanes];
        std::memcpy(group, &result, sizeof(group));
        for (uint32_t lane = 0; i + lane < count; ++lane) out[i + lane] = group[lane];
      }
    }
    state_[0] = s0;
    state_[1] = s1;
    state_[2] = s2;
    state_[3] = s3;
  }

 private:
  U32x8 state_[4];
};

}  // namespace edgefl

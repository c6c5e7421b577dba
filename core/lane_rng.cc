#include "core/lane_rng.h"

namespace edgefl {

EDGEFL_VECTOR_CLONES void LaneRng::Fill(uint32_t* out, uint32_t count) {
  // The state lives in locals meanwhile: stores to `out` could alias the
  // member state otherwise.
  U32x8 s0 = state_[0], s1 = state_[1], s2 = state_[2], s3 = state_[3];
  uint32_t i = 0;
  for (; i < count; i += kLanes) {
    // xoshiro128**: result = rotl(s1 * 5, 7) * 9; multiplications by 5 and
    // 9 as shifts and adds, which every SIMD unit has.
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
      for (uint32_t lane = 0; i + lane < count; ++lane) out[i + lane] = result[lane];
    }
  }
  state_[0] = s0;
  state_[1] = s1;
  state_[2] = s2;
  state_[3] = s3;
}

}  // namespace edgefl

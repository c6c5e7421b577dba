#include "core/lane_rng.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace edgefl {
namespace {

// xoshiro128** one step at a time, as its authors publish it.
struct ScalarXoshiro128 {
  uint32_t s[4];
  static uint32_t Rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
  uint32_t Next() {
    const uint32_t result = Rotl(s[1] * 5, 7) * 9;
    const uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = Rotl(s[3], 11);
    return result;
  }
};

TEST_CASE("each lane is the published xoshiro128** seeded from SplitMix64") {
  constexpr uint64_t kSeed = 0x1234567890ABCDEFull;
  uint64_t seeder = kSeed;
  ScalarXoshiro128 lanes[LaneRng::kLanes];
  for (auto& lane : lanes) {
    const uint64_t a = SplitMix64(seeder), b = SplitMix64(seeder);
    lane.s[0] = static_cast<uint32_t>(a);
    lane.s[1] = static_cast<uint32_t>(a >> 32);
    lane.s[2] = static_cast<uint32_t>(b);
    lane.s[3] = static_cast<uint32_t>(b >> 32);
  }
  LaneRng rng(kSeed);
  std::vector<uint32_t> draws(8 * 100 + 5);  // a partial last group too
  rng.Fill(draws.data(), static_cast<uint32_t>(draws.size()));
  for (size_t i = 0; i < draws.size(); ++i) {
    CAPTURE(i);
    REQUIRE(draws[i] == lanes[i % LaneRng::kLanes].Next());
  }
}

TEST_CASE("draws are uniform: mean and every bit within 5 sigma") {
  LaneRng rng(7);
  constexpr uint32_t n = 80000;
  std::vector<uint32_t> draws(n);
  rng.Fill(draws.data(), n);
  double sum = 0;
  uint32_t ones[32] = {};
  for (uint32_t x : draws) {
    sum += x * 0x1.0p-32;
    for (int b = 0; b < 32; ++b) ones[b] += (x >> b) & 1u;
  }
  // U(0,1) has variance 1/12; a fair bit 1/4.
  CHECK(std::fabs(sum / n - 0.5) < 5.0 * std::sqrt(1.0 / 12.0 / n));
  for (int b = 0; b < 32; ++b) {
    CAPTURE(b);
    CHECK(std::fabs(ones[b] / double{n} - 0.5) < 5.0 * std::sqrt(0.25 / n));
  }
}

}  // namespace
}  // namespace edgefl

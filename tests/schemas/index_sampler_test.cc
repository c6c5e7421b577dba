#include "schemas/codec/index_sampler.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <utility>
#include <vector>

#include "core/lane_rng.h"

namespace edgefl::codec {
namespace {

TEST_CASE("rand-k draws k distinct increasing indices") {
  // Dimensions either side of the bitmap's 64-bit words; the bitmap starts
  // dirty, as SampleRandK clears the words it uses.
  for (uint32_t d : {1u, 2u, 63u, 64u, 65u, 100u, 130u, 1000u}) {
    std::vector<uint64_t> bitmap(RandKBitmapWords(d), ~uint64_t{0});
    for (uint32_t k : {1u, d / 3 + 1, d / 2 + 1, d - 1, d}) {
      if (k == 0 || k > d) continue;
      for (uint64_t seed = 0; seed < 20; ++seed) {
        CAPTURE(d);
        CAPTURE(k);
        std::vector<uint32_t> indices(k);
        SampleRandK(seed, d, indices, bitmap);
        CHECK(indices.back() < d);
        for (size_t i = 1; i < indices.size(); ++i) CHECK(indices[i] > indices[i - 1]);
      }
    }
  }
  CHECK(RandKBitmapWords(0) == 0);
  CHECK(RandKBitmapWords(64) == 1);
  CHECK(RandKBitmapWords(65) == 2);
  CHECK(RandKBitmapWords(1000) == 16);
  // k = d returns every coordinate.
  std::vector<uint64_t> bitmap(RandKBitmapWords(130));
  for (uint32_t d : {10u, 64u, 130u}) {
    std::vector<uint32_t> all(d);
    SampleRandK(3, d, all, bitmap);
    for (uint32_t j = 0; j < d; ++j) CHECK(all[j] == j);
  }
}

// The samplers are part of the wire protocol: these pinned outputs must be
// the same on every host (x86-64 and aarch64 alike) and in every version.
TEST_CASE("seeded samplers reproduce pinned indices") {
  // Rand-k (Floyd's algorithm; protocol version 2). The same vectors are in
  // docs/protocol.md 6.5, from its Python reference.
  std::vector<uint64_t> bitmap(RandKBitmapWords(1000));
  const auto randk = [&bitmap](uint64_t seed, uint32_t d, uint32_t k) {
    std::vector<uint32_t> out(k);
    SampleRandK(seed, d, out, bitmap);
    return out;
  };
  CHECK(randk(42, 20, 5) == std::vector<uint32_t>{1, 6, 12, 17, 19});
  CHECK(randk(0, 10, 3) == std::vector<uint32_t>{1, 4, 6});
  CHECK(randk(0, 1000, 3) == std::vector<uint32_t>{103, 600, 747});
  CHECK(randk(1, 1000, 10) == std::vector<uint32_t>{70, 142, 380, 388, 516, 551, 570, 693, 696, 866});
  CHECK(randk(12345678901234567, 1000, 3) == std::vector<uint32_t>{193, 352, 376});
  CHECK(randk(9, 100, 1) == std::vector<uint32_t>{0});
  // Bernoulli (LaneRng draws; protocol version 3), from the same reference.
  uint32_t lane_draws[8];
  LaneRng(1).Fill(lane_draws, 8);
  CHECK(std::vector<uint32_t>(lane_draws, lane_draws + 8) ==
        std::vector<uint32_t>{1695105466, 4191284949, 4143250684, 2269609913, 2276426982, 3688920466, 1899864635,
                              690211791});
  const auto bernoulli = [](uint64_t seed, uint32_t d, double p) {
    std::vector<uint32_t> out(d);
    out.resize(SampleBernoulli(seed, d, p, out));
    return out;
  };
  CHECK(bernoulli(1, 10, 0.5) == std::vector<uint32_t>{0, 6, 7, 8, 9});
  CHECK(bernoulli(1, 101, 0.1) == std::vector<uint32_t>{23, 25, 35, 38, 53, 68, 77, 81, 98});
  CHECK(bernoulli(42, 40, 0.25) == std::vector<uint32_t>{2, 3, 4, 5, 6, 9, 13, 16, 20, 23, 26, 28, 34});
  CHECK(bernoulli(7, 1000, 0.01) ==
        std::vector<uint32_t>{196, 367, 399, 495, 550, 615, 652, 827, 883, 923, 935, 946, 985});
}

TEST_CASE("rand-k includes each coordinate with probability k/d") {
  // Over M draws each count is Binomial(M, k/d); 5 standard deviations.
  // (d, k) with k small, about half and near d, and a d spanning three words.
  constexpr uint32_t draws = 20000;
  for (const auto& [d, k] : {std::pair{50u, 10u}, std::pair{50u, 1u}, std::pair{50u, 26u}, std::pair{50u, 49u},
                             std::pair{130u, 13u}}) {
    CAPTURE(d);
    CAPTURE(k);
    std::vector<uint32_t> hits(d, 0), indices(k);
    std::vector<uint64_t> bitmap(RandKBitmapWords(d));
    for (uint64_t seed = 0; seed < draws; ++seed) {
      SampleRandK(seed * 7919 + 1, d, indices, bitmap);
      for (uint32_t j : indices) ++hits[j];
    }
    const double p = static_cast<double>(k) / d;
    const double sd = std::sqrt(draws * p * (1 - p));
    for (uint32_t j = 0; j < d; ++j) CHECK(std::fabs(hits[j] - draws * p) < 5 * sd);
  }
}

TEST_CASE("rand-k draws every k-subset equally often") {
  // d = 6, k = 3: 20 subsets, each Binomial(M, 1/20); 5 standard deviations.
  constexpr uint32_t d = 6, k = 3, draws = 40000, subsets = 20;
  std::vector<uint32_t> counts(uint32_t{1} << d, 0), indices(k);
  std::vector<uint64_t> bitmap(RandKBitmapWords(d));
  for (uint64_t seed = 0; seed < draws; ++seed) {
    SampleRandK(seed, d, indices, bitmap);
    uint32_t mask = 0;
    for (uint32_t j : indices) mask |= uint32_t{1} << j;
    ++counts[mask];
  }
  const double p = 1.0 / subsets;
  const double sd = std::sqrt(draws * p * (1 - p));
  uint32_t seen = 0;
  for (uint32_t mask = 0; mask < counts.size(); ++mask) {
    if (std::popcount(mask) != static_cast<int>(k)) {
      CHECK(counts[mask] == 0);
      continue;
    }
    ++seen;
    CHECK(std::fabs(counts[mask] - draws * p) < 5 * sd);
  }
  CHECK(seen == subsets);
}

TEST_CASE("bernoulli keeps each coordinate with the realised probability") {
  constexpr uint32_t d = 10000;
  std::vector<uint32_t> indices(d);
  double total = 0;
  constexpr int draws = 200;
  for (int s = 0; s < draws; ++s) total += SampleBernoulli(static_cast<uint64_t>(s), d, 0.1, indices);
  const double p = RealisedKeepProbability(0.1);
  const double sd = std::sqrt(draws * d * p * (1 - p));
  CHECK(std::fabs(total - draws * d * p) < 5 * sd);
  // Each of the eight LaneRng lanes alone, and pairs of neighbours (which
  // come from different lanes of one step), keep at the right rate.
  std::vector<uint32_t> per_lane(8), kept_pairs(1);
  constexpr uint32_t kSmall = 64;
  constexpr int kTrials = 20000;
  for (int s = 0; s < kTrials; ++s) {
    const uint32_t kept = SampleBernoulli(1000 + static_cast<uint64_t>(s), kSmall, 0.1, indices);
    std::vector<bool> in(kSmall);
    for (uint32_t i = 0; i < kept; ++i) {
      ++per_lane[indices[i] % 8];
      in[indices[i]] = true;
    }
    for (uint32_t j = 0; j + 1 < kSmall; ++j) kept_pairs[0] += in[j] && in[j + 1];
  }
  const double lane_n = kTrials * (kSmall / 8.0);
  for (uint32_t lane = 0; lane < 8; ++lane) {
    CAPTURE(lane);
    CHECK(std::fabs(per_lane[lane] - lane_n * p) < 5 * std::sqrt(lane_n * p * (1 - p)));
  }
  // Pairs (j, j+1) and (j+1, j+2) share a coordinate: covariance p^3 - p^4.
  constexpr double kPairs = kSmall - 1.0;
  const double pair_variance = kPairs * p * p * (1 - p * p) + 2 * (kPairs - 1) * (p * p * p - p * p * p * p);
  CHECK(std::fabs(kept_pairs[0] - kTrials * kPairs * p * p) < 5 * std::sqrt(kTrials * pair_variance));
  CHECK(RealisedKeepProbability(1.0) == 1.0);
  CHECK(std::fabs(RealisedKeepProbability(0.1) - 0.1) < 0x1.0p-32);
  CHECK(SampleBernoulli(9, 100, 1.0, indices) == 100);
}

}  // namespace
}  // namespace edgefl::codec

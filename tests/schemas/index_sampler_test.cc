#include "schemas/codec/index_sampler.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

namespace edgefl::codec {
namespace {

TEST_CASE("rand-k draws k distinct increasing indices") {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    std::vector<uint32_t> indices(17);
    SampleRandK(seed, 100, indices);
    for (size_t i = 0; i < indices.size(); ++i) {
      CHECK(indices[i] < 100);
      if (i > 0) CHECK(indices[i] > indices[i - 1]);
    }
  }
  std::vector<uint32_t> all(10);
  SampleRandK(3, 10, all);
  for (uint32_t j = 0; j < 10; ++j) CHECK(all[j] == j);
}

// The samplers are part of the wire protocol: these pinned outputs must be
// the same on every host (x86-64 and aarch64 alike) and in every version.
TEST_CASE("seeded samplers reproduce pinned indices") {
  std::vector<uint32_t> randk(5);
  SampleRandK(42, 20, randk);
  CHECK(randk == std::vector<uint32_t>{0, 11, 13, 18, 19});
  std::vector<uint32_t> bernoulli(40);
  const uint32_t kept = SampleBernoulli(42, 40, 0.25, bernoulli);
  bernoulli.resize(kept);
  CHECK(bernoulli == std::vector<uint32_t>{0, 1, 4, 6, 10, 20, 24});
}

TEST_CASE("rand-k includes each coordinate with probability k/d") {
  // Over M draws each count is Binomial(M, k/d); 5 standard deviations.
  constexpr uint32_t d = 50, k = 10, draws = 20000;
  std::vector<uint32_t> hits(d, 0), indices(k);
  for (uint64_t seed = 0; seed < draws; ++seed) {
    SampleRandK(seed * 7919 + 1, d, indices);
    for (uint32_t j : indices) ++hits[j];
  }
  const double p = static_cast<double>(k) / d;
  const double sd = std::sqrt(draws * p * (1 - p));
  for (uint32_t j = 0; j < d; ++j) CHECK(std::fabs(hits[j] - draws * p) < 5 * sd);
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
  CHECK(RealisedKeepProbability(1.0) == 1.0);
  CHECK(std::fabs(RealisedKeepProbability(0.1) - 0.1) < 0x1.0p-32);
  CHECK(SampleBernoulli(9, 100, 1.0, indices) == 100);
}

}  // namespace
}  // namespace edgefl::codec

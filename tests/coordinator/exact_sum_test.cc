#include "coordinator/exact_sum.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.h"

namespace edgefl {
namespace {

TEST_CASE("values that are multiples of 2^-64 convert exactly") {
  for (float v : {0.0f, 1.0f, -1.0f, 0.5f, 3.25f, -1e-12f, 0x1.0p-41f, 0x1.fffffep39f, -0x1.0p-64f}) {
    CAPTURE(v);
    const ExactSum::Fixed q = ExactSum::ToFixed(v);
    CHECK(static_cast<double>(q) * 0x1.0p-64 == static_cast<double>(v));
  }
  // Below half of 2^-64 rounds to zero; -0.0 is zero.
  CHECK(ExactSum::ToFixed(0x1.0p-66f) == 0);
  CHECK(ExactSum::ToFixed(-0.0f) == 0);
  CHECK(ExactSum::ToFixed(0x1.8p-65f) == 1);  // 0.75 * 2^-64 rounds up
}

TEST_CASE("the sum is identical bit for bit in any order, and accurate") {
  constexpr uint32_t d = 64, n = 50;
  Rng rng(3);
  std::vector<std::vector<float>> updates(n, std::vector<float>(d));
  for (auto& u : updates) {
    for (auto& x : u) x = static_cast<float>(rng.Normal() * std::exp2(static_cast<int>(rng.Below(40)) - 20));
  }
  ExactSum reference(d);
  for (const auto& u : updates) reference.AddDense(u);

  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  for (int trial = 0; trial < 20; ++trial) {
    for (size_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.Below(static_cast<uint32_t>(i + 1))]);
    ExactSum shuffled(d);
    for (size_t i : order) shuffled.AddDense(updates[i]);
    for (uint32_t j = 0; j < d; ++j) CHECK(shuffled.Value(j) == reference.Value(j));
  }
  // Against a compensated (Neumaier) long double sum, accurate far beyond
  // double: the only error left is ExactSum's final rounding to double.
  for (uint32_t j = 0; j < d; ++j) {
    long double sum = 0, compensation = 0;
    for (const auto& u : updates) {
      const long double x = u[j];
      const long double t = sum + x;
      compensation += std::fabs(sum) >= std::fabs(x) ? (sum - t) + x : (x - t) + sum;
      sum = t;
    }
    const long double exact = sum + compensation;
    CHECK(std::fabs(reference.Value(j) - static_cast<double>(exact)) <= 1e-15 * std::fabs(static_cast<double>(exact)) + 1e-18);
  }
}

// Values from every range the fast paths tell apart: zero, ordinary values
// of every exponent, tiny values that round at 2^-64, subnormals, and the
// largest that decoding lets through.
float OrdinaryValue(Rng& rng) {
  const double sign = rng.Below(2) ? -1.0 : 1.0;
  return static_cast<float>(sign * std::ldexp(1.0 + rng.Below(1u << 23) * 0x1.0p-23, static_cast<int>(rng.Below(80)) - 41));
}

float AwkwardValue(Rng& rng) {
  const double sign = rng.Below(2) ? -1.0 : 1.0;
  switch (rng.Below(8)) {
    case 0:
      return 0.0f;
    case 1:
      return static_cast<float>(sign * std::ldexp(1.0 + rng.Below(1u << 23) * 0x1.0p-23, -42 - static_cast<int>(rng.Below(30))));
    case 2:
      return static_cast<float>(sign * 0x1.0p-149 * (1 + rng.Below(1000)));
    case 3:
      return static_cast<float>(sign * 0x1.fffffep39);
    default:
      return OrdinaryValue(rng);
  }
}

TEST_CASE("dense and sign fast paths agree with ToFixed, value by value") {
  // Dimensions around the 8-lane vectors and the 512-coordinate blocks.
  for (uint32_t d : {1u, 7u, 8u, 13u, 511u, 512u, 513u, 1500u}) {
    CAPTURE(d);
    Rng rng(DeriveSeed(11, d));
    constexpr size_t n = 3 * ExactSum::kMaxUnfolded + 5;  // several folds
    std::vector<std::vector<float>> updates(n, std::vector<float>(d));
    for (size_t i = 0; i < n; ++i) {
      // Vectors for each kernel: ordinary below 2^14 (no top limb), ordinary
      // of every size, and mixed with values that need ToFixed.
      for (auto& x : updates[i]) {
        x = i % 3 == 0 ? static_cast<float>(rng.Normal()) : i % 3 == 1 ? OrdinaryValue(rng) : AwkwardValue(rng);
      }
    }
    std::vector<uint8_t> signs((d + 7) / 8);
    for (auto& b : signs) b = static_cast<uint8_t>(rng.Below(256));
    const float magnitudes[] = {0.37f, -0x1.fffffep39f, 0x1.8p-60f, 1e-30f};

    ExactSum reference(d);
    for (const auto& u : updates) {
      for (uint32_t j = 0; j < d; ++j) reference.Add(j, ExactSum::ToFixed(u[j]));
    }
    for (float m : magnitudes) {
      for (uint32_t j = 0; j < d; ++j) reference.Add(j, (signs[j / 8] >> (j % 8)) & 1 ? -ExactSum::ToFixed(m) : ExactSum::ToFixed(m));
    }

    // One at a time; in batches of 7 with the decoder's block magnitudes;
    // in batches of kMaxUnfolded, scanned by the sum itself. Sign updates
    // go one by one between the batches of 7 and all in one batch after the
    // others, so folds fall at different places.
    ExactSum fast(d), batched_by_7(d), batched_by_max(d);
    for (const auto& u : updates) fast.AddDense(u);
    for (float m : magnitudes) fast.AddSigns(signs, m);
    std::vector<std::vector<BlockMagnitude>> scanned(n, std::vector<BlockMagnitude>(MagnitudeBlocks(d)));
    for (size_t i = 0; i < n; ++i) ScanBlockMagnitudes(updates[i], scanned[i]);
    for (auto [sum, size] : {std::pair{&batched_by_7, size_t{7}}, std::pair{&batched_by_max, size_t{ExactSum::kMaxUnfolded}}}) {
      const bool with_magnitudes = size == 7;
      std::vector<ExactSum::DenseAddend> batch;
      size_t signs_added = 0;
      for (size_t i = 0; i < n; ++i) {
        batch.push_back({updates[i], with_magnitudes ? std::span<const BlockMagnitude>(scanned[i]) : std::span<const BlockMagnitude>()});
        if (batch.size() == size || i + 1 == n) {
          sum->AddDenseBatch(batch);
          batch.clear();
          if (with_magnitudes && signs_added < std::size(magnitudes)) sum->AddSigns(signs, magnitudes[signs_added++]);
        }
      }
      std::vector<ExactSum::SignAddend> sign_batch;
      for (; signs_added < std::size(magnitudes); ++signs_added) sign_batch.push_back({signs, magnitudes[signs_added]});
      sum->AddSignsBatch(sign_batch);
    }
    for (uint32_t j = 0; j < d; ++j) {
      CHECK(fast.Sum(j) == reference.Sum(j));
      CHECK(batched_by_7.Sum(j) == reference.Sum(j));
      CHECK(batched_by_max.Sum(j) == reference.Sum(j));
    }
  }
}

TEST_CASE("weighted vectors sum as w ToFixed(v), value by value, alone and in batches, weights up to 2^19") {
  // Weights that keep w v in the limb rows, and ones that take it past 2^40
  // (with the largest values) to w ToFixed(v); weight-1 vectors in the same
  // batches; in all at most 2^20, the sums' headroom.
  const uint32_t kWeights[] = {1, 3, 7, 180, 1437, 2, 31};
  for (uint32_t d : {1u, 7u, 8u, 13u, 511u, 512u, 513u, 1500u}) {
    CAPTURE(d);
    Rng rng(DeriveSeed(12, d));
    constexpr size_t n = 3 * ExactSum::kMaxUnfolded + 5;
    std::vector<std::vector<float>> updates(n, std::vector<float>(d));
    std::vector<uint32_t> weights(n);
    uint64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      weights[i] = i == 5 ? 1u << 19 : kWeights[i % std::size(kWeights)];
      total += weights[i];
      for (auto& x : updates[i]) {
        x = i % 3 == 0 ? static_cast<float>(rng.Normal()) : i % 3 == 1 ? OrdinaryValue(rng) : AwkwardValue(rng);
      }
    }
    std::vector<uint8_t> signs((d + 7) / 8);
    for (auto& b : signs) b = static_cast<uint8_t>(rng.Below(256));
    const float magnitudes[] = {0.37f, -0x1.fffffep39f, 0x1.8p-60f, 3.5e5f, 1e-30f};
    const uint32_t sign_weights[] = {1437, 3, 7, 1437, 2};
    for (uint32_t w : sign_weights) total += w;
    REQUIRE(total <= (uint64_t{1} << 20));

    ExactSum reference(d);
    for (size_t i = 0; i < n; ++i) {
      for (uint32_t j = 0; j < d; ++j) reference.Add(j, ExactSum::ToFixed(updates[i][j]) * weights[i]);
    }
    for (size_t k = 0; k < std::size(magnitudes); ++k) {
      const ExactSum::Fixed m = ExactSum::ToFixed(magnitudes[k]) * sign_weights[k];
      for (uint32_t j = 0; j < d; ++j) reference.Add(j, (signs[j / 8] >> (j % 8)) & 1 ? -m : m);
    }

    ExactSum alone(d), batched_by_7(d), batched_by_max(d);
    for (size_t i = 0; i < n; ++i) alone.AddDense({updates[i], {}, nullptr, nullptr, weights[i]});
    for (size_t k = 0; k < std::size(magnitudes); ++k) alone.AddSigns(signs, magnitudes[k], sign_weights[k]);
    std::vector<std::vector<BlockMagnitude>> scanned(n, std::vector<BlockMagnitude>(MagnitudeBlocks(d)));
    for (size_t i = 0; i < n; ++i) ScanBlockMagnitudes(updates[i], scanned[i]);
    for (auto [sum, size] : {std::pair{&batched_by_7, size_t{7}}, std::pair{&batched_by_max, size_t{ExactSum::kMaxUnfolded}}}) {
      std::vector<ExactSum::DenseAddend> batch;
      for (size_t i = 0; i < n; ++i) {
        const std::span<const BlockMagnitude> m = size == 7 ? std::span<const BlockMagnitude>(scanned[i]) : std::span<const BlockMagnitude>();
        batch.push_back({updates[i], m, nullptr, nullptr, weights[i]});
        if (batch.size() == size || i + 1 == n) {
          sum->AddDenseBatch(batch);
          batch.clear();
        }
      }
      std::vector<ExactSum::SignAddend> sign_batch;
      for (size_t k = 0; k < std::size(magnitudes); ++k) sign_batch.push_back({signs, magnitudes[k], sign_weights[k]});
      sum->AddSignsBatch(sign_batch);
    }
    bool same = true;
    for (uint32_t j = 0; j < d; ++j) {
      same = same && alone.Sum(j) == reference.Sum(j) && batched_by_7.Sum(j) == reference.Sum(j) &&
             batched_by_max.Sum(j) == reference.Sum(j);
    }
    CHECK(same);
  }
}

TEST_CASE("vectors whose values span any range of exponents sum exactly") {
  // The vector kernel adds only the limb rows a block's exponent range can
  // reach; every (smallest, largest) exponent pair of ordinary values checks
  // each row boundary from both sides.
  constexpr uint32_t d = 24;  // three 8-lane groups
  Rng rng(17);
  std::vector<float> values(d);
  for (int low = -41; low <= 39; ++low) {
    for (int high = low; high <= 39; ++high) {
      for (uint32_t j = 0; j < d; ++j) {
        const int exponent = j % 2 ? low : high;
        const double mantissa = 1.0 + (rng.Below(1u << 23) | 1u) * 0x1.0p-23;  // lowest bit set
        values[j] = static_cast<float>((rng.Below(2) ? -1.0 : 1.0) * std::ldexp(mantissa, exponent));
      }
      // kMaxUnfolded times: a limb beyond its 26 bits would overflow its row.
      ExactSum fast(d), reference(d);
      for (uint32_t copy = 0; copy < ExactSum::kMaxUnfolded; ++copy) {
        fast.AddDense(values);
        for (uint32_t j = 0; j < d; ++j) reference.Add(j, ExactSum::ToFixed(values[j]));
      }
      bool same = true;
      for (uint32_t j = 0; j < d; ++j) same &= fast.Sum(j) == reference.Sum(j);
      CAPTURE(low);
      CAPTURE(high);
      REQUIRE(same);
    }
  }
}

TEST_CASE("sparse adds land on their coordinates") {
  ExactSum sum(5);
  const std::vector<uint32_t> idx = {1, 4};
  const std::vector<float> vals = {2.5f, -1.0f};
  sum.AddSparse(idx, vals);
  sum.AddSparse(idx, vals);
  CHECK(sum.Value(0) == 0.0);
  CHECK(sum.Value(1) == 5.0);
  CHECK(sum.Value(4) == -2.0);
  CHECK(sum.Value(4, 0.5) == -1.0);
  sum.Clear();
  CHECK(sum.Value(1) == 0.0);
}

}  // namespace
}  // namespace edgefl

#include "node/compressor.h"

#include "maths/compressor_maths.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "schemas/codec/bit_pack.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

using Kind = wire::CompressorKind;

// Compresses `v` once, sends it through the wire codec (encode, verify,
// decode) and returns what the coordinator would add: C(v) as a dense vector.
class WirePath {
 public:
  WirePath(const codec::CompressorSpec& spec, uint32_t d)
      : spec_(spec), d_(d), arena_(Compressor::ArenaBytes(spec, d) + 1024), compressor_(spec, d, arena_), scratch_(d) {
    REQUIRE(arena_.status().ok());
  }

  std::vector<double> Apply(std::span<const float> v, uint64_t seed) {
    std::vector<float> grad(v.begin(), v.end());
    Rng rng(seed);
    codec::PayloadView payload;
    compressor_.Compress(grad, rng, &payload);
    codec::EncodeUpdate(fbb_, 0, {0, 0.0, 0.0, 0, 1, {}}, payload);
    aligned_.resize((fbb_.GetSize() + 7) / 8);
    std::memcpy(aligned_.data(), fbb_.GetBufferPointer(), fbb_.GetSize());
    const wire::Envelope* e = nullptr;
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(aligned_.data()), fbb_.GetSize());
    REQUIRE(codec::ReadEnvelope(bytes, &e).ok());
    codec::DecodedPayload decoded;
    const Status s = codec::DecodeUpdatePayload(*e->body_as_Update(), spec_, d_, scratch_, &decoded);
    REQUIRE_MESSAGE(s.ok(), s.message());
    std::vector<float> expanded(d_);
    codec::ExpandUpdate(decoded, expanded);
    return std::vector<double>(expanded.begin(), expanded.end());
  }

  const Compressor& compressor() const { return compressor_; }

 private:
  codec::CompressorSpec spec_;
  uint32_t d_;
  Arena arena_;
  Compressor compressor_;
  codec::DecodeScratch scratch_;
  flatbuffers::FlatBufferBuilder fbb_;
  std::vector<uint64_t> aligned_;
};

std::vector<float> TestVector(uint32_t d) {
  std::vector<float> v(d);
  for (uint32_t j = 0; j < d; ++j) v[j] = static_cast<float>((j % 2 ? -1.0 : 1.0) * (0.1 + 0.05 * j));
  v[d / 2] = 0.0f;
  return v;
}

double SquaredNorm(std::span<const float> v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return s;
}

// Var(C(v)_j) in closed form (docs/theory.md 3.2), as the maths library
// states it; the tests below hold the encoder to it.
std::vector<double> CoordinateVariance(const codec::CompressorSpec& spec, std::span<const float> v) {
  std::vector<double> var(v.size());
  CompressorCovariance(spec, v, var);
  return var;
}

TEST_CASE("qsgd levels land in the right place at every width, block and tail") {
  // The quantiser packs levels straight from its vector lanes for 1, 2, 4
  // and 8 bits and through PackFields otherwise; a dimension with several
  // 512-value blocks and a partial last group reaches every path. Each
  // decoded value must be floor(r) or ceil(r) times norm / s, with g's sign.
  constexpr uint32_t d = 1037;
  const std::vector<float> v = TestVector(d);
  const double norm = std::sqrt(SquaredNorm(v));
  for (uint32_t s : {1u, 2u, 3u, 5u, 15u, 200u, 1000u}) {
    CAPTURE(s);
    WirePath path({Kind::Qsgd, 0, 1.0, s}, d);
    const auto c = path.Apply(v, 7);
    const double unit = static_cast<float>(norm) / static_cast<float>(s);
    for (uint32_t j = 0; j < d; ++j) {
      CAPTURE(j);
      const double r = std::fabs(static_cast<double>(v[j])) * s / norm;
      const double level = std::fabs(c[j]) / unit;
      CHECK(std::fabs(level - std::round(level)) < 1e-3);
      CHECK((std::round(level) == std::floor(r + 1e-6) || std::round(level) == std::ceil(r - 1e-6)));
      if (c[j] != 0.0) CHECK(std::signbit(c[j]) == std::signbit(v[j]));
    }
  }
}

TEST_CASE("unbiased compressors are unbiased and their omega is as docs/theory.md 3.2 says") {
  constexpr uint32_t d = 40;
  constexpr int draws = 20000;
  const std::vector<float> v = TestVector(d);
  const double norm2 = SquaredNorm(v);
  const codec::CompressorSpec specs[] = {
      {Kind::RandK, 10}, {Kind::RandK, 1},          {Kind::Bernoulli, 0, 0.3}, {Kind::Bernoulli, 0, 0.05},
      {Kind::Qsgd, 0, 1.0, 1}, {Kind::Qsgd, 0, 1.0, 4}, {Kind::Natural},        {Kind::Identity},
      {Kind::Qsgd, 0, 1.0, 3}, {Kind::Qsgd, 0, 1.0, 15}, {Kind::Qsgd, 0, 1.0, 200},
  };
  for (const auto& spec : specs) {
    CAPTURE(codec::CompressorName(spec.kind));
    CAPTURE(spec.k);
    CAPTURE(spec.p);
    CAPTURE(spec.levels);
    WirePath path(spec, d);
    std::vector<double> sum(d, 0.0);
    double err_sum = 0, err_sum2 = 0;
    for (int t = 0; t < draws; ++t) {
      const auto c = path.Apply(v, 1000 + static_cast<uint64_t>(t));
      double err = 0;
      for (uint32_t j = 0; j < d; ++j) {
        sum[j] += c[j];
        err += (c[j] - v[j]) * (c[j] - v[j]);
      }
      err_sum += err;
      err_sum2 += err * err;
    }
    const auto var = CoordinateVariance(spec, v);
    // Unbiased: each mean within 5 standard errors (plus float rounding).
    for (uint32_t j = 0; j < d; ++j) {
      const double mean = sum[j] / draws;
      CHECK(std::fabs(mean - v[j]) <= 5 * std::sqrt(var[j] / draws) + 1e-6 * (std::fabs(v[j]) + 1e-3));
    }
    // E||C(v) - v||^2 = sum_j Var_j, within 5 standard errors of the mean.
    const double expected = std::accumulate(var.begin(), var.end(), 0.0);
    const double mean_err = err_sum / draws;
    const double se = std::sqrt(std::max(0.0, err_sum2 / draws - mean_err * mean_err) / draws);
    CHECK(std::fabs(mean_err - expected) <= 5 * se + 1e-9 * norm2);
    // ... and below the omega bound.
    CHECK(expected <= CompressorOmega(spec, d) * norm2 * (1 + 1e-9));
    if (spec.kind == Kind::RandK || spec.kind == Kind::Bernoulli) {
      CHECK(expected == doctest::Approx(CompressorOmega(spec, d) * norm2));
    }
  }
}

TEST_CASE("sign and scaled sign send the signs and the mean magnitude") {
  const std::vector<float> v = {2.0f, -1.0f, 0.0f, -3.0f};
  WirePath sign({Kind::Sign}, 4);
  CHECK(sign.Apply(v, 1) == std::vector<double>{1, -1, 1, -1});
  WirePath scaled({Kind::ScaledSign}, 4);
  CHECK(scaled.Apply(v, 1) == std::vector<double>{1.5, -1.5, 1.5, -1.5});
}

TEST_CASE("top-k sends the k largest magnitudes, ties to the lower index") {
  const std::vector<float> v = {0.5f, -4.0f, 3.0f, -3.0f, 1.0f};
  WirePath topk({Kind::TopK, 2}, 5);
  CHECK(topk.Apply(v, 1) == std::vector<double>{0, -4, 3, 0, 0});
  // The unsent part is remembered: e = v - C(v).
  const auto e = topk.compressor().error_memory();
  CHECK(std::vector<float>(e.begin(), e.end()) == std::vector<float>{0.5f, 0.0f, 0.0f, -3.0f, 1.0f});
}

// The top-k recurrence written the obvious way: p = g + e; the k largest
// |p_j|, ties to the lower index (a stable sort of the indices), sent in
// index order; e <- p with the sent coordinates zeroed.
class TopKReference {
 public:
  TopKReference(uint32_t d, uint32_t k) : k_(k), error_(d, 0.0f) {}

  void Step(std::span<const float> g, std::vector<uint32_t>* indices, std::vector<float>* values) {
    const size_t d = error_.size();
    std::vector<float> p(d);
    for (size_t j = 0; j < d; ++j) p[j] = g[j] + error_[j];
    std::vector<uint32_t> order(d);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(),
                     [&p](uint32_t a, uint32_t b) { return std::fabs(p[a]) > std::fabs(p[b]); });
    indices->assign(order.begin(), order.begin() + k_);
    std::sort(indices->begin(), indices->end());
    values->clear();
    error_ = p;
    for (uint32_t j : *indices) {
      values->push_back(p[j]);
      error_[j] = 0.0f;
    }
  }

  const std::vector<float>& error() const { return error_; }

 private:
  uint32_t k_;
  std::vector<float> error_;
};

std::vector<uint32_t> Bits(std::span<const float> v) {
  std::vector<uint32_t> bits(v.size());
  std::memcpy(bits.data(), v.data(), v.size() * sizeof(float));
  return bits;
}

enum class TopKInput { kGaussian, kHeavyTailed, kFewMagnitudes, kAllEqual, kSpiky, kSubnormalsAndZeros };

std::vector<float> TopKGradient(TopKInput input, uint32_t d, Rng& rng) {
  std::vector<float> g(d);
  for (uint32_t j = 0; j < d; ++j) {
    const float sign = rng.NextU64() & 1 ? -1.0f : 1.0f;
    switch (input) {
      case TopKInput::kGaussian:
        g[j] = static_cast<float>(rng.Normal());
        break;
      case TopKInput::kHeavyTailed:  // Cauchy-like: a wide range of exponents
        g[j] = static_cast<float>(rng.Normal() / (std::fabs(rng.Normal()) + 1e-3));
        break;
      case TopKInput::kFewMagnitudes:  // heavy ties
        g[j] = sign * std::array{0.25f, 0.5f, 1.0f, 3.0f}[rng.Below(4)];
        break;
      case TopKInput::kAllEqual:
        g[j] = 1.5f;
        break;
      case TopKInput::kSpiky:  // mostly equal, a few large: candidates overflow
        g[j] = rng.Below(64) == 0 ? static_cast<float>(8.0 + rng.Uniform()) : sign * 1.0f;
        break;
      case TopKInput::kSubnormalsAndZeros:
        g[j] = std::array{0.0f, -0.0f, sign * 1e-40f, sign * 3e-39f, static_cast<float>(rng.Normal())}[rng.Below(5)];
        break;
    }
  }
  return g;
}

// Runs `rounds` rounds of top-k and of the reference, the gradient of each
// from next_gradient(); every payload and every error memory must match
// bit for bit.
template <typename NextGradient>
void CheckTopKRounds(uint32_t d, uint32_t k, int rounds, NextGradient&& next_gradient) {
  CAPTURE(d);
  CAPTURE(k);
  const codec::CompressorSpec spec{Kind::TopK, k};
  Arena arena(Compressor::ArenaBytes(spec, d));
  Compressor compressor(spec, d, arena);
  REQUIRE(arena.status().ok());
  TopKReference reference(d, k);
  Rng unused(0);
  std::vector<uint32_t> want_indices;
  std::vector<float> want_values;
  for (int round = 0; round < rounds; ++round) {
    CAPTURE(round);
    std::vector<float> g = next_gradient();
    REQUIRE(g.size() == d);
    reference.Step(g, &want_indices, &want_values);
    codec::PayloadView payload;
    compressor.Compress(g, unused, &payload);
    REQUIRE(payload.indices.size() == k);
    REQUIRE(payload.values.size() == k);
    CHECK(std::vector<uint32_t>(payload.indices.begin(), payload.indices.end()) == want_indices);
    CHECK(Bits(payload.values) == Bits(want_values));
    CHECK(Bits(compressor.error_memory()) == Bits(reference.error()));
  }
}

// ... on fresh random gradients of one kind.
void CheckTopKAgainstReference(uint32_t d, uint32_t k, TopKInput input, int rounds, uint64_t seed) {
  CAPTURE(static_cast<int>(input));
  CAPTURE(seed);
  Rng rng(seed);
  CheckTopKRounds(d, k, rounds, [&] { return TopKGradient(input, d, rng); });
}

TEST_CASE("top-k matches a stable sort on random inputs, ties and error memory included") {
  // d = 100003 and 65537 are prime; 32768 is where the candidate buffer
  // starts (below it the select scans all d keys).
  for (const TopKInput input : {TopKInput::kGaussian, TopKInput::kHeavyTailed, TopKInput::kFewMagnitudes,
                                TopKInput::kAllEqual, TopKInput::kSpiky, TopKInput::kSubnormalsAndZeros}) {
    CheckTopKAgainstReference(100003, 1000, input, 6, 11);
    CheckTopKAgainstReference(65537, 1, input, 4, 12);
    CheckTopKAgainstReference(32768, 32768, input, 3, 13);
    CheckTopKAgainstReference(40001, 20000, input, 3, 14);
    CheckTopKAgainstReference(1000, 100, input, 4, 15);
    CheckTopKAgainstReference(37, 5, input, 4, 16);
  }
  // The same gradient every round, as in the codec benchmark: the error
  // memory builds up a flat spread of magnitudes just below the threshold.
  Rng fixed_rng(17);
  const std::vector<float> fixed = TopKGradient(TopKInput::kGaussian, 50021, fixed_rng);
  CheckTopKRounds(50021, 500, 40, [&] { return fixed; });
  // Many shapes: d not a multiple of anything in particular, k from 1 to d.
  Rng shapes(2024);
  for (uint64_t seed = 100; seed < 124; ++seed) {
    const uint32_t d = 1 + shapes.Below(shapes.Below(2) ? 1000 : 150000);
    const uint32_t k = 1 + shapes.Below(shapes.Below(2) ? std::min(d, 40u) : d);
    CheckTopKAgainstReference(d, k, static_cast<TopKInput>(shapes.Below(6)), 3, seed);
  }
}

TEST_CASE("top-k is exact when the candidates overflow or miss and the select falls back") {
  constexpr uint32_t d = 65536, k = 1000;
  // Every key equal, or only four magnitudes: the sampled bound admits
  // more keys than the candidate buffer holds.
  CheckTopKAgainstReference(d, k, TopKInput::kAllEqual, 3, 1);
  CheckTopKAgainstReference(d, k, TopKInput::kFewMagnitudes, 3, 2);
  // 1500 large keys (about 94 of the 4096 samples, fewer than the sample
  // rank, 126): the bound is the common magnitude and the candidates
  // overflow, but the large keys share the first-digit bin that holds the
  // threshold, so the select collects that bin instead.
  std::vector<float> spikes(d, 1.0f);
  for (uint32_t i = 0; i < 1500; ++i) spikes[(i * 2654435761u) % d] = 8.0f + static_cast<float>(i) / 2048;
  CheckTopKRounds(d, k, 4, [&] { return spikes; });
  // Large keys exactly where the sampler looks (SampledKeyBound's
  // positions): the bound is theirs, and fewer than k keys reach it.
  constexpr uint32_t kSamples = 4096, stride = d / kSamples;
  std::vector<float> sampled(d, 1.0f);
  for (uint32_t i = 0; i < kSamples; ++i) {
    sampled[i * stride + static_cast<uint32_t>((uint64_t{i * 2654435761u} * stride) >> 32)] = 10.0f;
  }
  CheckTopKRounds(d, 5000, 3, [&] { return sampled; });
}

TEST_CASE("top-k's candidate buffer: 4k entries (at least 4096, at most d) from d = 32768, none below") {
  const auto bytes = [](uint32_t k, uint32_t d) { return Compressor::ArenaBytes({Kind::TopK, k}, d); };
  const auto rounded = [](size_t b) { return (b + Arena::kAlignment - 1) / Arena::kAlignment * Arena::kAlignment; };
  // values + indices + error memory + histogram
  const auto expected = [&](size_t entries, size_t d) { return 2 * rounded(4 * entries) + rounded(4 * d) + 2048 * 4; };
  CHECK(bytes(100, 1000) == expected(100, 1000));
  CHECK(bytes(100, 32767) == expected(100, 32767));
  CHECK(bytes(100, 32768) == expected(4096, 32768));
  CHECK(bytes(10000, 1000000) == expected(40000, 1000000));
  CHECK(bytes(20000, 40000) == expected(40000, 40000));
}

TEST_CASE("error feedback keeps the residual bounded and still converges on a quadratic") {
  // x_{t+1} = x_t - eta C(g_t + e_t) on f = 1/2 ||x||^2. For a compressor
  // with ||C(p) - p||^2 <= (1 - delta) ||p||^2 the memory obeys
  // ||e|| <= sqrt(1-delta)/(1-sqrt(1-delta)) max||g|| <= (2/delta) max||g||
  // (Karimireddy et al. 2019); top-k has delta = k/d, scaled sign delta >= 1/d.
  constexpr uint32_t d = 100;
  for (const codec::CompressorSpec spec : {codec::CompressorSpec{Kind::TopK, 10}, codec::CompressorSpec{Kind::EfSign}}) {
    CAPTURE(codec::CompressorName(spec.kind));
    WirePath path(spec, d);
    std::vector<float> x(d);
    for (uint32_t j = 0; j < d; ++j) x[j] = static_cast<float>(std::sin(1.0 + j));
    const double initial = SquaredNorm(x);
    const double delta = spec.kind == Kind::TopK ? 10.0 / d : 1.0 / d;
    double max_grad = 0, max_error = 0;
    for (int t = 0; t < 3000; ++t) {
      max_grad = std::max(max_grad, std::sqrt(SquaredNorm(x)));  // g = x
      const auto c = path.Apply(x, static_cast<uint64_t>(t));
      for (uint32_t j = 0; j < d; ++j) x[j] = static_cast<float>(x[j] - 0.05 * c[j]);
      max_error = std::max(max_error, std::sqrt(SquaredNorm(path.compressor().error_memory())));
    }
    CHECK(max_error <= 2.0 / delta * max_grad);
    CHECK(SquaredNorm(x) < 1e-3 * initial);
  }
}

TEST_CASE("rand-k's coordinates are negatively correlated as CompressorCovariance says") {
  // Cov(C_0, C_1) = rho v_0 v_1 with rho = -(d - k)/(k (d - 1)).
  constexpr uint32_t d = 10, k = 3, draws = 100000;
  const codec::CompressorSpec spec{Kind::RandK, k};
  const std::vector<float> v = {1.0f, -2.0f, 0.5f, 0.25f, 1.5f, -1.0f, 0.75f, 2.0f, -0.5f, 1.25f};
  std::vector<double> diagonal(d);
  const double rho = CompressorCovariance(spec, v, diagonal);
  CHECK(rho == doctest::Approx(-7.0 / 27.0));
  CHECK(diagonal[1] == doctest::Approx((10.0 / 3.0 - 1.0) * 4.0));
  WirePath path(spec, d);
  double sum = 0.0, sum2 = 0.0;
  for (uint32_t n = 0; n < draws; ++n) {
    const auto c = path.Apply(v, 5000 + n);
    const double product = (c[0] - v[0]) * (c[1] - v[1]);
    sum += product;
    sum2 += product * product;
  }
  const double mean = sum / draws;
  const double se = std::sqrt((sum2 / draws - mean * mean) / draws);
  CHECK(std::fabs(mean - rho * v[0] * v[1]) <= 5 * se);
}

TEST_CASE("no coordinate of C(v) exceeds CompressorMaxAmplification times max |v_j|") {
  constexpr uint32_t d = 200;
  const std::vector<float> v = TestVector(d);
  float v_max = 0.0f;
  for (const float x : v) v_max = std::max(v_max, std::fabs(x));
  for (const codec::CompressorSpec spec :
       {codec::CompressorSpec{Kind::Identity}, codec::CompressorSpec{Kind::RandK, 7},
        codec::CompressorSpec{Kind::Bernoulli, 0, 0.1}, codec::CompressorSpec{Kind::Qsgd, 0, 1.0, 1},
        codec::CompressorSpec{Kind::Natural}, codec::CompressorSpec{Kind::ScaledSign}}) {
    CAPTURE(codec::CompressorName(spec.kind));
    const double bound = CompressorMaxAmplification(spec, d) * v_max * (1 + 1e-6);
    WirePath path(spec, d);
    for (uint64_t seed = 0; seed < 200; ++seed) {
      for (const double c : path.Apply(v, seed)) CHECK(std::fabs(c) <= bound);
    }
  }
  CHECK(CompressorMaxAmplification({Kind::RandK, 10}, 1000) == 100.0);
  CHECK(CompressorMaxAmplification({Kind::Bernoulli, 0, 0.25}, 1000) == doctest::Approx(4.0));
}

TEST_CASE("omega and bits per coordinate") {
  CHECK(CompressorOmega({Kind::Identity}, 100) == 0.0);
  CHECK(CompressorOmega({Kind::RandK, 10}, 100) == doctest::Approx(9.0));
  CHECK(CompressorOmega({Kind::Bernoulli, 0, 0.25}, 100) == doctest::Approx(3.0));
  CHECK(CompressorOmega({Kind::Qsgd, 0, 1.0, 1}, 100) == doctest::Approx(10.0));  // min(100, 10)
  CHECK(CompressorOmega({Kind::Qsgd, 0, 1.0, 20}, 100) == doctest::Approx(0.25));  // min(0.25, 0.5)
  CHECK(CompressorOmega({Kind::Natural}, 100) == 0.125);
  CHECK(std::isnan(CompressorOmega({Kind::Sign}, 100)));
  CHECK(PayloadBitsPerCoordinate({Kind::Sign}, 1000) == 1.0);
  CHECK(PayloadBitsPerCoordinate({Kind::Identity}, 1000) == 32.0);
  CHECK(PayloadBitsPerCoordinate({Kind::Qsgd, 0, 1.0, 15}, 1000) == doctest::Approx(5.032));
  // Whole messages: the payload and the header, as UpdateMessageBytes counts them.
  CHECK(MessageBitsPerCoordinate({Kind::Identity}, 1000) ==
        8.0 * static_cast<double>(codec::UpdateMessageBytes({Kind::Identity}, 1000, 0)) / 1000);
  CHECK(MessageBitsPerCoordinate({Kind::Identity}, 1000) > 32.0);
  CHECK(MessageBitsPerCoordinate({Kind::Bernoulli, 0, 0.1}, 1000) ==
        8.0 * static_cast<double>(codec::UpdateMessageBytes({Kind::Bernoulli, 0, 0.1}, 1000, 100)) / 1000);
}

}  // namespace
}  // namespace edgefl

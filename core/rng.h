// Deterministic random numbers, identical on every platform and compiler:
// xoshiro256** seeded through splitmix64 (Blackman & Vigna), and samplers
// written here rather than <random>'s distributions, whose outputs the C++
// standard leaves to each library. One Rng per stream; not thread-safe.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace edgefl {

inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A seed for an independent stream named by (seed, a, b, c): e.g. (run seed,
// node index, round, purpose). Streams never depend on timing.
inline uint64_t DeriveSeed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  uint64_t s = seed;
  uint64_t h = SplitMix64(s);
  for (uint64_t part : {a, b, c}) {
    s = h ^ (part * 0xD1B54A32D192ED03ULL);
    h = SplitMix64(s);
  }
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { Seed(seed); }

  void Seed(uint64_t seed) {
    uint64_t s = seed;
    for (auto& word : state_) word = SplitMix64(s);
    has_spare_normal_ = false;
  }

  uint64_t NextU64() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Fills `out` with 32-bit draws, two per 64-bit step (low half first);
  // an odd count discards the last high half. Branch-free, for hot loops.
  void FillU32(uint32_t* out, size_t count) {
    for (size_t i = 0; i < count; i += 2) {
      const uint64_t word = NextU64();
      out[i] = static_cast<uint32_t>(word);
      if (i + 1 < count) out[i + 1] = static_cast<uint32_t>(word >> 32);
    }
  }

  // Uniform on [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n) without modulo bias (Lemire's method).
  uint32_t Below(uint32_t n) {
    uint64_t m = (NextU64() >> 32) * n;
    auto low = static_cast<uint32_t>(m);
    if (low < n) {
      const uint32_t threshold = (0u - n) % n;
      while (low < threshold) {
        m = (NextU64() >> 32) * n;
        low = static_cast<uint32_t>(m);
      }
    }
    return static_cast<uint32_t>(m >> 32);
  }

  // Standard normal, Marsaglia's polar method (pairs; the spare is kept).
  double Normal() {
    if (has_spare_normal_) {
      has_spare_normal_ = false;
      return spare_normal_;
    }
    double u, v, s;
    do {
      u = 2.0 * Uniform() - 1.0;
      v = 2.0 * Uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double factor = std::sqrt(-2.0 * std::log(s) / s);
    spare_normal_ = v * factor;
    has_spare_normal_ = true;
    return u * factor;
  }

  // Gamma(shape, 1), Marsaglia & Tsang (2000); shape < 1 via the boost
  // Gamma(a) = Gamma(a + 1) * U^(1/a).
  double Gamma(double shape) {
    if (shape < 1.0) {
      const double u = Uniform();
      return Gamma(shape + 1.0) * std::pow(u > 0.0 ? u : 0x1.0p-53, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = Normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = Uniform();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
      if (u > 0.0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
  }

  // Student-t with nu degrees of freedom: Z / sqrt(V / nu), V ~ chi2(nu).
  double StudentT(double nu) {
    const double z = Normal();
    const double chi2 = 2.0 * Gamma(0.5 * nu);
    return z / std::sqrt(chi2 / nu);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t state_[4] = {};
  double spare_normal_ = 0.0;
  bool has_spare_normal_ = false;
};

}  // namespace edgefl

#include "maths/compressor_maths.h"

#include <cmath>
#include <limits>

#include "maths/vector_norms.h"
#include "schemas/codec/bit_pack.h"
#include "schemas/codec/index_sampler.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

using Kind = wire::CompressorKind;

}  // namespace

double CompressorOmega(const codec::CompressorSpec& spec, uint32_t dimension) {
  const double d = dimension;
  switch (spec.kind) {
    case Kind::Identity:
      return 0.0;
    case Kind::RandK:
      return d / spec.k - 1.0;
    case Kind::Bernoulli:
      return 1.0 / codec::RealisedKeepProbability(spec.p) - 1.0;
    case Kind::Qsgd: {
      const double s = spec.levels;
      return std::min(d / (s * s), std::sqrt(d) / s);
    }
    case Kind::Natural:
      return 1.0 / 8.0;
    case Kind::Sign:
    case Kind::ScaledSign:
    case Kind::EfSign:
    case Kind::TopK:
      return std::numeric_limits<double>::quiet_NaN();  // biased: no omega
  }
  return std::numeric_limits<double>::quiet_NaN();
}

double PayloadBitsPerCoordinate(const codec::CompressorSpec& spec, uint32_t dimension) {
  const double d = dimension;
  switch (spec.kind) {
    case Kind::Identity:
      return 32.0;
    case Kind::RandK:
      return (32.0 * spec.k + 64.0) / d;
    case Kind::Bernoulli:
      return 32.0 * codec::RealisedKeepProbability(spec.p) + 64.0 / d;
    case Kind::Qsgd:
      return codec::BitsFor(spec.levels) + 1.0 + 32.0 / d;
    case Kind::Natural:
      return 8.0;
    case Kind::Sign:
      return 1.0;
    case Kind::ScaledSign:
    case Kind::EfSign:
      return 1.0 + 32.0 / d;
    case Kind::TopK:
      return 64.0 * spec.k / d;
  }
  return 0.0;
}

double CompressorCovariance(const codec::CompressorSpec& spec, std::span<const float> v, std::span<double> diagonal) {
  const size_t d = v.size();
  const double omega = CompressorOmega(spec, static_cast<uint32_t>(d));
  switch (spec.kind) {
    case Kind::Identity:
      for (size_t j = 0; j < d; ++j) diagonal[j] = 0.0;
      return 0.0;
    case Kind::Bernoulli:
    case Kind::RandK:
      for (size_t j = 0; j < d; ++j) diagonal[j] = omega * static_cast<double>(v[j]) * v[j];
      if (spec.kind == Kind::Bernoulli || d < 2) return 0.0;
      return -static_cast<double>(d - spec.k) / (static_cast<double>(spec.k) * static_cast<double>(d - 1));
    case Kind::Qsgd: {
      const double norm = std::sqrt(SquaredNorm(v));
      const auto encoder_norm = static_cast<float>(norm);  // the levels are of |v_j| / the float norm
      const double unit = norm / spec.levels;
      for (size_t j = 0; j < d; ++j) {
        if (encoder_norm == 0.0f) {
          diagonal[j] = 0.0;
          continue;
        }
        const double r = spec.levels * std::fabs(static_cast<double>(v[j])) / encoder_norm;
        const double q = r - std::floor(r);
        diagonal[j] = unit * unit * q * (1.0 - q);
      }
      return 0.0;
    }
    case Kind::Natural:
      for (size_t j = 0; j < d; ++j) {
        const double a = std::fabs(static_cast<double>(v[j]));
        if (a == 0.0) {
          diagonal[j] = 0.0;
          continue;
        }
        const double low = std::exp2(std::floor(std::log2(a)));
        diagonal[j] = (2.0 * low - a) * (a - low);
      }
      return 0.0;
    case Kind::Sign:
    case Kind::ScaledSign:
    case Kind::EfSign:
    case Kind::TopK:
      break;
  }
  for (size_t j = 0; j < d; ++j) diagonal[j] = std::numeric_limits<double>::quiet_NaN();
  return std::numeric_limits<double>::quiet_NaN();
}

double CompressorMaxAmplification(const codec::CompressorSpec& spec, uint32_t dimension) {
  const double d = dimension;
  switch (spec.kind) {
    case Kind::Identity:
    case Kind::Sign:
    case Kind::ScaledSign:
      return 1.0;
    case Kind::Bernoulli:
      return 1.0 / codec::RealisedKeepProbability(spec.p);
    case Kind::RandK:
    case Kind::TopK:
      return d / spec.k;
    case Kind::Qsgd:
      return std::sqrt(d);
    case Kind::Natural:
      return 2.0;
    case Kind::EfSign:
      return d;
  }
  return d;
}

uint32_t MaxKeptValues(const codec::CompressorSpec& spec, uint32_t dimension) {
  switch (spec.kind) {
    case Kind::Bernoulli:  // at worst every coordinate is kept
      return dimension;
    case Kind::RandK:
    case Kind::TopK:
      return spec.k;
    case Kind::Identity:
    case Kind::Qsgd:
    case Kind::Natural:
    case Kind::Sign:
    case Kind::ScaledSign:
    case Kind::EfSign:
      return 0;
  }
  return 0;
}

uint32_t ExpectedKeptValues(const codec::CompressorSpec& spec, uint32_t dimension) {
  if (spec.kind != Kind::Bernoulli) return MaxKeptValues(spec, dimension);
  return static_cast<uint32_t>(std::lround(codec::RealisedKeepProbability(spec.p) * dimension));
}

double ExpectedUpdateMessageBytes(const codec::CompressorSpec& spec, uint32_t dimension) {
  return static_cast<double>(codec::UpdateMessageBytes(spec, dimension, ExpectedKeptValues(spec, dimension)));
}

double MessageBitsPerCoordinate(const codec::CompressorSpec& spec, uint32_t dimension) {
  return 8.0 * ExpectedUpdateMessageBytes(spec, dimension) / dimension;
}

}  // namespace edgefl

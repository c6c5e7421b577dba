#include "maths/gradient_noise.h"

#include <cmath>

namespace edgefl {

void AddGradientNoise(const codec::NoiseSpec& spec, uint32_t batch_size, Rng& rng, std::span<float> grad) {
  const double scale = spec.sigma / std::sqrt(static_cast<double>(batch_size));
  switch (spec.kind) {
    case wire::NoiseKind::None:
      return;
    case wire::NoiseKind::Gaussian:
      for (float& g : grad) g = static_cast<float>(g + scale * rng.Normal());
      return;
    case wire::NoiseKind::StudentT:
      for (float& g : grad) g = static_cast<float>(g + scale * rng.StudentT(spec.nu));
      return;
  }
}

}  // namespace edgefl

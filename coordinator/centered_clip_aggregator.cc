#include "coordinator/centered_clip_aggregator.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace edgefl {

void CenteredClipStep(const UpdateRows& rows, std::span<const uint32_t> order, double radius, std::span<double> v,
                      std::span<double> sum) {
  const uint32_t d = rows.dimension();
  assert(v.size() == d && sum.size() >= d && !order.empty());
  std::fill(sum.begin(), sum.begin() + d, 0.0);
  for (const uint32_t i : order) {
    const std::span<const float> g = rows.row(i);
    double squared = 0.0;
    for (uint32_t j = 0; j < d; ++j) {
      const double z = static_cast<double>(g[j]) - v[j];
      squared += z * z;
    }
    const double norm = std::sqrt(squared);
    // clip_tau(z) = z min(1, tau/||z||): within the radius, z itself.
    if (norm > radius) {
      const double scale = radius / norm;
      for (uint32_t j = 0; j < d; ++j) sum[j] += (static_cast<double>(g[j]) - v[j]) * scale;
    } else {
      for (uint32_t j = 0; j < d; ++j) sum[j] += static_cast<double>(g[j]) - v[j];
    }
  }
  const double inverse = 1.0 / static_cast<double>(order.size());
  for (uint32_t j = 0; j < d; ++j) v[j] += sum[j] * inverse;
}

CenteredClipAggregator::CenteredClipAggregator(double radius, uint32_t iterations, uint32_t capacity,
                                               uint32_t dimension, size_t max_message_bytes, double max_update_norm)
    : radius_(radius),
      iterations_(iterations),
      rows_(capacity, dimension, max_update_norm),
      centre_(dimension, 0.0),
      sum_(dimension),
      receive_buffer_((max_message_bytes + 7) / 8) {
  order_.reserve(capacity);
}

void CenteredClipAggregator::Finish(std::span<double> direction) {
  order_.resize(rows_.count());
  rows_.CanonicalOrder(order_);
  for (uint32_t l = 0; l < iterations_; ++l) CenteredClipStep(rows_, order_, radius_, centre_, sum_);
  std::copy(centre_.begin(), centre_.end(), direction.begin());
}

}  // namespace edgefl

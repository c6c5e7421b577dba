#include "coordinator/update_rows.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <numeric>

#include "coordinator/norm_bound.h"

namespace edgefl {

UpdateRows::UpdateRows(uint32_t capacity, uint32_t dimension, double max_update_norm)
    : capacity_(capacity),
      dimension_(dimension),
      max_update_norm_(max_update_norm),
      values_(new float[size_t{capacity} * dimension]) {}

void UpdateRows::Add(const codec::DecodedPayload& update) {
  assert(count_ < capacity_);
  if (count_ >= capacity_) return;
  const std::span<float> row = mutable_row(count_++);
  codec::ExpandUpdate(update, row);
  if (BoundNorm(row, max_update_norm_)) ++bounded_;
  for (float& v : row) v += 0.0f;  // -0 + 0 = +0; every other value unchanged
}

void UpdateRows::CanonicalOrder(std::span<uint32_t> order) const {
  assert(order.size() == count_);
  std::iota(order.begin(), order.end(), 0u);
  const size_t bytes = size_t{dimension_} * sizeof(float);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return std::memcmp(row(a).data(), row(b).data(), bytes) < 0; });
}

}  // namespace edgefl

#include "coordinator/norm_bound.h"

#include <cmath>

namespace edgefl {

double UpdateNorm(std::span<const float> values) {
  double sum = 0.0;
  for (float v : values) sum += static_cast<double>(v) * v;
  return std::sqrt(sum);
}

bool BoundNorm(std::span<float> values, double max_norm) {
  if (!(max_norm > 0.0)) return false;
  const double norm = UpdateNorm(values);
  if (!(norm > max_norm)) return false;
  const double factor = max_norm / norm;
  for (float& v : values) v = static_cast<float>(v * factor);
  return true;
}

NormBoundingAggregator::NormBoundingAggregator(std::unique_ptr<Aggregator> inner, uint32_t dimension, double max_norm)
    : inner_(std::move(inner)), max_norm_(max_norm), scratch_(new float[dimension]), dimension_(dimension) {}

void NormBoundingAggregator::Reset() {
  inner_->Reset();
  bounded_ = 0;
}

void NormBoundingAggregator::AddFrom(uint32_t node, const codec::DecodedPayload& update, uint32_t weight) {
  const std::span<float> values(scratch_.get(), dimension_);
  codec::ExpandUpdate(update, values);
  if (!BoundNorm(values, max_norm_)) {
    inner_->AddFrom(node, update, weight);  // within the bound: exactly as without one
    return;
  }
  ++bounded_;
  codec::DecodedPayload scaled;
  scaled.form = codec::DecodedPayload::Form::kDense;
  scaled.dense = values;
  inner_->AddFrom(node, scaled, weight);
}

}  // namespace edgefl

#include "coordinator/krum_aggregator.h"

#include <algorithm>
#include <numeric>

#include "coordinator/coordinate_wise_aggregator.h"

namespace edgefl {
namespace {

// ||a - b||^2, summed in double in coordinate order.
double SquaredDistance(std::span<const float> a, std::span<const float> b) {
  double sum = 0.0;
  for (size_t j = 0; j < a.size(); ++j) {
    const double difference = static_cast<double>(a[j]) - static_cast<double>(b[j]);
    sum += difference * difference;
  }
  return sum;
}

}  // namespace

KrumAggregator::KrumAggregator(uint32_t byzantine, uint32_t select, uint32_t capacity, uint32_t dimension,
                               size_t max_message_bytes, double max_update_norm)
    : byzantine_(byzantine),
      select_(select),
      rows_(capacity, dimension, max_update_norm),
      sum_(dimension),
      columns_(new float[size_t{capacity} * kColumnBlock]),
      distances_(new double[size_t{capacity} * capacity]),
      receive_buffer_((max_message_bytes + 7) / 8) {
  order_.reserve(capacity);
  scores_.reserve(capacity);
  nearest_.reserve(capacity);
  ranking_.reserve(capacity);
  selected_.reserve(capacity);
}

void KrumAggregator::Reset() {
  rows_.Clear();
  selected_.clear();
  fell_back_ = false;
}

void KrumAggregator::Finish(std::span<double> direction) {
  const uint32_t n = rows_.count();
  selected_.clear();
  fell_back_ = n < 2 * byzantine_ + 3;
  if (fell_back_) {
    TrimmedMeanOfRows(rows_, (n - 1) / 2, {columns_.get(), size_t{rows_.capacity()} * kColumnBlock}, direction);
    return;
  }
  order_.resize(n);
  rows_.CanonicalOrder(order_);
  const auto distance = [&](uint32_t a, uint32_t b) -> double& { return distances_[size_t{a} * n + b]; };
  for (uint32_t a = 0; a < n; ++a) {
    distance(a, a) = 0.0;
    for (uint32_t b = a + 1; b < n; ++b) {
      distance(a, b) = distance(b, a) = SquaredDistance(rows_.row(order_[a]), rows_.row(order_[b]));
    }
  }
  // Each update's score: its n - f - 2 smallest distances, smallest first.
  const uint32_t neighbours = n - byzantine_ - 2;
  scores_.assign(n, 0.0);
  for (uint32_t a = 0; a < n; ++a) {
    nearest_.clear();
    for (uint32_t b = 0; b < n; ++b) {
      if (b != a) nearest_.push_back(distance(a, b));
    }
    std::partial_sort(nearest_.begin(), nearest_.begin() + neighbours, nearest_.end());
    double score = 0.0;
    for (uint32_t k = 0; k < neighbours; ++k) score += nearest_[k];
    scores_[a] = score;
  }
  ranking_.resize(n);
  std::iota(ranking_.begin(), ranking_.end(), 0u);
  // Ties go to the earlier update in canonical order (std::sort, unlike
  // std::stable_sort, allocates nothing).
  std::sort(ranking_.begin(), ranking_.end(), [&](uint32_t a, uint32_t b) {
    return scores_[a] < scores_[b] || (scores_[a] == scores_[b] && a < b);
  });
  const uint32_t chosen = std::min(select_, n - byzantine_);
  sum_.Clear();
  for (uint32_t k = 0; k < chosen; ++k) {
    const uint32_t arrival = order_[ranking_[k]];
    selected_.push_back(arrival);
    sum_.AddDense(rows_.row(arrival));
  }
  const double inverse = 1.0 / chosen;
  for (uint32_t j = 0; j < rows_.dimension(); ++j) direction[j] = sum_.Value(j, inverse);
}

}  // namespace edgefl

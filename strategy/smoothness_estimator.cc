#include "strategy/smoothness_estimator.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace edgefl {

SmoothnessEstimator::SmoothnessEstimator(uint32_t window) : window_(std::clamp(window, 3u, kMaxWindow)) {}

void SmoothnessEstimator::Add(double ell, double norm) {
  if (!std::isfinite(ell) || !std::isfinite(norm) || ell < 0.0) return;
  ell_[next_] = ell;
  norm_[next_] = norm;
  next_ = (next_ + 1) % window_;
  count_ = std::min(count_ + 1, window_);
  if (ready()) Fit();
}

void SmoothnessEstimator::Fit() {
  // Theil-Sen: the median of the pairwise slopes (pairs at the same norm
  // carry no slope).
  std::vector<double> slopes;
  slopes.reserve(count_ * (count_ - 1) / 2);
  for (uint32_t i = 0; i < count_; ++i) {
    for (uint32_t j = i + 1; j < count_; ++j) {
      const double dn = norm_[j] - norm_[i];
      if (dn != 0.0) slopes.push_back((ell_[j] - ell_[i]) / dn);
    }
  }
  double slope = 0.0;
  if (!slopes.empty()) {
    const auto middle = slopes.begin() + static_cast<std::ptrdiff_t>(slopes.size() / 2);
    std::nth_element(slopes.begin(), middle, slopes.end());
    slope = *middle;
  }
  l1_ = std::max(0.0, slope);
  // The upper envelope's intercept: the 90% quantile of the residuals.
  std::vector<double> residuals(count_);
  for (uint32_t i = 0; i < count_; ++i) residuals[i] = ell_[i] - l1_ * norm_[i];
  const auto quantile = residuals.begin() + static_cast<std::ptrdiff_t>((9 * (count_ - 1)) / 10);
  std::nth_element(residuals.begin(), quantile, residuals.end());
  l0_ = std::max(kMinL0, *quantile);
}

void SmoothnessEstimator::Save(StateWriter& out) const {
  out.Put(count_);
  out.Put(next_);
  out.PutSpan(std::span<const double>(ell_));
  out.PutSpan(std::span<const double>(norm_));
}

Status SmoothnessEstimator::Load(StateReader& in) {
  EDGEFL_RETURN_IF_ERROR(in.Get(&count_));
  EDGEFL_RETURN_IF_ERROR(in.Get(&next_));
  EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<double>(ell_)));
  EDGEFL_RETURN_IF_ERROR(in.GetSpan(std::span<double>(norm_)));
  if (count_ > window_ || next_ >= window_) {
    return Status::Error(StatusCode::kMalformed, "smoothness estimator state holds %u samples in a window of %u",
                         count_, window_);
  }
  if (ready()) Fit();
  return Status::Ok();
}

}  // namespace edgefl

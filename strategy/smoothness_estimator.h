// SmoothnessEstimator: L0 and L1 of (L0,L1)-smoothness,
// ||H(x)|| <= L0 + L1 ||grad f(x)|| (docs/theory.md 4.2), estimated online
// from the run's own steps. Each step, from x_k to x_{k+1}, gives one
// sample of local smoothness
//   ell = ||g_{k+1} - g_k|| / ||x_{k+1} - x_k||   at   n = (||g_k|| + ||g_{k+1}||) / 2,
// g the exact gradient the coordinator evaluates at each model (the full
// training gradient of a data objective; server_step.h says why not the
// round's noisy aggregate). Over the last `window` samples:
//   L1 = max(0, the median of the slopes between pairs of samples)   (Theil-Sen: half the samples may be outliers)
//   L0 = the 90% quantile of ell - L1 n, at least kMinL0             (an upper envelope: the definition is a bound)
// Fixed memory (the window's samples); not thread-safe.
#pragma once

#include <array>
#include <cstdint>

#include "core/state_io.h"

namespace edgefl {

class SmoothnessEstimator {
 public:
  static constexpr uint32_t kMaxWindow = 64;
  static constexpr double kMinL0 = 1e-12;

  explicit SmoothnessEstimator(uint32_t window);

  // One sample; ignored unless both numbers are finite and ell >= 0.
  void Add(double ell, double norm);
  // At least three samples: enough for a slope with one outlier.
  bool ready() const { return count_ >= 3; }
  uint32_t samples() const { return count_; }
  // The fit of the samples in the window (call when ready()).
  double l0() const { return l0_; }
  double l1() const { return l1_; }

  void Save(StateWriter& out) const;
  Status Load(StateReader& in);

 private:
  void Fit();

  uint32_t window_;
  uint32_t count_ = 0;  // samples in the window
  uint32_t next_ = 0;   // where the next sample goes
  std::array<double, kMaxWindow> ell_{};
  std::array<double, kMaxWindow> norm_{};
  double l0_ = 0.0;
  double l1_ = 0.0;
};

}  // namespace edgefl

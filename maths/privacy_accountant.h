// Rényi-DP accounting for the sampled Gaussian mechanism (SGM), the privacy
// side of DP-FedAvg (McMahan et al. 2018, "Learning Differentially Private
// Recurrent Language Models"): each round takes every client with probability
// q, clips each update to L2 norm C, and adds N(0, (z C)^2) to the sum; z is
// the noise multiplier.
//
// The RDP of one step at order alpha > 1 is eps(alpha) = log(A_alpha)/(alpha - 1)
// with (Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy of the Sampled
// Gaussian Mechanism", arXiv 1908.10530, Section 3)
//   A_alpha = E_{x ~ N(0, z^2)} [((1 - q) + q exp((2x - 1)/(2 z^2)))^alpha].
//   q = 0:            eps(alpha) = 0
//   q = 1:            eps(alpha) = alpha/(2 z^2)                 (the plain Gaussian)
//   integer alpha:    A_alpha = sum_{k=0}^{alpha} C(alpha,k) (1-q)^(alpha-k) q^k exp((k^2 - k)/(2 z^2))
//   fractional alpha: the two-sided series of Section 3.3 (LogMomentSeries below).
// Composition adds RDP order by order; T steps of one mechanism give T eps(alpha).
//
// RDP turns into (epsilon, delta)-DP at each order, and the accountant keeps the
// smallest epsilon over its orders:
//   kBalle2020 (default): eps = rdp + log((alpha-1)/alpha) - (log(delta) + log(alpha))/(alpha-1)
//     (Balle et al. 2020, "Hypothesis testing interpretations and Rényi DP",
//     Theorem 21; Canonne, Kamath, Steinke 2020, arXiv 2004.00010, Proposition
//     12), clamped at 0, and 0 outright where delta^2 >= 1 - exp(-rdp): the
//     Rényi divergence grows with the order, so KL <= rdp, and the total variation
//     sqrt(1 - exp(-KL)) (Bretagnolle-Huber) is then at most delta. This is the
//     conversion of TF Privacy's rdp_accountant since Dec 2020; Opacus uses the
//     same formula without the clamp and the KL bound.
//   kMironov2017: eps = rdp - log(delta)/(alpha - 1) (Mironov 2017, "Rényi
//     Differential Privacy", Proposition 3), the older and looser one that
//     TF Privacy used before Dec 2020; kept to compare with numbers published then.
//
// Bad inputs give NaN, not an assert (they come from configuration; the caller
// names the field): q outside [0, 1], a noise multiplier that is not finite and
// > 0, an order that is not > 1 (EpsilonFromRdp also takes order 1, where rdp is
// the KL divergence), delta outside (0, 1), a negative rdp. Pure functions; a
// PrivacyAccountant owns a fixed array, never allocates, and is not thread-safe
// to Step while another thread reads it.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace edgefl {

// The orders every PrivacyAccountant tracks: TF Privacy's
// compute_dp_sgd_privacy grid, 1.25..4.5 in steps of 0.25 and 0.5, the
// integers 5..63, then 128, 256, 512. Small orders serve large epsilon (few
// steps of little noise), large orders small epsilon.
inline constexpr std::array<double, 72> kRdpOrders = [] {
  std::array<double, 72> orders{1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5};
  for (int a = 5; a <= 63; ++a) orders[static_cast<size_t>(a + 5)] = a;
  orders[69] = 128.0;
  orders[70] = 256.0;
  orders[71] = 512.0;
  return orders;
}();

enum class RdpConversion : uint8_t { kBalle2020, kMironov2017 };

// An (epsilon, delta) guarantee's epsilon and the order alpha that gave it.
struct RdpEpsilon {
  double epsilon;
  double order;
};

// RDP of one step of the sampled Gaussian mechanism: sampling rate q in
// [0, 1], noise multiplier z > 0, order alpha > 1 (+infinity gives +infinity,
// or 0 when q = 0). Integer alpha takes the binomial sum, other alpha the series.
double SampledGaussianRdp(double q, double noise_multiplier, double alpha);

// log A_alpha for 0 < q < 1, two ways (both in log space, so that large
// exp((k^2 - k)/(2 z^2)) cannot overflow):
// the finite binomial sum, for integer alpha >= 1;
double LogMomentBinomial(double q, double noise_multiplier, uint32_t alpha);
// the series of Mironov et al. 2019 Section 3.3, for any real alpha > 1. At
// z0 = z^2 log(1/q - 1) + 1/2 the mixture's two parts are equal, (1-q) N(0,z^2)
// = q N(1,z^2); split the expectation there and expand each side's power in the
// smaller part over the larger, a binomial series that converges there
// (C(alpha,k) real, alternating in sign once k > alpha + 1):
//   A_alpha = sum_k C(alpha,k) q^k (1-q)^(alpha-k) exp((k^2-k)/(2z^2)) erfc((k - z0)/(sqrt(2) z))/2
//           + sum_k C(alpha,k) q^(alpha-k) (1-q)^k exp(((alpha-k)^2-(alpha-k))/(2z^2))
//                                                     erfc((z0 - (alpha-k))/(sqrt(2) z))/2.
// Summed until, past k = alpha, both terms fall below exp(-30) (TF Privacy's
// _compute_log_a_frac rule, but not before k = alpha: see the .cc); for
// integer alpha it ends at k = alpha, exactly.
double LogMomentSeries(double q, double noise_multiplier, double alpha);

// The smallest epsilon at delta over (orders[i], rdp[i]) (rdp already composed),
// and its order; NaN for bad input or spans of different sizes. An order of 1
// (rdp = KL) only serves kBalle2020's KL bound.
RdpEpsilon EpsilonFromRdp(std::span<const double> orders, std::span<const double> rdp, double delta,
                          RdpConversion conversion = RdpConversion::kBalle2020);

// One sampled Gaussian mechanism (fixed q and z) composed step by step, e.g. a
// DP-FedAvg run round by round. Keeps the RDP of one step at each of
// kRdpOrders and the step count; the composed RDP is their product.
class PrivacyAccountant {
 public:
  using Epsilon = RdpEpsilon;

  // Bad q or z make every EpsilonAt NaN.
  PrivacyAccountant(double q, double noise_multiplier);

  // Composes `steps` more applications.
  void Step(uint64_t steps = 1) { steps_ += steps; }
  uint64_t steps() const { return steps_; }

  // epsilon at delta after the steps so far, minimised over kRdpOrders, and
  // the order that achieved it; 0 after no steps.
  Epsilon EpsilonAt(double delta, RdpConversion conversion = RdpConversion::kBalle2020) const;

 private:
  std::array<double, kRdpOrders.size()> rdp_per_step_;
  uint64_t steps_ = 0;
};

}  // namespace edgefl

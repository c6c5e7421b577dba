#include "maths/privacy_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace edgefl {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The series stops once, past k = alpha, both of its terms at one k are below
// exp(-30). Each term is |C(alpha,k)| times an integral of mu0 times a power
// k of a ratio <= 1 (below z0: q mu1/((1-q) mu0); above: its inverse), so
// its size falls with k once |C(alpha,k)| does, past k = (alpha-1)/2; past
// alpha + 1 the signs alternate, so each sum's tail is below twice the first
// term left out. A_alpha >= 1, so log A is off by at most 4 exp(-30) ~ 4e-13
// (measured: 1e-13 at alpha near 1, where the terms fall slowest). TF
// Privacy's _compute_log_a_frac stops at the first small term even before
// k = alpha, which ends too early where the binomial bulk lies at k ~ q alpha
// >> 0 with large z (e.g. q = 0.3, z = 100, alpha = 128.5: log A ~ -45.8
// instead of 0.074). The terms fall like k^-(alpha+2) (the exponentials
// cancel, leaving C(alpha,k) and erfc's 1/x), so the sum ends within ~1e5
// terms for alpha near 1; kMaxSeriesTerms only stops a runaway.
constexpr double kSeriesStopLog = -30.0;
constexpr uint64_t kMaxSeriesTerms = 10'000'000;

bool ValidRate(double q) { return q >= 0.0 && q <= 1.0; }
bool ValidNoise(double z) { return z > 0.0 && std::isfinite(z); }

// log(e^a + e^b).
double LogAdd(double a, double b) {
  if (a < b) std::swap(a, b);
  if (b == -kInf) return a;
  return a + std::log1p(std::exp(b - a));
}

// log(e^a - e^b) for a >= b; NaN when the difference would be negative.
double LogSub(double a, double b) {
  if (b == -kInf) return a;
  if (a < b) return kNaN;
  if (a == b) return -kInf;
  return a + std::log(-std::expm1(b - a));
}

// log erfc(x), accurate where erfc(x) underflows: past x = 25 the asymptotic
// series erfc(x) = exp(-x^2)/(x sqrt(pi)) sum_n (-1)^n (2n-1)!!/(2x^2)^n
// (Abramowitz & Stegun 7.1.23), whose seventh term is below 3e-17 there.
double LogErfc(double x) {
  if (x < 25.0) return std::log(std::erfc(x));
  const double u = 1.0 / (2.0 * x * x);
  double series = 1.0, term = 1.0;
  for (int n = 1; n <= 6; ++n) {
    term *= -(2.0 * n - 1.0) * u;
    series += term;
  }
  return -x * x - std::log(x) - 0.5 * std::log(std::numbers::pi) + std::log(series);
}

// The order-alpha epsilon of one RDP value; +infinity where the conversion
// says nothing.
double EpsilonAtOrder(double alpha, double rdp, double delta, RdpConversion conversion) {
  if (rdp == kInf) return kInf;
  switch (conversion) {
    case RdpConversion::kBalle2020:
      // KL <= rdp and TV <= sqrt(1 - exp(-KL)) <= delta: (0, delta)-DP.
      if (delta * delta + std::expm1(-rdp) >= 0.0) return 0.0;
      if (alpha <= 1.0) return kInf;
      return rdp + std::log1p(-1.0 / alpha) - (std::log(delta) + std::log(alpha)) / (alpha - 1.0);
    case RdpConversion::kMironov2017:
      if (alpha <= 1.0) return kInf;
      return rdp - std::log(delta) / (alpha - 1.0);
  }
  return kNaN;
}

}  // namespace

double LogMomentBinomial(double q, double noise_multiplier, uint32_t alpha) {
  if (!(q > 0.0 && q < 1.0) || !ValidNoise(noise_multiplier) || alpha < 1) return kNaN;
  const double log_q = std::log(q), log_1mq = std::log1p(-q);
  const double inv_2z2 = 1.0 / (2.0 * noise_multiplier * noise_multiplier);
  const double a = alpha;
  double log_a = -kInf;
  double log_binom = 0.0;  // log C(alpha, k), by C(alpha,k) = C(alpha,k-1) (alpha-k+1)/k
  for (uint32_t i = 0; i <= alpha; ++i) {
    const double k = i;
    if (i > 0) log_binom += std::log(a - k + 1.0) - std::log(k);
    log_a = LogAdd(log_a, log_binom + k * log_q + (a - k) * log_1mq + (k * k - k) * inv_2z2);
  }
  return log_a;
}

double LogMomentSeries(double q, double noise_multiplier, double alpha) {
  if (!(q > 0.0 && q < 1.0) || !ValidNoise(noise_multiplier) || !(alpha > 1.0) || !std::isfinite(alpha)) {
    return kNaN;
  }
  const double z = noise_multiplier, z2 = z * z;
  const double log_q = std::log(q), log_1mq = std::log1p(-q);
  const double z0 = z2 * (log_1mq - log_q) + 0.5;  // z^2 log(1/q - 1) + 1/2
  const double inv_2z2 = 1.0 / (2.0 * z2);
  const double inv_sqrt2_z = 1.0 / (std::numbers::sqrt2 * z);
  const double log_half = -std::numbers::ln2;

  double log_a0 = -kInf, log_a1 = -kInf;  // the sums below and above z0
  double log_binom = 0.0;                 // log |C(alpha, k)|
  bool positive = true;                   // the sign of C(alpha, k)
  for (uint64_t i = 0; i < kMaxSeriesTerms; ++i) {
    const double k = static_cast<double>(i);
    if (i > 0) {
      const double factor = alpha - k + 1.0;             // C(alpha,k) = C(alpha,k-1) (alpha-k+1)/k
      if (factor == 0.0) return LogAdd(log_a0, log_a1);  // integer alpha: the rest is 0
      log_binom += std::log(std::fabs(factor)) - std::log(k);
      if (factor < 0.0) positive = !positive;
    }
    const double j = alpha - k;
    const double log_s0 =
        log_binom + k * log_q + j * log_1mq + (k * k - k) * inv_2z2 + log_half + LogErfc((k - z0) * inv_sqrt2_z);
    const double log_s1 =
        log_binom + j * log_q + k * log_1mq + (j * j - j) * inv_2z2 + log_half + LogErfc((z0 - j) * inv_sqrt2_z);
    if (positive) {
      log_a0 = LogAdd(log_a0, log_s0);
      log_a1 = LogAdd(log_a1, log_s1);
    } else {
      log_a0 = LogSub(log_a0, log_s0);
      log_a1 = LogSub(log_a1, log_s1);
    }
    if (std::isnan(log_a0) || std::isnan(log_a1)) return kNaN;
    if (k > alpha && std::max(log_s0, log_s1) < kSeriesStopLog) return LogAdd(log_a0, log_a1);
  }
  return kNaN;  // did not converge
}

double SampledGaussianRdp(double q, double noise_multiplier, double alpha) {
  if (!ValidRate(q) || !ValidNoise(noise_multiplier) || !(alpha > 1.0)) return kNaN;
  if (q == 0.0) return 0.0;
  if (alpha == kInf) return kInf;
  if (q == 1.0) return alpha / (2.0 * noise_multiplier * noise_multiplier);
  // The binomial sum for integer orders (up to 2^32 - 1; larger ones take the series).
  const bool integer = alpha == std::floor(alpha) && alpha <= std::numeric_limits<uint32_t>::max();
  const double log_a = integer ? LogMomentBinomial(q, noise_multiplier, static_cast<uint32_t>(alpha))
                               : LogMomentSeries(q, noise_multiplier, alpha);
  // A Rényi divergence is >= 0, but with huge z, A_alpha = 1 + tiny can round
  // below 1 (by ~1e-13 at z = 1e7); NaN stays NaN.
  return std::max(log_a, 0.0) / (alpha - 1.0);
}

RdpEpsilon EpsilonFromRdp(std::span<const double> orders, std::span<const double> rdp, double delta,
                          RdpConversion conversion) {
  const RdpEpsilon bad{kNaN, kNaN};
  if (orders.size() != rdp.size() || orders.empty() || !(delta > 0.0 && delta < 1.0)) return bad;
  RdpEpsilon best{kInf, orders[0]};
  for (size_t i = 0; i < orders.size(); ++i) {
    if (!(orders[i] >= 1.0) || !(rdp[i] >= 0.0)) return bad;  // NaN fails too
    const double epsilon = EpsilonAtOrder(orders[i], rdp[i], delta, conversion);
    if (epsilon < best.epsilon) best = {epsilon, orders[i]};
  }
  best.epsilon = std::max(best.epsilon, 0.0);
  return best;
}

PrivacyAccountant::PrivacyAccountant(double q, double noise_multiplier) {
  for (size_t i = 0; i < kRdpOrders.size(); ++i) {
    rdp_per_step_[i] = SampledGaussianRdp(q, noise_multiplier, kRdpOrders[i]);
  }
}

PrivacyAccountant::Epsilon PrivacyAccountant::EpsilonAt(double delta, RdpConversion conversion) const {
  // T steps of one mechanism: T times the one-step RDP at each order (0, not
  // 0 * infinity, after no steps).
  std::array<double, kRdpOrders.size()> total;
  const double steps = static_cast<double>(steps_);
  for (size_t i = 0; i < total.size(); ++i) total[i] = steps_ == 0 ? 0.0 : rdp_per_step_[i] * steps;
  return EpsilonFromRdp(kRdpOrders, total, delta, conversion);
}

}  // namespace edgefl

#include "maths/privacy_accountant.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace edgefl {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// |a - b| <= tolerance relative to |b|.
bool Close(double a, double b, double relative) { return std::fabs(a - b) <= relative * std::fabs(b); }

// RDP of `steps` steps at each order.
std::vector<double> ComposedRdp(double q, double z, double steps, const std::vector<double>& orders) {
  std::vector<double> rdp;
  for (double alpha : orders) rdp.push_back(steps * SampledGaussianRdp(q, z, alpha));
  return rdp;
}

std::vector<double> IntegerOrders(int from, int to) {
  std::vector<double> orders;
  for (int a = from; a <= to; ++a) orders.push_back(a);
  return orders;
}

TEST_CASE("q = 1 is the plain Gaussian, alpha/(2 z^2); q = 0 costs nothing") {
  for (double z : {0.5, 1.1, 4.0}) {
    for (double alpha : {1.25, 1.5, 2.0, 2.5, 7.0, 32.5, 512.0}) {
      // The same closed form computed here; 1e-12 leaves room for the order of operations only.
      CHECK(Close(SampledGaussianRdp(1.0, z, alpha), alpha / (2.0 * z * z), 1e-12));
      CHECK(SampledGaussianRdp(0.0, z, alpha) == 0.0);
    }
  }
  // TF Privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py,
  // test_compute_rdp_no_sampling and test_compute_rdp_no_data:
  // compute_rdp(1, 10, 1, 20) == 0.1 and compute_rdp(0, 10, 1, 20) == 0.
  CHECK(Close(SampledGaussianRdp(1.0, 10.0, 20.0), 0.1, 1e-15));
  CHECK(SampledGaussianRdp(0.0, 10.0, 20.0) == 0.0);
}

TEST_CASE("just below q = 1 the binomial sum and the series approach alpha/(2 z^2) from below") {
  // With r = N(1,z^2)/N(0,z^2) and m = (1-q) + q r, A(q) = E_0[m^alpha] and
  // dA/dq = alpha E_0[m^(alpha-1) (r - 1)]; at q = 1 (m = r) that is
  // alpha (A_alpha - A_(alpha-1)) with A_b = E_0[r^b] = exp(b(b-1)/(2z^2)),
  // so d log A/dq = alpha (1 - A_(alpha-1)/A_alpha), in [0, alpha]. With
  // e = 1 - q: 0 <= alpha/(2z^2) - rdp(q) <= alpha e/(alpha - 1) to first
  // order; twice that covers the second order at e ~ 1e-9.
  const double q = 1.0 - 1e-9, e = 1.0 - q;
  for (double z : {1.1, 4.0}) {
    for (double alpha : {2.0, 2.5, 7.0, 32.0, 32.5}) {
      const double gap = alpha / (2.0 * z * z) - SampledGaussianRdp(q, z, alpha);
      CHECK(gap >= -1e-12 * alpha / (2.0 * z * z));  // rounding only
      CHECK(gap <= 2.0 * alpha * e / (alpha - 1.0));
    }
  }
}

TEST_CASE("at integer alpha the binomial sum and the two-sided series give the same log A") {
  // Two code paths: the binomial sum has alpha + 1 nonnegative terms; the
  // series splits the expectation at z0 and weights each side by erfc. For
  // integer alpha the series is finite too (C(alpha,k) = 0 past k = alpha),
  // so they differ by rounding only: A_alpha >= 1, each log-space addition
  // rounds by ~1e-16 absolute and there are at most 2 (alpha + 1) of them,
  // so 1e-13 absolute; where log A is large, the exponents (k^2 - k)/(2 z^2)
  // round by 1e-16 relative, so 1e-11 relative bounds it with room.
  for (double q : {1e-4, 0.01, 0.1, 0.5, 0.62, 0.9, 0.999}) {
    for (double z : {0.3, 0.5, 1.0, 2.5, 10.0, 100.0}) {
      for (uint32_t alpha : {2u, 3u, 10u, 32u, 63u, 256u, 512u}) {
        const double binomial = LogMomentBinomial(q, z, alpha);
        const double series = LogMomentSeries(q, z, alpha);
        CAPTURE(q);
        CAPTURE(z);
        CAPTURE(alpha);
        REQUIRE(std::isfinite(binomial));
        CHECK(std::fabs(binomial - series) <= 1e-13 + 1e-11 * std::fabs(binomial));
      }
    }
  }
}

TEST_CASE("the series at fractional alpha matches log A integrated numerically in high precision") {
  // Reference values computed for this test (not published): mpmath 1.3.0 at
  // 40 digits, log(quad(N(0,z^2)(x) ((1-q) + q exp((2x-1)/(2z^2)))^alpha))
  // over [-40z, alpha+40z] cut in 400 pieces plus z0, and the infinite tails
  // (the method of TF Privacy's test_compute_log_a_equals_mp); the same
  // integration agrees with the exact binomial sum at alpha = 63 and 512 to
  // 1e-13. The series stops where, past k = alpha, its terms fall below
  // exp(-30); each of its two sums then leaves out less than twice that, of
  // A >= 1: 4 exp(-30) ~ 3.7e-13 in log A, and rounding adds ~1e-14.
  // q = 0.3, z = 100, alpha = 128.5 is where stopping at the first small term
  // (TF Privacy's rule) would stop at k = 0 and return log A ~ -45.8. The
  // three with z <= 0.5 and alpha near 1 need log erfc past where erfc
  // underflows (taking those terms as 0 is off by 2e-9 to 7e-7).
  struct Case {
    double q, z, alpha, log_a;
  };
  const Case cases[] = {{0.01, 2.5, 1.5, 6.5007089718803973675e-6},   {0.3, 100.0, 128.5, 0.073926725178775320337},
                        {0.1, 100.0, 20.5, 0.0001999181845806829614}, {0.5, 1.0, 7.25, 17.645063912535287378},
                        {0.04, 1.5, 3.9, 0.0053162863787931897766},   {0.3, 0.5, 1.25, 0.12353298162134719997},
                        {0.1, 0.3, 1.25, 0.19233291432308339826},     {1e-4, 0.2, 1.5, 0.011619103099435417124}};
  for (const Case& c : cases) {
    CAPTURE(c.q);
    CAPTURE(c.z);
    CAPTURE(c.alpha);
    CHECK(std::fabs(LogMomentSeries(c.q, c.z, c.alpha) - c.log_a) <= 4e-13);
  }
}

// Published values. The TF Privacy files are those of github.com/tensorflow/privacy
// (commits named where the value has changed since); "assertAlmostEqual" there
// means |difference| < 5e-8 unless places are given.

TEST_CASE("published RDP of the sampled Gaussian (TF Privacy rdp_accountant_test.py)") {
  // test_compute_rdp_scalar: compute_rdp(q=0.1, noise 2, steps 10, order 5) ~ 0.07737 (places=5).
  CHECK(std::fabs(10.0 * SampledGaussianRdp(0.1, 2.0, 5.0) - 0.07737) < 5e-6);

  // test_compute_rdp_sequence: compute_rdp(0.01, 2.5, 50 steps, orders):
  // 6.5007e-04, 1.0854e-03, 2.1808e-03, 2.3846e-02, 1.6742e+02 (rtol 1e-4,
  // commit 385fefc); before commit be8175b (Dec 2020) the file gave more
  // digits: 0.00218075, 0.023846, 167.416307, truncated rather than rounded
  // (the sum in 40-digit mpmath is 0.0021807565623 and 167.416307548). So:
  // within one unit of the last published digit.
  const double steps = 50.0, q = 0.01, z = 2.5;
  CHECK(std::fabs(steps * SampledGaussianRdp(q, z, 1.5) - 6.5007e-4) <= 1e-8);
  CHECK(std::fabs(steps * SampledGaussianRdp(q, z, 2.5) - 1.0854e-3) <= 1e-7);
  CHECK(std::fabs(steps * SampledGaussianRdp(q, z, 5.0) - 0.00218075) <= 1e-8);
  CHECK(std::fabs(steps * SampledGaussianRdp(q, z, 50.0) - 0.023846) <= 1e-6);
  CHECK(std::fabs(steps * SampledGaussianRdp(q, z, 100.0) - 167.416307) <= 1e-6);
}

TEST_CASE("published RDP -> (epsilon, delta) conversions (TF Privacy rdp_accountant_test.py)") {
  const std::vector<double> orders_2_32 = IntegerOrders(2, 32);

  // Balle et al. 2020 conversion, test_get_privacy_spent_check_target_delta
  // (since be8175b): RDP 1.1 at orders 2..32, delta 1e-5 -> eps 1.32783806176,
  // order 32. The value has 12 digits: 5e-12.
  const RdpEpsilon constant = EpsilonFromRdp(orders_2_32, std::vector<double>(orders_2_32.size(), 1.1), 1e-5);
  CHECK(std::fabs(constant.epsilon - 1.32783806176) < 5e-12);
  CHECK(constant.order == 32.0);

  // Same test, second part: the Gaussian (q = 1) with z = 4.530877117 over
  // orders 0.001 i, i in [1000, 100000), is "exactly" (1, 1e-6)-DP
  // (assertAlmostEqual: 5e-8). Order 1 only serves the KL bound, which gives
  // nothing here, so the grid starts at 1.001.
  std::vector<double> fine_orders;
  for (int i = 1001; i < 100000; ++i) fine_orders.push_back(0.001 * i);
  const RdpEpsilon gaussian = EpsilonFromRdp(fine_orders, ComposedRdp(1.0, 4.530877117, 1.0, fine_orders), 1e-6);
  CHECK(std::fabs(gaussian.epsilon - 1.0) < 5e-8);

  // Mironov 2017 conversion, the same test before be8175b:
  // compute_rdp(0.01, 4, 10000 steps, orders 2..32), delta 1e-5 -> eps
  // 1.258575 (places=5), order 20.
  const RdpEpsilon old =
      EpsilonFromRdp(orders_2_32, ComposedRdp(0.01, 4.0, 10000.0, orders_2_32), 1e-5, RdpConversion::kMironov2017);
  CHECK(std::fabs(old.epsilon - 1.258575) < 5e-7);
  CHECK(old.order == 20.0);
}

TEST_CASE("published composition of two mechanisms (TF Privacy test_check_composition)") {
  // 40000 steps of (q 1e-4, z 0.4) then 100 of (q 0.1, z 2), delta 1e-5:
  // before be8175b, eps 8.509656 (places=5) at order 2.5 with the Mironov
  // conversion; since, the file only asserts eps <= 8.509656 for the new one.
  const std::vector<double> orders = {1.25, 1.5, 1.75, 2.,  2.5, 3.,  4.,  5.,  6.,  7.,  8.,
                                      10.,  12., 14.,  16., 20., 24., 28., 32., 64., 256.};
  std::vector<double> rdp = ComposedRdp(1e-4, 0.4, 40000.0, orders);
  const std::vector<double> second = ComposedRdp(0.1, 2.0, 100.0, orders);
  for (size_t i = 0; i < rdp.size(); ++i) rdp[i] += second[i];

  const RdpEpsilon old = EpsilonFromRdp(orders, rdp, 1e-5, RdpConversion::kMironov2017);
  CHECK(std::fabs(old.epsilon - 8.509656) < 5e-6);
  CHECK(old.order == 2.5);
  const RdpEpsilon tight = EpsilonFromRdp(orders, rdp, 1e-5);
  CHECK(tight.epsilon <= 8.509656);
  CHECK(tight.epsilon > 0.0);
}

TEST_CASE("published DP-SGD epsilons (TF Privacy compute_dp_sgd_privacy_test.py), both conversions") {
  // compute_dp_sgd_privacy(n, batch, noise, epochs, delta): q = batch/n,
  // ceil(epochs n/batch) steps, over exactly kRdpOrders. Published (eps,
  // order): Balle et al. conversion since be8175b, Mironov's before it.
  // The Balle values carry 16 digits, but TF's own changed in the 12th
  // (Test2: 5907982.31138195 in 2020, 5907982.3113984 and then
  // 5907982.3113978775 after commit 8b3d8e1, which changed numerics only):
  // 5e-12 relative. The Mironov values carry 9 digits (Test2: 15): half a
  // unit of the last, or 5e-12 relative for Test2.
  struct Case {
    double n, batch, noise, epochs, delta;
    double eps, order, eps_old, old_tolerance, order_old;
  };
  for (const Case& c : {Case{60000, 150, 1.3, 15, 1e-5, 0.7242234026109595, 19.0, 0.941870567, 5e-10, 19.0},
                        Case{100000, 100, 1.0, 30, 1e-7, 1.4154988495444842, 13.0, 1.70928734, 5e-9, 13.0},
                        Case{1e8, 1024, 0.1, 10, 1e-7, 5907982.3113978775, 1.25, 5907984.81339406, 3e-5, 1.25}}) {
    PrivacyAccountant accountant(c.batch / c.n, c.noise);
    accountant.Step(static_cast<uint64_t>(std::ceil(c.epochs * c.n / c.batch)));
    const PrivacyAccountant::Epsilon tight = accountant.EpsilonAt(c.delta);
    const PrivacyAccountant::Epsilon old = accountant.EpsilonAt(c.delta, RdpConversion::kMironov2017);
    CAPTURE(c.n);
    CHECK(Close(tight.epsilon, c.eps, 5e-12));
    CHECK(tight.order == c.order);
    CHECK(std::fabs(old.epsilon - c.eps_old) <= c.old_tolerance);
    CHECK(old.order == c.order_old);
  }
}

TEST_CASE("published MNIST tutorial epsilon (TF Privacy tutorials/README.md, 2019, Mironov conversion)") {
  // "compute_dp_sgd_privacy.py --N=60000 --batch_size=256
  // --noise_multiplier=1.1 --epochs=60 --delta=1e-5 ... eps = 3.01" (README at
  // commit 0776ed1, printed with 3 digits, before the Dec 2020 conversion):
  // 14063 steps at q = 256/60000 over kRdpOrders.
  PrivacyAccountant accountant(256.0 / 60000.0, 1.1);
  accountant.Step(14063);
  CHECK(std::fabs(accountant.EpsilonAt(1e-5, RdpConversion::kMironov2017).epsilon - 3.01) < 0.005);
  // The Balle et al. conversion is tighter.
  CHECK(accountant.EpsilonAt(1e-5).epsilon < 3.0);
}

TEST_CASE("published Opacus epsilon (pytorch/opacus opacus/tests/accountants_test.py, test_rdp_accountant)") {
  // RDPAccountant, 2250 steps (int(90/0.04)) of noise 1.5, sample rate 0.04,
  // delta 1e-5 -> 7.32911117143 (assertAlmostEqual), over Opacus's
  // DEFAULT_ALPHAS = [1 + x/10 for x in 1..99] + [12..63] and the Balle et
  // al. conversion (Opacus's since April 2021, without the clamp at 0 and the
  // KL bound, neither of which acts here). The 12 digits look cut rather than
  // rounded (ours: 7.3291111714374), so one unit of the last: 1e-11.
  std::vector<double> orders;
  for (int x = 1; x < 100; ++x) orders.push_back(1.0 + x / 10.0);
  for (int a = 12; a < 64; ++a) orders.push_back(a);
  const RdpEpsilon opacus = EpsilonFromRdp(orders, ComposedRdp(0.04, 1.5, 2250.0, orders), 1e-5);
  CHECK(std::fabs(opacus.epsilon - 7.32911117143) <= 1e-11);
}

TEST_CASE("epsilon grows with steps and with q, and falls with z") {
  const double delta = 1e-5;
  double previous = 0.0;
  for (uint64_t steps : {1u, 10u, 100u, 1000u, 10000u}) {
    PrivacyAccountant accountant(0.01, 1.1);
    accountant.Step(steps);
    const double epsilon = accountant.EpsilonAt(delta).epsilon;
    CHECK(epsilon > previous);
    previous = epsilon;
  }
  previous = 0.0;
  for (double q : {0.001, 0.01, 0.1, 0.5, 1.0}) {
    PrivacyAccountant accountant(q, 1.1);
    accountant.Step(100);
    const double epsilon = accountant.EpsilonAt(delta).epsilon;
    CHECK(epsilon > previous);
    previous = epsilon;
  }
  previous = kInf;
  for (double z : {0.5, 0.8, 1.1, 2.0, 4.0}) {
    PrivacyAccountant accountant(0.01, z);
    accountant.Step(100);
    const double epsilon = accountant.EpsilonAt(delta).epsilon;
    CHECK(epsilon < previous);
    previous = epsilon;
  }
  // Order by order, too: the RDP itself grows with q and falls with z.
  for (double alpha : kRdpOrders) {
    CAPTURE(alpha);
    CHECK(SampledGaussianRdp(0.01, 1.1, alpha) < SampledGaussianRdp(0.02, 1.1, alpha));
    CHECK(SampledGaussianRdp(0.01, 1.1, alpha) > SampledGaussianRdp(0.01, 1.2, alpha));
  }
  // Never negative, even where A_alpha = 1 + tiny rounds below 1 (z = 1e7);
  // and so huge a z costs nothing at delta = 1e-5 (the KL bound).
  for (double q : {1e-3, 0.1, 0.5, 0.9}) {
    for (double alpha : kRdpOrders) CHECK(SampledGaussianRdp(q, 1e7, alpha) >= 0.0);
    PrivacyAccountant quiet(q, 1e7);
    quiet.Step(10);
    CHECK(quiet.EpsilonAt(delta).epsilon == 0.0);
  }
  // No steps, no loss (the KL bound: delta^2 >= 1 - exp(0)).
  CHECK(PrivacyAccountant(0.01, 1.1).EpsilonAt(delta).epsilon == 0.0);
}

TEST_CASE("1000 steps compose to 1000 times the RDP of one") {
  const double q = 0.02, z = 0.9, delta = 1e-6;
  PrivacyAccountant one_by_one(q, z), at_once(q, z), in_parts(q, z);
  for (int i = 0; i < 1000; ++i) one_by_one.Step();
  at_once.Step(1000);
  in_parts.Step(400);
  in_parts.Step(600);
  CHECK(one_by_one.steps() == 1000);
  CHECK(in_parts.steps() == 1000);

  const std::vector<double> orders(kRdpOrders.begin(), kRdpOrders.end());
  const RdpEpsilon converted = EpsilonFromRdp(orders, ComposedRdp(q, z, 1000.0, orders), delta);
  // Composition adds RDP: one step's RDP added 1000 times, each addition
  // rounding by 2^-53 relative, is within 1000 * 1.1e-16 of the product.
  std::vector<double> summed(orders.size(), 0.0);
  for (int i = 0; i < 1000; ++i) {
    for (size_t j = 0; j < orders.size(); ++j) summed[j] += SampledGaussianRdp(q, z, orders[j]);
  }
  const RdpEpsilon added = EpsilonFromRdp(orders, summed, delta);

  for (const PrivacyAccountant* accountant : {&one_by_one, &at_once, &in_parts}) {
    const PrivacyAccountant::Epsilon epsilon = accountant->EpsilonAt(delta);
    CHECK(epsilon.epsilon == converted.epsilon);  // the same arithmetic
    CHECK(epsilon.order == converted.order);
    CHECK(Close(epsilon.epsilon, added.epsilon, 2e-13));
    CHECK(epsilon.order == added.order);
  }
  CHECK(converted.epsilon > 0.0);
}

TEST_CASE("bad inputs give NaN") {
  for (double q : {-0.1, 1.1, kNaN}) CHECK(std::isnan(SampledGaussianRdp(q, 1.0, 2.0)));
  for (double z : {0.0, -1.0, kInf, kNaN}) CHECK(std::isnan(SampledGaussianRdp(0.1, z, 2.0)));
  for (double alpha : {1.0, 0.5, kNaN}) CHECK(std::isnan(SampledGaussianRdp(0.1, 1.0, alpha)));
  CHECK(SampledGaussianRdp(0.1, 1.0, kInf) == kInf);

  PrivacyAccountant good(0.01, 1.0);
  good.Step(10);
  for (double delta : {0.0, 1.0, -1e-5, kNaN}) CHECK(std::isnan(good.EpsilonAt(delta).epsilon));
  PrivacyAccountant bad(1.5, 1.0);
  bad.Step(10);
  CHECK(std::isnan(bad.EpsilonAt(1e-5).epsilon));

  const std::vector<double> orders = {2.0, 3.0};
  CHECK(std::isnan(EpsilonFromRdp(orders, std::vector<double>{0.1}, 1e-5).epsilon));        // sizes differ
  CHECK(std::isnan(EpsilonFromRdp(orders, std::vector<double>{0.1, -1.0}, 1e-5).epsilon));  // negative RDP
  CHECK(std::isnan(EpsilonFromRdp(std::vector<double>{0.5, 2.0}, std::vector<double>{0.1, 0.1}, 1e-5).epsilon));
}

}  // namespace
}  // namespace edgefl

#include "node/attack.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

namespace edgefl {
namespace {

bool Mentions(const Status& s, const char* what) { return std::string(s.message()).find(what) != std::string::npos; }

TEST_CASE("attacks parse from the command line, and refuse what they cannot do") {
  NodeAttack a;
  REQUIRE(ParseAttack("sign-flip", &a).ok());
  CHECK(a == NodeAttack{AttackKind::kSignFlip, 0.0f});
  REQUIRE(ParseAttack("scale:100", &a).ok());
  CHECK(a == NodeAttack{AttackKind::kScale, 100.0f});
  REQUIRE(ParseAttack("scale:-4", &a).ok());
  CHECK(a.value == -4.0f);
  REQUIRE(ParseAttack("constant:1e12", &a).ok());
  CHECK(a == NodeAttack{AttackKind::kConstant, 1e12f});
  CHECK(DescribeAttack(a) == "constant:1e+12");
  CHECK(DescribeAttack({}) == "none");

  REQUIRE(ParseAttack("alie:1", &a).ok());
  CHECK(a == NodeAttack{AttackKind::kAlie, 1.0f});
  CHECK(DescribeAttack(a) == "alie:1");
  REQUIRE(ParseAttack("max-norm:30", &a).ok());
  CHECK(a == NodeAttack{AttackKind::kMaxNorm, 30.0f});
  CHECK(DescribeAttack(a) == "max-norm:30");
  REQUIRE(ParseAttack("max-norm", &a).ok());
  CHECK(a == NodeAttack{AttackKind::kMaxNorm, 0.0f});
  CHECK(DescribeAttack(a) == "max-norm");

  CHECK(Mentions(ParseAttack("flip", &a),
                 "--attack 'flip': the kind must be sign-flip, scale:F, constant:V, alie:Z, max-norm or max-norm:R"));
  CHECK(Mentions(ParseAttack("alie", &a), "give the value"));
  CHECK(Mentions(ParseAttack("alie:0", &a), "must be > 0"));
  CHECK(Mentions(ParseAttack("max-norm:-1", &a), "must be > 0"));
  CHECK(Mentions(ParseAttack("scale", &a), "give the value"));
  CHECK(Mentions(ParseAttack("scale:", &a), "finite number"));
  CHECK(Mentions(ParseAttack("scale:1x", &a), "finite number"));
  CHECK(Mentions(ParseAttack("constant:1e39", &a), "fits a float"));
  CHECK(Mentions(ParseAttack("constant:nan", &a), "finite number"));
  CHECK(Mentions(ParseAttack("sign-flip:2", &a), "takes no value"));
}

TEST_CASE("attacks replace the gradient as documented") {
  std::vector<float> g = {1.5f, -2.0f, 0.0f};
  ApplyAttack({}, {}, g);
  CHECK(g == std::vector<float>{1.5f, -2.0f, 0.0f});
  ApplyAttack({AttackKind::kSignFlip, 0.0f}, {}, g);
  CHECK(g == std::vector<float>{-1.5f, 2.0f, -0.0f});
  ApplyAttack({AttackKind::kScale, 100.0f}, {}, g);
  CHECK(g == std::vector<float>{-150.0f, 200.0f, 0.0f});
  ApplyAttack({AttackKind::kConstant, 1e12f}, {}, g);
  CHECK(g == std::vector<float>{1e12f, 1e12f, 1e12f});
  CHECK_FALSE(UsesGradientBeforeNoise({AttackKind::kSignFlip, 0.0f}));
}

TEST_CASE("alie sends the honest mean minus z standard deviations in every coordinate") {
  // Baruch et al. 2019: p_j = mu_j - z sigma_j; here mu = the gradient before
  // noise, sigma = s = 0.5 (gaussian sigma = 1, B = 4).
  const codec::NoiseSpec gaussian{wire::NoiseKind::Gaussian, 1.0};
  std::vector<float> g = {1.0f, -2.0f, 0.25f};
  const double s = AttackNoiseStd(gaussian, 4, g);
  CHECK(s == 0.5);
  ApplyAttack({AttackKind::kAlie, 1.5f}, {.noise_std = s}, g);
  CHECK(g == std::vector<float>{0.25f, -2.75f, -0.5f});
  CHECK(UsesGradientBeforeNoise({AttackKind::kAlie, 1.0f}));

  // Affine noise grows with the gradient: s^2 = (sigma^2 + sigma1^2 ||g||^2) / B.
  const codec::NoiseSpec affine{wire::NoiseKind::Affine, 1.0, 3.0, 2.0};
  const std::vector<float> h = {3.0f, 4.0f};
  CHECK(AttackNoiseStd(affine, 1, h) == doctest::Approx(std::sqrt(1.0 + 4.0 * 25.0)));
  // Student-t with nu <= 2 has no variance: its scale sigma/sqrt(B) stands in.
  CHECK(AttackNoiseStd({wire::NoiseKind::StudentT, 2.0, 1.5}, 4, h) == 1.0);
}

TEST_CASE("max-norm sends norm R exactly, never above R, against the gradient or away from the optimum") {
  std::vector<float> g = {3.0f, -4.0f};
  ApplyAttack({AttackKind::kMaxNorm, 30.0f}, {}, g);
  CHECK(g == std::vector<float>{-18.0f, 24.0f});
  // Awkward values: rounding to float may not push the norm above R.
  for (const float radius : {30.0f, 1.0f, 0.1f, 7.3f}) {
    std::vector<float> v(100);
    for (size_t j = 0; j < v.size(); ++j) v[j] = 1.0f + 0.03f * static_cast<float>(j);
    ApplyAttack({AttackKind::kMaxNorm, radius}, {}, v);
    double sum = 0.0;
    for (const float x : v) sum += static_cast<double>(x) * x;
    CHECK(std::sqrt(sum) <= radius);
    CHECK(std::sqrt(sum) == doctest::Approx(radius).epsilon(1e-6));
    CHECK(v[0] < 0.0f);
  }
  // Given where the optimum lies, it pushes away from it instead: -R (x - x*)/||x - x*||.
  std::vector<float> h = {3.0f, -4.0f};
  const std::vector<float> offset = {0.0f, 2.0f};
  ApplyAttack({AttackKind::kMaxNorm, 30.0f}, {.away = offset}, h);
  CHECK(h == std::vector<float>{0.0f, -30.0f});
  std::vector<float> zero = {0.0f, 0.0f};
  ApplyAttack({AttackKind::kMaxNorm, 30.0f}, {}, zero);
  CHECK(zero == std::vector<float>{0.0f, 0.0f});
}

TEST_CASE("a bare max-norm takes the run's bound, and needs one") {
  NodeAttack a{AttackKind::kMaxNorm, 0.0f};
  CHECK(Mentions(ResolveMaxNorm(0.0, &a), "aggregator.max_update_norm"));
  REQUIRE(ResolveMaxNorm(30.0, &a).ok());
  CHECK(a.value == 30.0f);
  NodeAttack b{AttackKind::kMaxNorm, 0.0f};
  REQUIRE(ResolveMaxNorm(0.1, &b).ok());  // 0.1f > 0.1: the float below
  CHECK(static_cast<double>(b.value) <= 0.1);
  NodeAttack c{AttackKind::kMaxNorm, 5.0f};
  REQUIRE(ResolveMaxNorm(30.0, &c).ok());
  CHECK(c.value == 5.0f);  // given: kept
}

}  // namespace
}  // namespace edgefl

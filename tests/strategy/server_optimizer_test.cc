// Each server optimiser against a hand-written reference of Reddi et al.
// 2021, Algorithm 2 (and FedAvgM), over a few rounds of two coordinates.
#include "strategy/server_optimizer.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

namespace edgefl {
namespace {

const std::vector<std::vector<double>> kDirections = {{1.0, -2.0}, {0.5, 0.0}, {-3.0, 1.0}, {0.25, 0.25}};
constexpr double kEta = 0.1;

// The model changes an optimiser makes over kDirections.
std::vector<std::vector<double>> Changes(ServerOptimizer& optimizer) {
  std::vector<std::vector<double>> changes;
  for (const auto& d : kDirections) {
    std::vector<double> change(2);
    optimizer.Change(d, kEta, change);
    changes.push_back(change);
  }
  return changes;
}

void CheckSame(const std::vector<std::vector<double>>& got, const std::vector<std::vector<double>>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    for (size_t j = 0; j < 2; ++j) {
      CAPTURE(k);
      CAPTURE(j);
      CHECK(got[k][j] == doctest::Approx(want[k][j]).epsilon(1e-15));
    }
  }
}

TEST_CASE("sgd and momentum (FedAvgM)") {
  auto sgd = MakeServerOptimizer({}, 2);
  CheckSame(Changes(*sgd), {{-0.1, 0.2}, {-0.05, 0.0}, {0.3, -0.1}, {-0.025, -0.025}});
  // m1 = (1, -2); m2 = 0.9 m1 + (0.5, 0) = (1.4, -1.8); m3 = (1.26 - 3, -1.62 + 1) = (-1.74, -0.62);
  // m4 = (-1.566 + 0.25, -0.558 + 0.25) = (-1.316, -0.308); change = -0.1 m.
  auto momentum = MakeServerOptimizer({.optimizer = ServerOptimizerKind::kMomentum, .momentum = 0.9}, 2);
  CheckSame(Changes(*momentum), {{-0.1, 0.2}, {-0.14, 0.18}, {0.174, 0.062}, {0.1316, 0.0308}});
}

// The adaptive three, written out as in the paper.
std::vector<std::vector<double>> AdaptiveReference(ServerOptimizerKind kind, const ServerConfig& c) {
  std::vector<double> m(2, 0.0), v(2, c.tau * c.tau);
  std::vector<std::vector<double>> changes;
  for (const auto& d : kDirections) {
    std::vector<double> change(2);
    for (size_t j = 0; j < 2; ++j) {
      m[j] = c.beta1 * m[j] + (1 - c.beta1) * d[j];
      const double d2 = d[j] * d[j];
      if (kind == ServerOptimizerKind::kAdagrad) v[j] = v[j] + d2;
      if (kind == ServerOptimizerKind::kAdam) v[j] = c.beta2 * v[j] + (1 - c.beta2) * d2;
      if (kind == ServerOptimizerKind::kYogi) v[j] = v[j] - (1 - c.beta2) * d2 * (v[j] > d2 ? 1.0 : v[j] < d2 ? -1.0 : 0.0);
      change[j] = -kEta * m[j] / (std::sqrt(v[j]) + c.tau);
    }
    changes.push_back(change);
  }
  return changes;
}

TEST_CASE("adagrad, adam and yogi (Reddi et al. 2021, Algorithm 2)") {
  for (const ServerOptimizerKind kind : {ServerOptimizerKind::kAdagrad, ServerOptimizerKind::kAdam,
                                         ServerOptimizerKind::kYogi}) {
    CAPTURE(static_cast<int>(kind));
    const ServerConfig config{.optimizer = kind, .beta1 = 0.9, .beta2 = 0.99, .tau = 1e-3};
    auto optimizer = MakeServerOptimizer(config, 2);
    CheckSame(Changes(*optimizer), AdaptiveReference(kind, config));
  }
  // One value by hand: adam's first step on d = 1 is -0.1 * 0.1 / (sqrt(0.99e-6 + 0.01) + 1e-3).
  auto adam = MakeServerOptimizer({.optimizer = ServerOptimizerKind::kAdam}, 1);
  std::vector<double> change(1);
  adam->Change(std::vector<double>{1.0}, kEta, change);
  CHECK(change[0] == doctest::Approx(-0.01 / (std::sqrt(0.99e-6 + 0.01) + 1e-3)).epsilon(1e-15));
}

TEST_CASE("an optimiser's state saved and loaded carries on as if never stopped") {
  for (const ServerOptimizerKind kind : {ServerOptimizerKind::kMomentum, ServerOptimizerKind::kAdagrad,
                                         ServerOptimizerKind::kAdam, ServerOptimizerKind::kYogi}) {
    CAPTURE(static_cast<int>(kind));
    auto first = MakeServerOptimizer({.optimizer = kind}, 2);
    auto second = MakeServerOptimizer({.optimizer = kind}, 2);
    std::vector<double> a(2), b(2);
    first->Change(kDirections[0], kEta, a);
    first->Change(kDirections[1], kEta, a);
    StateWriter out;
    first->Save(out);
    StateReader in(out.bytes());
    REQUIRE(second->Load(in).ok());
    first->Change(kDirections[2], kEta, a);
    second->Change(kDirections[2], kEta, b);
    CHECK(a == b);
  }
}

}  // namespace
}  // namespace edgefl

// Staleness weights against values worked by hand from their definitions
// (docs/config.md, [async]): constant 1; polynomial (1 + s)^-a; hinge 1 up
// to s = b, then 1 / (1 + a (s - b)); and the integers a step counts them with.
#include <doctest/doctest.h>

#include "experiment/staleness_weight.h"

namespace edgefl {
namespace {

AsyncConfig With(StalenessWeighting kind, uint32_t buffer = 10) {
  AsyncConfig a;
  a.mode = AggregationMode::kBuffered;
  a.staleness = kind;
  a.buffer = buffer;
  return a;
}

TEST_CASE("staleness weights: the three rules at hand-worked points") {
  const AsyncConfig constant = With(StalenessWeighting::kConstant);
  for (const uint32_t s : {0u, 1u, 7u, 1000u}) CHECK(StalenessWeight(constant, s) == 1.0);

  AsyncConfig polynomial = With(StalenessWeighting::kPolynomial);  // a = 0.5: 1/sqrt(1 + s)
  CHECK(StalenessWeight(polynomial, 0) == 1.0);
  CHECK(StalenessWeight(polynomial, 3) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(StalenessWeight(polynomial, 8) == doctest::Approx(1.0 / 3.0).epsilon(1e-15));
  polynomial.staleness_exponent = 1.0;
  CHECK(StalenessWeight(polynomial, 4) == doctest::Approx(0.2).epsilon(1e-15));
  polynomial.staleness_exponent = 0.0;
  CHECK(StalenessWeight(polynomial, 50) == 1.0);

  AsyncConfig hinge = With(StalenessWeighting::kHinge);  // a = 1, b = 4
  CHECK(StalenessWeight(hinge, 0) == 1.0);
  CHECK(StalenessWeight(hinge, 4) == 1.0);
  CHECK(StalenessWeight(hinge, 5) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(StalenessWeight(hinge, 6) == doctest::Approx(1.0 / 3.0).epsilon(1e-15));
  hinge.hinge_slope = 0.25;
  hinge.hinge_after = 2;
  CHECK(StalenessWeight(hinge, 10) == doctest::Approx(1.0 / 3.0).epsilon(1e-15));  // 1 / (1 + 0.25 * 8)
}

TEST_CASE("staleness weights as integers: a step's K weights always fit the exact sums' 2^20") {
  // Q: the largest power of two with K Q <= 2^20.
  CHECK(StalenessQuantum(1) == 1u << 20);
  CHECK(StalenessQuantum(3) == 1u << 18);   // 2^20 / 3 = 349525.3
  CHECK(StalenessQuantum(10) == 1u << 16);  // 104857.6
  CHECK(StalenessQuantum(1024) == 1u << 10);
  CHECK(StalenessQuantum(100000) == 8u);
  const AsyncConfig polynomial = With(StalenessWeighting::kPolynomial, 10);
  CHECK(QuantizedStalenessWeight(polynomial, 0) == 65536u);
  CHECK(QuantizedStalenessWeight(polynomial, 3) == 32768u);
  CHECK(QuantizedStalenessWeight(polynomial, 8) == 21845u);  // 65536 / 3 = 21845.33
  // Never 0, however stale: a counted update always counts.
  AsyncConfig steep = With(StalenessWeighting::kPolynomial, 100000);
  steep.staleness_exponent = 10.0;
  CHECK(QuantizedStalenessWeight(steep, 1000000) == 1u);
  for (const uint32_t k : {1u, 2u, 3u, 7u, 10u, 1000u, 100000u}) {
    const AsyncConfig a = With(StalenessWeighting::kConstant, k);
    CHECK(uint64_t{k} * QuantizedStalenessWeight(a, 0) <= uint64_t{1} << 20);
  }
}

}  // namespace
}  // namespace edgefl

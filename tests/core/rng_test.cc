// The test vectors of docs/protocol.md 6.7, value for value: the doc and
// Rng cannot drift apart. The values are written as %.17g prints them, which
// reads back as the same double; the C++ literal is that double exactly.
#include "core/rng.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace edgefl {
namespace {

// Makes `draws.size()` calls of `draw` on a fresh Rng(seed), checks each
// result bit for bit, and checks that they used exactly `outputs` 64-bit
// outputs: the next output is then the (outputs + 1)-th of a fresh Rng.
void CheckDraws(uint64_t seed, const std::function<double(Rng&)>& draw, const std::vector<double>& draws,
                int outputs) {
  Rng rng(seed);
  for (size_t i = 0; i < draws.size(); ++i) {
    const double got = draw(rng);
    CHECK_MESSAGE(got == draws[i], "seed " << seed << ", draw " << i);
  }
  Rng fresh(seed);
  for (int i = 0; i < outputs; ++i) (void)fresh.NextU64();
  CHECK_MESSAGE(rng.NextU64() == fresh.NextU64(), "seed " << seed << ": not " << outputs << " outputs");
}

TEST_CASE("uniform, normal, Gamma and Student-t draws match docs/protocol.md 6.7") {
  CheckDraws(1, [](Rng& r) { return r.Uniform(); },
             {0.70292183315885048, 0.52043661993885693, 0.5741057000197225, 0.39132860204190445}, 4);
  CheckDraws(1, [](Rng& r) { return r.Normal(); },
             {1.8843961047879769, 0.18978089448693036, 1.302090250702661, -1.9094343319583578}, 4);
  // Five polar pairs rejected before the first is kept.
  CheckDraws(6, [](Rng& r) { return r.Normal(); }, {-0.94574564148382845, -0.98975628102673585}, 12);
  CheckDraws(2, [](Rng& r) { return r.Gamma(2.0); }, {1.081578748531314, 2.0768098884933615, 2.8561237089718134},
             7);
  // Shape < 1: the boost, one uniform before each Gamma(1.5).
  CheckDraws(3, [](Rng& r) { return r.Gamma(0.5); },
             {0.93163205524973225, 0.051207660630008138, 0.057017780720009979}, 10);
  CheckDraws(4, [](Rng& r) { return r.StudentT(3.0); },
             {-0.21679026614203545, 3.2408425482546956, -0.27945106207395354}, 11);
  // nu = 1 (Cauchy): Gamma(0.5), so the boost.
  CheckDraws(5, [](Rng& r) { return r.StudentT(1.0); },
             {-1.1523086004121981, 0.064627787934699768, -2.1794522144234008}, 12);
}

TEST_CASE("reseeding discards the spare normal") {
  Rng rng(1);
  (void)rng.Normal();  // leaves a spare
  rng.Seed(1);
  CHECK(rng.Normal() == 1.8843961047879769);
}

}  // namespace
}  // namespace edgefl

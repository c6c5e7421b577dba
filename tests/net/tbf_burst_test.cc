// The tbf burst and head start that the launcher installs and the node adds
// back (net/tbf_burst.h): one formula of the [link] rate, whatever the
// kernel's HZ.
#include "net/tbf_burst.h"

#include <doctest/doctest.h>

#include <limits>

namespace edgefl {
namespace {

TEST_CASE("tbf's rate is the link's rate as TCP payload, in frames of 1514 bytes for 1448") {
  CHECK(TbfRateBps(1e6) == 1045581);  // ceil(1e6 x 1514 / 1448)
  CHECK(TbfRateBps(100e3) == 104559);
}

TEST_CASE("the burst is 4 ms of the link, at least a frame: a fixed figure, not the kernel's HZ") {
  CHECK(TbfBurstBytes(TbfRateBps(100e3)) == kMinBurstBytes);
  CHECK(TbfBurstBytes(TbfRateBps(1e6)) == kMinBurstBytes);   // 523 B in 4 ms: less than a frame
  CHECK(TbfBurstBytes(TbfRateBps(3e6)) == kMinBurstBytes);    // 1569 B in 4 ms
  CHECK(TbfBurstBytes(TbfRateBps(3.1e6)) == 1621);            // 4 ms is more than a frame from 3.06 Mb/s on
  CHECK(TbfBurstBytes(TbfRateBps(100e6)) == 52280);           // ceil(104558012 / 8 / 250)
}

TEST_CASE("a message's head start: the burst at the rate, or its whole time if it fits in the burst") {
  // Larger than the burst: 12.2 ms at 1 Mb/s, 122 ms at 100 kb/s, 4 ms at 100 Mb/s.
  CHECK(TbfMessageHeadStartSeconds(1e6, 4112) == doctest::Approx(8.0 * 1600 / 1045581));
  CHECK(TbfMessageHeadStartSeconds(100e3, 80132) == doctest::Approx(8.0 * 1600 / 104559));
  CHECK(TbfMessageHeadStartSeconds(100e6, 1 << 20) == doctest::Approx(0.004).epsilon(1e-4));
  CHECK(TbfMessageHeadStartSeconds(1e6, 4112) ==
        TbfHeadStartSeconds(TbfRateBps(1e6), TbfBurstBytes(TbfRateBps(1e6))));
  // A 248-byte sign update crosses tbf at once: early by all of 8 x 248 / rate.
  CHECK(TbfMessageHeadStartSeconds(1e6, 248) == doctest::Approx(8.0 * 248 / 1e6));
  // No rate, or an unlimited one: nothing to make up.
  CHECK(TbfMessageHeadStartSeconds(0.0, 4112) == 0.0);
  CHECK(TbfMessageHeadStartSeconds(std::numeric_limits<double>::infinity(), 4112) == 0.0);
  CHECK(TbfHeadStartSeconds(0, 1600) == 0.0);
}

}  // namespace
}  // namespace edgefl

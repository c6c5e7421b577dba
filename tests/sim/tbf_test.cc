// The tbf qdisc's parameters for a link rate (sim/tbf.h) and the counters
// read back from `tc -s qdisc show`.
#include "sim/tbf.h"

#include <doctest/doctest.h>

namespace edgefl {
namespace {

TEST_CASE("tbf's rate carries the link's rate as TCP payload: frames of 1514 bytes for 1448") {
  const TbfParams p = TbfFor(1e6, 8000, 1 << 20);
  CHECK(p.goodput_bps == 1e6);
  CHECK(p.rate_bps == 1045581);  // ceil(1e6 x 1514 / 1448)
  CHECK(static_cast<double>(p.rate_bps) * kSegmentPayloadBytes / kFrameBytes == doctest::Approx(1e6).epsilon(1e-6));
}

TEST_CASE("tbf's burst is one full frame on slow links and 4 ms (rate / 250, whatever HZ) on fast ones") {
  CHECK(TbfFor(100e3, 1000, 1 << 20).burst_bytes == kMinBurstBytes);
  CHECK(TbfFor(1e6, 1000, 1 << 20).burst_bytes == kMinBurstBytes);  // 523 B in 4 ms: less than a frame
  const TbfParams fast = TbfFor(100e6, 1000, 1 << 20);
  CHECK(fast.burst_bytes == (fast.rate_bps / 8 + 249) / 250);       // 52280 B: 4 ms of the link
  CHECK(fast.burst_bytes > kMinBurstBytes);
  // The head start of a message on an idle link: the burst at the rate.
  CHECK(HeadStartSeconds(TbfFor(1e6, 1000, 1 << 20)) == doctest::Approx(8.0 * 1600 / 1045581));
  CHECK(HeadStartSeconds(fast) == doctest::Approx(0.004).epsilon(1e-4));
}

TEST_CASE("tbf's queue holds the largest message, or all TCP's small-queue limit lets one socket queue") {
  // The socket's limit is the larger: it sets the queue.
  const TbfParams small = TbfFor(1e6, 80000, 1 << 20);
  CHECK(small.limit_bytes == small.burst_bytes + (1u << 20) + kGsoBytes);
  // A message larger than the socket's limit (a kernel without one): the
  // message on the wire, with its frame overhead.
  const TbfParams large = TbfFor(1e6, 4000000, 1 << 20);
  CHECK(large.limit_bytes == large.burst_bytes + 4182321 + kGsoBytes);  // ceil(4e6 x 1514 / 1448)
}

TEST_CASE("tc's arguments for the qdisc, in its own units") {
  const TbfParams p = TbfFor(1e6, 8000, 1 << 20);
  const std::vector<std::string> expected = {"tbf", "rate", "1045581bit", "burst", "1600", "limit",
                                             std::to_string(1600 + (1 << 20) + 65536)};
  CHECK(TbfArguments(p) == expected);
}

TEST_CASE("the counters of a tbf qdisc are read from tc -s") {
  const std::string text =
      "qdisc tbf 8002: root refcnt 3 rate 1045Kbit burst 1599b lat 32.9s \n"
      " Sent 523084 bytes 350 pkt (dropped 2, overlimits 804 requeues 0) \n"
      " backlog 0b 0p requeues 0\n";
  QdiscCounters c;
  REQUIRE(ParseQdiscCounters(text, &c));
  CHECK(c.sent_bytes == 523084);
  CHECK(c.sent_packets == 350);
  CHECK(c.dropped == 2);
  CHECK(c.overlimits == 804);
  CHECK_FALSE(ParseQdiscCounters("qdisc noqueue 0: root refcnt 2\n", &c));
  CHECK_FALSE(ParseQdiscCounters(" Sent 12 bytes\n", &c));
}

}  // namespace
}  // namespace edgefl

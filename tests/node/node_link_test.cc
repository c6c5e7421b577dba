// The node's side of [link] (node/node_link.h) on times passed in: a round
// costs 2 latency + compute + the bytes each way at their rates, as
// sim/round_cost.h forecasts; kernel shaping leaves the rates to the kernel
// and adds back the head start tbf gives a message; none holds nothing.
#include "node/node_link.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

#include "net/tbf_burst.h"

namespace edgefl {
namespace {

constexpr int64_t kT0 = 5'000'000'000;

codec::LinkSpec Link(wire::LinkShaping shaping, double duty = 1.0) {
  return {.shaping = shaping,
          .uplink_bps = 200e3,    // 40 us a byte
          .downlink_bps = 8e6,    // 1 us a byte
          .latency_ms = 15.0,
          .compute_ms = 10.0,
          .duty_cycle = duty};
}

TEST_CASE("a token-bucket round takes 2 latency + compute + down bytes / downlink + up bytes / uplink") {
  NodeLink link(Link(wire::LinkShaping::TokenBucket));
  REQUIRE(link.shaped());
  // A model in two parts (d = 20000), received back to back.
  const int64_t first = link.DownlinkCrossedUs(65596, kT0);
  const int64_t model = link.DownlinkCrossedUs(14536, kT0 + 10);
  CHECK(first == kT0 + 65596 + 15000);
  CHECK(model == kT0 + 80132 + 15000);  // queued behind the first part
  // Computed in 0.3 ms, but a round's computation takes 10 ms.
  const int64_t ready = link.ComputeDoneUs(model, model + 300);
  CHECK(ready == model + 10000);
  // A slower computation is not padded.
  CHECK(link.ComputeDoneUs(model, model + 12345) == model + 12345);
  const int64_t sent = link.UplinkCrossedUs(2620, ready);
  CHECK(sent == ready + 2620 * 40 + 15000);
  CHECK(sent - kT0 == 2 * 15000 + 10000 + 80132 + 2620 * 40);  // sim/round_cost.h's sum, exactly

  link.RecordDelivered(80132, kT0, model, model);
  link.RecordSent(2620, ready, sent, sent + 100);  // 0.1 ms late
  CHECK(link.downlink().AchievedBps() == doctest::Approx(8e6));
  CHECK(link.uplink().EnforcedBps() == doctest::Approx(200e3));
  CHECK(link.uplink().AchievedBps() == doctest::Approx(8.0 * 2620 / (2620 * 40 + 100) * 1e6));
  CHECK(link.uplink().stats().late_us == 100.0);
}

TEST_CASE("the duty cycle limits the uplink only") {
  NodeLink link(Link(wire::LinkShaping::TokenBucket, /*duty=*/0.01));
  const int64_t first = link.UplinkCrossedUs(100, kT0);
  CHECK(first == kT0 + 4000 + 15000);
  // The next update, ready at once, waits out 99 x the first one's 4 ms.
  CHECK(link.UplinkCrossedUs(100, first) == kT0 + 400000 + 4000 + 15000);
  const int64_t down = link.DownlinkCrossedUs(100, kT0);
  CHECK(link.DownlinkCrossedUs(100, down) == down + 100 + 15000);
}

TEST_CASE("kernel shaping adds the latency, tbf's head start and the computation's floor; none adds nothing") {
  NodeLink kernel(Link(wire::LinkShaping::Kernel, 0.01));
  CHECK(kernel.shaped());
  // The kernel paces the bytes: each part is held for the latency only.
  CHECK(kernel.DownlinkCrossedUs(1 << 20, kT0) == kT0 + 15000);
  CHECK(kernel.DownlinkCrossedUs(1 << 20, kT0) == kT0 + 15000);
  // The whole model, once, for the head start tbf gave it: at 8 Mb/s tbf's
  // burst is 4 ms of the link (net/tbf_burst.h).
  const int64_t down_head_us = std::llround(1e6 * TbfMessageHeadStartSeconds(8e6, 2 << 20));
  CHECK(down_head_us == doctest::Approx(4000).epsilon(0.001));
  CHECK(kernel.ModelCrossedUs(2 << 20, kT0 + 15000) == kT0 + 15000 + down_head_us);
  CHECK(kernel.ComputeDoneUs(kT0, kT0 + 1) == kT0 + 10000);
  // At 200 kb/s the burst is one frame (1600 B): 61 ms of the link.
  const int64_t up_head_us = std::llround(1e6 * TbfMessageHeadStartSeconds(200e3, 1 << 20));
  CHECK(up_head_us == std::llround(8e6 * 1600 / static_cast<double>(TbfRateBps(200e3))));
  CHECK(kernel.UplinkCrossedUs(1 << 20, kT0) == kT0 + 15000 + up_head_us);
  // The duty cycle (1%), which tbf has not: the next Update, ready at once,
  // starts 100 x the first one's air time (41.9 s at 200 kb/s) after it.
  const int64_t off_us = std::llround(8e6 * (1 << 20) / 200e3 / 0.01);
  CHECK(kernel.UplinkCrossedUs(1 << 20, kT0) == kT0 + off_us + 15000 + up_head_us);
  // A message smaller than the burst crosses tbf at once: held its whole time at the rate.
  NodeLink always_on(Link(wire::LinkShaping::Kernel));
  CHECK(always_on.UplinkCrossedUs(100, kT0) == kT0 + 15000 + 4000);
  CHECK(always_on.UplinkCrossedUs(100, kT0) == kT0 + 15000 + 4000);  // no duty cycle: no wait
  CHECK(kernel.ModelCrossedUs(100, kT0) == kT0 + 100);

  // The token bucket has no head start: a model's last part is the model.
  NodeLink bucket(Link(wire::LinkShaping::TokenBucket));
  CHECK(bucket.ModelCrossedUs(2 << 20, kT0 + 7) == kT0 + 7);

  NodeLink none(Link(wire::LinkShaping::None));
  CHECK_FALSE(none.shaped());
  CHECK(none.DownlinkCrossedUs(1 << 20, kT0) == kT0);
  CHECK(none.ComputeDoneUs(kT0, kT0 + 1) == kT0 + 1);
  CHECK(none.UplinkCrossedUs(1 << 20, kT0 + 7) == kT0 + 7);
  CHECK(none.ModelCrossedUs(1 << 20, kT0 + 7) == kT0 + 7);
  none.RecordSent(10, kT0, kT0, kT0 + 5);
  CHECK(none.uplink().stats().crossed_messages == 0);
  CHECK_FALSE(NodeLink().shaped());
}

}  // namespace
}  // namespace edgefl

// The token bucket against its formulas (net/link_shaper.h), on times passed
// in: serialisation at the rate behind earlier messages, latency on top, a
// burst of credit after idle and no more, the duty cycle's off-periods, and
// the scheduled and measured rates it reports.
#include "net/link_shaper.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

#include "core/rng.h"

namespace edgefl {
namespace {

constexpr int64_t kT0 = 1'000'000'000;  // any clock: a steady clock's microseconds since boot

LinkShape Shape(double rate_bps, double latency_ms = 0.0, double duty = 1.0, double burst_us = 0.0) {
  return {.rate_bps = rate_bps, .latency_us = latency_ms * 1000.0, .duty_cycle = duty, .burst_us = burst_us};
}

TEST_CASE("a message crosses in 8 bytes / rate, queued behind the ones before it") {
  LinkShaper link(Shape(1e6));  // 1 Mb/s: 1000 bytes take 8 ms
  CHECK(link.ReleaseAtUs(1000, kT0) == kT0 + 8000);
  // Handed over together: each waits for the one before.
  CHECK(link.ReleaseAtUs(1000, kT0) == kT0 + 16000);
  CHECK(link.ReleaseAtUs(500, kT0 + 100) == kT0 + 20000);
  // After the queue has drained, a message starts when it is handed over.
  CHECK(link.ReleaseAtUs(125, kT0 + 50000) == kT0 + 51000);
  CHECK(link.stats().messages == 4);
  CHECK(link.stats().bytes == 2625);
  // Held 8 + 8 + 4 + 1 ms: exactly the rate.
  CHECK(link.stats().held_us == doctest::Approx(21000.0));
  CHECK(link.EnforcedBps() == doctest::Approx(1e6));
}

TEST_CASE("latency is added once to every message and does not hold the link") {
  LinkShaper link(Shape(1e6, /*latency_ms=*/40.0));
  CHECK(link.ReleaseAtUs(1000, kT0) == kT0 + 8000 + 40000);
  CHECK(link.ReleaseAtUs(1000, kT0) == kT0 + 16000 + 40000);  // pipelined, not 2 x 40 ms
  CHECK(link.EnforcedBps() == doctest::Approx(1e6));
}

TEST_CASE("an unlimited link only delays, and the default shaper passes everything at once") {
  LinkShaper delay(Shape(std::numeric_limits<double>::infinity(), 25.0, 1.0, kDefaultBurstUs));
  for (int i = 0; i < 10; ++i) CHECK(delay.ReleaseAtUs(1 << 20, kT0 + i) == kT0 + i + 25000);
  LinkShaper none;
  CHECK(none.ReleaseAtUs(1 << 20, kT0) == kT0);
  CHECK(none.ReleaseAtUs(0, kT0 + 7) == kT0 + 7);
}

TEST_CASE("the burst is credit of burst_us at the rate, never more, however long the link was idle") {
  LinkShaper link(Shape(1e6, 0.0, 1.0, /*burst_us=*/1000.0));  // 125 bytes of credit
  CHECK(link.shape().BurstBytes() == doctest::Approx(125.0));
  CHECK(link.ReleaseAtUs(1000, kT0) == kT0 + 7000);  // a full bucket at the start
  // A message within the credit passes at once, and spends it.
  CHECK(link.ReleaseAtUs(100, kT0 + 1'000'000) == kT0 + 1'000'000);
  CHECK(link.ReleaseAtUs(100, kT0 + 1'000'000) == kT0 + 1'000'000 + 600);  // 25 bytes left, 75 to serialise
  // An hour idle earns no more than the burst.
  CHECK(link.ReleaseAtUs(1000, kT0 + 3'600'000'000) == kT0 + 3'600'000'000 + 7000);
}

TEST_CASE("a sender waking up to the burst late loses no rate; later than that, only the excess") {
  // Paced as the bench paces: hand the next message over when the last one
  // was released, but wake late by up to 0.9 ms (random), with 1 ms of burst.
  LinkShaper link(Shape(10e6, 0.0, 1.0, 1000.0));
  Rng rng(3);
  int64_t now = kT0;
  int64_t first = 0, last = 0;
  constexpr int kMessages = 2000;
  constexpr size_t kBytes = 4120;  // an identity update at d = 1000
  for (int i = 0; i < kMessages; ++i) {
    const int64_t release = link.ReleaseAtUs(kBytes, now);
    if (i == 0) first = release;
    last = release;
    now = release + static_cast<int64_t>(rng.Below(900));
  }
  // Messages 1 .. n-1 took exactly their air time, to a microsecond of rounding each.
  const double air_us = 8e6 * kBytes / 10e6;
  CHECK(static_cast<double>(last - first) == doctest::Approx(air_us * (kMessages - 1)).epsilon(1e-4));

  // Waking 3 ms late each time with 1 ms of credit loses 2 ms a message.
  LinkShaper late(Shape(10e6, 0.0, 1.0, 1000.0));
  now = kT0;
  first = late.ReleaseAtUs(kBytes, now);
  now = first + 3000;
  last = late.ReleaseAtUs(kBytes, now);
  CHECK(static_cast<double>(last - first) == doctest::Approx(air_us + 2000.0).epsilon(1e-3));
}

TEST_CASE("a duty cycle holds the next transmission for air x (1 / duty - 1), averaging rate x duty") {
  // LoRaWAN-like: 2.65 kb/s at 1%. 100 bytes are 301.9 ms on the air.
  const double rate = 2650.0;
  LinkShaper link(Shape(rate, /*latency_ms=*/0.0, /*duty=*/0.01));
  const double air_us = 8e6 * 100 / rate;
  const int64_t first = link.ReleaseAtUs(100, kT0);
  CHECK(static_cast<double>(first - kT0) == doctest::Approx(air_us).epsilon(1e-6));  // its own air time
  // The next one, handed over as soon as the first crossed, waits out the off-period.
  const int64_t second = link.ReleaseAtUs(100, first);
  CHECK(static_cast<double>(second - kT0) == doctest::Approx(air_us / 0.01 + air_us).epsilon(1e-6));
  // One handed over after the off-period goes at once.
  const int64_t later = kT0 + static_cast<int64_t>(10 * air_us / 0.01);
  CHECK(static_cast<double>(link.ReleaseAtUs(100, later) - later) == doctest::Approx(air_us).epsilon(1e-6));

  // Saturated, the link averages rate x duty.
  LinkShaper busy(Shape(rate, 0.0, 0.01));
  int64_t t = kT0, busy_first = 0;
  for (int i = 0; i < 50; ++i) {
    t = busy.ReleaseAtUs(100, t);
    if (i == 0) busy_first = t;
  }
  const double average_bps = 8e6 * 49 * 100 / static_cast<double>(t - busy_first);
  CHECK(average_bps == doctest::Approx(rate * 0.01).epsilon(1e-4));
  CHECK(busy.EnforcedBps() == doctest::Approx(8e6 * 50 * 100 / (air_us + 49 * air_us / 0.01)).epsilon(1e-6));
}

TEST_CASE("releases are whole microseconds, never before the exact crossing") {
  LinkShaper link(Shape(3e6));  // 1 byte = 2.667 us
  double exact = static_cast<double>(kT0);
  for (int i = 0; i < 1000; ++i) {
    exact += 8e6 / 3e6;
    const int64_t release = link.ReleaseAtUs(1, kT0);
    CHECK(static_cast<double>(release) >= exact - 1e-6);
    CHECK(static_cast<double>(release) < exact + 1.0);
  }
}

TEST_CASE("the measured rate follows the caller's clock: on time it is the rate, late it is less") {
  LinkShaper link(Shape(1e6, /*latency_ms=*/10.0));
  int64_t handed = kT0;
  for (int i = 0; i < 10; ++i) {
    const int64_t scheduled = link.ReleaseAtUs(1000, handed);
    link.RecordCrossed(1000, handed, scheduled, scheduled);  // exactly on time
    handed = scheduled + 5000;                              // idle between messages
  }
  CHECK(link.stats().crossed_messages == 10);
  CHECK(link.stats().crossed_bytes == 10000);
  CHECK(link.AchievedBps() == doctest::Approx(1e6));
  CHECK(link.EnforcedBps() == doctest::Approx(1e6));
  CHECK(link.stats().late_us == 0.0);

  LinkShaper late(Shape(1e6, 10.0));
  const int64_t scheduled = late.ReleaseAtUs(1000, kT0);
  late.RecordCrossed(1000, kT0, scheduled, scheduled + 2000);  // 2 ms late: 10 ms for 8 ms of bytes
  CHECK(late.AchievedBps() == doctest::Approx(0.8e6));
  CHECK(late.stats().late_us == 2000.0);
  CHECK(LinkShaper().AchievedBps() == 0.0);  // nothing measured yet
}

}  // namespace
}  // namespace edgefl

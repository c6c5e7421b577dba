// LinkShaper: one direction of one link, as a token bucket. Given when a
// message is handed to the link, it says when the message has fully crossed:
// serialised at the link's rate behind every message handed over before it,
// then carried for the one-way latency. The caller holds the message until
// then (the node sends its Update, or delivers a RoundStart to its round, at
// that time), so a loopback connection behaves like the link.
//
// The model, per message of b bytes handed over at t:
//   air     = 8 b / rate                         time on the air at the rate
//   start   = max(free, t - burst / rate)         after the messages before it
//   crossed = max(t, start + air) + latency
//   free    = start + air / duty                  the next may start then
// `free` is the bucket's state: rate (t - free) is the number of bytes of
// credit at t (negative while messages queue), capped at the burst. This is
// exactly a token bucket of depth `burst` refilled at `rate` whose debt is
// the queue, with whole messages as its unit: a message leaves when its last
// byte's token has come.
//
// Burst. A sender that paces with timers wakes up late now and then (tens of
// microseconds, a few milliseconds on a loaded machine); without credit that
// lateness would be lost link time and the achieved rate would fall short. The
// bucket keeps kDefaultBurstUs (1 ms) of the rate as credit, which absorbs
// such lateness on back-to-back messages. A burst in time, not bytes, keeps
// slow links honest: one MTU of credit (1500 bytes) would let a 10 kb/s link
// send its first 1.2 s of data for free. The cost: a message after an idle
// spell crosses up to 1 ms sooner than 8 b / rate.
//
// Duty cycle. A radio allowed to transmit a fraction `duty` of the time
// (LoRaWAN in EU868: 1%, ETSI EN 300 220) must stay silent for
// air (1 / duty - 1) after each transmission. Modelled per message: a message
// crosses in its own air time at the full rate, and the next may not start
// until that off-period has passed, so a busy link averages rate x duty. A
// message is one transmission: the fragmentation of a real LoRaWAN uplink
// into frames of at most 222 bytes, each followed by its own off-period, is
// not modelled (it gives the same long-run rate, but makes a long message's
// own crossing about air / duty instead of air).
//
// Pure: no clock reads, no sockets, no allocation; times are passed in, so
// tests are deterministic. Times are microseconds on any one clock. Not
// thread-safe: one per link direction, used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace edgefl {

// How long the credit a bucket keeps would take to earn at its rate.
inline constexpr double kDefaultBurstUs = 1000.0;

struct LinkShape {
  // Bits a second while transmitting; infinity: a link that only delays.
  double rate_bps = std::numeric_limits<double>::infinity();
  double latency_us = 0.0;  // one way
  double duty_cycle = 1.0;  // (0, 1]: the fraction of time the link may transmit
  double burst_us = kDefaultBurstUs;  // the bucket's depth, as time at rate_bps

  double BurstBytes() const { return rate_bps * burst_us / 8e6; }
};

// What a shaper let through. "Held" time is the time the link held its
// messages: for each, from when it was handed over (or the message before it
// had crossed, if later) until it crossed, less the latency. Busy links give
// held = bytes / rate exactly; bytes / held is the rate the messages got.
struct LinkStats {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  double held_us = 0.0;  // as scheduled by the bucket
  // As measured by the caller (RecordCrossed): when the messages really
  // crossed by its clock, timer lateness included.
  uint64_t crossed_messages = 0;
  uint64_t crossed_bytes = 0;
  double crossed_held_us = 0.0;
  double late_us = 0.0;  // summed lateness of the crossings against their schedule
};

class LinkShaper {
 public:
  LinkShaper() = default;  // no limit, no latency: every message crosses at once
  explicit LinkShaper(const LinkShape& shape) : shape_(shape) {}

  // When a message of `bytes` handed over at `now_us` has fully crossed the
  // link (at or after now_us). Counts it in stats(). Messages are queued in
  // the order of the calls.
  int64_t ReleaseAtUs(size_t bytes, int64_t now_us);

  // The caller's record of a message it held until `crossed_us` by its own
  // clock, having handed it over at `handed_over_us`; `scheduled_us` is what
  // ReleaseAtUs said. Several messages may be recorded as one (e.g. the parts
  // of one round's model, with the first part's handover).
  void RecordCrossed(size_t bytes, int64_t handed_over_us, int64_t scheduled_us, int64_t crossed_us);

  const LinkShape& shape() const { return shape_; }
  const LinkStats& stats() const { return stats_; }
  // 8 bytes / held, scheduled and measured; 0 before any message.
  double EnforcedBps() const;
  double AchievedBps() const;

 private:
  LinkShape shape_;
  LinkStats stats_;
  // The bucket: messages may start from here (-infinity: a full bucket).
  double free_us_ = -std::numeric_limits<double>::infinity();
  // When the last scheduled / recorded message crossed, less the latency.
  double last_crossed_us_ = -std::numeric_limits<double>::infinity();
  double last_recorded_us_ = -std::numeric_limits<double>::infinity();
};

}  // namespace edgefl

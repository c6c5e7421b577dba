// The tbf qdisc of a kernel-shaped link (link.shaping = "kernel") as both
// of its sides need it: the rate and burst `edgefl run` installs
// (sim/tbf.h), and the head start that burst gives a message, which the node
// adds back (node/node_link.h). One formula for both, so they cannot drift.
// Pure functions of the [link] rate; thread-safe.
//
// rate: [link] rates are what TCP's payload gets (the presets are iperf3
// goodputs, docs/config.md), but tbf counts whole frames. A full TCP segment
// on a veth is a 1514-byte frame (14 Ethernet + 20 IPv4 + 32 TCP with
// timestamps) carrying 1448 payload bytes, so
//   tbf rate = goodput x 1514 / 1448          (+4.6%)
//
// burst: the bucket's depth. It must absorb the lateness of the qdisc's
// wake-ups, and hold at least one full frame, or tbf drops every frame
// larger than it (tc rounds the burst to its time unit, 1600 comes back as
// 1599, so the floor is 1600, not 1514):
//   burst = max(ceil(rate / 8 / 250), 1600) bytes
// i.e. 4 ms of the link, at least a frame. 250 is a fixed figure, not the
// kernel's timer frequency (HZ): tbf's watchdog is an hrtimer, so HZ does
// not bound its wake-ups, and 4 ms of credit absorbs their lateness (measured
// under load on this project's machine, HZ = 250: a bucket of one frame at
// 10 Mb/s gave 97% of the rate, one of 4 ms 100%). The launcher
// installs exactly this burst whatever HZ its machine has (tc takes any burst
// of a frame or more), so a node, which cannot know the launcher's machine,
// computes the same figure from its task's rates, and no wire field carries
// it.
//
// The head start: a message sent on an idle link finds a full bucket, whose
// bytes pass at once; a real link of that rate would still be sending them.
// So a message arrives early by
//   head start = min(8 burst / rate, 8 bytes / goodput)
// (12.2 ms at 1 Mb/s and 122 ms at 100 kb/s for a message larger than the
// burst, 4 ms above 3.1 Mb/s; a message smaller than the burst crosses at
// once, early by its whole time on the link). tbf releases whole frames, so
// no burst can remove the first frame's share: the head start is at least
// 8 x 1514 / rate whatever the burst (docs/performance.md, "Kernel-shaped
// links").
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace edgefl {

inline constexpr double kFrameBytes = 1514.0;          // a full Ethernet frame of a TCP segment
inline constexpr double kSegmentPayloadBytes = 1448.0; // its payload (MTU 1500, TCP timestamps on)
inline constexpr uint64_t kMinBurstBytes = 1600;       // a frame, after tc's rounding
inline constexpr uint64_t kBurstsPerSecond = 250;      // the burst is 1/250 s of the link: not HZ

// tbf's rate on the wire (frames) for a [link] rate of TCP payload.
inline uint64_t TbfRateBps(double goodput_bps) {
  return static_cast<uint64_t>(std::ceil(goodput_bps * kFrameBytes / kSegmentPayloadBytes));
}

// tbf's burst for a wire rate.
inline uint64_t TbfBurstBytes(uint64_t rate_bps) {
  return std::max((rate_bps / 8 + kBurstsPerSecond - 1) / kBurstsPerSecond, kMinBurstBytes);
}

// burst / rate: how early a message larger than the burst arrives after the
// link was idle.
inline double TbfHeadStartSeconds(uint64_t rate_bps, uint64_t burst_bytes) {
  return rate_bps > 0 ? 8.0 * static_cast<double>(burst_bytes) / static_cast<double>(rate_bps) : 0.0;
}

// How early a message of `bytes` (its parts sent back to back) arrives on an
// idle kernel-shaped link of `goodput_bps`: the head start, or its whole
// time on the link if it is shorter.
inline double TbfMessageHeadStartSeconds(double goodput_bps, double bytes) {
  if (!(goodput_bps > 0.0) || std::isinf(goodput_bps)) return 0.0;
  const uint64_t rate_bps = TbfRateBps(goodput_bps);
  return std::min(TbfHeadStartSeconds(rate_bps, TbfBurstBytes(rate_bps)), 8.0 * bytes / goodput_bps);
}

}  // namespace edgefl

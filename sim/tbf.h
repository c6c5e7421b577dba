// The parameters of a tbf (token bucket filter) qdisc that makes one
// direction of a node's link, and the counters `tc -s qdisc show` reports
// for it. Pure functions; thread-safe.
//
// rate: [link] rates are what TCP's payload gets (the presets are iperf3
// goodputs, docs/config.md), but tbf counts whole frames. A full TCP
// segment on a veth is a 1514-byte frame (14 Ethernet + 20 IPv4 + 32 TCP
// with timestamps) carrying 1448 payload bytes, so
//   tbf rate = goodput x 1514 / 1448          (+4.6%)
// and an update of B bytes takes 8 B / goodput on the wire, as
// sim/round_cost.h counts it.
//
// burst: the bucket's depth. It must hold what the link sends between two
// wake-ups of the qdisc's timer, a kernel tick at most (rate / HZ; HZ = 250
// in Debian's kernels and this project's machine, and the watchdog is an
// hrtimer, so this is a bound rather than the rule: measured here under
// load, a bucket of one frame at 10 Mb/s gave 97% of the rate, 4 ms of it
// 100%), and at least one full frame, or tbf drops every frame larger than
// it; tc rounds the burst to its time unit (1600 comes back as 1599), so the
// floor is 1600, not 1514:
//   burst = max(ceil(rate / 8 / 250), 1600) bytes
// The head start: an idle link starts a message with a full bucket, whose
// bytes pass at once, so a message arrives burst / rate early (12.2 ms at
// 1 Mb/s, 122 ms at 100 kb/s; a real link of that rate would still be
// sending them). A round of one message each way is early by two head
// starts: negligible for messages much larger than the burst, not for a
// few-kilobyte update on a 100 kb/s link (docs/performance.md).
// limit: the bytes that may wait in the queue before tbf drops. TCP copes
// with drops, but a dropped segment waits for a retransmission timeout
// (200 ms at least) and the round's time jumps. Each veth carries one
// node's one connection, and TCP's small-queue limit keeps at most
// net.ipv4.tcp_limit_output_bytes of one socket in the qdiscs below it, so
//   limit = burst + max(largest message x 1514 / 1448, tcp_limit_output_bytes) + 65536
// (65536: one GSO super-packet, which tbf splits into frames) never drops a
// segment: a whole update queues instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgefl {

struct TbfParams {
  double goodput_bps = 0.0;   // the [link] rate this direction stands for
  uint64_t rate_bps = 0;      // on the wire (frames), given to tc
  uint64_t burst_bytes = 0;
  uint64_t limit_bytes = 0;
};

inline constexpr double kFrameBytes = 1514.0;          // a full Ethernet frame of a TCP segment
inline constexpr double kSegmentPayloadBytes = 1448.0; // its payload (MTU 1500, TCP timestamps on)
inline constexpr uint64_t kMinBurstBytes = 1600;
inline constexpr uint64_t kKernelHz = 250;
inline constexpr uint64_t kGsoBytes = 65536;
inline constexpr uint64_t kDefaultSocketQueueBytes = 1 << 20;  // tcp_limit_output_bytes before Linux 6.x raised it

// `largest_message_bytes`: the largest message sent this way (an Update
// up, a RoundStart down); `socket_queue_bytes`: tcp_limit_output_bytes.
TbfParams TbfFor(double goodput_bps, uint64_t largest_message_bytes, uint64_t socket_queue_bytes);

// burst / rate in seconds: how much earlier than on a real link of that
// rate a message arrives after the link was idle.
double HeadStartSeconds(const TbfParams& params);

// net.ipv4.tcp_limit_output_bytes of this machine, or kDefaultSocketQueueBytes.
uint64_t SocketQueueBytes();

// The qdisc's arguments after `tc qdisc replace dev X root`:
// tbf rate <rate>bit burst <burst> limit <limit>.
std::vector<std::string> TbfArguments(const TbfParams& params);

// The counters of `tc -s qdisc show dev X` for a root tbf.
struct QdiscCounters {
  uint64_t sent_bytes = 0;
  uint64_t sent_packets = 0;
  uint64_t dropped = 0;
  uint64_t overlimits = 0;  // times a packet waited for tokens: the shaper at work
};

// Parses the "Sent B bytes P pkt (dropped D, overlimits O requeues R)" line
// of a tbf qdisc. False when the text has none.
bool ParseQdiscCounters(const std::string& tc_output, QdiscCounters* counters);

}  // namespace edgefl

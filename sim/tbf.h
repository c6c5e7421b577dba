// The parameters of a tbf (token bucket filter) qdisc that makes one
// direction of a node's link, and the counters `tc -s qdisc show` reports
// for it. Pure functions; thread-safe.
//
// rate and burst: net/tbf_burst.h, shared with the node, which adds back
// the head start the burst gives a message on an idle link (node/node_link.h):
//   tbf rate = goodput x 1514 / 1448
//   burst = max(ceil(rate / 8 / 250), 1600) bytes    (250: fixed, not HZ)
// so an update of B bytes takes 8 B / goodput on the wire, as
// sim/round_cost.h counts it, less the head start the node adds back.
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

#include "net/tbf_burst.h"

namespace edgefl {

struct TbfParams {
  double goodput_bps = 0.0;   // the [link] rate this direction stands for
  uint64_t rate_bps = 0;      // on the wire (frames), given to tc
  uint64_t burst_bytes = 0;
  uint64_t limit_bytes = 0;
};

inline constexpr uint64_t kGsoBytes = 65536;
inline constexpr uint64_t kDefaultSocketQueueBytes = 1 << 20;  // tcp_limit_output_bytes before Linux 6.x raised it

// `largest_message_bytes`: the largest message sent this way (an Update
// up, a RoundStart down); `socket_queue_bytes`: tcp_limit_output_bytes.
TbfParams TbfFor(double goodput_bps, uint64_t largest_message_bytes, uint64_t socket_queue_bytes);

// burst / rate in seconds: how much earlier than on a real link of that
// rate a message larger than the burst arrives after the link was idle
// (TbfHeadStartSeconds).
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

// NodeLink: the node's side of the run's [link] (TaskSpec.link), on a
// connection that is really loopback or a LAN. It says when each message of
// a round may be used, and the node client (node_client.cc) holds the
// message until then:
//   - a RoundStart part received at t is delivered to the round when the
//     downlink bucket says it has crossed (queued behind the parts before
//     it, plus the latency); the round is computed once its last part has;
//   - the round's computation takes at least compute_ms from that delivery
//     ("a slow board is slow": a faster node waits out the difference, so a
//     run on a workstation takes the time the board would);
//   - the Update is sent when the uplink bucket says it has crossed, which
//     on loopback is when the coordinator then receives it.
// So a round costs the node 2 latency + compute + 8 down / downlink +
// 8 up / uplink, sim/round_cost.h's forecast. The buckets keep no burst
// (net/link_shaper.h): the node hands messages over when events happen (a
// part received, a computation done), never on timers of its own, so there
// is no timer lateness for credit to absorb, and none makes a round shorter
// than the link allows.
//
// Only the messages docs/protocol.md 8 counts (RoundStart, Update) are
// shaped, by their FlatBuffers bytes as counted there. Hello, Welcome,
// Heartbeat, Bye and Error are control traffic and pass at once: a node
// holding a long upload keeps telling the coordinator it is alive.
//
// Shaping none: nothing is held (every call returns its own time). Kernel: a
// tbf qdisc paces the rates outside the process and the node adds what the
// kernel here cannot: the latency (no netem), compute_ms, and each message's
// head start. tbf lets the first burst of bytes of a message on an idle link
// through at once (net/tbf_burst.h: min(8 burst / rate, 8 bytes / rate),
// 12.2 ms at 1 Mb/s), so without it a round of small messages would take up
// to two head starts less than the link's time; the node holds each message
// that much longer, and a round costs what it costs with the token bucket.
// The burst is a fixed figure of the rate, so the node computes it from its
// task's rates as the launcher did. Holding the message also keeps the link
// idle for as long as tbf takes to refill its bucket, so the next message
// starts on a full one again. A tbf qdisc has no duty cycle either, so the
// node holds each Update until the one before has been off the air for its
// off-period. Token bucket: all of it, the uplink also keeping the duty
// cycle (only the node's own transmissions are limited by it).
//
// Plain values, no allocation after construction (the round loop calls it);
// logs only in LogEnforced and LogAchieved. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/link_shaper.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

class NodeLink {
 public:
  NodeLink() = default;  // unshaped
  explicit NodeLink(const codec::LinkSpec& spec);

  bool shaped() const { return spec_.shaping != wire::LinkShaping::None; }

  // When a RoundStart part of `bytes` received at `received_us` has crossed.
  int64_t DownlinkCrossedUs(size_t bytes, int64_t received_us);
  // When a round's whole model, `model_bytes` over its parts, has crossed,
  // its last part having crossed at `last_part_crossed_us`: then, in kernel
  // mode, plus tbf's head start for the model (the coordinator sends the
  // parts back to back, so tbf sees one message).
  int64_t ModelCrossedUs(size_t model_bytes, int64_t last_part_crossed_us);
  // When the round's computation is done: it began when the round's model
  // had crossed (`began_us`), really finished at `finished_us`, and takes at
  // least compute_ms.
  int64_t ComputeDoneUs(int64_t began_us, int64_t finished_us) const;
  // When an Update of `bytes` handed over at `ready_us` has crossed: the time
  // to send it (in kernel mode, the latency and tbf's head start for it).
  int64_t UplinkCrossedUs(size_t bytes, int64_t ready_us);

  // What really happened, by the node's clock: a round's model (`bytes` over
  // all its parts, the first received at `received_us`) delivered at
  // `delivered_us` against `scheduled_us`; an Update ready at `ready_us`,
  // sent at `sent_us` against `scheduled_us`.
  void RecordDelivered(size_t bytes, int64_t received_us, int64_t scheduled_us, int64_t delivered_us);
  void RecordSent(size_t bytes, int64_t ready_us, int64_t scheduled_us, int64_t sent_us);

  // One line at Welcome: what the node enforces.
  void LogEnforced() const;
  // At the end: each direction's messages, bytes, and the rate the bucket
  // scheduled and the rate measured by the clock (achieved).
  void LogAchieved() const;

  const LinkShaper& uplink() const { return uplink_; }
  const LinkShaper& downlink() const { return downlink_; }

 private:
  codec::LinkSpec spec_;
  LinkShaper uplink_;
  LinkShaper downlink_;
  int64_t compute_us_ = 0;
  // Kernel mode: when the duty cycle lets the next Update start.
  int64_t duty_free_us_ = INT64_MIN;
  // Kernel mode: the head starts added, summed over the messages, for LogAchieved.
  int64_t uplink_head_starts_us_ = 0;
  int64_t downlink_head_starts_us_ = 0;
};

}  // namespace edgefl

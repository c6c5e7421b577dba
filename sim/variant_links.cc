#include "sim/variant_links.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "core/log.h"
#include "runfiles/atomic_file.h"
#include "sim/round_cost.h"

namespace edgefl {
namespace {

constexpr const char* kLinksFile = "kernel_links.csv";
constexpr uint32_t kNodesPrinted = 8;  // more nodes: totals on stderr, every veth in the file

std::string Rate(double bps) {
  char text[32];
  if (bps >= 1e6) {
    std::snprintf(text, sizeof(text), "%.4g Mb/s", bps / 1e6);
  } else if (bps >= 1e3) {
    std::snprintf(text, sizeof(text), "%.4g kb/s", bps / 1e3);
  } else {
    std::snprintf(text, sizeof(text), "%.4g b/s", bps);
  }
  return text;
}

std::string Qdisc(const TbfParams& p) {
  char text[160];
  std::snprintf(text, sizeof(text),
                "tbf rate %" PRIu64 "bit burst %" PRIu64 "b limit %" PRIu64 "b (a message's head start: %.3g ms)",
                p.rate_bps, p.burst_bytes, p.limit_bytes, 1000.0 * HeadStartSeconds(p));
  return text;
}

// The mean rate of a qdisc over the run, and the share of the run it spent
// sending at its rate: near 1 for both directions together when the link,
// not computation, sets the pace.
double MeanBps(const LinkCounters& c, double run_s) {
  return run_s > 0 ? 8.0 * static_cast<double>(c.counters.sent_bytes) / run_s : 0.0;
}
double BusyShare(const LinkCounters& c, double run_s) {
  return c.params.rate_bps > 0 ? MeanBps(c, run_s) / static_cast<double>(c.params.rate_bps) : 0.0;
}

std::string CountersLine(const LinkCounters& c, double run_s) {
  char text[256];
  std::snprintf(text, sizeof(text),
                "node %u %-8s (%s %s): sent %" PRIu64 " B in %" PRIu64 " packets, %" PRIu64 " dropped, %" PRIu64
                " overlimits; %s over the run's %.2f s, busy %.0f%%",
                c.node, c.uplink ? "uplink" : "downlink", c.namespace_.c_str(), c.device.c_str(), c.counters.sent_bytes, c.counters.sent_packets, c.counters.dropped,
                c.counters.overlimits, Rate(MeanBps(c, run_s)).c_str(), run_s, 100.0 * BusyShare(c, run_s));
  return text;
}

std::string LinksCsv(const std::vector<LinkCounters>& all, double run_s) {
  std::string csv =
      "node,direction,namespace,device,goodput_bps,tbf_rate_bps,burst_bytes,limit_bytes,head_start_s,counted,"
      "sent_bytes,sent_packets,dropped,overlimits,run_s,mean_bps,busy_share\n";
  for (const LinkCounters& c : all) {
    char row[512];
    std::snprintf(row, sizeof(row),
                  "%u,%s,%s,%s,%.17g,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f,%d,%" PRIu64 ",%" PRIu64 ",%" PRIu64
                  ",%" PRIu64 ",%.3f,%.6g,%.4f\n",
                  c.node, c.uplink ? "up" : "down", c.namespace_.c_str(), c.device.c_str(), c.params.goodput_bps,
                  c.params.rate_bps, c.params.burst_bytes, c.params.limit_bytes, HeadStartSeconds(c.params),
                  c.read ? 1 : 0, c.counters.sent_bytes,
                  c.counters.sent_packets, c.counters.dropped, c.counters.overlimits, run_s, MeanBps(c, run_s),
                  BusyShare(c, run_s));
    csv += row;
  }
  return csv;
}

}  // namespace

Status VariantLinks::Prepare(ExperimentConfig* config, bool may_fall_back) {
  variant_ = config->name;
  if (config->link.shaping != LinkShaping::kKernel) return Status::Ok();
  const RoundCost cost = RoundCostOf(*config);
  if (!(cost.uplink_bps > 0.0)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "link.shaping = kernel needs a rate to shape to: set link.uplink_bps or link.preset");
  }
  const uint64_t socket_queue = SocketQueueBytes();
  KernelLinkSpec spec;
  spec.nodes = config->nodes;
  spec.uplink = TbfFor(cost.uplink_bps, static_cast<uint64_t>(std::ceil(cost.up_bytes)), socket_queue);
  spec.downlink = TbfFor(cost.downlink_bps, static_cast<uint64_t>(std::ceil(cost.down_bytes)), socket_queue);
  const Status made = KernelLinks::Create(spec, &links_);
  if (!made.ok()) {
    if (!may_fall_back) {
      return Status::Error(StatusCode::kUnavailable,
                           "link.shaping = kernel: %s; a resumed run keeps its shaping: resume it where namespaces "
                           "can be made (as root, with iproute2)",
                           made.message());
    }
    EDGEFL_LOG_WARN("%s: link.shaping = kernel cannot be set up here: %s; this run falls back to link.shaping = "
                    "token-bucket (each node paces its own traffic)",
                    variant_.c_str(), made.message());
    config->link.shaping = LinkShaping::kTokenBucket;
    return Status::Ok();
  }
  const KernelLinks& k = *links_;
  EDGEFL_LOG_INFO("%s: kernel links: the coordinator at %s in namespace %s, nodes in %s .. %s", variant_.c_str(),
                  CoordinatorAddress().c_str(), k.CoordinatorNamespace().c_str(), k.Namespace(0).c_str(),
                  k.Namespace(config->nodes - 1).c_str());
  EDGEFL_LOG_INFO("%s: uplink %s: %s on eth0 in each node's namespace", variant_.c_str(),
                  Rate(spec.uplink.goodput_bps).c_str(), Qdisc(spec.uplink).c_str());
  EDGEFL_LOG_INFO("%s: downlink %s: %s on each node's veth on the bridge", variant_.c_str(),
                  Rate(spec.downlink.goodput_bps).c_str(), Qdisc(spec.downlink).c_str());
  EDGEFL_LOG_INFO("%s: latency %g ms each way and each message's head start: added by the nodes (tbf cannot delay; "
                  "net/tbf_burst.h)",
                  variant_.c_str(), config->link.latency_ms);
  // A slow link can make a round longer than the round's own limits.
  if (cost.node_seconds * 1000.0 > config->round.deadline_ms) {
    EDGEFL_LOG_WARN("%s: a round is forecast to take %.3g s on this link, longer than round.deadline_ms = %d: "
                    "updates will miss their round (raise it: --set round.deadline_ms=...)",
                    variant_.c_str(), cost.node_seconds, static_cast<int>(config->round.deadline_ms));
  }
  const double update_ms = 8000.0 * cost.up_bytes / cost.uplink_bps;
  if (update_ms > config->round.dead_after_ms) {
    EDGEFL_LOG_WARN("%s: an update takes %.3g s to send, longer than round.dead_after_ms = %d: the coordinator "
                    "hears nothing else from a node meanwhile (raise it: --set round.dead_after_ms=...)",
                    variant_.c_str(), update_ms / 1000.0, static_cast<int>(config->round.dead_after_ms));
  }
  return Status::Ok();
}

std::string VariantLinks::CoordinatorBind() const {
  return links_ ? "tcp://" + CoordinatorAddress() + ":*" : "tcp://127.0.0.1:*";
}

void VariantLinks::Finish(const std::string& run_dir, double run_s) {
  if (!links_) return;
  const std::vector<LinkCounters> all = links_->ReadCounters();
  LinkCounters total[2];  // up, down
  for (const LinkCounters& c : all) {
    if (!c.read) EDGEFL_LOG_WARN("%s: tc reported no counters for %s %s", variant_.c_str(), c.namespace_.c_str(),
                                 c.device.c_str());
    if (links_->spec().nodes <= kNodesPrinted) EDGEFL_LOG_INFO("%s: %s", variant_.c_str(), CountersLine(c, run_s).c_str());
    LinkCounters& t = total[c.uplink ? 0 : 1];
    t.params = c.params;
    t.counters.sent_bytes += c.counters.sent_bytes;
    t.counters.sent_packets += c.counters.sent_packets;
    t.counters.dropped += c.counters.dropped;
    t.counters.overlimits += c.counters.overlimits;
  }
  if (links_->spec().nodes > kNodesPrinted) {
    for (int up = 0; up < 2; ++up) {
      const LinkCounters& t = total[up];
      EDGEFL_LOG_INFO("%s: all %u %slinks: sent %" PRIu64 " B, %" PRIu64 " dropped, %" PRIu64
                      " overlimits (each veth in %s)",
                      variant_.c_str(), links_->spec().nodes, up == 0 ? "up" : "down", t.counters.sent_bytes,
                      t.counters.dropped, t.counters.overlimits, kLinksFile);
    }
  }
  const uint64_t dropped = total[0].counters.dropped + total[1].counters.dropped;
  if (dropped > 0) {
    EDGEFL_LOG_WARN("%s: the qdiscs dropped %" PRIu64 " packets: TCP resent them, and the rounds they fell in took "
                    "longer than the link alone explains",
                    variant_.c_str(), dropped);
  }
  const Status written = WriteFileAtomically(run_dir + "/" + kLinksFile, LinksCsv(all, run_s));
  if (!written.ok()) EDGEFL_LOG_WARN("%s: %s", variant_.c_str(), written.message());
  const Status removed = links_->Teardown();
  if (!removed.ok()) {
    EDGEFL_LOG_WARN("%s: could not remove every kernel link: %s (the next kernel-shaped run removes leftovers)",
                    variant_.c_str(), removed.message());
  }
  links_.reset();
}

}  // namespace edgefl

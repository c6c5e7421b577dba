// KernelLinks: every node's link of one `edgefl run` variant, made by the
// kernel (link.shaping = "kernel"). The coordinator gets a network namespace
// holding a bridge with its address; each node gets a namespace of its own,
// joined to the bridge by a veth pair with a tbf qdisc on each end:
//
//   namespace efl<pid>c: coordinator, bridge efl<pid>b 10.78.0.1/16
//     |-- efl<pid>h0 [tbf: downlink] ==veth== eth0 [tbf: uplink]  namespace efl<pid>n0: node 0, 10.78.0.2
//     |-- efl<pid>h1 ...                                          namespace efl<pid>n1: node 1, 10.78.0.3
//
// A qdisc shapes what leaves an interface, so the bridge end's qdisc paces
// what the coordinator sends a node (its downlink) and the node's end what
// the node sends (its uplink). Nothing is made in the machine's own network
// namespace: no route or address of the machine changes, no subnet can
// collide, and nothing outside these namespaces can reach the coordinator
// (so it may listen without CURVE keys, as on loopback). Names and
// addresses: sim/kernel_link_names.h; qdisc parameters: sim/tbf.h.
// Everything is made with the `ip` and `tc` commands of iproute2
// (sim/exec_tool.h) and needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN).
//
// The object owns what it made: Teardown() (or the destructor) removes it.
// Create() first removes leftovers of runs whose `edgefl run` is dead (and
// of this process: one KernelLinks at a time per process). Not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/kernel_link_names.h"
#include "sim/tbf.h"

namespace edgefl {

struct KernelLinkSpec {
  uint32_t nodes = 0;  // at most kMaxKernelLinkNodes
  TbfParams uplink;    // on each node namespace's eth0
  TbfParams downlink;  // on each node's veth end on the bridge
};

// One direction of one node's link after the run: its qdisc's counters.
struct LinkCounters {
  uint32_t node = 0;
  bool uplink = false;
  std::string namespace_;  // where the qdisc's veth end is
  std::string device;      // that end
  TbfParams params;
  QdiscCounters counters;
  bool read = false;       // false when tc could not report them
};

class KernelLinks {
 public:
  // Why kernel links cannot be made here before trying (not root, no ip or
  // tc), or Ok.
  static Status Probe();

  // Makes the namespaces, bridge, veths and qdiscs. On failure, removes
  // whatever it had made and says which command failed and why.
  static Status Create(const KernelLinkSpec& spec, std::unique_ptr<KernelLinks>* out);

  KernelLinks(const KernelLinks&) = delete;
  KernelLinks& operator=(const KernelLinks&) = delete;
  ~KernelLinks();  // Teardown(), if not done

  const std::string& CoordinatorNamespace() const { return coordinator_namespace_; }
  std::string Namespace(uint32_t node) const { return NamespaceName(owner_, node); }
  // Open descriptors of the namespaces (/run/netns/NAME), for setns(2) in
  // the child that becomes the coordinator or a node. Owned by this object.
  int CoordinatorNamespaceFd() const { return coordinator_fd_; }
  int NamespaceFd(uint32_t node) const { return node_fds_[node]; }
  const KernelLinkSpec& spec() const { return spec_; }

  // The counters of every qdisc (`tc -s qdisc show`): node 0 up, node 0
  // down, node 1 up, ...
  std::vector<LinkCounters> ReadCounters() const;

  // Removes the namespaces; the bridge and veths go with them. Tries every
  // one; returns the first failure. Idempotent.
  Status Teardown();

 private:
  KernelLinks(pid_t owner, const KernelLinkSpec& spec);
  Status MakeCoordinator();
  Status MakeNode(uint32_t node);
  Status AddNamespace(const std::string& name, int* fd);

  pid_t owner_;
  KernelLinkSpec spec_;
  std::string coordinator_namespace_;
  std::vector<std::string> made_;  // namespaces, to delete
  int coordinator_fd_ = -1;
  std::vector<int> node_fds_;
};

// Removes the namespaces named for an `edgefl run` that is no longer running
// (killed with SIGKILL, or a crash), and those of `self`. Returns how many;
// failures are skipped (another run may be removing the same leftover). A
// process in another pid namespace looks dead from here: runs in containers
// that share /run/netns but not their pids would remove each other's.
int RemoveStaleKernelLinks(pid_t self);

}  // namespace edgefl

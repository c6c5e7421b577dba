// Names and addresses of what one `edgefl run` makes for kernel-shaped links
// (sim/kernel_links.h). Pure functions; thread-safe.
//
// Every name carries the pid of the `edgefl run` that made it, so that
// several runs (and parallel test processes) coexist, and so that a later
// run can tell leftovers of a dead one (SIGKILL leaves them) from a live
// run's. Interface names must fit IFNAMSIZ - 1 = 15 characters: "efl", at
// most 7 digits of pid (Linux's pid_max is at most 4194304), a letter and at
// most 4 digits of node index:
//   efl<pid>c      the coordinator's network namespace, holding the bridge
//   efl<pid>b      the bridge, in it (the coordinator's address)
//   efl<pid>h<i>   node i's veth end on the bridge (downlink qdisc)
//   efl<pid>n<i>   node i's network namespace (its veth end there is eth0,
//                  with the uplink qdisc)
//
// Addresses: the whole network lives in these namespaces, with no route to
// the machine's own, so every run can use the same subnet without
// colliding with the machine's networks or another run's:
// 10.78.0.0/16, the coordinator at 10.78.0.1 and node i at 10.78.0.0 + 2 + i.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace edgefl {

// run.nodes' own limit, and what 4 digits of node index name.
inline constexpr uint32_t kMaxKernelLinkNodes = 4096;
inline constexpr int kKernelLinkPrefix = 16;  // the subnet's prefix length

std::string CoordinatorNamespaceName(pid_t owner);
std::string BridgeName(pid_t owner);
std::string HostVethName(pid_t owner, uint32_t node);
std::string NamespaceName(pid_t owner, uint32_t node);

// The owning pid of a name of the forms above (any suffix after '@', as
// `ip -o link` prints veths, is ignored); false for any other name.
bool ParseOwner(const std::string& name, pid_t* owner);

// Dotted addresses in 10.78.0.0/16, without the prefix length.
std::string CoordinatorAddress();
std::string NodeAddress(uint32_t node);

}  // namespace edgefl

#include "sim/kernel_links.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "sim/exec_tool.h"

namespace edgefl {
namespace {

bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

// The first word of each line (`ip netns list`: "NAME (id: 3)").
std::vector<std::string> FirstWords(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string word;
    if (fields >> word) words.push_back(word);
  }
  return words;
}

std::vector<std::string> Tbf(std::vector<std::string> argv, const TbfParams& params) {
  for (const std::string& a : TbfArguments(params)) argv.push_back(a);
  return argv;
}

}  // namespace

int RemoveStaleKernelLinks(pid_t self) {
  int removed = 0;
  std::string text;
  if (!RunTool({"ip", "netns", "list"}, &text).ok()) return 0;
  for (const std::string& name : FirstWords(text)) {
    pid_t owner = 0;
    if (!ParseOwner(name, &owner) || (owner != self && Alive(owner))) continue;
    if (RunTool({"ip", "netns", "del", name}).ok()) ++removed;
  }
  return removed;
}

Status KernelLinks::Probe() {
  if (geteuid() != 0) {
    return Status::Error(StatusCode::kUnavailable,
                         "not running as root (network namespaces, veths and qdiscs need CAP_NET_ADMIN and "
                         "CAP_SYS_ADMIN)");
  }
  for (const char* tool : {"ip", "tc"}) {
    if (FindTool(tool).empty()) {
      return Status::Error(StatusCode::kUnavailable, "`%s` not found (install iproute2: apt-get install iproute2)",
                           tool);
    }
  }
  return Status::Ok();
}

KernelLinks::KernelLinks(pid_t owner, const KernelLinkSpec& spec)
    : owner_(owner),
      spec_(spec),
      coordinator_namespace_(CoordinatorNamespaceName(owner)),
      node_fds_(spec.nodes, -1) {}

KernelLinks::~KernelLinks() { (void)Teardown(); }

Status KernelLinks::Create(const KernelLinkSpec& spec, std::unique_ptr<KernelLinks>* out) {
  if (spec.nodes == 0 || spec.nodes > kMaxKernelLinkNodes) {
    return Status::Error(StatusCode::kInvalidArgument, "kernel links hold 1 to %u nodes, not %u",
                         kMaxKernelLinkNodes, spec.nodes);
  }
  EDGEFL_RETURN_IF_ERROR(Probe());
  std::unique_ptr<KernelLinks> links(new KernelLinks(getpid(), spec));
  RemoveStaleKernelLinks(links->owner_);
  Status made = links->MakeCoordinator();
  for (uint32_t node = 0; made.ok() && node < spec.nodes; ++node) made = links->MakeNode(node);
  if (!made.ok()) {
    (void)links->Teardown();
    return made;
  }
  *out = std::move(links);
  return Status::Ok();
}

Status KernelLinks::AddNamespace(const std::string& name, int* fd) {
  EDGEFL_RETURN_IF_ERROR(RunTool({"ip", "netns", "add", name}));
  made_.push_back(name);
  const std::string path = "/run/netns/" + name;
  *fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return Status::Error(StatusCode::kUnavailable, "cannot open %s: %s", path.c_str(), std::strerror(errno));
  return RunTool({"ip", "-n", name, "link", "set", "dev", "lo", "up"});
}

Status KernelLinks::MakeCoordinator() {
  const std::string& ns = coordinator_namespace_;
  const std::string bridge = BridgeName(owner_);
  EDGEFL_RETURN_IF_ERROR(AddNamespace(ns, &coordinator_fd_));
  EDGEFL_RETURN_IF_ERROR(RunTool({"ip", "-n", ns, "link", "add", "name", bridge, "type", "bridge"}));
  // No IPv6 link-local addresses, here or on the veths: their neighbour and
  // multicast chatter would pass the qdiscs and blur the byte counts.
  EDGEFL_RETURN_IF_ERROR(RunTool({"ip", "-n", ns, "link", "set", "dev", bridge, "addrgenmode", "none"}));
  EDGEFL_RETURN_IF_ERROR(RunTool({"ip", "-n", ns, "addr", "add",
                                  CoordinatorAddress() + "/" + std::to_string(kKernelLinkPrefix), "dev", bridge}));
  return RunTool({"ip", "-n", ns, "link", "set", "dev", bridge, "up"});
}

Status KernelLinks::MakeNode(uint32_t node) {
  const std::string& hub = coordinator_namespace_;
  const std::string ns = NamespaceName(owner_, node);
  const std::string end = HostVethName(owner_, node);
  EDGEFL_RETURN_IF_ERROR(AddNamespace(ns, &node_fds_[node]));
  // Made in the coordinator's namespace with its peer made in the node's:
  // neither end ever exists in the machine's own.
  EDGEFL_RETURN_IF_ERROR(
      RunTool({"ip", "-n", hub, "link", "add", "name", end, "type", "veth", "peer", "name", "eth0", "netns", ns}));
  EDGEFL_RETURN_IF_ERROR(RunTool({"ip", "-n", hub, "link", "set", "dev", end, "addrgenmode", "none"}));
  EDGEFL_RETURN_IF_ERROR(RunTool({"ip", "-n", hub, "link", "set", "dev", end, "master", BridgeName(owner_), "up"}));
  EDGEFL_RETURN_IF_ERROR(RunTool({"ip", "-n", ns, "link", "set", "dev", "eth0", "addrgenmode", "none"}));
  EDGEFL_RETURN_IF_ERROR(RunTool({"ip", "-n", ns, "addr", "add",
                                  NodeAddress(node) + "/" + std::to_string(kKernelLinkPrefix), "dev", "eth0"}));
  EDGEFL_RETURN_IF_ERROR(RunTool({"ip", "-n", ns, "link", "set", "dev", "eth0", "up"}));
  EDGEFL_RETURN_IF_ERROR(RunTool(Tbf({"tc", "-n", hub, "qdisc", "replace", "dev", end, "root"}, spec_.downlink)));
  return RunTool(Tbf({"tc", "-n", ns, "qdisc", "replace", "dev", "eth0", "root"}, spec_.uplink));
}

std::vector<LinkCounters> KernelLinks::ReadCounters() const {
  std::vector<LinkCounters> all;
  for (uint32_t node = 0; node < spec_.nodes; ++node) {
    for (const bool uplink : {true, false}) {
      LinkCounters c;
      c.node = node;
      c.uplink = uplink;
      c.namespace_ = uplink ? NamespaceName(owner_, node) : coordinator_namespace_;
      c.device = uplink ? "eth0" : HostVethName(owner_, node);
      c.params = uplink ? spec_.uplink : spec_.downlink;
      std::string text;
      c.read = RunTool({"tc", "-n", c.namespace_, "-s", "qdisc", "show", "dev", c.device}, &text).ok() &&
               ParseQdiscCounters(text, &c.counters);
      all.push_back(c);
    }
  }
  return all;
}

Status KernelLinks::Teardown() {
  if (coordinator_fd_ >= 0) close(coordinator_fd_);
  coordinator_fd_ = -1;
  for (int& fd : node_fds_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  // Nodes first: each takes its veth pair with it, then the coordinator's
  // takes the bridge.
  Status first;
  for (auto name = made_.rbegin(); name != made_.rend(); ++name) {
    const Status s = RunTool({"ip", "netns", "del", *name});
    if (!s.ok() && first.ok()) first = s;
  }
  made_.clear();
  return first;
}

}  // namespace edgefl

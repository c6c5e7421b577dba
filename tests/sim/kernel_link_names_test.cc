// Names and addresses of kernel-shaped links (sim/kernel_link_names.h).
#include "sim/kernel_link_names.h"

#include <doctest/doctest.h>

namespace edgefl {
namespace {

TEST_CASE("every name fits an interface name (15 characters) at the largest pid and node") {
  const pid_t largest_pid = 4194304;  // Linux's pid_max limit
  const uint32_t last_node = kMaxKernelLinkNodes - 1;
  CHECK(CoordinatorNamespaceName(largest_pid).size() <= 15);
  CHECK(BridgeName(largest_pid).size() <= 15);
  CHECK(HostVethName(largest_pid, last_node).size() <= 15);
  CHECK(NamespaceName(largest_pid, last_node).size() <= 15);
  CHECK(CoordinatorNamespaceName(42) == "efl42c");
  CHECK(BridgeName(42) == "efl42b");
  CHECK(HostVethName(42, 3) == "efl42h3");
  CHECK(NamespaceName(42, 3) == "efl42n3");
}

TEST_CASE("the owner of a name is read back, and names not ours are left alone") {
  pid_t owner = 0;
  CHECK(ParseOwner("efl4194304c", &owner));
  CHECK(owner == 4194304);
  CHECK(ParseOwner("efl42b", &owner));
  CHECK(ParseOwner("efl42n4095", &owner));
  CHECK(owner == 42);
  CHECK(ParseOwner("efl42h0@if2", &owner));  // as `ip -o link` prints a veth
  CHECK(owner == 42);
  for (const char* other : {"eth0", "eflbr0", "eflh1", "efl42", "efl42x1", "efl42n", "efl42b1", "efl42c1",
                            "efl42n1a", "efl42n12345", "efl12345678n1", "efl0c", "xefl42c"}) {
    CAPTURE(other);
    CHECK_FALSE(ParseOwner(other, &owner));
  }
}

TEST_CASE("addresses: the coordinator first, then every node, all inside 10.78.0.0/16") {
  CHECK(CoordinatorAddress() == "10.78.0.1");
  CHECK(NodeAddress(0) == "10.78.0.2");
  CHECK(NodeAddress(253) == "10.78.0.255");  // a /16: .255 of a /24 inside it is a host
  CHECK(NodeAddress(kMaxKernelLinkNodes - 1) == "10.78.16.1");
}

}  // namespace
}  // namespace edgefl

// RunTool: runs a system tool (ip, tc) from an argument vector, with no shell
// in between, and collects what it printed. Used to make and tear down
// kernel-shaped links (sim/kernel_links.h). Blocks until the tool exits;
// thread-safe as fork/exec is (no shared state).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace edgefl {

// Runs argv[0] (a path, or a name looked up like FindTool) with argv.
// Ok when it exits with 0; `out` (may be null) then holds its stdout. Any
// other end is an error naming the command line, its exit code or signal,
// and the first line of its stderr, e.g.
//   `ip netns add efl42n0` exited with 1: mount --make-shared /run/netns failed: Operation not permitted
Status RunTool(const std::vector<std::string>& argv, std::string* out = nullptr);

// The path of an executable `name` in $PATH, or in /usr/sbin, /sbin, /usr/bin
// and /bin (where iproute2 installs ip and tc, often missing from a user's
// PATH); empty when there is none.
std::string FindTool(const std::string& name);

}  // namespace edgefl

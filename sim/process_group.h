// ProcessGroup: the child processes of one `edgefl run` (a coordinator and
// its nodes). Children die with the launcher (PR_SET_PDEATHSIG), so even a
// killed launcher leaves no orphans; Stop() asks them to end (SIGTERM) and
// escalates to SIGKILL after a grace period. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace edgefl {

struct ChildExit {
  size_t index = 0;     // order of Spawn
  int exit_code = 0;    // when !signaled
  int signal = 0;       // when signaled
  bool signaled = false;
  long max_rss_kib = 0; // peak resident memory of the child (ru_maxrss)
};

class ProcessGroup {
 public:
  ProcessGroup() = default;
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;
  ~ProcessGroup();  // Stop()s whatever still runs

  // Starts argv[0] with argv. If `pass_fd` >= 0 it becomes fd 3 in the child.
  // If `netns_fd` >= 0 (a network namespace, /run/netns/NAME), the child
  // enters it with setns(2) before exec (sim/kernel_links.h). If `output_fd`
  // >= 0 it becomes the child's stdout and stderr (a log file). Returns the
  // child's index.
  Status Spawn(const std::vector<std::string>& argv, int pass_fd, size_t* index, int netns_fd = -1,
               int output_fd = -1);

  // Waits for the next child to exit, up to timeout_ms (-1: no limit).
  // Returns false on timeout or when a signal interrupted the wait.
  bool WaitAny(int timeout_ms, ChildExit* exit);

  bool Running(size_t index) const { return pids_[index] > 0; }
  pid_t Pid(size_t index) const { return pids_[index]; }
  // Sends `signal` to one running child (fault injection, Ctrl-C).
  void Signal(size_t index, int signal);
  size_t RunningCount() const;

  // SIGTERM to every running child, then SIGKILL after `grace_ms`; reaps all.
  void Stop(int grace_ms);

 private:
  std::vector<pid_t> pids_;  // 0 once reaped
};

}  // namespace edgefl

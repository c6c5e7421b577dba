#include "sim/process_group.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/clock.h"

namespace edgefl {

ProcessGroup::~ProcessGroup() { Stop(2000); }

Status ProcessGroup::Spawn(const std::vector<std::string>& argv, int pass_fd, size_t* index, int netns_fd,
                           int output_fd) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return Status::Error(StatusCode::kInternal, "fork failed: %s", std::strerror(errno));
  if (pid == 0) {
    // Child: die with the launcher, even if it is SIGKILLed.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    // setns(2) here rather than `ip netns exec`: one system call on a
    // descriptor opened once, with an error of our own, and no mount
    // namespace with /sys remounted (which `ip netns exec` adds and a node
    // does not need).
    if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "edgefl: cannot enter the network namespace for %s: %s\n", args[0], std::strerror(errno));
      _exit(127);
    }
    if (output_fd >= 0) {  // first: fd 3 may be the log's own number
      dup2(output_fd, STDOUT_FILENO);
      dup2(output_fd, STDERR_FILENO);
    }
    if (pass_fd >= 0) {
      if (pass_fd != 3) {
        dup2(pass_fd, 3);
        close(pass_fd);
      } else {
        fcntl(3, F_SETFD, 0);
      }
    }
    execv(args[0], args.data());
    std::fprintf(stderr, "edgefl: cannot start %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  pids_.push_back(pid);
  *index = pids_.size() - 1;
  return Status::Ok();
}

void ProcessGroup::Signal(size_t index, int signal) {
  if (index < pids_.size() && pids_[index] > 0) kill(pids_[index], signal);
}

size_t ProcessGroup::RunningCount() const {
  size_t n = 0;
  for (pid_t pid : pids_) n += pid > 0;
  return n;
}

bool ProcessGroup::WaitAny(int timeout_ms, ChildExit* exit) {
  const int64_t give_up = timeout_ms < 0 ? INT64_MAX : NowMs() + timeout_ms;
  for (;;) {
    int status = 0;
    rusage usage = {};
    // Block outright when there is no limit (a signal still interrupts it).
    const pid_t pid = wait4(-1, &status, timeout_ms < 0 ? 0 : WNOHANG, &usage);
    if (pid > 0) {
      for (size_t i = 0; i < pids_.size(); ++i) {
        if (pids_[i] != pid) continue;
        pids_[i] = 0;
        exit->index = i;
        exit->signaled = WIFSIGNALED(status);
        exit->signal = exit->signaled ? WTERMSIG(status) : 0;
        exit->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        exit->max_rss_kib = usage.ru_maxrss;
        return true;
      }
      continue;  // not ours
    }
    if (pid < 0) return false;  // EINTR (a signal) or no children
    if (NowMs() >= give_up) return false;
    usleep(5000);  // bounded wait on child exit only
  }
}

void ProcessGroup::Stop(int grace_ms) {
  for (pid_t pid : pids_) {
    if (pid > 0) kill(pid, SIGTERM);
  }
  const int64_t kill_at = NowMs() + grace_ms;
  ChildExit ignored;
  while (RunningCount() > 0) {
    if (NowMs() >= kill_at) {
      for (pid_t pid : pids_) {
        if (pid > 0) kill(pid, SIGKILL);
      }
    }
    if (!WaitAny(50, &ignored) && RunningCount() > 0 && NowMs() >= kill_at + 2000) break;
  }
}

}  // namespace edgefl

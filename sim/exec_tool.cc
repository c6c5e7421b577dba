#include "sim/exec_tool.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace edgefl {
namespace {

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& a : argv) line += (line.empty() ? "" : " ") + a;
  return line;
}

// The first non-empty line of `text`, for an error message that stays one line.
std::string FirstLine(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    if (end > start) return text.substr(start, end - start);
    start = end + 1;
  }
  return "(it printed nothing on stderr)";
}

// Reads both pipes to their ends. A signal (Ctrl-C during a teardown)
// interrupts poll and read without ending them: the tool is left to finish.
void Drain(int out_fd, int err_fd, std::string* out, std::string* err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {out, err};
  int open = 2;
  char buffer[4096];
  while (open > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open;
        continue;
      }
      sinks[i]->append(buffer, static_cast<size_t>(n));
    }
  }
}

}  // namespace

std::string FindTool(const std::string& name) {
  if (name.find('/') != std::string::npos) return IsExecutable(name) ? name : std::string();
  std::string dirs = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  dirs += ":/usr/sbin:/sbin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    if (end > start) {
      const std::string path = dirs.substr(start, end - start) + "/" + name;
      if (IsExecutable(path)) return path;
    }
    start = end + 1;
  }
  return {};
}

Status RunTool(const std::vector<std::string>& argv, std::string* out) {
  const std::string line = CommandLine(argv);
  if (argv.empty()) return Status::Error(StatusCode::kInternal, "RunTool: no command");
  const std::string path = FindTool(argv[0]);
  if (path.empty()) {
    return Status::Error(StatusCode::kUnavailable, "`%s` not found (looked in $PATH, /usr/sbin and /sbin)",
                         argv[0].c_str());
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Status::Error(StatusCode::kInternal, "pipe: %s", std::strerror(errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Status::Error(StatusCode::kInternal, "pipe: %s", std::strerror(errno));
  }
  const pid_t pid = fork();
  if (pid == 0) {
    // Child: stdin from /dev/null, stdout and stderr to the pipes; every
    // other descriptor of ours is close-on-exec.
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execv(path.c_str(), args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", path.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return Status::Error(StatusCode::kInternal, "fork for `%s`: %s", line.c_str(), std::strerror(errno));
  }
  std::string stdout_text, stderr_text;
  Drain(out_pipe[0], err_pipe[0], &stdout_text, &stderr_text);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::Error(StatusCode::kInternal, "waitpid: %s", std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    if (out != nullptr) *out = std::move(stdout_text);
    return Status::Ok();
  }
  const std::string how = WIFEXITED(status) ? "exited with " + std::to_string(WEXITSTATUS(status))
                                            : "was killed by signal " + std::to_string(WTERMSIG(status));
  return Status::Error(StatusCode::kUnavailable, "`%s` %s: %s", line.c_str(), how.c_str(),
                       FirstLine(stderr_text).c_str());
}

}  // namespace edgefl

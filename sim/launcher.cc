#include "sim/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "runfiles/atomic_file.h"
#include "runfiles/run_outcome.h"
#include "core/clock.h"
#include "core/log.h"
#include "sim/process_group.h"
#include "sim/variant_links.h"

namespace edgefl {
namespace {

// Reads the endpoint line the coordinator writes on its ready fd.
Status ReadEndpoint(int fd, int timeout_ms, std::string* endpoint) {
  const int64_t give_up = NowMs() + timeout_ms;
  char buffer[256];
  size_t used = 0;
  while (NowMs() < give_up) {
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(give_up - NowMs()));
    if (ready < 0 && errno == EINTR) return Status::Error(StatusCode::kUnavailable, "interrupted");
    if (ready <= 0) continue;
    const ssize_t n = read(fd, buffer + used, sizeof(buffer) - 1 - used);
    if (n <= 0) break;  // the coordinator exited before it was ready
    used += static_cast<size_t>(n);
    const char* newline = static_cast<const char*>(std::memchr(buffer, '\n', used));
    if (newline != nullptr) {
      *endpoint = std::string(buffer, static_cast<size_t>(newline - buffer));
      return Status::Ok();
    }
  }
  return Status::Error(StatusCode::kUnavailable, "the coordinator did not start (see its message above)");
}

// hostile.toml: which nodes ran with --attack, since config.toml (the
// coordinator's view) cannot tell.
Status WriteHostileToml(const std::string& dir, uint32_t first, uint32_t nodes, const std::string& attack) {
  const std::string path = dir + "/hostile.toml";
  std::ofstream file(path);
  file << "# edgefl run --hostile " << nodes - first << " --attack " << attack
       << ": a testing aid. These nodes ran edgefl-node --attack (node/attack.h).\n"
       << "attack = \"" << attack << "\"\nnodes = [";
  for (uint32_t i = first; i < nodes; ++i) file << (i == first ? "" : ", ") << i;
  file << "]\n";
  if (!file) return Status::Error(StatusCode::kInvalidArgument, "cannot write %s", path.c_str());
  return Status::Ok();
}

std::string Describe(const ChildExit& exit) {
  return exit.signaled ? "killed by signal " + std::to_string(exit.signal)
                       : "exit code " + std::to_string(exit.exit_code);
}

}  // namespace

Status SpawnCoordinator(ProcessGroup& group, const std::string& bin_dir, const std::vector<std::string>& args,
                        int timeout_ms, size_t* index, std::string* endpoint, const std::string& bind,
                        int netns_fd) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return Status::Error(StatusCode::kInternal, "pipe: %s", std::strerror(errno));
  std::vector<std::string> argv = {bin_dir + "/edgefl-coordinator"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--bind", bind, "--ready-fd", "3"});
  Status s = group.Spawn(argv, ready[1], index, netns_fd);
  close(ready[1]);
  if (s.ok()) s = ReadEndpoint(ready[0], timeout_ms, endpoint);
  close(ready[0]);
  return s;
}

Status WriteRunConfig(const std::string& run_dir, const ExperimentConfig& config) {
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  if (ec) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot create %s: %s", run_dir.c_str(), ec.message().c_str());
  }
  return WriteFileAtomically(run_dir + "/config.toml", ToToml(config));
}

std::string ExecutableDir() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

Status RunVariant(const ExperimentConfig& config, const LaunchOptions& options, const std::atomic<bool>& stop,
                  VariantResult* result) {
  result->dir = options.run_dir;
  const std::string config_path = options.run_dir + "/config.toml";  // WriteRunConfig's, or a resumed run's
  const uint32_t first_hostile = config.nodes - std::min(options.hostile_nodes, config.nodes);
  if (first_hostile < config.nodes) {
    EDGEFL_RETURN_IF_ERROR(WriteHostileToml(options.run_dir, first_hostile, config.nodes, options.attack));
  }

  // Declared before the processes, so that they have ended (the group's
  // destructor stops them) before their links are removed on an early return.
  VariantLinks links;
  ExperimentConfig shaped = config;
  EDGEFL_RETURN_IF_ERROR(links.Prepare(&shaped, /*may_fall_back=*/!options.resume));
  if (shaped.link.shaping != config.link.shaping) {
    // The fallback: the coordinator tells the nodes (in their task) how
    // their link is made, from this file.
    EDGEFL_RETURN_IF_ERROR(WriteRunConfig(options.run_dir, shaped));
  }
  if (stop.load()) return Status::Error(StatusCode::kUnavailable, "interrupted");

  ProcessGroup group;
  size_t coordinator = 0;
  std::vector<std::string> coordinator_args = {"--config", config_path, "--out", options.run_dir};
  if (options.resume) coordinator_args = {"--resume", options.run_dir};
  if (options.keep_updates && !options.resume) coordinator_args.push_back("--keep-updates");
  if (!options.data_dir.empty()) coordinator_args.insert(coordinator_args.end(), {"--data-dir", options.data_dir});
  if (links.kernel()) coordinator_args.push_back("--insecure");  // its namespace is reached from the nodes' only
  std::string endpoint;
  const int64_t start_ms = NowMs();
  EDGEFL_RETURN_IF_ERROR(SpawnCoordinator(group, options.bin_dir, coordinator_args, options.startup_timeout_ms,
                                          &coordinator, &endpoint, links.CoordinatorBind(),
                                          links.CoordinatorNamespaceFd()));

  for (uint32_t i = 0; i < config.nodes; ++i) {
    size_t index = 0;
    std::vector<std::string> argv = {options.bin_dir + "/edgefl-node", "--connect", endpoint, "--id", std::to_string(i)};
    argv.push_back(options.verbose_nodes ? "--verbose" : "--quiet");
    if (i >= first_hostile) argv.insert(argv.end(), {"--attack", options.attack});
    if (!options.data_dir.empty()) argv.insert(argv.end(), {"--data-dir", options.data_dir});
    // Each node keeps its state (error memory, moments, control variate)
    // in the run folder, so that --resume restores it.
    argv.insert(argv.end(), {"--state-dir", options.run_dir + "/node-state"});
    // A profile's board gets its memory budget, and refuses a task past it.
    if (const DeviceProfile* profile = config.ProfileOf(i)) {
      const uint64_t budget = profile->memory_budget_bytes > 0 ? profile->memory_budget_bytes
                                                               : BoardMemoryBudgetBytes(profile->board);
      if (budget > 0) argv.insert(argv.end(), {"--memory-budget", std::to_string(budget)});
    }
    EDGEFL_RETURN_IF_ERROR(group.Spawn(argv, -1, &index, links.NamespaceFd(i)));
  }

  // Wait for the coordinator; note nodes that fail on the way.
  ChildExit exit;
  bool coordinator_done = false;
  int64_t end_ms = 0;  // when the coordinator ended
  while (!coordinator_done) {
    if (!group.WaitAny(-1, &exit)) {
      if (stop.load()) {
        // Ctrl-C at a terminal reached the coordinator too, a SIGTERM to
        // edgefl run alone did not: either way it checkpoints and says Bye
        // now, rather than running rounds until the grace below ends.
        group.Signal(coordinator, SIGTERM);
        break;
      }
      continue;
    }
    if (exit.index == coordinator) {
      coordinator_done = true;
      end_ms = NowMs();
      // 3 is a diverged run, which its summary reports.
      if (exit.signaled || (exit.exit_code != 0 && exit.exit_code != 130 && exit.exit_code != kDivergedExitCode)) {
        result->problems.push_back("coordinator: " + Describe(exit));
      }
    } else if (exit.signaled || exit.exit_code != 0) {
      result->problems.push_back("node " + std::to_string(exit.index - 1) + ": " + Describe(exit));
      EDGEFL_LOG_WARN("%s: node %zu ended (%s); the coordinator carries on if it can", config.name.c_str(),
                      exit.index - 1, Describe(exit).c_str());
    }
  }
  // Nodes leave on the coordinator's Bye; give them a moment, then insist.
  const int64_t give_up = NowMs() + 3000;
  while (group.RunningCount() > 0 && NowMs() < give_up) {
    if (!group.WaitAny(100, &exit)) continue;
    if (exit.index != coordinator && (exit.signaled || (exit.exit_code != 0 && exit.exit_code != 130))) {
      result->problems.push_back("node " + std::to_string(exit.index - 1) + ": " + Describe(exit));
    }
  }
  group.Stop(2000);
  links.Finish(options.run_dir, static_cast<double>((end_ms > 0 ? end_ms : NowMs()) - start_ms) / 1000.0);

  result->summary_read = ReadSummary(options.run_dir + "/summary.toml", &result->summary).ok();
  if (stop.load()) return Status::Error(StatusCode::kUnavailable, "interrupted");
  return Status::Ok();
}

}  // namespace edgefl

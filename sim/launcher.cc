#include "sim/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "runfiles/atomic_file.h"
#include "runfiles/run_outcome.h"
#include "core/clock.h"
#include "core/log.h"
#include "sim/launch_command.h"
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

// How long the coordinator has to end once mpirun or srun has (its nodes all gone).
constexpr int64_t kNodesGoneGraceMs = 5000;

// Relays started by mpirun or srun: relay g listens on its host's loopback
// at this port plus g, where that host's nodes connect.
constexpr uint32_t kRelayPort = 5571;

// The path of `program` in a folder of $PATH, or "" when none holds it.
std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string folders = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (size_t start = 0; start <= folders.size();) {
    const size_t end = std::min(folders.find(':', start), folders.size());
    const std::string candidate = folders.substr(start, end - start) + "/" + program;
    if (end > start && access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

std::string Describe(const ChildExit& exit) {
  return exit.signaled ? "killed by signal " + std::to_string(exit.signal)
                       : "exit code " + std::to_string(exit.exit_code);
}

}  // namespace

bool ParseNodeLauncher(const std::string& name, NodeLauncher* out) {
  if (name == "processes") {
    *out = NodeLauncher::kProcesses;
  } else if (name == "mpirun") {
    *out = NodeLauncher::kMpirun;
  } else if (name == "srun") {
    *out = NodeLauncher::kSrun;
  } else {
    return false;
  }
  return true;
}

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
  constexpr uint32_t kMaxNodeProcesses = 4096;
  const uint32_t node_processes = config.nodes / std::max(options.logical, 1u);
  if (!options.in_process && node_processes > kMaxNodeProcesses) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "run.nodes = %u would be %u node processes, more than %u: host several in each "
                         "(--logical K), or let relays compute them (--relays R --in-process)",
                         config.nodes, node_processes, kMaxNodeProcesses);
  }
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
  if (options.relays > 0) coordinator_args.insert(coordinator_args.end(), {"--relays", std::to_string(options.relays)});
  if (options.keep_updates && !options.resume) coordinator_args.push_back("--keep-updates");
  if (!options.data_dir.empty()) coordinator_args.insert(coordinator_args.end(), {"--data-dir", options.data_dir});
  // A kernel-shaped coordinator's namespace is reached from the nodes' only.
  if (links.kernel() || options.insecure) coordinator_args.push_back("--insecure");
  std::string endpoint;
  const int64_t start_ms = NowMs();
  const bool launched = options.launcher != NodeLauncher::kProcesses;  // by mpirun or srun
  if ((launched || !options.bind.empty()) && links.kernel()) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "link.shaping = \"kernel\" puts each node in a namespace of its own, which --launcher and "
                         "--bind do not: use token-bucket shaping with them");
  }
  const char* launcher_name = options.launcher == NodeLauncher::kSrun ? "srun" : "mpirun";
  const std::string launcher_path = launched ? FindOnPath(launcher_name) : "";
  if (launched && launcher_path.empty()) {
    return Status::Error(StatusCode::kInvalidArgument, "--launcher %s: no %s on PATH (%s)", launcher_name,
                         launcher_name,
                         options.launcher == NodeLauncher::kSrun ? "run edgefl run where Slurm's srun is installed"
                                                                 : "install Open MPI: apt-get install openmpi-bin");
  }
  if (options.in_process && options.relays == 0) {
    return Status::Error(StatusCode::kInvalidArgument, "--in-process: the relays compute their nodes; give --relays");
  }
  if (options.relays > 0 && (links.kernel() || options.resume || (launched && options.in_process))) {
    return Status::Error(StatusCode::kInvalidArgument, "--relays: %s",
                         options.resume ? "a run with relays is not resumed (its relays hold no checkpoint)"
                         : launched    ? "--in-process relays start here, not by --launcher mpirun or srun"
                                       : "link.shaping = \"kernel\" gives each node a namespace of its own; use "
                                         "token-bucket shaping with relays");
  }
  if (options.relays > 0 && launched && options.logical > 1) {
    return Status::Error(StatusCode::kInvalidArgument, "--relays with --launcher: one node a rank (no --logical)");
  }
  EDGEFL_RETURN_IF_ERROR(SpawnCoordinator(group, options.bin_dir, coordinator_args, options.startup_timeout_ms,
                                          &coordinator, &endpoint,
                                          options.bind.empty() ? links.CoordinatorBind() : options.bind,
                                          links.CoordinatorNamespaceFd()));
  // Relays: each a coordinator of its own, in its own folder, joined to the
  // root. Started here, each binds a free port; started by the launcher, one
  // a host, relay g (its rank) binds kRelayPort + g on its host's loopback,
  // which that host's nodes reach.
  std::vector<std::string> relay_endpoints;
  if (options.relays > 0 && launched) {
    for (uint32_t g = 0; g < options.relays; ++g) {
      relay_endpoints.push_back("tcp://127.0.0.1:" + std::to_string(kRelayPort + g));
    }
    const std::vector<std::string> relay_args = {
        "--config", config_path, "--out", options.run_dir, "--overwrite", "--relays", std::to_string(options.relays),
        "--group-from-rank", "--parent", endpoint, "--bind", "tcp://127.0.0.1:" + std::to_string(kRelayPort)};
    const std::vector<std::vector<std::string>> every_relay(options.relays, relay_args);
    const std::string coordinator_binary = options.bin_dir + "/edgefl-coordinator";
    std::vector<std::string> argv;
    if (options.launcher == NodeLauncher::kMpirun) {
      std::vector<std::string> extra = options.launcher_args;
      if (!options.hostfile.empty()) extra.insert(extra.end(), {"--map-by", "ppr:1:node"});
      argv = MpirunCommand(
          {.mpirun = launcher_path, .hostfile = options.hostfile, .extra = extra, .as_root = geteuid() == 0},
          coordinator_binary, every_relay);
    } else {
      std::vector<std::string> extra = options.launcher_args;
      extra.push_back("--distribution=cyclic");  // relay g on the allocation's node g
      SrunCommand srun;
      EDGEFL_RETURN_IF_ERROR(MakeSrunCommand(launcher_path, extra, coordinator_binary, every_relay, "", &srun));
      argv = std::move(srun.argv);
    }
    size_t index = 0;
    EDGEFL_RETURN_IF_ERROR(group.Spawn(argv, -1, &index));
  }
  for (uint32_t g = 0; g < options.relays && !launched; ++g) {
    std::vector<std::string> args = {"--config", config_path, "--out", options.run_dir + "/relay-" + std::to_string(g),
                                     "--overwrite", "--relays", std::to_string(options.relays), "--group",
                                     std::to_string(g), "--parent", endpoint};
    if (options.in_process) args.push_back("--in-process");
    if (!options.data_dir.empty()) args.insert(args.end(), {"--data-dir", options.data_dir});
    size_t index = 0;
    relay_endpoints.emplace_back();
    EDGEFL_RETURN_IF_ERROR(SpawnCoordinator(group, options.bin_dir, args, options.startup_timeout_ms, &index,
                                            &relay_endpoints.back()));
  }
  // The group's index of the first node process.
  const uint32_t first_node_index = 1 + (launched ? (options.relays > 0 ? 1 : 0) : options.relays);
  const auto endpoint_of = [&](uint32_t node) {
    return options.relays == 0 ? endpoint : relay_endpoints[node / (config.nodes / options.relays)];
  };

  // Each node's arguments after --connect and its id.
  std::vector<std::vector<std::string>> node_args(config.nodes);
  for (uint32_t i = 0; i < config.nodes; ++i) {
    std::vector<std::string>& argv = node_args[i];
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
  }
  // Logical nodes: one argument list a process, for its K nodes.
  const uint32_t per_process = std::max(options.logical, 1u);
  if (per_process > 1) {
    if (config.nodes % per_process != 0 || links.kernel()) {
      return Status::Error(StatusCode::kInvalidArgument, "--logical %u: %s", per_process,
                           links.kernel() ? "link.shaping = \"kernel\" gives each node a namespace of its own, which "
                                            "nodes sharing a process cannot have"
                                          : "run.nodes must be a multiple of it");
    }
    if (options.relays > 0 && (config.nodes / options.relays) % per_process != 0) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "--logical %u with --relays %u: a process's nodes must all belong to one relay, so K must "
                           "divide the %u nodes each relay serves", per_process, options.relays,
                           config.nodes / options.relays);
    }
    std::vector<std::vector<std::string>> grouped(config.nodes / per_process);
    for (uint32_t g = 0; g < grouped.size(); ++g) {
      for (uint32_t j = 1; j < per_process; ++j) {
        if (node_args[g * per_process + j] != node_args[g * per_process]) {
          return Status::Error(StatusCode::kInvalidArgument, "--logical %u: nodes %u and %u would share a process "
                               "but differ in their arguments (a profile's memory budget, or --hostile)",
                               per_process, g * per_process, g * per_process + j);
        }
      }
      grouped[g] = node_args[g * per_process];
      grouped[g].insert(grouped[g].begin(), {"--logical", std::to_string(per_process)});
    }
    node_args = std::move(grouped);
  }
  const std::string node_binary = options.bin_dir + "/edgefl-node";
  if (launched) {
    // One mpirun or srun: the nodes are its ranks (their ids), and a
    // handled failure of one must not end the job (--exit-policy zero).
    for (uint32_t i = 0; i < node_args.size(); ++i) {
      node_args[i].insert(node_args[i].begin(), {"--connect", endpoint_of(i), "--exit-policy", "zero"});
    }
    std::vector<std::string> argv;
    if (options.launcher == NodeLauncher::kMpirun) {
      argv = MpirunCommand({.mpirun = launcher_path,
                            .hostfile = options.hostfile,
                            .extra = options.launcher_args,
                            .as_root = geteuid() == 0},
                           node_binary, node_args);
    } else {
      SrunCommand srun;
      const std::string multi_prog = options.run_dir + "/srun.conf";
      EDGEFL_RETURN_IF_ERROR(
          MakeSrunCommand(launcher_path, options.launcher_args, node_binary, node_args, multi_prog, &srun));
      if (!srun.multi_prog.empty()) EDGEFL_RETURN_IF_ERROR(WriteFileAtomically(multi_prog, srun.multi_prog));
      argv = std::move(srun.argv);
    }
    size_t index = 0;
    EDGEFL_RETURN_IF_ERROR(group.Spawn(argv, -1, &index));
  } else if (!options.in_process) {
    for (uint32_t i = 0; i < node_args.size(); ++i) {
      std::vector<std::string> argv = {node_binary, "--connect", endpoint_of(i * per_process), "--id",
                                       std::to_string(i)};
      argv.insert(argv.end(), node_args[i].begin(), node_args[i].end());
      size_t index = 0;
      EDGEFL_RETURN_IF_ERROR(group.Spawn(argv, -1, &index, links.NamespaceFd(i)));
    }
  }
  // What a child other than the coordinator (index 0) is called in messages.
  const auto child_name = [&](size_t index) {
    if (launched) return std::string(launcher_name) + (index < first_node_index ? " (relays)" : "");
    if (index < first_node_index) return "relay " + std::to_string(index - 1);
    if (per_process == 1) return "node " + std::to_string(index - first_node_index);
    const size_t first = (index - first_node_index) * per_process;
    return "nodes " + std::to_string(first) + ".." + std::to_string(first + per_process - 1);
  };

  // Wait for the coordinator; note nodes that fail on the way.
  ChildExit exit;
  bool coordinator_done = false;
  int64_t end_ms = 0;  // when the coordinator ended
  int64_t nodes_gone_ms = -1;  // the launcher ended cleanly: every node has left (after Bye, or having failed)
  while (!coordinator_done) {
    if (!group.WaitAny(nodes_gone_ms < 0 ? -1 : 200, &exit)) {
      if (nodes_gone_ms >= 0 && NowMs() - nodes_gone_ms > kNodesGoneGraceMs) {
        result->problems.push_back(std::string(launcher_name) + ": every node had left, and the coordinator had not "
                                   "ended " + std::to_string(kNodesGoneGraceMs) + " ms later");
        group.Signal(coordinator, SIGTERM);
        nodes_gone_ms = -1;
        continue;
      }
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
    } else if (launched && !exit.signaled && exit.exit_code == 0) {
      // Its nodes have all left: on the coordinator's Bye, as at the end of
      // a run, which the coordinator finishes on its own; or each having
      // failed (--exit-policy zero), which leaves it waiting for them.
      nodes_gone_ms = NowMs();
    } else if (launched) {
      // Every node was a rank of it: none is left to carry the run on.
      result->problems.push_back(child_name(exit.index) + ": " + Describe(exit));
      EDGEFL_LOG_WARN("%s: %s ended (%s) before the coordinator: stopping it", config.name.c_str(), launcher_name,
                      Describe(exit).c_str());
      group.Signal(coordinator, SIGTERM);
    } else if (exit.signaled || exit.exit_code != 0) {
      result->problems.push_back(child_name(exit.index) + ": " + Describe(exit));
      EDGEFL_LOG_WARN("%s: %s ended (%s); the coordinator carries on if it can", config.name.c_str(),
                      child_name(exit.index).c_str(), Describe(exit).c_str());
    }
  }
  // Nodes leave on the coordinator's Bye; give them a moment, then insist.
  const int64_t give_up = NowMs() + 3000;
  while (group.RunningCount() > 0 && NowMs() < give_up) {
    if (!group.WaitAny(100, &exit)) continue;
    if (exit.index != coordinator && (exit.signaled || (exit.exit_code != 0 && exit.exit_code != 130))) {
      result->problems.push_back(child_name(exit.index) + ": " + Describe(exit));
    }
  }
  group.Stop(2000);
  links.Finish(options.run_dir, static_cast<double>((end_ms > 0 ? end_ms : NowMs()) - start_ms) / 1000.0);

  result->summary_read = ReadSummary(options.run_dir + "/summary.toml", &result->summary).ok();
  if (stop.load()) return Status::Error(StatusCode::kUnavailable, "interrupted");
  return Status::Ok();
}

}  // namespace edgefl

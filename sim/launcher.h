// Launcher: runs one experiment variant as real processes: an
// edgefl-coordinator bound to a free loopback port (or the address given)
// and config.nodes edgefl-node processes connected to it, spawned here or
// by mpirun or srun. Stops them all cleanly when the
// coordinator ends, when `stop` is raised (Ctrl-C), or on failure, and
// reports how each process ended. A variant may also be resumed from its
// folder's checkpoint (edgefl-coordinator --resume). Not thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "experiment/experiment_config.h"
#include "runfiles/run_recorder.h"
#include "core/status.h"
#include "sim/process_group.h"

namespace edgefl {

enum class NodeLauncher : uint8_t { kProcesses, kMpirun, kSrun };
// "processes", "mpirun", "srun" (edgefl run --launcher).
bool ParseNodeLauncher(const std::string& name, NodeLauncher* out);

struct LaunchOptions {
  std::string bin_dir;           // where edgefl-coordinator and edgefl-node are
  std::string run_dir;           // this variant's run folder
  std::string data_dir;          // passed to every process (empty: their default)
  int startup_timeout_ms = 10000;
  bool verbose_nodes = false;
  bool resume = false;           // carry on the run in run_dir from its checkpoint
  bool keep_updates = false;     // edgefl-coordinator --keep-updates
  // A testing aid (node/attack.h): the last `hostile_nodes` nodes (ids
  // nodes - hostile_nodes .. nodes - 1) run `edgefl-node --attack attack`,
  // and the run folder says so in hostile.toml. 0: every node is honest.
  uint32_t hostile_nodes = 0;
  std::string attack;
  // How the nodes start: one process each, spawned here (the default), or
  // as the ranks of one mpirun or srun (sim/launch_command.h), mpirun on
  // this machine or on `hostfile`'s hosts, srun where Slurm places them,
  // each with `launcher_args` before the program.
  NodeLauncher launcher = NodeLauncher::kProcesses;
  std::string hostfile;
  std::vector<std::string> launcher_args;
  // The coordinator's endpoint, e.g. tcp://10.77.0.1:5555; the nodes
  // connect to it (empty: a free port on 127.0.0.1); beyond loopback the
  // coordinator needs `insecure` (it has no keys here).
  std::string bind;
  bool insecure = false;
  // Nodes a node process hosts (edgefl-node --logical): process g runs ids
  // g K .. g K + K - 1; config.nodes must be a multiple of K, and the K
  // nodes of a process must have the same arguments (profile, attack).
  uint32_t logical = 1;
  // Relays (coordinator/relay_topology.h): the coordinator is the root of
  // `relays` relay coordinators, each in run_dir/relay-<g>, and node i
  // connects to relay i / (run.nodes / relays). 0: none. With a launcher,
  // the relays are one job of it, a relay a host (mpirun --map-by
  // ppr:1:node with a hostfile, srun --distribution=cyclic), relay g on its
  // host's 127.0.0.1:5571 + g, and its nodes must be that host's ranks
  // (a hostfile's slots = run.nodes / relays). Not with kernel shaping.
  uint32_t relays = 0;
  // The relays compute their nodes in their own processes (edgefl-coordinator
  // --in-process): no node process is started.
  bool in_process = false;
};

struct VariantResult {
  std::string dir;
  RunSummary summary;
  bool summary_read = false;
  std::vector<std::string> problems;  // one line each: a process that failed
};

// Starts `bin_dir`/edgefl-coordinator with `args` (--config, --out, ...),
// bound to `bind` (by default a free port on 127.0.0.1), in the network
// namespace `netns_fd` (-1: this process's), and returns its endpoint once it
// listens (or the reason it did not start within timeout_ms).
Status SpawnCoordinator(ProcessGroup& group, const std::string& bin_dir, const std::vector<std::string>& args,
                        int timeout_ms, size_t* index, std::string* endpoint,
                        const std::string& bind = "tcp://127.0.0.1:*", int netns_fd = -1);

// Runs `config` in options.run_dir, whose config.toml the caller has written
// (WriteRunConfig) before any variant of a sweep runs; or, with
// options.resume, carries the run there on.
Status RunVariant(const ExperimentConfig& config, const LaunchOptions& options, const std::atomic<bool>& stop,
                  VariantResult* result);

// Creates `run_dir` and writes the variant's config.toml into it.
Status WriteRunConfig(const std::string& run_dir, const ExperimentConfig& config);

// The folder holding this executable (to find its sibling binaries).
std::string ExecutableDir();

}  // namespace edgefl

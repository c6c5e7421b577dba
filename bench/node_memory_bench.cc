// Peak resident memory of a real edgefl-node process (ru_maxrss, from
// wait4) for d = 1e4, 1e5, 1e6 and each compressor, then at d = 1e6 for
// each local optimiser with five local steps, beside its arena (the memory
// plan) and the bare minimum a node cannot do without: model,
// gradient and one update message. Each case runs a coordinator and one
// node over loopback for a few rounds. Target: RSS <= arena + 4 MiB.
// Prints figures; never fails on them.
//   edgefl-node-memory-bench [--bin-dir DIR] [--rounds R]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "experiment/experiment_config.h"
#include "node/node_runtime.h"
#include "sim/launcher.h"
#include "sim/process_group.h"

namespace {

// Resident anonymous (private) memory of a process now, in KiB; 0 if gone.
long AnonymousKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == "RssAnon:") {
      status >> value;
      return value;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin_dir = edgefl::ExecutableDir();
  int rounds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--bin-dir") == 0) bin_dir = argv[i + 1];
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  const std::string work = std::filesystem::temp_directory_path() / "edgefl-memory-bench";
  std::filesystem::create_directories(work);
  std::printf("%-9s %-12s %9s %9s %9s %9s %11s %11s  %s\n", "d", "compressor", "RSS", "anon", "arena", "minimum",
              "RSS-arena", "anon-arena", "RSS <= arena + 4");
  const char* compressors[][2] = {{"identity", ""}, {"rand-k", "k"}, {"bernoulli", "p"}, {"qsgd", "levels"},
                                  {"natural", ""},  {"sign", ""},    {"ef-sign", ""},    {"top-k", "k"}};
  struct Case {
    uint32_t d;
    std::string compressor;
    std::string parameter;
    std::string local;  // a [local] table's keys, or ""
  };
  std::vector<Case> cases;
  for (uint32_t d : {10000u, 100000u, 1000000u}) {
    for (const auto& [name, parameter] : compressors) cases.push_back({d, name, parameter, ""});
  }
  for (const char* optimizer : {"sgd", "momentum", "nesterov", "adam", "scaffold"}) {
    cases.push_back({1000000u, "identity", "", std::string("steps = 5\noptimizer = \"") + optimizer + "\""});
  }
  for (const Case& c : cases) {
    {
      const uint32_t d = c.d;
      const char* name = c.compressor.c_str();
      std::string extra;
      if (c.parameter == "k") extra = ", k = " + std::to_string(d / 100);
      if (c.parameter == "p") extra = ", p = 0.01";
      if (c.parameter == "levels") extra = ", levels = 15";
      const std::string config_path = work + "/config.toml";
      std::ofstream(config_path) << "[run]\nnodes = 1\nrounds = " << rounds << "\n[objective]\ndimension = " << d
                                 << "\n[compressor]\nkind = \"" << name << "\"" << (extra.empty() ? "" : "\n")
                                 << (extra.empty() ? "" : extra.substr(2)) << "\n[step]\neta = 0.01\n"
                                 << (c.local.empty() ? "" : "[local]\n" + c.local + "\n");
      std::vector<edgefl::ExperimentConfig> configs;
      if (!edgefl::LoadExperimentFile(config_path, {}, &configs).ok()) {
        std::printf("bad config for %s\n", name);
        return 1;
      }
      const edgefl::MemoryPlan plan = edgefl::PlanNodeMemory(configs[0].TaskFor(0));
      const double minimum = 8.0 * d + static_cast<double>(edgefl::MaxUpdateMessageBytes(configs[0].TaskFor(0)));

      edgefl::ProcessGroup group;
      size_t coordinator = 0, node = 0;
      std::string endpoint;
      // One folder for every case: --overwrite starts each afresh there.
      const std::vector<std::string> args = {"--config", config_path, "--out", work + "/out", "--overwrite", "--quiet"};
      const edgefl::Status started = edgefl::SpawnCoordinator(group, bin_dir, args, 10000, &coordinator, &endpoint);
      if (!started.ok()) {
        std::printf("%s\n", started.message());
        return 1;
      }
      (void)group.Spawn({bin_dir + "/edgefl-node", "--connect", endpoint, "--id", "0", "--quiet"}, -1, &node);
      // Peak RSS comes from wait4; the anonymous part is sampled every 2 ms.
      long node_rss_kib = 0, node_anon_kib = 0;
      const pid_t node_pid = group.Pid(node);
      edgefl::ChildExit exit;
      while (group.RunningCount() > 0) {
        if (group.Running(node)) node_anon_kib = std::max(node_anon_kib, AnonymousKib(node_pid));
        if (group.WaitAny(2, &exit) && exit.index == node) node_rss_kib = exit.max_rss_kib;
      }
      constexpr double mib = 1024.0 * 1024.0;
      const double arena = static_cast<double>(plan.total_bytes);
      const double rss = static_cast<double>(node_rss_kib) * 1024.0;
      const double anon = static_cast<double>(node_anon_kib) * 1024.0;
      const std::string label =
          c.local.empty()
              ? c.compressor
              : std::string(edgefl::codec::NameIn(edgefl::codec::LocalOptimizerNames(), configs[0].local.optimizer)) +
                    " E=5";
      std::printf("%-9u %-12s %9.2f %9.2f %9.2f %9.2f %11.2f %11.2f  %s\n", d, label.c_str(), rss / mib, anon / mib, arena / mib,
                  minimum / mib, (rss - arena) / mib, (anon - arena) / mib, (rss - arena) / mib <= 4.0 ? "met" : "missed");
      std::fflush(stdout);
    }
  }
  std::printf("\nMiB. RSS: peak resident set of the edgefl-node process (ru_maxrss): the arena, ZeroMQ's\n"
              "threads and message buffers, and the pages of code it runs (the static node's own ~2.6 MiB; a\n"
              "dynamic node maps ~6 MiB of libc, libstdc++, libzmq and its dependencies instead). anon: peak\n"
              "private (anonymous) memory, sampled every 2 ms. arena: the node's memory plan. minimum: model +\n"
              "gradient + one update message.\n");
  return 0;
}

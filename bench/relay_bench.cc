// edgefl-relay-bench: relays at scale and the bytes on each tier, through
// the real binaries (docs/performance.md "Relays").
//
// Scale: `edgefl run --relays 2 --in-process` (two relay processes, one a
// core, each computing its share of the nodes with the node's own runtime)
// at d = 100 and d = 1e4 for growing participants a round, and a population
// of 1e6 with a cohort of 1e4, sign updates and a majority vote; the median
// seconds of rounds 1..R-1 from the root's metrics.csv, and rounds a second.
// The baseline, measured in the same run: the node's own computation alone
// (NodeRuntime::ComputeUpdate, as many updates as a round's participants,
// on one thread) split over the two cores, the floor that checks, exact
// sums, partials and the protocol add to.
//
// Tiers: N nodes, d, flat against --relays R, for sign updates with a
// majority vote and dense updates with the mean: the root's bytes up and
// down a round against a flat coordinator's, and the relays' tier.
//
// Usage: edgefl-relay-bench [--rounds R] [--quick]
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/edgefl_runs.h"
#include "bench/node_compute.h"

namespace {

using edgefl::bench::MetricsColumn;
using edgefl::bench::RunEdgefl;
using edgefl::bench::MedianSecondsPerRound;

// Seconds the node's own computation of `updates` sign updates of the
// quadratic with Gaussian noise at d takes on one thread.
double ComputeSeconds(uint32_t d, uint32_t updates) {
  edgefl::codec::TaskSpec task;
  task.objective.dimension = d;
  task.compressor.kind = edgefl::wire::CompressorKind::Sign;
  return edgefl::bench::NodeComputeSeconds(task, updates);
}

struct Scale {
  uint32_t d;
  uint32_t nodes;
  uint32_t cohort;  // 0: every node
};

void ScaleTable(const std::string& bin, const std::string& dir, uint32_t rounds, bool quick) {
  std::vector<Scale> cases = {{100, 10000, 0}, {100, 100000, 0}, {100, 1000000, 10000},
                              {10000, 1000, 0}, {10000, 10000, 0}};
  if (quick) cases = {{100, 10000, 0}, {10000, 1000, 0}};
  std::printf("\nscale: edgefl run --relays 2 --in-process, sign + majority, %u rounds, on this machine\n", rounds);
  std::printf("%7s %9s %9s %12s %10s %14s %8s\n", "d", "nodes", "a round", "s/round", "rounds/s", "compute floor s",
              "ratio");
  for (const Scale& c : cases) {
    const std::string name = "scale-" + std::to_string(c.d) + "-" + std::to_string(c.nodes);
    std::ofstream(dir + "/config.toml") << "[run]\nname = \"scale\"\nnodes = " << c.nodes << "\nrounds = " << rounds
                                        << "\ncheckpoint_every = 0\n[objective]\ndimension = " << c.d
                                        << "\n[compressor]\nkind = \"sign\"\n[aggregator]\nkind = \"majority\"\n"
                                        << "[step]\neta = 0.001\n[round]\ncohort = " << c.cohort << "\n";
    const std::string metrics = RunEdgefl(bin, dir, name, "--relays 2 --in-process", "scale");
    if (metrics.empty()) continue;
    const double seconds = MedianSecondsPerRound(MetricsColumn(metrics, "time_s"));
    const uint32_t per_round = c.cohort > 0 ? c.cohort : c.nodes;
    const double floor = ComputeSeconds(c.d, per_round) / 2.0;  // two relays, a core each
    std::printf("%7u %9u %9u %12.4f %10.2f %14.4f %8.2f\n", c.d, c.nodes, per_round, seconds,
                seconds > 0 ? 1.0 / seconds : 0.0, floor, floor > 0 ? seconds / floor : 0.0);
  }
}

double Mean(const std::vector<double>& v) {
  double sum = 0.0;
  for (double x : v) sum += x;
  return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

void TierTable(const std::string& bin, const std::string& dir, uint32_t rounds, bool quick) {
  const uint32_t nodes = quick ? 16 : 64, d = quick ? 10000 : 100000, relays = 4;
  std::printf("\ntiers: N = %u, d = %u, %u relays of %u nodes, bytes a round\n", nodes, d, relays, nodes / relays);
  std::printf("%-20s %14s %14s %14s %14s %12s\n", "", "flat up", "root up", "flat down", "root down",
              "relays' up");
  struct Rule {
    const char* name;
    const char* folder;
    const char* table;
  };
  for (const Rule& rule :
       {Rule{"sign + majority", "majority", "[compressor]\nkind = \"sign\"\n[aggregator]\nkind = \"majority\"\n"},
        Rule{"identity + mean", "mean", "[compressor]\nkind = \"identity\"\n"}}) {
    std::ofstream(dir + "/config.toml") << "[run]\nname = \"tiers\"\nnodes = " << nodes << "\nrounds = " << rounds
                                        << "\ncheckpoint_every = 0\n[objective]\ndimension = " << d << "\n"
                                        << rule.table << "[step]\neta = 0.001\n";
    const std::string flat = RunEdgefl(bin, dir, std::string("flat-") + rule.folder, "", "tiers");
    const std::string tree =
        RunEdgefl(bin, dir, std::string("tree-") + rule.folder, "--relays " + std::to_string(relays), "tiers");
    if (flat.empty() || tree.empty()) continue;
    double relays_up = 0.0;
    const std::string tree_dir = std::filesystem::path(tree).parent_path().string();
    for (uint32_t g = 0; g < relays; ++g) {
      relays_up += Mean(MetricsColumn(tree_dir + "/relay-" + std::to_string(g) + "/metrics.csv", "bytes_up"));
    }
    std::printf("%-20s %14.0f %14.0f %14.0f %14.0f %12.0f\n", rule.name, Mean(MetricsColumn(flat, "bytes_up")),
                Mean(MetricsColumn(tree, "bytes_up")), Mean(MetricsColumn(flat, "bytes_down")),
                Mean(MetricsColumn(tree, "bytes_down")), relays_up);
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t rounds = 6;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = static_cast<uint32_t>(std::atol(argv[++i]));
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
  }
  const std::string bin = std::filesystem::canonical("/proc/self/exe").parent_path().string();
  std::string dir = (std::filesystem::temp_directory_path() / "edgefl-relay-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return 1;
  ScaleTable(bin, dir, rounds, quick);
  TierTable(bin, dir, rounds, quick);
  std::filesystem::remove_all(dir);
  return 0;
}

// edgefl-downlink-bench: what the step-form downlink (round.downlink =
// "step", docs/protocol.md 9) saves a sign round, through the real
// binaries: `edgefl run` with N node processes, once broadcasting the f32
// model and once sending the step, in the same run of the benchmark, on the
// same machine. For each aggregator (majority: 2 bits a coordinate;
// sign-mean: the counts) it prints the bytes down and up per round and the
// seconds per round, over the rounds after round 0 (which sends the model in
// both forms), and the step form's ratios to the model form. Nodes add no
// gradient noise, so the round is the transfer and the compression. It
// prints figures; it never fails on a time.
//
// Usage: edgefl-downlink-bench [--nodes N] [--dimension D] [--rounds R]
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/edgefl_runs.h"

namespace {

struct Figures {
  double bytes_down = 0.0, bytes_up = 0.0, seconds = 0.0;  // a round, rounds 1..R-1
};

bool Run(const std::string& bin, const std::string& dir, const std::string& name, const std::string& sets,
         Figures* out) {
  const std::string metrics = edgefl::bench::RunEdgefl(bin, dir, name, sets, "sign");
  if (metrics.empty()) return false;
  using edgefl::bench::MetricsColumn;
  const auto down = MetricsColumn(metrics, "bytes_down"), up = MetricsColumn(metrics, "bytes_up");
  const auto time = MetricsColumn(metrics, "time_s");
  const size_t rounds = time.size();
  if (rounds < 2) return false;
  for (size_t r = 1; r < rounds; ++r) {
    out->bytes_down += down[r] / static_cast<double>(rounds - 1);
    out->bytes_up += up[r] / static_cast<double>(rounds - 1);
  }
  out->seconds = edgefl::bench::SecondsPerRound(time);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned nodes = 64, d = 1000000, rounds = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--nodes") == 0) nodes = static_cast<unsigned>(std::atol(argv[i + 1]));
    if (std::strcmp(argv[i], "--dimension") == 0) d = static_cast<unsigned>(std::atol(argv[i + 1]));
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = static_cast<unsigned>(std::atol(argv[i + 1]));
  }
  const std::string bin = std::filesystem::canonical("/proc/self/exe").parent_path().string();
  std::string dir = (std::filesystem::temp_directory_path() / "edgefl-downlink-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return 1;
  std::ofstream(dir + "/config.toml") << "[run]\nname = \"sign\"\nnodes = " << nodes << "\nrounds = " << rounds
                                      << "\n[objective]\nkind = \"quadratic\"\ndimension = " << d
                                      << "\n[noise]\nkind = \"none\"\n[compressor]\nkind = \"sign\"\n"
                                      << "[step]\neta = 0.001\n[round]\ndeadline_ms = 600000\n";
  std::printf("sign rounds, N = %u, d = %u, %u rounds (figures over rounds 1..%u), on this machine\n", nodes, d,
              rounds, rounds - 1);
  std::printf("%-10s %-6s %14s %12s %10s %12s %12s\n", "aggregator", "form", "down B/round", "up B/round",
              "s/round", "down ratio", "time ratio");
  int status = 0;
  for (const char* aggregator : {"majority", "sign-mean"}) {
    Figures model, step;
    const std::string sets = std::string("--set aggregator.kind=") + aggregator;
    if (!Run(bin, dir, std::string(aggregator) + "-model", sets, &model) ||
        !Run(bin, dir, std::string(aggregator) + "-step", sets + " --set round.downlink=step", &step)) {
      status = 1;
      continue;
    }
    std::printf("%-10s %-6s %14.0f %12.0f %10.3f\n", aggregator, "model", model.bytes_down, model.bytes_up,
                model.seconds);
    std::printf("%-10s %-6s %14.0f %12.0f %10.3f %12.3f %12.3f\n", aggregator, "step", step.bytes_down,
                step.bytes_up, step.seconds, step.bytes_down / model.bytes_down, step.seconds / model.seconds);
    const double total = (step.bytes_down + step.bytes_up) / (model.bytes_down + model.bytes_up);
    std::printf("%-10s        round bytes (down + up), step / model: %.3f\n", aggregator, total);
  }
  if (status == 0) std::filesystem::remove_all(dir);
  return status;
}

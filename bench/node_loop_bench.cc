// Rounds per second of a node's round loop (gradient, noise, compression,
// encoding; no network) for each compressor at d = 1e4, 1e5, 1e6, and for
// each local optimiser at one and five local steps (identity), beside a
// memcpy of the model in the same run. Build it for aarch64 and run it under
// qemu-aarch64 to compare an emulated board. Prints figures; never fails.
//   edgefl-node-loop-bench [--dimension D] [--seconds S]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "node/node_runtime.h"

namespace {

using Kind = edgefl::wire::CompressorKind;
using Optimizer = edgefl::wire::LocalOptimizer;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// Seconds a round of `task`'s node loop takes, over at least `budget_s`.
double SecondsPerRound(const edgefl::codec::TaskSpec& task, double budget_s) {
  edgefl::Arena arena(edgefl::PlanNodeMemory(task).total_bytes);
  edgefl::NodeRuntime runtime(task, arena);
  std::vector<float> model(task.objective.dimension, 0.5f);
  uint32_t rounds = 0;
  const auto start = Clock::now();
  while (Seconds(start) < budget_s || rounds < 3) runtime.ComputeUpdate(rounds++, model);
  return Seconds(start) / rounds;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint32_t> dimensions = {10000, 100000, 1000000};
  double budget_s = 0.5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--dimension") == 0) dimensions = {static_cast<uint32_t>(std::atoi(argv[i + 1]))};
    if (std::strcmp(argv[i], "--seconds") == 0) budget_s = std::atof(argv[i + 1]);
  }
  std::printf("%-9s %-12s %12s %12s %14s\n", "d", "compressor", "rounds/s", "ms/round", "memcpy ratio");
  for (uint32_t d : dimensions) {
    // Baseline: copying the model once, as receiving a round start does.
    std::vector<float> a(d, 1.0f), b(d);
    int copies = 0;
    const auto copy_start = Clock::now();
    while (Seconds(copy_start) < budget_s / 4) {
      std::memcpy(b.data(), a.data(), d * sizeof(float));
      a[copies % d] = b[(copies + 1) % d];
      ++copies;
    }
    const double memcpy_s = Seconds(copy_start) / copies;
    std::printf("%-9u %-12s %12.0f %12.4f %14s\n", d, "(memcpy 4d)", 1.0 / memcpy_s, memcpy_s * 1e3, "1");

    const edgefl::codec::CompressorSpec specs[] = {
        {Kind::Identity}, {Kind::RandK, d / 100}, {Kind::Bernoulli, 0, 0.01}, {Kind::Qsgd, 0, 1.0, 15},
        {Kind::Natural},  {Kind::Sign},           {Kind::EfSign},           {Kind::TopK, d / 100},
    };
    edgefl::codec::TaskSpec task;
    task.objective.dimension = d;
    task.noise.kind = edgefl::wire::NoiseKind::Gaussian;
    task.num_nodes = 8;
    for (const auto& spec : specs) {
      task.compressor = spec;
      const double per_round = SecondsPerRound(task, budget_s);
      std::printf("%-9u %-12s %12.1f %12.3f %14.1f\n", d, edgefl::codec::CompressorName(spec.kind), 1.0 / per_round,
                  per_round * 1e3, per_round / memcpy_s);
    }
    // The local optimisers, dense updates: each local step is one more
    // gradient with its noise, and the optimiser's own pass.
    task.compressor = {Kind::Identity};
    for (const uint32_t steps : {1u, 5u}) {
      for (const Optimizer optimizer :
           {Optimizer::Sgd, Optimizer::Momentum, Optimizer::Nesterov, Optimizer::Adam, Optimizer::Scaffold}) {
        task.local = {.steps = steps, .optimizer = optimizer, .keep_state = optimizer != Optimizer::Scaffold};
        const double per_round = SecondsPerRound(task, budget_s);
        const std::string name =
            std::string(edgefl::codec::NameIn(edgefl::codec::LocalOptimizerNames(), optimizer)) + " E=" +
            std::to_string(steps);
        std::printf("%-9u %-12s %12.1f %12.3f %14.1f\n", d, name.c_str(), 1.0 / per_round, per_round * 1e3,
                    per_round / memcpy_s);
      }
    }
  }
  std::printf("\nmemcpy ratio: time of one round over one memcpy of the model (4d bytes) in this run.\n"
              "Gaussian noise draws dominate: one normal per coordinate each round.\n");
  return 0;
}

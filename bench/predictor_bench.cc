// The SDE predictor's speed: paths x Euler-Maruyama steps of DSGD on a
// quadratic (d = 100 by default, 1000 paths x 10000 steps), with one thread
// and with every core, beside a plain single-thread reference loop in the same
// run: the same scheme written the obvious way (double arithmetic, one
// Rng::Normal polar draw a coordinate), whose loss it also prints, so the two
// can be seen to compute the same thing. Prints figures; never fails.
//   edgefl-predictor-bench [--paths P] [--steps S] [--dimension D]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "core/rng.h"
#include "sim/sde_predictor.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// The reference: dX = -(grad f - (eta/2) H grad f) dt + sqrt(eta/N) s dW, f
// the config's quadratic, one path after another; returns E f at the end.
double ReferenceLoop(const edgefl::ExperimentConfig& c, uint32_t paths, uint32_t substeps) {
  const uint32_t d = c.objective.dimension;
  std::vector<double> lambda(d), x(d);
  for (uint32_t j = 0; j < d; ++j) {
    lambda[j] = c.objective.lambda_min +
                (c.objective.lambda_max - c.objective.lambda_min) * (d > 1 ? double(j) / (d - 1) : 0.0);
  }
  const double eta = c.step.eta, dt = eta / substeps;
  const double noise = c.noise.sigma / std::sqrt(double(c.batch_size));
  const double coefficient = std::sqrt(eta / c.nodes * dt) * noise;
  double loss_sum = 0.0;
  for (uint32_t p = 0; p < paths; ++p) {
    edgefl::Rng rng;
    rng.Seed(p + 1);
    std::fill(x.begin(), x.end(), c.objective.initial_value);
    for (uint32_t step = 0; step < c.rounds * substeps; ++step) {
      for (uint32_t j = 0; j < d; ++j) {
        const double g = lambda[j] * x[j];
        x[j] += dt * (0.5 * eta * lambda[j] * g - g) + coefficient * rng.Normal();
      }
    }
    for (uint32_t j = 0; j < d; ++j) loss_sum += 0.5 * lambda[j] * x[j] * x[j];
  }
  return loss_sum / paths;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t paths = 1000, steps = 10000, dimension = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--paths") == 0) paths = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--steps") == 0) steps = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--dimension") == 0) dimension = static_cast<uint32_t>(std::atoi(argv[i + 1]));
  }
  const uint32_t substeps = 4;
  edgefl::ExperimentConfig c;
  c.nodes = 8;
  c.rounds = std::max(1u, steps / substeps);
  c.objective.dimension = dimension;
  c.objective.lambda_min = 1.0;
  c.objective.lambda_max = 4.0;
  c.step.eta = 0.05;
  c.batch_size = 4;
  const uint32_t cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf("DSGD on a quadratic, d = %u, %u paths x %u Euler-Maruyama steps (%u rounds x %u), %u cores\n",
              dimension, paths, c.rounds * substeps, c.rounds, substeps, cores);
  std::printf("%-34s %10s %14s %12s\n", "", "seconds", "ns/coord-step", "E f at end");
  const double coordinate_steps = double(paths) * c.rounds * substeps * dimension;

  auto start = Clock::now();
  const double reference_loss = ReferenceLoop(c, paths, substeps);
  const double reference_s = Seconds(start);
  std::printf("%-34s %10.3f %14.3f %12.5g\n", "reference loop, 1 thread", reference_s,
              1e9 * reference_s / coordinate_steps, reference_loss);

  double seconds[2] = {0.0, 0.0};
  const uint32_t thread_counts[2] = {1, cores};
  for (int i = 0; i < 2; ++i) {
    edgefl::PredictOptions options;
    options.paths = paths;
    options.substeps = substeps;
    options.threads = thread_counts[i];
    edgefl::Prediction p;
    start = Clock::now();
    const edgefl::Status s = edgefl::PredictLoss(c, options, &p);
    seconds[i] = Seconds(start);
    if (!s.ok()) {
      std::fprintf(stderr, "predict: %s\n", s.message());
      return 1;
    }
    char label[64];
    std::snprintf(label, sizeof(label), "edgefl predict, %u thread%s", thread_counts[i], thread_counts[i] > 1 ? "s" : "");
    std::printf("%-34s %10.3f %14.3f %12.5g\n", label, seconds[i], 1e9 * seconds[i] / coordinate_steps,
                p.mean_loss.back());
  }
  std::printf("speed-up over the reference loop: %.2fx (1 thread %.2fx); over one thread: %.2fx on %u cores\n",
              reference_s / seconds[1], reference_s / seconds[0], seconds[0] / seconds[1], cores);
  return 0;
}

#include "sim/path_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace edgefl {
namespace {

double Quantile(std::vector<double>& values, double q) {
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), at, values.end());
  return *at;
}

}  // namespace

void RunPaths(const ExperimentConfig& config, const PredictOptions& options, const RunPath& run_path,
              Prediction* out) {
  const uint32_t rounds = config.rounds, paths = options.paths;
  const size_t cells = size_t{paths} * rounds;
  std::vector<double> losses(cells), grad_norms(cells), steps(cells), seconds(cells);
  uint32_t threads = options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, paths);
  // Path p on thread p % threads; each path's numbers depend on p alone.
  std::atomic<uint32_t> done{0};
  std::vector<std::thread> workers;
  for (uint32_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint32_t p = t; p < paths; p += threads) {
        const size_t at = size_t{p} * rounds;
        run_path(p, PathSpans{.losses = std::span<double>(losses).subspan(at, rounds),
                              .grad_norms = std::span<double>(grad_norms).subspan(at, rounds),
                              .steps = std::span<double>(steps).subspan(at, rounds),
                              .seconds = std::span<double>(seconds).subspan(at, rounds)});
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  if (options.progress) {
    while (done.load(std::memory_order_relaxed) < paths) {
      options.progress(done.load(std::memory_order_relaxed), paths);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    options.progress(paths, paths);
  }
  for (auto& worker : workers) worker.join();

  out->mean_loss.assign(rounds, 0.0);
  out->low_loss.assign(rounds, 0.0);
  out->high_loss.assign(rounds, 0.0);
  out->mean_grad_norm.assign(rounds, 0.0);
  out->mean_step.assign(rounds, 0.0);
  out->diverged_paths = 0;
  out->diverged_at = out->first_diverged_at = -1;
  out->diverged_fraction.assign(rounds, 0.0);
  // The means are over the settled paths, those that never diverge: one
  // diverged path would make them infinite where a run has most likely not
  // diverged, and a path on its way out (finite for a round or two, but
  // huge) would swamp them where a run is settled; how many diverged is
  // said apart (diverged_fraction). Divergence is absorbing, so a path has
  // settled when its last round is finite. Where none has, the means are
  // over the paths still finite each round.
  std::vector<char> settled(paths);
  uint32_t settled_paths = 0;
  for (uint32_t p = 0; p < paths; ++p) {
    settled[p] = std::isfinite(losses[size_t{p} * rounds + rounds - 1]) ? 1 : 0;
    settled_paths += settled[p];
  }
  std::vector<double> column(paths);
  for (uint32_t k = 0; k < rounds; ++k) {
    double sum = 0.0, grad_sum = 0.0, step_sum = 0.0;
    uint32_t diverged = 0, counted = 0;
    for (uint32_t p = 0; p < paths; ++p) {
      const size_t at = size_t{p} * rounds + k;
      column[p] = losses[at];
      step_sum += steps[at];
      if (std::isinf(column[p])) {
        ++diverged;
        continue;
      }
      if (settled_paths > 0 && !settled[p]) continue;
      sum += column[p];
      grad_sum += grad_norms[at];
      ++counted;
    }
    const double infinity = std::numeric_limits<double>::infinity();
    out->mean_loss[k] = counted > 0 ? sum / counted : infinity;
    out->mean_grad_norm[k] = counted > 0 ? grad_sum / counted : infinity;
    out->mean_step[k] = step_sum / paths;
    out->low_loss[k] = Quantile(column, 0.1);
    out->high_loss[k] = Quantile(column, 0.9);
    out->diverged_fraction[k] = static_cast<double>(diverged) / paths;
    if (out->first_diverged_at < 0 && diverged > 0) out->first_diverged_at = k;
    if (out->diverged_at < 0 && 2 * diverged > paths) out->diverged_at = k;
    if (k + 1 == rounds) out->diverged_paths = diverged;
  }
  // Each settled path's tail mean, then their mean and its standard error.
  const uint32_t tail_start = rounds / 2;
  double tail_sum = 0.0, tail_squares = 0.0;
  uint32_t tails = 0;
  for (uint32_t p = 0; p < paths; ++p) {
    double path_sum = 0.0;
    for (uint32_t k = tail_start; k < rounds; ++k) path_sum += losses[size_t{p} * rounds + k];
    const double path_tail = path_sum / (rounds - tail_start);
    if (!std::isfinite(path_tail)) continue;
    tail_sum += path_tail;
    tail_squares += path_tail * path_tail;
    ++tails;
  }
  out->tail_mean = tails > 0 ? tail_sum / tails : std::numeric_limits<double>::infinity();
  const double spread = tails > 1 ? (tail_squares - tail_sum * out->tail_mean) / (tails - 1) : 0.0;
  out->tail_error = tails > 1 ? std::sqrt(std::max(0.0, spread) / tails) : std::numeric_limits<double>::infinity();
  // First passage: a run stops in the round its loss first reaches the
  // target, so its time to the target is each path's, averaged.
  out->target_paths = 0;
  out->target_rounds = out->target_seconds = std::numeric_limits<double>::quiet_NaN();
  if (config.target_loss > 0.0) {
    double rounds_sum = 0.0, seconds_sum = 0.0;
    for (uint32_t p = 0; p < paths; ++p) {
      double elapsed = 0.0;
      for (uint32_t k = 0; k < rounds; ++k) {
        const size_t at = size_t{p} * rounds + k;
        elapsed += seconds[at];
        if (losses[at] <= config.target_loss) {
          ++out->target_paths;
          rounds_sum += k + 1;
          seconds_sum += elapsed;
          break;
        }
      }
    }
    if (out->target_paths > 0) {
      out->target_rounds = rounds_sum / out->target_paths;
      out->target_seconds = seconds_sum / out->target_paths;
    }
  }
}

}  // namespace edgefl

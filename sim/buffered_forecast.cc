#include "sim/buffered_forecast.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "experiment/buffered_schedule.h"
#include "experiment/staleness_weight.h"
#include "maths/compressor_maths.h"
#include "maths/gradient_noise.h"
#include "maths/synthetic_objective.h"
#include "maths/vector_norms.h"
#include "sim/gaussian_block.h"
#include "sim/path_runner.h"
#include "sim/round_cost.h"
#include "strategy/server_step.h"
#include "strategy/step_rule.h"

namespace edgefl {
namespace {

// A step's updates as the coordinator weighs them: the staleness of each
// (how far back in the path's history its gradient is taken), its integer
// weight, and the step's noise scale sqrt(sum W_i^2) / (Q K) per unit of
// the noise's standard deviation.
struct PlannedStep {
  std::vector<uint32_t> staleness;
  std::vector<double> weight;  // W_i / (Q K)
  double noise_scale = 0.0;
  double seconds = 0.0;        // since the step before
};

std::vector<PlannedStep> Plan(const ExperimentConfig& c, uint32_t* deepest) {
  const std::vector<BufferedStepPlan> plan = BufferedPlanOf(c);
  const double scale = 1.0 / (static_cast<double>(StalenessQuantum(c.async.buffer)) * c.async.buffer);
  std::vector<PlannedStep> steps(plan.size());
  *deepest = 0;
  double before = 0.0;
  for (size_t k = 0; k < plan.size(); ++k) {
    PlannedStep& step = steps[k];
    step.staleness = plan[k].staleness;
    double squares = 0.0;
    for (const uint32_t s : step.staleness) {
      const double w = QuantizedStalenessWeight(c.async, s);
      step.weight.push_back(w * scale);
      squares += w * w;
      *deepest = std::max(*deepest, s);
    }
    step.noise_scale = std::sqrt(squares) * scale;
    step.seconds = plan[k].end_s - before;
    before = plan[k].end_s;
  }
  return steps;
}

}  // namespace

Status PredictBuffered(const ExperimentConfig& c, const PredictOptions& options, Prediction* out) {
  const uint32_t d = c.objective.dimension;
  uint32_t deepest = 0;
  const std::vector<PlannedStep> plan = Plan(c, &deepest);
  const uint32_t depth = deepest + 1;  // the versions a path keeps: x_k back to x_{k - deepest}
  std::vector<float> lambda(d), x0(d);
  SyntheticObjective objective(c.objective, lambda);
  objective.InitialPoint(c.seed, x0);
  const double initial_loss = objective.Loss(x0);
  out->initial_loss = initial_loss;
  out->substeps = 1;
  const double sigma = std::sqrt(NoiseVariance(c.noise, c.batch_size));
  const StepRunFacts facts = StepFactsOf(c);
  const double limit = c.divergence_factor * std::max(initial_loss, c.divergence_floor);
  const bool compressed = c.compressor.kind != wire::CompressorKind::Identity;

  const auto run_path = [&](uint32_t p, const PathSpans& spans) {
    std::vector<float> lambda_p(d), x(d), g(d), z(d);
    std::vector<float> history(static_cast<size_t>(depth) * d);
    std::vector<double> delayed(d), spread(compressed ? d : 0);  // the step's direction; a compressor's variances
    std::vector<float> v(compressed ? d : 0);                         // one update's noisy gradient
    SyntheticObjective path_objective(c.objective, lambda_p);
    path_objective.InitialPoint(c.seed, x);
    GaussianBlock normals(DeriveSeed(c.seed, kIncrementStream, p), d);
    const std::unique_ptr<StepRule> rule = MakeStepRule(c.step, facts);
    double step_sizes_sum = 0.0;
    bool diverged = false;
    for (uint32_t k = 0; k < c.rounds; ++k) {
      const PlannedStep& step = plan[k];
      spans.seconds[k] = step.seconds;
      if (diverged) {
        spans.losses[k] = spans.grad_norms[k] = std::numeric_limits<double>::infinity();
        spans.steps[k] = 0.0;
        continue;
      }
      std::copy(x.begin(), x.end(), history.begin() + static_cast<size_t>(k % depth) * d);
      StepInputs in;
      in.round = k;
      in.steps_taken = k;
      in.step_sizes_sum = step_sizes_sum;
      in.l0 = c.step.l0;
      in.l1 = c.step.l1;
      const double eta = rule->StepSize(in);
      step_sizes_sum += eta;
      std::fill(delayed.begin(), delayed.end(), 0.0);
      if (!compressed) {
        // sum_i w_i x_{k - s_i}, the step's delayed models weighed; then the
        // gradient's Lambda and the K noises' sum in one draw.
        normals.Fill(z);
        for (size_t i = 0; i < step.staleness.size(); ++i) {
          const float* version = history.data() + static_cast<size_t>((k - step.staleness[i]) % depth) * d;
          const double w = step.weight[i];
          for (uint32_t j = 0; j < d; ++j) delayed[j] += w * version[j];
        }
        const double noise = step.noise_scale * sigma;
        for (uint32_t j = 0; j < d; ++j) delayed[j] = lambda_p[j] * delayed[j] + noise * z[j];
      } else {
        // Each update on its own: its noisy gradient v at its delayed model,
        // then the compressor's noise about v, of its exact covariance.
        for (size_t i = 0; i < step.staleness.size(); ++i) {
          const float* version = history.data() + static_cast<size_t>((k - step.staleness[i]) % depth) * d;
          normals.Fill(z);
          for (uint32_t j = 0; j < d; ++j) v[j] = static_cast<float>(lambda_p[j] * version[j] + sigma * z[j]);
          CompressorCovariance(c.compressor, v, spread);
          normals.Fill(z);
          const double w = step.weight[i];
          for (uint32_t j = 0; j < d; ++j) delayed[j] += w * (v[j] + std::sqrt(spread[j]) * z[j]);
        }
      }
      for (uint32_t j = 0; j < d; ++j) x[j] = static_cast<float>(x[j] - eta * delayed[j]);
      const double loss = path_objective.Loss(x);
      diverged = !std::isfinite(loss) || loss > limit;
      path_objective.Gradient(x, g);
      spans.losses[k] = diverged ? std::numeric_limits<double>::infinity() : loss;
      spans.grad_norms[k] = diverged ? std::numeric_limits<double>::infinity() : std::sqrt(SquaredNorm(g));
      spans.steps[k] = eta;
    }
  };
  RunPaths(c, options, run_path, out);
  return Status::Ok();
}

}  // namespace edgefl

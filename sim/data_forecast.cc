#include "sim/data_forecast.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "sim/data_sde.h"
#include "sim/path_runner.h"
#include "strategy/server_step.h"
#include "strategy/step_rule.h"

namespace edgefl {

Status PredictData(const ExperimentConfig& config, const PredictOptions& options,
                   const ParticipationModel& participation, Prediction* out) {
  std::unique_ptr<DataSde> data;
  EDGEFL_RETURN_IF_ERROR(DataSde::Create(config, options.data_dir, &data));
  std::vector<float> x0(data->dimension());
  data->InitialPoint(x0);
  double grad_norm = 0.0;
  out->initial_loss = DataSde::Path(*data, 0).Loss(x0, &grad_norm);
  // No cheap bound on the curvature: 4 steps a round unless asked.
  out->substeps = options.substeps != 0 ? options.substeps : 4;
  const double correction = options.drift == SdeDrift::kCorrected    ? 0.5
                            : options.drift == SdeDrift::kSecondOrder ? -0.5
                                                                      : 0.0;
  const double limit = config.divergence_factor * std::max(out->initial_loss, config.divergence_floor);
  const StepRunFacts facts = StepFactsOf(config);
  const auto run_path = [&](uint32_t p, const PathSpans& spans) {
    const std::span<double> losses = spans.losses, grad_norms = spans.grad_norms, steps = spans.steps;
    DataSde::Path path(*data, DeriveSeed(config.seed, kIncrementStream, p));
    Rng cohort_rng(DeriveSeed(config.seed, kCohortStream, p));
    DrawBuffers draws(config.nodes);
    std::vector<float> x = x0;
    const auto rule = MakeStepRule(config.step, facts);
    double step_sizes_sum = 0.0;
    uint32_t steps_taken = 0;
    bool diverged = false;
    for (uint32_t k = 0; k < config.rounds; ++k) {
      // The counted nodes' shards make the round's drift and noise (with
      // non-iid shards, the cohort's own mean gradient: its heterogeneity).
      const RoundDraw draw = participation.Draw(cohort_rng, draws, k);
      spans.seconds[k] = draw.seconds;
      if (diverged) {
        losses[k] = grad_norms[k] = std::numeric_limits<double>::infinity();
        steps[k] = 0.0;
        continue;
      }
      double eta = 0.0;
      if (draw.steps) {
        StepInputs in;
        in.round = k;
        in.steps_taken = steps_taken++;
        in.step_sizes_sum = step_sizes_sum;
        eta = rule->StepSize(in);
        step_sizes_sum += eta;
        for (uint32_t m = 0; m < out->substeps; ++m) path.Step(x, eta, eta / out->substeps, correction, draws.counted);
      }
      double norm = 0.0;
      const double loss = path.Loss(x, &norm);
      diverged = !std::isfinite(loss) || loss > limit;
      losses[k] = diverged ? std::numeric_limits<double>::infinity() : loss;
      grad_norms[k] = diverged ? std::numeric_limits<double>::infinity() : norm;
      steps[k] = eta;
    }
  };
  RunPaths(config, options, run_path, out);
  return Status::Ok();
}

}  // namespace edgefl

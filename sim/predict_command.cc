// edgefl predict: each variant's forecast, printed, and optionally written
// as predicted.csv for `edgefl report`.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/log.h"
#include "sim/agreement.h"
#include "sim/closed_forms.h"
#include "sim/commands.h"
#include "sim/convergence_bounds.h"
#include "sim/forecast_ranking.h"
#include "sim/prediction_files.h"
#include "sim/round_cost.h"

namespace edgefl {
namespace {

void PrintVerdict(const ExperimentConfig& config, const Prediction& p, uint32_t paths) {
  const RunVerdict verdict = ClassifyLosses(p.initial_loss, p.mean_loss, p.diverged_at);
  switch (verdict) {
    case RunVerdict::kDiverges:
      std::printf("verdict: diverges: most paths passed the divergence test by round %lld (%u of %u by the end)\n",
                  static_cast<long long>(p.diverged_at), p.diverged_paths, paths);
      break;
    case RunVerdict::kConverges:
      std::printf("verdict: converges: expected loss %.4g +- %.2g over the last half of the %u rounds\n", p.tail_mean,
                  p.tail_error, config.rounds);
      break;
    case RunVerdict::kStalls:
      std::printf("verdict: stalls: expected loss %.4g over the last half, from %.4g at x_0\n", p.tail_mean,
                  p.initial_loss);
      break;
  }
  if (verdict != RunVerdict::kDiverges && p.diverged_paths > 0) {
    // Metastable: most paths settle, some escape. The figures above are the
    // settled ones'; the fraction is the chance a run diverges.
    std::printf("  but %u of %u paths (%.3g%%) diverged, the first by round %lld: a run diverges with about that "
                "chance in %u rounds (predicted.csv's `diverged` by round); the losses above are the other paths'\n",
                p.diverged_paths, paths, 100.0 * p.diverged_paths / paths, static_cast<long long>(p.first_diverged_at),
                config.rounds);
  }
  const auto limit = StepSizeLimit(config);
  const double eta = p.mean_step.empty() ? config.step.eta : p.mean_step.front();
  if (!limit) return;
  if (eta < limit->eta) {
    if (verdict == RunVerdict::kDiverges && limit->exact) {
      std::printf("  the step %.4g is within the stability limit %.4g (%s) at the start: the noise carried the "
                  "paths past it\n",
                  eta, limit->eta, limit->source);
    }
    return;
  }
  if (limit->exact) {
    std::printf("  the step %.4g is past the stability limit %.4g (%s)\n", eta, limit->eta, limit->source);
  } else if (p.diverged_paths > 0) {
    // A sufficient condition failing says nothing about divergence: only
    // the paths do. Named so the reader can weigh it, not as the cause.
    std::printf("  note: the step %.4g is past %.4g, where %s stops guaranteeing convergence; that condition is "
                "sufficient, not necessary, and the verdict comes from the paths\n",
                eta, limit->eta, limit->source);
  }
}

// Who takes part in a round and how long it lasts, where that is not simply
// every node at its link's time (sim/participation.h).
void PrintCohort(const ExperimentConfig& config, const RoundCost& cost) {
  if (config.async.Buffered()) {
    // The schedule's figures (sim/round_cost.h, BufferedPlanOf).
    const std::vector<BufferedStepPlan> plan = BufferedPlanOf(config);
    double staleness_sum = 0.0, counted = 0.0;
    uint32_t most = 0, stale = 0;
    for (const BufferedStepPlan& step : plan) {
      for (const uint32_t s : step.staleness) {
        staleness_sum += s;
        most = std::max(most, s);
      }
      counted += static_cast<double>(step.staleness.size());
      stale += step.stale;
    }
    std::printf("buffered: a step every %u updates, %u nodes training at once; on the virtual clock's schedule a step "
                "lasts %.4g s on average, its updates %.3g versions stale on average and at most %u, %u refused as "
                "staler than %u\n",
                config.async.buffer, config.async.concurrency > 0 ? config.async.concurrency : config.nodes,
                cost.seconds, counted > 0.0 ? staleness_sum / counted : 0.0, most, stale, config.async.max_staleness);
    return;
  }
  const ParticipationExpectation& e = cost.participation;
  const bool everyone = e.asked == config.nodes && e.counted == config.nodes && e.no_step == 0.0;
  if (everyone) return;
  const char* how = e.exact ? "exact" : "Monte Carlo";
  std::printf("cohort: K = %u of %u nodes, %u asked a round, quorum %u: on average %.4g asked and %.4g counted, "
              "%.3g%% of rounds without a step (%s",
              config.CohortSize(), config.nodes, config.AskedPerRound(), config.QuorumCount(), e.asked, e.counted,
              100.0 * e.no_step, how);
  if (!e.exact) std::printf(" over %u draws", e.draws);
  std::printf(")\n");
  if (std::isfinite(cost.seconds)) {
    std::printf("a round lasts %.4g s on average: its K-th counted answer (a node's exchange takes %.4g s), every "
                "asked one, or the %.4g s deadline when one is lost or late\n",
                cost.seconds, cost.node_seconds, config.round.deadline_ms / 1000.0);
  }
  if (e.too_few > 0.0) {
    std::printf("warning: %.3g%% of rounds find fewer than the quorum's %u nodes available; the coordinator then ends "
                "the run (after %.4g rounds on average); such rounds count no time here\n",
                100.0 * e.too_few, config.QuorumCount(), 1.0 / e.too_few);
  }
}

void PrintForecast(const ExperimentConfig& config, const PredictArgs& args, const Prediction& p) {
  const RoundCost cost = RoundCostOf(config);
  std::printf("\n%s: %s, %s, %u paths, %u substeps a round\n", config.name.c_str(), p.model, p.drift,
              args.options.paths, p.substeps);
  if (*p.approximation) std::printf("approximation: %s\n", p.approximation);
  if (!p.why_discrete.empty()) std::printf("not the SDE, the iteration itself: %s\n", p.why_discrete.c_str());
  // "a round: U B up and D B down a node, T s at ..." (scripts read it): T the round's expected length.
  std::printf("a round: %.0f B up and %.0f B down a node", cost.up_bytes, cost.down_bytes);
  if (std::isfinite(cost.seconds)) {
    std::printf(", %.4g s at %.4g b/s up, %.4g b/s down ([link])\n", cost.seconds, cost.uplink_bps,
                cost.downlink_bps);
  } else {
    std::printf(" (set [link] for a time forecast)\n");
  }
  PrintCohort(config, cost);
  std::printf("%8s %12s %12s %12s %12s %12s %12s\n", "round", "E loss", "10%", "90%", "E |grad|", "time s", "MB up");
  const uint32_t step = args.every != 0 ? args.every : std::max(1u, config.rounds / 10);
  for (uint32_t k = 0; k < config.rounds; ++k) {
    if ((k + 1) % step != 0 && k + 1 != config.rounds && k != 0) continue;
    char seconds[16] = "-";  // no [link] bandwidth: no time
    if (std::isfinite(cost.seconds)) std::snprintf(seconds, sizeof(seconds), "%.5g", cost.seconds * (k + 1));
    std::printf("%8u %12.5g %12.5g %12.5g %12.5g %12s %12.5g\n", k, p.mean_loss[k], p.low_loss[k], p.high_loss[k],
                p.mean_grad_norm[k], seconds, cost.up_bytes_per_round() * (k + 1) / 1e6);
  }
  if (config.target_loss > 0.0) {
    const auto reached = std::find_if(p.mean_loss.begin(), p.mean_loss.end(),
                                      [&](double loss) { return loss <= config.target_loss; });
    if (reached == p.mean_loss.end()) {
      std::printf("target loss %.4g: not reached in %u rounds\n", config.target_loss, config.rounds);
    } else {
      const auto k = static_cast<double>(reached - p.mean_loss.begin() + 1);
      std::printf("target loss %.4g: the expected loss reaches it after %.0f rounds, %.4g s, %.4g MB up\n",
                  config.target_loss, k, cost.seconds * k, cost.up_bytes_per_round() * k / 1e6);
    }
    if (p.target_paths > 0) {
      // What a run, which stops there, is compared with.
      std::printf("  a path first reaches it after %.4g rounds on average", p.target_rounds);
      if (std::isfinite(cost.seconds)) std::printf(", %.4g s", p.target_seconds);
      std::printf(" (%u of %u paths reach it)\n", p.target_paths, args.options.paths);
    }
  }
  const auto theory = PredictedStationaryLoss(config);
  if (theory) {
    std::printf("closed-form stationary loss (docs/theory.md %s): %.5g\n", config.local.steps > 1 ? "6.1" : "3.5",
                *theory);
  }
  if (const auto bound = TheoremBound(config)) {
    if (bound->holds) {
      std::printf("bound, %s (docs/theory.md 4.1; mu = %.4g, L = %.4g): E loss <= %.5g after round %u, floor %.5g%s%s\n",
                  bound->theorem, bound->mu, bound->l, bound->At(p.initial_loss, config.rounds), config.rounds - 1,
                  bound->floor, *bound->assumption ? "; assumed: " : "", bound->assumption);
    } else {
      std::printf("bound, %s (docs/theory.md 4.1): none, it needs eta < 2 / (L (1 + omega/N)) = %.4g\n",
                  bound->theorem, bound->step_limit);
    }
  }
  PrintVerdict(config, p, args.options.paths);
}

// --compare: every chosen variant at every listed eta and N, ranked.
int CompareForecasts(const std::vector<const ExperimentConfig*>& chosen, const PredictArgs& args) {
  std::vector<RankedForecast> ranked;
  bool failed = false;
  double target = 0.0;
  for (const ExperimentConfig* variant : chosen) {
    if (!(variant->target_loss > 0.0)) {
      EDGEFL_LOG_ERROR("%s: --compare ranks by the time to run.target_loss, which is not set (use --set "
                       "run.target_loss=X)",
                       variant->name.c_str());
      return 2;
    }
    if (target != 0.0 && variant->target_loss != target) {
      EDGEFL_LOG_ERROR("--compare: the variants have different run.target_loss values (%g, %g); set one for all",
                       target, variant->target_loss);
      return 2;
    }
    target = variant->target_loss;
    const std::vector<double> etas = args.etas.empty() ? std::vector<double>{variant->step.eta} : args.etas;
    const std::vector<uint32_t> node_counts =
        args.node_counts.empty() ? std::vector<uint32_t>{variant->nodes} : args.node_counts;
    for (const double eta : etas) {
      for (const uint32_t nodes : node_counts) {
        ExperimentConfig config = *variant;
        config.step.eta = eta;
        config.nodes = nodes;
        char label[160];
        std::snprintf(label, sizeof(label), "%s (%s, eta %.4g, N %u)", variant->name.c_str(),
                      codec::CompressorName(config.compressor.kind), eta, nodes);
        Prediction p;
        if (!ForecastVariant(config, args, &p)) {
          failed = true;
          continue;
        }
        const RoundCost cost = RoundCostOf(config);
        RankedForecast f;
        f.label = label;
        f.rounds = RoundsToTarget(p.mean_loss, target);
        f.seconds_per_round = cost.seconds;
        f.up_bytes_per_round = cost.up_bytes_per_round();
        f.final_loss = p.mean_loss.back();
        f.verdict = ClassifyLosses(p.initial_loss, p.mean_loss, p.diverged_at);
        ranked.push_back(std::move(f));
      }
    }
  }
  RankForecasts(ranked);
  std::printf("\nranked by predicted %s to loss %.4g (%u paths each):\n",
              ranked.empty() || !std::isfinite(ranked.front().seconds_per_round) ? "rounds" : "time", target,
              args.options.paths);
  std::printf("%4s  %-44s %8s %10s %10s %12s  %s\n", "rank", "candidate", "rounds", "time s", "MB up", "final E loss",
              "verdict");
  for (size_t i = 0; i < ranked.size(); ++i) {
    const RankedForecast& f = ranked[i];
    char rounds[24] = "-", seconds[24] = "-", megabytes[24] = "-";
    if (f.reached()) {
      std::snprintf(rounds, sizeof(rounds), "%lld", static_cast<long long>(f.rounds));
      if (std::isfinite(f.seconds_per_round)) std::snprintf(seconds, sizeof(seconds), "%.4g", f.seconds());
      std::snprintf(megabytes, sizeof(megabytes), "%.4g", f.up_megabytes());
    }
    std::printf("%4zu  %-44s %8s %10s %10s %12.4g  %s\n", i + 1, f.label.c_str(), rounds, seconds, megabytes,
                f.final_loss, RunVerdictName(f.verdict));
  }
  std::printf("recommendation: %s\n", Recommend(ranked, target).c_str());
  return failed ? 1 : 0;
}

}  // namespace

int PredictExperiments(const ExperimentArgs& experiment, const PredictArgs& args, const std::string& out_dir) {
  std::vector<ExperimentConfig> configs;
  std::vector<const ExperimentConfig*> chosen;
  if (const int bad = experiment.Load(&configs, &chosen)) return bad;
  if (args.compare) return CompareForecasts(chosen, args);
  bool failed = false;
  for (const ExperimentConfig* config : chosen) {
    Prediction p;
    if (!ForecastVariant(*config, args, &p)) {
      failed = true;
      continue;
    }
    PrintForecast(*config, args, p);
    if (!out_dir.empty()) {
      const Status written = WritePredictionCsv(out_dir + "/" + config->name, p, RoundCostOf(*config));
      if (!written.ok()) {
        EDGEFL_LOG_ERROR("%s", written.message());
        failed = true;
      }
    }
  }
  if (!out_dir.empty()) std::printf("forecast folder: %s\n", out_dir.c_str());
  return failed ? 1 : 0;
}

}  // namespace edgefl

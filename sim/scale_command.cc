// edgefl scale: the scaling-rule calculator (sim/scaling_rules.h), printed.
#include <cmath>
#include <cstdio>

#include "core/log.h"
#include "sim/commands.h"
#include "sim/scaling_rules.h"

namespace edgefl {
namespace {

std::string FloorText(const std::optional<double>& floor) {
  if (!floor) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g", *floor);
  return text;
}

std::string StabilityText(double stability) {
  if (std::isnan(stability)) return "stable (sign: no limit on eta)";
  char text[64];
  std::snprintf(text, sizeof(text), "%s (eta lambda_max (1 + omega/N) = %.3g %s 2)",
                stability < 2.0 ? "stable" : "UNSTABLE", stability, stability < 2.0 ? "<" : ">=");
  return text;
}

void PrintPlan(const ExperimentConfig& base, const std::vector<std::string>& changes, const ScalingPlan& plan) {
  std::printf("\n%s: %s rule, floor proportional to %s (docs/theory.md 5)\n", base.name.c_str(),
              plan.sign ? "DSignSGD" : "DCSGD", plan.sign ? "eta s / N" : "eta (1 + omega) s^2 / N, s^2 = sigma^2 / B");
  std::printf("base:    eta %.4g, N %u, B %u, omega %.4g: floor %s\n", base.step.eta, base.nodes, base.batch_size,
              plan.omega_base, FloorText(plan.base_floor).c_str());
  std::string change_text;
  for (const std::string& c : changes) change_text += (change_text.empty() ? "" : ", ") + c;
  std::printf("change:  %s: omega %.4g, floor x %.4g -> %s, %s\n", change_text.c_str(), plan.omega_changed,
              plan.ratio, FloorText(plan.changed_floor).c_str(), StabilityText(plan.changed_stability).c_str());
  if (plan.proposals.empty()) {
    std::printf("the change moved eta, N and B all: nothing left to adjust\n");
    return;
  }
  std::printf("to keep the floor, change one of:\n");
  for (const ScalingProposal& p : plan.proposals) {
    char how[64];
    if (p.exact) {
      std::snprintf(how, sizeof(how), "solved on the closed form");
    } else {
      std::snprintf(how, sizeof(how), "proxy x %.4g, no closed form", p.kept_ratio);
    }
    std::printf("  %-17s = %-10.4g floor %-10s (%s), %s; the bound of 4.1 holds: %s\n", p.key.c_str(), p.value,
                FloorText(p.floor).c_str(), how, StabilityText(p.stability).c_str(), p.guaranteed ? "yes" : "no");
  }
  bool proxy = false;
  for (const ScalingProposal& p : plan.proposals) proxy = proxy || !p.exact;
  if (proxy) {
    std::printf("warning: a proposal scaled by the proxy keeps eta (1 + omega) s^2 / N, not the floor itself: near "
                "the stability limit the floor grows faster; check it with `edgefl predict`\n");
  }
  if (!plan.sign && (base.compressor.kind == wire::CompressorKind::Qsgd ||
                     base.compressor.kind == wire::CompressorKind::Natural ||
                     plan.proposals.front().config.compressor.kind == wire::CompressorKind::Qsgd ||
                     plan.proposals.front().config.compressor.kind == wire::CompressorKind::Natural)) {
    std::printf("note: qsgd's and natural's omega is a bound, well above their variance (docs/theory.md 3.5); "
                "`edgefl predict` forecasts them exactly\n");
  }
  std::printf("floor: the closed form of docs/theory.md 3.5 where one applies ('-' otherwise).\n");
}

}  // namespace

int ScaleExperiments(const ExperimentArgs& experiment, const std::vector<std::string>& changes) {
  std::vector<ExperimentConfig> configs, changed_configs;
  std::vector<const ExperimentConfig*> chosen, changed_chosen;
  if (const int bad = experiment.Load(&configs, &chosen)) return bad;
  // The changed config: the base's overrides, shorthands (--nodes, ...)
  // included, then the changes, which win over them.
  ExperimentArgs with_changes = experiment;
  with_changes.sets = experiment.AllSets();
  with_changes.nodes = with_changes.rounds = 0;
  with_changes.seed = -1;
  with_changes.shaping.clear();
  for (const std::string& change : changes) with_changes.sets.push_back(change);
  if (const int bad = with_changes.Load(&changed_configs, &changed_chosen)) return bad;
  bool failed = false;
  for (size_t i = 0; i < chosen.size(); ++i) {
    ScalingPlan plan;
    const Status s = PlanScaling(*chosen[i], *changed_chosen[i], &plan);
    if (!s.ok()) {
      EDGEFL_LOG_ERROR("%s: %s", chosen[i]->name.c_str(), s.message());
      failed = true;
      continue;
    }
    PrintPlan(*chosen[i], changes, plan);
  }
  return failed ? 2 : 0;
}

}  // namespace edgefl

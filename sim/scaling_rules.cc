#include "sim/scaling_rules.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "maths/compressor_maths.h"
#include "maths/gradient_noise.h"
#include "sim/closed_forms.h"
#include "sim/convergence_bounds.h"

namespace edgefl {
namespace {

using Kind = wire::CompressorKind;

bool IsSign(const ExperimentConfig& c) {
  return c.compressor.kind == Kind::Sign && c.aggregator.kind == AggregatorKind::kSignMean;
}

double Omega(const ExperimentConfig& c) { return CompressorOmega(c.compressor, c.objective.dimension); }

// The floor's proxy: eta (1 + omega) s^2 / N, or eta s / N for sign.
double Proxy(const ExperimentConfig& c) {
  if (IsSign(c)) return c.step.eta * NoiseScale(c.noise, c.batch_size) / c.nodes;
  return c.step.eta * (1.0 + Omega(c)) * NoiseVariance(c.noise, c.batch_size) / c.nodes;
}

double LambdaMax(const ExperimentConfig& c) { return std::max(c.objective.lambda_min, c.objective.lambda_max); }

double Stability(const ExperimentConfig& c) {
  if (IsSign(c)) return std::numeric_limits<double>::quiet_NaN();
  return c.step.eta * LambdaMax(c) * (1.0 + Omega(c) / c.nodes);
}

// The bound of docs/theory.md 4.1 holds for the config (its condition on the step).
bool Guaranteed(const ExperimentConfig& c) {
  const std::optional<ConvergenceBound> bound = TheoremBound(c);
  return bound && bound->holds;
}

Status Check(const ExperimentConfig& c, const char* which) {
  if (c.step.rule != StepRuleKind::kConstant || c.server.optimizer != ServerOptimizerKind::kSgd) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the %s config: the scaling rules are for a constant step with sgd at the server "
                         "(step.rule = \"constant\", server.optimizer = \"sgd\")",
                         which);
  }
  if (!IsSign(c) && (c.aggregator.kind != AggregatorKind::kMean || !std::isfinite(Omega(c)))) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the %s config: the scaling rules are for an unbiased compressor with the mean, or sign "
                         "with sign-mean (compressor.kind = \"%s\", aggregator.kind is not)",
                         which, codec::CompressorName(c.compressor.kind));
  }
  if (c.aggregator.max_update_norm > 0.0) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the %s config: the scaling rules do not model norm bounding (aggregator.max_update_norm = %g)",
                         which, c.aggregator.max_update_norm);
  }
  if (c.async.Buffered()) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the %s config: the scaling rules are for synchronous rounds, not buffered steps on stale "
                         "models (async.mode = \"buffered\")",
                         which);
  }
  if (!SendsPlainGradient(c)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the %s config: the scaling rules are for nodes that send one gradient a round (docs/theory.md "
                         "5), not local steps, clipping or privacy noise (local.steps = %u, local.optimizer = \"%s\", "
                         "privacy.clip_norm = %g)",
                         which, c.local.steps, codec::NameIn(codec::LocalOptimizerNames(), c.local.optimizer),
                         c.privacy.clip_norm);
  }
  if (!std::isfinite(Proxy(c)) || !(Proxy(c) > 0.0)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the %s config: its noise has no finite, non-zero variance, so it has no floor to keep", which);
  }
  return Status::Ok();
}

// The floor of `c` with one knob set by `apply(c, value)`, +infinity where
// there is none (past the stability limit).
template <typename Apply>
double FloorWith(ExperimentConfig c, const Apply& apply, double value) {
  apply(c, value);
  const std::optional<double> floor = PredictedStationaryLoss(c);
  return floor && std::isfinite(*floor) ? *floor : std::numeric_limits<double>::infinity();
}

// eta with the closed-form floor `target`: the floor grows with eta from 0
// (to infinity at the stability limit), so bisection from [0, a bracket].
std::optional<double> SolveEta(const ExperimentConfig& c, double target, double guess) {
  const auto set = [](ExperimentConfig& config, double eta) { config.step.eta = eta; };
  double lo = 0.0, hi = guess;
  for (int i = 0; i < 60 && FloorWith(c, set, hi) < target; ++i) hi *= 2.0;
  if (FloorWith(c, set, hi) < target) return std::nullopt;
  for (int i = 0; i < 100; ++i) {
    const double mid = 0.5 * (lo + hi);
    (FloorWith(c, set, mid) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// The least integer in [1, max] whose floor is at most `target` (the floor
// falls as N or B grows), or nullopt when even `max` does not reach it.
template <typename Apply>
std::optional<uint32_t> SolveCount(const ExperimentConfig& c, double target, uint32_t max, const Apply& apply) {
  const double tolerance = target * (1.0 + 1e-12);
  if (FloorWith(c, apply, max) > tolerance) return std::nullopt;
  uint32_t lo = 1, hi = max;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (FloorWith(c, apply, mid) <= tolerance) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

}  // namespace

Status PlanScaling(const ExperimentConfig& base, const ExperimentConfig& changed, ScalingPlan* plan) {
  EDGEFL_RETURN_IF_ERROR(Check(base, "base"));
  EDGEFL_RETURN_IF_ERROR(Check(changed, "changed"));
  if (IsSign(base) != IsSign(changed)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the change turns DCSGD into DSignSGD or back: their floors follow different rules "
                         "(docs/theory.md 5), so there is no setting that keeps one for the other");
  }
  *plan = {};
  plan->sign = IsSign(base);
  plan->omega_base = plan->sign ? 0.0 : Omega(base);
  plan->omega_changed = plan->sign ? 0.0 : Omega(changed);
  plan->ratio = Proxy(changed) / Proxy(base);
  plan->base_floor = PredictedStationaryLoss(base);
  plan->changed_floor = PredictedStationaryLoss(changed);
  plan->changed_stability = Stability(changed);
  const double r = plan->ratio;
  // Each knob: solved on the closed form where the base and the changed
  // config have one (the floor kept exactly); otherwise the proxy's ratio.
  const bool exact = plan->base_floor.has_value() && plan->changed_floor.has_value();
  const double target = plan->base_floor.value_or(0.0);
  const auto propose = [&](const char* key, const auto& apply, std::optional<double> solved, double by_proxy) {
    ScalingProposal p;
    p.key = key;
    p.config = changed;
    p.exact = solved.has_value();
    p.value = solved.value_or(by_proxy);
    apply(p.config, p.value);
    p.kept_ratio = Proxy(p.config) / Proxy(base);
    p.floor = PredictedStationaryLoss(p.config);
    p.stability = Stability(p.config);
    p.guaranteed = Guaranteed(p.config);
    plan->proposals.push_back(std::move(p));
  };
  if (changed.step.eta == base.step.eta) {
    const auto set = [](ExperimentConfig& c, double eta) { c.step.eta = eta; };
    const double by_proxy = changed.step.eta / r;
    propose("step.eta", set, exact ? SolveEta(changed, target, by_proxy) : std::nullopt, by_proxy);
  }
  if (changed.nodes == base.nodes) {
    const auto set = [](ExperimentConfig& c, double n) { c.nodes = static_cast<uint32_t>(n); };
    const double by_proxy = std::clamp(std::ceil(changed.nodes * r - 1e-9), 1.0, 4096.0);
    std::optional<double> solved;
    if (exact) {
      if (const auto n = SolveCount(changed, target, 4096, set)) solved = *n;
    }
    propose("run.nodes", set, solved, by_proxy);
  }
  if (changed.batch_size == base.batch_size) {
    const auto set = [](ExperimentConfig& c, double b) { c.batch_size = static_cast<uint32_t>(b); };
    const double factor = plan->sign ? r * r : r;
    const double by_proxy = std::clamp(std::ceil(changed.batch_size * factor - 1e-9), 1.0, double{1 << 24});
    std::optional<double> solved;
    if (exact) {
      if (const auto b = SolveCount(changed, target, 1u << 24, set)) solved = *b;
    }
    propose("noise.batch_size", set, solved, by_proxy);
  }
  return Status::Ok();
}

}  // namespace edgefl

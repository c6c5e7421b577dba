#include "sim/forecast_ranking.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace edgefl {
namespace {

bool AllTimed(const std::vector<RankedForecast>& forecasts) {
  return std::all_of(forecasts.begin(), forecasts.end(),
                     [](const RankedForecast& f) { return std::isfinite(f.seconds_per_round); });
}

std::string Format(const char* format, double a, double b = 0.0, double c = 0.0) {
  char text[160];
  std::snprintf(text, sizeof(text), format, a, b, c);
  return text;
}

}  // namespace

int64_t RoundsToTarget(const std::vector<double>& mean_loss, double target) {
  for (size_t k = 0; k < mean_loss.size(); ++k) {
    if (mean_loss[k] <= target) return static_cast<int64_t>(k + 1);
  }
  return -1;
}

void RankForecasts(std::vector<RankedForecast>& forecasts) {
  const bool timed = AllTimed(forecasts);
  std::stable_sort(forecasts.begin(), forecasts.end(), [timed](const RankedForecast& a, const RankedForecast& b) {
    if (a.reached() != b.reached()) return a.reached();
    if (!a.reached()) return a.final_loss < b.final_loss;
    if (timed ? a.seconds() != b.seconds() : a.rounds != b.rounds) {
      return timed ? a.seconds() < b.seconds() : a.rounds < b.rounds;
    }
    return a.up_megabytes() < b.up_megabytes();  // as soon: the fewer bytes
  });
}

std::string Recommend(const std::vector<RankedForecast>& ranked, double target) {
  if (ranked.empty()) return "nothing to compare";
  const RankedForecast& best = ranked.front();
  const bool timed = AllTimed(ranked);
  if (!best.reached()) {
    return "none reaches loss " + Format("%.4g", target) + "; the lowest expected loss is " + best.label + "'s, " +
           Format("%.4g", best.final_loss) + ": lower the target, or run more rounds";
  }
  std::string text = best.label + ": loss " + Format("%.4g", target) + " after " +
                     Format("%.0f rounds", static_cast<double>(best.rounds));
  if (timed) text += Format(", %.4g s, %.4g MB up", best.seconds(), best.up_megabytes());
  if (ranked.size() == 1 || !ranked[1].reached()) {
    return text + "; the only candidate that reaches it" +
           (ranked.size() > 1 ? " (next best: " + ranked[1].label + ", " + RunVerdictName(ranked[1].verdict) + ")"
                              : std::string());
  }
  const RankedForecast& next = ranked[1];
  if (timed) {
    const double speedup = next.seconds() / best.seconds();
    if (speedup < 1.005) {
      return text + ", as soon as " + next.label +
             Format(", with %.3gx fewer bytes up", next.up_megabytes() / best.up_megabytes());
    }
    text += Format(", %.2fx sooner than ", speedup) + next.label + ": ";
    const double cost_ratio = next.seconds_per_round / best.seconds_per_round;
    const double round_ratio = static_cast<double>(next.rounds) / static_cast<double>(best.rounds);
    if (cost_ratio >= round_ratio) {
      text += Format("its rounds cost %.3g s against %.3g s", best.seconds_per_round, next.seconds_per_round);
      text += Format(" (%.4g kB up a round against %.4g kB)", best.up_bytes_per_round / 1e3,
                     next.up_bytes_per_round / 1e3);
      if (round_ratio < 1.0) text += Format(", though it needs %.2fx the rounds", 1.0 / round_ratio);
    } else {
      text += Format("it needs %.0f rounds against %.0f", static_cast<double>(best.rounds),
                     static_cast<double>(next.rounds));
      if (cost_ratio < 1.0) text += Format(", though each costs %.2fx the time", 1.0 / cost_ratio);
    }
  } else {
    text += Format(", %.0f rounds sooner than ", static_cast<double>(next.rounds - best.rounds)) + next.label +
            " (set [link] to rank by time)";
  }
  return text;
}

}  // namespace edgefl

// Ranks forecasts (sim/sde_predictor.h) of candidate settings by how soon
// each reaches a target loss, and says which to pick and why: `edgefl
// predict --compare`. "Soon" is seconds on the config's [link]
// (sim/round_cost.h) when every candidate has one, rounds otherwise; a
// candidate reaches the target in the first round whose expected loss is at
// or below it. Those that never do rank after, by their final expected loss.
// Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/agreement.h"

namespace edgefl {

struct RankedForecast {
  std::string label;           // what the candidate is, in words
  int64_t rounds = -1;         // rounds to the target (-1: not reached)
  double seconds_per_round = 0.0;  // NaN without a [link]
  double up_bytes_per_round = 0.0; // every node's Update bytes
  double final_loss = 0.0;     // expected loss after the last round
  RunVerdict verdict = RunVerdict::kStalls;

  bool reached() const { return rounds >= 0; }
  double seconds() const { return seconds_per_round * static_cast<double>(rounds); }
  double up_megabytes() const { return up_bytes_per_round * static_cast<double>(rounds) / 1e6; }
};

// The rounds after which `mean_loss` is first at or below `target` (-1: never).
int64_t RoundsToTarget(const std::vector<double>& mean_loss, double target);

// Sorts best first; ties keep their order.
void RankForecasts(std::vector<RankedForecast>& forecasts);

// The recommendation and its reason, in a sentence or two, for forecasts
// ranked by RankForecasts.
std::string Recommend(const std::vector<RankedForecast>& ranked, double target);

}  // namespace edgefl

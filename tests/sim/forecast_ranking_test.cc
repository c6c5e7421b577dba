// Ranking forecasts by time to a target loss, and the recommendation's reason.
#include "sim/forecast_ranking.h"

#include <doctest/doctest.h>

#include <cmath>

namespace edgefl {
namespace {

RankedForecast Forecast(const char* label, int64_t rounds, double seconds_per_round, double up_bytes,
                        double final_loss = 1.0) {
  RankedForecast f;
  f.label = label;
  f.rounds = rounds;
  f.seconds_per_round = seconds_per_round;
  f.up_bytes_per_round = up_bytes;
  f.final_loss = final_loss;
  f.verdict = rounds >= 0 ? RunVerdict::kConverges : RunVerdict::kStalls;
  return f;
}

TEST_CASE("rounds to a target: the first round at or below it, counted from 1") {
  CHECK(RoundsToTarget({5, 3, 2, 1}, 2.0) == 3);
  CHECK(RoundsToTarget({5, 3}, 1.0) == -1);
}

TEST_CASE("with a link, time decides: cheap rounds beat fewer rounds, and the reason says so") {
  std::vector<RankedForecast> f = {Forecast("dense", 25, 0.0947, 32900), Forecast("rand-k", 30, 0.0534, 4352),
                                   Forecast("never", -1, 0.01, 100, 20.0), Forecast("never-lower", -1, 0.01, 100, 15.0)};
  RankForecasts(f);
  CHECK(f[0].label == "rand-k");
  CHECK(f[1].label == "dense");
  CHECK(f[2].label == "never-lower");  // not reached: by final loss
  CHECK(f[3].label == "never");
  const std::string why = Recommend(f, 10.0);
  CHECK(why.find("rand-k: loss 10 after 30 rounds") == 0);
  CHECK(why.find("1.48x sooner than dense") != std::string::npos);
  CHECK(why.find("its rounds cost 0.0534 s against 0.0947 s") != std::string::npos);
  CHECK(why.find("needs 1.20x the rounds") != std::string::npos);
}

TEST_CASE("fewer rounds win when rounds cost about the same; ties go to fewer bytes") {
  std::vector<RankedForecast> f = {Forecast("slow", 40, 0.05, 1000), Forecast("fast", 20, 0.055, 1000)};
  RankForecasts(f);
  CHECK(f[0].label == "fast");
  CHECK(Recommend(f, 1.0).find("it needs 20 rounds against 40") != std::string::npos);
  std::vector<RankedForecast> tie = {Forecast("N8", 12, 0.05, 2000), Forecast("N4", 12, 0.05, 1000)};
  RankForecasts(tie);
  CHECK(tie[0].label == "N4");
  CHECK(Recommend(tie, 1.0).find("as soon as N8, with 2x fewer bytes up") != std::string::npos);
}

TEST_CASE("without a link, rounds decide; none reaching the target is said plainly") {
  const double no_link = std::nan("");
  std::vector<RankedForecast> f = {Forecast("a", 30, no_link, 10), Forecast("b", 20, no_link, 10)};
  RankForecasts(f);
  CHECK(f[0].label == "b");
  CHECK(Recommend(f, 1.0).find("set [link]") != std::string::npos);
  std::vector<RankedForecast> none = {Forecast("a", -1, 0.1, 10, 3.0)};
  CHECK(Recommend(none, 1.0).find("none reaches loss 1") == 0);
}

}  // namespace
}  // namespace edgefl

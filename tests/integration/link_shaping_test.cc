// End to end, link.shaping = "token-bucket": real edgefl-node processes hold
// every RoundStart and Update until it would have crossed the configured link
// (node/node_link.h), so a round over loopback takes what sim/round_cost.h
// forecasts for that link, and the model is the unshaped run's bit for bit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "experiment/experiment_config.h"
#include "runfiles/run_recorder.h"
#include "sim/round_cost.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Summary;
using testing::Binary;
using testing::Contains;
using testing::RunCommand;

// d = 20000 comes in two RoundStart parts (16384 + 3616 values), so the
// downlink queues one part behind the other; sign updates are small, so the
// uplink's rate is set low enough to matter.
const char* kConfig = R"(
[run]
name = "shaped"
nodes = 2
rounds = 10
seed = 11
[objective]
kind = "quadratic"
dimension = 20000
lambda_min = 1.0
lambda_max = 2.0
[noise]
kind = "gaussian"
sigma = 1.0
[compressor]
kind = "sign"
[step]
eta = 0.001
)";

// The link: 20 kB/s up, 8 Mb/s down, 15 ms each way, 10 ms of computation.
const std::vector<std::string> kLink = {"link.shaping=token-bucket", "link.uplink_bps=200000",
                                        "link.downlink_bps=8000000", "link.latency_ms=15", "link.compute_ms=10"};

std::string SetFlags(const std::vector<std::string>& sets) {
  std::string flags;
  for (const std::string& set : sets) flags += " --set " + set;
  return flags;
}

// metrics.csv's time_s column: seconds from the first round's start to the
// end of each round.
std::vector<double> RoundEndTimes(const std::string& path) {
  const std::string csv = testing::ReadFile(path);
  std::vector<double> times;
  size_t line = csv.find('\n') + 1;  // past the header, whose second column is time_s
  while (line < csv.size()) {
    const size_t comma = csv.find(',', line);
    times.push_back(std::strtod(csv.c_str() + comma + 1, nullptr));
    line = csv.find('\n', line) + 1;
    if (line == 0) break;
  }
  return times;
}

TEST_CASE("a token-bucket link makes rounds take the forecast's time, and changes no bit of the model") {
  const std::string dir = testing::ScratchDir("link_shaping");
  testing::WriteFile(dir + "/config.toml", kConfig);

  // The forecast for this link, with the run's exact message sizes.
  std::vector<ExperimentConfig> configs;
  std::vector<std::string> sets = kLink;
  REQUIRE(LoadExperimentFile(dir + "/config.toml", sets, &configs).ok());
  const RoundCost cost = RoundCostOf(configs[0]);
  REQUIRE(cost.seconds > 0.2);
  REQUIRE(cost.seconds < 0.3);

  const auto unshaped =
      RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --verbose-nodes --out " + dir + "/unshaped");
  INFO(unshaped.output);
  REQUIRE(unshaped.exit_code == 0);
  const auto shaped = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --verbose-nodes" + SetFlags(kLink) +
                                 " --out " + dir + "/shaped");
  INFO(shaped.output);
  REQUIRE(shaped.exit_code == 0);

  const RunSummary plain = Summary(dir + "/unshaped/shaped/summary.toml");
  const RunSummary paced = Summary(dir + "/shaped/shaped/summary.toml");
  CHECK(paced.ok);
  CHECK(paced.steps == 10);
  CHECK(paced.rejected == 0);
  CHECK(paced.update_messages == 2 * 10);
  // Shaping holds messages back; it changes none of the maths.
  CHECK(paced.model_hash == plain.model_hash);
  CHECK(paced.bytes_up == plain.bytes_up);
  // The same bytes the forecast counted (round 0's RoundStart is 8 bytes
  // shorter: its round field is left out).
  CHECK(static_cast<double>(paced.bytes_up) == 2 * 10 * cost.up_bytes);

  // Every round after the first: the mean time between round ends.
  const std::vector<double> plain_times = RoundEndTimes(dir + "/unshaped/shaped/metrics.csv");
  const std::vector<double> times = RoundEndTimes(dir + "/shaped/shaped/metrics.csv");
  REQUIRE(times.size() == 10);
  const double measured = (times.back() - times.front()) / 9.0;
  const double plain_measured = (plain_times.back() - plain_times.front()) / 9.0;
  MESSAGE("seconds a round: measured " << measured << ", forecast " << cost.seconds << " (2 x 15 ms + 10 ms + 8 x "
                                       << cost.down_bytes << " B / 8 Mb/s + 8 x " << cost.up_bytes
                                       << " B / 200 kb/s); unshaped " << plain_measured);
  CHECK(measured == doctest::Approx(cost.seconds).epsilon(0.10));
  CHECK(plain_measured < 0.2 * cost.seconds);
  for (size_t i = 1; i < times.size(); ++i) {
    CAPTURE(i);
    CHECK(times[i] - times[i - 1] >= 0.9 * cost.seconds);  // no round slips through unshaped
  }

  // Each node said what it enforced, and what it achieved.
  CHECK(Contains(shaped.output, "link (token-bucket): uplink 200 kb/s, downlink 8 Mb/s, 15 ms latency each way"));
  CHECK(Contains(shaped.output, "link uplink: 10 updates"));
  CHECK(Contains(shaped.output, "link downlink: 10 rounds"));
  CHECK_FALSE(Contains(unshaped.output, "link ("));  // shaping none: nothing held, nothing said
}

TEST_CASE("a shaped link without a rate is refused at start-up, naming the keys to set") {
  const std::string dir = testing::ScratchDir("link_shaping_no_rate");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --set link.shaping=token-bucket --out " +
                            dir + "/out");
  INFO(r.output);
  CHECK(r.exit_code != 0);
  CHECK(Contains(r.output, "link.shaping = \"token-bucket\" needs a rate each way: give link.uplink_bps or link.preset"));
}

}  // namespace
}  // namespace edgefl

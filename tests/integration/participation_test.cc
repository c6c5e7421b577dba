// Participation through the real binaries: a population larger than a
// round's cohort, seeded cohorts, over-commitment, dropouts and the virtual
// clock; nodes.csv and metrics.csv say who was asked and what became of
// each answer.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "experiment/experiment_config.h"
#include "experiment/link_model.h"
#include "runfiles/run_recorder.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Binary;
using testing::Column;
using testing::RunCommand;

const char* kPopulationConfig = R"(
[run]
name = "population"
nodes = 8
rounds = 12
seed = 11
[objective]
kind = "quadratic"
dimension = 50
[noise]
sigma = 0.5
[compressor]
kind = "qsgd"
levels = 4
[step]
eta = 0.1
[round]
cohort = 3
quorum = 0.6
deadline_ms = 5000
)";

struct Run {
  RunSummary summary;
  std::string metrics, nodes;
};

Run RunWith(const std::string& dir, const std::string& name, const std::string& sets) {
  const std::string out = dir + "/" + name;
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml " + sets + " --out " + out);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  Run run;
  const Status read = ReadSummary(out + "/population/summary.toml", &run.summary);
  REQUIRE_MESSAGE(read.ok(), read.message());
  run.metrics = testing::ReadFile(out + "/population/metrics.csv");
  run.nodes = testing::ReadFile(out + "/population/nodes.csv");
  return run;
}

// round -> the nodes nodes.csv lists with `outcome` in it.
std::map<std::string, std::set<std::string>> NodesWith(const Run& run, const std::string& outcome) {
  const auto rounds = Column(run.nodes, "round"), nodes = Column(run.nodes, "node");
  const auto outcomes = Column(run.nodes, "outcome");
  std::map<std::string, std::set<std::string>> by_round;
  for (size_t i = 0; i < rounds.size(); ++i) {
    if (outcomes[i] == outcome) by_round[rounds[i]].insert(nodes[i]);
  }
  return by_round;
}

TEST_CASE("a cohort of 3 of 8 nodes a round: the same cohorts and model from the seed, on either clock") {
  const std::string dir = testing::ScratchDir("participation_cohort");
  testing::WriteFile(dir + "/config.toml", kPopulationConfig);
  // A round with a dropped answer waits for its deadline, as a real one
  // would: 1 s here, against a few ms for an answer on loopback.
  const std::string sets = "--rounds 8 --set round.dropout=0.25 --set round.deadline_ms=1000";
  const Run wall = RunWith(dir, "wall", sets);
  const Run again = RunWith(dir, "again", sets);
  const Run virtual_clock = RunWith(dir, "virtual", sets + " --set round.clock=virtual");

  // Every round asks 3, and says what became of each.
  for (const std::string& asked : Column(wall.metrics, "participants")) CHECK(asked == "3");
  const auto counted = NodesWith(wall, "counted"), dropped = NodesWith(wall, "dropped");
  long dropped_total = 0, counted_total = 0;
  for (const auto& [round, nodes] : dropped) dropped_total += static_cast<long>(nodes.size());
  for (const auto& [round, nodes] : counted) counted_total += static_cast<long>(nodes.size());
  CHECK(dropped_total + counted_total == 3 * 8);
  CHECK(dropped_total > 0);  // 24 draws at 0.25
  CHECK(wall.summary.update_messages == static_cast<uint64_t>(counted_total));
  for (const std::string& missing : Column(wall.metrics, "missing")) CHECK(missing == "0");
  // Over 8 rounds, cohorts of 3 drawn from 8 reach most of the population.
  std::set<std::string> ever;
  for (const auto& [round, nodes] : NodesWith(wall, "counted")) ever.insert(nodes.begin(), nodes.end());
  CHECK(ever.size() >= 6);

  // Cohorts and dropouts come from the seed alone: the same twice, and the
  // same on the virtual clock (no over-commitment: every answer counts).
  CHECK(NodesWith(again, "counted") == counted);
  CHECK(NodesWith(virtual_clock, "counted") == counted);
  CHECK(NodesWith(virtual_clock, "dropped") == dropped);
  CHECK(again.summary.model_hash == wall.summary.model_hash);
  CHECK(virtual_clock.summary.model_hash == wall.summary.model_hash);
}

TEST_CASE("over-committed on the virtual clock: the first K by modelled arrival count, the same model twice") {
  const std::string dir = testing::ScratchDir("participation_overcommit");
  testing::WriteFile(dir + "/config.toml", kPopulationConfig);
  // 4 asked (ceil(3 x 1.33)), the first 3 to arrive count. Every node's link is
  // alike, so arrival ties and the lower ids count; latency 20 ms, 1 Mb/s.
  const std::string sets = "--set round.clock=virtual --set round.over_commit=0.33 --set link.uplink_bps=1e6 "
                           "--set link.latency_ms=20 --set link.compute_ms=5";
  const Run first = RunWith(dir, "first", sets);
  const Run second = RunWith(dir, "second", sets);
  CHECK(first.summary.model_hash == second.summary.model_hash);
  CHECK(first.metrics == second.metrics);  // virtual time: every column, time_s included
  // nodes.csv too, but for compute_us, which the nodes measure.
  for (const char* column : {"round", "node", "bytes_up", "bytes_down", "accepted", "loss", "outcome", "arrival_s"}) {
    CHECK(Column(first.nodes, column) == Column(second.nodes, column));
  }
  for (const std::string& asked : Column(first.metrics, "participants")) CHECK(asked == "4");
  for (const std::string& late : Column(first.metrics, "late")) CHECK(late == "1");
  for (const std::string& updates : Column(first.metrics, "updates")) CHECK(updates == "3");

  // time_s is the modelled time: each round lasts until its third update
  // arrived, at 2 latency + compute + its exact bytes over the link.
  const auto rounds = Column(first.nodes, "round"), outcomes = Column(first.nodes, "outcome");
  const auto down = Column(first.nodes, "bytes_down"), up = Column(first.nodes, "bytes_up");
  const auto arrival = Column(first.nodes, "arrival_s");
  LinkConfig link;
  link.uplink_bps = 1e6;
  link.latency_ms = 20;
  link.compute_ms = 5;
  std::map<std::string, double> last_counted;
  for (size_t i = 0; i < rounds.size(); ++i) {
    const double modelled = RoundSeconds(ResolveLink(link), std::stod(down[i]), std::stod(up[i]));
    CHECK(std::stod(arrival[i]) == doctest::Approx(modelled).epsilon(1e-5));
    if (outcomes[i] == "counted") last_counted[rounds[i]] = std::max(last_counted[rounds[i]], modelled);
  }
  double elapsed = 0.0;
  const auto time_s = Column(first.metrics, "time_s");
  for (size_t r = 0; r < time_s.size(); ++r) {
    elapsed += last_counted[std::to_string(r)];
    CHECK(std::stod(time_s[r]) == doctest::Approx(elapsed).epsilon(1e-5));
  }
}

TEST_CASE("device profiles: a slow board on a thin link is slow, and under over-commitment its answers come late") {
  const std::string dir = testing::ScratchDir("participation_profiles");
  testing::WriteFile(dir + "/config.toml", std::string(kPopulationConfig) + R"(
[[profile]]
name = "zero2-lte-m"
nodes = 3
board = "pi-zero-2"
preset = "lte-m"
latency_ms = 60
[[profile]]
name = "pi5-wifi"
nodes = 3
board = "pi-5"
preset = "wifi"
latency_ms = 5
)");
  // 8 nodes: 3 slow, 3 fast, 2 on [link]. Cohort 4, over-committed to 6.
  const Run run = RunWith(dir, "profiles", "--set round.clock=virtual --set round.cohort=4 --set round.over_commit=0.5 "
                                          "--set link.compute_ms=10 --set link.uplink_bps=1e6 --set link.latency_ms=20");
  std::vector<ExperimentConfig> configs;
  REQUIRE(LoadExperimentFile(dir + "/config.toml", {"link.compute_ms=10", "link.uplink_bps=1e6", "link.latency_ms=20"},
                             &configs).ok());
  const ExperimentConfig& config = configs[0];
  const auto nodes = Column(run.nodes, "node"), outcomes = Column(run.nodes, "outcome");
  const auto down = Column(run.nodes, "bytes_down"), up = Column(run.nodes, "bytes_up");
  const auto arrival = Column(run.nodes, "arrival_s");
  long slow_counted = 0, slow_late = 0, fast_counted = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto node = static_cast<uint32_t>(std::stoul(nodes[i]));
    // Each arrival is its own profile's: 2 latency + the board's compute + its bytes over its link.
    const double modelled = RoundSeconds(ResolveLink(config.LinkOf(node)), std::stod(down[i]), std::stod(up[i]));
    CHECK(std::stod(arrival[i]) == doctest::Approx(modelled).epsilon(1e-5));
    if (node < 3) {
      slow_counted += outcomes[i] == "counted";
      slow_late += outcomes[i] == "late";
    } else if (node < 6) {
      fast_counted += outcomes[i] == "counted";
    }
  }
  // The fast boards answer first whenever asked; the slow ones are late
  // whenever the round already had its 4 (Pi Zero 2: 65 ms of compute and
  // 120 ms of latency against the Pi 5's 10 ms and 10 ms).
  CHECK(fast_counted > 0);
  CHECK(slow_late > 0);
  CHECK(fast_counted > slow_counted);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (std::stoul(nodes[i]) >= 3 && std::stoul(nodes[i]) < 6) CHECK(outcomes[i] == "counted");
  }
}

TEST_CASE("availability schedules: a profile is asked only in its on rounds, and a schedule without a quorum is refused") {
  const std::string dir = testing::ScratchDir("participation_schedule");
  // Nodes 0..3 on schedule in rounds 1 and 2 of every 4; nodes 4..7 always.
  const std::string night = R"(
[[profile]]
name = "night"
nodes = 4
schedule_period = 4
schedule_on = 2
schedule_start = 1
)";
  testing::WriteFile(dir + "/config.toml", std::string(kPopulationConfig) + night);
  const Run run = RunWith(dir, "schedule", "--set round.clock=virtual");
  const auto rounds = Column(run.nodes, "round"), nodes = Column(run.nodes, "node");
  long night_rows = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (std::stoul(nodes[i]) >= 4) continue;
    ++night_rows;
    INFO("node " << nodes[i] << " listed in round " << rounds[i]);
    CHECK((std::stoul(rounds[i]) % 4 == 1 || std::stoul(rounds[i]) % 4 == 2));
  }
  CHECK(night_rows > 0);  // 6 on rounds of 12, 3 asked of 8
  for (const std::string& asked : Column(run.metrics, "participants")) CHECK(asked == "3");

  // Every node of the population on that schedule leaves rounds 0 and 3 with none.
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --set round.schedule_period=4 " +
                            "--set round.schedule_on=2 --set round.schedule_start=1 --out " + dir + "/refused");
  INFO(r.output);
  CHECK(r.exit_code != 0);
  CHECK(testing::Contains(r.output, "0 of run.nodes = 8 nodes on schedule in round 0"));
}

TEST_CASE("a profile's memory budget reaches its nodes, which refuse a task past it") {
  const std::string dir = testing::ScratchDir("participation_memory");
  testing::WriteFile(dir + "/config.toml", std::string(kPopulationConfig) + R"(
[[profile]]
name = "tiny"
nodes = 2
memory_budget = 100000
)");
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --set objective.dimension=50000 " +
                            "--set round.join_timeout_ms=3000 --out " + dir + "/out");
  INFO(r.output);
  // Nodes 0 and 1 (the profile) refuse; the run carries on with the
  // other six, and says which nodes ended.
  CHECK(r.exit_code != 0);
  CHECK(testing::Contains(r.output, "edgefl-node 0: error: memory budget of 100000 bytes is too small"));
  CHECK(testing::Contains(r.output, "edgefl-node 1: error: memory budget of 100000 bytes is too small"));
  CHECK(!testing::Contains(r.output, "edgefl-node 2: error"));
  CHECK(testing::Contains(r.output, "node 0: exit code 1"));
}

}  // namespace
}  // namespace edgefl

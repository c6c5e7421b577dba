// [[profile]] tables: read, checked, written back, and each node's link and
// participation from its profile.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "experiment/experiment_config.h"
#include "experiment/link_model.h"

namespace edgefl {
namespace {

const char* kTwoProfiles = R"(
[run]
nodes = 6
[link]
compute_ms = 10
latency_ms = 7
[round]
dropout = 0.1
[[profile]]
name = "zero2-lte-m"
nodes = 3
board = "pi-zero-2"
preset = "lte-m"
latency_ms = 60
availability = 0.5
[[profile]]
name = "pi5-wifi"
nodes = 2
board = "pi-5"
uplink_bps = 2e7
compute_ms = 4
memory_budget = 1000000
)";

ExperimentConfig Load(const std::string& text) {
  std::vector<ExperimentConfig> configs;
  const Status s = LoadExperiments(text, "profiles.toml", {}, &configs);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(configs.size() == 1);
  return configs[0];
}

std::string LoadError(const std::string& text) {
  std::vector<ExperimentConfig> configs;
  const Status s = LoadExperiments(text, "profiles.toml", {}, &configs);
  REQUIRE(!s.ok());
  return s.message();
}

TEST_CASE("profiles give each node its link, computation and participation, in file order") {
  const ExperimentConfig c = Load(kTwoProfiles);
  REQUIRE(c.profiles.size() == 2);
  for (uint32_t i : {0u, 1u, 2u}) CHECK(c.ProfileOf(i) == &c.profiles[0]);
  for (uint32_t i : {3u, 4u}) CHECK(c.ProfileOf(i) == &c.profiles[1]);
  CHECK(c.ProfileOf(5) == nullptr);

  const codec::LinkSpec zero2 = ResolveLink(c.LinkOf(1));
  CHECK(zero2.uplink_bps == PresetUplinkBps(LinkPreset::kLteM));
  CHECK(zero2.latency_ms == 60);
  CHECK(zero2.compute_ms == doctest::Approx(6.5 * 10));  // the board's factor times [link]'s
  const codec::LinkSpec pi5 = ResolveLink(c.LinkOf(4));
  CHECK(pi5.uplink_bps == 2e7);
  CHECK(pi5.downlink_bps == 2e7);
  CHECK(pi5.latency_ms == 7);   // [link]'s
  CHECK(pi5.compute_ms == 4);   // its own
  const codec::LinkSpec plain = ResolveLink(c.LinkOf(5));
  CHECK(plain.compute_ms == 10);
  CHECK(plain.uplink_bps == 0.0);
  // The task carries the node's own link.
  CHECK(c.TaskFor(1).link == zero2);
  CHECK(c.TaskFor(4).link == pi5);

  CHECK(c.ParticipationOf(0).availability == 0.5);
  CHECK(c.ParticipationOf(0).dropout == 0.1);  // [round]'s
  CHECK(c.ParticipationOf(3).availability == 1.0);
  CHECK(c.profiles[1].memory_budget_bytes == 1000000);
  CHECK(BoardMemoryBudgetBytes(c.profiles[0].board) == 128ull << 20);
}

TEST_CASE("profiles survive ToToml and read back equal") {
  const ExperimentConfig c = Load(kTwoProfiles);
  const ExperimentConfig again = Load(ToToml(c));
  CHECK(again == c);
  CHECK(ToToml(again) == ToToml(c));
}

TEST_CASE("bad profiles are errors that name the profile and the key") {
  std::string text = kTwoProfiles;
  CHECK(LoadError(text + "[[profile]]\nname = \"more\"\nnodes = 2\n").find("past run.nodes = 6") !=
        std::string::npos);
  CHECK(LoadError(text + "[[profile]]\nname = \"pi5-wifi\"\n").find("\"pi5-wifi\" is used twice") !=
        std::string::npos);
  CHECK(LoadError(text + "[[profile]]\nboard = \"pi-6\"\n").find("profile 3") != std::string::npos);
  CHECK(LoadError(text + "[[profile]]\nnodez = 1\n").find("profile.nodez") != std::string::npos);
  CHECK(LoadError("profile = 3\n").find("[[profile]]") != std::string::npos);
  // A profile without link keys keeps [link]'s rate; a shaped run needs one.
  const std::string shaped = "[run]\nnodes = 2\n[link]\nshaping = \"token-bucket\"\n";
  CHECK(ResolveLink(Load(shaped + "uplink_bps = 1e6\n[[profile]]\nnodes = 1\n").LinkOf(0)).uplink_bps == 1e6);
  CHECK(!LoadError(shaped + "[[profile]]\nnodes = 1\n").empty());
}

TEST_CASE("availability schedules: the on rounds of each period, wrapping past its end") {
  const AvailabilitySchedule night{.period = 24, .on = 8, .start = 22};
  std::vector<uint32_t> on;
  for (uint32_t round = 0; round < 48; ++round) {
    if (night.Includes(round)) on.push_back(round);
  }
  CHECK(on == std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 22, 23, 24, 25, 26, 27, 28, 29, 46, 47});
  CHECK(AvailabilitySchedule{}.Includes(12345));
  CHECK(AvailabilitySchedule{.period = 5, .on = 5, .start = 3}.Includes(7));

  // A profile's schedule replaces [round]'s; without one it takes [round]'s.
  // Nodes 3 and 4 in rounds 2, 5, 8, ..., the other four in the rest; a
  // quorum of 2 of the 6.
  std::string text = kTwoProfiles;
  text.replace(text.find("dropout = 0.1\n"), 14,
               "dropout = 0.1\nquorum = 0.3\nschedule_period = 3\nschedule_on = 2\n");
  const ExperimentConfig c = Load(text + "schedule_period = 3\nschedule_on = 1\nschedule_start = 2\n");
  const AvailabilitySchedule rest{.period = 3, .on = 2, .start = 0}, third{.period = 3, .on = 1, .start = 2};
  CHECK(c.ParticipationOf(3).schedule == third);
  CHECK(c.ParticipationOf(0).schedule == rest);
  CHECK(c.ParticipationOf(5).schedule == rest);
  CHECK(Load(ToToml(c)) == c);
}

TEST_CASE("bad schedules are errors that name the key, and every round needs a quorum on schedule") {
  const std::string base = "[run]\nnodes = 4\nrounds = 50\n[round]\n";
  const std::string strict = "[run]\nnodes = 4\nrounds = 50\n[round]\nquorum = 0.75\n";
  CHECK(LoadError(base + "schedule_period = 4\nschedule_on = 5\n").find("round.schedule_on = 5") !=
        std::string::npos);
  CHECK(LoadError(base + "schedule_period = 4\nschedule_on = 0\n").find("round.schedule_on = 0") !=
        std::string::npos);
  CHECK(LoadError(base + "schedule_period = 4\nschedule_on = 2\nschedule_start = 4\n")
            .find("round.schedule_start = 4") != std::string::npos);
  CHECK(LoadError(base + "schedule_on = 2\n").find("need a schedule_period") != std::string::npos);
  CHECK(LoadError(base + "[[profile]]\nname = \"night\"\nnodes = 2\nschedule_period = 3\nschedule_on = 4\n")
            .find("profile \"night\".schedule_on = 4") != std::string::npos);

  // 4 nodes, quorum 2 (half of them): a day pair on schedule in rounds 0..9
  // of every 20 and a night pair in rounds 10..19 leave two every round...
  const std::string pairs =
      "[[profile]]\nname = \"day\"\nnodes = 2\nschedule_period = 20\nschedule_on = 10\n"
      "[[profile]]\nname = \"night\"\nnodes = 2\nschedule_period = 20\nschedule_on = 10\nschedule_start = 10\n";
  CHECK(Load(base + pairs).profiles.size() == 2);
  // ...but not the 3 of quorum 0.75: the first round short of it is named.
  const std::string error = LoadError(strict + pairs);
  CHECK(error.find("2 of run.nodes = 4 nodes on schedule in round 0") != std::string::npos);
  CHECK(error.find("quorum of 3") != std::string::npos);
  // A gap: the night pair starting a round late leaves none in round 10.
  const std::string gap = base +
                          "[[profile]]\nname = \"day\"\nnodes = 2\nschedule_period = 20\nschedule_on = 10\n"
                          "[[profile]]\nname = \"night\"\nnodes = 2\nschedule_period = 20\nschedule_on = 9\n"
                          "schedule_start = 11\n";
  CHECK(LoadError(gap).find("0 of run.nodes = 4 nodes on schedule in round 10") != std::string::npos);
}

}  // namespace
}  // namespace edgefl

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

}  // namespace
}  // namespace edgefl

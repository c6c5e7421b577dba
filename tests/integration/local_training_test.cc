// Local training and differential privacy end to end, through the real
// binaries: nodes that take E steps of an optimiser with FedProx's pull,
// clip, and add local DP noise train the same model twice; central DP's
// noise is the coordinator's, replays, and both report the epsilon the
// accountant gives for the run's mechanism; configs the accountant cannot
// vouch for are refused before any node starts.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include <signal.h>

#include "maths/privacy_accountant.h"
#include "runfiles/checkpoint.h"
#include "runfiles/run_recorder.h"
#include "sim/closed_forms.h"
#include "sim/launcher.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Summary;
using testing::Binary;
using testing::Contains;
using testing::RunCommand;

constexpr const char* kConfig = R"(
[run]
name = "local"
nodes = 6
rounds = 40
seed = 3
[objective]
dimension = 2000
lambda_min = 0.5
lambda_max = 2.0
[noise]
sigma = 0.5
[step]
eta = 0.05
)";

TEST_CASE("five adam steps with FedProx, clipping and local DP: the same model twice, epsilon as the accountant") {
  const std::string dir = testing::ScratchDir("local_training");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const std::string run = Binary("edgefl") + " run " + dir +
                          "/config.toml --set local.steps=5 --set local.optimizer=adam --set local.lr=0.01 "
                          "--set local.prox_mu=0.1 --set local.state=run --set compressor.kind=ef-sign "
                          "--set privacy.mode=local --set privacy.clip_norm=30 --set privacy.noise_multiplier=0.05 ";
  std::vector<RunSummary> summaries;
  for (const char* out : {"/a", "/b"}) {
    const auto r = RunCommand(run + "--out " + dir + out, 300);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    summaries.push_back(Summary(dir + out + "/local/summary.toml"));
    CHECK(summaries.back().ok);
    CHECK(summaries.back().steps == 40);
  }
  CHECK(summaries[0].model_hash == summaries[1].model_hash);
  CHECK(summaries[0].final_loss < 0.05 * summaries[0].initial_loss);

  // Local DP: every node may release in every round, q = 1, and any two of
  // a node's data sets move its clipped update by up to 2C: multiplier z/2.
  PrivacyAccountant accountant(1.0, 0.05 / 2.0);
  accountant.Step(40);
  const double expected = accountant.EpsilonAt(1e-5).epsilon;
  INFO("summary epsilon " << summaries[0].epsilon << ", the accountant's " << expected);
  CHECK(std::fabs(summaries[0].epsilon - expected) <= 1e-9 * expected);
  const auto column = testing::Column(testing::ReadFile(dir + "/a/local/metrics.csv"), "epsilon");
  REQUIRE(column.size() == 40);
  double previous = 0.0;
  for (const std::string& cell : column) {
    const double epsilon = std::stod(cell);
    CHECK(epsilon > previous);
    previous = epsilon;
  }
  CHECK(previous == doctest::Approx(expected).epsilon(1e-8));
}

TEST_CASE("central DP: the coordinator's noise on a Poisson sample, replayed, and its epsilon") {
  const std::string dir = testing::ScratchDir("central_dp");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const std::string out = dir + "/out";
  const auto r = RunCommand(Binary("edgefl") + " run " + dir +
                                "/config.toml --set round.availability=0.5 --set round.quorum=0.1 "
                                "--set privacy.mode=central --set privacy.clip_norm=60 "
                                "--set privacy.noise_multiplier=0.05 --set privacy.delta=1e-3 --keep-updates --out " +
                                out,
                            300);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const RunSummary s = Summary(out + "/local/summary.toml");
  CHECK(s.ok);
  CHECK(s.steps > 30);  // a round without a sampled node makes no step
  PrivacyAccountant accountant(0.5, 0.05);
  accountant.Step(s.steps);
  const double expected = accountant.EpsilonAt(1e-3).epsilon;
  INFO("summary epsilon " << s.epsilon << ", the accountant's " << expected);
  CHECK(std::fabs(s.epsilon - expected) <= 1e-9 * expected);
  CHECK(s.final_loss < 0.1 * s.initial_loss);

  // The replay draws the same noise from the run's seed and lands on the same model.
  const auto replay = RunCommand(Binary("edgefl") + " verify --replay " + out + "/local");
  INFO(replay.output);
  CHECK(replay.exit_code == 0);
  CHECK(Contains(replay.output, "replay: 40 rounds taken again"));
}

TEST_CASE("E local sgd steps on the quadratic settle where docs/theory.md 6.1's closed form says") {
  // Five steps of lr = 0.05, a server step of 0.1 (FedOpt's server lr 2), a
  // cohort of 4 of 8: measured 2.542, 2.546 and 2.531 for seeds 1-3 against
  // 2.530. Two seeds' mean of the tail means (each over 300 rounds of d =
  // 1000 coordinates, about 0.5% of Monte-Carlo error) within 3%.
  const std::string dir = testing::ScratchDir("local_sgd_floor");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "localq"
nodes = 8
rounds = 600
[objective]
dimension = 1000
lambda_min = 1.0
lambda_max = 4.0
[noise]
sigma = 1.0
batch_size = 4
[local]
steps = 5
lr = 0.05
[step]
eta = 0.1
[round]
cohort = 4
)");
  std::vector<ExperimentConfig> configs;
  REQUIRE(LoadExperimentFile(dir + "/config.toml", {}, &configs).ok());
  const std::optional<double> floor = PredictedStationaryLoss(configs[0]);
  REQUIRE(floor.has_value());
  double measured = 0.0;
  for (const char* seed : {"1", "2"}) {
    const std::string out = dir + "/seed-" + seed;
    const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --set run.seed=" + seed + " --out " + out);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    measured += Summary(out + "/localq/summary.toml").tail_mean_loss / 2.0;
  }
  MESSAGE("E = 5 local sgd: measured " << measured << ", closed form " << *floor);
  CHECK(measured == doctest::Approx(*floor).epsilon(0.03));
}

TEST_CASE("a Poisson sample that draws fewer than the quorum makes a round without a step, not a failure") {
  // Three nodes each available with probability 0.3: a round finds none
  // with probability 0.343, and three such rounds in a row are likely in 60.
  // Once that waited join_timeout_ms for nodes no wait could bring, then
  // ended the run.
  const std::string dir = testing::ScratchDir("poisson_empty");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const std::string out = dir + "/out";
  const auto r = RunCommand(Binary("edgefl") + " run " + dir +
                                "/config.toml --nodes 3 --rounds 60 --set round.availability=0.3 "
                                "--set round.quorum=0.3 --set privacy.mode=central --set privacy.clip_norm=60 "
                                "--set privacy.noise_multiplier=0.05 --set round.join_timeout_ms=20000 --out " +
                                out,
                            120);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const RunSummary s = Summary(out + "/local/summary.toml");
  CHECK(s.ok);
  CHECK(s.rounds == 60);
  CHECK(s.steps < 50);
  CHECK(s.steps > 20);
  CHECK(s.wall_time_s < 10.0);  // no round waited for the 20 s join timeout
  const auto updates = testing::Column(testing::ReadFile(out + "/local/metrics.csv"), "updates");
  int empty_in_a_row = 0, longest = 0;
  for (const std::string& cell : updates) {
    empty_in_a_row = cell == "0" ? empty_in_a_row + 1 : 0;
    longest = std::max(longest, empty_in_a_row);
  }
  MESSAGE("60 rounds at q = 0.3 of 3 nodes: " << s.steps << " steps, at most " << longest << " empty rounds in a row");
  CHECK(longest >= 3);  // what once ended the run
  PrivacyAccountant accountant(0.3, 0.05);
  accountant.Step(s.steps);
  CHECK(std::fabs(s.epsilon - accountant.EpsilonAt(1e-5).epsilon) <= 1e-9 * s.epsilon);
}

TEST_CASE("scaffold on non-IID digits: control variates both ways, the same model twice, and better than FedAvg") {
  // The digits MLP on Dirichlet(0.3) shards, five local steps: FedAvg's
  // nodes drift towards their own classes, SCAFFOLD's corrections hold
  // them to the population's gradient.
  const std::string dir = testing::ScratchDir("scaffold");
  const std::string run = Binary("edgefl") + " run " + std::string(EDGEFL_SOURCE_DIR) +
                          "/examples/digits.toml --variant mlp-noniid-dense --rounds 60 --set local.steps=5 "
                          "--set local.lr=0.2 --set step.eta=0.2 ";
  std::vector<RunSummary> summaries;
  for (const char* flags : {"--set local.optimizer=scaffold --out " , "--set local.optimizer=scaffold --out ",
                            "--set local.optimizer=sgd --out "}) {
    const std::string out = dir + "/" + std::to_string(summaries.size());
    const auto r = RunCommand(run + flags + out, 300);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    summaries.push_back(Summary(out + "/mlp-noniid-dense/summary.toml"));
    CHECK(summaries.back().ok);
    CHECK(summaries.back().rejected == 0);
  }
  MESSAGE("digits mlp non-iid, E = 5, 60 rounds: scaffold test accuracy " << summaries[0].final_test_accuracy
                                                                           << ", fedavg " << summaries[2].final_test_accuracy);
  CHECK(summaries[0].model_hash == summaries[1].model_hash);
  CHECK(summaries[0].model_hash != summaries[2].model_hash);
  CHECK(summaries[0].final_test_accuracy > 0.9);
  // The control values double both directions: d = 2410 floats more in every
  // update and every round start.
  const double up_ratio = static_cast<double>(summaries[0].bytes_up) / static_cast<double>(summaries[2].bytes_up);
  CHECK(up_ratio == doctest::Approx(2.0).epsilon(0.02));
  const double down_ratio =
      static_cast<double>(summaries[0].bytes_down) / static_cast<double>(summaries[2].bytes_down);
  CHECK(down_ratio == doctest::Approx(2.0).epsilon(0.02));
}

// Node state a resume must restore: ef-sign's error memory with Adam's
// moments and step count kept for the run, and top-k's error memory with
// SCAFFOLD's control variate c_i.
constexpr const char* kStatefulConfig = R"(
[run]
name = "stateful"
nodes = 3
rounds = 400
seed = 5
checkpoint_every = 50
[objective]
dimension = 200
[local]
steps = 2
lr = 0.01
[step]
eta = 0.01
[round]
heartbeat_ms = 100
)";

struct StatefulCase {
  const char* name;
  std::vector<std::string> sets;
};

std::vector<StatefulCase> StatefulCases() {
  return {{"ef-sign-adam", {"compressor.kind=ef-sign", "local.optimizer=adam", "local.state=run"}},
          {"top-k-scaffold", {"compressor.kind=top-k", "compressor.k=20", "local.optimizer=scaffold"}}};
}

std::string ConfigWith(const std::string& dir, const StatefulCase& c) {
  std::string text = kStatefulConfig;
  std::vector<std::string> sets = c.sets;
  std::vector<edgefl::ExperimentConfig> configs;
  REQUIRE(LoadExperiments(text, "stateful.toml", sets, &configs).ok());
  const std::string path = dir + "/" + c.name + ".toml";
  testing::WriteFile(path, ToToml(configs[0]));
  return path;
}

size_t StartStatefulNode(ProcessGroup& group, const std::string& endpoint, int id, const std::string& state_dir) {
  size_t index = 0;
  REQUIRE(group
              .Spawn({Binary("edgefl-node"), "--connect", endpoint, "--id", std::to_string(id), "--quiet",
                      "--state-dir", state_dir},
                     -1, &index)
              .ok());
  return index;
}

TEST_CASE("node state (error memory, moments, control variates) survives a resume: the uninterrupted model") {
  const std::string dir = testing::ScratchDir("node_state");
  for (const StatefulCase& c : StatefulCases()) {
    CAPTURE(c.name);
    const std::string config = ConfigWith(dir, c);
    const auto reference_run = RunCommand(Binary("edgefl") + " run " + config + " --out " + dir + "/" + c.name + "-ref");
    INFO(reference_run.output);
    REQUIRE(reference_run.exit_code == 0);
    const uint64_t reference = Summary(dir + "/" + c.name + "-ref/stateful/summary.toml").model_hash;

    // SIGTERM mid-run (its own checkpoint, a round perhaps cut short after
    // the nodes computed it), then new node processes with the same state
    // folder.
    {
      const std::string out = dir + "/" + c.name + "-term";
      const std::string state = out + "-node-state";
      ProcessGroup group;
      size_t coordinator = 0;
      std::string endpoint;
      Status s = SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--config", config, "--out", out, "--quiet"}, 5000,
                                  &coordinator, &endpoint);
      REQUIRE_MESSAGE(s.ok(), s.message());
      for (int i = 0; i < 3; ++i) StartStatefulNode(group, endpoint, i, state);
      testing::WaitForRows(out + "/metrics.csv", 130);
      group.Signal(coordinator, SIGTERM);
      CHECK(testing::WaitFor(group, coordinator).exit_code == 130);
      group.Stop(3000);
      ProcessGroup again;
      s = SpawnCoordinator(again, EDGEFL_BIN_DIR, {"--resume", out, "--quiet"}, 5000, &coordinator, &endpoint);
      REQUIRE_MESSAGE(s.ok(), s.message());
      for (int i = 0; i < 3; ++i) StartStatefulNode(again, endpoint, i, state);
      CHECK(testing::WaitFor(again, coordinator).exit_code == 0);
      const RunSummary summary = Summary(out + "/summary.toml");
      CHECK(summary.rounds == 400);
      CHECK(summary.model_hash == reference);
    }
    // SIGKILL: the coordinator resumes from its last multiple of 50, and the
    // nodes, which have computed past it, rejoin and go back to it.
    {
      const std::string out = dir + "/" + c.name + "-kill";
      const std::string state = out + "-node-state";
      ProcessGroup group;
      size_t coordinator = 0;
      std::string endpoint;
      Status s = SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--config", config, "--out", out, "--quiet"}, 5000,
                                  &coordinator, &endpoint);
      REQUIRE_MESSAGE(s.ok(), s.message());
      size_t nodes[3];
      for (int i = 0; i < 3; ++i) nodes[i] = StartStatefulNode(group, endpoint, i, state);
      testing::WaitForRows(out + "/metrics.csv", 130);
      group.Signal(coordinator, SIGKILL);
      CHECK(testing::WaitFor(group, coordinator).signal == SIGKILL);
      Checkpoint header;
      REQUIRE(ReadCheckpointHeader(out + "/checkpoint.bin", &header).ok());
      CHECK(header.round % 50 == 0);
      CHECK(header.round <= testing::Rows(out + "/metrics.csv"));  // the nodes have mostly computed past it
      size_t resumed = 0;
      s = SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--resume", out, "--quiet"}, 5000, &resumed, &endpoint, endpoint);
      REQUIRE_MESSAGE(s.ok(), s.message());
      CHECK(testing::WaitFor(group, resumed).exit_code == 0);
      for (const size_t node : nodes) CHECK(testing::WaitFor(group, node).exit_code == 0);
      const RunSummary summary = Summary(out + "/summary.toml");
      CHECK(summary.rounds == 400);
      CHECK(summary.model_hash == reference);
    }
  }
}

TEST_CASE("privacy the accountant cannot vouch for is refused before any node starts") {
  const std::string dir = testing::ScratchDir("privacy_refused");
  testing::WriteFile(dir + "/config.toml", kConfig);
  struct Case {
    const char* flags;
    const char* message;
  };
  for (const Case& c : {
           Case{"--set privacy.mode=central --set privacy.clip_norm=1 --set privacy.noise_multiplier=1 "
                "--set aggregator.kind=median",
                "privacy.mode = \"central\" needs aggregator.kind = \"mean\""},
           Case{"--set privacy.mode=central --set privacy.clip_norm=1 --set privacy.noise_multiplier=1 "
                "--set round.cohort=3",
                "leave round.cohort at 0 (got 3)"},
           Case{"--set privacy.mode=local --set privacy.noise_multiplier=1",
                "privacy.noise_multiplier = 1 needs privacy.clip_norm > 0"},
           Case{"--set privacy.noise_multiplier=1 --set privacy.clip_norm=1", "privacy.mode = \"off\""},
           Case{"--set local.optimizer=scaffold --set privacy.mode=local --set privacy.clip_norm=1 "
                "--set privacy.noise_multiplier=1",
                "it cannot run with privacy"},
           Case{"--set local.steps=0", "local.steps"},
           Case{"--set local.optimizer=lion", "local.optimizer"},
       }) {
    CAPTURE(c.flags);
    const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml " + c.flags + " --out " + dir + "/x");
    INFO(r.output);
    CHECK(r.exit_code != 0);
    CHECK(Contains(r.output, c.message));
  }
}

}  // namespace
}  // namespace edgefl

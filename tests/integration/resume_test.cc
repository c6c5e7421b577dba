// Checkpoints and resume through the real processes: a coordinator killed
// with SIGKILL or stopped with SIGTERM carries on from its checkpoint with
// --resume, its rows appended, and ends on the model an uninterrupted run
// ends on, bit for bit; its nodes rejoin by themselves after a SIGKILL. A
// fresh run refuses a folder that holds one.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "runfiles/checkpoint.h"
#include "runfiles/model_file.h"
#include "runfiles/run_recorder.h"
#include "sim/launcher.h"
#include "sim/process_group.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Summary;
using testing::Binary;
using testing::RunCommand;
using testing::Contains;
using testing::Rows;
using testing::WaitForRows;
using testing::WaitFor;

// State a checkpoint must carry: adam's moments, the running norm estimate
// of a normalising rule, the online smoothness fit.
const char* kConfig = R"(
[run]
name = "resumable"
nodes = 3
rounds = 3000
seed = 11
checkpoint_every = 50
[objective]
dimension = 200
[server]
optimizer = "adam"
[step]
rule = "normalized"
eta = 0.02
norm = "running"
smoothness = "online"
[round]
heartbeat_ms = 100
)";

// The uninterrupted run's model hash (run once).
uint64_t ReferenceHash() {
  static uint64_t hash = 0;
  if (hash != 0) return hash;
  const std::string dir = testing::ScratchDir("resume_reference");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/out");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  hash = Summary(dir + "/out/resumable/summary.toml").model_hash;
  return hash;
}

size_t StartNode(ProcessGroup& group, const std::string& endpoint, int id) {
  size_t index = 0;
  REQUIRE(group.Spawn({Binary("edgefl-node"), "--connect", endpoint, "--id", std::to_string(id), "--quiet"}, -1, &index)
              .ok());
  return index;
}

// metrics.csv holds rounds 0 .. rounds-1 once each, in order; nodes.csv
// holds no (round, node) twice and its rounds never go back.
void CheckRows(const std::string& dir, uint32_t rounds) {
  const std::string metrics = testing::ReadFile(dir + "/metrics.csv");
  size_t line = metrics.find('\n') + 1;
  for (uint32_t round = 0; round < rounds; ++round) {
    REQUIRE(line < metrics.size());
    REQUIRE(std::stoul(metrics.substr(line, metrics.find(',', line) - line)) == round);
    line = metrics.find('\n', line) + 1;
  }
  CHECK(line == metrics.size());
  const std::string nodes = testing::ReadFile(dir + "/nodes.csv");
  std::set<std::pair<unsigned long, unsigned long>> seen;
  unsigned long last_round = 0;
  for (size_t at = nodes.find('\n') + 1; at < nodes.size(); at = nodes.find('\n', at) + 1) {
    const size_t comma = nodes.find(',', at);
    const unsigned long round = std::stoul(nodes.substr(at, comma - at));
    const unsigned long node = std::stoul(nodes.substr(comma + 1));
    CHECK(round >= last_round);
    CHECK(seen.insert({round, node}).second);
    last_round = round;
  }
  CHECK(seen.size() == 3u * rounds);
}

TEST_CASE("a coordinator killed with SIGKILL resumes from its checkpoint; its nodes rejoin; the model is the same") {
  const uint64_t reference = ReferenceHash();
  const std::string dir = testing::ScratchDir("resume_after_kill");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const std::string out = dir + "/out";
  ProcessGroup group;
  size_t coordinator = 0;
  std::string endpoint;
  Status s = SpawnCoordinator(group, EDGEFL_BIN_DIR,
                              {"--config", dir + "/config.toml", "--out", out, "--quiet", "--keep-updates"}, 5000,
                              &coordinator, &endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  size_t nodes[3];
  for (int i = 0; i < 3; ++i) nodes[i] = StartNode(group, endpoint, i);
  WaitForRows(out + "/metrics.csv", 420);
  group.Signal(coordinator, SIGKILL);
  CHECK(WaitFor(group, coordinator).signal == SIGKILL);
  const long rows_at_kill = Rows(out + "/metrics.csv");
  REQUIRE(rows_at_kill < 3000);
  Checkpoint header;
  REQUIRE(ReadCheckpointHeader(out + "/checkpoint.bin", &header).ok());
  CHECK(header.round % 50 == 0);
  CHECK(header.round <= rows_at_kill);
  CHECK_FALSE(header.finished);

  // The same endpoint; the nodes, still running, find the new coordinator.
  size_t resumed = 0;
  s = SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--resume", out, "--quiet"}, 5000, &resumed, &endpoint, endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(WaitFor(group, resumed).exit_code == 0);
  for (const size_t node : nodes) CHECK(WaitFor(group, node).exit_code == 0);
  const RunSummary summary = Summary(out + "/summary.toml");
  CHECK(summary.ok);
  CHECK(summary.stop_reason == "all rounds done");
  CHECK(summary.rounds == 3000);
  CHECK(summary.steps == 3000);
  CHECK(summary.model_hash == reference);
  CheckRows(out, 3000);
  // The audit chain was cut back to the checkpoint and carried on: it holds
  // each round once and ends on model.bin's model.
  // --replay: updates.bin was cut back with them, and every step follows.
  const auto verified = testing::RunCommand(testing::Binary("edgefl") + " verify --replay " + out);
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
  CHECK(verified.output.find("3000 rounds") != std::string::npos);
  CHECK(verified.output.find("model.bin: matches the chain") != std::string::npos);
  CHECK(verified.output.find("replay: 3000 rounds") != std::string::npos);
  std::vector<float> model;
  uint64_t hash = 0;
  REQUIRE(ReadModelFile(out + "/model.bin", &model, &hash).ok());
  CHECK(hash == reference);
  CHECK(model.size() == 200);
}

TEST_CASE("SIGTERM writes a checkpoint; the resumed run appends to metrics.csv and ends on the same model") {
  const uint64_t reference = ReferenceHash();
  const std::string dir = testing::ScratchDir("resume_after_term");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const std::string out = dir + "/out";
  ProcessGroup group;
  size_t coordinator = 0;
  std::string endpoint;
  Status s = SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--config", dir + "/config.toml", "--out", out, "--quiet"}, 5000,
                              &coordinator, &endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  for (int i = 0; i < 3; ++i) StartNode(group, endpoint, i);
  WaitForRows(out + "/metrics.csv", 130);
  group.Signal(coordinator, SIGTERM);
  CHECK(WaitFor(group, coordinator).exit_code == 130);
  const RunSummary stopped = Summary(out + "/summary.toml");
  CHECK(stopped.stop_reason == "stopped by signal");
  Checkpoint header;
  REQUIRE(ReadCheckpointHeader(out + "/checkpoint.bin", &header).ok());
  CHECK(header.round == stopped.rounds);  // not a multiple of 50: the signal's own checkpoint
  CHECK(Rows(out + "/metrics.csv") == static_cast<long>(stopped.rounds));
  const std::string metrics_before = testing::ReadFile(out + "/metrics.csv");
  const std::string nodes_before = testing::ReadFile(out + "/nodes.csv");
  group.Stop(3000);  // the nodes left on the coordinator's Bye

  // A stopped run is carried on by new nodes.
  ProcessGroup again;
  s = SpawnCoordinator(again, EDGEFL_BIN_DIR, {"--resume", out, "--quiet"}, 5000, &coordinator, &endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  for (int i = 0; i < 3; ++i) StartNode(again, endpoint, i);
  CHECK(WaitFor(again, coordinator).exit_code == 0);
  const RunSummary summary = Summary(out + "/summary.toml");
  CHECK(summary.ok);
  CHECK(summary.rounds == 3000);
  CHECK(summary.model_hash == reference);
  const std::string metrics_after = testing::ReadFile(out + "/metrics.csv");
  CHECK(metrics_after.compare(0, metrics_before.size(), metrics_before) == 0);  // appended, not rewritten
  CHECK(testing::ReadFile(out + "/nodes.csv").compare(0, nodes_before.size(), nodes_before) == 0);
  CheckRows(out, 3000);
}

// Aggregator state a checkpoint must carry: centered-clip's centre and every
// node's momentum (bucketing's shuffles follow from the seed and round).
const char* kStatefulAggregatorConfig = R"(
[run]
name = "robust"
nodes = 4
rounds = 1000
seed = 3
checkpoint_every = 50
[objective]
dimension = 100
[aggregator]
kind = "centered-clip"
clip_radius = 2.0
clip_iterations = 2
node_momentum = 0.9
bucket_size = 2
[round]
heartbeat_ms = 100
)";

TEST_CASE("a robust aggregator's state (centre, node momenta) survives SIGTERM and --resume, bit for bit") {
  const std::string dir = testing::ScratchDir("resume_robust");
  testing::WriteFile(dir + "/config.toml", kStatefulAggregatorConfig);
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/reference");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const uint64_t reference = Summary(dir + "/reference/robust/summary.toml").model_hash;

  const std::string out = dir + "/out";
  ProcessGroup group;
  size_t coordinator = 0;
  std::string endpoint;
  Status s = SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--config", dir + "/config.toml", "--out", out, "--quiet"}, 5000,
                              &coordinator, &endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  for (int i = 0; i < 4; ++i) StartNode(group, endpoint, i);
  WaitForRows(out + "/metrics.csv", 130);
  group.Signal(coordinator, SIGTERM);
  CHECK(WaitFor(group, coordinator).exit_code == 130);
  const RunSummary stopped = Summary(out + "/summary.toml");
  REQUIRE(stopped.rounds < 1000);
  group.Stop(3000);

  ProcessGroup again;
  s = SpawnCoordinator(again, EDGEFL_BIN_DIR, {"--resume", out, "--quiet"}, 5000, &coordinator, &endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  for (int i = 0; i < 4; ++i) StartNode(again, endpoint, i);
  CHECK(WaitFor(again, coordinator).exit_code == 0);
  const RunSummary summary = Summary(out + "/summary.toml");
  CHECK(summary.rounds == 1000);
  CHECK(summary.model_hash == reference);
}

TEST_CASE("a run folder that holds a run is refused unless resumed or overwritten") {
  const std::string dir = testing::ScratchDir("folder_reuse");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const std::string run = Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/out --rounds ";
  REQUIRE(RunCommand(run + "20").exit_code == 0);
  const std::string metrics = testing::ReadFile(dir + "/out/resumable/metrics.csv");
  auto r = RunCommand(run + "20");
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "out/resumable already holds a run (metrics.csv): continue it with --resume"));
  CHECK(testing::ReadFile(dir + "/out/resumable/metrics.csv") == metrics);  // untouched
  r = RunCommand(Binary("edgefl-coordinator") + " --config " + dir + "/config.toml --out " + dir + "/out/resumable");
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "already holds a run"));
  r = RunCommand(Binary("edgefl-coordinator") + " --resume " + dir + "/out/resumable");
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "the run has ended (all rounds done, after 20 rounds); nothing to resume"));
  r = RunCommand(run + "10 --overwrite");
  CHECK(r.exit_code == 0);
  CHECK(Summary(dir + "/out/resumable/summary.toml").rounds == 10);

  // A config changed after the checkpoint is named.
  r = RunCommand("sed -i s/eta\\ =\\ 0.02/eta\\ =\\ 0.03/ " + dir + "/out/resumable/config.toml && " +
                 Binary("edgefl-coordinator") + " --resume " + dir + "/out/resumable");
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "config.toml: the config has changed since the checkpoint: step.eta = 0.029999"));
}

TEST_CASE("a run that ended without its model.bin and summary.toml gets them back from --resume") {
  // What a crash between the final checkpoint and those files left when the
  // checkpoint was written first: a run marked finished, and the model only
  // inside checkpoint.bin. --resume writes both files again, as they were.
  const std::string dir = testing::ScratchDir("complete_ended");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const std::string out = dir + "/out/resumable";
  auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/out --rounds 20");
  REQUIRE(r.exit_code == 0);
  const RunSummary ended = Summary(out + "/summary.toml");
  const std::string model = testing::ReadFile(out + "/model.bin");
  REQUIRE(std::remove((out + "/model.bin").c_str()) == 0);
  REQUIRE(std::remove((out + "/summary.toml").c_str()) == 0);
  const std::string metrics = testing::ReadFile(out + "/metrics.csv");

  r = RunCommand(Binary("edgefl-coordinator") + " --resume " + out);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.output, "wrote its missing model.bin and summary.toml from checkpoint.bin"));
  CHECK(testing::ReadFile(out + "/model.bin") == model);
  RunSummary completed = Summary(out + "/summary.toml");
  CHECK(completed.model_hash == ended.model_hash);
  CHECK(completed.stop_reason == "all rounds done");
  CHECK(completed.ok);
  CHECK(completed.rounds == 20);
  CHECK(completed.steps == ended.steps);
  CHECK(completed.final_loss == ended.final_loss);
  CHECK(completed.tail_mean_loss == ended.tail_mean_loss);
  CHECK(completed.bytes_up == ended.bytes_up);
  CHECK(completed.omega == ended.omega);
  CHECK(completed.measured_bits_per_coordinate == ended.measured_bits_per_coordinate);
  CHECK(testing::ReadFile(out + "/metrics.csv") == metrics);  // no round ran again

  // edgefl run --resume does the same for a sweep's folder, then shows it.
  REQUIRE(std::remove((out + "/summary.toml").c_str()) == 0);
  r = RunCommand(Binary("edgefl") + " run --resume " + dir + "/out");
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.output, "all rounds done"));
  CHECK(Summary(out + "/summary.toml").model_hash == ended.model_hash);
  // Complete again: nothing left to do.
  r = RunCommand(Binary("edgefl-coordinator") + " --resume " + out);
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "nothing to resume"));
}

TEST_CASE("edgefl run --resume carries an interrupted sweep on, the variants it never reached included") {
  const uint64_t reference = ReferenceHash();
  const std::string dir = testing::ScratchDir("sweep_resume");
  testing::WriteFile(dir + "/config.toml", std::string(kConfig) + R"(
[[variant]]
name = "resumable"
[[variant]]
name = "signs"
run = { rounds = 200 }
compressor = { kind = "sign" }
)");
  // Ctrl-C once the first variant has run some rounds (a fixed delay was
  // too short on a loaded machine: the run folder did not exist yet).
  ProcessGroup group;
  size_t run = 0;
  REQUIRE(group.Spawn({Binary("edgefl"), "run", dir + "/config.toml", "--out", dir + "/out"}, -1, &run).ok());
  WaitForRows(dir + "/out/resumable/metrics.csv", 100);
  group.Signal(run, SIGINT);
  REQUIRE(WaitFor(group, run).exit_code == 130);
  CHECK(testing::ReadFile(dir + "/out/signs/metrics.csv").empty());  // never started
  auto r = RunCommand(Binary("edgefl") + " run --resume " + dir + "/out");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(Summary(dir + "/out/resumable/summary.toml").model_hash == reference);
  CHECK(Summary(dir + "/out/signs/summary.toml").rounds == 200);
  // Done: shown again, nothing run.
  r = RunCommand(Binary("edgefl") + " run --resume " + dir + "/out");
  CHECK(r.exit_code == 0);
  CHECK_FALSE(Contains(r.output, "resuming"));
  CHECK(Contains(r.output, "all rounds done"));
}

}  // namespace
}  // namespace edgefl

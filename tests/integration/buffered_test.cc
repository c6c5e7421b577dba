// Buffered asynchronous aggregation through the real binaries: on the
// virtual clock the same config and seed give the same model, rows and
// staleness whatever the machine does to the processes (nodes started in
// another order, one stopped for a while); staler updates than
// async.max_staleness are refused and counted; every compressor, the sign
// votes and server optimisers run reproducibly; a resumed run and an
// overdue task carry on; one node at a time with a buffer of one, without
// noise, is the synchronous run bit for bit; on the wall clock a buffered
// run runs and says it is not reproducible; and edgefl predict forecasts
// buffered runs within 10%, stability limit included.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "runfiles/run_recorder.h"
#include "sim/launcher.h"
#include "sim/process_group.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Binary;
using testing::Column;
using testing::RunCommand;
using testing::Summary;

// Two slow boards on LTE-M and four fast ones on Wi-Fi: the fast ones
// answer several times while a slow one answers once, so the slow ones'
// updates arrive stale.
const char* kConfig = R"(
[run]
name = "buffered"
nodes = 6
rounds = 120
seed = 5
[objective]
kind = "quadratic"
dimension = 300
[noise]
sigma = 0.3
[compressor]
kind = "qsgd"
levels = 8
[step]
eta = 0.05
[link]
compute_ms = 20
[round]
clock = "virtual"
heartbeat_ms = 100
[async]
mode = "buffered"
buffer = 3
staleness = "polynomial"
staleness_exponent = 0.5

[[profile]]
name = "zero2-lte-m"
nodes = 2
board = "pi-zero-2"
preset = "lte-m"
latency_ms = 60

[[profile]]
name = "pi5-wifi"
nodes = 4
board = "pi-5"
preset = "wifi"
latency_ms = 5
)";

struct Run {
  RunSummary summary;
  std::string metrics, nodes;
};

Run Read(const std::string& folder) {
  return {Summary(folder + "/summary.toml"), testing::ReadFile(folder + "/metrics.csv"),
          testing::ReadFile(folder + "/nodes.csv")};
}

Run RunWithEdgefl(const std::string& dir, const std::string& name, const std::string& sets = "") {
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml " + sets + " --out " + dir + "/" + name);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return Read(dir + "/" + name + "/buffered");
}

double Sum(const std::vector<std::string>& column) {
  double sum = 0.0;
  for (const std::string& v : column) sum += std::stod(v);
  return sum;
}

// A coordinator with `args` and the run's six nodes, started by hand in
// `order` (ids), `pause_ms` apart; *coordinator and nodes[id] index `group`.
void StartByHand(ProcessGroup& group, const std::vector<std::string>& args, std::vector<int> order, int pause_ms,
                 size_t* coordinator, std::vector<size_t>* nodes) {
  std::string endpoint;
  const Status s = SpawnCoordinator(group, EDGEFL_BIN_DIR, args, 5000, coordinator, &endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  nodes->assign(6, 0);
  for (const int id : order) {
    REQUIRE(group.Spawn({Binary("edgefl-node"), "--connect", endpoint, "--id", std::to_string(id), "--quiet"}, -1,
                        &(*nodes)[id])
                .ok());
    if (pause_ms > 0) usleep(pause_ms * 1000);
  }
}

TEST_CASE("buffered on the virtual clock: the same model twice, with the nodes started shuffled and one stopped") {
  const std::string dir = testing::ScratchDir("buffered_virtual");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const Run reference = RunWithEdgefl(dir, "reference");
  CHECK(reference.summary.ok);
  CHECK(reference.summary.steps == 120);

  // The coordinator and its nodes by hand: the nodes join in another order,
  // and node 1 (a slow board, whose update every step waits on in turn) is
  // stopped for 0.8 s once the run is under way.
  const std::string out = dir + "/by-hand";
  ProcessGroup group;
  size_t coordinator = 0;
  std::vector<size_t> nodes;
  StartByHand(group, {"--config", dir + "/config.toml", "--out", out, "--quiet"}, {4, 1, 5, 0, 3, 2}, 50,
              &coordinator, &nodes);
  testing::WaitForRows(out + "/metrics.csv", 10);
  group.Signal(nodes[1], SIGSTOP);
  usleep(800 * 1000);
  group.Signal(nodes[1], SIGCONT);
  CHECK(testing::WaitFor(group, coordinator).exit_code == 0);
  for (const size_t node : nodes) CHECK(testing::WaitFor(group, node).exit_code == 0);
  const Run by_hand = Read(out);

  CHECK(by_hand.summary.model_hash == reference.summary.model_hash);
  CHECK(by_hand.metrics == reference.metrics);  // virtual time_s, staleness and bytes included
  // nodes.csv: every column but compute_us, which the nodes measure.
  for (const char* column : {"round", "node", "bytes_up", "bytes_down", "accepted", "loss", "grad_norm", "outcome",
                             "arrival_s", "staleness"}) {
    INFO(column);
    CHECK(Column(by_hand.nodes, column) == Column(reference.nodes, column));
  }

  // Every step took a full buffer; the slow boards' updates came stale and
  // were weighed down, the fast ones' mostly fresh.
  for (const std::string& fill : Column(reference.metrics, "buffer_fill")) CHECK(fill == "3");
  const auto versions = Column(reference.metrics, "version");
  REQUIRE(versions.size() == 120);
  CHECK(versions.front() == "1");
  CHECK(versions.back() == "120");
  const auto staleness = Column(reference.nodes, "staleness"), node_ids = Column(reference.nodes, "node");
  const auto outcomes = Column(reference.nodes, "outcome");
  double slow = 0.0, fast = 0.0;
  int slow_n = 0, fast_n = 0;
  for (size_t i = 0; i < staleness.size(); ++i) {
    if (outcomes[i] != "counted") continue;
    const bool is_slow = std::stoi(node_ids[i]) < 2;
    (is_slow ? slow : fast) += std::stod(staleness[i]);
    ++(is_slow ? slow_n : fast_n);
  }
  REQUIRE(slow_n > 0);
  REQUIRE(fast_n > 0);
  CHECK(fast_n > 4 * slow_n);  // a Wi-Fi Pi 5 answers far more often than an LTE-M Zero 2
  CHECK(slow / slow_n > 2.0 * (fast / fast_n));
  CHECK(slow / slow_n >= 1.0);
  CHECK(Sum(Column(reference.metrics, "stale")) == 0.0);  // async.max_staleness = 1000 refuses none
  // Modelled time runs on: each step ends at its buffer's last arrival.
  const auto time_s = Column(reference.metrics, "time_s");
  for (size_t i = 1; i < time_s.size(); ++i) CHECK(std::stod(time_s[i]) >= std::stod(time_s[i - 1]));
  CHECK(reference.summary.final_loss < 0.5 * reference.summary.initial_loss);

  // predict models unbiased compressors only, and says so of the sign
  // votes rather than forecast another run.
  const auto predicted = RunCommand(Binary("edgefl") + " predict " + dir +
                                    "/config.toml --set compressor.kind=sign --set aggregator.kind=majority");
  CHECK(predicted.exit_code != 0);
  CHECK(testing::Contains(predicted.output, "does not model buffered runs with a biased compressor"));
  CHECK(testing::Contains(predicted.output, "docs/theory.md 7.3"));
}

// agreement.toml's figure `key` in section `section`.
double Agreement(const std::string& folder, const std::string& section, const std::string& key) {
  const std::string text = testing::ReadFile(folder + "/agreement.toml");
  const size_t at = text.find("\n" + key + " = ", text.find("[" + section + "]"));
  REQUIRE_MESSAGE(at != std::string::npos, key);
  return std::stod(text.substr(at + key.size() + 4));
}

TEST_CASE("predict forecasts buffered runs on the quadratic: stationary loss and time to target within 10%, with "
          "dense and qsgd updates, and the stability limit the delays bring") {
  // examples/buffered.toml's population (12 Zero 2 on LTE-M, 12 Pi 5 on
  // Wi-Fi) on a noisy quadratic with dense updates, K = 4 and K = 12: the
  // stationary loss and seconds a step on two seeds, the time to a target on one.
  const std::string example = std::string(EDGEFL_SOURCE_DIR) + "/examples/buffered.toml";
  const std::string quadratic = " --variant buffered-k4 --variant buffered-k12 --set objective.kind=quadratic --set "
                                "objective.dimension=1000 --set noise.kind=gaussian --set noise.sigma=1 --set "
                                "noise.batch_size=1 --set step.eta=0.05 --set compressor.kind=identity --predict";
  const std::string dir = testing::ScratchDir("buffered_predict");
  for (const char* seed : {"1", "2"}) {
    const std::string stationary = dir + "/stationary-" + seed;
    const auto r = RunCommand(Binary("edgefl") + " run " + example + quadratic + " --rounds 300 --set run.seed=" +
                              seed + " --out " + stationary, 240);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    for (const char* variant : {"buffered-k4", "buffered-k12"}) {
      INFO(seed << " " << variant);
      CHECK(std::abs(Agreement(stationary + "/" + variant, "agreement", "relative_error")) <= 0.10);
      CHECK(std::abs(Agreement(stationary + "/" + variant, "time", "relative_error")) <= 0.10);  // seconds a step
    }
  }
  // An unbiased compressor: each update's noise about its own noisy gradient.
  const std::string qsgd = dir + "/qsgd";
  auto r = RunCommand(Binary("edgefl") + " run " + example + quadratic +
                          " --set compressor.kind=qsgd --set compressor.levels=8 --rounds 300 --paths 64 --out " + qsgd,
                      240);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* variant : {"buffered-k4", "buffered-k12"}) {
    INFO("qsgd " << variant);
    CHECK(std::abs(Agreement(qsgd + "/" + variant, "agreement", "relative_error")) <= 0.10);
  }
  const std::string target = dir + "/target";
  r = RunCommand(Binary("edgefl") + " run " + example + quadratic + " --set run.target_loss=3 --out " + target, 240);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* variant : {"buffered-k4", "buffered-k12"}) {
    INFO(variant);
    CHECK(Agreement(target + "/" + variant, "time", "measured_rounds_to_target") > 20.0);
    CHECK(std::abs(Agreement(target + "/" + variant, "time", "target_relative_error")) <= 0.10);
  }

  // At the edge delays bring: with curvatures up to 10 and eta = 0.14 the
  // synchronous run converges (eta lambda_max = 1.4 < 2), buffered K = 4,
  // whose Zero 2 updates are about 28 versions stale, diverges, and K = 12
  // (about 9) still converges; the forecast says which.
  const std::string edge = dir + "/edge";
  r = RunCommand(Binary("edgefl") + " run " + example + quadratic +
                            " --set objective.lambda_max=10 --set step.eta=0.14 --rounds 150 --out " + edge, 240);
  INFO(r.output);
  REQUIRE(r.exit_code == 3);  // a variant diverged
  const std::string k4 = testing::ReadFile(edge + "/buffered-k4/agreement.toml");
  const std::string k12 = testing::ReadFile(edge + "/buffered-k12/agreement.toml");
  CHECK(testing::Contains(k4, "measured_verdict = 'diverges'"));
  CHECK(testing::Contains(k4, "predicted_verdict = 'diverges'"));
  CHECK(testing::Contains(k12, "measured_verdict = 'converges'"));
  CHECK(testing::Contains(k12, "predicted_verdict = 'converges'"));
}

TEST_CASE("buffered: updates staler than async.max_staleness are refused, counted, and the run goes on") {
  const std::string dir = testing::ScratchDir("buffered_stale");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const std::string sets = "--rounds 60 --set async.max_staleness=1";
  const Run first = RunWithEdgefl(dir, "first", sets);
  const Run second = RunWithEdgefl(dir, "second", sets);
  CHECK(first.summary.model_hash == second.summary.model_hash);
  CHECK(first.metrics == second.metrics);

  // Every refusal is a nodes.csv row with outcome "stale" and staleness > 1,
  // and metrics.csv's stale column counts them step by step.
  const auto staleness = Column(first.nodes, "staleness"), outcomes = Column(first.nodes, "outcome");
  const auto rounds = Column(first.nodes, "round");
  int stale_rows = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i] == "stale") {
      ++stale_rows;
      CHECK(std::stoi(staleness[i]) > 1);
    } else if (outcomes[i] == "counted") {
      CHECK(std::stoi(staleness[i]) <= 1);
    }
  }
  CHECK(stale_rows > 0);
  CHECK(Sum(Column(first.metrics, "stale")) == stale_rows);
  for (const std::string& v : Column(first.metrics, "staleness_max")) CHECK(std::stoi(v) <= 1);
  CHECK(first.summary.steps == 60);
  CHECK(first.summary.rejected == 0);  // a stale update is no fault of its node's
}

TEST_CASE("buffered: every compressor, the sign votes, server optimisers and the (L0,L1) rule, the same model twice") {
  // Two slow nodes and four fast ones; each variant's model must come out
  // the same twice on the virtual clock, and every variant must learn.
  const std::string dir = testing::ScratchDir("buffered_every_kind");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "kinds"
nodes = 6
rounds = 60
seed = 9
[objective]
kind = "quadratic"
dimension = 200
[noise]
sigma = 0.2
[step]
eta = 0.05
[link]
compute_ms = 10
[round]
clock = "virtual"
[async]
mode = "buffered"
buffer = 3
staleness = "hinge"
hinge_after = 1
[[profile]]
name = "slow"
nodes = 2
compute_ms = 45
[[profile]]
name = "fast"
nodes = 4
[[variant]]
name = "identity"
compressor = { kind = "identity" }
[[variant]]
name = "rand-k"
compressor = { kind = "rand-k", k = 40 }
[[variant]]
name = "bernoulli"
compressor = { kind = "bernoulli", p = 0.3 }
[[variant]]
name = "qsgd"
compressor = { kind = "qsgd", levels = 4 }
[[variant]]
name = "natural"
compressor = { kind = "natural" }
[[variant]]
name = "top-k"
compressor = { kind = "top-k", k = 40 }
[[variant]]
name = "scaled-sign"
compressor = { kind = "scaled-sign" }
[[variant]]
name = "ef-sign"
compressor = { kind = "ef-sign" }
[[variant]]
name = "sign-mean"
compressor = { kind = "sign" }
aggregator = { kind = "sign-mean" }
step = { eta = 0.02 }
[[variant]]
name = "majority"
compressor = { kind = "sign" }
aggregator = { kind = "majority" }
step = { eta = 0.02 }
[[variant]]
name = "server-adam"
compressor = { kind = "qsgd", levels = 4 }
server = { optimizer = "adam" }
step = { eta = 0.1 }
[[variant]]
name = "l0l1"
compressor = { kind = "identity" }
step = { rule = "l0l1", eta = 0.5 }
)");
  for (const char* pass : {"first", "second"}) {
    const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/" + pass, 240);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
  }
  for (const char* variant : {"identity", "rand-k", "bernoulli", "qsgd", "natural", "top-k", "scaled-sign", "ef-sign",
                              "sign-mean", "majority", "server-adam", "l0l1"}) {
    INFO(variant);
    const Run first = Read(dir + "/first/" + variant), second = Read(dir + "/second/" + variant);
    CHECK(first.summary.ok);
    CHECK(first.summary.steps == 60);
    CHECK(first.summary.model_hash == second.summary.model_hash);
    CHECK(first.metrics == second.metrics);
    CHECK(first.summary.final_loss < 0.7 * first.summary.initial_loss);
    double most = 0.0;
    for (const std::string& v : Column(first.metrics, "staleness_max")) most = std::max(most, std::stod(v));
    CHECK(most >= 2.0);  // the slow nodes' updates come stale, past the hinge
  }
}

TEST_CASE("buffered: a coordinator stopped with SIGTERM resumes from its checkpoint and numbers its tasks on") {
  // Its tasks out at the stop are lost, as a restarted server's would be, so
  // the model is not the uninterrupted run's; every step is there once, in
  // order, and modelled time carries on.
  const std::string dir = testing::ScratchDir("buffered_resume");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const std::string out = dir + "/out";
  ProcessGroup group;
  size_t coordinator = 0;
  std::vector<size_t> nodes;
  StartByHand(group, {"--config", dir + "/config.toml", "--out", out, "--quiet", "--set", "run.rounds=2000"},
              {0, 1, 2, 3, 4, 5}, 0, &coordinator, &nodes);
  testing::WaitForRows(out + "/metrics.csv", 200);
  group.Signal(coordinator, SIGTERM);
  CHECK(testing::WaitFor(group, coordinator).exit_code == 130);
  CHECK(Summary(out + "/summary.toml").stop_reason == "stopped by signal");
  REQUIRE(testing::Rows(out + "/metrics.csv") < 2000);
  group.Stop(3000);  // the nodes left on the coordinator's Bye

  // New nodes carry the stopped run on.
  ProcessGroup again;
  StartByHand(again, {"--resume", out, "--quiet"}, {0, 1, 2, 3, 4, 5}, 0, &coordinator, &nodes);
  CHECK(testing::WaitFor(again, coordinator).exit_code == 0);
  for (const size_t node : nodes) CHECK(testing::WaitFor(again, node).exit_code == 0);
  const Run run = Read(out);
  CHECK(run.summary.ok);
  CHECK(run.summary.steps == 2000);
  const auto rounds = Column(run.metrics, "round"), versions = Column(run.metrics, "version");
  const auto time_s = Column(run.metrics, "time_s");
  REQUIRE(rounds.size() == 2000);
  for (size_t i = 0; i < rounds.size(); ++i) {
    CHECK(rounds[i] == std::to_string(i));
    CHECK(versions[i] == std::to_string(i + 1));
    if (i > 0) CHECK(std::stod(time_s[i]) >= std::stod(time_s[i - 1]));
  }
  const auto verified = RunCommand(Binary("edgefl") + " verify " + out);
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
}

TEST_CASE("buffered: a task left unanswered past round.deadline_ms is abandoned and its work handed on") {
  // Node 1 stopped for 0.5 s, five times the deadline and short of
  // dead_after_ms: its task is given up (nodes.csv: missing), the others
  // carry the run on, and once it runs again it gets a fresh task.
  const std::string dir = testing::ScratchDir("buffered_overdue");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const std::string out = dir + "/out";
  ProcessGroup group;
  size_t coordinator = 0;
  std::vector<size_t> nodes;
  StartByHand(group,
              {"--config", dir + "/config.toml", "--out", out, "--quiet", "--set", "round.deadline_ms=100", "--set",
               "round.dead_after_ms=5000", "--set", "run.rounds=3000"},
              {0, 1, 2, 3, 4, 5}, 0, &coordinator, &nodes);
  testing::WaitForRows(out + "/metrics.csv", 20);
  group.Signal(nodes[1], SIGSTOP);
  usleep(500 * 1000);
  group.Signal(nodes[1], SIGCONT);
  CHECK(testing::WaitFor(group, coordinator).exit_code == 0);
  for (const size_t node : nodes) CHECK(testing::WaitFor(group, node).exit_code == 0);
  const Run run = Read(out);
  CHECK(run.summary.ok);
  CHECK(run.summary.steps == 3000);
  const auto node_ids = Column(run.nodes, "node"), outcomes = Column(run.nodes, "outcome");
  int missing = 0, missing_all = 0, counted_after = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    missing_all += outcomes[i] == "missing";  // a node slowed by a busy machine may be given up too
    if (node_ids[i] != "1") continue;
    if (outcomes[i] == "missing") ++missing;
    if (missing > 0 && outcomes[i] == "counted") ++counted_after;
  }
  CHECK(missing >= 1);
  CHECK(counted_after >= 1);  // back at work after it ran again
  CHECK(Sum(Column(run.metrics, "missing")) == missing_all);
}

TEST_CASE("buffered with one node at a time and a buffer of one, without noise: the synchronous run, bit for bit") {
  // Each step takes one fresh update (staleness 0, weight Q, scale 1) of the
  // model as it stands, and every node's gradient is the same without noise:
  // FedSGD's step, whatever the task numbers and whichever node is drawn.
  const std::string dir = testing::ScratchDir("buffered_as_sync");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "buffered"
nodes = 4
rounds = 40
seed = 3
[objective]
kind = "quadratic"
dimension = 100
[noise]
sigma = 0.0
[compressor]
kind = "identity"
[step]
eta = 0.1
[link]
compute_ms = 10
[round]
clock = "virtual"
[async]
buffer = 1
concurrency = 1
)");
  const Run sync = RunWithEdgefl(dir, "sync");
  const Run buffered = RunWithEdgefl(dir, "buffered", "--set async.mode=buffered");
  CHECK(buffered.summary.model_hash == sync.summary.model_hash);
  CHECK(Column(buffered.metrics, "loss") == Column(sync.metrics, "loss"));
  for (const std::string& v : Column(buffered.metrics, "staleness_max")) CHECK(v == "0");
  // The drawn node changes from task to task: the population takes turns.
  std::set<std::string> drawn;
  for (const std::string& node : Column(buffered.nodes, "node")) drawn.insert(node);
  CHECK(drawn.size() == 4);

  // On the wall clock a buffered run runs, and says it is not reproducible.
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --set async.mode=buffered --set "
                            "round.clock=wall --set async.buffer=2 --set async.concurrency=0 --out " + dir + "/wall");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(testing::Contains(r.output, "not reproducible bit for bit"));
  const Run wall = Read(dir + "/wall/buffered");
  CHECK(wall.summary.steps == 40);
  for (const std::string& fill : Column(wall.metrics, "buffer_fill")) CHECK(fill == "2");
}

}  // namespace
}  // namespace edgefl

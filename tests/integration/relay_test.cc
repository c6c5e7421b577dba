// Relays (coordinator/relay_topology.h, docs/protocol.md 11) through the
// real binaries: `edgefl run --relays 2` (a root, two relay coordinators,
// eight nodes, each connected to its relay) ends on the flat run's model bit
// for bit for the mean of dense, sparse and quantised updates (sgd and adam
// servers), sign-mean and majority, uniform and by samples (equal there),
// with cohorts drawn over the population, with in-process nodes, with CURVE
// on both tiers at d = 1e5, and with unequal weights (digits shards); each
// tier's bytes are counted in its own folder; and what a tree cannot do is
// refused with the reason: a robust rule, a node at the root, a relay
// running another config, a node of another relay's group.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "runfiles/run_recorder.h"
#include "schemas/codec/wire.h"
#include "sim/launcher.h"
#include "sim/process_group.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Binary;
using testing::Column;
using testing::Contains;
using testing::ReadFile;
using testing::RunCommand;
using testing::Summary;

const char* kConfig = R"(
[run]
name = "relay"
nodes = 8
rounds = 12
seed = 3
[objective]
kind = "quadratic"
dimension = 20000
lambda_max = 4.0
[noise]
sigma = 0.5
[step]
eta = 0.05

[[variant]]
name = "mean-identity"
compressor = { kind = "identity" }

[[variant]]
name = "mean-top-k"
compressor = { kind = "top-k", k = 200 }

[[variant]]
name = "mean-qsgd-adam"
compressor = { kind = "qsgd", levels = 4 }
server = { optimizer = "adam" }
step = { eta = 0.01 }

[[variant]]
name = "sign-mean"
compressor = { kind = "sign" }
step = { eta = 0.02 }

[[variant]]
name = "majority"
compressor = { kind = "sign" }
aggregator = { kind = "majority" }
step = { eta = 0.02 }
)";

const char* kVariants[] = {"mean-identity", "mean-top-k", "mean-qsgd-adam", "sign-mean", "majority"};

std::string Run(const std::string& dir, const std::string& name, const std::string& flags) {
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml " + flags + " --out " + dir + "/" + name,
                            240);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return dir + "/" + name;
}

uint64_t SumColumn(const std::string& csv, const std::string& name) {
  uint64_t total = 0;
  for (const std::string& v : Column(csv, name)) total += std::stoull(v);
  return total;
}

}  // namespace

TEST_CASE("relays: two relays of four nodes end on the flat run's model, each tier's bytes counted") {
  const std::string dir = testing::ScratchDir("relay_tree");
  testing::WriteFile(dir + "/config.toml", kConfig);
  for (const std::string weighting : {"uniform", "samples"}) {
    CAPTURE(weighting);
    const std::string set = " --set aggregator.weighting=" + weighting;
    const std::string flat = Run(dir, "flat-" + weighting, set);
    const std::string tree = Run(dir, "tree-" + weighting, set + " --relays 2");
    for (const std::string variant : kVariants) {
      CAPTURE(variant);
      const RunSummary a = Summary(flat + "/" + variant + "/summary.toml");
      const RunSummary b = Summary(tree + "/" + variant + "/summary.toml");
      CHECK(a.ok);
      CHECK(b.ok);
      CHECK(b.rounds == 12);
      CHECK(b.steps == 12);
      CHECK(a.model_hash == b.model_hash);
      CHECK(a.final_loss == b.final_loss);
      // The tiers: the root sends the model to 2 relays and takes 2
      // partials a round; each relay sends it to its 4 nodes and takes
      // their 4 updates; the nodes' updates are the flat run's.
      const std::string root_csv = ReadFile(tree + "/" + variant + "/metrics.csv");
      const std::string flat_csv = ReadFile(flat + "/" + variant + "/metrics.csv");
      uint64_t relays_up = 0;
      uint64_t relays_down = 0;
      for (int g = 0; g < 2; ++g) {
        const std::string relay = tree + "/" + variant + "/relay-" + std::to_string(g);
        const std::string csv = ReadFile(relay + "/metrics.csv");
        relays_up += SumColumn(csv, "bytes_up");
        relays_down += SumColumn(csv, "bytes_down");
        CHECK(Column(csv, "updates") == std::vector<std::string>(12, "4"));
        const RunSummary relay_summary = Summary(relay + "/summary.toml");
        CHECK(relay_summary.ok);
        CHECK(relay_summary.rounds == 12);
      }
      CHECK(Column(root_csv, "updates") == std::vector<std::string>(12, "8"));
      CHECK(Column(root_csv, "participants") == std::vector<std::string>(12, "8"));
      CHECK(relays_up == SumColumn(flat_csv, "bytes_up"));
      CHECK(relays_down == SumColumn(flat_csv, "bytes_down"));
      CHECK(SumColumn(root_csv, "bytes_down") * 4 == relays_down);  // 2 models a round against 8
      const uint64_t root_up = SumColumn(root_csv, "bytes_up");
      MESSAGE(variant << ": bytes up to the root " << root_up << ", to the relays " << relays_up);
      if (variant == "mean-identity") CHECK(root_up * 2 < relays_up);  // ~5 B a coordinate a relay, not 16
    }
  }
}

TEST_CASE("relays: what a tree cannot run exactly, or a peer in the wrong place, is refused with the reason") {
  const std::string dir = testing::ScratchDir("relay_refusals");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "refusals"
nodes = 4
rounds = 3
[objective]
dimension = 100
)");
  const std::string config = dir + "/config.toml";
  // A robust rule: its relays could not combine their nodes' updates exactly.
  auto r = RunCommand(Binary("edgefl-coordinator") + " --config " + config + " --relays 2 --set aggregator.kind=median"
                      " --out " + dir + "/median", 30);
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "aggregator.kind = \"median\" needs every update itself"));
  r = RunCommand(Binary("edgefl") + " run " + config + " --relays 3 --out " + dir + "/three", 30);
  CHECK(r.exit_code != 0);
  CHECK(Contains(r.output, "--relays 3 does not divide run.nodes = 4"));

  // A node at a root, a relay of another config, a node of the other group.
  ProcessGroup group;
  size_t root = 0;
  std::string root_endpoint;
  REQUIRE(SpawnCoordinator(group, EDGEFL_BIN_DIR,
                           {"--config", config, "--out", dir + "/root", "--relays", "2", "--set",
                            "round.join_timeout_ms=8000"},
                           5000, &root, &root_endpoint)
              .ok());
  r = RunCommand(Binary("edgefl-node") + " --connect " + root_endpoint + " --id 0 --join-timeout-ms 3000", 30);
  CHECK(r.exit_code != 0);
  CHECK(Contains(r.output, "this coordinator takes relays (--relays 2), not nodes: connect node 0 to its relay"));
  r = RunCommand(Binary("edgefl-coordinator") + " --config " + config + " --set run.seed=9 --relays 2 --group 1"
                 " --parent " + root_endpoint + " --bind tcp://127.0.0.1:* --out " + dir + "/other-seed",
                 30);
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.output, "the coordinator above runs another config (its task: seed 1"));
  size_t relay = 0;
  std::string relay_endpoint;
  REQUIRE(SpawnCoordinator(group, EDGEFL_BIN_DIR,
                           {"--config", config, "--out", dir + "/relay-0", "--relays", "2", "--group", "0", "--parent",
                            root_endpoint},
                           5000, &relay, &relay_endpoint)
              .ok());
  r = RunCommand(Binary("edgefl-node") + " --connect " + relay_endpoint + " --id 3 --join-timeout-ms 3000", 30);
  CHECK(r.exit_code != 0);
  CHECK(Contains(r.output, "node 3 belongs to relay 1; this is relay 0, for nodes 0..1"));
  group.Stop(2000);
}

TEST_CASE("relays: CURVE on both tiers at d = 1e5, dense and sparse, ends on the flat run's model") {
  // Two key sets: the root's, whose allow-list binds the relays' keys to
  // node-0 and node-1; the nodes', which both relays hold (each admits only
  // its own ids).
  const std::string dir = testing::ScratchDir("relay_curve");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "curve"
nodes = 4
rounds = 6
seed = 5
[objective]
kind = "quadratic"
dimension = 100000
lambda_max = 2.0
[step]
eta = 0.1
[[variant]]
name = "identity"
[[variant]]
name = "top-k"
compressor = { kind = "top-k", k = 1000 }
)");
  for (const char* tier : {"relays", "nodes"}) {
    const auto keys = RunCommand(Binary("edgefl") + " keys init " + dir + "/" + tier + " --nodes 4");
    INFO(keys.output);
    REQUIRE(keys.exit_code == 0);
  }
  const std::string flat = Run(dir, "flat", "");
  for (const std::string variant : {"identity", "top-k"}) {
    CAPTURE(variant);
    const std::string config = flat + "/" + variant + "/config.toml";
    ProcessGroup group;
    size_t root = 0;
    std::string root_endpoint;
    REQUIRE(SpawnCoordinator(group, EDGEFL_BIN_DIR,
                             {"--config", config, "--out", dir + "/tree-" + variant, "--relays", "2", "--key",
                              dir + "/relays/coordinator.key", "--allow", dir + "/relays/allow.keys"},
                             5000, &root, &root_endpoint)
                .ok());
    for (int g = 0; g < 2; ++g) {
      size_t relay = 0;
      std::string relay_endpoint;
      const std::string group_id = std::to_string(g);
      REQUIRE(SpawnCoordinator(group, EDGEFL_BIN_DIR,
                               {"--config", config, "--out", dir + "/tree-" + variant + "/relay-" + group_id,
                                "--relays", "2", "--group", group_id, "--parent", root_endpoint, "--parent-key",
                                dir + "/relays/node-" + group_id + ".key", "--parent-server-key",
                                dir + "/relays/coordinator.pub", "--key", dir + "/nodes/coordinator.key", "--allow",
                                dir + "/nodes/allow.keys"},
                               5000, &relay, &relay_endpoint)
                  .ok());
      for (int i = 2 * g; i < 2 * g + 2; ++i) {
        size_t node = 0;
        const std::string id = std::to_string(i);
        REQUIRE(group
                    .Spawn({Binary("edgefl-node"), "--connect", relay_endpoint, "--id", id, "--key",
                            dir + "/nodes/node-" + id + ".key", "--server-key", dir + "/nodes/coordinator.pub",
                            "--quiet"},
                           -1, &node)
                    .ok());
      }
    }
    CHECK(testing::WaitFor(group, root).exit_code == 0);
    group.Stop(3000);
    const RunSummary a = Summary(flat + "/" + variant + "/summary.toml");
    const RunSummary b = Summary(dir + "/tree-" + variant + "/summary.toml");
    CHECK(b.ok);
    CHECK(b.rounds == 6);
    CHECK(b.rejected == 0);
    CHECK(a.model_hash == b.model_hash);
    const std::string root_csv = ReadFile(dir + "/tree-" + variant + "/metrics.csv");
    MESSAGE(variant << ": bytes up to the root a round " << Column(root_csv, "bytes_up").back() << ", to a flat "
                    "coordinator " << Column(ReadFile(flat + "/" + variant + "/metrics.csv"), "bytes_up").back());
  }
}

TEST_CASE("relays: cohorts drawn over the population, and in-process nodes, end on the flat run's model") {
  const std::string dir = testing::ScratchDir("relay_cohorts");
  testing::WriteFile(dir + "/config.toml", kConfig);
  // 3 of 8 a round, each available with probability 0.8: the root and every
  // relay draw the flat run's cohort; relays with none of it are not asked.
  const std::string set = " --set round.cohort=3 --set round.availability=0.8 --set round.quorum=0.5";
  const std::string flat = Run(dir, "flat", set);
  const std::string tree = Run(dir, "tree", set + " --relays 2");
  const std::string local = Run(dir, "in-process", set + " --relays 4 --in-process");
  for (const std::string variant : kVariants) {
    CAPTURE(variant);
    const RunSummary a = Summary(flat + "/" + variant + "/summary.toml");
    CHECK(a.steps == 12);
    CHECK(a.model_hash == Summary(tree + "/" + variant + "/summary.toml").model_hash);
    CHECK(a.model_hash == Summary(local + "/" + variant + "/summary.toml").model_hash);
    const std::string flat_csv = ReadFile(flat + "/" + variant + "/metrics.csv");
    CHECK(Column(ReadFile(tree + "/" + variant + "/metrics.csv"), "participants") == Column(flat_csv, "participants"));
    CHECK(Column(ReadFile(local + "/" + variant + "/metrics.csv"), "updates") == Column(flat_csv, "updates"));
  }
}

TEST_CASE("relays: in-process nodes carry 20000 participants a round at d = 100 through edgefl run") {
  const std::string dir = testing::ScratchDir("relay_scale");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "scale"
nodes = 20000
rounds = 3
checkpoint_every = 0
[objective]
dimension = 100
[compressor]
kind = "sign"
[aggregator]
kind = "majority"
)");
  const std::string run = Run(dir, "run", "--relays 2 --in-process") + "/scale";
  const RunSummary s = Summary(run + "/summary.toml");
  CHECK(s.ok);
  CHECK(s.steps == 3);
  CHECK(Column(ReadFile(run + "/metrics.csv"), "updates") == std::vector<std::string>(3, "20000"));
  // Without relays, 20000 nodes would be 20000 processes: refused with the way out.
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/flat", 30);
  CHECK(r.exit_code != 0);
  CHECK(Contains(r.output, "20000 node processes, more than 4096"));
}

TEST_CASE("relays: unequal weights (digits on Dirichlet shards, weighted by samples) end on the flat run's model") {
  // Each node weighs its shard, and Dirichlet(0.3) shards differ: the
  // relays' partials carry weighted sums whose gcd is no longer 1.
  const std::string dir = testing::ScratchDir("relay_weights");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "digits"
nodes = 6
rounds = 8
seed = 3
[objective]
kind = "logistic"
dataset = "digits"
partition = "dirichlet"
dirichlet_alpha = 0.3
[noise]
kind = "none"
batch_size = 16
[aggregator]
weighting = "samples"
[step]
eta = 0.5
[[variant]]
name = "mean"
compressor = { kind = "identity" }
[[variant]]
name = "sign-mean"
compressor = { kind = "sign" }
aggregator = { kind = "sign-mean", weighting = "samples" }
step = { eta = 0.05 }
)");
  const std::string flat = Run(dir, "flat", "");
  const std::string tree = Run(dir, "tree", "--relays 3");
  for (const std::string variant : {"mean", "sign-mean"}) {
    CAPTURE(variant);
    const RunSummary a = Summary(flat + "/" + variant + "/summary.toml");
    const RunSummary b = Summary(tree + "/" + variant + "/summary.toml");
    CHECK(b.steps == 8);
    CHECK(a.model_hash == b.model_hash);
    CHECK(a.final_test_accuracy == b.final_test_accuracy);
  }
}

TEST_CASE("relays: the step downlink goes through them, both tiers in steps, to the flat step run's model") {
  // Each relay keeps a replica, takes the root's steps (or the model, when
  // it joined or missed rounds of a cohort) and hands them on as they came.
  const std::string dir = testing::ScratchDir("relay_steps");
  testing::WriteFile(dir + "/config.toml", kConfig);
  for (const std::string cohort : {"0", "3"}) {
    CAPTURE(cohort);
    const std::string set = " --set round.downlink=step --set round.cohort=" + cohort;
    const std::string flat = Run(dir, "flat-" + cohort, set);
    const std::string tree = Run(dir, "tree-" + cohort, set + " --relays 2");
    const std::string model_form = Run(dir, "model-form-" + cohort, " --set round.cohort=" + cohort + " --relays 2");
    for (const std::string variant : kVariants) {
      CAPTURE(variant);
      const RunSummary a = Summary(flat + "/" + variant + "/summary.toml");
      const RunSummary b = Summary(tree + "/" + variant + "/summary.toml");
      CHECK(a.model_hash == b.model_hash);
      CHECK(b.model_requests == 0);
      for (int g = 0; g < 2; ++g) {
        const std::string relay = "/" + variant + "/relay-" + std::to_string(g);
        CHECK(Summary(tree + relay + "/summary.toml").model_requests == 0);
        // The relay's tier in steps: fewer bytes down than the model form's.
        const uint64_t steps_down = SumColumn(ReadFile(tree + relay + "/metrics.csv"), "bytes_down");
        const uint64_t model_down = SumColumn(ReadFile(model_form + relay + "/metrics.csv"), "bytes_down");
        MESSAGE(variant << " relay " << g << ": bytes down " << steps_down << " in steps, " << model_down
                        << " in models");
        if (variant == "majority" || variant == "sign-mean") CHECK(steps_down * 2 < model_down);
      }
      const uint64_t root_steps = SumColumn(ReadFile(tree + "/" + variant + "/metrics.csv"), "bytes_down");
      const uint64_t root_model = SumColumn(ReadFile(model_form + "/" + variant + "/metrics.csv"), "bytes_down");
      if (variant == "majority" || variant == "sign-mean") CHECK(root_steps * 2 < root_model);
    }
  }
}

TEST_CASE("relays: a relay killed mid-run, restarted, serves its nodes again; the root carries on with its quorum") {
  const std::string dir = testing::ScratchDir("relay_restart");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "restart"
nodes = 4
rounds = 100000
checkpoint_every = 0
[objective]
dimension = 1000
[compressor]
kind = "sign"
[aggregator]
kind = "majority"
[round]
quorum = 0.5
deadline_ms = 2000
dead_after_ms = 1000
heartbeat_ms = 100
[link]
shaping = "token-bucket"
uplink_bps = 1e9
compute_ms = 20
)");
  const std::string config = dir + "/config.toml";
  ProcessGroup group;
  size_t root = 0;
  std::string root_endpoint;
  REQUIRE(SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--config", config, "--out", dir + "/root", "--relays", "2"}, 5000,
                           &root, &root_endpoint)
              .ok());
  std::string relay_endpoint[2];
  size_t relay[2] = {0, 0};
  const auto start_relay = [&](int g, const std::string& bind, const std::string& out) {
    REQUIRE(SpawnCoordinator(group, EDGEFL_BIN_DIR,
                             {"--config", config, "--out", dir + "/" + out, "--relays", "2", "--group",
                              std::to_string(g), "--parent", root_endpoint},
                             5000, &relay[g], &relay_endpoint[g], bind)
                .ok());
  };
  start_relay(0, "tcp://127.0.0.1:*", "relay-0");
  start_relay(1, "tcp://127.0.0.1:*", "relay-1");
  for (int i = 0; i < 4; ++i) {
    size_t node = 0;
    REQUIRE(group
                .Spawn({Binary("edgefl-node"), "--connect", relay_endpoint[i / 2], "--id", std::to_string(i),
                        "--quiet"},
                       -1, &node)
                .ok());
  }
  const std::string metrics = dir + "/root/metrics.csv";
  // Waits up to 30 s for a round of `updates` updates after `after` rows; returns its row count then.
  const auto wait_for_round_of = [&](const std::string& updates, long after) {
    for (int tries = 0; tries < 300; ++tries) {
      const std::vector<std::string> column = Column(ReadFile(metrics), "updates");
      for (size_t r = static_cast<size_t>(after); r < column.size(); ++r) {
        if (column[r] == updates) return static_cast<long>(r);
      }
      usleep(100 * 1000);
    }
    FAIL("no round of " << updates << " updates in 30 s");
    return -1L;
  };
  const long full = wait_for_round_of("4", 0);
  group.Signal(relay[1], SIGKILL);
  const long halved = wait_for_round_of("2", full);  // the root carries on with relay 0's two nodes
  // The same relay again, at the same address: its nodes find it and rejoin.
  start_relay(1, relay_endpoint[1], "relay-1-again");
  const long recovered = wait_for_round_of("4", halved);
  MESSAGE("full at round " << full << ", halved from " << halved << ", full again from " << recovered);
  group.Signal(root, SIGTERM);
  testing::WaitFor(group, root);
  const RunSummary s = Summary(dir + "/root/summary.toml");
  CHECK(s.steps == s.rounds);  // every round had its quorum
  CHECK(recovered > halved);
  group.Stop(3000);
}

}  // namespace edgefl


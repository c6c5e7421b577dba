// The step-form downlink (round.downlink = "step", docs/protocol.md 9)
// through the real binaries: every aggregator and server optimiser keeps
// every node's replica equal to the coordinator's model (each node checks
// the hash every round and would ask for the model otherwise); the sign
// votes give the model-form run's model bit for bit with a fraction of its
// bytes; nodes left out of rounds catch up by the steps they missed;
// `edgefl verify --replay` replays a step run; a coordinator resumed after
// SIGKILL sends its running nodes the model and ends on the uninterrupted
// run's model; the forecast counts the bytes; a coordinator answers a
// ModelRequest with the model once a round; and a node that cannot take a
// step (no model, a broken hash) asks for the model and computes on it.
#include <doctest/doctest.h>
#include <signal.h>

#include <cstring>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "runfiles/run_recorder.h"
#include "schemas/codec/model_step.h"
#include "schemas/codec/wire.h"
#include "sim/launcher.h"
#include "sim/process_group.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Binary;
using testing::Column;
using testing::Contains;
using testing::RunCommand;
using testing::Summary;

// d = 20000: two parts a model or step, the second shorter.
const char* kAggregators = R"(
[run]
name = "downlink"
nodes = 5
rounds = 25
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
name = "sign-mean"
compressor = { kind = "sign" }
step = { eta = 0.02 }

[[variant]]
name = "majority"
compressor = { kind = "sign" }
aggregator = { kind = "majority" }
step = { eta = 0.02 }

[[variant]]
name = "median"
aggregator = { kind = "median" }

[[variant]]
name = "trimmed-mean"
aggregator = { kind = "trimmed-mean", trim = 0.2 }

[[variant]]
name = "krum"
aggregator = { kind = "krum", byzantine = 1 }

[[variant]]
name = "centered-clip"
aggregator = { kind = "centered-clip", clip_radius = 10.0 }

[[variant]]
name = "adam-rand-k"
compressor = { kind = "rand-k", k = 2000 }
server = { optimizer = "adam" }
step = { eta = 0.03 }
)";

const char* kVariants[] = {"mean-identity", "mean-top-k", "sign-mean",    "majority",   "median",
                           "trimmed-mean",  "krum",       "centered-clip", "adam-rand-k"};

// Runs `edgefl run` on dir/config.toml with `sets` into dir/name; returns that folder.
std::string RunEdgefl(const std::string& dir, const std::string& name, const std::string& sets = "") {
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml " + sets + " --out " + dir + "/" + name,
                            240);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return dir + "/" + name;
}

std::map<std::string, RunSummary> RunAll(const std::string& dir, const std::string& name, const std::string& sets) {
  RunEdgefl(dir, name, sets);
  std::map<std::string, RunSummary> summaries;
  for (const char* variant : kVariants) {
    summaries[variant] = Summary(dir + "/" + name + "/" + variant + "/summary.toml");
  }
  return summaries;
}

TEST_CASE("step downlink: every aggregator keeps the replicas equal; sign votes give the model run's model in far "
          "fewer bytes") {
  const std::string dir = testing::ScratchDir("downlink_aggregators");
  testing::WriteFile(dir + "/config.toml", kAggregators);
  const auto model = RunAll(dir, "model", "");
  const auto step = RunAll(dir, "step", "--set round.downlink=step --keep-updates");
  for (const char* variant : kVariants) {
    CAPTURE(std::string(variant));
    const RunSummary& m = model.at(variant);
    const RunSummary& s = step.at(variant);
    CHECK(s.ok);
    CHECK(s.steps == 25);
    // Every node checked every round's hash: none had to ask for the model.
    CHECK(s.model_requests == 0);
    CHECK(m.model_requests == 0);
    CHECK(s.bytes_up == m.bytes_up);
    CHECK(s.final_loss < 0.5 * s.initial_loss);
  }
  // The sign votes' steps travel exactly, and dense steps (every other
  // rule's) are not sent as steps, so the model is the model run's bit for
  // bit; sparse steps go as f32 values and move the model by those: top-k's
  // every round, adam's in round 0 (its first moment is then still sparse).
  for (const char* variant : kVariants) {
    CAPTURE(std::string(variant));
    const bool f32_steps = std::string(variant) == "mean-top-k" || std::string(variant) == "adam-rand-k";
    CHECK((step.at(variant).model_hash == model.at(variant).model_hash) != f32_steps);
  }
  CHECK(step.at("adam-rand-k").bytes_down < model.at("adam-rand-k").bytes_down);
  for (const char* variant : {"mean-identity", "median", "trimmed-mean", "krum", "centered-clip"}) {
    CAPTURE(std::string(variant));
    CHECK(step.at(variant).bytes_down == model.at(variant).bytes_down);
  }
  // 2 bits a coordinate for majority and 4 (counts 0..5) for sign-mean in
  // place of 32, after round 0's model.
  for (const char* variant : {"sign-mean", "majority"}) {
    CAPTURE(std::string(variant));
    const double ratio =
        static_cast<double>(step.at(variant).bytes_down) / static_cast<double>(model.at(variant).bytes_down);
    MESSAGE(std::string(variant) << ": bytes down, step / model = " << ratio);
    CHECK(ratio < (std::string(variant) == "majority" ? 0.12 : 0.2));
  }
  // Top-k's mean is sparse (at most 5 x 200 coordinates): indices and values.
  CHECK(static_cast<double>(step.at("mean-top-k").bytes_down) <
        0.3 * static_cast<double>(model.at("mean-top-k").bytes_down));

  // A step run replays: the coordinator's step arithmetic is the replay's.
  for (const char* variant : {"mean-top-k", "sign-mean"}) {
    const auto verified = RunCommand(Binary("edgefl") + " verify --replay " + dir + "/step/" + variant);
    INFO(verified.output);
    CHECK(verified.exit_code == 0);
  }
}

TEST_CASE("step downlink with cohorts: nodes catch up by the steps they missed, the model is the model run's") {
  const std::string dir = testing::ScratchDir("downlink_cohorts");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "cohorts"
nodes = 8
rounds = 40
seed = 11
[objective]
kind = "quadratic"
dimension = 20000
[compressor]
kind = "sign"
[step]
eta = 0.002
[round]
cohort = 2
)");
  const auto run = [&](const std::string& name, const std::string& sets) {
    return Summary(RunEdgefl(dir, name, sets) + "/cohorts/summary.toml");
  };
  const RunSummary model = run("model", "");
  const RunSummary step = run("step", "--set round.downlink=step");
  CHECK(step.ok);
  CHECK(step.steps == 40);
  CHECK(step.model_requests == 0);
  CHECK(step.model_hash == model.model_hash);
  // Each node's first round takes the model; later ones the steps since its
  // last (at most 2 of 8 nodes a round: a node misses about 3 rounds).
  const double ratio = static_cast<double>(step.bytes_down) / static_cast<double>(model.bytes_down);
  MESSAGE("cohorts of 2 of 8: bytes down, step / model = " << ratio);
  CHECK(ratio < 0.5);
}

TEST_CASE("step downlink over CURVE at d = 1e5: every round's step crosses the secure link, no model asked for") {
  const std::string dir = testing::ScratchDir("downlink_curve");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "curve"
nodes = 3
rounds = 15
[objective]
dimension = 100000
[compressor]
kind = "sign"
[aggregator]
kind = "majority"
[step]
eta = 0.002
[round]
downlink = "step"
)");
  const auto keys = RunCommand(Binary("edgefl") + " keys init " + dir + "/keys --nodes 3");
  INFO(keys.output);
  REQUIRE(keys.exit_code == 0);
  ProcessGroup group;
  size_t coordinator = 0;
  std::string endpoint;
  const Status started = SpawnCoordinator(
      group, EDGEFL_BIN_DIR,
      {"--config", dir + "/config.toml", "--out", dir + "/out", "--key", dir + "/keys/coordinator.key", "--allow",
       dir + "/keys/allow.keys"},
      5000, &coordinator, &endpoint);
  REQUIRE_MESSAGE(started.ok(), started.message());
  std::vector<size_t> nodes(3);
  for (int id = 0; id < 3; ++id) {
    REQUIRE(group.Spawn({Binary("edgefl-node"), "--connect", endpoint, "--id", std::to_string(id), "--key",
                         dir + "/keys/node-" + std::to_string(id) + ".key", "--server-key",
                         dir + "/keys/coordinator.pub", "--quiet"},
                        -1, &nodes[id])
                .ok());
  }
  CHECK(testing::WaitFor(group, coordinator).exit_code == 0);
  for (const size_t node : nodes) CHECK(testing::WaitFor(group, node).exit_code == 0);
  const RunSummary s = Summary(dir + "/out/summary.toml");
  CHECK(s.ok);
  CHECK(s.steps == 15);
  CHECK(s.model_requests == 0);
  // Round 0's model, then 2 bits a coordinate and 7 parts' tables: 3 x
  // (400 KB + 14 x 26.1 KB), where the model form sends 3 x 15 x 400 KB.
  CHECK(s.bytes_down < 3 * (401000 + 14 * 26100));
}

TEST_CASE("a coordinator killed mid-run resumes in step form: its running nodes rejoin, get the model once, and the "
          "model is the uninterrupted run's") {
  const std::string dir = testing::ScratchDir("downlink_resume");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "resume"
nodes = 3
rounds = 2000
seed = 6
checkpoint_every = 50
[objective]
dimension = 20000
[compressor]
kind = "sign"
[aggregator]
kind = "majority"
[step]
eta = 0.0005
[round]
downlink = "step"
heartbeat_ms = 100
)");
  const RunSummary uninterrupted = Summary(RunEdgefl(dir, "reference") + "/resume/summary.toml");

  const std::string out = dir + "/out";
  ProcessGroup group;
  size_t coordinator = 0;
  std::string endpoint;
  Status s = SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--config", dir + "/config.toml", "--out", out, "--quiet"},
                              5000, &coordinator, &endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  std::vector<size_t> nodes(3);
  for (int id = 0; id < 3; ++id) {
    REQUIRE(group.Spawn({Binary("edgefl-node"), "--connect", endpoint, "--id", std::to_string(id), "--quiet"}, -1,
                        &nodes[id])
                .ok());
  }
  testing::WaitForRows(out + "/metrics.csv", 300);
  group.Signal(coordinator, SIGKILL);
  CHECK(testing::WaitFor(group, coordinator).signal == SIGKILL);
  REQUIRE(testing::Rows(out + "/metrics.csv") < 2000);
  size_t resumed = 0;
  s = SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--resume", out, "--quiet"}, 5000, &resumed, &endpoint, endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(testing::WaitFor(group, resumed).exit_code == 0);
  for (const size_t node : nodes) CHECK(testing::WaitFor(group, node).exit_code == 0);
  const RunSummary summary = Summary(out + "/summary.toml");
  CHECK(summary.ok);
  CHECK(summary.steps == 2000);
  CHECK(summary.model_requests == 0);
  CHECK(summary.model_hash == uninterrupted.model_hash);
}

// `edgefl predict`'s "a round: U B up and D B down a node, S s" figures.
struct Forecast {
  double up = 0.0, down = 0.0, seconds = 0.0;
};
Forecast Predicted(const std::string& config, const std::string& sets) {
  // Few paths: only the round's bytes and seconds are read, not the loss forecast.
  const auto r = RunCommand(Binary("edgefl") + " predict " + config + " " + sets + " --paths 4 --substeps 1");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  Forecast f;
  const size_t at = r.output.find("a round: ");
  REQUIRE(at != std::string::npos);
  REQUIRE(std::sscanf(r.output.c_str() + at, "a round: %lf B up and %lf B down a node, %lf s", &f.up, &f.down,
                      &f.seconds) == 3);
  return f;
}

TEST_CASE("the forecast's bytes and seconds a round in step form are the run's on the virtual clock") {
  const std::string dir = testing::ScratchDir("downlink_forecast");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "forecast"
nodes = 8
rounds = 10
seed = 2
[objective]
dimension = 20000
[compressor]
kind = "sign"
[aggregator]
kind = "majority"
[step]
eta = 0.002
[link]
uplink_bps = 100000
downlink_bps = 1000000
latency_ms = 10
[round]
downlink = "step"
clock = "virtual"
)");
  const auto run = [&](const std::string& name, const std::string& sets) {
    return RunEdgefl(dir, name, sets) + "/forecast/";
  };
  // Every node every round: after round 0's model, each node's bytes down are
  // the forecast's, exactly, and the virtual clock's rounds its seconds.
  const std::string all = run("all", "");
  const Forecast f = Predicted(dir + "/config.toml", "");
  const std::string nodes = testing::ReadFile(all + "nodes.csv");
  const auto rounds = Column(nodes, "round"), down = Column(nodes, "bytes_down");
  for (size_t i = 0; i < rounds.size(); ++i) {
    if (rounds[i] != "0") CHECK(std::stod(down[i]) == f.down);
  }
  const auto time = Column(testing::ReadFile(all + "metrics.csv"), "time_s");
  REQUIRE(time.size() == 10);
  CHECK((std::stod(time[9]) - std::stod(time[0])) / 9 == doctest::Approx(f.seconds).epsilon(1e-3));
  // The model form's forecast is 15 times the bytes down.
  CHECK(Predicted(dir + "/config.toml", "--set round.downlink=model").down > 15 * f.down);

  // A cohort of 2 of 8: a node gets the steps since it was last asked, or
  // the model once they cost more; averaged over its rounds after its first,
  // the forecast's expectation (sampling error about 5% here; 0.8% off).
  const std::string sets = "--set round.cohort=2 --rounds 300";
  const std::string cohort = run("cohort", sets);
  const Forecast fc = Predicted(dir + "/config.toml", sets);
  const std::string cohort_nodes = testing::ReadFile(cohort + "nodes.csv");
  const auto ids = Column(cohort_nodes, "node"), cohort_down = Column(cohort_nodes, "bytes_down");
  std::set<std::string> seen;
  double sum = 0.0;
  int asks = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!seen.insert(ids[i]).second) {
      sum += std::stod(cohort_down[i]);
      ++asks;
    }
  }
  REQUIRE(asks > 500);
  MESSAGE("cohort of 2 of 8: " << sum / asks << " B down an ask, forecast " << fc.down);
  CHECK(sum / asks == doctest::Approx(fc.down).epsilon(0.1));
  CHECK(fc.down > 3 * f.down);
}

// A message of `socket` as an envelope, its bytes kept 8-aligned in
// *storage; a ROUTER's routing id in *id.
const wire::Envelope* Receive(zmq::socket_t& socket, std::vector<uint64_t>* storage, std::string* id = nullptr) {
  zmq::message_t message;
  if (id != nullptr) {
    zmq::message_t routing_id;
    if (!socket.recv(routing_id)) return nullptr;
    *id = routing_id.to_string();
  }
  if (!socket.recv(message)) return nullptr;
  storage->assign((message.size() + 7) / 8, 0);
  std::memcpy(storage->data(), message.data(), message.size());
  const wire::Envelope* e = nullptr;
  if (!codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(storage->data()), message.size()}, &e).ok()) return nullptr;
  return e;
}

void Send(zmq::socket_t& socket, const flatbuffers::FlatBufferBuilder& fbb) {
  socket.send(zmq::const_buffer(fbb.GetBufferPointer(), fbb.GetSize()));
}

TEST_CASE("a coordinator answers a ModelRequest with the model of the round, once a round") {
  const std::string dir = testing::ScratchDir("downlink_request");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "request"
nodes = 2
rounds = 6
[objective]
dimension = 50
[compressor]
kind = "sign"
[round]
downlink = "step"
)");
  ProcessGroup group;
  size_t coordinator = 0;
  std::string endpoint;
  const Status started =
      SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--config", dir + "/config.toml", "--out", dir + "/out"}, 5000,
                       &coordinator, &endpoint);
  REQUIRE_MESSAGE(started.ok(), started.message());
  zmq::context_t context;
  zmq::socket_t node(context, zmq::socket_type::dealer);
  node.set(zmq::sockopt::routing_id, "node-1");
  node.set(zmq::sockopt::linger, 0);
  node.set(zmq::sockopt::rcvtimeo, 10000);
  node.connect(endpoint);
  flatbuffers::FlatBufferBuilder fbb;
  codec::EncodeHello(fbb, {1, 50, 0, 0});
  Send(node, fbb);
  size_t real_node = 0;
  REQUIRE(group.Spawn({Binary("edgefl-node"), "--connect", endpoint, "--id", "0", "--quiet"}, -1, &real_node).ok());

  const std::vector<uint8_t> signs(7, 0);
  std::map<uint32_t, std::vector<wire::ModelForm>> forms;  // each round's round starts, in order
  std::vector<uint64_t> storage;
  for (const wire::Envelope* e = Receive(node, &storage); e != nullptr && e->body_type() != wire::Body::Bye;
       e = Receive(node, &storage)) {
    if (e->body_type() != wire::Body::RoundStart) continue;
    const uint32_t round = e->round();
    forms[round].push_back(e->body_as_RoundStart()->form());
    if (round == 2 && forms[round].size() == 1) {
      // Pretend the step cannot be taken: ask twice; the model comes once.
      REQUIRE(e->body_as_RoundStart()->form() == wire::ModelForm::Step);
      codec::EncodeModelRequest(fbb, round, 1);
      Send(node, fbb);
      Send(node, fbb);
      continue;
    }
    codec::PayloadView payload;
    payload.type = wire::Payload::Signs;
    payload.packed_signs = signs;
    codec::EncodeUpdate(fbb, round, {1, 1.0, 0.0, 1, 1, {}}, payload);
    Send(node, fbb);
  }
  CHECK(testing::WaitFor(group, coordinator).exit_code == 0);
  CHECK(testing::WaitFor(group, real_node).exit_code == 0);
  const RunSummary s = Summary(dir + "/out/summary.toml");
  CHECK(s.ok);
  CHECK(s.steps == 6);
  CHECK(s.model_requests == 1);
  // Round 0: the model (the node held none); then steps; round 2: the step,
  // and the model asked for, once.
  CHECK(forms[0] == std::vector{wire::ModelForm::Full});
  CHECK(forms[1] == std::vector{wire::ModelForm::Step});
  CHECK(forms[2] == std::vector{wire::ModelForm::Step, wire::ModelForm::Full});
  CHECK(forms[3] == std::vector{wire::ModelForm::Step});
}

TEST_CASE("a node that cannot take a step asks for the model, and computes on the model it is sent") {
  zmq::context_t context;
  zmq::socket_t fake(context, zmq::socket_type::router);
  fake.set(zmq::sockopt::linger, 0);
  fake.set(zmq::sockopt::rcvtimeo, 10000);
  fake.bind("tcp://127.0.0.1:*");
  const std::string endpoint = fake.get(zmq::sockopt::last_endpoint);
  constexpr uint32_t kD = 40;
  std::vector<std::string> answers;  // what the node sent after the Welcome, in order
  std::thread coordinator([&] {
    std::vector<uint64_t> storage;
    std::string routing_id;
    const wire::Envelope* hello = Receive(fake, &storage, &routing_id);
    if (hello == nullptr || hello->body_type() != wire::Body::Hello) return;
    flatbuffers::FlatBufferBuilder fbb;
    const auto to_node = [&] {
      fake.send(zmq::buffer(routing_id), zmq::send_flags::sndmore);
      Send(fake, fbb);
    };
    codec::TaskSpec task;
    task.objective.dimension = kD;
    task.num_nodes = 1;
    codec::EncodeWelcome(fbb, task, 500);
    to_node();
    const auto next_answer = [&] {
      for (;;) {
        const wire::Envelope* e = Receive(fake, &storage, &routing_id);
        if (e == nullptr) return std::string("nothing");
        if (e->body_type() == wire::Body::Heartbeat) continue;
        return std::string(wire::EnumNameBody(e->body_type())) + " " + std::to_string(e->round());
      }
    };
    // Round 1 as a step: the node holds no model.
    std::vector<float> model(kD, 1.0f), step(kD, 0.5f);
    codec::ModelStepPart part;
    part.version = 1;
    part.length = kD;
    part.step_size = 0.1;
    part.payload.type = wire::Payload::DenseF32;
    part.payload.values = step;
    codec::ApplyModelStep(part, model);
    part.model_hash = codec::ReplicaHash(model);
    codec::EncodeRoundStartStep(fbb, 1, part);
    to_node();
    answers.push_back(next_answer());
    codec::EncodeRoundStartFull(fbb, 1, model);
    to_node();
    answers.push_back(next_answer());
    // Round 2: a step the node can take (it holds round 1's model).
    part.version = 2;
    codec::ApplyModelStep(part, model);
    part.model_hash = codec::ReplicaHash(model);
    codec::EncodeRoundStartStep(fbb, 2, part);
    to_node();
    answers.push_back(next_answer());
    // Round 3: a step whose hash is not the model's.
    part.version = 3;
    codec::ApplyModelStep(part, model);
    part.model_hash = codec::ReplicaHash(model) ^ 1;
    codec::EncodeRoundStartStep(fbb, 3, part);
    to_node();
    answers.push_back(next_answer());
    codec::EncodeBye(fbb, 3, UINT32_MAX, "done");
    to_node();
    next_answer();
  });
  const auto r = RunCommand(Binary("edgefl-node") + " --connect " + endpoint +
                                " --id 0 --join-timeout-ms 5000 --rejoin-timeout-ms 0",
                            30);
  coordinator.join();
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(answers == std::vector<std::string>{"ModelRequest 1", "Update 1", "Update 2", "ModelRequest 3"});
  CHECK(Contains(r.output, "round 1: a step, and no model to apply it to: asking for the whole model"));
  CHECK(Contains(r.output, "round 3: the model after the step to round 3 does not match its hash"));
}

}  // namespace
}  // namespace edgefl

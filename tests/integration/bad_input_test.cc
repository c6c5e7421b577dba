// Bad input end to end: config errors, unreachable or refusing peers,
// malformed bytes on the wire, a node that dies, and Ctrl-C. Each gets a
// clear message and a non-zero exit, nothing hangs, and every round
// already computed stays in the run folder.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "runfiles/run_recorder.h"
#include "schemas/codec/wire.h"
#include "sim/launcher.h"
#include "sim/process_group.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Binary;
using testing::RunCommand;
using testing::Contains;
using testing::OpenDescriptors;
using testing::WaitFor;

const char* kSmallConfig = R"(
[run]
name = "small"
nodes = 1
rounds = 30
[objective]
dimension = 50
[round]
join_timeout_ms = 3000
)";

// Starts a coordinator for `config` and returns its endpoint.
std::string StartCoordinator(ProcessGroup& group, const std::string& config, const std::string& out, size_t* index) {
  std::string endpoint;
  const Status s = SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--config", config, "--out", out}, 5000, index, &endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return endpoint;
}

// Starts edgefl-node with id `id` against `endpoint`; returns its index.
size_t StartNode(ProcessGroup& group, const std::string& endpoint, int id) {
  size_t index = 0;
  REQUIRE(group.Spawn({Binary("edgefl-node"), "--connect", endpoint, "--id", std::to_string(id), "--quiet"}, -1, &index)
              .ok());
  return index;
}

// Waits (up to 4 s) until the run's metrics.csv has more than `rows` lines:
// rounds are under way.
void WaitForRounds(const std::string& metrics_path, long rows) {
  for (int wait = 0; wait < 200; ++wait) {
    const std::string metrics = testing::ReadFile(metrics_path);
    if (std::count(metrics.begin(), metrics.end(), '\n') > rows) return;
    usleep(20000);
  }
}

TEST_CASE("config errors name the key and exit 2") {
  const std::string dir = testing::ScratchDir("config_errors");
  testing::WriteFile(dir + "/bad.toml", "[compressor]\nkind = \"rand-k\"\nkk = 3\n");
  auto r = RunCommand(Binary("edgefl") + " run " + dir + "/bad.toml --out " + dir + "/out");
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "unknown key 'compressor.kk'"));

  r = RunCommand(Binary("edgefl") + " run --set compressor.kind=rand-k --set compressor.k=5000 --out " + dir + "/out");
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "compressor.k = 5000"));

  r = RunCommand(Binary("edgefl") + " run --set compressor.kind=qsgd --set compressor.levels=0 --out " + dir + "/out");
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "compressor.levels = 0"));

  r = RunCommand(Binary("edgefl-coordinator") + " --config " + dir + "/missing.toml");
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "cannot read config file"));
}

TEST_CASE("operator mistakes are refused, naming what was wrong: a folder or device as config, a missing data folder, "
          "a run name that leaves runs/") {
  const std::string dir = testing::ScratchDir("operator_input");
  testing::WriteFile(dir + "/config.toml", kSmallConfig);
  // A folder used to run the default experiment; /dev/zero to read until bad_alloc.
  auto r = RunCommand(Binary("edgefl-coordinator") + " --config " + dir + " --out " + dir + "/out", 20);
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "is not a regular file (a folder)"));
  CHECK_FALSE(std::filesystem::exists(dir + "/out"));
  r = RunCommand(Binary("edgefl-coordinator") + " --config /dev/zero --out " + dir + "/out", 20);
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "'/dev/zero' is not a regular file"));
  r = RunCommand(Binary("edgefl") + " run /dev/zero --out " + dir + "/out", 20);
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "'/dev/zero' is not a regular file"));

  // A data folder that does not exist was silently passed over.
  for (const std::string& command :
       {Binary("edgefl-coordinator") + " --config " + dir + "/config.toml --out " + dir + "/out",
        Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/out",
        Binary("edgefl-node") + " --connect tcp://127.0.0.1:9 --id 0"}) {
    r = RunCommand(command + " --data-dir " + dir + "/no-such-data", 20);
    INFO(command);
    CHECK(r.exit_code == 2);
    CHECK(Contains(r.output, "no-such-data"));
  }
  CHECK_FALSE(std::filesystem::exists(dir + "/out"));

  // An empty --connect (EDGEFL_CONNECT left empty in the package's
  // /etc/default/edgefl-node) is a bad command line, which the unit does not restart.
  r = RunCommand(Binary("edgefl-node") + " --connect \"\" --id 0", 20);
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "--connect is empty"));

  // run.name becomes runs/<name>, which --overwrite clears.
  std::filesystem::create_directories(dir + "/cwd");
  r = RunCommand("cd " + dir + "/cwd && " + Binary("edgefl-coordinator") + " --config " + dir +
                     "/config.toml --set 'run.name=\"../../escaped\"' --overwrite",
                 20);
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "run.name = \"../../escaped\": only letters, digits"));
  CHECK_FALSE(std::filesystem::exists(dir + "/escaped"));
}

TEST_CASE("a folder left by a run that failed before round 0 is reused by the corrected run") {
  // What a run whose data set was missing leaves: config.toml, the CSV
  // headers, and a summary and model.bin of x_0. No round ran, no
  // checkpoint exists: nothing there is worth refusing the rerun for.
  const std::string dir = testing::ScratchDir("never_started");
  testing::WriteFile(dir + "/config.toml", kSmallConfig);
  const std::string out = dir + "/out/small";
  std::filesystem::create_directories(out);
  testing::WriteFile(out + "/metrics.csv", "round,time_s,loss\n");
  testing::WriteFile(out + "/nodes.csv", "round,node,bytes_up\n");
  testing::WriteFile(out + "/summary.toml", "stop_reason = \"data set not found\"\nok = false\nrounds = 0\n");
  testing::WriteFile(out + "/model.bin", "stale");
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/out");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  RunSummary s;
  REQUIRE(ReadSummary(out + "/summary.toml", &s).ok());
  CHECK(s.ok);
  CHECK(s.rounds == 30);
}

TEST_CASE("two edgefl run started in the same second write to two folders") {
  const std::string dir = testing::ScratchDir("same_second");
  testing::WriteFile(dir + "/config.toml", kSmallConfig);
  const std::string run = Binary("edgefl") + " run " + dir + "/config.toml > /dev/null 2>&1";
  const auto r = RunCommand("cd " + dir + " && (" + run + " & " + run + " & wait) && ls runs");
  INFO(r.output);
  std::vector<std::string> folders;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/runs")) folders.push_back(entry.path().string());
  REQUIRE(folders.size() == 2);
  for (const std::string& folder : folders) {
    RunSummary s;
    REQUIRE(ReadSummary(folder + "/small/summary.toml", &s).ok());
    CHECK(s.ok);
    CHECK(s.rounds == 30);
  }
}

TEST_CASE("a node with no coordinator gives up with a clear error") {
  const auto r = RunCommand(Binary("edgefl-node") + " --connect tcp://127.0.0.1:9 --id 0 --join-timeout-ms 700", 20);
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.output, "no answer from a coordinator at tcp://127.0.0.1:9 within 700 ms"));
}

TEST_CASE("a node of the wrong dimension is refused; the coordinator stops at its join deadline") {
  const std::string dir = testing::ScratchDir("wrong_dimension");
  testing::WriteFile(dir + "/config.toml", kSmallConfig);
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint = StartCoordinator(group, dir + "/config.toml", dir + "/out", &coordinator);
  const auto r = RunCommand(Binary("edgefl-node") + " --connect " + endpoint + " --id 0 --dimension 40", 20);
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.output, "node dimension 40 does not match objective.dimension = 50"));
  const ChildExit exit = WaitFor(group, coordinator);
  CHECK(exit.exit_code == 1);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK_FALSE(s.ok);
  CHECK(Contains(s.stop_reason, "only 0 of 1 nodes joined"));
}

TEST_CASE("a node prints its memory plan, and refuses a budget below it at start") {
  const std::string dir = testing::ScratchDir("memory_budget");
  testing::WriteFile(dir + "/config.toml", kSmallConfig);
  {
    ProcessGroup group;
    size_t coordinator = 0;
    const std::string endpoint = StartCoordinator(group, dir + "/config.toml", dir + "/out1", &coordinator);
    const auto r = RunCommand(Binary("edgefl-node") + " --connect " + endpoint + " --id 0 --memory-budget 1KiB", 20);
    CHECK(r.exit_code == 1);
    CHECK(Contains(r.output, "memory budget of 1024 bytes is too small: this task (d = 50, identity) needs"));
    CHECK(WaitFor(group, coordinator).exit_code == 1);
  }
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint = StartCoordinator(group, dir + "/config.toml", dir + "/out2", &coordinator);
  const auto r = RunCommand(Binary("edgefl-node") + " --connect " + endpoint + " --id 0 --memory-budget 64KiB " +
                                "--print-memory-plan --quiet",
                            20);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.output, "model replica"));
  CHECK(Contains(r.output, "arena total"));
  CHECK(WaitFor(group, coordinator).exit_code == 0);
}

TEST_CASE("a fake coordinator's Welcome with d = 2^28 is refused under the default memory budget, nothing taken") {
  // Anything that binds the coordinator's port (in insecure mode, after the
  // coordinator died) is joined: it must not be able to make the node take
  // a gigabyte. The node runs under a 800 MB address-space limit, so taking
  // the arena would end it with bad_alloc rather than the refusal.
  zmq::context_t context;
  zmq::socket_t fake(context, zmq::socket_type::router);
  fake.set(zmq::sockopt::linger, 0);
  fake.set(zmq::sockopt::rcvtimeo, 10000);
  fake.bind("tcp://127.0.0.1:*");
  const std::string endpoint = fake.get(zmq::sockopt::last_endpoint);
  uint64_t hello_budget = 0;
  std::thread coordinator([&] {
    zmq::message_t id, hello;
    if (!fake.recv(id) || !fake.recv(hello)) return;
    std::vector<uint64_t> aligned((hello.size() + 7) / 8);
    std::memcpy(aligned.data(), hello.data(), hello.size());
    const wire::Envelope* e = nullptr;
    if (codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(aligned.data()), hello.size()}, &e).ok() &&
        e->body_type() == wire::Body::Hello) {
      hello_budget = e->body_as_Hello()->memory_budget_bytes();
    }
    codec::TaskSpec task;
    task.objective.dimension = codec::kMaxDimension;
    task.num_nodes = 1;
    flatbuffers::FlatBufferBuilder fbb;
    codec::EncodeWelcome(fbb, task, 500);
    fake.send(id, zmq::send_flags::sndmore);
    fake.send(zmq::const_buffer(fbb.GetBufferPointer(), fbb.GetSize()));
  });
  const auto r = RunCommand("ulimit -v 800000; exec " + Binary("edgefl-node") + " --connect " + endpoint +
                                " --id 0 --join-timeout-ms 5000 --rejoin-timeout-ms 0",
                            30);
  coordinator.join();
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.output, "refused the task: it needs"));
  CHECK(Contains(r.output, "(d = 268435456, identity), over this node's default memory budget"));
  // The Hello says what the node may take.
  CHECK(hello_budget > 0);
  CHECK(hello_budget <= (uint64_t{256} << 20));
}

TEST_CASE("malformed and foreign messages are counted and refused; the run goes on") {
  const std::string dir = testing::ScratchDir("malformed");
  testing::WriteFile(dir + "/config.toml", kSmallConfig);
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint = StartCoordinator(group, dir + "/config.toml", dir + "/out", &coordinator);

  zmq::context_t context;
  zmq::socket_t intruder(context, zmq::socket_type::dealer);
  intruder.set(zmq::sockopt::routing_id, "intruder");
  intruder.set(zmq::sockopt::linger, 0);
  intruder.connect(endpoint);
  const std::string garbage = "this is not a flatbuffer at all";
  intruder.send(zmq::buffer(garbage));
  flatbuffers::FlatBufferBuilder fbb;
  codec::EncodeHello(fbb, {0, 50, 0, 0});
  intruder.send(zmq::const_buffer(fbb.GetBufferPointer(), fbb.GetSize() / 2));  // truncated
  intruder.send(zmq::const_buffer(fbb.GetBufferPointer(), fbb.GetSize()));      // claims node 0
  // The two broken messages get an Error each; the claim to be node 0 is
  // refused, since the routing id is not node-0.
  intruder.set(zmq::sockopt::rcvtimeo, 5000);
  std::vector<wire::Body> replies;
  for (int i = 0; i < 3; ++i) {
    zmq::message_t reply;
    REQUIRE(intruder.recv(reply));
    std::vector<uint64_t> aligned((reply.size() + 7) / 8);
    std::memcpy(aligned.data(), reply.data(), reply.size());
    const wire::Envelope* e = nullptr;
    REQUIRE(codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(aligned.data()), reply.size()}, &e).ok());
    replies.push_back(e->body_type());
    if (e->body_type() == wire::Body::Welcome) CHECK_FALSE(e->body_as_Welcome()->accepted());
  }
  CHECK(replies == std::vector<wire::Body>{wire::Body::Error, wire::Body::Error, wire::Body::Welcome});

  StartNode(group, endpoint, 0);
  CHECK(WaitFor(group, coordinator).exit_code == 0);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.ok);
  CHECK(s.rounds == 30);
  CHECK(s.rejected >= 3);
}

TEST_CASE("a version 3 node is refused with an Error it can read, and the run goes on") {
  // Version 3 nodes did not declare their objectives and noises, and one
  // that joined a cosh run failed after its Welcome. Now the coordinator
  // refuses it at its Hello, in its own version so that it reads why.
  const std::string dir = testing::ScratchDir("version3");
  std::string config = kSmallConfig;
  config.insert(config.find("[objective]\n") + 12, "kind = \"cosh\"\n");
  testing::WriteFile(dir + "/config.toml", config);
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint = StartCoordinator(group, dir + "/config.toml", dir + "/out", &coordinator);

  zmq::context_t context;
  zmq::socket_t old_node(context, zmq::socket_type::dealer);
  old_node.set(zmq::sockopt::routing_id, "node-0");
  old_node.set(zmq::sockopt::linger, 0);
  old_node.set(zmq::sockopt::rcvtimeo, 5000);
  old_node.connect(endpoint);
  // A Hello as a version 3 node built it: compressors only.
  flatbuffers::FlatBufferBuilder fbb;
  const auto supported = fbb.CreateVector(std::vector<uint8_t>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  wire::HelloBuilder hello(fbb);
  hello.add_supported(flatbuffers::Offset<flatbuffers::Vector<wire::CompressorKind>>(supported.o));
  const auto body = hello.Finish();
  wire::EnvelopeBuilder envelope(fbb);
  envelope.add_protocol_version(3);
  envelope.add_body_type(wire::Body::Hello);
  envelope.add_body(body.Union());
  fbb.Finish(envelope.Finish(), wire::EnvelopeIdentifier());
  old_node.send(zmq::const_buffer(fbb.GetBufferPointer(), fbb.GetSize()));

  zmq::message_t reply;
  REQUIRE(old_node.recv(reply));
  std::vector<uint64_t> aligned((reply.size() + 7) / 8);
  std::memcpy(aligned.data(), reply.data(), reply.size());
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(aligned.data()), reply.size());
  REQUIRE(wire::VerifyEnvelopeBuffer(verifier));
  const wire::Envelope* e = wire::GetEnvelope(aligned.data());
  CHECK(e->protocol_version() == 3);  // what a version 3 node's reader accepts
  REQUIRE(e->body_type() == wire::Body::Error);
  CHECK(e->body_as_Error()->code() == wire::ErrorCode::Malformed);
  CHECK(std::string(e->body_as_Error()->message()->c_str()) == "protocol version 3, this build speaks 8");
  old_node.close();

  StartNode(group, endpoint, 0);
  CHECK(WaitFor(group, coordinator).exit_code == 0);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.ok);
  CHECK(s.rejected >= 1);
}

// The peak resident memory of a running process, in kB (VmHWM).
long PeakResidentKb(pid_t pid) {
  const std::string status = testing::ReadFile("/proc/" + std::to_string(pid) + "/status");
  const size_t at = status.find("VmHWM:");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + 6);
}

TEST_CASE("a flood from a peer that never reads, a forged log line and an oversized frame: the run completes") {
  const std::string dir = testing::ScratchDir("flood");
  testing::WriteFile(dir + "/config.toml", kSmallConfig);
  // The coordinator's stderr, into a file.
  const std::string log_path = dir + "/coordinator.log";
  const int saved_stderr = dup(STDERR_FILENO);
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(log_fd >= 0);
  dup2(log_fd, STDERR_FILENO);
  ProcessGroup group;
  size_t coordinator = 0;
  std::string endpoint;
  const Status started =
      SpawnCoordinator(group, EDGEFL_BIN_DIR, {"--config", dir + "/config.toml", "--out", dir + "/out"}, 5000,
                       &coordinator, &endpoint);
  dup2(saved_stderr, STDERR_FILENO);
  close(saved_stderr);
  close(log_fd);
  REQUIRE_MESSAGE(started.ok(), started.message());

  zmq::context_t context;
  // A routing id with a newline that would forge a line, claiming node 0:
  // refused, and logged escaped.
  zmq::socket_t forger(context, zmq::socket_type::dealer);
  forger.set(zmq::sockopt::routing_id, "x\nedgefl-coordinator: info: forged");
  forger.set(zmq::sockopt::linger, 0);
  forger.connect(endpoint);
  flatbuffers::FlatBufferBuilder fbb;
  codec::EncodeHello(fbb, {0, 50, 0, 0});
  forger.send(zmq::const_buffer(fbb.GetBufferPointer(), fbb.GetSize()));
  // Its refusal is logged before the flood fills the warnings' budget (10
  // every 5 s): the ROUTER reads connections in turn, and a flood
  // connected first would otherwise come first.
  usleep(300000);
  // A peer that sends junk and never reads the Error replies.
  zmq::socket_t flooder(context, zmq::socket_type::dealer);
  flooder.set(zmq::sockopt::routing_id, "flooder");
  flooder.set(zmq::sockopt::linger, 0);
  flooder.set(zmq::sockopt::sndhwm, 0);
  flooder.connect(endpoint);
  const std::string junk = "junk junk junk junk";
  constexpr int kJunk = 20000;
  for (int i = 0; i < kJunk; ++i) flooder.send(zmq::buffer(junk), zmq::send_flags::dontwait);
  // A frame that claims 64 MB: ZeroMQ drops the connection at its header
  // (the run's largest message is a few kB), and never buffers it.
  zmq::socket_t giant(context, zmq::socket_type::dealer);
  giant.set(zmq::sockopt::linger, 0);
  giant.connect(endpoint);
  std::vector<uint8_t> huge(64u << 20, 7);
  giant.send(zmq::buffer(huge), zmq::send_flags::dontwait);
  usleep(500000);
  const long peak_kb = PeakResidentKb(group.Pid(coordinator));
  MESSAGE("coordinator peak RSS after the flood: " << peak_kb << " kB");
  CHECK(peak_kb > 0);
  CHECK(peak_kb < 48 * 1024);  // well below the 64 MB frame

  StartNode(group, endpoint, 0);
  CHECK(WaitFor(group, coordinator).exit_code == 0);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.ok);
  CHECK(s.rounds == 30);
  CHECK(s.rejected >= 1000);  // a flood that arrived, counted (at least part of 20000)
  const std::string log = testing::ReadFile(log_path);
  INFO(log.substr(0, 4000));
  CHECK_FALSE(Contains(log, "\nedgefl-coordinator: info: forged"));
  CHECK(Contains(log, "x\\x0aedgefl-coordinator: info: forged"));
  CHECK(std::count(log.begin(), log.end(), '\n') < 60);  // not one line per rejected message
  CHECK(Contains(log, "without a warning each"));

  // Nothing the intruders sent touched the model: a clean run of the same
  // config ends with the same bits.
  const auto clean = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/clean");
  REQUIRE(clean.exit_code == 0);
  RunSummary c;
  REQUIRE(ReadSummary(dir + "/clean/small/summary.toml", &c).ok());
  CHECK(c.rejected == 0);
  CHECK(c.model_hash == s.model_hash);
}

// Open file descriptors of a running process.
TEST_CASE("a connection that claims a joined node's id is never heard: no takeover, no spoofed Bye, no leak") {
  // 200 connections (never blocking on a send) with routing id node-0, each sending a Hello, an
  // update and a Bye as node 0, while the real node 0 runs. Once, with
  // ROUTER handover, the first took node 0's route: the run lost its only
  // node ("quorum not reached") and each collision could leave a socket.
  const std::string dir = testing::ScratchDir("collisions");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "collisions"
nodes = 1
rounds = 30000
[objective]
dimension = 50
)");
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint = StartCoordinator(group, dir + "/config.toml", dir + "/out", &coordinator);
  StartNode(group, endpoint, 0);
  WaitForRounds(dir + "/out/metrics.csv", 20);
  const int descriptors_before = OpenDescriptors(group.Pid(coordinator));
  zmq::context_t context;
  flatbuffers::FlatBufferBuilder hello, update, bye;
  codec::EncodeHello(hello, {0, 50, 0, 0});
  const std::vector<float> poison(50, 1e6f);
  codec::PayloadView payload;
  payload.type = wire::Payload::DenseF32;
  payload.values = poison;
  for (int i = 0; i < 200; ++i) {
    zmq::socket_t hijacker(context, zmq::socket_type::dealer);
    hijacker.set(zmq::sockopt::routing_id, "node-0");
    hijacker.set(zmq::sockopt::linger, 0);
    hijacker.connect(endpoint);
    hijacker.send(zmq::const_buffer(hello.GetBufferPointer(), hello.GetSize()), zmq::send_flags::dontwait);
    for (uint32_t round = 0; round < 30000; round += 6000) {
      codec::EncodeUpdate(update, round, {0, 1.0, 1.0, 1, 1, {}}, payload);
      hijacker.send(zmq::const_buffer(update.GetBufferPointer(), update.GetSize()), zmq::send_flags::dontwait);
    }
    codec::EncodeBye(bye, 0, 0, "spoofed");
    hijacker.send(zmq::const_buffer(bye.GetBufferPointer(), bye.GetSize()), zmq::send_flags::dontwait);
    usleep(2000);
  }
  usleep(300000);
  const int descriptors_after = OpenDescriptors(group.Pid(coordinator));
  MESSAGE("coordinator descriptors: " << descriptors_before << " before, " << descriptors_after << " after");
  CHECK(descriptors_after > 0);  // still running
  CHECK(descriptors_after <= descriptors_before + 2);
  CHECK(WaitFor(group, coordinator).exit_code == 0);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.ok);
  CHECK(s.stop_reason == "all rounds done");
  CHECK(s.steps == 30000);
  CHECK(s.update_messages == 30000);  // node 0's own, and only those
  CHECK(s.final_loss < s.initial_loss);
}

TEST_CASE("a hostile node's overflowing updates are refused, and are not taken for divergence") {
  // Node 2 of 3 answers every round start with values of 1e13 (above the
  // 2^40 an update may carry). Two honest nodes make the quorum of 0.6, so
  // every round steps, and one node overflowing is not "most nodes".
  const std::string dir = testing::ScratchDir("hostile_overflow");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "hostile"
nodes = 3
rounds = 30
[objective]
dimension = 50
[round]
quorum = 0.6
)");
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint = StartCoordinator(group, dir + "/config.toml", dir + "/out", &coordinator);
  zmq::context_t context;
  zmq::socket_t hostile(context, zmq::socket_type::dealer);
  hostile.set(zmq::sockopt::routing_id, "node-2");
  hostile.set(zmq::sockopt::linger, 0);
  hostile.set(zmq::sockopt::rcvtimeo, 10000);
  hostile.connect(endpoint);
  flatbuffers::FlatBufferBuilder fbb;
  codec::EncodeHello(fbb, {2, 50, 0, 0});
  hostile.send(zmq::const_buffer(fbb.GetBufferPointer(), fbb.GetSize()));
  StartNode(group, endpoint, 0);
  StartNode(group, endpoint, 1);
  const std::vector<float> huge(50, 1e13f);
  int answered = 0;
  for (bool running = true; running;) {
    zmq::message_t message;
    if (!hostile.recv(message)) break;
    std::vector<uint64_t> aligned((message.size() + 7) / 8);
    std::memcpy(aligned.data(), message.data(), message.size());
    const wire::Envelope* e = nullptr;
    REQUIRE(codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(aligned.data()), message.size()}, &e).ok());
    if (e->body_type() == wire::Body::RoundStart) {
      codec::PayloadView payload;
      payload.type = wire::Payload::DenseF32;
      payload.values = huge;
      codec::EncodeUpdate(fbb, e->round(), {2, 1.0, 1.0, 1, 1, {}}, payload);
      hostile.send(zmq::const_buffer(fbb.GetBufferPointer(), fbb.GetSize()));
      ++answered;
    }
    running = e->body_type() != wire::Body::Bye;
  }
  CHECK(WaitFor(group, coordinator).exit_code == 0);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.ok);
  CHECK(s.stop_reason == "all rounds done");
  CHECK(s.diverged_at == -1);
  CHECK(s.steps == 30);
  CHECK(answered == 30);
  CHECK(s.rejected >= 30);
}

TEST_CASE("a node killed mid-run is dropped, the default quorum carries the run, and its restart rejoins") {
  // The default quorum, half the nodes (2 of 3), lets a run lose a node.
  const std::string dir = testing::ScratchDir("node_crash");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "crash"
nodes = 3
rounds = 3000
[objective]
dimension = 2000
[round]
heartbeat_ms = 100
dead_after_ms = 600
)");
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint = StartCoordinator(group, dir + "/config.toml", dir + "/out", &coordinator);
  size_t nodes[3];
  for (int i = 0; i < 3; ++i) nodes[i] = StartNode(group, endpoint, i);
  WaitForRounds(dir + "/out/metrics.csv", 20);
  group.Signal(nodes[2], SIGKILL);
  StartNode(group, endpoint, 2);
  const ChildExit exit = WaitFor(group, coordinator);
  CHECK(exit.exit_code == 0);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.ok);
  CHECK(s.stop_reason == "all rounds done");
  CHECK(s.steps == 3000);
  CHECK(s.update_messages < 3 * 3000);
  CHECK(s.update_messages > 2 * 3000 + 100);  // the restarted node took part again
}

TEST_CASE("a node restarted while its old process hangs takes its id over once the old one is found dead") {
  // A hung (or power-cut) node leaves its connection open: no FIN ever
  // comes. ZMTP heartbeats close that connection after dead_after_ms, and
  // its replacement, with the same id, takes over; the round waits for it.
  // With quorum 1, the run finishes only if it joins.
  const std::string dir = testing::ScratchDir("node_hang");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "hang"
nodes = 2
rounds = 300
[objective]
dimension = 1000
[round]
quorum = 1.0
heartbeat_ms = 100
dead_after_ms = 600
)");
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint = StartCoordinator(group, dir + "/config.toml", dir + "/out", &coordinator);
  size_t nodes[2];
  for (int i = 0; i < 2; ++i) nodes[i] = StartNode(group, endpoint, i);
  WaitForRounds(dir + "/out/metrics.csv", 5);
  group.Signal(nodes[1], SIGSTOP);
  StartNode(group, endpoint, 1);  // the replacement
  const ChildExit exit = WaitFor(group, coordinator);
  CHECK(exit.exit_code == 0);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.ok);
  CHECK(s.stop_reason == "all rounds done");
  CHECK(s.rounds == 300);
  CHECK(s.steps >= 290);  // the round the node hung in may take no step
  group.Signal(nodes[1], SIGKILL);
}

TEST_CASE("Ctrl-C stops every process and keeps the rounds already run") {
  const std::string dir = testing::ScratchDir("interrupt");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "long"
nodes = 4
rounds = 10000000
[objective]
dimension = 1000
)");
  const auto r = RunCommand("timeout --preserve-status -s INT 2 " + Binary("edgefl") + " run " + dir +
                            "/config.toml --out " + dir + "/out");
  INFO(r.output);
  CHECK(r.exit_code == 130);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/long/summary.toml", &s).ok());
  CHECK(s.stop_reason == "stopped by signal");
  CHECK(s.rounds > 0);
  const std::string metrics = testing::ReadFile(dir + "/out/long/metrics.csv");
  CHECK(static_cast<uint32_t>(std::count(metrics.begin(), metrics.end(), '\n')) == s.rounds + 1);
  usleep(300000);
  CHECK(testing::CountProcesses(dir + "/out") == 0);
}

}  // namespace
}  // namespace edgefl

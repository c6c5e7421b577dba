// The coordinator's transport as a deployment meets it: updates of every
// compressor at the sizes where a limit sits, with and without CURVE keys;
// messages just over and far over the size limit; idle connections by the
// hundred; a handshake flood from the nodes' own address; a listed key
// speaking for other boards; and boards whose security is misconfigured.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "runfiles/run_recorder.h"
#include "net/curve_keys.h"
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

// A folder with `edgefl keys init` keys for `nodes` nodes.
std::string MakeKeys(const std::string& dir, int nodes) {
  const auto keys = RunCommand(Binary("edgefl") + " keys init " + dir + "/keys --nodes " + std::to_string(nodes));
  INFO(keys.output);
  REQUIRE(keys.exit_code == 0);
  return dir + "/keys";
}

std::string StartCoordinator(ProcessGroup& group, const std::vector<std::string>& args, size_t* index) {
  std::string endpoint;
  const Status s = SpawnCoordinator(group, EDGEFL_BIN_DIR, args, 5000, index, &endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return endpoint;
}

// The coordinator's arguments for `config`, writing to `out`, with the
// CURVE keys in `keys` (none when empty).
std::vector<std::string> CoordinatorArgs(const std::string& config, const std::string& out, const std::string& keys) {
  std::vector<std::string> args = {"--config", config, "--out", out};
  if (!keys.empty()) args.insert(args.end(), {"--key", keys + "/coordinator.key", "--allow", keys + "/allow.keys"});
  return args;
}

size_t StartNode(ProcessGroup& group, const std::string& endpoint, int id, const std::string& keys,
                 const std::string& node_key = "") {
  std::vector<std::string> argv = {Binary("edgefl-node"), "--connect", endpoint, "--id", std::to_string(id),
                                   "--join-timeout-ms", "8000", "--quiet"};
  if (!keys.empty()) {
    argv.insert(argv.end(), {"--key", node_key.empty() ? keys + "/node-" + std::to_string(id) + ".key" : node_key,
                             "--server-key", keys + "/coordinator.pub"});
  }
  size_t index = 0;
  REQUIRE(group.Spawn(argv, -1, &index).ok());
  return index;
}

// A TCP connection to `endpoint` (tcp://127.0.0.1:PORT) that sends nothing.
int IdleConnection(const std::string& endpoint) {
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST_CASE("every compressor's largest updates arrive, with and without CURVE keys, around every size limit") {
  // d = 987: an identity update first passed 4096 bytes, and CURVE's framing
  // (counted against ZeroMQ's message limit) made every such update vanish.
  // d = 4000: natural's and qsgd's pass 4096. d = 40000: every kind is past
  // it, and signs pass it too.
  const std::string dir = testing::ScratchDir("sizes");
  const std::string keys = MakeKeys(dir, 2);
  struct Kind {
    const char* name;
    const char* extra;
  };
  const Kind kinds[] = {{"identity", ""},       {"rand-k", "k = %K"},      {"top-k", "k = %K"},
                        {"bernoulli", "p = 0.99"}, {"qsgd", "levels = 7"}, {"natural", ""},
                        {"sign", ""},           {"scaled-sign", ""},       {"ef-sign", ""}};
  for (const uint32_t d : {987u, 4000u, 40000u}) {
    for (const Kind& kind : kinds) {
      for (const bool curve : {true, false}) {
        if (!curve && d != 4000) continue;
        std::string extra = kind.extra;
        if (const size_t at = extra.find("%K"); at != std::string::npos) extra.replace(at, 2, std::to_string(d));
        const std::string name = std::string(kind.name) + "-" + std::to_string(d) + (curve ? "-curve" : "");
        CAPTURE(name);
        testing::WriteFile(dir + "/" + name + ".toml", "[run]\nname = \"" + name +
                                                           "\"\nnodes = 2\nrounds = 3\n[objective]\ndimension = " +
                                                           std::to_string(d) + "\n[compressor]\nkind = \"" +
                                                           kind.name + "\"\n" + extra + "\n");
        ProcessGroup group;
        size_t coordinator = 0;
        const std::string endpoint = StartCoordinator(
            group, CoordinatorArgs(dir + "/" + name + ".toml", dir + "/" + name, curve ? keys : ""), &coordinator);
        for (int id = 0; id < 2; ++id) StartNode(group, endpoint, id, curve ? keys : "");
        CHECK(WaitFor(group, coordinator).exit_code == 0);
        RunSummary s;
        REQUIRE(ReadSummary(dir + "/" + name + "/summary.toml", &s).ok());
        CHECK(s.steps == 3);
        CHECK(s.update_messages == 6);
        CHECK(s.rejected == 0);
        CHECK(s.connections_lost == 0);
      }
    }
  }
}

// A node written for this test: joins as node 0 of a d = 1000 identity run
// and answers round 0 with a message one byte over the limit, then a valid
// update of exactly the limit; and round 1 with a message far over it.
void PlayOversizeNode(const std::string& endpoint) {
  constexpr uint32_t kD = 1000;
  const size_t limit = codec::UpdateSizeLimit(codec::CompressorSpec{}, kD);
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::routing_id, "node-0");
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::rcvtimeo, 10000);
  socket.connect(endpoint);
  flatbuffers::FlatBufferBuilder fbb;
  codec::EncodeHello(fbb, {0, kD, 0, 0});
  socket.send(zmq::const_buffer(fbb.GetBufferPointer(), fbb.GetSize()));
  const std::vector<float> values(kD, 0.25f);
  codec::PayloadView payload;
  payload.values = values;
  std::vector<uint64_t> inbox(8192);  // 8-byte aligned, as the decoder needs
  for (int received = 0; received < 20; ++received) {
    const auto size = socket.recv(zmq::mutable_buffer(inbox.data(), inbox.size() * 8));
    if (!size || size->untruncated_size > size->size) break;
    const wire::Envelope* envelope = nullptr;
    if (!codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(inbox.data()), size->size}, &envelope).ok() ||
        envelope->body_type() != wire::Body::RoundStart) {
      continue;
    }
    const uint32_t round = envelope->round();
    if (round == 0) {
      const std::vector<uint8_t> just_over(limit + 1, 0);
      socket.send(zmq::buffer(just_over));
      // A valid update exactly at the limit: a third-party encoder's layout,
      // here the C++ one followed by zeros up to the limit, is accepted.
      codec::EncodeUpdate(fbb, 0, {0, 1.0, 1.0, 1, 1, {}}, payload);
      std::vector<uint8_t> at_limit(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
      if (at_limit.size() >= limit) return;  // (no doctest assertion on this thread; the run then fails)
      at_limit.resize(limit, 0);
      socket.send(zmq::buffer(at_limit));
    } else {
      const std::vector<uint8_t> far_over(limit + 64 * 1024, 0);
      socket.send(zmq::buffer(far_over));
      return;
    }
  }
}

TEST_CASE("a message just over the size limit is refused and counted, and the update behind it arrives; one far over "
          "closes the connection, which the summary and nodes.csv record") {
  const std::string dir = testing::ScratchDir("oversize");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "oversize"
nodes = 1
rounds = 2
[objective]
dimension = 1000
[round]
join_timeout_ms = 3000
deadline_ms = 3000
)");
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint =
      StartCoordinator(group, CoordinatorArgs(dir + "/config.toml", dir + "/out", ""), &coordinator);
  std::thread node(PlayOversizeNode, endpoint);
  const ChildExit exit = WaitFor(group, coordinator);
  node.join();
  CHECK(exit.exit_code == 0);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.steps == 1);            // round 0's valid update (4256 bytes), behind the refused one
  CHECK(s.update_messages == 1);
  CHECK(s.rejected == 1);         // one byte over: refused, counted, the connection kept
  CHECK(s.connections_lost == 1); // far over: ZeroMQ closed the connection, and the coordinator says so
  const std::string nodes = testing::ReadFile(dir + "/out/nodes.csv");
  CHECK(Contains(nodes, "connection_lost"));
  CHECK(Contains(nodes, "\n0,0,"));
  // Round 1's row: node 0, its connection lost, and no update from it.
  const auto rounds = testing::Column(nodes, "round"), lost = testing::Column(nodes, "connection_lost");
  const auto outcomes = testing::Column(nodes, "outcome");
  const auto row = std::find(rounds.begin(), rounds.end(), "1");
  REQUIRE(row != rounds.end());
  CHECK(lost[static_cast<size_t>(row - rounds.begin())] == "1");
  CHECK(outcomes[static_cast<size_t>(row - rounds.begin())] == "missing");
}

TEST_CASE("hundreds of idle connections that never greet neither end the run nor keep a node out") {
  // The coordinator starts with an open-file limit of 128: once, 115 idle
  // connections took every descriptor, the next checkpoint could not be
  // written and the run ended with no model.bin.
  const std::string dir = testing::ScratchDir("idle_connections");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "idle"
nodes = 1
rounds = 40
checkpoint_every = 5
[objective]
dimension = 50
[round]
join_timeout_ms = 10000
)");
  rlimit files{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &files) == 0);
  const rlimit low{128, files.rlim_max};
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint =
      StartCoordinator(group, CoordinatorArgs(dir + "/config.toml", dir + "/out", ""), &coordinator);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &files) == 0);
  std::vector<int> idle;
  for (int i = 0; i < 300; ++i) {
    const int fd = IdleConnection(endpoint);
    if (fd >= 0) idle.push_back(fd);
  }
  usleep(300000);
  const int descriptors = OpenDescriptors(group.Pid(coordinator));
  MESSAGE("300 idle connections: " << idle.size() << " opened; the coordinator holds " << descriptors
                                   << " descriptors");
  CHECK(descriptors > 0);
  CHECK(descriptors < 64);
  // A node joining now, among them, runs every round.
  StartNode(group, endpoint, 0, "");
  CHECK(WaitFor(group, coordinator).exit_code == 0);
  for (const int fd : idle) close(fd);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.steps == 40);
  CHECK(s.connections_closed >= 250);
  CHECK(std::filesystem::exists(dir + "/out/model.bin"));
}

// Opens `per_second` connections a second from this host for `seconds`,
// each with CURVE and a fresh key on no allow-list (or, with `curve` off,
// none), each closed after 50 ms.
void FloodHandshakes(const std::string& endpoint, const std::string& server_public, bool curve, int per_second,
                     double seconds, const std::atomic<bool>& stop) {
  zmq::context_t context;
  std::vector<zmq::socket_t> open;
  const int total = static_cast<int>(per_second * seconds);
  for (int i = 0; i < total && !stop.load(); ++i) {
    zmq::socket_t s(context, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    if (curve) {
      // Claiming the nodes' own ids, which unknown keys cannot hold: they
      // are refused before the ROUTER identifies them. (Without keys a
      // connection that claims a free id first holds it: docs/deploy.md.)
      s.set(zmq::sockopt::routing_id, "node-" + std::to_string(i % 4));
      CurveKeyPair stranger;
      if (!GenerateCurveKeyPair(&stranger).ok()) return;
      s.set(zmq::sockopt::curve_serverkey, server_public);
      s.set(zmq::sockopt::curve_publickey, stranger.public_key);
      s.set(zmq::sockopt::curve_secretkey, stranger.secret_key);
    }
    s.connect(endpoint);
    open.push_back(std::move(s));
    if (open.size() > static_cast<size_t>(per_second / 20)) open.erase(open.begin());
    usleep(static_cast<useconds_t>(1000000 / per_second));
  }
}

TEST_CASE("a handshake flood from the nodes' own address keeps no node out, with keys or without") {
  for (const bool curve : {true, false}) {
    CAPTURE(curve);
    const std::string dir = testing::ScratchDir(curve ? "flood_curve" : "flood_plain");
    const std::string keys = MakeKeys(dir, 4);
    testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "flood"
nodes = 4
rounds = 20
[objective]
dimension = 50
[round]
join_timeout_ms = 20000
)");
    CurveKeyPair server;
    REQUIRE(ReadCurveKeys(keys + "/coordinator.pub", false, &server).ok());
    ProcessGroup group;
    size_t coordinator = 0;
    const std::string endpoint =
        StartCoordinator(group, CoordinatorArgs(dir + "/config.toml", dir + "/out", curve ? keys : ""), &coordinator);
    std::atomic<bool> stop{false};
    std::thread flood(FloodHandshakes, endpoint, server.public_key, curve, 200, 8.0, std::cref(stop));
    usleep(500000);  // the flood is under way before the boards start
    std::vector<size_t> nodes;
    for (int id = 0; id < 4; ++id) nodes.push_back(StartNode(group, endpoint, id, curve ? keys : ""));
    const ChildExit exit = WaitFor(group, coordinator);
    stop.store(true);
    flood.join();
    CHECK(exit.exit_code == 0);
    RunSummary s;
    REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
    CHECK(s.steps == 20);
    CHECK(s.update_messages == 80);  // all four boards, every round
  }
}

TEST_CASE("a listed key speaking for other boards is told why and closed; the real boards join") {
  const std::string dir = testing::ScratchDir("key_for_others");
  const std::string keys = MakeKeys(dir, 4);
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "others"
nodes = 4
rounds = 20
[objective]
dimension = 50
[round]
join_timeout_ms = 15000
)");
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint =
      StartCoordinator(group, CoordinatorArgs(dir + "/config.toml", dir + "/out", keys), &coordinator);
  // Node 1's key claims ids 0, 2 and 3 before those boards start.
  std::vector<size_t> impostors;
  for (const int id : {0, 2, 3}) impostors.push_back(StartNode(group, endpoint, id, keys, keys + "/node-1.key"));
  usleep(300000);
  for (int id = 0; id < 4; ++id) StartNode(group, endpoint, id, keys);
  CHECK(WaitFor(group, coordinator).exit_code == 0);
  for (const size_t impostor : impostors) CHECK(WaitFor(group, impostor).exit_code != 0);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.steps == 20);
  CHECK(s.update_messages == 80);
  CHECK(s.connections_closed >= 1);
}

TEST_CASE("a misconfigured board says what failed: another server key, no key, a key on no allow-list") {
  const std::string dir = testing::ScratchDir("misconfigured");
  const std::string keys = MakeKeys(dir, 1);
  const std::string other = MakeKeys(dir + "/other", 1);
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "misconfigured"
nodes = 1
rounds = 5
[objective]
dimension = 50
[round]
join_timeout_ms = 30000
)");
  ProcessGroup group;
  size_t coordinator = 0;
  const std::string endpoint =
      StartCoordinator(group, CoordinatorArgs(dir + "/config.toml", dir + "/out", keys), &coordinator);
  const std::string node = Binary("edgefl-node") + " --connect " + endpoint + " --id 0 --join-timeout-ms 3000";
  auto r = RunCommand(node + " --key " + keys + "/node-0.key --server-key " + other + "/coordinator.pub", 20);
  CHECK(r.exit_code != 0);
  INFO(r.output);
  CHECK(Contains(r.output, "--server-key is most likely not its public key"));
  r = RunCommand(node, 20);
  CHECK(r.exit_code != 0);
  INFO(r.output);
  // The node may see the mismatch itself, or only the coordinator closing.
  CHECK(Contains(r.output, "--key and --server-key"));
  r = RunCommand(node + " --key " + other + "/node-0.key --server-key " + keys + "/coordinator.pub", 20);
  CHECK(r.exit_code != 0);
  INFO(r.output);
  CHECK(Contains(r.output, "refused the handshake"));
  // The right key joins and the run completes.
  StartNode(group, endpoint, 0, keys);
  CHECK(WaitFor(group, coordinator).exit_code == 0);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.steps == 5);
  CHECK(s.handshakes_failed >= 3);
}

}  // namespace
}  // namespace edgefl

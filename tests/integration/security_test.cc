// CURVE links end to end: keys from `edgefl keys init`, a run whose nodes
// hold their keys completes; a key on no allow-list is refused in its
// handshake, a listed key cannot speak for another node, and a coordinator
// will not listen beyond loopback without keys unless told to.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "runfiles/run_recorder.h"
#include "net/curve_keys.h"
#include "sim/launcher.h"
#include "sim/process_group.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Binary;
using testing::RunCommand;
using testing::WaitFor;

const char* kConfig = R"(
[run]
name = "secure"
nodes = 2
rounds = 40
[objective]
dimension = 50
[round]
join_timeout_ms = 5000
)";

size_t StartSecureNode(ProcessGroup& group, const std::string& endpoint, int id, const std::string& key,
                       const std::string& server_key) {
  size_t index = 0;
  REQUIRE(group
              .Spawn({Binary("edgefl-node"), "--connect", endpoint, "--id", std::to_string(id), "--key", key,
                      "--server-key", server_key, "--join-timeout-ms", "3000", "--quiet"},
                     -1, &index)
              .ok());
  return index;
}

TEST_CASE("a CURVE run completes; an unlisted key is refused; a listed key cannot speak for another node") {
  const std::string dir = testing::ScratchDir("curve");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const auto keys = RunCommand(Binary("edgefl") + " keys init " + dir + "/keys --nodes 2");
  INFO(keys.output);
  REQUIRE(keys.exit_code == 0);
  // An outsider's key pair, on no allow-list.
  CurveKeyPair outsider;
  REQUIRE(GenerateCurveKeyPair(&outsider).ok());
  REQUIRE(WriteCurveKeys(dir + "/outsider.key", outsider, true).ok());

  ProcessGroup group;
  size_t coordinator = 0;
  std::string endpoint;
  const Status started = SpawnCoordinator(
      group, EDGEFL_BIN_DIR,
      {"--config", dir + "/config.toml", "--out", dir + "/out", "--key", dir + "/keys/coordinator.key", "--allow",
       dir + "/keys/allow.keys"},
      5000, &coordinator, &endpoint);
  REQUIRE_MESSAGE(started.ok(), started.message());
  const std::string server_key = dir + "/keys/coordinator.pub";
  // Node 1's key, claiming to be node 0; and an outsider claiming node 1.
  const size_t impostor = StartSecureNode(group, endpoint, 0, dir + "/keys/node-1.key", server_key);
  const size_t outsider_node = StartSecureNode(group, endpoint, 1, dir + "/outsider.key", server_key);
  CHECK(WaitFor(group, impostor).exit_code != 0);        // never answered: it gives up
  CHECK(WaitFor(group, outsider_node).exit_code != 0);   // refused in its handshake
  // The real nodes, with their own keys.
  StartSecureNode(group, endpoint, 0, dir + "/keys/node-0.key", server_key);
  StartSecureNode(group, endpoint, 1, dir + "/keys/node-1.key", server_key);
  CHECK(WaitFor(group, coordinator).exit_code == 0);
  RunSummary s;
  REQUIRE(ReadSummary(dir + "/out/summary.toml", &s).ok());
  CHECK(s.ok);
  CHECK(s.rounds == 40);
  CHECK(s.update_messages == 80);
  CHECK(s.rejected >= 2);  // the impostor's Hellos and the outsider's handshakes
}

TEST_CASE("a coordinator listens beyond loopback only with keys, or when told --insecure") {
  const std::string dir = testing::ScratchDir("insecure");
  testing::WriteFile(dir + "/config.toml", kConfig);
  const auto r = RunCommand(Binary("edgefl-coordinator") + " --config " + dir + "/config.toml --out " + dir +
                            "/out --bind tcp://0.0.0.0:0");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--insecure") != std::string::npos);
  const auto half = RunCommand(Binary("edgefl-coordinator") + " --config " + dir + "/config.toml --out " + dir +
                               "/out --key " + dir + "/nothing.key");
  CHECK(half.exit_code == 2);
  CHECK(half.output.find("--key and --allow go together") != std::string::npos);
}

TEST_CASE("key files: round trip, a readable secret and a bad key are refused with the reason") {
  const std::string dir = testing::ScratchDir("key_files");
  CurveKeyPair pair, read;
  REQUIRE(GenerateCurveKeyPair(&pair).ok());
  REQUIRE(WriteCurveKeys(dir + "/a.key", pair, true).ok());
  REQUIRE(ReadCurveKeys(dir + "/a.key", true, &read).ok());
  CHECK(read.public_key == pair.public_key);
  CHECK(read.secret_key == pair.secret_key);
  REQUIRE(ReadCurveKeys(pair.public_key, false, &read).ok());  // a key given inline
  CHECK(read.public_key == pair.public_key);
  testing::WriteFile(dir + "/open.key", "public = \"" + pair.public_key + "\"\nsecret = \"" + pair.secret_key + "\"\n");
  chmod((dir + "/open.key").c_str(), 0644);
  CHECK(std::string(ReadCurveKeys(dir + "/open.key", true, &read).message()).find("chmod 600") != std::string::npos);
  testing::WriteFile(dir + "/allow.keys", "node-0 = \"short\"\n");
  chmod((dir + "/allow.keys").c_str(), 0644);
  CurveAllowList allow;
  CHECK(std::string(ReadCurveAllowList(dir + "/allow.keys", &allow).message()).find("not 40 Z85") != std::string::npos);
  testing::WriteFile(dir + "/allow.keys", "nod-0 = \"" + pair.public_key + "\"\n");
  CHECK(std::string(ReadCurveAllowList(dir + "/allow.keys", &allow).message()).find("not a node name") !=
        std::string::npos);
}

TEST_CASE("an allow-list that others may change is refused, as a readable secret key is") {
  const std::string dir = testing::ScratchDir("allow_list_mode");
  CurveKeyPair pair;
  REQUIRE(GenerateCurveKeyPair(&pair).ok());
  const std::string path = dir + "/allow.keys";
  REQUIRE(WriteCurveAllowList(path, {{pair.public_key, 0}}).ok());
  CurveAllowList allow;
  REQUIRE(ReadCurveAllowList(path, &allow).ok());
  CHECK(allow.size() == 1);
  for (const mode_t mode : {0664, 0646, 0666, 0620}) {
    INFO(mode);
    chmod(path.c_str(), mode);
    const Status s = ReadCurveAllowList(path, &allow);
    CHECK(std::string(s.message()).find("others may change it") != std::string::npos);
    CHECK(std::string(s.message()).find("chmod go-w") != std::string::npos);
  }
  chmod(path.c_str(), 0600);
  CHECK(ReadCurveAllowList(path, &allow).ok());
  // The coordinator says so and stops before it binds.
  REQUIRE(RunCommand(Binary("edgefl") + " keys init " + dir + "/keys --nodes 2").exit_code == 0);
  chmod((dir + "/keys/allow.keys").c_str(), 0664);
  testing::WriteFile(dir + "/config.toml", "[run]\nnodes = 2\n");
  const auto r = RunCommand(Binary("edgefl-coordinator") + " --config " + dir + "/config.toml --out " + dir +
                            "/out --key " + dir + "/keys/coordinator.key --allow " + dir + "/keys/allow.keys");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("allow.keys decides which nodes may join but others may change it (mode 664)") !=
        std::string::npos);
}

}  // namespace
}  // namespace edgefl

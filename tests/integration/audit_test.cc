// The audit chain end to end: a CURVE run's audit.log verifies with the
// coordinator's key; a model.bin or checkpoint.bin edited after the fact,
// its own checksum recomputed, is found by `edgefl verify`, and an edited
// checkpoint is refused by --resume.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "runfiles/checkpoint.h"
#include "runfiles/model_file.h"
#include "runfiles/run_state.h"
#include "sim/launcher.h"
#include "sim/process_group.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Binary;
using testing::RunCommand;
using testing::Contains;
using testing::WaitFor;

TEST_CASE("a keyed audit chain finds a model.bin and a checkpoint.bin edited with their checksums recomputed") {
  const std::string dir = testing::ScratchDir("audit");
  const auto keys = RunCommand(Binary("edgefl") + " keys init " + dir + "/keys --nodes 2");
  REQUIRE(keys.exit_code == 0);
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "audit"
nodes = 2
rounds = 200000
checkpoint_every = 20
[objective]
dimension = 50
)");
  const std::string out = dir + "/out";
  ProcessGroup group;
  size_t coordinator = 0;
  std::string endpoint;
  Status s = SpawnCoordinator(group, EDGEFL_BIN_DIR,
                              {"--config", dir + "/config.toml", "--out", out, "--key", dir + "/keys/coordinator.key",
                               "--allow", dir + "/keys/allow.keys", "--quiet"},
                              5000, &coordinator, &endpoint);
  REQUIRE_MESSAGE(s.ok(), s.message());
  for (int id = 0; id < 2; ++id) {
    size_t index = 0;
    REQUIRE(group
                .Spawn({Binary("edgefl-node"), "--connect", endpoint, "--id", std::to_string(id), "--key",
                        dir + "/keys/node-" + std::to_string(id) + ".key", "--server-key",
                        dir + "/keys/coordinator.pub", "--quiet"},
                       -1, &index)
                .ok());
  }
  testing::WaitForRows(out + "/metrics.csv", 100);
  group.Signal(coordinator, SIGTERM);  // a checkpoint, and model.bin
  WaitFor(group, coordinator);
  group.Stop(2000);

  const std::string verify = Binary("edgefl") + " verify " + out;
  auto r = RunCommand(verify + " --key " + dir + "/keys/coordinator.key");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.output, "every MAC checked"));
  CHECK(Contains(r.output, "model.bin: matches the chain"));
  CHECK(Contains(r.output, "checkpoint.bin: matches the chain"));
  r = RunCommand(verify);
  CHECK(r.exit_code == 0);
  CHECK(Contains(r.output, "MACs not"));

  // model.bin with one value changed and its FNV checksum recomputed.
  std::vector<float> model;
  uint64_t hash = 0;
  REQUIRE(ReadModelFile(out + "/model.bin", &model, &hash).ok());
  const std::vector<float> original = model;
  model[7] += 0.5f;
  REQUIRE(WriteModelFile(out + "/model.bin", model, &hash).ok());
  r = RunCommand(verify + " --key " + dir + "/keys/coordinator.key");
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.output, "model.bin does not hold the model the chain recorded"));
  REQUIRE(WriteModelFile(out + "/model.bin", original, &hash).ok());

  // checkpoint.bin with one model value changed, written with a fresh checksum.
  Checkpoint checkpoint;
  REQUIRE(ReadCheckpointFile(out + "/checkpoint.bin", &checkpoint).ok());
  RunState state(50, 2);
  StateReader in(checkpoint.state);
  REQUIRE(state.Load(in).ok());
  const std::vector<uint8_t> rest(checkpoint.state.end() - static_cast<std::ptrdiff_t>(in.left()),
                                  checkpoint.state.end());
  state.model[3] -= 0.25f;
  StateWriter edited;
  state.Save(edited);
  checkpoint.state = edited.Release();
  checkpoint.state.insert(checkpoint.state.end(), rest.begin(), rest.end());
  REQUIRE(WriteCheckpointFile(out + "/checkpoint.bin", checkpoint).ok());
  r = RunCommand(verify + " --key " + dir + "/keys/coordinator.key");
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.output, "checkpoint.bin does not hold the model the chain recorded"));
  r = RunCommand(Binary("edgefl-coordinator") + " --resume " + out + " --key " + dir + "/keys/coordinator.key --allow " +
                 dir + "/keys/allow.keys --bind tcp://127.0.0.1:0");
  CHECK(r.exit_code != 0);
  CHECK(Contains(r.output, "checkpoint.bin's model after round"));
  CHECK(Contains(r.output, "audit.log recorded: one of them was changed"));
}

TEST_CASE("verify --replay takes every step again from the kept updates, and finds one changed byte") {
  // Stateless and stateful aggregators, signs, server momentum and the
  // online smoothness fit: every one replays to the chain's models.
  const std::string dir = testing::ScratchDir("replay");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "replay"
nodes = 5
rounds = 40
[objective]
dimension = 60
[[variant]]
name = "mean-momentum"
server = { optimizer = "momentum", momentum = 0.9 }
[[variant]]
name = "krum"
aggregator = { kind = "krum", byzantine = 1, krum_select = 3 }
[[variant]]
name = "centered-clip-node-momentum"
aggregator = { kind = "centered-clip", clip_radius = 5.0, node_momentum = 0.9 }
[[variant]]
name = "sign-majority"
compressor = { kind = "sign" }
aggregator = { kind = "majority" }
step = { eta = 0.01 }
[[variant]]
name = "l0l1-online"
compressor = { kind = "rand-k", k = 20 }
step = { rule = "l0l1", smoothness = "online" }
)");
  const auto run = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --keep-updates --out " + dir + "/out");
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  for (const char* variant : {"mean-momentum", "krum", "centered-clip-node-momentum", "sign-majority", "l0l1-online"}) {
    CAPTURE(variant);
    const auto r = RunCommand(Binary("edgefl") + " verify --replay " + dir + "/out/" + variant);
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(Contains(r.output, "replay: 40 rounds taken again"));
  }
  // One byte of one kept update changed (round 20's first update, deep in
  // its values: an identity update at d = 60 is a header of about 120 bytes
  // and 240 of values; byte 203 is the top byte of a value, and its low bit
  // an exponent bit, which changes the value fourfold, where a mantissa's
  // last bit may vanish in the float model's rounding): that round's model
  // no longer follows.
  const std::string kept = dir + "/out/mean-momentum/updates.bin";
  std::string bytes = testing::ReadFile(kept);
  size_t at = 16;
  for (int record = 0; record < 5 * 20; ++record) {
    uint32_t length = 0;
    std::memcpy(&length, bytes.data() + at + 8, 4);
    at += 16 + (length + 7) / 8 * 8;
  }
  bytes[at + 16 + 203] ^= 1;
  testing::WriteFile(kept, bytes);
  const auto r = RunCommand(Binary("edgefl") + " verify --replay " + dir + "/out/mean-momentum");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.output, "(20 rounds matched first)"));
}

}  // namespace
}  // namespace edgefl

// The audit chain end to end: a CURVE run's audit.log verifies with the
// coordinator's key; a model.bin or checkpoint.bin edited after the fact,
// its own checksum recomputed, is found by `edgefl verify`, and an edited
// checkpoint is refused by --resume.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "coordinator/checkpoint.h"
#include "coordinator/model_file.h"
#include "coordinator/run_state.h"
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

long Rows(const std::string& path) {
  const std::string text = testing::ReadFile(path);
  return static_cast<long>(std::count(text.begin(), text.end(), '\n')) - 1;
}

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
  for (int wait = 0; wait < 1000 && Rows(out + "/metrics.csv") < 100; ++wait) usleep(20000);
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

}  // namespace
}  // namespace edgefl

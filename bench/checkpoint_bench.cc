// edgefl-checkpoint-bench: what a checkpoint and the model file cost at a
// realistic dimension: their sizes, the time to write one (encode, write,
// fdatasync, rename, folder fsync: what the coordinator does every
// run.checkpoint_every rounds, less the CSV flushes) and to read one back
// (read, checksum, load: what --resume does), for sgd (no optimiser state)
// and adam (two moments). Each time is the best of --repeats runs.
// The benchmark prints figures; it never fails on a time.
//
// Usage: edgefl-checkpoint-bench [--dimension N] [--repeats R] [--dir DIR]
// (DIR: where the files go; default the system's temporary folder).
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "runfiles/checkpoint.h"
#include "runfiles/model_file.h"
#include "runfiles/run_state.h"
#include "strategy/server_step.h"
#include "core/rng.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t d = 1000000, repeats = 5;
  std::string dir = std::filesystem::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--dimension") == 0) d = static_cast<uint32_t>(std::atol(argv[i + 1]));
    if (std::strcmp(argv[i], "--repeats") == 0) repeats = static_cast<uint32_t>(std::atol(argv[i + 1]));
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  std::string work = dir + "/edgefl-checkpoint-bench-XXXXXX";
  if (mkdtemp(work.data()) == nullptr) {
    std::printf("cannot make a folder in %s\n", dir.c_str());
    return 1;
  }
  std::printf("d = %u, best of %u, files in %s\n\n", d, repeats, work.c_str());
  std::printf("%-10s %12s %12s %12s\n", "file", "bytes", "write ms", "read ms");

  edgefl::RunState state(d, 8);
  edgefl::Rng rng(1);
  for (float& v : state.model) v = static_cast<float>(rng.Normal());
  for (const auto optimizer : {edgefl::ServerOptimizerKind::kSgd, edgefl::ServerOptimizerKind::kAdam}) {
    edgefl::ServerStep step(edgefl::StepConfig{}, {.optimizer = optimizer}, {}, d);
    std::vector<double> direction(d);
    for (double& v : direction) v = rng.Normal();
    step.Apply(0, direction, 1.0, state.model);
    state.round = 1;
    state.losses = {1.0};
    const std::string path = work + "/checkpoint.bin";
    double write_ms = 1e300, read_ms = 1e300;
    size_t bytes = 0;
    for (uint32_t r = 0; r < repeats; ++r) {
      auto start = Clock::now();
      edgefl::StateWriter out;
      state.Save(out);
      step.Save(out);
      const edgefl::Checkpoint checkpoint{.round = 1, .finished = false, .config_toml = std::string(1200, 'c'),
                                          .stop_reason = "", .state = out.Release()};
      if (!edgefl::WriteCheckpointFile(path, checkpoint).ok()) return 1;
      write_ms = std::min(write_ms, Ms(start));
      bytes = std::filesystem::file_size(path);

      start = Clock::now();
      edgefl::Checkpoint read;
      edgefl::RunState loaded(d, 8);
      edgefl::ServerStep loaded_step(edgefl::StepConfig{}, {.optimizer = optimizer}, {}, d);
      if (!edgefl::ReadCheckpointFile(path, &read).ok()) return 1;
      edgefl::StateReader reader(read.state);
      if (!loaded.Load(reader).ok() || !loaded_step.Load(reader).ok()) return 1;
      read_ms = std::min(read_ms, Ms(start));
    }
    std::printf("%-10s %12zu %12.1f %12.1f  (checkpoint, %s)\n", "checkpoint", bytes, write_ms, read_ms,
                optimizer == edgefl::ServerOptimizerKind::kSgd ? "sgd" : "adam");
  }
  double write_ms = 1e300, read_ms = 1e300;
  const std::string path = work + "/model.bin";
  for (uint32_t r = 0; r < repeats; ++r) {
    auto start = Clock::now();
    uint64_t hash = 0;
    if (!edgefl::WriteModelFile(path, state.model, &hash).ok()) return 1;
    write_ms = std::min(write_ms, Ms(start));
    start = Clock::now();
    std::vector<float> model;
    if (!edgefl::ReadModelFile(path, &model, &hash).ok()) return 1;
    read_ms = std::min(read_ms, Ms(start));
  }
  std::printf("%-10s %12zu %12.1f %12.1f\n", "model.bin", static_cast<size_t>(std::filesystem::file_size(path)),
              write_ms, read_ms);
  std::filesystem::remove_all(work);
  return 0;
}

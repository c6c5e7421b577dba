// checkpoint.bin: every field of the round state back bit for bit, a
// server step loaded from it carrying on exactly as one never stopped, and
// a file that is not a whole checkpoint of this format refused with the
// reason.
#include "runfiles/checkpoint.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "runfiles/atomic_file.h"
#include "runfiles/run_state.h"
#include "strategy/server_step.h"
#include "core/rng.h"
#include "tests/temp_files.h"

namespace edgefl {
namespace {

namespace fs = std::filesystem;

std::string TempDir() { return testing::TempDir("edgefl-checkpoint-test"); }

std::vector<uint8_t> Bytes(const std::string& path) { return testing::ReadBytes(path); }
void Write(const std::string& path, const std::vector<uint8_t>& bytes) { testing::WriteBytes(path, bytes); }

bool SameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

template <typename T>
bool SameBits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// A run state with every field away from its default, some of them values
// a text round trip would lose (NaN payloads, -0, inf).
RunState OddRunState(uint32_t d, uint32_t nodes) {
  RunState s(d, nodes);
  for (uint32_t j = 0; j < d; ++j) s.model[j] = static_cast<float>(j) * -0.1f + 1e-40f;
  s.model[0] = -0.0f;
  s.model[1] = std::bit_cast<float>(0x7fc0beefu);
  s.round = 5;
  s.losses = {3.0, std::numeric_limits<double>::infinity(), 1.0 / 3.0, -0.0, 2.5e-300};
  s.failed_in_a_row = 2;
  s.overflowed[1] = 1;
  s.accepted_update_bytes = 0x123456789abcull;
  s.rounds_time_s = 12.345;
  s.wall_time_s = 67.891;
  RunSummary& m = s.summary;
  m.rounds = 5;
  m.steps = 3;
  m.initial_loss = 100.0 / 7.0;
  m.final_loss = 2.5e-300;
  m.best_loss = -0.0;
  m.tail_mean_loss = 1.0 / 9.0;
  m.final_grad_norm = std::nextafter(1.0, 2.0);
  m.final_test_accuracy = std::numeric_limits<double>::quiet_NaN();
  m.best_test_accuracy = 0.875;
  m.diverged_at = 4;
  m.bytes_up = 1u << 31;
  m.bytes_down = (1ull << 40) + 3;
  m.update_messages = 17;
  m.rejected = 9;
  return s;
}

TEST_CASE("a run state comes back from a checkpoint file with every field bit for bit") {
  constexpr uint32_t d = 6, nodes = 3;
  const RunState state = OddRunState(d, nodes);
  StateWriter out;
  state.Save(out);
  const Checkpoint written{.round = state.round,
                           .finished = true,
                           .config_toml = "[run]\nname = \"x\"\n",
                           .stop_reason = "stopped by signal",
                           .state = out.Release()};
  const std::string dir = TempDir();
  REQUIRE(WriteCheckpointFile(dir + "/checkpoint.bin", written).ok());
  CHECK_FALSE(fs::exists(dir + "/checkpoint.bin.tmp"));

  Checkpoint read;
  REQUIRE(ReadCheckpointFile(dir + "/checkpoint.bin", &read).ok());
  CHECK(read.round == 5);
  CHECK(read.finished);
  CHECK(read.config_toml == written.config_toml);
  CHECK(read.stop_reason == written.stop_reason);
  CHECK(read.state == written.state);
  Checkpoint header;
  REQUIRE(ReadCheckpointHeader(dir + "/checkpoint.bin", &header).ok());
  CHECK(header.round == 5);
  CHECK(header.finished);

  RunState loaded(d, nodes);
  StateReader in(read.state);
  REQUIRE(loaded.Load(in).ok());
  CHECK(in.done());
  CHECK(loaded.round == state.round);
  CHECK(SameBits(loaded.model, state.model));
  CHECK(SameBits(loaded.losses, state.losses));
  CHECK(loaded.failed_in_a_row == state.failed_in_a_row);
  CHECK(loaded.overflowed == state.overflowed);
  CHECK(loaded.accepted_update_bytes == state.accepted_update_bytes);
  CHECK(SameBits(loaded.rounds_time_s, state.rounds_time_s));
  CHECK(SameBits(loaded.wall_time_s, state.wall_time_s));
  const RunSummary &a = loaded.summary, &b = state.summary;
  CHECK(a.rounds == b.rounds);
  CHECK(a.steps == b.steps);
  for (const auto field : {&RunSummary::initial_loss, &RunSummary::final_loss, &RunSummary::best_loss,
                           &RunSummary::tail_mean_loss, &RunSummary::final_grad_norm,
                           &RunSummary::final_test_accuracy, &RunSummary::best_test_accuracy}) {
    CHECK(SameBits(a.*field, b.*field));
  }
  CHECK(a.diverged_at == b.diverged_at);
  CHECK(a.bytes_up == b.bytes_up);
  CHECK(a.bytes_down == b.bytes_down);
  CHECK(a.update_messages == b.update_messages);
  CHECK(a.rejected == b.rejected);
  fs::remove_all(dir);
}

// Steps `step` along `count` pseudo-random directions from round `first`.
void Steps(ServerStep& step, uint32_t first, uint32_t count, std::vector<float>& model) {
  const uint32_t d = static_cast<uint32_t>(model.size());
  std::vector<double> direction(d);
  for (uint32_t k = first; k < first + count; ++k) {
    Rng rng(DeriveSeed(99, k));
    double norm = 0.0;
    for (double& v : direction) {
      v = rng.Normal() * (1.0 + 0.1 * k);
      norm += v * v;
    }
    step.Apply({k, direction, std::sqrt(norm), 0.9 * std::sqrt(norm)}, model);
  }
}

TEST_CASE("a server step loaded from its checkpoint carries on bit for bit, for every optimiser and stateful rule") {
  constexpr uint32_t d = 16;
  const StepRunFacts facts{.dimension = d, .nodes = 4, .omega = 0.0, .sigma0_squared = 0.01, .sigma1_squared = 0.0};
  const StepConfig rules[] = {
      {.rule = StepRuleKind::kDecay, .eta = 0.05},
      {.rule = StepRuleKind::kNormalized, .eta = 0.05, .norm = NormEstimateKind::kRunning},
      {.rule = StepRuleKind::kL0L1, .eta = 0.05, .l0 = 2.0, .l1 = 0.5, .smoothness = SmoothnessSource::kOnline,
       .smoothness_window = 5},
  };
  for (const StepConfig& rule : rules) {
    for (const auto optimizer : {ServerOptimizerKind::kSgd, ServerOptimizerKind::kMomentum,
                                 ServerOptimizerKind::kAdagrad, ServerOptimizerKind::kAdam,
                                 ServerOptimizerKind::kYogi}) {
      CAPTURE(StepRuleName(rule.rule));
      CAPTURE(static_cast<int>(optimizer));
      const ServerConfig server{.optimizer = optimizer};
      std::vector<float> straight(d, 1.0f), resumed(d, 1.0f);
      ServerStep uninterrupted(rule, server, facts, d);
      Steps(uninterrupted, 0, 20, straight);

      ServerStep before(rule, server, facts, d);
      Steps(before, 0, 9, resumed);
      StateWriter out;
      before.Save(out);
      ServerStep after(rule, server, facts, d);
      StateReader in(out.bytes());
      REQUIRE(after.Load(in).ok());
      CHECK(in.done());
      Steps(after, 9, 11, resumed);
      CHECK(SameBits(resumed, straight));
      CHECK(SameBits(after.norm_estimate(), uninterrupted.norm_estimate()));
      CHECK(SameBits(after.l0(), uninterrupted.l0()));
      CHECK(after.smoothness_estimated() == uninterrupted.smoothness_estimated());
    }
  }
}

TEST_CASE("a truncated, corrupted, foreign or other-version checkpoint is refused, naming what is wrong") {
  const std::string dir = TempDir();
  const std::string path = dir + "/checkpoint.bin";
  RunState state = OddRunState(4, 2);
  StateWriter out;
  state.Save(out);
  const Checkpoint written{
      .round = 5, .finished = false, .config_toml = "[run]\n", .stop_reason = "", .state = out.Release()};
  REQUIRE(WriteCheckpointFile(path, written).ok());
  const std::vector<uint8_t> good = Bytes(path);
  Checkpoint read;
  const auto refusal = [&](const std::vector<uint8_t>& bytes) {
    Write(path, bytes);
    const Status s = ReadCheckpointFile(path, &read);
    CHECK(s.code() == StatusCode::kMalformed);
    return std::string(s.message());
  };
  const std::string truncated = refusal({good.begin(), good.end() - 10});
  CHECK(truncated.find("is truncated: its header announces") != std::string::npos);
  CHECK(truncated.find(path) != std::string::npos);
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  CHECK(refusal(longer).find("is too long") != std::string::npos);
  for (const size_t at : {size_t{12}, size_t{16}, size_t{45}, good.size() / 2, good.size() - 1}) {
    CAPTURE(at);
    std::vector<uint8_t> flipped = good;
    flipped[at] ^= 0x10;
    CHECK(refusal(flipped).find("is corrupt: its checksum is") != std::string::npos);
  }
  std::vector<uint8_t> version = good;
  version[8] = 7;
  CHECK(refusal(version).find("checkpoint format version 7; this build reads version 3 only") != std::string::npos);
  CHECK(refusal({good.begin(), good.begin() + 30}).find("not an edgefl checkpoint") != std::string::npos);
  std::vector<uint8_t> model_file = good;
  std::memcpy(model_file.data(), "EDGEFLMD", 8);
  CHECK(refusal(model_file).find("not an edgefl checkpoint (no EDGEFLCK header)") != std::string::npos);
  CHECK(refusal({}).find("not an edgefl checkpoint") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a checkpoint's state that does not fit the run is refused") {
  RunState state = OddRunState(4, 2);
  StateWriter out;
  state.Save(out);
  const std::vector<uint8_t> bytes = out.Release();
  RunState other_nodes(4, 3);
  StateReader in(bytes);
  const Status s = other_nodes.Load(in);
  CHECK(s.code() == StatusCode::kMalformed);
  CHECK(std::string(s.message()).find("3 are expected") != std::string::npos);
}

TEST_CASE("a changed config is named key by key") {
  const std::string before = "[run]\nname = \"a\"\nrounds = 10\n\n[step]\neta = 0.1\nrule = \"constant\"\n";
  CHECK(CheckSameConfig(before, before).ok());
  const Status one =
      CheckSameConfig(before, "[run]\nname = \"a\"\nrounds = 20\n\n[step]\neta = 0.1\nrule = \"constant\"\n");
  CHECK(one.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(one.message()) == "the config has changed since the checkpoint: run.rounds = 20, was 10");
  const Status many =
      CheckSameConfig(before, "[run]\nname = \"b\"\nrounds = 20\n\n[step]\neta = 0.2\nrule = \"decay\"\n");
  CHECK(std::string(many.message()).find("; and 1 more") != std::string::npos);
  const Status gone = CheckSameConfig(before, "[run]\nname = \"a\"\nrounds = 10\n\n[step]\neta = 0.1\n");
  CHECK(std::string(gone.message()).find("step.rule = (absent), was \"constant\"") != std::string::npos);
}

}  // namespace
}  // namespace edgefl

// The run folder: a fresh run refuses a folder that holds one, and a
// resumed run cuts metrics.csv and nodes.csv back to its checkpoint and
// appends, without a second header.
#include "runfiles/run_folder.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "runfiles/resume.h"
#include "runfiles/run_recorder.h"
#include "tests/temp_files.h"

namespace edgefl {
namespace {

namespace fs = std::filesystem;

std::string TempDir() { return testing::TempDir("edgefl-folder-test"); }

std::string Read(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST_CASE("a folder holds a run once it has a checkpoint or a round's row") {
  const std::string dir = TempDir();
  CHECK(ExistingRunFile(dir) == "");
  Write(dir + "/config.toml", "[run]\n");
  CHECK(ExistingRunFile(dir) == "");
  Write(dir + "/checkpoint.bin", "x");
  Write(dir + "/checkpoint.bin.tmp", "x");
  CHECK(ExistingRunFile(dir) == "checkpoint.bin");
  const Status refused = RefuseExistingRun(dir, "checkpoint.bin");
  CHECK(std::string(refused.message()).find("already holds a run (checkpoint.bin): continue it with --resume") !=
        std::string::npos);
  REQUIRE(ClearRun(dir).ok());
  CHECK(ExistingRunFile(dir) == "");
  CHECK_FALSE(fs::exists(dir + "/checkpoint.bin.tmp"));
  CHECK(fs::exists(dir + "/config.toml"));
  fs::remove_all(dir);
}

TEST_CASE("what a run that failed before round 0 leaves is no run: a fresh run may clear it and start there") {
  // E.g. its data set was missing: headers, and the summary and model.bin of x_0.
  const std::string dir = TempDir();
  Write(dir + "/config.toml", "[run]\n");
  Write(dir + "/metrics.csv", "round,time_s,loss\n");
  Write(dir + "/nodes.csv", "round,node,bytes_up\n");
  Write(dir + "/summary.toml", "stop_reason = \"data set not found\"\nok = false\nrounds = 0\n");
  Write(dir + "/model.bin", "x");
  CHECK(ExistingRunFile(dir) == "");
  REQUIRE(ClearRun(dir).ok());
  for (const char* gone : {"metrics.csv", "nodes.csv", "summary.toml", "model.bin"}) CHECK_FALSE(fs::exists(dir + "/" + gone));
  // One recorded round is a run.
  Write(dir + "/metrics.csv", "round,time_s,loss\n0,0.1,1.5\n");
  CHECK(ExistingRunFile(dir) == "metrics.csv");
  Write(dir + "/metrics.csv", "round,time_s,loss\n");
  Write(dir + "/nodes.csv", "round,node,bytes_up\n0,0,100\n");
  CHECK(ExistingRunFile(dir) == "nodes.csv");
  // A folder that does not exist yet is cleared without complaint.
  CHECK(ClearRun(dir + "/not-yet").ok());
  fs::remove_all(dir);
}

TEST_CASE("folders named by the time are made afresh: a second run of the same second gets its own") {
  const std::string dir = TempDir();
  const std::string base = dir + "/runs/quickstart-20260101-120000";
  std::string first, second, third;
  REQUIRE(MakeFreshFolder(base, &first).ok());
  REQUIRE(MakeFreshFolder(base, &second).ok());
  REQUIRE(MakeFreshFolder(base, &third).ok());
  CHECK(first == base);
  CHECK(second == base + "-2");
  CHECK(third == base + "-3");
  for (const std::string& made : {first, second, third}) CHECK(fs::is_directory(made));
  Write(dir + "/file", "x");
  CHECK(std::string(MakeFreshFolder(dir + "/file/runs", &first).message()).find("cannot create") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("metrics.csv is cut back to the checkpoint's rounds, a torn last line dropped") {
  const std::string dir = TempDir();
  const std::string path = dir + "/metrics.csv";
  Write(path, "round,loss\n0,5\n1,4\n2,3\n3,2\n4,1");
  REQUIRE(KeepRows(path, 3, true).ok());
  CHECK(Read(path) == "round,loss\n0,5\n1,4\n2,3\n");
  Write(path, "round,loss\n0,5\n1,4\n1");
  REQUIRE(KeepRows(path, 2, true).ok());
  CHECK(Read(path) == "round,loss\n0,5\n1,4\n");
  REQUIRE(KeepRows(path, 0, true).ok());
  CHECK(Read(path) == "round,loss\n");

  Write(path, "round,loss\n0,5\n1,4\n");
  const Status missing = KeepRows(path, 3, true);
  CHECK(missing.code() == StatusCode::kMalformed);
  CHECK(std::string(missing.message()).find("holds rows for 2 rounds, the checkpoint for 3") != std::string::npos);
  Write(path, "round,loss\n0,5\n2,4\n");
  CHECK(std::string(KeepRows(path, 3, true).message()).find("line 3 is round 2 where round 1 was expected") !=
        std::string::npos);
  Write(path, "round,loss\nzero,5\n");
  CHECK(std::string(KeepRows(path, 1, true).message()).find("line 2 is not a row of a round") != std::string::npos);
  CHECK(KeepRows(dir + "/absent.csv", 0, true).ok());
  CHECK_FALSE(KeepRows(dir + "/absent.csv", 1, true).ok());
  fs::remove_all(dir);
}

TEST_CASE("nodes.csv keeps every node's rows of the rounds before the checkpoint") {
  const std::string dir = TempDir();
  const std::string path = dir + "/nodes.csv";
  Write(path, "round,node\n0,0\n0,1\n1,1\n3,0\n3,1\n4,0\n");
  REQUIRE(KeepRows(path, 4, false).ok());
  CHECK(Read(path) == "round,node\n0,0\n0,1\n1,1\n3,0\n3,1\n");
  fs::remove_all(dir);
}

TEST_CASE("a resumed recorder appends after the kept rows and removes the earlier end's files") {
  const std::string dir = TempDir();
  ExperimentConfig config;
  {
    RunRecorder recorder;
    REQUIRE(recorder.Open(dir, config).ok());
    for (uint32_t round = 0; round < 3; ++round) {
      recorder.Record({.round = round});
      recorder.RecordNode({.round = round, .node = 0});
    }
    uint64_t hash = 0;
    const std::vector<float> model(3, 1.0f);
    REQUIRE(recorder.WriteModel(model, &hash).ok());
    REQUIRE(recorder.Finish(RunSummary{}).ok());
  }
  const std::string metrics = Read(dir + "/metrics.csv");
  const std::string header = metrics.substr(0, metrics.find('\n') + 1);
  RunRecorder resumed;
  REQUIRE(resumed.Resume(dir, 2, /*model=*/{}).ok());
  CHECK_FALSE(fs::exists(dir + "/summary.toml"));
  CHECK_FALSE(fs::exists(dir + "/model.bin"));
  resumed.Record({.round = 2, .loss = 7.0});
  resumed.RecordNode({.round = 2, .node = 0});
  REQUIRE(resumed.Finish(RunSummary{}).ok());
  const std::string after = Read(dir + "/metrics.csv");
  CHECK(after.rfind(header, 0) == 0);
  CHECK(after.find(header, 1) == std::string::npos);  // one header
  CHECK(after.substr(0, metrics.find("\n2,")) == metrics.substr(0, metrics.find("\n2,")));
  CHECK(after.find("\n2,0.000000,7,") != std::string::npos);
  CHECK(std::count(after.begin(), after.end(), '\n') == 4);
  const std::string nodes = Read(dir + "/nodes.csv");
  CHECK(std::count(nodes.begin(), nodes.end(), '\n') == 4);
  fs::remove_all(dir);
}

TEST_CASE("a run has ended by its checkpoint's word, or without one by its summary's") {
  const std::string dir = TempDir();
  bool finished = true;
  REQUIRE(RunFinished(dir, &finished).ok());
  CHECK_FALSE(finished);  // nothing ran yet
  RunRecorder recorder;
  REQUIRE(recorder.Open(dir, ExperimentConfig{}).ok());
  RunSummary summary;
  summary.stop_reason = "stopped by signal";
  REQUIRE(recorder.Finish(summary).ok());
  REQUIRE(RunFinished(dir, &finished).ok());
  CHECK_FALSE(finished);
  summary.stop_reason = "all rounds done";
  REQUIRE(recorder.Finish(summary).ok());
  REQUIRE(RunFinished(dir, &finished).ok());
  CHECK(finished);
  // The checkpoint's header decides when there is one.
  REQUIRE(WriteCheckpointFile(dir + "/checkpoint.bin", Checkpoint{}).ok());
  REQUIRE(RunFinished(dir, &finished).ok());
  CHECK_FALSE(finished);
  fs::remove_all(dir);
}

TEST_CASE("summary.toml's figures read back as the doubles written, not rounded to f32") {
  // ReadSummary once read every figure through value_or(NAN), a float, so a
  // loss, an accuracy or an epsilon came back rounded to 24 bits.
  const std::string dir = TempDir();
  RunRecorder recorder;
  REQUIRE(recorder.Open(dir, ExperimentConfig{}).ok());
  RunSummary summary;
  summary.initial_loss = 1250.0000000001;
  summary.final_loss = 0.1 + 0.2;
  summary.best_loss = 1.0 / 3.0;
  summary.tail_mean_loss = 40043.549689742184;
  summary.final_grad_norm = 1e-300;
  summary.omega = 9.000000000000002;
  summary.final_test_accuracy = 0.77437325905292476;
  summary.best_test_accuracy = 0.7771587743732591;
  summary.epsilon = 40043.549689742184;
  REQUIRE(recorder.Finish(summary).ok());
  RunSummary read;
  REQUIRE(ReadSummary(dir + "/summary.toml", &read).ok());
  CHECK(read.initial_loss == summary.initial_loss);
  CHECK(read.final_loss == summary.final_loss);
  CHECK(read.best_loss == summary.best_loss);
  CHECK(read.tail_mean_loss == summary.tail_mean_loss);
  CHECK(read.final_grad_norm == summary.final_grad_norm);
  CHECK(read.omega == summary.omega);
  CHECK(read.final_test_accuracy == summary.final_test_accuracy);
  CHECK(read.best_test_accuracy == summary.best_test_accuracy);
  CHECK(read.epsilon == summary.epsilon);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace edgefl

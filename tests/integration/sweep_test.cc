// End to end through the real binaries: `edgefl sweep` runs every cell of a
// grid as an `edgefl run` (coordinator and nodes over 127.0.0.1), writes
// results.csv and the report, and on a rerun touches only the cells that
// have not ended. Tiny configs (d = 20, 2 nodes, 20 rounds): a few seconds.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "runfiles/run_recorder.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

namespace fs = std::filesystem;
using testing::Summary;
using testing::Binary;
using testing::Contains;
using testing::RunCommand;

const char* kTinyConfig = R"(
[run]
name = "tiny"
nodes = 2
rounds = 20
seed = 5
[objective]
kind = "quadratic"
dimension = 20
[noise]
kind = "gaussian"
sigma = 0.5
[compressor]
kind = "identity"
[step]
eta = 0.1
)";

const char* kCells[] = {"kind-identity_eta-0.05", "kind-identity_eta-0.1", "kind-qsgd_eta-0.05", "kind-qsgd_eta-0.1"};

// Every file under `dir` and when it was last written.
std::map<std::string, fs::file_time_type> WriteTimes(const std::string& dir) {
  std::map<std::string, fs::file_time_type> times;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) times[entry.path().string()] = entry.last_write_time();
  }
  return times;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

TEST_CASE("edgefl sweep: a 2x2 grid two at a time; a rerun redoes nothing, then only the cell that lost its summary") {
  const std::string dir = testing::ScratchDir("sweep");
  testing::WriteFile(dir + "/tiny.toml", kTinyConfig);
  const std::string out = dir + "/sweep";
  const std::string sweep = Binary("edgefl") + " sweep " + dir + "/tiny.toml --grid compressor.kind=identity,qsgd " +
                            "--grid step.eta=0.05,0.1 --parallel 2 --out " + out;
  auto r = RunCommand(sweep, 60);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Contains(r.output, "4 cells in " + out + ", 0 of them already done, 4 to run, 2 at a time"));
  CHECK(Contains(r.output, "4/4 cells, 0 running, 0 failed"));  // plain progress lines: not a terminal

  // results.csv: the grid values, then the figures, one row per cell in grid order.
  const std::vector<std::string> rows = Lines(testing::ReadFile(out + "/results.csv"));
  REQUIRE(rows.size() == 5);
  CHECK(rows[0].rfind("cell,compressor.kind,step.eta,status,stop_reason,rounds,final_loss,tail_mean_loss,", 0) == 0);
  CHECK(rows[1].rfind("kind-identity_eta-0.05,identity,0.05,done,all rounds done,20,", 0) == 0);
  CHECK(rows[4].rfind("kind-qsgd_eta-0.1,qsgd,0.1,done,all rounds done,20,", 0) == 0);
  std::map<std::string, uint64_t> hashes;
  for (const char* cell : kCells) {
    const RunSummary s = Summary(out + "/" + cell + "/summary.toml");
    CHECK(s.ok);
    CHECK(s.rounds == 20);
    CHECK(s.final_loss < s.initial_loss);
    hashes[cell] = s.model_hash;
    CHECK(fs::exists(out + "/report/" + cell + ".measured.dat"));
    CHECK(Contains(testing::ReadFile(out + "/" + cell + "/run.log"), "# edgefl sweep, "));
  }
  CHECK(fs::exists(out + "/sweep.toml"));
  CHECK(fs::exists(out + "/base.toml"));
  CHECK(Contains(testing::ReadFile(out + "/report/cells.dat"), "3 "));
  CHECK(Contains(testing::ReadFile(out + "/report/plot.gp"), "cells.png"));
  if (Contains(r.output, "figures not drawn")) {
    MESSAGE("gnuplot is missing here: the figures' data and script are checked, not the images");
  } else {
    for (const char* image : {"loss_time.png", "loss_bytes.png", "cells.png", "cells.svg"}) {
      CHECK(fs::file_size(out + "/report/" + image) > 0);
    }
  }

  // The same command again: every cell has ended, and none is touched.
  std::map<std::string, std::map<std::string, fs::file_time_type>> before;
  for (const char* cell : kCells) before[cell] = WriteTimes(out + "/" + cell);
  r = RunCommand(sweep, 60);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Contains(r.output, "4 of 4 cells already done"));
  for (const char* cell : kCells) CHECK(WriteTimes(out + "/" + cell) == before[cell]);

  // One cell loses its summary: only it runs (its finished checkpoint
  // writes the summary again), to the same model.
  const std::string lost = out + "/kind-qsgd_eta-0.1";
  fs::remove(lost + "/summary.toml");
  r = RunCommand(sweep + " --resume", 60);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Contains(r.output, "3 of them already done, 1 to run"));
  CHECK(Summary(lost + "/summary.toml").model_hash == hashes["kind-qsgd_eta-0.1"]);
  for (const char* cell : kCells) {
    if (out + "/" + cell != lost) CHECK(WriteTimes(out + "/" + cell) == before[cell]);
  }

  // Its summary and checkpoint gone, it runs again from round 0, to the
  // same model: and that is the model a plain `edgefl run` of the same
  // config gets.
  fs::remove(lost + "/summary.toml");
  fs::remove(lost + "/checkpoint.bin");
  r = RunCommand(sweep, 60);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Contains(r.output, "running afresh"));
  CHECK(Summary(lost + "/summary.toml").model_hash == hashes["kind-qsgd_eta-0.1"]);
  r = RunCommand(Binary("edgefl") + " run " + dir + "/tiny.toml --set compressor.kind=qsgd --set step.eta=0.1 --out " +
                     dir + "/plain",
                 60);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Summary(dir + "/plain/tiny/summary.toml").model_hash == hashes["kind-qsgd_eta-0.1"]);
}

TEST_CASE("edgefl sweep: a cell that fails validation stops the sweep before anything runs") {
  const std::string dir = testing::ScratchDir("sweep_bad_cell");
  testing::WriteFile(dir + "/tiny.toml", kTinyConfig);
  // rand-k with k = 50 on d = 20.
  const auto r = RunCommand(Binary("edgefl") + " sweep " + dir + "/tiny.toml --grid compressor.kind=rand-k " +
                            "--grid compressor.k=5,50 --out " + dir + "/sweep");
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(Contains(r.output, "cell kind-rand-k_k-50 (compressor.kind=rand-k, compressor.k=50)"));
  CHECK_FALSE(fs::exists(dir + "/sweep"));

  // Another base config into the same folder is refused.
  REQUIRE(RunCommand(Binary("edgefl") + " sweep " + dir + "/tiny.toml --grid step.eta=0.1 --rounds 2 --out " + dir +
                     "/one")
              .exit_code == 0);
  const auto other = RunCommand(Binary("edgefl") + " sweep " + dir + "/tiny.toml --grid step.eta=0.1 --rounds 3 " +
                                "--out " + dir + "/one");
  CHECK(other.exit_code == 2);
  CHECK(Contains(other.output, "holds a sweep of another base config (its base.toml): run.rounds = 3, was 2"));
}

}  // namespace
}  // namespace edgefl

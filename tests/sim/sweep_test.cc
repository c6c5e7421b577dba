// edgefl sweep's pieces without processes: the grid, the cells' names and
// configs, what a cell folder says, the sweep folder's record, results.csv
// and the progress line.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "runfiles/run_folder.h"
#include "sim/sweep_folder.h"
#include "sim/sweep_grid.h"
#include "sim/sweep_progress.h"
#include "sim/sweep_report.h"
#include "sim/sweep_results.h"
#include "tests/temp_files.h"

namespace edgefl {
namespace {

namespace fs = std::filesystem;

const char* kBase = R"(
[run]
name = "tiny"
nodes = 2
rounds = 5
[objective]
kind = "quadratic"
dimension = 20
[compressor]
kind = "identity"
[step]
eta = 0.1
)";

BaseLoader Loader(const std::string& text) {
  return [text](const std::vector<std::string>& overrides, ExperimentConfig* config) {
    std::vector<ExperimentConfig> configs;
    EDGEFL_RETURN_IF_ERROR(LoadExperiments(text, "base.toml", overrides, &configs));
    *config = configs.at(0);
    return Status::Ok();
  };
}

std::string Message(const Status& s) { return s.ok() ? "ok" : s.message(); }
bool Contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

TEST_CASE("--grid: a config key and a list of values") {
  GridAxis axis;
  REQUIRE(ParseGridAxis("step.eta=0.05,0.1,1e-3", &axis).ok());
  CHECK(axis.key == "step.eta");
  CHECK(axis.values == std::vector<std::string>{"0.05", "0.1", "1e-3"});
  REQUIRE(ParseGridAxis("link.preset=lte-m", &axis).ok());
  CHECK(axis.values == std::vector<std::string>{"lte-m"});
}

TEST_CASE("--grid: each way to get it wrong is an error naming the argument") {
  GridAxis axis;
  CHECK(Message(ParseGridAxis("step.etaa=0.1", &axis)) ==
        "--grid 'step.etaa=0.1': 'step.etaa' is not a config key (`edgefl config-keys` lists them)");
  CHECK(Contains(Message(ParseGridAxis("eta=0.1", &axis)), "'eta' is not a config key"));
  CHECK(Contains(Message(ParseGridAxis("step.eta", &axis)), "expected section.key=value1,value2"));
  CHECK(Contains(Message(ParseGridAxis("step.eta=", &axis)), "--grid 'step.eta=': no values after '='"));
  CHECK(Contains(Message(ParseGridAxis("step.eta=0.1,,0.2", &axis)), "an empty value in the list"));
  CHECK(Contains(Message(ParseGridAxis("step.eta=0.1,", &axis)), "an empty value in the list"));
  CHECK(Contains(Message(ParseGridAxis("step.eta=0.1,0.2,0.1", &axis)), "the value '0.1' is listed twice"));
  CHECK(Contains(Message(ParseGridAxis("run.name=a,b", &axis)), "run.name cannot be a grid key"));

  std::vector<GridAxis> axes;
  CHECK(Contains(Message(ParseGrid({"step.eta=0.1", "step.eta=0.2"}, {}, &axes)), "--grid step.eta is given twice"));
  CHECK(Contains(Message(ParseGrid({"run.nodes=2,4"}, {"step.eta=0.1", "run.nodes=8"}, &axes)),
                 "run.nodes is both a --grid key and set by 'run.nodes=8'"));
  CHECK(Contains(Message(ParseGrid({}, {}, &axes)), "needs at least one --grid"));
  CHECK(ParseGrid({"run.nodes=2,4", "step.eta=0.1"}, {"step.rule=decay"}, &axes).ok());
}

TEST_CASE("the cells are the cartesian product, the first axis varying slowest") {
  std::vector<GridAxis> axes;
  REQUIRE(ParseGrid({"compressor.kind=identity,qsgd", "step.eta=0.05,0.1,0.2"}, {}, &axes).ok());
  const std::vector<SweepCell> cells = GridCells(axes);
  std::vector<std::string> names;
  for (const SweepCell& cell : cells) names.push_back(cell.name);
  CHECK(names == std::vector<std::string>{"kind-identity_eta-0.05", "kind-identity_eta-0.1", "kind-identity_eta-0.2",
                                          "kind-qsgd_eta-0.05", "kind-qsgd_eta-0.1", "kind-qsgd_eta-0.2"});
  CHECK(cells[4].value_index == std::vector<size_t>{1, 1});
  CHECK(CellOverrides(axes, cells[4]) == std::vector<std::string>{"compressor.kind=qsgd", "step.eta=0.1"});
  CHECK(DescribeCell(axes, cells[4]) == "compressor.kind=qsgd, step.eta=0.1");

  REQUIRE(ParseGrid({"run.seed=1,2", "run.nodes=2", "step.eta=1,2"}, {}, &axes).ok());
  CHECK(GridCells(axes).size() == 4);
}

TEST_CASE("cell names: stable, filesystem-safe, unique, and valid run names") {
  std::vector<GridAxis> axes;
  // Two keys ending in "kind": both are named in full.
  REQUIRE(ParseGrid({"compressor.kind=sign", "noise.kind=gaussian", "step.eta=0.1"}, {}, &axes).ok());
  CHECK(GridCells(axes)[0].name == "compressor.kind-sign_noise.kind-gaussian_eta-0.1");
  CHECK(GridCells(axes)[0].name == GridCells(axes)[0].name);  // the same grid names its cells the same

  // Values that hold the separator, the escape or a slash cannot meet.
  REQUIRE(ParseGrid({"objective.dataset=a_b,a+5Fb,a/b,a b,-1"}, {}, &axes).ok());
  std::set<std::string> names;
  for (const SweepCell& cell : GridCells(axes)) {
    names.insert(cell.name);
    CHECK(cell.name.find('/') == std::string::npos);
    CHECK(cell.name.find(' ') == std::string::npos);
    // The loader takes it as a run.name (a folder name).
    std::vector<ExperimentConfig> configs;
    const Status named = LoadExperiments(kBase, "base.toml", {"run.name=\"" + cell.name + "\""}, &configs);
    CHECK_MESSAGE(named.ok(), cell.name << ": " << named.message());
  }
  CHECK(names == std::set<std::string>{"dataset-a+5Fb", "dataset-a+2B5Fb", "dataset-a+2Fb", "dataset-a+20b",
                                       "dataset--1"});

  // Too long: cut, and told apart by a hash of the whole name.
  const std::string long_a(120, 'a');
  REQUIRE(ParseGrid({"objective.dataset=" + long_a + "1," + long_a + "2"}, {}, &axes).ok());
  const auto cells = GridCells(axes);
  CHECK(cells[0].name.size() == kMaxRunNameBytes);
  CHECK(cells[0].name != cells[1].name);
  CHECK(cells[0].name.substr(0, 20) == "dataset-aaaaaaaaaaaa");
}

TEST_CASE("every cell's config is resolved up front; a bad one names the cell and the key") {
  std::vector<GridAxis> axes;
  REQUIRE(ParseGrid({"compressor.kind=identity,rand-k", "compressor.k=5,50"}, {}, &axes).ok());
  std::vector<SweepCell> cells = GridCells(axes);
  const Status s = ResolveCells(Loader(kBase), axes, &cells);
  // rand-k with k = 50 > d = 20 is the fourth cell.
  CHECK(Contains(Message(s), "cell kind-rand-k_k-50 (compressor.kind=rand-k, compressor.k=50): "));
  CHECK(Contains(Message(s), "compressor.k"));

  REQUIRE(ParseGrid({"step.eta=0.05,-1"}, {}, &axes).ok());
  cells = GridCells(axes);
  const Status negative = ResolveCells(Loader(kBase), axes, &cells);
  CHECK(Contains(Message(negative), "cell eta--1 (step.eta=-1): "));
  CHECK(Contains(Message(negative), "step.eta"));

  REQUIRE(ParseGrid({"step.eta=0.1,0.10"}, {}, &axes).ok());
  cells = GridCells(axes);
  CHECK(Contains(Message(ResolveCells(Loader(kBase), axes, &cells)),
                 "cells eta-0.1 and eta-0.10 are the same config (step.eta=0.1 and step.eta=0.10 read the same)"));

  REQUIRE(ParseGrid({"compressor.kind=identity,qsgd", "step.eta=0.05,0.1"}, {}, &axes).ok());
  cells = GridCells(axes);
  REQUIRE(ResolveCells(Loader(kBase), axes, &cells).ok());
  CHECK(cells[3].config.name == "kind-qsgd_eta-0.1");
  CHECK(cells[3].config.step.eta == 0.1);
  CHECK(cells[3].config.compressor.kind == wire::CompressorKind::Qsgd);
  CHECK(cells[3].config.nodes == 2);  // the rest is the base's
}

TEST_CASE("results.csv: one row per cell, grid values first, empty fields for what a cell lacks") {
  std::vector<GridAxis> axes;
  REQUIRE(ParseGrid({"compressor.kind=identity,qsgd", "step.eta=0.1"}, {}, &axes).ok());
  std::vector<SweepCell> cells = GridCells(axes);
  REQUIRE(ResolveCells(Loader(kBase), axes, &cells).ok());
  std::vector<CellResult> results(2);
  results[0].summary_read = true;
  RunSummary& s = results[0].summary;
  s.stop_reason = "all rounds done";
  s.rounds = 5;
  s.final_loss = 0.25;
  s.tail_mean_loss = 0.5;
  s.best_loss = 0.125;
  s.wall_time_s = 1.5;
  s.bytes_up = 1000;
  s.bytes_down = 2000;
  s.model_hash = 0xabc;
  results[1].problem = "edgefl run ended with exit code 127 (see x/run.log)";
  CHECK(ResultsCsv(axes, cells, results) ==
        "cell,compressor.kind,step.eta,status,stop_reason,rounds,final_loss,tail_mean_loss,best_loss,"
        "best_test_accuracy,wall_time_s,bytes_up,bytes_down,model_hash\n"
        "kind-identity_eta-0.1,identity,0.1,done,all rounds done,5,0.25,0.5,0.125,,1.5,1000,2000,0000000000000abc\n"
        "kind-qsgd_eta-0.1,qsgd,0.1,failed,edgefl run ended with exit code 127 (see x/run.log),,,,,,,,,\n");

  // A target adds its columns; a stop reason with a comma is quoted.
  cells[0].config.target_loss = 0.3;
  s.stop_reason = "target loss reached";
  results[0].time_to_target_s = 0.75;
  results[0].rounds_to_target = 4;
  results[1] = {};
  results[1].summary_read = true;
  results[1].summary.ok = false;
  results[1].summary.stop_reason = "only 2 of 4 nodes joined within 30000 ms (missing: 1, 3)";
  const std::string csv = ResultsCsv(axes, cells, results);
  CHECK(Contains(csv, ",bytes_down,target_loss,time_to_target_s,rounds_to_target,model_hash\n"));
  CHECK(Contains(csv, "\nkind-identity_eta-0.1,identity,0.1,done,target loss reached,5,0.25,0.5,0.125,,1.5,1000,"
                      "2000,0.3,0.75,4,0000000000000abc\n"));
  CHECK(Contains(csv, "\nkind-qsgd_eta-0.1,qsgd,0.1,failed,\"only 2 of 4 nodes joined within 30000 ms (missing: "
                      "1, 3)\",0,"));
}

TEST_CASE("a cell's status, and the chart's data and labels") {
  std::vector<GridAxis> axes;
  REQUIRE(ParseGrid({"step.eta=0.1,0.2,0.4"}, {}, &axes).ok());
  std::vector<SweepCell> cells = GridCells(axes);
  REQUIRE(ResolveCells(Loader(kBase), axes, &cells).ok());
  std::vector<CellResult> results(3);
  results[0].summary_read = true;
  results[0].summary.final_loss = 0.5;
  results[1].summary_read = true;
  results[1].summary.diverged_at = 3;
  results[1].summary.final_loss = INFINITY;
  CHECK(CellStatus(results[0]) == "done");
  CHECK(CellStatus(results[1]) == "diverged");
  CHECK(CellStatus(results[2]) == "not run");
  CHECK(CellChartData(cells, results) == "# index final_loss cell\n0 0.5 eta-0.1\n1 ? eta-0.2\n2 ? eta-0.4\n");
  const std::string script = CellChartScript("sweep", cells, results);
  CHECK(Contains(script, "set xtics rotate by -30 left ('eta-0.1' 0, 'eta-0.2 (diverged)' 1, 'eta-0.4 (not run)' 2)"));
  CHECK(Contains(script, "set output 'cells.png'"));
}

TEST_CASE("what a cell's folder holds decides what the sweep does with it") {
  const std::string dir = testing::TempDir("edgefl-sweep-test") + "/cell";
  const std::string config = "[run]\nname = \"cell\"\nrounds = 5\n\n[step]\neta = 0.1\n";
  CHECK(PlanCell(dir, config).action == CellAction::kRun);  // no folder
  Write(dir + "/" + kConfigFile, config);
  CHECK(PlanCell(dir, config).action == CellAction::kRun);  // a config alone is no run
  // Ended, without checkpoints (run.checkpoint_every = 0): done.
  Write(dir + "/" + kSummaryFile, "stop_reason = \"all rounds done\"\nok = true\nrounds = 5\n");
  Write(dir + "/" + kMetricsFile, "round,loss\n0,1\n");
  CHECK(PlanCell(dir, config).action == CellAction::kDone);
  // The same folder for another config: run afresh over it, saying why.
  const CellPlan other = PlanCell(dir, "[run]\nname = \"cell\"\nrounds = 5\n\n[step]\neta = 0.2\n");
  CHECK(other.action == CellAction::kOverwrite);
  CHECK(other.why == "it holds a run of another config: step.eta = 0.2, was 0.1");
  // Stopped with no checkpoint to carry on from: afresh too.
  Write(dir + "/" + kSummaryFile, "stop_reason = \"stopped by signal\"\nok = true\nrounds = 1\n");
  const CellPlan stopped = PlanCell(dir, config);
  CHECK(stopped.action == CellAction::kOverwrite);
  CHECK(Contains(stopped.why, "has no checkpoint.bin to resume from"));
  fs::remove_all(fs::path(dir).parent_path());
}

TEST_CASE("a sweep folder holds one base config, and its record reads back") {
  const std::string root = testing::TempDir("edgefl-sweep-test");
  std::vector<ExperimentConfig> configs;
  REQUIRE(LoadExperiments(kBase, "base.toml", {}, &configs).ok());
  const ExperimentConfig base = configs[0];
  CHECK(CheckSweepFolder(root + "/new", base).ok());
  CHECK(CheckSweepFolder(root, base).ok());  // empty

  SweepRecord record{"examples/tiny.toml", {}, {"run.rounds=5"}, {}};
  REQUIRE(ParseGrid({"compressor.kind=identity,qsgd", "step.eta=0.05,0.1"}, {}, &record.axes).ok());
  REQUIRE(WriteSweepRecord(root + "/s", record, base).ok());
  CHECK(HoldsSweep(root + "/s"));
  SweepRecord read;
  REQUIRE(ReadSweepRecord(root + "/s", &read).ok());
  CHECK(read.config_path == "examples/tiny.toml");
  CHECK(read.sets == record.sets);
  REQUIRE(read.axes.size() == 2);
  CHECK(read.axes[1].key == "step.eta");
  CHECK(read.axes[1].values == std::vector<std::string>{"0.05", "0.1"});

  CHECK(CheckSweepFolder(root + "/s", base).ok());
  ExperimentConfig renamed = base;
  renamed.name = "other";
  CHECK(CheckSweepFolder(root + "/s", renamed).ok());  // cells are named after their values anyway
  ExperimentConfig changed = base;
  changed.rounds = 6;
  CHECK(Message(CheckSweepFolder(root + "/s", changed)) ==
        root + "/s holds a sweep of another base config (its base.toml): run.rounds = 6, was 5. One folder holds "
               "one base config: choose another --out, or make the differing key a --grid key");
  Write(root + "/run/dsgd/config.toml", "");
  CHECK(Contains(Message(CheckSweepFolder(root + "/run", base)), "holds no sweep.toml: it is not a sweep folder"));
  fs::remove_all(root);
}

TEST_CASE("the progress line: cells, running, failed, elapsed and the time left at the pace so far") {
  SweepCounts c{.total = 8, .done = 3, .running = 2, .failed = 1, .to_run = 6, .ran = 1, .elapsed_s = 42};
  CHECK(ProgressText(c, true) ==
        "[#######             ] 3/8 cells, 2 running, 1 failed, 0:42 elapsed, about 3:30 left");
  CHECK(ProgressText(c, false) == "3/8 cells, 2 running, 1 failed, 0:42 elapsed, about 3:30 left");
  c.ran = 0;
  CHECK(Contains(ProgressText(c, false), "time left unknown"));
  CHECK(FormatDuration(3723.4) == "1:02:03");
}

}  // namespace
}  // namespace edgefl

// edgefl sweep: a config over a grid of settings. Every cell is a real
// `edgefl run` of its one config (the cell's config.toml), started as a
// child process of this one with its output in the cell's run.log, up to
// --parallel at a time: one code path runs every experiment, and this
// process's output stays a progress line. A cell whose folder holds its
// finished run is not run again; an interrupted one is carried on with
// `edgefl run --resume`. The sweep ends with results.csv and the figures.
// Each `edgefl run` binds its coordinator to a free loopback port that the
// kernel picks (tcp://127.0.0.1:*, launcher.h), so cells side by side never
// share a port.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "runfiles/atomic_file.h"
#include "runfiles/run_folder.h"
#include "runfiles/run_outcome.h"
#include "sim/commands.h"
#include "sim/launcher.h"
#include "sim/stop_signal.h"
#include "sim/process_group.h"
#include "sim/sweep_folder.h"
#include "sim/sweep_progress.h"
#include "sim/sweep_report.h"
#include "sim/sweep_results.h"

namespace edgefl {
namespace {

namespace fs = std::filesystem;

std::string Join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const std::string& part : parts) out += (out.empty() ? "" : separator) + part;
  return out;
}

// The cells side by side when --parallel is not given: each runs its nodes
// and a coordinator, so as many cells as the cores hold processes of the
// largest cell, at least one. More would time cells waiting for a core, and
// wall-clock seconds are among the figures a sweep compares.
uint32_t DefaultParallel(unsigned cores, uint32_t max_nodes) {
  return std::max(1u, cores / (max_nodes + 1));
}

// The progress line: a bar redrawn in place on a terminal, plain lines
// (one a cell that ends) otherwise; other messages are printed above it.
class ProgressLine {
 public:
  explicit ProgressLine(bool terminal) : terminal_(terminal) {}

  void Draw(const SweepCounts& counts) {
    if (!terminal_) return;
    std::fprintf(stderr, "\r%s\033[K", ProgressText(counts, /*bar=*/true).c_str());
    drawn_ = true;
  }
  // A line of its own, above the bar; on a terminal only when `always`.
  void Say(const std::string& line, const SweepCounts& counts, bool always) {
    if (terminal_ && !always) return Draw(counts);
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "%s\n", line.c_str());
    drawn_ = false;
    Draw(counts);
  }
  void Finish(const SweepCounts& counts) {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
    std::fprintf(stderr, "edgefl: sweep: %zu/%zu cells ended (%zu of them now), %zu failed, in %s\n", counts.done,
                 counts.total, counts.ran, counts.failed, FormatDuration(counts.elapsed_s).c_str());
  }

 private:
  bool terminal_;
  bool drawn_ = false;
};

// A cell this sweep runs, and its `edgefl run` once started.
struct Job {
  size_t cell = 0;
  CellPlan plan;
  size_t process = 0;
  bool running = false;
};

// Starts `edgefl run` for the job's cell, its output appended to the cell's
// run.log after a line saying when and how.
Status StartJob(ProcessGroup& group, const std::string& edgefl, const std::string& dir, const SweepCell& cell,
                const SweepArgs& args, Job* job) {
  const std::string cell_dir = dir + "/" + cell.name;
  std::vector<std::string> argv = {edgefl, "run"};
  if (job->plan.action == CellAction::kResume) {
    argv.insert(argv.end(), {"--resume", cell_dir});
  } else {
    // Written here as well as by `edgefl run`: it reads the cell's config from it.
    EDGEFL_RETURN_IF_ERROR(WriteRunConfig(cell_dir, cell.config));
    argv.insert(argv.end(), {cell_dir + "/" + kConfigFile, "--out", dir});
    if (job->plan.action == CellAction::kOverwrite) argv.push_back("--overwrite");
  }
  if (!args.bin_dir.empty()) argv.insert(argv.end(), {"--bin-dir", args.bin_dir});
  if (!args.data_dir.empty()) argv.insert(argv.end(), {"--data-dir", args.data_dir});

  const std::string log_path = cell_dir + "/" + kCellLogFile;
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", log_path.c_str(), std::strerror(errno));
  }
  std::string header = "\n# edgefl sweep, " + LocalTime("%Y-%m-%d %H:%M:%S") + ": " + Join(argv, " ") + "\n";
  if (!job->plan.why.empty()) header += "# afresh: " + job->plan.why + "\n";
  const bool logged = write(log, header.data(), header.size()) == static_cast<ssize_t>(header.size());
  Status s = logged ? group.Spawn(argv, -1, &job->process, /*netns_fd=*/-1, log)
                    : Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", log_path.c_str(),
                                    std::strerror(errno));
  close(log);
  job->running = s.ok();
  return s;
}

// How a cell's `edgefl run` ended, when that says more than its summary:
// codes other than done (0), diverged (3) and interrupted (130).
std::string ExitProblem(const ChildExit& exit, const std::string& log_path) {
  if (!exit.signaled && (exit.exit_code == 0 || exit.exit_code == kDivergedExitCode || exit.exit_code == 130)) {
    return "";
  }
  const std::string how =
      exit.signaled ? "killed by signal " + std::to_string(exit.signal) : "exit code " + std::to_string(exit.exit_code);
  return "edgefl run ended with " + how + " (see " + log_path + ")";
}

void PrintTable(const std::vector<SweepCell>& cells, const std::vector<CellResult>& results) {
  size_t width = 4;
  for (const SweepCell& cell : cells) width = std::max(width, cell.name.size());
  bool target = false;
  for (const SweepCell& cell : cells) target = target || cell.config.target_loss > 0.0;
  std::printf("\n%-*s %-9s %7s %11s %11s %11s %8s%s\n", static_cast<int>(width), "cell", "status", "rounds", "final",
              "tail mean", "uplink MB", "wall s", target ? "  to target s" : "");
  for (size_t i = 0; i < cells.size(); ++i) {
    const CellResult& r = results[i];
    const std::string status = CellStatus(r);
    if (!r.summary_read) {
      std::printf("%-*s %-9s %7s %11s %11s %11s %8s%s\n", static_cast<int>(width), cells[i].name.c_str(),
                  status.c_str(), "-", "-", "-", "-", "-", target ? "             -" : "");
      continue;
    }
    const RunSummary& s = r.summary;
    char to_target[24] = "";
    if (target && std::isfinite(r.time_to_target_s)) {
      std::snprintf(to_target, sizeof(to_target), "  %12.4g", r.time_to_target_s);
    } else if (target) {
      std::snprintf(to_target, sizeof(to_target), "  %12s", "-");
    }
    std::printf("%-*s %-9s %7u %11.4g %11.4g %11.4g %8.2f%s\n", static_cast<int>(width), cells[i].name.c_str(),
                status.c_str(), s.rounds, s.final_loss, s.tail_mean_loss, static_cast<double>(s.bytes_up) / 1e6,
                s.wall_time_s, to_target);
  }
}

// Fills `grid` and the config from the sweep in `dir` where the command
// line left them out (--resume); `record` keeps what sweep.toml said of a
// config taken from base.toml. Returns 0, or 2 after saying why not.
int TakeRecorded(const std::string& dir, ExperimentArgs* experiment, std::vector<std::string>* grid,
                 SweepRecord* record) {
  if (!HoldsSweep(dir)) {
    EDGEFL_LOG_ERROR("--resume: %s holds no sweep (no %s): start one without --resume", dir.c_str(), kSweepFile);
    return 2;
  }
  if (!experiment->config_path.empty() && !grid->empty()) return 0;
  SweepRecord recorded;
  const Status read = ReadSweepRecord(dir, &recorded);
  if (!read.ok()) {
    EDGEFL_LOG_ERROR("--resume: %s", read.message());
    return 2;
  }
  if (experiment->config_path.empty()) {
    // base.toml is the config with its --variant and --set already applied;
    // sweep.toml goes on naming where it came from.
    experiment->config_path = dir + "/" + kSweepBaseFile;
    record->config_path = recorded.config_path;
    record->variants = recorded.variants;
    record->sets = recorded.sets;
  }
  if (grid->empty()) {
    for (const GridAxis& axis : recorded.axes) grid->push_back(axis.key + "=" + Join(axis.values, ","));
  }
  return 0;
}

// A sweep once checked: its folder, grid, cells and the cells to run.
struct Sweep {
  std::string dir;
  std::vector<GridAxis> axes;
  std::vector<SweepCell> cells;
  std::vector<Job> jobs;  // the cells not done yet, in grid order
  size_t already_done = 0;
  uint32_t max_nodes = 1;  // of the cells to run
};

// Reads the grid and the config, resolves and checks every cell, records the
// sweep in its folder and sees which cells are done. Returns 0, or 2 after
// saying what was wrong (then nothing has been written).
int PlanSweep(ExperimentArgs experiment, const SweepArgs& args, Sweep* sweep) {
  sweep->dir = args.out_dir;
  if (sweep->dir.empty()) {
    const std::string stem =
        experiment.config_path.empty() ? "quickstart" : fs::path(experiment.config_path).stem().string();
    sweep->dir = "runs/" + stem + "-sweep";
  }
  std::vector<std::string> grid_args = args.grid;
  SweepRecord record{experiment.config_path, experiment.only, experiment.AllSets(), {}};
  if (args.resume) {
    if (const int bad = TakeRecorded(sweep->dir, &experiment, &grid_args, &record)) return bad;
  }

  ExperimentConfig base;
  Status s = ParseGrid(grid_args, experiment.AllSets(), &sweep->axes);
  if (s.ok()) s = experiment.LoadOne({}, &base);
  sweep->cells = GridCells(sweep->axes);
  if (s.ok()) {
    s = ResolveCells([&](const std::vector<std::string>& overrides,
                         ExperimentConfig* config) { return experiment.LoadOne(overrides, config); },
                     sweep->axes, &sweep->cells);
  }
  if (s.ok()) s = CheckSweepFolder(sweep->dir, base);
  record.axes = sweep->axes;
  if (s.ok()) s = WriteSweepRecord(sweep->dir, record, base);
  if (!s.ok()) {
    EDGEFL_LOG_ERROR("%s", s.message());
    return 2;
  }
  for (size_t i = 0; i < sweep->cells.size(); ++i) {
    const SweepCell& cell = sweep->cells[i];
    const CellPlan plan = PlanCell(sweep->dir + "/" + cell.name, ToToml(cell.config));
    if (plan.action == CellAction::kDone) {
      ++sweep->already_done;
      continue;
    }
    sweep->jobs.push_back({i, plan});
    sweep->max_nodes = std::max(sweep->max_nodes, cell.config.nodes);
  }
  return 0;
}

// Says what the sweep is about to do.
void Announce(const Sweep& sweep, uint32_t parallel, bool parallel_given, unsigned cores) {
  if (sweep.jobs.empty()) {
    std::fprintf(stderr, "edgefl: sweep: %zu of %zu cells already done in %s; nothing to run\n", sweep.already_done,
                 sweep.cells.size(), sweep.dir.c_str());
    return;
  }
  std::vector<std::string> keys;
  for (const GridAxis& axis : sweep.axes) keys.push_back(axis.key);
  const auto resumed = std::count_if(sweep.jobs.begin(), sweep.jobs.end(),
                                     [](const Job& job) { return job.plan.action == CellAction::kResume; });
  const std::string carried = resumed ? " (" + std::to_string(resumed) + " carried on from their checkpoints)" : "";
  std::fprintf(stderr, "edgefl: sweep of %s: %zu cells in %s, %zu of them already done, %zu to run%s, %u at a time%s\n",
               Join(keys, " x ").c_str(), sweep.cells.size(), sweep.dir.c_str(), sweep.already_done,
               sweep.jobs.size(), carried.c_str(), parallel,
               parallel_given ? "" : " (as many cells as the cores hold their coordinator and nodes)");
  if (parallel > 1 && static_cast<uint64_t>(parallel) * (sweep.max_nodes + 1) > 2ull * cores) {
    std::fprintf(stderr,
                 "edgefl: sweep: %u cells of up to %u processes on %u cores: their wall-clock seconds will "
                 "include waiting for a core\n",
                 parallel, sweep.max_nodes + 1, cores);
  }
}

// Runs the sweep's jobs, `parallel` at a time, until all have ended or a
// signal stopped them; `results` gets each run cell's result.
void RunJobs(Sweep& sweep, const SweepArgs& args, uint32_t parallel, std::vector<CellResult>* results) {
  std::atomic<bool>& stop = StopOnSignal();
  std::error_code ec;
  const std::string edgefl = fs::read_symlink("/proc/self/exe", ec).string();
  ProcessGroup group;
  SweepCounts counts;
  counts.total = sweep.cells.size();
  counts.done = sweep.already_done;
  counts.to_run = sweep.jobs.size();
  ProgressLine progress(isatty(STDERR_FILENO) != 0);
  const int64_t start_ms = NowMs();
  size_t next = 0;
  bool forwarded = false;
  for (;;) {
    while (!stop.load() && counts.running < parallel && next < sweep.jobs.size()) {
      Job& job = sweep.jobs[next++];
      const SweepCell& cell = sweep.cells[job.cell];
      const Status started = StartJob(group, edgefl, sweep.dir, cell, args, &job);
      if (started.ok()) {
        ++counts.running;
        if (!job.plan.why.empty()) {
          progress.Say("edgefl: sweep: " + cell.name + ": running afresh: " + job.plan.why, counts, true);
        }
        continue;
      }
      (*results)[job.cell].problem = started.message();
      ++counts.done, ++counts.ran, ++counts.failed;
      progress.Say("edgefl: sweep: " + cell.name + ": " + started.message(), counts, true);
    }
    if (counts.running == 0) break;
    ChildExit exit;
    const bool ended = group.WaitAny(250, &exit);
    counts.elapsed_s = static_cast<double>(NowMs() - start_ms) / 1000.0;
    if (stop.load() && !forwarded) {
      // Each run stops at the end of its round and checkpoints (exit 130).
      for (const Job& job : sweep.jobs) {
        if (job.running) group.Signal(job.process, SIGINT);
      }
      forwarded = true;
    }
    if (!ended) {
      progress.Draw(counts);
      continue;
    }
    const auto job = std::find_if(sweep.jobs.begin(), sweep.jobs.end(),
                                  [&](const Job& j) { return j.running && j.process == exit.index; });
    if (job == sweep.jobs.end()) continue;
    job->running = false;
    const SweepCell& cell = sweep.cells[job->cell];
    const std::string cell_dir = sweep.dir + "/" + cell.name;
    CellResult& result = (*results)[job->cell];
    result = ReadCellResult(cell_dir, cell.config);
    result.problem = ExitProblem(exit, cell_dir + "/" + kCellLogFile);
    const std::string status = CellStatus(result);
    --counts.running, ++counts.done, ++counts.ran;
    counts.failed += status == "failed";
    std::string line = "edgefl: sweep: " + cell.name + ": " + status;
    if (result.summary_read) line += " (" + result.summary.stop_reason + ")";
    if (!result.problem.empty()) line += ": " + result.problem;
    progress.Say(line + "; " + ProgressText(counts, false), counts, status == "failed");
  }
  counts.elapsed_s = static_cast<double>(NowMs() - start_ms) / 1000.0;
  if (!sweep.jobs.empty()) progress.Finish(counts);
}

// results.csv, the figures and the table, over every cell of the grid (run
// now or before; `results` holds the problems of those run now). Returns
// the exit code.
int Conclude(const Sweep& sweep, std::vector<CellResult>* results) {
  bool failed = false, diverged = false;
  for (size_t i = 0; i < sweep.cells.size(); ++i) {
    CellResult& result = (*results)[i];
    const std::string problem = result.problem;
    result = ReadCellResult(sweep.dir + "/" + sweep.cells[i].name, sweep.cells[i].config);
    result.problem = problem;
    const std::string status = CellStatus(result);
    failed = failed || status == "failed";
    diverged = diverged || status == "diverged";
  }
  const std::string csv = sweep.dir + "/results.csv";
  const Status written_csv = WriteFileAtomically(csv, ResultsCsv(sweep.axes, sweep.cells, *results));
  if (!written_csv.ok()) {
    EDGEFL_LOG_ERROR("%s", written_csv.message());
    failed = true;
  }
  std::vector<std::string> written;
  const Status drawn = WriteSweepReport(sweep.dir, sweep.cells, *results, &written);
  PrintTable(sweep.cells, *results);
  std::printf("\nresults: %s\n", csv.c_str());
  if (drawn.ok()) {
    std::printf("figures: %s/report/ (loss_time, loss_bytes, loss_rounds, cells: .png and .svg; plot.gp)\n",
                sweep.dir.c_str());
  } else {
    EDGEFL_LOG_WARN("figures not drawn: %s (results.csv is written)", drawn.message());
  }
  std::printf("sweep folder: %s\n", sweep.dir.c_str());
  if (StopRequested()) return 130;
  if (failed) return 1;
  return diverged ? kDivergedExitCode : 0;
}

}  // namespace

int SweepExperiments(ExperimentArgs experiment, const SweepArgs& args) {
  Sweep sweep;
  if (const int bad = PlanSweep(std::move(experiment), args, &sweep)) return bad;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  uint32_t parallel = args.parallel != 0 ? args.parallel : DefaultParallel(cores, sweep.max_nodes);
  parallel = static_cast<uint32_t>(std::min<size_t>(parallel, std::max<size_t>(sweep.jobs.size(), 1)));
  Announce(sweep, parallel, args.parallel != 0, cores);
  std::vector<CellResult> results(sweep.cells.size());
  RunJobs(sweep, args, parallel, &results);
  return Conclude(sweep, &results);
}

}  // namespace edgefl

// edgefl run: every chosen variant as real processes, a summary table, and
// with --predict each variant's forecast beside it (agreement.toml,
// predicted.csv) and a table of how well they agree.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <ctime>
#include <filesystem>

#include "runfiles/resume.h"
#include "runfiles/run_completion.h"
#include "runfiles/run_folder.h"
#include "runfiles/run_outcome.h"
#include "core/log.h"
#include "node/attack.h"
#include "sim/agreement.h"
#include "sim/closed_forms.h"
#include "sim/commands.h"
#include "sim/launcher.h"
#include "sim/stop_signal.h"
#include "sim/prediction_files.h"
#include "sim/round_cost.h"

namespace edgefl {
namespace {

std::string HumanBytes(double bytes) {
  char text[32];
  if (bytes >= 1e6) {
    std::snprintf(text, sizeof(text), "%.2f MB", bytes / 1e6);
  } else if (bytes >= 1e3) {
    std::snprintf(text, sizeof(text), "%.1f kB", bytes / 1e3);
  } else {
    std::snprintf(text, sizeof(text), "%.0f B", bytes);
  }
  return text;
}

struct Row {
  explicit Row(const ExperimentConfig* c) : config(c) {}
  const ExperimentConfig* config;
  VariantResult result;
  Status status;
  bool compared = false;  // --predict gave an agreement
  Agreement agreement;
  TimeAgreement time;
};

void PrintTable(const std::vector<Row>& rows) {
  std::printf("\n%-16s %-12s %7s %10s %10s %10s %10s %8s %12s %12s %9s %7s  %s\n", "variant", "compressor",
              "rounds", "loss0", "final", "tail mean", "theory", "test acc", "up/node/rnd", "down/round", "bits/coord",
              "wall s", "status");
  for (const Row& row : rows) {
    const auto& s = row.result.summary;
    const auto theory = PredictedStationaryLoss(*row.config);
    char theory_text[16] = "-";
    if (theory) std::snprintf(theory_text, sizeof(theory_text), "%.4g", *theory);
    std::string status = row.status.ok() ? s.stop_reason : row.status.message();
    if (!s.ok && row.status.ok()) status = "failed: " + s.stop_reason;
    for (const std::string& p : row.result.problems) status += "; " + p;
    if (!row.result.summary_read) {
      std::printf("%-16s %-12s %7s %10s %10s %10s %10s %8s %12s %12s %9s %7s  %s\n", row.config->name.c_str(),
                  codec::CompressorName(row.config->compressor.kind), "-", "-", "-", "-", theory_text, "-", "-", "-",
                  "-", "-", status.c_str());
      continue;
    }
    const double up = s.measured_bits_per_coordinate * row.config->objective.dimension / 8.0;
    const double down = s.rounds ? static_cast<double>(s.bytes_down) / s.rounds : 0.0;
    char accuracy_text[16] = "-";
    if (std::isfinite(s.final_test_accuracy)) std::snprintf(accuracy_text, sizeof(accuracy_text), "%.3f", s.final_test_accuracy);
    std::printf("%-16s %-12s %7u %10.4g %10.4g %10.4g %10s %8s %12s %12s %9.3f %7.2f  %s\n", row.config->name.c_str(),
                codec::CompressorName(row.config->compressor.kind), s.rounds, s.initial_loss, s.final_loss,
                s.tail_mean_loss, theory_text, accuracy_text, HumanBytes(up).c_str(), HumanBytes(down).c_str(),
                s.measured_bits_per_coordinate, s.wall_time_s, status.c_str());
  }
  std::printf("\nup/node/rnd: bytes of one node's update message; down/round: round-start bytes to all nodes;\n"
              "bits/coord: update message bits per model coordinate, measured (payload and header);\n"
              "tail mean: mean loss over the last half of the rounds; theory: stationary loss (docs/theory.md 3.5)\n"
              "where a closed form applies; test acc: held-out accuracy of data objectives. Run folders hold\n"
              "config.toml, metrics.csv, nodes.csv, checkpoint.bin, model.bin, summary.toml and audit.log\n"
              "(docs/outputs.md); `edgefl report` draws them, `edgefl verify` checks the audit chain, and\n"
              "`edgefl run --resume` carries an interrupted run on.\n");
}

void PrintAgreement(const std::vector<Row>& rows) {
  std::printf("\n%-16s %22s %22s %18s %10s %10s  %s\n", "variant", "measured stationary", "predicted stationary",
              "rel. error", "measured", "predicted", "verdict");
  for (const Row& row : rows) {
    if (!row.compared) continue;
    const Agreement& a = row.agreement;
    char measured[40], predicted[40], error[40];
    std::snprintf(measured, sizeof(measured), "%.5g +- %.2g", a.measured.mean, a.measured.error);
    std::snprintf(predicted, sizeof(predicted), "%.5g +- %.2g", a.predicted.mean, a.predicted.error);
    std::snprintf(error, sizeof(error), "%+.1f%% +- %.1f%%", 100 * a.relative_error, 100 * a.relative_error_sigma);
    std::printf("%-16s %22s %22s %18s %10s %10s  %s\n", row.config->name.c_str(), measured, predicted, error,
                RunVerdictName(a.measured_verdict), RunVerdictName(a.predicted_verdict),
                a.verdict_agrees() ? "agrees" : "DIFFERS");
  }
  std::printf("\nstationary: mean loss over the last half of the rounds, +- its Monte-Carlo standard error (measured:\n"
              "10 batch means; predicted: spread over paths); rel. error: predicted / measured - 1. Each variant's\n"
              "folder holds predicted.csv and agreement.toml (docs/outputs.md).\n");
  bool timed = false;
  for (const Row& row : rows) timed = timed || (row.compared && row.time.compared);
  if (!timed) return;
  std::printf("\n%-16s %12s %12s %10s %22s %22s %10s\n", "variant", "measured s/r", "predicted", "rel. error",
              "measured to target", "predicted to target", "rel. error");
  for (const Row& row : rows) {
    if (!row.compared || !row.time.compared) continue;
    const TimeAgreement& t = row.time;
    char measured[40] = "-", predicted[40] = "-", error[24] = "-";
    if (t.target_reached) {
      std::snprintf(measured, sizeof(measured), "%.4g s, %.0f r", t.measured_seconds_to_target,
                    t.measured_rounds_to_target);
      if (std::isfinite(t.predicted_seconds_to_target)) {
        std::snprintf(predicted, sizeof(predicted), "%.4g s, %.1f r", t.predicted_seconds_to_target,
                      t.predicted_rounds_to_target);
        std::snprintf(error, sizeof(error), "%+.1f%%", 100 * t.target_relative_error);
      }
    }
    std::printf("%-16s %12.4g %12.4g %9.1f%% %22s %22s %10s\n", row.config->name.c_str(), t.measured_seconds_per_round,
                t.predicted_seconds_per_round, 100 * t.relative_error, measured, predicted, error);
  }
  std::printf("\nseconds a round: metrics.csv's time_s at the last round over the rounds, against the forecast's\n"
              "expected round length ([link], [round]); to target: the run's rounds and time_s when it stopped at\n"
              "run.target_loss, against the paths' mean first passage.\n");
}

// The forecast of a variant that ran, written beside its run, and compared.
void PredictBeside(Row& row, const PredictArgs& args, const std::string& data_dir) {
  Prediction p;
  PredictArgs with_data = args;
  if (with_data.options.data_dir.empty()) with_data.options.data_dir = data_dir;
  if (!ForecastVariant(*row.config, with_data, &p)) return;
  const std::string& dir = row.result.dir;
  std::vector<double> losses;
  std::vector<double> times;
  const RoundCost cost = RoundCostOf(*row.config);
  Status s = WritePredictionCsv(dir, p, cost);
  if (s.ok()) s = ReadMetricsLosses(dir + "/metrics.csv", &losses, &times);
  if (s.ok()) {
    row.agreement = Compare(row.result.summary.initial_loss, losses, row.result.summary.diverged_at, p);
    row.time = CompareTime(times, losses, row.config->target_loss, cost.seconds, p);
    row.compared = true;
    s = WriteAgreementToml(dir, args.options, p, row.agreement, row.time);
  }
  if (!s.ok()) EDGEFL_LOG_ERROR("%s: %s", row.config->name.c_str(), s.message());
}

// --hostile and --attack (a testing aid): how many nodes are hostile in
// every variant (0: none). Returns 0, or 2 after saying what was wrong.
int ResolveHostile(const RunArgs& args, const std::vector<const ExperimentConfig*>& chosen, uint32_t* hostile) {
  *hostile = 0;
  if (args.attack.empty()) {
    if (args.hostile == 0) return 0;
    EDGEFL_LOG_ERROR("--hostile %u needs --attack KIND (sign-flip, scale:F, constant:V, alie:Z, max-norm[:R])",
                     args.hostile);
    return 2;
  }
  NodeAttack attack;
  const Status parsed = ParseAttack(args.attack, &attack);
  if (!parsed.ok()) {
    EDGEFL_LOG_ERROR("%s", parsed.message());
    return 2;
  }
  *hostile = args.hostile == 0 ? 1 : args.hostile;
  for (const ExperimentConfig* config : chosen) {
    NodeAttack resolved = attack;
    const Status bound = ResolveMaxNorm(config->aggregator.max_update_norm, &resolved);
    if (!bound.ok()) {
      EDGEFL_LOG_ERROR("variant %s: %s", config->name.c_str(), bound.message());
      return 2;
    }
    if (*hostile > config->nodes) {
      EDGEFL_LOG_ERROR("--hostile %u: variant %s has only %u nodes", *hostile, config->name.c_str(), config->nodes);
      return 2;
    }
  }
  return 0;
}

// One variant to run: afresh in `dir`, or resumed from its checkpoint there.
struct Planned {
  const ExperimentConfig* config;
  std::string dir;
  bool resume = false;
  bool finished = false;  // resumed, but already ended: only its summary is shown
};

// `hostile`: the last this many nodes of every variant run with --attack.
int RunPlanned(const std::vector<Planned>& plan, const RunArgs& args, const PredictArgs& predict,
               const std::string& out_dir, uint32_t hostile) {
  std::atomic<bool>& stop = StopOnSignal();
  std::vector<Row> rows;
  bool failed = false, diverged = false;
  for (const Planned& variant : plan) {
    if (stop.load()) break;
    const ExperimentConfig* config = variant.config;
    Row row(config);
    if (variant.finished) {
      row.result.dir = variant.dir;
      row.result.summary_read = ReadSummary(variant.dir + "/summary.toml", &row.result.summary).ok();
    } else {
      std::fprintf(stderr, "edgefl: %s %s: %u nodes, %s, %u rounds -> %s\n", variant.resume ? "resuming" : "running",
                   config->name.c_str(), config->nodes, codec::CompressorName(config->compressor.kind),
                   config->rounds, variant.dir.c_str());
      std::string attack = args.attack;
      if (hostile > 0) {
        // A bare max-norm takes this variant's bound (checked in ResolveHostile).
        NodeAttack parsed;
        if (ParseAttack(args.attack, &parsed).ok() &&
            ResolveMaxNorm(config->aggregator.max_update_norm, &parsed).ok()) {
          attack = DescribeAttack(parsed);
        }
        std::fprintf(stderr, "edgefl: testing aid: nodes %u to %u of %s run --attack %s\n", config->nodes - hostile,
                     config->nodes - 1, config->name.c_str(), attack.c_str());
      }
      LaunchOptions options;
      options.bin_dir = args.bin_dir.empty() ? ExecutableDir() : args.bin_dir;
      options.run_dir = variant.dir;
      options.verbose_nodes = args.verbose_nodes;
      options.data_dir = args.data_dir;
      options.resume = variant.resume;
      options.keep_updates = args.keep_updates;
      options.hostile_nodes = hostile;
      options.attack = attack;
      ParseNodeLauncher(args.launcher, &options.launcher);  // the command line checked the name
      options.hostfile = args.hostfile;
      options.launcher_args = args.launcher_args;
      options.bind = args.bind;
      options.insecure = args.insecure;
      options.logical = args.logical;
      options.relays = args.relays;
      options.in_process = args.in_process;
      row.status = RunVariant(*config, options, stop, &row.result);
    }
    failed = failed || !row.status.ok() || !row.result.problems.empty() || !row.result.summary_read ||
             !row.result.summary.ok;
    diverged = diverged || (row.result.summary_read && row.result.summary.diverged_at >= 0);
    if (args.predict && row.result.summary_read && !stop.load()) PredictBeside(row, predict, args.data_dir);
    rows.push_back(std::move(row));
  }
  PrintTable(rows);
  if (args.predict) PrintAgreement(rows);
  std::printf("run folder: %s\n", out_dir.c_str());
  if (stop.load()) return 130;
  if (failed) return 1;
  return diverged ? kDivergedExitCode : 0;
}

// `edgefl run --resume DIR`: DIR is one variant's folder, or a folder of
// `edgefl run` whose subfolders holding a config.toml are its variants (in
// name order). Each is carried on from its checkpoint; one that has ended
// is only shown.
int ResumeExperiments(const RunArgs& args, const PredictArgs& predict) {
  namespace fs = std::filesystem;
  const std::string& out_dir = args.resume_dir;
  std::vector<std::string> dirs;
  std::error_code ec;
  if (fs::exists(fs::path(out_dir) / kConfigFile, ec)) {
    dirs.push_back(out_dir);
  } else {
    for (const auto& entry : fs::directory_iterator(out_dir, ec)) {
      if (entry.is_directory() && fs::exists(entry.path() / kConfigFile)) dirs.push_back(entry.path().string());
    }
    std::sort(dirs.begin(), dirs.end());
  }
  if (dirs.empty()) {
    EDGEFL_LOG_ERROR("--resume %s: no run folder there (a folder with a config.toml, or subfolders with one)",
                     out_dir.c_str());
    return 2;
  }
  std::vector<ExperimentConfig> configs(dirs.size());
  std::vector<Planned> plan;
  for (size_t i = 0; i < dirs.size(); ++i) {
    std::vector<ExperimentConfig> loaded;
    Status s = LoadExperimentFile(dirs[i] + "/" + kConfigFile, {}, &loaded);
    if (s.ok() && loaded.size() != 1) {
      s = Status::Error(StatusCode::kInvalidArgument, "%s/%s holds %zu variants", dirs[i].c_str(), kConfigFile,
                        loaded.size());
    }
    bool finished = false;
    if (s.ok()) s = RunFinished(dirs[i], &finished);
    if (s.ok() && finished) {
      // An ended run whose model.bin or summary.toml is missing: written
      // again from its finished checkpoint, then shown like any ended run.
      ResumePoint point;
      if (ReadResumePoint(dirs[i], &point).ok() && point.complete_only) {
        RunSummary summary;
        s = CompleteEndedRun(dirs[i], point, &summary);
        if (s.ok()) {
          std::fprintf(stderr, "edgefl: %s had ended; wrote its missing %s and %s from %s\n", dirs[i].c_str(),
                       kModelFile, kSummaryFile, kCheckpointFile);
        }
      }
    }
    if (!s.ok()) {
      EDGEFL_LOG_ERROR("--resume: %s", s.message());
      return 2;
    }
    configs[i] = loaded[0];
    plan.push_back({&configs[i], dirs[i], /*resume=*/true, finished});
  }
  if (!args.attack.empty()) {
    EDGEFL_LOG_ERROR("--resume carries runs on as they were: --hostile and --attack do not apply");
    return 2;
  }
  return RunPlanned(plan, args, predict, out_dir, /*hostile=*/0);
}

}  // namespace

int RunExperiments(const ExperimentArgs& experiment, const RunArgs& args, const PredictArgs& predict) {
  if (!args.resume_dir.empty()) return ResumeExperiments(args, predict);
  std::vector<ExperimentConfig> configs;
  std::vector<const ExperimentConfig*> chosen;
  if (const int bad = experiment.Load(&configs, &chosen)) return bad;
  uint32_t hostile = 0;
  if (const int bad = ResolveHostile(args, chosen, &hostile)) return bad;
  std::string out_dir = args.out_dir;
  if (out_dir.empty()) {
    const std::string stem = experiment.config_path.empty()
                                 ? "quickstart"
                                 : std::filesystem::path(experiment.config_path).stem().string();
    const Status made = MakeFreshFolder("runs/" + stem + "-" + LocalTime("%Y%m%d-%H%M%S"), &out_dir);
    if (!made.ok()) {
      EDGEFL_LOG_ERROR("%s", made.message());
      return 2;
    }
  }
  // Before anything runs: each variant's folder holds no run (or is cleared
  // with --overwrite) and gets its config.toml, so that `--resume` can also
  // start the variants an interrupted sweep never reached.
  std::vector<Planned> plan;
  for (const auto* config : chosen) {
    const std::string dir = out_dir + "/" + config->name;
    const std::string existing = ExistingRunFile(dir);
    Status s = existing.empty() || args.overwrite ? ClearRun(dir) : RefuseExistingRun(dir, existing);
    if (s.ok()) s = WriteRunConfig(dir, *config);
    if (!s.ok()) {
      EDGEFL_LOG_ERROR("%s", s.message());
      return 2;
    }
    plan.push_back({config, dir});
  }
  return RunPlanned(plan, args, predict, out_dir, hostile);
}

}  // namespace edgefl

// edgefl: the experiment tool.
//   edgefl run [CONFIG]   launch a coordinator and its nodes as processes on
//                         this machine, for every variant of the config, and
//                         print a summary table. Without CONFIG: the built-in
//                         quickstart (examples/quickstart.toml).
//   edgefl predict [CONFIG]  forecast each variant's loss from the SDE models
//                         (sim/sde_predictor.h), before running anything.
//   edgefl config-keys    print every config key as docs/config.md lists it.
// Exit codes: 0 every variant ran, 1 a variant failed, 2 bad command line or
// config, 3 a variant diverged (and none failed), 130 interrupted.
#include <atomic>
#include <cmath>
#include <csignal>
#include <ctime>
#include <filesystem>

#include "coordinator/config_keys.h"
#include "coordinator/run_outcome.h"
#include "core/command_line.h"
#include "core/log.h"
#include "sim/closed_forms.h"
#include "sim/launcher.h"
#include "sim/round_cost.h"
#include "sim/sde_predictor.h"
#include "sim/quickstart_config.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

void InstallSignalHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnSignal;  // no SA_RESTART: waits return on Ctrl-C
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

std::string Timestamp() {
  char text[32];
  const std::time_t now = std::time(nullptr);
  std::tm local = {};
  localtime_r(&now, &local);
  std::strftime(text, sizeof(text), "%Y%m%d-%H%M%S", &local);
  return text;
}

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
  const edgefl::ExperimentConfig* config;
  edgefl::VariantResult result;
  edgefl::Status status;
};

void PrintTable(const std::vector<Row>& rows) {
  std::printf("\n%-16s %-12s %7s %10s %10s %10s %10s %8s %12s %12s %9s %7s  %s\n", "variant", "compressor",
              "rounds", "loss0", "final", "tail mean", "theory", "test acc", "up/node/rnd", "down/round", "bits/coord",
              "wall s", "status");
  for (const Row& row : rows) {
    const auto& s = row.result.summary;
    const auto theory = edgefl::PredictedStationaryLoss(*row.config);
    char theory_text[16] = "-";
    if (theory) std::snprintf(theory_text, sizeof(theory_text), "%.4g", *theory);
    std::string status = row.status.ok() ? s.stop_reason : row.status.message();
    if (!s.ok && row.status.ok()) status = "failed: " + s.stop_reason;
    for (const std::string& p : row.result.problems) status += "; " + p;
    if (!row.result.summary_read) {
      std::printf("%-16s %-12s %7s %10s %10s %10s %10s %8s %12s %12s %9s %7s  %s\n", row.config->name.c_str(),
                  edgefl::codec::CompressorName(row.config->compressor.kind), "-", "-", "-", "-", theory_text, "-", "-",
                  "-", "-", "-", status.c_str());
      continue;
    }
    const double up = s.measured_bits_per_coordinate * row.config->objective.dimension / 8.0;
    const double down = s.rounds ? static_cast<double>(s.bytes_down) / s.rounds : 0.0;
    char accuracy_text[16] = "-";
    if (std::isfinite(s.final_test_accuracy)) std::snprintf(accuracy_text, sizeof(accuracy_text), "%.3f", s.final_test_accuracy);
    std::printf("%-16s %-12s %7u %10.4g %10.4g %10.4g %10s %8s %12s %12s %9.3f %7.2f  %s\n", row.config->name.c_str(),
                edgefl::codec::CompressorName(row.config->compressor.kind), s.rounds, s.initial_loss, s.final_loss,
                s.tail_mean_loss, theory_text, accuracy_text, HumanBytes(up).c_str(), HumanBytes(down).c_str(),
                s.measured_bits_per_coordinate, s.wall_time_s, status.c_str());
  }
  std::printf("\nup/node/rnd: bytes of one node's update message; down/round: round-start bytes to all nodes;\n"
              "bits/coord: update message bits per model coordinate, measured (payload and header);\n"
              "tail mean: mean loss over the last half of the rounds; theory: stationary loss (docs/theory.md 3.5)\n"
              "where a closed form applies; test acc: held-out accuracy of data objectives. Run folders hold\n"
              "config.toml, metrics.csv, nodes.csv and summary.toml (docs/outputs.md).\n");
}

// Loads the config (the built-in quickstart without a path) with the
// overrides, and picks the variants --variant names (all without one).
// Returns 0, or 2 after saying what was wrong.
int LoadChosen(const std::string& config_path, const std::vector<std::string>& sets,
               const std::vector<std::string>& only, std::vector<edgefl::ExperimentConfig>* configs,
               std::vector<const edgefl::ExperimentConfig*>* chosen) {
  const edgefl::Status loaded =
      config_path.empty()
          ? edgefl::LoadExperiments(edgefl::kQuickstartConfig, "quickstart (built in)", sets, configs)
          : edgefl::LoadExperimentFile(config_path, sets, configs);
  if (!loaded.ok()) {
    EDGEFL_LOG_ERROR("%s", loaded.message());
    return 2;
  }
  for (const auto& c : *configs) {
    bool wanted = only.empty();
    for (const std::string& name : only) wanted = wanted || name == c.name;
    if (wanted) chosen->push_back(&c);
  }
  if (chosen->empty()) {
    EDGEFL_LOG_ERROR("no variant of the config is named as --variant asks");
    return 2;
  }
  return 0;
}

int Run(const std::string& config_path, const std::vector<std::string>& sets, const std::vector<std::string>& only,
        std::string out_dir, const std::string& bin_dir, const std::string& data_dir, bool verbose_nodes) {
  std::vector<edgefl::ExperimentConfig> configs;
  std::vector<const edgefl::ExperimentConfig*> chosen;
  if (const int bad = LoadChosen(config_path, sets, only, &configs, &chosen)) return bad;
  if (out_dir.empty()) {
    const std::string stem = config_path.empty() ? "quickstart" : std::filesystem::path(config_path).stem().string();
    out_dir = "runs/" + stem + "-" + Timestamp();
  }

  InstallSignalHandlers();
  std::vector<Row> rows;
  bool failed = false, diverged = false;
  for (const auto* config : chosen) {
    if (g_stop.load()) break;
    std::fprintf(stderr, "edgefl: running %s: %u nodes, %s, %u rounds -> %s/%s\n", config->name.c_str(), config->nodes,
                 edgefl::codec::CompressorName(config->compressor.kind), config->rounds, out_dir.c_str(),
                 config->name.c_str());
    edgefl::LaunchOptions options;
    options.bin_dir = bin_dir.empty() ? edgefl::ExecutableDir() : bin_dir;
    options.run_dir = out_dir + "/" + config->name;
    options.verbose_nodes = verbose_nodes;
    options.data_dir = data_dir;
    Row row{config, {}, {}};
    row.status = edgefl::RunVariant(*config, options, g_stop, &row.result);
    failed = failed || !row.status.ok() || !row.result.problems.empty() || !row.result.summary_read ||
             !row.result.summary.ok;
    diverged = diverged || (row.result.summary_read && row.result.summary.diverged_at >= 0);
    rows.push_back(std::move(row));
  }
  PrintTable(rows);
  std::printf("run folder: %s\n", out_dir.c_str());
  if (g_stop.load()) return 130;
  if (failed) return 1;
  return diverged ? edgefl::kDivergedExitCode : 0;
}

std::string Verdict(const edgefl::ExperimentConfig& config, const edgefl::Prediction& p, uint32_t paths) {
  char text[160];
  if (p.diverged_at >= 0) {
    std::snprintf(text, sizeof(text), "diverges: most paths passed the divergence test by round %lld (%u of %u "
                  "by the end)", static_cast<long long>(p.diverged_at), p.diverged_paths, paths);
    return text;
  }
  const size_t n = p.mean_loss.size();
  double tail = 0.0;
  for (size_t k = n / 2; k < n; ++k) tail += p.mean_loss[k];
  tail /= static_cast<double>(n - n / 2);
  const double first = p.mean_loss.front();
  if (tail < 0.5 * first) {
    std::snprintf(text, sizeof(text), "converges: expected loss %.4g over the last half of the %u rounds", tail,
                  config.rounds);
  } else {
    std::snprintf(text, sizeof(text), "stalls: expected loss %.4g over the last half, from %.4g after round 0",
                  tail, first);
  }
  return text;
}

int Predict(const std::string& config_path, const std::vector<std::string>& sets, const std::vector<std::string>& only,
            const edgefl::PredictOptions& options, uint32_t every) {
  std::vector<edgefl::ExperimentConfig> configs;
  std::vector<const edgefl::ExperimentConfig*> chosen;
  if (const int bad = LoadChosen(config_path, sets, only, &configs, &chosen)) return bad;
  bool failed = false;
  for (const edgefl::ExperimentConfig* chosen_config : chosen) {
    const edgefl::ExperimentConfig& config = *chosen_config;
    edgefl::Prediction p;
    const edgefl::Status s = edgefl::PredictLoss(config, options, &p);
    if (!s.ok()) {
      EDGEFL_LOG_ERROR("%s: %s", config.name.c_str(), s.message());
      failed = true;
      continue;
    }
    const edgefl::RoundCost cost = edgefl::RoundCostOf(config);
    std::printf("\n%s: %s, %u paths\n", config.name.c_str(), p.model, options.paths);
    std::printf("a round: %.0f B up and %.0f B down a node", cost.up_bytes, cost.down_bytes);
    if (std::isfinite(cost.seconds)) {
      std::printf(", %.4g s at %.4g b/s up, %.4g b/s down ([link])\n", cost.seconds, cost.uplink_bps,
                  cost.downlink_bps);
    } else {
      std::printf(" (set [link] for a time forecast)\n");
    }
    std::printf("%8s %12s %12s %12s %12s %12s\n", "round", "E loss", "10%", "90%", "time s", "MB up");
    const uint32_t step = every != 0 ? every : std::max(1u, config.rounds / 10);
    for (uint32_t k = 0; k < config.rounds; ++k) {
      if ((k + 1) % step != 0 && k + 1 != config.rounds && k != 0) continue;
      char seconds[16] = "-";  // no [link] bandwidth: no time
      if (std::isfinite(cost.seconds)) std::snprintf(seconds, sizeof(seconds), "%.5g", cost.seconds * (k + 1));
      std::printf("%8u %12.5g %12.5g %12.5g %12s %12.5g\n", k, p.mean_loss[k], p.low_loss[k], p.high_loss[k], seconds,
                  cost.up_bytes * config.nodes * (k + 1) / 1e6);
    }
    if (config.target_loss > 0.0) {
      const auto reached = std::find_if(p.mean_loss.begin(), p.mean_loss.end(),
                                        [&](double loss) { return loss <= config.target_loss; });
      if (reached == p.mean_loss.end()) {
        std::printf("target loss %.4g: not reached in %u rounds\n", config.target_loss, config.rounds);
      } else {
        const auto k = static_cast<double>(reached - p.mean_loss.begin() + 1);
        std::printf("target loss %.4g: after %.0f rounds, %.4g s, %.4g MB up\n", config.target_loss, k,
                    cost.seconds * k, cost.up_bytes * config.nodes * k / 1e6);
      }
    }
    const auto theory = edgefl::PredictedStationaryLoss(config);
    if (theory) std::printf("closed-form stationary loss (docs/theory.md 3.5): %.5g\n", *theory);
    std::printf("verdict: %s\n", Verdict(config, p, options.paths).c_str());
  }
  return failed ? 1 : 0;
}

// What `run` and `predict` both take: the config, its overrides and variants.
struct ExperimentArgs {
  std::string config_path;
  std::vector<std::string> sets, only;
  uint32_t nodes = 0, rounds = 0;
  int64_t seed = -1;

  void AddTo(CLI::App* command) {
    command->add_option("config", config_path, "Experiment config (TOML); default: the built-in quickstart")
        ->check(CLI::ExistingFile);
    command->add_option("--set", sets, "Override a config field: section.key=value (repeatable)");
    command->add_option("--variant", only, "Only these variants (repeatable)");
    command->add_option("--nodes", nodes, "Same as --set run.nodes=N")->check(CLI::Range(1u, 4096u));
    command->add_option("--rounds", rounds, "Same as --set run.rounds=R")->check(CLI::Range(1u, 100000000u));
    command->add_option("--seed", seed, "Same as --set run.seed=S")->check(CLI::NonNegativeNumber);
  }
  // The shorthands, after every --set.
  void AddShorthands() {
    if (nodes) sets.push_back("run.nodes=" + std::to_string(nodes));
    if (rounds) sets.push_back("run.rounds=" + std::to_string(rounds));
    if (seed >= 0) sets.push_back("run.seed=" + std::to_string(seed));
  }
};

}  // namespace

int main(int argc, char** argv) {
  edgefl::LogTag() = "edgefl";
  CLI::App app{"edgefl: federated learning with compressed and sign gradients for small boards and thin links."};
  app.require_subcommand(1);

  ExperimentArgs args;
  std::string out_dir, bin_dir, data_dir;
  bool verbose_nodes = false;
  CLI::App* run = app.add_subcommand(
      "run", "Run an experiment as real processes on this machine: a coordinator and N nodes over loopback TCP,\n"
             "once for every [[variant]] of the config; prints a summary table.");
  args.AddTo(run);
  run->add_option("--out", out_dir, "Run folder (default: runs/<name>-<time>)");
  run->add_option("--bin-dir", bin_dir, "Where edgefl-coordinator and edgefl-node are (default: beside edgefl)");
  run->add_option("--data-dir", data_dir, "Folder holding data sets, for the coordinator and every node");
  run->add_flag("--verbose-nodes", verbose_nodes, "Let nodes log everything");
  edgefl::PredictOptions predict_options;
  std::string drift_name = "corrected";
  uint32_t every = 0;
  CLI::App* predict = app.add_subcommand(
      "predict", "Forecast each variant's loss from the SDE models (docs/theory.md 3), without running anything:\n"
                 "expected loss per round with a 10-90% band over simulated paths, and a verdict.");
  args.AddTo(predict);
  predict->add_option("--paths", predict_options.paths, "Simulated paths (default 256)")->check(CLI::Range(1u, 1000000u));
  predict->add_option("--substeps", predict_options.substeps, "Euler-Maruyama steps a round (default 4)")
      ->check(CLI::Range(1u, 1000u));
  predict->add_option("--threads", predict_options.threads, "Threads (default: every core; the result is the same)");
  predict->add_option("--drift", drift_name, "first-order, corrected (default; docs/theory.md 3.4) or second-order");
  predict->add_option("--every", every, "Print every this many rounds (default: a tenth of the rounds)");

  std::string keys_section;
  CLI::App* config_keys = app.add_subcommand(
      "config-keys", "Print the config keys (type, default, allowed values, meaning) as Markdown tables.");
  config_keys->add_option("section", keys_section, "Only this section: run, objective, noise, ...");
  if (const auto exit_code = edgefl::ParseCommandLine(app, argc, argv)) return *exit_code;

  if (predict->parsed()) {
    if (!edgefl::ParseSdeDrift(drift_name.c_str(), &predict_options.drift)) {
      EDGEFL_LOG_ERROR("--drift %s: must be one of first-order, corrected, second-order", drift_name.c_str());
      return 2;
    }
    args.AddShorthands();
    return Predict(args.config_path, args.sets, args.only, predict_options, every);
  }
  if (config_keys->parsed()) {
    bool found = false;
    for (const char* section : edgefl::ConfigSections()) {
      if (!keys_section.empty() && keys_section != section) continue;
      found = true;
      std::printf("### `[%s]`\n\n%s\n", section, edgefl::ConfigKeysMarkdown(section).c_str());
    }
    if (!found) {
      std::string sections;
      for (const char* section : edgefl::ConfigSections()) sections += (sections.empty() ? "" : ", ") + std::string(section);
      EDGEFL_LOG_ERROR("config-keys: no section '%s' (sections: %s)", keys_section.c_str(), sections.c_str());
    }
    return found ? 0 : 2;
  }
  args.AddShorthands();
  return Run(args.config_path, args.sets, args.only, out_dir, bin_dir, data_dir, verbose_nodes);
}

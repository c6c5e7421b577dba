// edgefl: the experiment tool.
//   edgefl run [CONFIG]   launch a coordinator and its nodes as processes on
//                         this machine, for every variant of the config, and
//                         print a summary table. Without CONFIG: the built-in
//                         quickstart (examples/quickstart.toml).
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

int Run(const std::string& config_path, const std::vector<std::string>& sets, const std::vector<std::string>& only,
        std::string out_dir, const std::string& bin_dir, const std::string& data_dir, bool verbose_nodes) {
  std::vector<edgefl::ExperimentConfig> configs;
  const edgefl::Status loaded =
      config_path.empty()
          ? edgefl::LoadExperiments(edgefl::kQuickstartConfig, "quickstart (built in)", sets, &configs)
          : edgefl::LoadExperimentFile(config_path, sets, &configs);
  if (!loaded.ok()) {
    EDGEFL_LOG_ERROR("%s", loaded.message());
    return 2;
  }
  std::vector<const edgefl::ExperimentConfig*> chosen;
  for (const auto& c : configs) {
    bool wanted = only.empty();
    for (const std::string& name : only) wanted = wanted || name == c.name;
    if (wanted) chosen.push_back(&c);
  }
  if (chosen.empty()) {
    EDGEFL_LOG_ERROR("no variant of the config is named as --variant asks");
    return 2;
  }
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

}  // namespace

int main(int argc, char** argv) {
  edgefl::LogTag() = "edgefl";
  CLI::App app{"edgefl: federated learning with compressed and sign gradients for small boards and thin links."};
  app.require_subcommand(1);

  std::string config_path, out_dir, bin_dir, data_dir;
  std::vector<std::string> sets, only;
  uint32_t nodes = 0, rounds = 0;
  int64_t seed = -1;
  bool verbose_nodes = false;
  CLI::App* run = app.add_subcommand(
      "run", "Run an experiment as real processes on this machine: a coordinator and N nodes over loopback TCP,\n"
             "once for every [[variant]] of the config; prints a summary table.");
  run->add_option("config", config_path, "Experiment config (TOML); default: the built-in quickstart")
      ->check(CLI::ExistingFile);
  run->add_option("--set", sets, "Override a config field: section.key=value (repeatable)");
  run->add_option("--variant", only, "Run only these variants (repeatable)");
  run->add_option("--nodes", nodes, "Same as --set run.nodes=N")->check(CLI::Range(1u, 4096u));
  run->add_option("--rounds", rounds, "Same as --set run.rounds=R")->check(CLI::Range(1u, 100000000u));
  run->add_option("--seed", seed, "Same as --set run.seed=S")->check(CLI::NonNegativeNumber);
  run->add_option("--out", out_dir, "Run folder (default: runs/<name>-<time>)");
  run->add_option("--bin-dir", bin_dir, "Where edgefl-coordinator and edgefl-node are (default: beside edgefl)");
  run->add_option("--data-dir", data_dir, "Folder holding data sets, for the coordinator and every node");
  run->add_flag("--verbose-nodes", verbose_nodes, "Let nodes log everything");
  std::string keys_section;
  CLI::App* config_keys = app.add_subcommand(
      "config-keys", "Print the config keys (type, default, allowed values, meaning) as Markdown tables.");
  config_keys->add_option("section", keys_section, "Only this section: run, objective, noise, ...");
  if (const auto exit_code = edgefl::ParseCommandLine(app, argc, argv)) return *exit_code;

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
  if (nodes) sets.push_back("run.nodes=" + std::to_string(nodes));
  if (rounds) sets.push_back("run.rounds=" + std::to_string(rounds));
  if (seed >= 0) sets.push_back("run.seed=" + std::to_string(seed));
  return Run(config_path, sets, only, out_dir, bin_dir, data_dir, verbose_nodes);
}

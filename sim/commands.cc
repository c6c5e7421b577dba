#include "sim/commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "core/log.h"
#include "sim/quickstart_config.h"

namespace edgefl {

void ExperimentArgs::AddTo(CLI::App* command) {
  command->add_option("config", config_path, "Experiment config (TOML); default: the built-in quickstart")
      ->check(CLI::ExistingFile);
  command->add_option("--set", sets, "Override a config field: section.key=value (repeatable)");
  command->add_option("--variant", only, "Only these variants (repeatable)");
  command->add_option("--nodes", nodes, "Same as --set run.nodes=N")->check(CLI::Range(1u, 4096u));
  command->add_option("--rounds", rounds, "Same as --set run.rounds=R")->check(CLI::Range(1u, 100000000u));
  command->add_option("--seed", seed, "Same as --set run.seed=S")->check(CLI::NonNegativeNumber);
}

std::vector<std::string> ExperimentArgs::AllSets() const {
  std::vector<std::string> all_sets = sets;
  if (nodes) all_sets.push_back("run.nodes=" + std::to_string(nodes));
  if (rounds) all_sets.push_back("run.rounds=" + std::to_string(rounds));
  if (seed >= 0) all_sets.push_back("run.seed=" + std::to_string(seed));
  if (!shaping.empty()) all_sets.push_back("link.shaping=" + shaping);
  return all_sets;
}

Status ExperimentArgs::LoadOne(const std::vector<std::string>& extra, ExperimentConfig* config) const {
  std::vector<std::string> all_sets = AllSets();
  all_sets.insert(all_sets.end(), extra.begin(), extra.end());
  std::vector<ExperimentConfig> configs;
  EDGEFL_RETURN_IF_ERROR(config_path.empty()
                             ? LoadExperiments(kQuickstartConfig, "quickstart (built in)", all_sets, &configs)
                             : LoadExperimentFile(config_path, all_sets, &configs));
  std::vector<const ExperimentConfig*> chosen;
  std::string names;
  for (const auto& c : configs) {
    names += (names.empty() ? "" : ", ") + c.name;
    bool wanted = only.empty();
    for (const std::string& name : only) wanted = wanted || name == c.name;
    if (wanted) chosen.push_back(&c);
  }
  const char* origin = config_path.empty() ? "the quickstart" : config_path.c_str();
  if (chosen.empty()) {
    return Status::Error(StatusCode::kInvalidArgument, "no variant of %s is named as --variant asks (it has: %s)",
                         origin, names.c_str());
  }
  if (chosen.size() > 1) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s has %zu variants (%s): a sweep runs one config; pick one with --variant NAME, or make "
                         "what they change a --grid key",
                         origin, chosen.size(), names.c_str());
  }
  *config = *chosen[0];
  return Status::Ok();
}

int ExperimentArgs::Load(std::vector<ExperimentConfig>* configs, std::vector<const ExperimentConfig*>* chosen) const {
  const std::vector<std::string> all_sets = AllSets();
  const Status loaded = config_path.empty()
                            ? LoadExperiments(kQuickstartConfig, "quickstart (built in)", all_sets, configs)
                            : LoadExperimentFile(config_path, all_sets, configs);
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

void PredictArgs::AddTo(CLI::App* command) {
  command->add_option("--paths", options.paths, "Simulated paths (default 256)")->check(CLI::Range(1u, 1000000u));
  command->add_option("--substeps", options.substeps,
                      "Euler-Maruyama steps a round (default: enough for about 1% discretisation error)")
      ->check(CLI::Range(1u, 1000u));
  command->add_option("--threads", options.threads, "Threads (default: every core; the result is the same)");
  command->add_option("--drift", drift_name, "first-order, corrected (default; docs/theory.md 3.4) or second-order");
  command->add_option("--model", model_name,
                      "auto (default: the SDE, or the iteration itself where the SDE fails; docs/theory.md 3.7), "
                      "sde or discrete");
  command->add_option("--every", every, "Print every this many rounds (default: a tenth of the rounds)");
}

void PredictArgs::AddCompareTo(CLI::App* command) {
  command->add_flag("--compare", compare,
                    "Rank the variants by predicted time to run.target_loss ([link] time; rounds without a link)\n"
                    "and recommend one, with the reason");
  command->add_option("--etas", etas, "With --compare: try each variant at these step sizes (step.eta)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  command->add_option("--node-counts", node_counts, "With --compare: try each variant with these N (run.nodes)")
      ->delimiter(',')
      ->check(CLI::Range(1u, 4096u));
}

int PredictArgs::Resolve() {
  if (!ParseSdeDrift(drift_name.c_str(), &options.drift)) {
    EDGEFL_LOG_ERROR("--drift %s: must be one of first-order, corrected, second-order", drift_name.c_str());
    return 2;
  }
  if (!ParsePathModel(model_name.c_str(), &options.model)) {
    EDGEFL_LOG_ERROR("--model %s: must be one of auto, sde, discrete", model_name.c_str());
    return 2;
  }
  return 0;
}

bool ForecastVariant(const ExperimentConfig& config, const PredictArgs& args, Prediction* prediction) {
  PredictOptions options = args.options;
  // A bar on a terminal, once a forecast has taken more than a second.
  const auto start = std::chrono::steady_clock::now();
  bool drawn = false;
  if (isatty(STDERR_FILENO)) {
    options.progress = [&](uint32_t done, uint32_t total) {
      if (std::chrono::steady_clock::now() - start < std::chrono::seconds(1)) return;
      constexpr int kWidth = 40;
      const int filled = static_cast<int>(kWidth * static_cast<uint64_t>(done) / total);
      std::fprintf(stderr, "\r%s: [%.*s%*s] %u/%u paths", config.name.c_str(), filled,
                   "########################################", kWidth - filled, "", done, total);
      drawn = true;
    };
  }
  const Status s = PredictLoss(config, options, prediction);
  if (drawn) std::fprintf(stderr, "\n");
  if (!s.ok()) {
    EDGEFL_LOG_ERROR("%s: %s", config.name.c_str(), s.message());
    return false;
  }
  return true;
}

}  // namespace edgefl

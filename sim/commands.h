// The `edgefl` subcommands that take an experiment config: run and predict.
// Each returns main()'s exit code: 0 done, 1 a variant failed, 2 bad command
// line or config, 3 a variant diverged (run), 130 interrupted (run).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/command_line.h"
#include "experiment/experiment_config.h"
#include "sim/sde_predictor.h"

namespace edgefl {

// What run and predict both take: the config, its overrides and variants.
struct ExperimentArgs {
  std::string config_path;  // empty: the built-in quickstart
  std::vector<std::string> sets, only;
  uint32_t nodes = 0, rounds = 0;
  int64_t seed = -1;
  std::string shaping;  // run's --shaping: link.shaping (empty: the config's)

  void AddTo(CLI::App* command);
  // Loads the config with every override (the shorthands after every --set)
  // and picks the variants --variant names (all without one). Returns 0, or
  // 2 after saying what was wrong.
  int Load(std::vector<ExperimentConfig>* configs, std::vector<const ExperimentConfig*>* chosen) const;
  // The overrides Load applies: every --set, then the shorthands.
  std::vector<std::string> AllSets() const;
  // The one config of the file, or the one --variant picks, with `extra`
  // overrides after AllSets(); a config with several variants and no
  // --variant naming one is an error (edgefl sweep runs one config).
  Status LoadOne(const std::vector<std::string>& extra, ExperimentConfig* config) const;
};

// The forecast's options, for predict and for run --predict.
struct PredictArgs {
  PredictOptions options;
  std::string drift_name = "corrected";
  std::string model_name = "auto";
  uint32_t every = 0;  // print every this many rounds (0: a tenth)
  // --compare: rank the variants, each at every step size and node count
  // listed (its own when none is), by time to run.target_loss.
  bool compare = false;
  std::vector<double> etas;
  std::vector<uint32_t> node_counts;

  void AddTo(CLI::App* command);
  void AddCompareTo(CLI::App* command);  // predict's --compare, --etas, --node-counts
  // Parses the names into `options`; returns 0, or 2 after saying what was wrong.
  int Resolve();
};

struct RunArgs {
  std::string out_dir, bin_dir, data_dir;
  bool verbose_nodes = false;
  bool predict = false;    // forecast each variant too, and compare
  bool overwrite = false;  // start afresh in variant folders that already hold a run
  bool keep_updates = false;  // every variant's coordinator keeps updates.bin (edgefl verify --replay)
  std::string resume_dir;  // carry on the runs in this folder instead (the config is theirs)
  // A testing aid: the last `hostile` nodes of every variant run
  // edgefl-node --attack `attack` (node/attack.h).
  uint32_t hostile = 0;
  std::string attack;
  // How the nodes start (sim/launcher.h): "processes", "mpirun" or "srun",
  // with mpirun's hostfile and the launcher's arguments; and where the
  // coordinator binds.
  std::string launcher = "processes";
  std::string hostfile;
  std::vector<std::string> launcher_args;
  std::string bind;
  bool insecure = false;  // the coordinator listens beyond loopback without keys
  uint32_t logical = 1;   // nodes a process hosts (edgefl-node --logical)
  uint32_t relays = 0;    // relays the nodes are split among (edgefl-coordinator --relays); 0: none
  bool in_process = false;  // the relays compute their nodes themselves (edgefl-coordinator --in-process)
};

int RunExperiments(const ExperimentArgs& experiment, const RunArgs& run, const PredictArgs& predict);

// `edgefl sweep`: the config over a grid of settings, each cell an `edgefl
// run` in its own folder (sim/sweep_folder.h).
struct SweepArgs {
  std::vector<std::string> grid;  // section.key=v1,v2,...
  uint32_t parallel = 0;          // cells at a time (0: from the cores and the cells' node counts)
  std::string out_dir, bin_dir, data_dir;
  bool resume = false;            // --out must hold a sweep; CONFIG and --grid default to its own
};
// 0 every cell done, 1 a cell failed, 2 bad command line, config or folder,
// 3 a cell diverged (and none failed), 130 interrupted.
int SweepExperiments(ExperimentArgs experiment, const SweepArgs& sweep);
int PredictExperiments(const ExperimentArgs& experiment, const PredictArgs& predict, const std::string& out_dir);
// `edgefl keys init`: writes CURVE keys for a coordinator and `nodes` nodes.
int InitKeys(const std::string& dir, uint32_t nodes, bool force);

// `edgefl verify`: 0 verified, 1 a mismatch (named), 2 a bad key file.
// With `replay`, the steps are taken again from updates.bin too.
int VerifyRunFolder(const std::string& dir, const std::string& key_path, bool replay, const std::string& data_dir);

// `changes` are section.key=value overrides applied on top of the config.
int ScaleExperiments(const ExperimentArgs& experiment, const std::vector<std::string>& changes);

// Shared by the two: one variant's forecast, printed, with a progress bar on
// stderr when it is a terminal. Returns false after logging a refusal.
bool ForecastVariant(const ExperimentConfig& config, const PredictArgs& args, Prediction* prediction);

}  // namespace edgefl

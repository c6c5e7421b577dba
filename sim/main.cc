// edgefl: the experiment tool.
//   edgefl run [CONFIG]   launch a coordinator and its nodes as processes on
//                         this machine, for every variant of the config, and
//                         print a summary table. Without CONFIG: the built-in
//                         quickstart (examples/quickstart.toml).
//                         With --predict, each variant's forecast beside it.
//   edgefl run --resume RUN_FOLDER  carry an interrupted run on from its
//                         variants' checkpoints.
//   edgefl sweep [CONFIG] --grid KEY=V1,V2 ...  the config over a grid of
//                         settings: each cell an `edgefl run` in its own
//                         folder, several at a time; results.csv and figures.
//   edgefl predict [CONFIG]  forecast each variant's loss from the SDE models
//                         (sim/sde_predictor.h), before running anything.
//   edgefl scale [CONFIG] --change KEY=VALUE  the scaling-rule calculator:
//                         what eta, N or B must become to keep the floor.
//   edgefl keys init DIR --nodes N  CURVE keys for a coordinator and its nodes.
//   edgefl report RUN_FOLDER  draw a run folder's loss curves (measured and
//                         predicted) with gnuplot into RUN_FOLDER/report/.
//   edgefl verify RUN_FOLDER  check the run's audit.log chain against its
//                         model.bin and checkpoint.bin.
//   edgefl config-keys    print every config key as docs/config.md lists it.
// Exit codes: 0 every variant ran, 1 a variant failed, 2 bad command line or
// config, 3 a variant diverged (and none failed), 130 interrupted (`sweep`
// the same, for its cells). `report`
// exits with 0, or 1 when it could not read the folder or draw it.
#include "experiment/config_keys.h"
#include "core/command_line.h"
#include "core/log.h"
#include "sim/commands.h"
#include "sim/run_report.h"

namespace {

int Report(const std::string& run_folder) {
  std::vector<std::string> written;
  const edgefl::Status status = edgefl::WriteRunReport(run_folder, &written);
  for (const std::string& path : written) std::printf("%s\n", path.c_str());
  if (!status.ok()) {
    EDGEFL_LOG_ERROR("report: %s", status.message());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  edgefl::LogTag() = "edgefl";
  CLI::App app{"edgefl: federated learning with compressed and sign gradients for small boards and thin links."};
  app.require_subcommand(1);

  edgefl::ExperimentArgs args;
  edgefl::RunArgs run_args;
  edgefl::PredictArgs predict_args;
  CLI::App* run = app.add_subcommand(
      "run", "Run an experiment as real processes on this machine: a coordinator and N nodes over loopback TCP\n"
             "(or, with link.shaping = kernel, over a bridge to a network namespace per node), once for every\n"
             "[[variant]] of the config; prints a summary table.");
  args.AddTo(run);
  run->add_option("--out", run_args.out_dir, "Run folder (default: runs/<name>-<time>)");
  run->add_flag("--overwrite", run_args.overwrite,
                "Start afresh in variant folders of --out that already hold a run, deleting it");
  CLI::Option* resume = run->add_option(
      "--resume", run_args.resume_dir,
      "Carry on the runs of this run folder (or of one variant's folder) from their checkpoints, each with\n"
      "its own config.toml; variants that have ended are only shown")
      ->check(CLI::ExistingDirectory);
  run->add_option("--bin-dir", run_args.bin_dir, "Where edgefl-coordinator and edgefl-node are (default: beside edgefl)");
  run->add_option("--data-dir", run_args.data_dir, "Folder holding data sets, for the coordinator and every node")
      ->check(CLI::ExistingDirectory);
  run->add_option("--shaping", args.shaping,
                  "Same as --set link.shaping=MODE: none (loopback as it is), token-bucket (each node paces its\n"
                  "traffic) or kernel (each node in a network namespace behind tbf qdiscs; needs root and iproute2,\n"
                  "else the token bucket, with the reason printed)")
      ->check(CLI::IsMember({"none", "token-bucket", "kernel"}));
  run->add_flag("--verbose-nodes", run_args.verbose_nodes, "Let nodes log everything");
  run->add_flag("--keep-updates", run_args.keep_updates,
                "Keep every aggregated update in each variant's updates.bin (edgefl verify --replay)");
  run->add_option("--attack", run_args.attack,
                  "Testing aid: make the last --hostile nodes (default 1) hostile, to measure robust aggregation:\n"
                  "sign-flip, scale:F, constant:V, alie:Z or max-norm[:R] (R: the variant's\n"
                  "aggregator.max_update_norm when left out) in place of their gradients (edgefl-node --attack)");
  run->add_option("--hostile", run_args.hostile, "Testing aid: how many nodes run --attack (the last ones)")
      ->check(CLI::Range(1u, 4096u));
  run->add_option("--launcher", run_args.launcher,
                  "How the nodes start: processes (one each, started here; the default), mpirun (the ranks of one\n"
                  "Open MPI job, on this machine or on --hostfile's hosts) or srun (the tasks of one Slurm job step,\n"
                  "where Slurm places them); ids from their ranks, the nodes never call MPI_Init and exit 0 on a\n"
                  "handled failure, so one does not end the job. docs/deploy.md section 10")
      ->check(CLI::IsMember({"processes", "mpirun", "srun"}));
  run->add_option("--hostfile", run_args.hostfile, "With --launcher mpirun: its hostfile (default: this machine)")
      ->check(CLI::ExistingFile);
  run->add_option("--launcher-arg", run_args.launcher_args,
                  "With --launcher mpirun or srun: an argument for it before the program (repeatable), e.g.\n"
                  "--launcher-arg=--mca --launcher-arg=oob_tcp_if_include --launcher-arg=10.77.0.0/24, or\n"
                  "--launcher-arg=--partition=edge")
      ->allow_extra_args(false);
  run->add_option("--logical", run_args.logical,
                  "Host K nodes in each node process (edgefl-node --logical): run.nodes / K processes (or ranks),\n"
                  "each with K nodes on threads of their own, the same model as a process each (run.nodes must be\n"
                  "a multiple of K)")
      ->check(CLI::Range(1u, 4096u));
  run->add_option("--relays", run_args.relays,
                  "Split the nodes among R relays (docs/deploy.md 11): a root coordinator, R relay coordinators\n"
                  "(edgefl-coordinator --parent) each serving run.nodes / R nodes and sending the root one exact\n"
                  "partial a round, each relay's tier counted in <run folder>/relay-<g>; the model is a flat run's")
      ->check(CLI::Range(1u, 4096u));
  run->add_flag("--in-process", run_args.in_process,
                "With --relays: each relay computes its nodes itself, with the node's code (edgefl-coordinator\n"
                "--in-process): no node processes or sockets, one partial a relay a round; for populations of\n"
                "1e5 and more on one machine (docs/performance.md)");
  run->add_option("--bind", run_args.bind,
                  "The coordinator's endpoint, which the nodes connect to, e.g. tcp://10.77.0.1:5555 for nodes on\n"
                  "other hosts (default: a free port on 127.0.0.1)");
  run->add_flag("--insecure", run_args.insecure,
                "With a --bind beyond loopback: let the coordinator listen without CURVE keys (a trusted cluster\n"
                "network only; anyone who reaches the port can join)");
  run->add_flag("--predict", run_args.predict,
                "Forecast each variant too (the predict options below apply) and print how well forecast and run\n"
                "agree; writes predicted.csv and agreement.toml beside each run");
  predict_args.AddTo(run);
  // A resumed run's config is the one in its folder.
  for (const char* name :
       {"config", "--set", "--variant", "--nodes", "--rounds", "--seed", "--shaping", "--out", "--overwrite"}) {
    run->get_option(name)->excludes(resume);
  }
  edgefl::ExperimentArgs sweep_experiment;
  edgefl::SweepArgs sweep_args;
  CLI::App* sweep = app.add_subcommand(
      "sweep", "Run the config over a grid of settings (--grid KEY=V1,V2 ...): every combination a real `edgefl run`\n"
               "in its own folder, several at a time; results.csv and figures. Run again, it skips finished cells.");
  sweep->footer(
      "Each cell (a combination of --grid values) is an `edgefl run` of its one config into SWEEP_FOLDER/<cell>/,\n"
      "its output in run.log there; each binds its coordinator to a free loopback port, so cells side by side\n"
      "never share one. Every cell's config is checked before anything runs. Cells are named from their values\n"
      "(kind-qsgd_eta-0.05) and ordered as nested loops, the first --grid the outermost. A config with several\n"
      "[[variant]] tables is refused: pick one with --variant, or make what they change a --grid key.\n"
      "Writes sweep.toml and base.toml (the grid and the base config: one base per folder), results.csv (one row\n"
      "per cell: grid values, status, stop reason, rounds, final, tail mean and best loss, best test accuracy,\n"
      "wall time, bytes each way, time to run.target_loss when set, model hash) and, with gnuplot,\n"
      "SWEEP_FOLDER/report/ (loss against seconds, uplink MB and rounds, one curve per cell; time to target, or\n"
      "final loss, per cell). Run again (or with --resume), a cell whose run has ended is left as it is and an\n"
      "interrupted one is carried on from its checkpoint (edgefl run --resume). docs/outputs.md, \"Sweeps\".");
  sweep_experiment.AddTo(sweep);
  sweep->add_option("--grid", sweep_args.grid,
                    "A config key and its values: section.key=v1,v2,... (repeatable: the cells are every\n"
                    "combination), e.g. --grid compressor.kind=identity,qsgd --grid step.eta=0.05,0.1");
  sweep->add_option("--parallel", sweep_args.parallel,
                    "Cells run at a time (default: the cores / (run.nodes + 1) of the largest cell, at least 1,\n"
                    "so that cells do not wait for cores and their wall-clock times compare)")
      ->check(CLI::Range(1u, 1024u));
  sweep->add_option("--out", sweep_args.out_dir,
                    "Sweep folder (default: runs/<config name>-sweep); running the same sweep again carries it on");
  sweep->add_flag("--resume", sweep_args.resume,
                  "Carry on the sweep in --out (it must hold one); without CONFIG or --grid, the folder's own\n"
                  "base config and grid (base.toml, sweep.toml)");
  sweep->add_option("--bin-dir", sweep_args.bin_dir,
                    "Where edgefl-coordinator and edgefl-node are (default: beside edgefl)");
  sweep->add_option("--data-dir", sweep_args.data_dir, "Folder holding data sets, for every cell")
      ->check(CLI::ExistingDirectory);
  CLI::App* predict = app.add_subcommand(
      "predict", "Forecast each variant's loss from the SDE models (docs/theory.md 3), without running anything:\n"
                 "expected loss per round with a 10-90% band over simulated paths, and a verdict.");
  args.AddTo(predict);
  predict_args.AddTo(predict);
  predict_args.AddCompareTo(predict);
  predict->add_option("--data-dir", predict_args.options.data_dir,
                      "Folder holding data sets, for data objectives (default: $EDGEFL_DATA_DIR, then "
                      "/usr/local/share/edgefl/data)")
      ->check(CLI::ExistingDirectory);
  std::string predict_out;
  predict->add_option("--out", predict_out, "Also write each variant's predicted.csv into OUT/<variant>/");

  edgefl::ExperimentArgs scale_args;
  std::vector<std::string> changes;
  CLI::App* scale = app.add_subcommand(
      "scale", "The scaling rules (docs/theory.md 5): apply a change (--change compressor.k=20, run.nodes=4, ...)\n"
               "and print what one other setting (eta, N or B) must become to keep the loss the run settles at,\n"
               "with each proposal's exact floor where a closed form applies and whether it is stable.");
  scale_args.AddTo(scale);
  scale->add_option("--change", changes, "The change: section.key=value (repeatable), on top of the config")
      ->required();

  CLI::App* keys = app.add_subcommand("keys", "CURVE keys for authenticated, encrypted links (docs/deploy.md).");
  keys->require_subcommand(1);
  std::string keys_dir;
  uint32_t keys_nodes = 0;
  bool keys_force = false;
  CLI::App* keys_init = keys->add_subcommand(
      "init", "Write a coordinator key pair, one key pair per node and the allow-list binding each node's\n"
              "public key to its id, into DIR (secret files with mode 600).");
  keys_init->add_option("dir", keys_dir, "Folder for the keys")->required();
  keys_init->add_option("--nodes", keys_nodes, "Number of nodes (ids 0 .. N-1)")->required()->check(CLI::Range(1u, 4096u));
  keys_init->add_flag("--force", keys_force, "Replace keys already in DIR");

  std::string report_folder;
  CLI::App* report = app.add_subcommand(
      "report", "Draw a run folder's loss curves with gnuplot: against rounds, seconds and cumulative uplink MB,\n"
                "each variant's measured loss (metrics.csv) and, where there is a predicted.csv, the predicted mean\n"
                "with its 10-90% band. Writes PNG and SVG figures, the data and the script plot.gp into\n"
                "RUN_FOLDER/report/, and prints their paths.");
  report->add_option("run_folder", report_folder, "A folder `edgefl run` wrote, or one variant's folder in it")
      ->required()
      ->check(CLI::ExistingDirectory);

  std::string verify_folder, verify_key, verify_data_dir;
  bool verify_replay = false;
  CLI::App* verify = app.add_subcommand(
      "verify", "Check a run folder's audit.log: every link of its hash chain (with --key, every MAC of a keyed\n"
                "chain), and that model.bin and checkpoint.bin hold the models it recorded; with --replay, that\n"
                "every step follows from the updates the run kept (docs/outputs.md).");
  verify->add_option("run_folder", verify_folder, "One run's folder (it holds audit.log)")
      ->required()
      ->check(CLI::ExistingDirectory);
  verify->add_option("--key", verify_key, "The coordinator's key pair file, for a chain keyed with it");
  verify->add_flag("--replay", verify_replay,
                   "Take every step again from config.toml and updates.bin (a run with --keep-updates) and check\n"
                   "each round's model against the chain's");
  verify->add_option("--data-dir", verify_data_dir, "Folder holding data sets, for a data objective's --replay")
      ->check(CLI::ExistingDirectory);

  std::string keys_section;
  CLI::App* config_keys = app.add_subcommand(
      "config-keys", "Print the config keys (type, default, allowed values, meaning) as Markdown tables.");
  config_keys->add_option("section", keys_section, "Only this section: run, objective, noise, ...");
  if (const auto exit_code = edgefl::ParseCommandLine(app, argc, argv)) return *exit_code;

  if (report->parsed()) return Report(report_folder);
  if (sweep->parsed()) return edgefl::SweepExperiments(sweep_experiment, sweep_args);
  if (verify->parsed()) return edgefl::VerifyRunFolder(verify_folder, verify_key, verify_replay, verify_data_dir);
  if (keys_init->parsed()) return edgefl::InitKeys(keys_dir, keys_nodes, keys_force);
  if (scale->parsed()) return edgefl::ScaleExperiments(scale_args, changes);
  if (predict->parsed()) {
    if (const int bad = predict_args.Resolve()) return bad;
    return edgefl::PredictExperiments(args, predict_args, predict_out);
  }
  if (config_keys->parsed()) {
    bool found = false;
    for (const char* section : edgefl::ConfigSections()) {
      if (!keys_section.empty() && keys_section != section) continue;
      found = true;
      std::printf("### `[%s]`\n\n%s\n", section, edgefl::ConfigKeysMarkdown(section).c_str());
    }
    if (keys_section.empty() || keys_section == "profile") {
      found = true;
      std::printf("### `[[profile]]`\n\n%s\n", edgefl::ProfileKeysMarkdown().c_str());
    }
    if (!found) {
      std::string sections;
      for (const char* section : edgefl::ConfigSections()) sections += (sections.empty() ? "" : ", ") + std::string(section);
      EDGEFL_LOG_ERROR("config-keys: no section '%s' (sections: %s)", keys_section.c_str(), sections.c_str());
    }
    return found ? 0 : 2;
  }
  if (const int bad = predict_args.Resolve()) return bad;
  return edgefl::RunExperiments(args, run_args, predict_args);
}

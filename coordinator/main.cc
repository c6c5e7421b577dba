// edgefl-coordinator: the server of one experiment. Reads a config, binds,
// waits for its nodes, runs the rounds and writes the run folder.
// Exit codes (RunOutcome): 0 done (also target reached), 1 the run failed,
// 2 bad command line or config, 3 diverged, 130 interrupted.
#include <atomic>
#include <csignal>
#include <unistd.h>

#include "coordinator/coordinator.h"
#include "coordinator/experiment_config.h"
#include "coordinator/run_recorder.h"
#include "core/command_line.h"
#include "core/log.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

// Whether `endpoint` listens on this machine only.
bool IsLocalEndpoint(const std::string& endpoint) {
  for (const char* local : {"tcp://127.", "tcp://localhost:", "tcp://[::1]:", "ipc://", "inproc://"}) {
    if (endpoint.rfind(local, 0) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path, variant, bind = "tcp://127.0.0.1:5555", out_dir, data_dir, key_path, allow_path;
  bool insecure = false;
  std::vector<std::string> sets;
  int ready_fd = -1;
  bool verbose = false, quiet = false;
  CLI::App app{"edgefl-coordinator: runs the rounds of one federated experiment.\n"
               "Nodes (edgefl-node --connect ENDPOINT --id I) join, receive their task, and send compressed\n"
               "gradients; the coordinator aggregates them, steps, and writes config.toml, metrics.csv, nodes.csv and\n"
               "summary.toml to the run folder."};
  app.add_option("--config", config_path, "Experiment config (TOML), see docs/config.md")->required();
  app.add_option("--variant", variant, "Which [[variant]] of the config to run (needed when it has several)");
  app.add_option("--set", sets, "Override a config field: section.key=value (repeatable)");
  app.add_option("--bind", bind, "Endpoint to listen on; tcp://127.0.0.1:* picks a free port");
  app.add_option("--out", out_dir, "Run folder (default: runs/<name>)");
  app.add_option("--data-dir", data_dir, "Folder holding data sets (default: $EDGEFL_DATA_DIR, then /usr/local/share/edgefl/data)");
  app.add_option("--key", key_path, "CURVE key pair file of this coordinator (edgefl keys init); with --allow");
  app.add_option("--allow", allow_path, "Allow-list of the nodes' public keys, each bound to its node id; with --key");
  app.add_flag("--insecure", insecure, "Listen beyond loopback without CURVE keys (anyone who reaches the port can join)");
  app.add_option("--ready-fd", ready_fd, "Write the bound endpoint and a newline to this file descriptor");
  app.add_flag("-v,--verbose", verbose, "Log debug messages");
  app.add_flag("-q,--quiet", quiet, "Log errors only");
  if (const auto exit_code = edgefl::ParseCommandLine(app, argc, argv)) return *exit_code;
  edgefl::LogTag() = "edgefl-coordinator";
  if (verbose) edgefl::MinLogLevel() = edgefl::LogLevel::kDebug;
  if (quiet) edgefl::MinLogLevel() = edgefl::LogLevel::kError;

  std::vector<edgefl::ExperimentConfig> configs;
  edgefl::Status status = edgefl::LoadExperimentFile(config_path, sets, &configs);
  if (!status.ok()) {
    EDGEFL_LOG_ERROR("%s", status.message());
    return 2;
  }
  const edgefl::ExperimentConfig* config = configs.size() == 1 && variant.empty() ? &configs[0] : nullptr;
  for (const auto& c : configs) {
    if (!variant.empty() && c.name == variant) config = &c;
  }
  if (config == nullptr) {
    std::string names;
    for (const auto& c : configs) names += (names.empty() ? "" : ", ") + c.name;
    EDGEFL_LOG_ERROR("%s: choose a variant with --variant (one of: %s)", config_path.c_str(), names.c_str());
    return 2;
  }
  if (out_dir.empty()) out_dir = "runs/" + config->name;

  edgefl::TransportSecurity security;
  if (key_path.empty() != allow_path.empty()) {
    EDGEFL_LOG_ERROR("--key and --allow go together: the coordinator's key pair and the nodes' public keys");
    return 2;
  }
  if (!key_path.empty()) {
    status = edgefl::ReadCurveKeys(key_path, /*need_secret=*/true, &security.server);
    if (status.ok()) status = edgefl::ReadCurveAllowList(allow_path, &security.allow);
    if (!status.ok()) {
      EDGEFL_LOG_ERROR("%s", status.message());
      return 2;
    }
  } else if (!IsLocalEndpoint(bind) && !insecure) {
    EDGEFL_LOG_ERROR("--bind %s listens beyond this machine: give CURVE keys (--key, --allow; make them with "
                     "`edgefl keys init`), or --insecure to accept anyone who reaches the port",
                     bind.c_str());
    return 2;
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  edgefl::RunRecorder recorder;
  status = recorder.Open(out_dir, *config);
  if (!status.ok()) {
    EDGEFL_LOG_ERROR("%s", status.message());
    return 2;
  }
  edgefl::Coordinator coordinator(*config, recorder, data_dir, security);
  std::string endpoint;
  status = coordinator.Bind(bind, &endpoint);
  if (!status.ok()) {
    EDGEFL_LOG_ERROR("%s", status.message());
    return 2;
  }
  if (ready_fd >= 0) {
    const std::string line = endpoint + "\n";
    if (write(ready_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      EDGEFL_LOG_WARN("could not report the endpoint on fd %d", ready_fd);
    }
    close(ready_fd);
  } else {
    EDGEFL_LOG_INFO("listening on %s for %u nodes%s", endpoint.c_str(), config->nodes,
                    security.curve() ? " (CURVE: nodes on the allow-list only)" : "");
  }

  edgefl::RunSummary summary;
  edgefl::RunOutcome outcome = edgefl::RunOutcome::kFailed;
  status = coordinator.Run(g_stop, &summary, &outcome);
  if (!status.ok()) {
    EDGEFL_LOG_ERROR("%s (run folder %s keeps every completed round)", status.message(), out_dir.c_str());
    return outcome == edgefl::RunOutcome::kStopped ? 130 : 1;
  }
  return edgefl::ExitCode(outcome);
}

// edgefl-coordinator: the server of one experiment. Reads a config, binds,
// waits for its nodes, runs the rounds and writes the run folder; or, with
// --resume, carries a run on from its folder's last checkpoint.
// Exit codes (RunOutcome): 0 done (also target reached), 1 the run failed,
// 2 bad command line, config or run folder, 3 diverged, 130 interrupted.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "coordinator/coordinator.h"
#include "coordinator/relay_loop.h"
#include "node/in_process_nodes.h"
#include "node/node_identity.h"
#include "experiment/experiment_config.h"
#include "runfiles/resume.h"
#include "runfiles/run_completion.h"
#include "runfiles/run_folder.h"
#include "runfiles/run_recorder.h"
#include "core/command_line.h"
#include "core/log.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

// The config of a fresh run: the file's one variant, or the one --variant names.
edgefl::Status ChooseConfig(const std::string& config_path, const std::vector<std::string>& sets,
                            const std::string& variant, edgefl::ExperimentConfig* out) {
  std::vector<edgefl::ExperimentConfig> configs;
  EDGEFL_RETURN_IF_ERROR(edgefl::LoadExperimentFile(config_path, sets, &configs));
  const edgefl::ExperimentConfig* config = configs.size() == 1 && variant.empty() ? &configs[0] : nullptr;
  for (const auto& c : configs) {
    if (!variant.empty() && c.name == variant) config = &c;
  }
  if (config == nullptr) {
    std::string names;
    for (const auto& c : configs) names += (names.empty() ? "" : ", ") + c.name;
    return edgefl::Status::Error(edgefl::StatusCode::kInvalidArgument,
                                 "%s: choose a variant with --variant (one of: %s)", config_path.c_str(), names.c_str());
  }
  *out = *config;
  return edgefl::Status::Ok();
}

// `endpoint`'s TCP port plus `offset` (a relay's, one port a group).
edgefl::Status OffsetPort(uint32_t offset, std::string* endpoint) {
  const size_t colon = endpoint->rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || std::sscanf(endpoint->c_str() + colon + 1, "%u", &port) != 1 || port == 0 ||
      port + offset > 65535) {
    return edgefl::Status::Error(edgefl::StatusCode::kInvalidArgument,
                                 "--bind %s: a relay started by a launcher needs a fixed TCP port (it adds its "
                                 "group, %u, to it)", endpoint->c_str(), offset);
  }
  *endpoint = endpoint->substr(0, colon + 1) + std::to_string(port + offset);
  return edgefl::Status::Ok();
}

// Whether `endpoint` listens on this machine only.
bool IsLocalEndpoint(const std::string& endpoint) {
  for (const char* local : {"tcp://127.", "tcp://localhost:", "tcp://[::1]:", "ipc://", "inproc://"}) {
    if (endpoint.rfind(local, 0) == 0) return true;
  }
  return false;
}

// A relay's in-process nodes (edgefl-coordinator --in-process).
struct RelayNodes final : edgefl::LocalNodes {
  RelayNodes(const edgefl::codec::TaskSpec& task, uint32_t first, uint32_t count) : nodes(task, first, count) {}
  std::span<const uint8_t> Compute(uint32_t id, uint32_t round, std::span<const float> model) override {
    return nodes.Compute(id, round, model);
  }
  edgefl::InProcessNodes nodes;
};

}  // namespace

int main(int argc, char** argv) {
  std::string config_path, variant, bind = "tcp://127.0.0.1:5555", out_dir, data_dir, resume_dir, key_path, allow_path;
  bool insecure = false, keep_updates = false;
  std::vector<std::string> sets;
  int ready_fd = -1;
  edgefl::RelayTopology topology;
  bool verbose = false, quiet = false, overwrite = false;
  CLI::App app{"edgefl-coordinator: runs the rounds of one federated experiment.\n"
               "Nodes (edgefl-node --connect ENDPOINT --id I) join, receive their task, and send compressed\n"
               "gradients; the coordinator aggregates them, steps, and writes config.toml, metrics.csv, nodes.csv,\n"
               "checkpoint.bin, model.bin and summary.toml to the run folder."};
  auto* config_option = app.add_option("--config", config_path,
                                       "Experiment config (TOML; a regular file of at most 1 MiB), see docs/config.md");
  auto* resume_option = app.add_option(
      "--resume", resume_dir,
      "Carry on the run in this folder from its last checkpoint, with its own config.toml; its nodes rejoin\n"
      "by themselves (docs/outputs.md)");
  config_option->excludes(resume_option);
  app.add_option("--variant", variant, "Which [[variant]] of the config to run (needed when it has several)")
      ->excludes(resume_option);
  app.add_option("--set", sets, "Override a config field: section.key=value (repeatable)")->excludes(resume_option);
  app.add_option("--bind", bind, "Endpoint to listen on; tcp://127.0.0.1:* picks a free port");
  app.add_option("--out", out_dir, "Run folder (default: runs/<name>)")->excludes(resume_option);
  app.add_flag("--overwrite", overwrite, "Start afresh in a run folder that already holds a run, deleting it")
      ->excludes(resume_option);
  app.add_option("--data-dir", data_dir, "Folder holding data sets (default: $EDGEFL_DATA_DIR, then /usr/local/share/edgefl/data)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--key", key_path, "CURVE key pair file of this coordinator (edgefl keys init); with --allow");
  app.add_option("--allow", allow_path, "Allow-list of the nodes' public keys, each bound to its node id; with --key");
  app.add_flag("--keep-updates", keep_updates,
               "Keep every aggregated update in updates.bin, so that `edgefl verify --replay` can take the\n"
               "run's steps again (about the run's uplink bytes on disk)")
      ->excludes(resume_option);
  auto* relays_option = app.add_option(
      "--relays", topology.relays,
      "Split the run's nodes among this many relays (docs/deploy.md 11): without --parent, this coordinator\n"
      "is their root and takes one exact partial a relay a round; the model is a flat run's, bit for bit");
  app.add_option("--parent", topology.parent,
                 "Run as a relay: serve nodes group*n .. group*n + n - 1 (n = run.nodes / --relays), take each\n"
                 "round's model from the coordinator at this endpoint and send it their exact partial")
      ->needs(relays_option);
  app.add_option("--group", topology.group, "This relay's group, 0 .. --relays - 1 (with --parent)");
  bool group_from_rank = false;
  app.add_flag("--group-from-rank", group_from_rank,
               "A relay started by mpirun or srun (one a host: --map-by ppr:1:node): its group is its rank\n"
               "(OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK or SLURM_PROCID, as a node's id), its folder\n"
               "<--out>/relay-<group>, and its --bind port the given one plus its group");
  app.add_flag("--in-process", topology.in_process,
               "A relay whose nodes are computed in this process, with the node's code, one after another: its\n"
               "run.nodes / --relays logical nodes send the root one partial a round and no socket each");
  std::string parent_key_path, parent_server_key;
  app.add_option("--parent-key", parent_key_path,
                 "A relay's CURVE key pair for its link above, on the allow-list of the coordinator above as\n"
                 "node-<group>'s (edgefl keys init DIR --nodes R); with --parent-server-key");
  app.add_option("--parent-server-key", parent_server_key,
                 "The CURVE public key of the coordinator above: its .pub file, or the key itself");
  relays_option->excludes(resume_option);
  app.add_flag("--insecure", insecure, "Listen beyond loopback without CURVE keys (anyone who reaches the port can join)");
  app.add_option("--ready-fd", ready_fd, "Write the bound endpoint and a newline to this file descriptor");
  app.add_flag("-v,--verbose", verbose, "Log debug messages");
  app.add_flag("-q,--quiet", quiet, "Log errors only");
  if (const auto exit_code = edgefl::ParseCommandLine(app, argc, argv)) return *exit_code;
  edgefl::LogTag() = "edgefl-coordinator";
  if (verbose) edgefl::MinLogLevel() = edgefl::LogLevel::kDebug;
  if (quiet) edgefl::MinLogLevel() = edgefl::LogLevel::kError;
  if (group_from_rank) {
    // One command line for every relay of a launcher's job: each takes its
    // group from its rank, a folder and a port of its own from it.
    edgefl::NodeIdentity identity;
    const edgefl::Status s = edgefl::ResolveNodeId(std::nullopt, [](const char* name) { return std::getenv(name); },
                                                   &identity);
    if (!s.ok() || topology.parent.empty()) {
      EDGEFL_LOG_ERROR("--group-from-rank: %s", s.ok() ? "a relay's: give --parent and --relays" : s.message());
      return 2;
    }
    topology.group = identity.id;
    out_dir = (out_dir.empty() ? std::string("runs") : out_dir) + "/relay-" + std::to_string(identity.id);
    edgefl::Status bound = OffsetPort(identity.id, &bind);
    if (!bound.ok()) {
      EDGEFL_LOG_ERROR("--group-from-rank: %s", bound.message());
      return 2;
    }
    EDGEFL_LOG_INFO("relay group %u from %s, folder %s, listening on %s", identity.id, identity.from.c_str(),
                    out_dir.c_str(), bind.c_str());
  }
  if (config_path.empty() && resume_dir.empty()) {
    EDGEFL_LOG_ERROR("give --config FILE for a new run, or --resume RUN_FOLDER to carry one on");
    return 2;
  }

  // The config, and where the run starts: afresh, or from a checkpoint.
  edgefl::ExperimentConfig config;
  edgefl::ResumePoint resume;
  edgefl::Status status;
  if (!resume_dir.empty()) {
    out_dir = resume_dir;
    status = edgefl::ReadResumePoint(resume_dir, &resume);
    if (status.ok()) config = resume.config;
  } else {
    status = ChooseConfig(config_path, sets, variant, &config);
    if (status.ok() && out_dir.empty()) out_dir = "runs/" + config.name;
    const std::string existing = status.ok() ? edgefl::ExistingRunFile(out_dir) : "";
    // A folder that holds no run (a run that failed before round 0 leaves
    // only headers and its summary) is cleared of its files and reused.
    if (status.ok()) {
      status = existing.empty() || overwrite ? edgefl::ClearRun(out_dir) : edgefl::RefuseExistingRun(out_dir, existing);
    }
  }
  if (!status.ok()) {
    EDGEFL_LOG_ERROR("%s", status.message());
    return 2;
  }
  if (resume.complete_only) {
    // The run had ended; only its last files are missing.
    edgefl::RunSummary summary;
    status = edgefl::CompleteEndedRun(out_dir, resume, &summary);
    if (!status.ok()) {
      EDGEFL_LOG_ERROR("%s", status.message());
      return 1;
    }
    EDGEFL_LOG_INFO("%s: the run had ended (%s, after %u rounds); wrote its missing %s and %s from %s",
                    out_dir.c_str(), summary.stop_reason.c_str(), summary.rounds, edgefl::kModelFile,
                    edgefl::kSummaryFile, edgefl::kCheckpointFile);
    return summary.diverged_at >= 0 ? edgefl::ExitCode(edgefl::RunOutcome::kDiverged) : 0;
  }

  if (parent_key_path.empty() != parent_server_key.empty()) {
    EDGEFL_LOG_ERROR("--parent-key and --parent-server-key go together: this relay's key pair and the public key "
                     "of the coordinator above");
    return 2;
  }
  if (!parent_key_path.empty()) {
    edgefl::CurveKeyPair server;
    status = edgefl::ReadCurveKeys(parent_key_path, /*need_secret=*/true, &topology.parent_key);
    if (status.ok()) status = edgefl::ReadCurveKeys(parent_server_key, /*need_secret=*/false, &server);
    if (!status.ok()) {
      EDGEFL_LOG_ERROR("%s", status.message());
      return 2;
    }
    topology.parent_server_key = server.public_key;
  }
  if (status.ok()) status = edgefl::CheckRelayTopology(config, topology);
  if (status.ok() && topology.root() && keep_updates) {
    status = edgefl::Status::Error(edgefl::StatusCode::kInvalidArgument,
                                   "--keep-updates with --relays: the root takes partials, which `edgefl verify "
                                   "--replay` cannot take again; keep them without relays");
  }
  if (!status.ok()) {
    EDGEFL_LOG_ERROR("%s", status.message());
    return 2;
  }
  edgefl::TransportSecurity security;
  status = edgefl::ConnectionLimitsFor(topology.Connections(config.nodes), &security.connections);
  if (!status.ok()) {
    EDGEFL_LOG_ERROR("%s", status.message());
    return 2;
  }
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

  // The folder is touched only once the checkpoint has loaded and the
  // endpoint is bound.
  edgefl::RunRecorder recorder;
  // With CURVE keys, audit.log's chain is keyed by the coordinator's secret.
  if (security.curve()) recorder.set_audit_key(edgefl::AuditKeyFromSecret(security.server.secret_key));
  recorder.set_keep_updates(keep_updates);
  // A relay's in-process nodes: the node's own runtime, one task for all.
  std::unique_ptr<RelayNodes> local;
  if (topology.in_process) {
    local = std::make_unique<RelayNodes>(config.TaskFor(topology.FirstNode(config.nodes)),
                                         topology.FirstNode(config.nodes), topology.ServedNodes(config.nodes));
    EDGEFL_LOG_INFO("relay %u computes its nodes %u..%u in this process (%s, %zu bytes of node memory)",
                    topology.group, topology.FirstNode(config.nodes),
                    topology.FirstNode(config.nodes) + topology.ServedNodes(config.nodes) - 1,
                    local->nodes.shared() ? "one runtime, as they keep no state" : "a runtime each",
                    local->nodes.memory_bytes());
  }
  edgefl::Coordinator coordinator(config, recorder, data_dir, security, topology, local.get());
  std::string endpoint;
  if (resume.checkpoint) status = coordinator.Restore(*resume.checkpoint);
  if (status.ok()) status = coordinator.Bind(bind, &endpoint);
  if (status.ok()) {
    status = resume_dir.empty() ? recorder.Open(out_dir, config)
                                : recorder.Resume(out_dir, resume.checkpoint ? resume.checkpoint->round : 0,
                                                  coordinator.model());
  }
  if (status.ok()) {
    if (ready_fd >= 0) {
      const std::string line = endpoint + "\n";
      if (write(ready_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        EDGEFL_LOG_WARN("could not report the endpoint on fd %d", ready_fd);
      }
      close(ready_fd);
    } else {
      EDGEFL_LOG_INFO("listening on %s for %u %s%s", endpoint.c_str(), topology.root() ? topology.relays : topology.ServedNodes(config.nodes),
                      topology.root() ? "relays" : "nodes", security.curve() ? " (CURVE: nodes on the allow-list only)" : "");
    }
  }
  if (!status.ok()) {
    EDGEFL_LOG_ERROR("%s", status.message());
    return 2;
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

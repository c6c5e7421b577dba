// edgefl-node: the board program. Joins a coordinator, takes its task, and
// answers rounds until told to stop. Exit codes: 0 done, 1 failure,
// 2 bad command line, 130 interrupted; under --exit-policy zero, 0 for the
// failure and the interruption too (node/node_identity.h).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <optional>

#include "core/command_line.h"
#include "core/log.h"
#include "core/units.h"
#include "node/memory_budget.h"
#include "node/node_client.h"
#include "node/node_identity.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

}  // namespace

int main(int argc, char** argv) {
  edgefl::NodeOptions options;
  std::string budget_text, attack_text, key_path, server_key, exit_policy_text = "fail";
  std::optional<uint32_t> id_flag;
  uint32_t logical = 1;
  bool verbose = false, quiet = false;
  CLI::App app{"edgefl-node: a federated-learning node for small boards.\n"
               "Connects to an edgefl-coordinator, receives its task (objective, noise, compressor) and answers every\n"
               "round with a compressed stochastic gradient."};
  app.add_option("--connect", options.endpoint,
                 "Coordinator endpoint, e.g. tcp://192.168.1.10:5555 (default: $EDGEFL_COORDINATOR)");
  app.add_option("--id", id_flag,
                 "This node's id: 0 .. nodes-1, unique in the run (default: $EDGEFL_NODE_ID, then the launcher's\n"
                 "rank: OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK, SLURM_PROCID)");
  app.add_option("--logical", logical,
                 "Host K nodes in this process, ids id*K .. id*K+K-1 (id from --id or the launcher's rank), each\n"
                 "with its own socket, arena, state and seed streams, on a thread of its own; without\n"
                 "--memory-budget each takes 1/K of the default budget")
      ->check(CLI::Range(1, 4096));
  app.add_option("--exit-policy", exit_policy_text,
                 "fail: exit 1 on a failure, 130 when stopped (the default); zero: exit 0 after logging them, as\n"
                 "mpirun needs (it ends every node of a job when one exits non-zero). A bad command line exits 2")
      ->check(CLI::IsMember({"fail", "zero"}));
  app.add_option("--dimension", options.dimension, "Refuse a task whose dimension differs (0: accept any)");
  app.add_option("--memory-budget", budget_text,
                 "Bytes this node's arena takes, e.g. 4MiB; a task that needs more is refused (default: what the\n"
                 "task needs, refused over a quarter of physical memory or 256 MiB, whichever is less)");
  app.add_option("--data-dir", options.data_dir, "Folder holding data sets (default: $EDGEFL_DATA_DIR, then /usr/local/share/edgefl/data)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--state-dir", options.state_dir,
                 "Keep this node's state across rounds (error memory, moments kept for the run, SCAFFOLD's control\n"
                 "variate) in this folder, so that a restarted node or a resumed run carries on exactly; created\n"
                 "if missing (edgefl run passes <run folder>/node-state)");
  app.add_flag("--print-memory-plan", options.print_memory_plan, "Print each buffer and its bytes after joining");
  app.add_option("--join-timeout-ms", options.join_timeout_ms, "Give up joining after this long")
      ->check(CLI::Range(100, 3600000));
  app.add_option("--lost-after-ms", options.lost_after_ms, "Take the coordinator for lost when it is silent this long")
      ->check(CLI::Range(100, 3600000));
  app.add_option("--key", key_path, "CURVE key pair file of this node (edgefl keys init); with --server-key");
  app.add_option("--server-key", server_key, "The coordinator's CURVE public key: its .pub file, or the key itself");
  app.add_option("--rejoin-timeout-ms", options.rejoin_timeout_ms,
                 "After losing the coordinator, try to join it again (e.g. resumed) for this long, then stop;\n"
                 "0 stops at once")
      ->check(CLI::Range(0, 86400000));
  app.add_option("--attack", attack_text,
                 "Testing aid: make this node hostile to measure robust aggregation. sign-flip, scale:F (e.g.\n"
                 "scale:100), constant:V (e.g. constant:1e12), alie:Z (\"a little is enough\": the honest mean\n"
                 "minus Z noise standard deviations in every coordinate, e.g. alie:1) or max-norm:R (norm R\n"
                 "exactly, pushing the model away from the optimum, e.g. R = aggregator.max_update_norm)\n"
                 "replaces the gradient before compression (node/attack.h)");
  app.add_flag("-v,--verbose", verbose, "Log debug messages");
  app.add_flag("-q,--quiet", quiet, "Log errors only");
  if (const auto exit_code = edgefl::ParseCommandLine(app, argc, argv)) return *exit_code;

  if (options.endpoint.empty()) {
    const char* from_env = std::getenv("EDGEFL_COORDINATOR");
    if (from_env != nullptr) options.endpoint = from_env;
  }
  // An empty EDGEFL_CONNECT in /etc/default/edgefl-node gives the unit an
  // empty --connect: a bad command line (2, which systemd does not restart).
  if (options.endpoint.empty()) {
    EDGEFL_LOG_ERROR("--connect is empty: give the coordinator's endpoint, e.g. tcp://192.168.1.10:5555, or set "
                     "EDGEFL_COORDINATOR");
    return 2;
  }
  edgefl::NodeIdentity identity;
  if (const edgefl::Status resolved = edgefl::ResolveNodeId(id_flag, [](const char* name) { return std::getenv(name); },
                                                            &identity);
      !resolved.ok()) {
    EDGEFL_LOG_ERROR("%s", resolved.message());
    return 2;
  }
  if (uint64_t{identity.id} * logical + logical > uint64_t{UINT32_MAX}) {
    EDGEFL_LOG_ERROR("--logical %u with id %u: node ids would pass 2^32", logical, identity.id);
    return 2;
  }
  options.node_id = identity.id * logical;
  edgefl::ExitPolicy exit_policy = edgefl::ExitPolicy::kFail;
  edgefl::ParseExitPolicy(exit_policy_text, &exit_policy);
  char tag[48];
  if (logical > 1) {
    std::snprintf(tag, sizeof(tag), "edgefl-node %u..%u", options.node_id, options.node_id + logical - 1);
  } else {
    std::snprintf(tag, sizeof(tag), "edgefl-node %u", options.node_id);
  }
  edgefl::LogTag() = tag;
  if (verbose) edgefl::MinLogLevel() = edgefl::LogLevel::kDebug;
  if (quiet) edgefl::MinLogLevel() = edgefl::LogLevel::kError;
  char host[256] = "?";
  gethostname(host, sizeof(host) - 1);
  if (logical > 1) {
    EDGEFL_LOG_INFO("%u logical nodes, ids %u..%u (id %u from %s, times %u), on host %s, for the coordinator at %s",
                    logical, options.node_id, options.node_id + logical - 1, identity.id, identity.from.c_str(),
                    logical, host, options.endpoint.c_str());
  } else {
    EDGEFL_LOG_INFO("node id %u from %s, on host %s, for the coordinator at %s", identity.id, identity.from.c_str(),
                    host, options.endpoint.c_str());
  }
  if (!budget_text.empty() && !edgefl::ParseByteSize(budget_text, &options.memory_budget_bytes)) {
    EDGEFL_LOG_ERROR("--memory-budget '%s' is not a size like 4MiB or 500000", budget_text.c_str());
    return 2;
  }
  if (key_path.empty() != server_key.empty()) {
    EDGEFL_LOG_ERROR("--key and --server-key go together: this node's key pair and the coordinator's public key");
    return 2;
  }
  if (!key_path.empty() && logical > 1) {
    EDGEFL_LOG_ERROR("--key with --logical %u: a CURVE key is bound to one node id, and logical nodes do not take "
                     "one key each yet; run them on a trusted network without keys, or one node a process",
                     logical);
    return 2;
  }
  if (!key_path.empty()) {
    edgefl::CurveKeyPair server;
    edgefl::Status keys = edgefl::ReadCurveKeys(key_path, /*need_secret=*/true, &options.key);
    if (keys.ok()) keys = edgefl::ReadCurveKeys(server_key, /*need_secret=*/false, &server);
    if (!keys.ok()) {
      EDGEFL_LOG_ERROR("%s", keys.message());
      return 2;
    }
    options.server_public_key = server.public_key;
  }
  if (!attack_text.empty()) {
    const edgefl::Status parsed = edgefl::ParseAttack(attack_text, &options.attack);
    if (!parsed.ok()) {
      EDGEFL_LOG_ERROR("%s", parsed.message());
      return 2;
    }
    if (options.attack.kind == edgefl::AttackKind::kMaxNorm && options.attack.value == 0.0f) {
      EDGEFL_LOG_ERROR("--attack max-norm: a node does not know the run's aggregator.max_update_norm; give "
                       "max-norm:R (edgefl run fills R in)");
      return 2;
    }
  }
  if (logical > 1 && options.memory_budget_bytes == 0) {
    const uint64_t budget = edgefl::DefaultMemoryBudgetBytes(edgefl::PhysicalMemoryBytes());
    EDGEFL_LOG_INFO("the %u logical nodes share the default memory budget of %llu bytes: each takes at most %llu "
                    "(--memory-budget sets each one's)",
                    logical, static_cast<unsigned long long>(budget),
                    static_cast<unsigned long long>(budget / logical));
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  const edgefl::Status status =
      logical > 1 ? edgefl::RunLogicalNodes(options, logical, g_stop) : edgefl::RunNode(options, g_stop);
  if (!status.ok()) EDGEFL_LOG_ERROR("%s", status.message());
  return edgefl::ExitCodeFor(exit_policy, !status.ok(), g_stop.load());
}

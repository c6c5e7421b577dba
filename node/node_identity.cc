#include "node/node_identity.h"

#include <charconv>
#include <cstring>

namespace edgefl {
namespace {

constexpr const char* kIdVariables[] = {"EDGEFL_NODE_ID", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                        "SLURM_PROCID"};

}  // namespace

Status ResolveNodeId(std::optional<uint32_t> flag, const EnvironmentReader& env, NodeIdentity* out) {
  if (flag) {
    *out = {.id = *flag, .from = "--id"};
    return Status::Ok();
  }
  for (const char* name : kIdVariables) {
    const char* value = env(name);
    if (value == nullptr) continue;
    uint32_t id = 0;
    const char* end = value + std::strlen(value);
    const auto [stop, error] = std::from_chars(value, end, id);
    if (error != std::errc() || stop != end || value == end) {
      return Status::Error(StatusCode::kInvalidArgument, "%s = '%.40s' is not a node id (0, 1, 2, ...)", name, value);
    }
    *out = {.id = id, .from = name};
    return Status::Ok();
  }
  return Status::Error(StatusCode::kInvalidArgument,
                       "no node id: give --id, set EDGEFL_NODE_ID, or start the node with mpirun or srun, whose rank "
                       "becomes its id");
}

bool ParseExitPolicy(const std::string& name, ExitPolicy* out) {
  if (name == "fail") {
    *out = ExitPolicy::kFail;
  } else if (name == "zero") {
    *out = ExitPolicy::kZero;
  } else {
    return false;
  }
  return true;
}

int ExitCodeFor(ExitPolicy policy, bool failed, bool stopped) {
  if (policy == ExitPolicy::kZero) return 0;
  if (failed) return 1;
  return stopped ? 130 : 0;
}

}  // namespace edgefl

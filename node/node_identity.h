// Which node a process is, and what it exits with. A node's id comes from
// --id; without it, from the environment a launcher gives its processes, in
// this order:
//   EDGEFL_NODE_ID        set by hand, or from a Kubernetes Indexed Job's index
//   OMPI_COMM_WORLD_RANK  Open MPI's mpirun
//   PMIX_RANK             PMIx launchers (Open MPI 4 sets it too)
//   PMI_RANK              MPICH's Hydra
//   SLURM_PROCID          srun
// The MPI variables come before SLURM_PROCID: inside a Slurm job every
// mpirun rank inherits a stale SLURM_PROCID from its daemon. A node never
// calls MPI_Init: the launcher only starts it, and ZeroMQ carries its data.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/status.h"

namespace edgefl {

// Reads an environment variable: nullptr when unset (std::getenv, or a
// table in tests).
using EnvironmentReader = std::function<const char*(const char*)>;

struct NodeIdentity {
  uint32_t id = 0;
  std::string from;  // "--id", or the variable it came from
};

// The id from `flag` (--id, when given), else from the first variable set;
// an error naming the variable whose value is not an id, or saying how to
// give one when none is set.
Status ResolveNodeId(std::optional<uint32_t> flag, const EnvironmentReader& env, NodeIdentity* out);

// How a node ends (--exit-policy): kFail exits 1 on a failure and 130 when
// stopped; kZero exits 0 after logging either, since mpirun ends every
// rank of a job when one exits non-zero. A bad command line exits 2 under
// both: that is the operator's to fix.
enum class ExitPolicy : uint8_t { kFail, kZero };
bool ParseExitPolicy(const std::string& name, ExitPolicy* out);
int ExitCodeFor(ExitPolicy policy, bool failed, bool stopped);

}  // namespace edgefl

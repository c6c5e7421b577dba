// RunOutcome: how a run ended, and the exit code edgefl-coordinator gives
// for it (docs/config.md lists the codes).
#pragma once

#include <cstdint>

namespace edgefl {

enum class RunOutcome : uint8_t {
  kDone,           // every round ran                       exit 0
  kTargetReached,  // run.target_loss reached               exit 0
  kDiverged,       // the run diverged (run.divergence_*)   exit 3
  kStopped,        // SIGINT or SIGTERM                     exit 130
  kFailed,         // nodes lost, no quorum, an error       exit 1
};
int ExitCode(RunOutcome outcome);
// Distinct from a failure (1), so scripts and sweeps tell "diverged" from
// "failed" from "done".
inline constexpr int kDivergedExitCode = 3;
const char* RunOutcomeName(RunOutcome outcome);

}  // namespace edgefl

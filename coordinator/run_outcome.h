// RunOutcome: how a run ended, and the exit code edgefl-coordinator gives
// for it (docs/config.md lists the codes).
#pragma once

#include <cstdint>

namespace edgefl {

enum class RunOutcome : uint8_t {
  kDone,           // every round ran                       exit 0
  kTargetReached,  // run.target_loss reached               exit 0
  kDiverged,       // the loss passed the divergence test   exit 0 (summary.toml says diverged)
  kStopped,        // SIGINT or SIGTERM                     exit 130
  kFailed,         // nodes lost, no quorum, an error       exit 1
};
int ExitCode(RunOutcome outcome);
const char* RunOutcomeName(RunOutcome outcome);

}  // namespace edgefl

#include "runfiles/run_outcome.h"

namespace edgefl {

int ExitCode(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kDone:
    case RunOutcome::kTargetReached:
      return 0;
    case RunOutcome::kDiverged:
      return kDivergedExitCode;
    case RunOutcome::kStopped:
      return 130;
    case RunOutcome::kFailed:
      return 1;
  }
  return 1;
}

const char* RunOutcomeName(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kDone:
      return "done";
    case RunOutcome::kTargetReached:
      return "target reached";
    case RunOutcome::kDiverged:
      return "diverged";
    case RunOutcome::kStopped:
      return "stopped";
    case RunOutcome::kFailed:
      return "failed";
  }
  return "unknown";
}

}  // namespace edgefl

#include "runfiles/run_outcome.h"

#include <doctest/doctest.h>

#include <string>

namespace edgefl {
namespace {

TEST_CASE("every outcome has a name and the exit code docs/config.md documents") {
  CHECK(ExitCode(RunOutcome::kDone) == 0);
  CHECK(ExitCode(RunOutcome::kTargetReached) == 0);
  CHECK(ExitCode(RunOutcome::kDiverged) == 3);
  CHECK(ExitCode(RunOutcome::kStopped) == 130);
  CHECK(ExitCode(RunOutcome::kFailed) == 1);
  for (const RunOutcome outcome : {RunOutcome::kDone, RunOutcome::kTargetReached, RunOutcome::kDiverged,
                                   RunOutcome::kStopped, RunOutcome::kFailed}) {
    CHECK(std::string(RunOutcomeName(outcome)) != "unknown");
  }
}

}  // namespace
}  // namespace edgefl

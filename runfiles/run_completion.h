// Completing a run folder whose run has ended but whose model.bin or
// summary.toml is missing: the process died while writing them (before
// the final checkpoint was written last, a crash there left a checkpoint
// marked finished and neither file), or they were lost since. The finished
// checkpoint holds the final model and every figure of the summary, so both
// files are written again as the run wrote them: the same model bytes and
// hash. `edgefl-coordinator --resume` and `edgefl run --resume` do this
// instead of refusing the folder.
#pragma once

#include <string>

#include "runfiles/resume.h"
#include "runfiles/run_recorder.h"
#include "core/status.h"

namespace edgefl {

// Writes `dir`/model.bin and `dir`/summary.toml from `point`, which
// ReadResumePoint gave with complete_only set; *summary receives what
// summary.toml now holds.
Status CompleteEndedRun(const std::string& dir, const ResumePoint& point, RunSummary* summary);

}  // namespace edgefl

// What `edgefl-coordinator --resume RUN_FOLDER` starts from: the folder's
// own config.toml and its checkpoint.bin, taken with that same config. A
// folder without a checkpoint may be resumed only if no round has run there
// yet (it then starts at round 0); a finished run has nothing to resume,
// unless its model.bin or summary.toml is missing, which its finished
// checkpoint can write again (run_completion.h).
#pragma once

#include <optional>
#include <string>

#include "runfiles/checkpoint.h"
#include "experiment/experiment_config.h"
#include "core/status.h"

namespace edgefl {

struct ResumePoint {
  ExperimentConfig config;
  std::optional<Checkpoint> checkpoint;  // none: no round had run, start at round 0
  // The run has ended (the checkpoint is marked finished) but model.bin or
  // summary.toml is missing: write them from the checkpoint, run nothing.
  bool complete_only = false;
};

// Reads `dir` for a resume; the error says why it cannot be resumed.
Status ReadResumePoint(const std::string& dir, ResumePoint* out);

// Whether the run in `dir` has ended (by completion, the target loss or
// divergence), as its checkpoint's header says, or without a checkpoint, its
// summary.toml.
Status RunFinished(const std::string& dir, bool* finished);

}  // namespace edgefl

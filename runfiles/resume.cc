#include "runfiles/resume.h"

#include <filesystem>

#include "runfiles/run_folder.h"
#include "runfiles/run_recorder.h"

namespace edgefl {

Status ReadResumePoint(const std::string& dir, ResumePoint* out) {
  const std::string config_path = dir + "/" + kConfigFile;
  std::error_code ec;
  if (!std::filesystem::exists(config_path, ec)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s is not a run folder: it has no %s", dir.c_str(),
                         kConfigFile);
  }
  std::vector<ExperimentConfig> configs;
  EDGEFL_RETURN_IF_ERROR(LoadExperimentFile(config_path, {}, &configs));
  if (configs.size() != 1) {
    return Status::Error(StatusCode::kInvalidArgument, "%s holds %zu variants; a run folder's config holds one",
                         config_path.c_str(), configs.size());
  }
  out->config = configs[0];
  const std::string checkpoint_path = dir + "/" + kCheckpointFile;
  if (!std::filesystem::exists(checkpoint_path, ec)) {
    uint64_t rows = 0;
    EDGEFL_RETURN_IF_ERROR(CountRows(dir + "/" + kMetricsFile, &rows));
    bool ended = false;
    EDGEFL_RETURN_IF_ERROR(RunFinished(dir, &ended));
    if (ended) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: the run has ended (see its %s); nothing to resume",
                           dir.c_str(), kSummaryFile);
    }
    if (rows > 0) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "%s has no %s to resume from, and %llu rounds ran there (run.checkpoint_every = %u); "
                           "start it again with --overwrite",
                           dir.c_str(), kCheckpointFile, static_cast<unsigned long long>(rows),
                           out->config.checkpoint_every);
    }
    out->checkpoint.reset();
    return Status::Ok();
  }
  Checkpoint checkpoint;
  EDGEFL_RETURN_IF_ERROR(ReadCheckpointFile(checkpoint_path, &checkpoint));
  const Status same = CheckSameConfig(checkpoint.config_toml, ToToml(out->config));
  if (!same.ok()) return Status::Error(StatusCode::kInvalidArgument, "%s: %s", config_path.c_str(), same.message());
  out->complete_only = false;
  if (checkpoint.finished) {
    if (!std::filesystem::exists(dir + "/" + kModelFile, ec) || !std::filesystem::exists(dir + "/" + kSummaryFile, ec)) {
      out->complete_only = true;
      out->checkpoint = std::move(checkpoint);
      return Status::Ok();
    }
    return Status::Error(StatusCode::kInvalidArgument, "%s: the run has ended (%s, after %u rounds); nothing to resume",
                         dir.c_str(), checkpoint.stop_reason.c_str(), checkpoint.round);
  }
  out->checkpoint = std::move(checkpoint);
  return Status::Ok();
}

Status RunFinished(const std::string& dir, bool* finished) {
  *finished = false;
  const std::string path = dir + "/" + kCheckpointFile;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    // A run without checkpoints (run.checkpoint_every = 0) that ended.
    RunSummary summary;
    if (std::filesystem::exists(dir + "/" + kSummaryFile, ec) && ReadSummary(dir + "/" + kSummaryFile, &summary).ok()) {
      *finished = summary.ok && summary.stop_reason != "stopped by signal";
    }
    return Status::Ok();
  }
  Checkpoint header;
  EDGEFL_RETURN_IF_ERROR(ReadCheckpointHeader(path, &header));
  *finished = header.finished;
  return Status::Ok();
}

}  // namespace edgefl

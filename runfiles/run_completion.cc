#include "runfiles/run_completion.h"

#include "runfiles/run_state.h"
#include "maths/compressor_maths.h"

namespace edgefl {

Status CompleteEndedRun(const std::string& dir, const ResumePoint& point, RunSummary* summary) {
  if (!point.complete_only || !point.checkpoint) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: no finished checkpoint to complete the run from",
                         dir.c_str());
  }
  const ExperimentConfig& config = point.config;
  const Checkpoint& checkpoint = *point.checkpoint;
  const uint32_t d = config.objective.dimension;
  // The run state comes first in the checkpoint; the server step's state
  // after it is not needed to describe a run that has ended.
  RunState state(d, config.nodes);
  StateReader in(checkpoint.state);
  Status s = state.Load(in);
  if (s.ok() && state.round != checkpoint.round) {
    s = Status::Error(StatusCode::kMalformed, "its state is at round %u, its header at round %u", state.round,
                      checkpoint.round);
  }
  if (!s.ok()) return Status::Error(StatusCode::kMalformed, "%s: checkpoint: %s", dir.c_str(), s.message());

  // The fields Coordinator::Run sets at the end rather than keeping in its
  // state, computed as it computes them.
  RunSummary& out = state.summary;
  out.stop_reason = checkpoint.stop_reason;
  out.ok = true;  // only an ended run's checkpoint is marked finished
  out.omega = CompressorOmega(config.compressor, d);
  out.payload_bits_per_coordinate = PayloadBitsPerCoordinate(config.compressor, d);
  if (out.update_messages > 0) {
    out.measured_bits_per_coordinate = 8.0 * static_cast<double>(state.accepted_update_bytes) /
                                       static_cast<double>(out.update_messages) / d;
  }
  out.wall_time_s = state.wall_time_s;

  RunRecorder recorder;
  EDGEFL_RETURN_IF_ERROR(recorder.Resume(dir, checkpoint.round, /*model=*/{}));
  EDGEFL_RETURN_IF_ERROR(recorder.WriteModel(state.model, &out.model_hash));
  EDGEFL_RETURN_IF_ERROR(recorder.Finish(out));
  *summary = out;
  return Status::Ok();
}

}  // namespace edgefl

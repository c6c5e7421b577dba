#include "coordinator/coordinator.h"

#include <cmath>

#include "coordinator/relay_loop.h"
#include "coordinator/relay_upstream.h"
#include "coordinator/round_loop.h"
#include "coordinator/session.h"
#include "core/log.h"
#include "maths/compressor_maths.h"
#include "runfiles/checkpoint.h"
#include "strategy/server_step.h"

namespace edgefl {

class Coordinator::Impl {
 public:
  Impl(const ExperimentConfig& config, RunRecorder& recorder, const std::string& data_dir,
       const TransportSecurity& security, const RelayTopology& topology, LocalNodes* local)
      : config_(config),
        data_dir_(data_dir),
        session_(config, recorder, clock_, security, topology),
        step_(config.step, config.server, StepFactsOf(config), session_.dimension),
        rounds_(session_, step_),
        config_toml_(ToToml(config)) {
    if (topology.relay()) {
      upstream_ = std::make_unique<RelayUpstream>(config, topology.group, topology.ServedNodes(config.nodes));
      relay_ = std::make_unique<RelayLoop>(session_, *upstream_, local);
    }
  }

  Status Bind(const std::string& endpoint, std::string* bound) { return session_.transport.Bind(endpoint, bound); }
  std::span<const float> model() const { return session_.state.model; }

  Status Restore(const Checkpoint& checkpoint) {
    EDGEFL_RETURN_IF_ERROR(CheckSameConfig(checkpoint.config_toml, config_toml_));
    RunState& state = session_.state;
    StateReader in(checkpoint.state);
    Status s = state.Load(in);
    if (s.ok()) s = step_.Load(in);
    if (s.ok()) s = session_.aggregator->Load(in);
    if (s.ok() && !in.done()) {
      s = Status::Error(StatusCode::kMalformed, "%zu bytes are left over after the state", in.left());
    }
    if (s.ok() && (state.round != checkpoint.round || state.round > config_.rounds)) {
      s = Status::Error(StatusCode::kMalformed, "its state is at round %u, its header at round %u, of %u",
                        state.round, checkpoint.round, config_.rounds);
    }
    if (!s.ok()) {
      return Status::Error(StatusCode::kMalformed, "checkpoint of round %u: %s", checkpoint.round, s.message());
    }
    resumed_ = true;
    const auto kind = config_.compressor.kind;
    const codec::LocalSpec& local = config_.local;
    if (kind == wire::CompressorKind::EfSign || kind == wire::CompressorKind::TopK || local.HasControl() ||
        (local.keep_state && local.HasMoments())) {
      EDGEFL_LOG_INFO("the nodes keep state across rounds (error memory, moments or control variates), which this "
                      "checkpoint does not hold: each node restores its own from its --state-dir (edgefl run gives "
                      "them <run folder>/node-state); a node without it starts from zero and says so");
    }
    return Status::Ok();
  }

  Status Run(const std::atomic<bool>& stop, RunSummary* out, RunOutcome* outcome) {
    RunState& state = session_.state;
    RunSummary* summary = &state.summary;
    summary->omega = CompressorOmega(config_.compressor, session_.dimension);
    summary->payload_bits_per_coordinate = PayloadBitsPerCoordinate(config_.compressor, session_.dimension);
    // A resumed run's clock carries on from its checkpoint's.
    start_ms_ = clock_.NowMs() - static_cast<int64_t>(std::llround(state.wall_time_s * 1000.0));
    *outcome = RunOutcome::kFailed;
    Status status = ModelEvaluator::Create(config_, data_dir_, &session_.evaluator);
    if (status.ok() && relay_ != nullptr) return RunRelay(stop, status, out, outcome);
    if (status.ok() && !resumed_) {
      session_.evaluator->InitialModel(state.model);
      const Evaluation initial = session_.evaluator->Evaluate(state.model);
      summary->initial_loss = summary->final_loss = summary->best_loss = initial.loss;
      summary->final_test_accuracy = summary->best_test_accuracy = initial.test_accuracy;
    } else if (status.ok() && config_.step.smoothness == SmoothnessSource::kOnline) {
      // The gradient at the checkpoint's model, as the run had it then.
      session_.evaluator->Evaluate(state.model);
    }
    if (status.ok()) rounds_.CopyGradient();
    const bool started = status.ok();  // the state holds a model: x_0, or the checkpoint's
    if (resumed_ && started) {
      EDGEFL_LOG_INFO("%s: resuming at round %u of %u", config_.name.c_str(), state.round, config_.rounds);
    }
    try {
      if (status.ok()) status = rounds_.JoinAll(stop);
      if (status.ok()) {
        status = rounds_.RunRounds(stop, [&] { return SaveCheckpoint(/*finished=*/false, ""); }, outcome);
      }
      rounds_.SayWhatAggregationDid();
      rounds_.SayBye(status.ok() ? "run finished" : status.message());
    } catch (const zmq::error_t& e) {
      status = Status::Error(StatusCode::kInternal, "ZeroMQ error: %s", e.what());
    }
    if (!status.ok()) *outcome = stop.load() ? RunOutcome::kStopped : RunOutcome::kFailed;
    Summarize(status);
    // model.bin and summary.toml first, the last checkpoint after them: a
    // checkpoint marked finished says that nothing is left to do, so it
    // must not exist before the files it promises. A crash in between
    // leaves the last periodic checkpoint (not finished), from which
    // --resume runs the last rounds again to the same model; and a finished
    // checkpoint whose files went missing is completed by --resume
    // (run_completion.h). The summary's hash is that of model.bin's values.
    Status written = session_.recorder.WriteModel(state.model, &summary->model_hash);
    *out = *summary;
    const Status finished = session_.recorder.Finish(*summary);
    if (written.ok()) written = finished;
    // The last checkpoint: where a stopped or failed run resumes, or the
    // state a finished run ended in. A signal writes one even when periodic
    // checkpoints are off.
    if (started && !rounds_.mid_round() && (*outcome == RunOutcome::kStopped || config_.checkpoint_every > 0)) {
      const bool ended = *outcome == RunOutcome::kDone || *outcome == RunOutcome::kTargetReached ||
                         *outcome == RunOutcome::kDiverged;
      // Not after a failed model.bin or summary.toml: a finished checkpoint
      // would hide that they are missing.
      const Status saved = written.ok() || !ended ? SaveCheckpoint(ended, summary->stop_reason) : Status::Ok();
      if (written.ok()) written = saved;
    }
    return status.ok() ? written : status;
  }

 private:
  // A relay's run (relay_loop.h): rounds served until the coordinator above
  // ends the run; its folder gets metrics, nodes.csv, the last model it was
  // sent and its summary, and no checkpoint (it holds nothing to resume).
  Status RunRelay(const std::atomic<bool>& stop, Status status, RunSummary* out, RunOutcome* outcome) {
    RunState& state = session_.state;
    state.summary.initial_loss = state.summary.final_loss = state.summary.best_loss = NAN;
    try {
      const RelayTopology& t = session_.topology;
      upstream_->Connect(t.parent, t.parent_key, t.parent_server_key);
      status = relay_->Run(stop, outcome);
      relay_->SayBye(status.ok() ? "run finished" : status.message());
    } catch (const zmq::error_t& e) {
      status = Status::Error(StatusCode::kInternal, "ZeroMQ error: %s", e.what());
    }
    if (!status.ok()) *outcome = stop.load() ? RunOutcome::kStopped : RunOutcome::kFailed;
    Summarize(status);
    Status written = session_.recorder.WriteModel(state.model, &state.summary.model_hash);
    *out = state.summary;
    const Status finished = session_.recorder.Finish(state.summary);
    if (written.ok()) written = finished;
    return status.ok() ? written : status;
  }

  // The summary's last figures, and the run's last words on connections
  // and refusals.
  void Summarize(const Status& status) {
    RunSummary* summary = &session_.state.summary;
    Transport& transport = session_.transport;
    summary->wall_time_s = static_cast<double>(clock_.NowMs() - start_ms_) / 1000.0;
    if (summary->update_messages > 0) {
      summary->measured_bits_per_coordinate = 8.0 * static_cast<double>(session_.state.accepted_update_bytes) /
                                              static_cast<double>(summary->update_messages) / session_.dimension;
    }
    if (!status.ok()) {
      summary->ok = false;
      summary->stop_reason = status.message();
    }
    if (transport.refused_connections() > 0) {
      EDGEFL_LOG_WARN("%llu connections were refused during their handshake",
                      static_cast<unsigned long long>(transport.refused_connections()));
    }
    summary->rejected += transport.refused_connections();
    summary->connections_closed = session_.connections_closed + transport.connections().closed_for_limits();
    summary->handshakes_failed = transport.connections().failed_handshakes();
    if (summary->connections_lost + summary->connections_closed > 0) {
      EDGEFL_LOG_INFO("connections: %llu of joined nodes lost, %llu closed by the coordinator, %llu handshakes failed",
                      static_cast<unsigned long long>(summary->connections_lost),
                      static_cast<unsigned long long>(summary->connections_closed),
                      static_cast<unsigned long long>(summary->handshakes_failed));
    }
    if (rounds_.refusals_held_back() > 0) {
      EDGEFL_LOG_WARN("%llu more messages were rejected or refused without a warning each (%llu in all)",
                      static_cast<unsigned long long>(rounds_.refusals_held_back()),
                      static_cast<unsigned long long>(summary->rejected));
    }
  }

  // Writes checkpoint.bin: the config and the state after state.round
  // rounds, with the run's clocks as they stand.
  Status SaveCheckpoint(bool finished, const std::string& stop_reason) {
    RunState& state = session_.state;
    const int64_t begin_ms = clock_.NowMs();
    state.wall_time_s = static_cast<double>(begin_ms - start_ms_) / 1000.0;
    StateWriter out;
    state.Save(out);
    step_.Save(out);
    session_.aggregator->Save(out);
    Checkpoint checkpoint{.round = state.round,
                          .finished = finished,
                          .config_toml = config_toml_,
                          .stop_reason = stop_reason,
                          .state = out.Release()};
    const Status s = session_.recorder.WriteCheckpoint(checkpoint);
    if (!s.ok()) {
      return Status::Error(StatusCode::kInvalidArgument, "checkpoint of round %u: %s", state.round, s.message());
    }
    EDGEFL_LOG_DEBUG("checkpoint after %u rounds: %zu bytes in %lld ms", state.round,
                     kCheckpointHeaderBytes + checkpoint.state.size() + config_toml_.size() + stop_reason.size() + 16,
                     static_cast<long long>(clock_.NowMs() - begin_ms));
    return Status::Ok();
  }

  const ExperimentConfig& config_;
  const std::string data_dir_;
  WallClock clock_;
  Session session_;
  ServerStep step_;
  RoundLoop rounds_;
  std::unique_ptr<RelayUpstream> upstream_;  // a relay's: its link above, and its loop
  std::unique_ptr<RelayLoop> relay_;
  const std::string config_toml_;  // what checkpoints record, and a resume compares
  bool resumed_ = false;           // the state came from a checkpoint
  int64_t start_ms_ = 0;  // Run() began, less a resumed run's earlier wall time (which includes joining)
};

Coordinator::Coordinator(const ExperimentConfig& config, RunRecorder& recorder, const std::string& data_dir,
                         const TransportSecurity& security, const RelayTopology& topology, LocalNodes* local)
    : impl_(std::make_unique<Impl>(config, recorder, data_dir, security, topology, local)) {}
Coordinator::~Coordinator() = default;

Status Coordinator::Bind(const std::string& endpoint, std::string* bound) { return impl_->Bind(endpoint, bound); }

Status Coordinator::Restore(const Checkpoint& checkpoint) { return impl_->Restore(checkpoint); }

std::span<const float> Coordinator::model() const { return impl_->model(); }

Status Coordinator::Run(const std::atomic<bool>& stop, RunSummary* summary, RunOutcome* outcome) {
  return impl_->Run(stop, summary, outcome);
}

}  // namespace edgefl

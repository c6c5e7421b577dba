#include "coordinator/coordinator.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <vector>

#include "coordinator/admission.h"
#include "coordinator/aggregator.h"
#include "runfiles/checkpoint.h"
#include "coordinator/model_evaluator.h"
#include "coordinator/node_table.h"
#include "runfiles/run_state.h"
#include "strategy/server_step.h"
#include "coordinator/transport.h"
#include "coordinator/update_collector.h"
#include "coordinator/update_rows.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/log_throttle.h"
#include "maths/compressor_maths.h"
#include "maths/gradient_noise.h"
#include "maths/vector_norms.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

constexpr uint32_t kMaxFailedRounds = 3;
constexpr int64_t kByeTimeoutMs = 2000;
// How long a connection about to be closed has to take the Error that says why.
constexpr int64_t kCloseDelayMs = 200;

// Mean of the last half of `losses` (rounded up, so one round counts).
double TailMean(const std::vector<double>& losses) {
  const size_t start = losses.size() / 2;
  double sum = 0.0;
  for (size_t i = start; i < losses.size(); ++i) sum += losses[i];
  return sum / static_cast<double>(losses.size() - start);
}

}  // namespace

class Coordinator::Impl {
 public:
  Impl(const ExperimentConfig& config, RunRecorder& recorder, const std::string& data_dir,
       const TransportSecurity& security)
      : config_(config),
        recorder_(recorder),
        data_dir_(data_dir),
        dimension_(config.objective.dimension),
        // The largest update accepted (docs/protocol.md 1), from any encoder.
        max_message_bytes_(codec::UpdateSizeLimit(config.compressor, config.objective.dimension)),
        transport_(max_message_bytes_, config.round.heartbeat_ms, config.round.dead_after_ms, security),
        aggregator_(MakeAggregator(config.aggregator, config.compressor.kind, config.nodes, dimension_,
                                   max_message_bytes_, config.seed)),
        nodes_(config.nodes),
        admission_(config, nodes_),
        collector_(config_.compressor, dimension_, *aggregator_, nodes_),
        step_(config.step, config.server, StepFactsOf(config), dimension_),
        state_(dimension_, config.nodes),
        config_toml_(ToToml(config)),
        direction_(dimension_),
        gradient_before_(config.step.smoothness == SmoothnessSource::kOnline ? dimension_ : 0) {}

  Status Bind(const std::string& endpoint, std::string* bound) { return transport_.Bind(endpoint, bound); }
  std::span<const float> model() const { return state_.model; }

  Status Restore(const Checkpoint& checkpoint) {
    EDGEFL_RETURN_IF_ERROR(CheckSameConfig(checkpoint.config_toml, config_toml_));
    StateReader in(checkpoint.state);
    Status s = state_.Load(in);
    if (s.ok()) s = step_.Load(in);
    if (s.ok()) s = aggregator_->Load(in);
    if (s.ok() && !in.done()) {
      s = Status::Error(StatusCode::kMalformed, "%zu bytes are left over after the state", in.left());
    }
    if (s.ok() && (state_.round != checkpoint.round || state_.round > config_.rounds)) {
      s = Status::Error(StatusCode::kMalformed, "its state is at round %u, its header at round %u, of %u",
                        state_.round, checkpoint.round, config_.rounds);
    }
    if (!s.ok()) {
      return Status::Error(StatusCode::kMalformed, "checkpoint of round %u: %s", checkpoint.round, s.message());
    }
    resumed_ = true;
    const auto kind = config_.compressor.kind;
    if (kind == wire::CompressorKind::EfSign || kind == wire::CompressorKind::TopK) {
      EDGEFL_LOG_WARN("compressor.kind = \"%s\" keeps error-feedback memory on the nodes, which no checkpoint "
                      "holds: the resumed run is not the uninterrupted one bit for bit",
                      codec::CompressorName(kind));
    }
    return Status::Ok();
  }

  Status Run(const std::atomic<bool>& stop, RunSummary* out, RunOutcome* outcome) {
    RunSummary* summary = &state_.summary;
    summary->omega = CompressorOmega(config_.compressor, dimension_);
    summary->payload_bits_per_coordinate = PayloadBitsPerCoordinate(config_.compressor, dimension_);
    // A resumed run's clock carries on from its checkpoint's.
    start_ms_ = NowMs() - static_cast<int64_t>(std::llround(state_.wall_time_s * 1000.0));
    *outcome = RunOutcome::kFailed;
    Status status = ModelEvaluator::Create(config_, data_dir_, &evaluator_);
    if (status.ok() && !resumed_) {
      evaluator_->InitialModel(state_.model);
      const Evaluation initial = evaluator_->Evaluate(state_.model);
      summary->initial_loss = summary->final_loss = summary->best_loss = initial.loss;
      summary->final_test_accuracy = summary->best_test_accuracy = initial.test_accuracy;
    } else if (status.ok() && config_.step.smoothness == SmoothnessSource::kOnline) {
      // The gradient at the checkpoint's model, as the run had it then.
      evaluator_->Evaluate(state_.model);
    }
    if (status.ok()) CopyGradient();
    const bool started = status.ok();  // the state holds a model: x_0, or the checkpoint's
    if (resumed_ && started) {
      EDGEFL_LOG_INFO("%s: resuming at round %u of %u", config_.name.c_str(), state_.round, config_.rounds);
    }
    try {
      if (status.ok()) status = JoinAll(stop);
      if (status.ok()) status = RunRounds(stop, outcome);
      SayWhatAggregationDid();
      SayBye(status.ok() ? "run finished" : status.message());
    } catch (const zmq::error_t& e) {
      status = Status::Error(StatusCode::kInternal, "ZeroMQ error: %s", e.what());
    }
    if (!status.ok()) *outcome = stop.load() ? RunOutcome::kStopped : RunOutcome::kFailed;
    summary->wall_time_s = static_cast<double>(NowMs() - start_ms_) / 1000.0;
    if (summary->update_messages > 0) {
      summary->measured_bits_per_coordinate = 8.0 * static_cast<double>(state_.accepted_update_bytes) /
                                              static_cast<double>(summary->update_messages) / dimension_;
    }
    if (!status.ok()) {
      summary->ok = false;
      summary->stop_reason = status.message();
    }
    if (transport_.refused_connections() > 0) {
      EDGEFL_LOG_WARN("%llu connections were refused during their handshake",
                      static_cast<unsigned long long>(transport_.refused_connections()));
    }
    summary->rejected += transport_.refused_connections();
    summary->connections_closed = connections_closed_ + transport_.connections().closed_for_limits();
    summary->handshakes_failed = transport_.connections().failed_handshakes();
    if (summary->connections_lost + summary->connections_closed > 0) {
      EDGEFL_LOG_INFO("connections: %llu of joined nodes lost, %llu closed by the coordinator, %llu handshakes failed",
                      static_cast<unsigned long long>(summary->connections_lost),
                      static_cast<unsigned long long>(summary->connections_closed),
                      static_cast<unsigned long long>(summary->handshakes_failed));
    }
    if (refusal_log_.held_back() > 0) {
      EDGEFL_LOG_WARN("%llu more messages were rejected or refused without a warning each (%llu in all)",
                      static_cast<unsigned long long>(refusal_log_.held_back()),
                      static_cast<unsigned long long>(summary->rejected));
    }
    // model.bin and summary.toml first, the last checkpoint after them: a
    // checkpoint marked finished says that nothing is left to do, so it
    // must not exist before the files it promises. A crash in between
    // leaves the last periodic checkpoint (not finished), from which
    // --resume runs the last rounds again to the same model; and a finished
    // checkpoint whose files went missing is completed by --resume
    // (run_completion.h). The summary's hash is that of model.bin's values.
    Status written = recorder_.WriteModel(state_.model, &summary->model_hash);
    *out = *summary;
    const Status finished = recorder_.Finish(*summary);
    if (written.ok()) written = finished;
    // The last checkpoint: where a stopped or failed run resumes, or the
    // state a finished run ended in. A signal writes one even when periodic
    // checkpoints are off.
    if (started && !mid_round_ && (*outcome == RunOutcome::kStopped || config_.checkpoint_every > 0)) {
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
  // ------------------------------------------------------------ messages

  // Waits up to `timeout_ms` for one message and handles it; then notes
  // the connections that closed meanwhile.
  void PollOnce(int64_t timeout_ms) {
    Incoming in;
    if (transport_.Receive(timeout_ms, aggregator_->ReceiveBuffer(), &in)) HandleIncoming(in);
    NoteLostConnections();
  }

  // The transport's checks (the key's node, the size), then the message's.
  void HandleIncoming(const Incoming& in) {
    const uint32_t node = NodeTable::IdOf(in.routing_id);
    if (!in.authenticated) {
      // A listed key speaking for another node: told why, and its
      // connection closed, so that it holds no node's id (the real node's
      // connection with that id would otherwise never be heard).
      Reject(kNoNode, "a connection with node %u's key used routing id %.*s: closing it (a stolen or misplaced "
             "key: take it off the allow-list)",
             in.key_node, static_cast<int>(std::min<size_t>(in.routing_id.size(), 64)), in.routing_id.data());
      codec::EncodeError(fbb_, state_.round, wire::ErrorCode::Refused,
                         "this node's CURVE key belongs to another node id: use the key made for this id");
      transport_.Send(in.routing_id, fbb_);
      transport_.connections().CloseAt(in.fd, NowMs() + kCloseDelayMs);
      ++connections_closed_;
      return;
    }
    if (in.untruncated_bytes > max_message_bytes_ || in.untruncated_bytes > in.bytes.size()) {
      Reject(node, "message of %zu bytes exceeds the largest this run accepts (%zu)", in.untruncated_bytes,
             max_message_bytes_);
      return;
    }
    Handle(in.routing_id, node, in.bytes);
    if (nodes_.Joined(node) && nodes_[node].routing_id == in.routing_id) transport_.connections().Bind(in.fd, node);
  }

  // Joined nodes whose connection closed: not alive until heard again
  // (ZeroMQ reconnects a node that is still running).
  void NoteLostConnections() {
    uint32_t node = kNoNode;
    while (transport_.connections().TakeClosedNode(&node)) {
      if (node >= nodes_.size() || !nodes_[node].joined || saying_bye_) continue;
      ++state_.summary.connections_lost;
      nodes_[node].round.connection_lost = true;
      if (nodes_[node].alive) {
        EDGEFL_LOG_WARN("node %u's connection closed: its process ended, or it sent a message of more than %zu "
                        "bytes (%zu over the largest this run accepts), which closes a connection",
                        node, max_message_bytes_ + kTransportHeadroomBytes, kTransportHeadroomBytes);
      }
      nodes_[node].alive = false;
    }
  }

  void Handle(std::string_view routing_id, uint32_t node, std::span<const uint8_t> bytes) {
    const wire::Envelope* envelope = nullptr;
    const Status status = codec::ReadEnvelope(bytes, &envelope);
    if (!status.ok()) {
      Reject(node, "%s", status.message());
      // A peer that has not joined (e.g. speaking another protocol version)
      // is told why, so it can stop with a clear message: in its own
      // version, which is the one it reads.
      if (!nodes_.Joined(node)) {
        codec::EncodeError(fbb_, state_.round, wire::ErrorCode::Malformed, status.message(),
                           codec::ReplyVersion(bytes));
        transport_.Send(routing_id, fbb_);
      }
      return;
    }
    if (envelope->body_type() == wire::Body::Hello) {
      HandleHello(routing_id, node, *envelope->body_as_Hello());
      return;
    }
    if (!nodes_.Joined(node)) {
      if (node >= nodes_.size()) {
        Reject(node, "%s from a node that has not joined", wire::EnumNameBody(envelope->body_type()));
        return;
      }
      // A node of this run that this coordinator does not know, e.g. one
      // that joined the coordinator this one resumed from, is told to send
      // Hello again.
      CountRejected();
      if (WarnAboutRefusal()) {
        EDGEFL_LOG_INFO("node %u sent a %s without having joined: asked it to join", node,
                        wire::EnumNameBody(envelope->body_type()));
      }
      char text[64];
      std::snprintf(text, sizeof(text), "node %u has not joined this coordinator: send Hello", node);
      codec::EncodeError(fbb_, state_.round, wire::ErrorCode::UnknownNode, text);
      transport_.Send(routing_id, fbb_);
      return;
    }
    NodeSlot& slot = nodes_[node];
    slot.last_heard_ms = NowMs();
    if (!slot.alive) {
      slot.alive = true;
      EDGEFL_LOG_INFO("node %u is back", node);
    }
    switch (envelope->body_type()) {
      case wire::Body::Update: {
        const Status taken = collector_.Take(node, envelope->round(), *envelope->body_as_Update(), bytes.size());
        if (taken.ok()) {
          ++state_.summary.update_messages;
          state_.accepted_update_bytes += bytes.size();
          if (const Status kept = recorder_.AcceptedUpdate(node, envelope->round(), bytes); !kept.ok()) {
            EDGEFL_LOG_WARN("%s", kept.message());
          }
        } else {
          if (taken.code() == StatusCode::kOverflow) {
            state_.overflowed[node] = 1;
            ++overflows_in_round_;
          }
          Reject(node, "%s", taken.message());
        }
        break;
      }
      case wire::Body::Heartbeat:
        codec::EncodeHeartbeat(fbb_, state_.round, node);
        SendTo(node, fbb_);
        break;
      case wire::Body::Bye:
        slot.alive = false;
        slot.joined = false;
        if (!saying_bye_) {
          EDGEFL_LOG_WARN("node %u left: %s", node,
                          envelope->body_as_Bye()->reason() ? envelope->body_as_Bye()->reason()->c_str() : "");
        }
        break;
      case wire::Body::NONE:
      case wire::Body::Hello:  // handled above
      case wire::Body::Welcome:
      case wire::Body::RoundStart:
      case wire::Body::Error:
        Reject(node, "unexpected %s message", wire::EnumNameBody(envelope->body_type()));
        break;
    }
  }

  void HandleHello(std::string_view routing_id, uint32_t node, const wire::Hello& hello) {
    char text[256] = {};
    std::string_view reason = "the coordinator could not start its run";
    if (evaluator_ != nullptr) reason = admission_.Check(node, hello, text);
    if (!reason.empty()) {
      CountRejected();
      if (WarnAboutRefusal()) {
        EDGEFL_LOG_WARN("refused %.*s: %.*s", static_cast<int>(std::min<size_t>(routing_id.size(), 64)),
                        routing_id.data(), static_cast<int>(reason.size()), reason.data());
      }
      codec::EncodeRefusal(fbb_, std::string(reason).c_str());
      transport_.Send(routing_id, fbb_);
      return;
    }
    admission_.Join(node, routing_id, NowMs(), collector_.open());
    codec::EncodeWelcome(fbb_, config_.TaskFor(node), config_.round.heartbeat_ms, evaluator_->Shard(node));
    SendTo(node, fbb_);
  }

  [[gnu::format(printf, 3, 4)]] void Reject(uint32_t node, const char* format, ...) {
    char text[256];
    va_list args;
    va_start(args, format);
    std::vsnprintf(text, sizeof(text), format, args);
    va_end(args);
    CountRejected();
    if (!WarnAboutRefusal()) return;
    if (node == kNoNode) {
      EDGEFL_LOG_WARN("rejected a message from an unknown peer: %s", text);
    } else {
      EDGEFL_LOG_WARN("rejected a message from node %u: %s", node, text);
    }
  }

  // One more message refused: in the run's total and the round's.
  void CountRejected() {
    ++state_.summary.rejected;
    ++round_metrics_.rejected;
  }

  // Whether to log a rejection or refusal: a few every few seconds, and how
  // many were held back (docs/outputs.md: the summary counts them all).
  bool WarnAboutRefusal() {
    uint64_t held_back = 0;
    if (!refusal_log_.Allow(NowMs(), &held_back)) return false;
    if (held_back > 0) {
      EDGEFL_LOG_WARN("%llu more messages were rejected or refused without a warning each",
                      static_cast<unsigned long long>(held_back));
    }
    return true;
  }

  bool SendTo(uint32_t node, const flatbuffers::FlatBufferBuilder& fbb) {
    if (transport_.Send(nodes_[node].routing_id, fbb)) return true;
    if (nodes_[node].alive) EDGEFL_LOG_WARN("node %u is unreachable", node);
    nodes_[node].alive = false;
    return false;
  }

  // ------------------------------------------------------------ phases

  Status JoinAll(const std::atomic<bool>& stop) {
    const int64_t give_up = NowMs() + config_.round.join_timeout_ms;
    while (!stop.load() && nodes_.JoinedCount() < config_.nodes && NowMs() < give_up) PollOnce(give_up - NowMs());
    if (stop.load()) return Status::Error(StatusCode::kUnavailable, "stopped while nodes were joining");
    if (nodes_.JoinedCount() < config_.nodes) {
      return Status::Error(StatusCode::kTimeout, "only %u of %u nodes joined within %u ms (missing: %s)",
                           nodes_.JoinedCount(), config_.nodes, config_.round.join_timeout_ms,
                           nodes_.MissingIds().c_str());
    }
    EDGEFL_LOG_INFO("%s: %u nodes joined, d = %u, %s, %s, %u rounds", config_.name.c_str(), config_.nodes, dimension_,
                    codec::CompressorName(config_.compressor.kind), AggregatorName(config_.aggregator.kind),
                    config_.rounds);
    if (KeepsEveryUpdate(config_.aggregator.kind)) {
      const double bytes = static_cast<double>(UpdateRows::BytesFor(config_.nodes, dimension_));
      const bool mib = bytes >= (1 << 20);
      EDGEFL_LOG_INFO("%s keeps every update of a round: %.3g %s for %u updates of %u values",
                      AggregatorName(config_.aggregator.kind), bytes / (mib ? 1 << 20 : 1 << 10), mib ? "MiB" : "KiB",
                      config_.nodes, dimension_);
    }
    return Status::Ok();
  }

  Status RunRounds(const std::atomic<bool>& stop, RunOutcome* outcome) {
    rounds_start_ms_ = NowMs() - static_cast<int64_t>(std::llround(state_.rounds_time_s * 1000.0));
    const uint32_t progress_every = std::max(1u, config_.rounds / 10);
    for (; state_.round < config_.rounds;) {
      if (stop.load()) return Stopped(outcome);
      RoundMetrics m;
      const RoundEnd end = RunRound(stop, &m);
      // A round a signal cut short is not recorded: a resumed run runs it again.
      if (end == RoundEnd::kCutShort) return Stopped(outcome);
      if (end == RoundEnd::kTooFewNodes) {
        return Status::Error(StatusCode::kUnavailable, "round %u: only %u of %u nodes alive, quorum needs %u",
                             state_.round, m.participants, config_.nodes, config_.QuorumCount());
      }
      const uint32_t round = state_.round;
      RecordInSummary(m);
      state_.round = round + 1;
      mid_round_ = false;
      if ((round + 1) % progress_every == 0 || round + 1 == config_.rounds) LogProgress(m);
      if (const char* why = DivergenceOf(m, overflows_in_round_ > 0)) {
        EDGEFL_LOG_WARN("%s: diverged in round %u: %s", config_.name.c_str(), round, why);
        state_.summary.diverged_at = round;
        state_.summary.stop_reason = "diverged";
        *outcome = RunOutcome::kDiverged;
        return Status::Ok();
      }
      // A round counts as failed only when it lacked its quorum: a rule
      // may choose a step of 0 without the run taking it for lost nodes.
      if (end == RoundEnd::kNoStep) {
        if (++state_.failed_in_a_row >= kMaxFailedRounds) {
          return Status::Error(StatusCode::kUnavailable, "quorum of %u updates not reached in %u rounds in a row",
                               config_.QuorumCount(), kMaxFailedRounds);
        }
      } else {
        state_.failed_in_a_row = 0;
        ++state_.summary.steps;
      }
      if (config_.target_loss > 0.0 && m.loss <= config_.target_loss) {
        state_.summary.stop_reason = "target loss reached";
        *outcome = RunOutcome::kTargetReached;
        return Status::Ok();
      }
      if (config_.checkpoint_every > 0 && state_.round % config_.checkpoint_every == 0 &&
          state_.round < config_.rounds) {
        EDGEFL_RETURN_IF_ERROR(SaveCheckpoint(/*finished=*/false, ""));
      }
    }
    state_.summary.stop_reason = "all rounds done";
    *outcome = RunOutcome::kDone;
    return Status::Ok();
  }

  Status Stopped(RunOutcome* outcome) {
    state_.summary.stop_reason = "stopped by signal";
    *outcome = RunOutcome::kStopped;
    return Status::Ok();
  }

  // Writes checkpoint.bin: the config and the state after state_.round
  // rounds, with the run's clocks as they stand.
  Status SaveCheckpoint(bool finished, const std::string& stop_reason) {
    const int64_t begin_ms = NowMs();
    state_.wall_time_s = static_cast<double>(begin_ms - start_ms_) / 1000.0;
    StateWriter out;
    state_.Save(out);
    step_.Save(out);
    aggregator_->Save(out);
    Checkpoint checkpoint{.round = state_.round,
                          .finished = finished,
                          .config_toml = config_toml_,
                          .stop_reason = stop_reason,
                          .state = out.Release()};
    const Status s = recorder_.WriteCheckpoint(checkpoint);
    if (!s.ok()) {
      return Status::Error(StatusCode::kInvalidArgument, "checkpoint of round %u: %s", state_.round, s.message());
    }
    EDGEFL_LOG_DEBUG("checkpoint after %u rounds: %zu bytes in %lld ms", state_.round,
                     kCheckpointHeaderBytes + checkpoint.state.size() + config_toml_.size() + stop_reason.size() + 16,
                     static_cast<long long>(NowMs() - begin_ms));
    return Status::Ok();
  }

  // Why the run has diverged after this round, or nullptr. The loss test is
  // relative to the initial loss, but never below run.divergence_floor, so
  // a run that starts at (or near) the optimum is not "diverged" for rising
  // to its noise floor. Updates with |v| >= 2^40 are refused, and an honest
  // run sends one only once it has blown up. Its nodes then overflow a few
  // at a time, rounds lack their quorum and the model stays where they
  // overflow. Two tests tell that from a hostile node: the coordinator's own
  // gradient at the model explains the overflow (max|grad f| times the
  // compressor's largest amplification within a factor 64 of 2^40, the
  // margin for noise), or most nodes have sent overflowing updates.
  const char* DivergenceOf(const RoundMetrics& m, bool overflow_this_round) const {
    if (!std::isfinite(m.loss)) return "the loss is not finite";
    const double reference = std::max(state_.summary.initial_loss, config_.divergence_floor);
    if (m.loss > config_.divergence_factor * reference) return "the loss passed run.divergence_factor";
    const double explained = m.grad_max_abs * CompressorMaxAmplification(config_.compressor, dimension_);
    if (overflow_this_round && explained >= static_cast<double>(codec::kMaxUpdateMagnitude) / 64.0) {
      return "updates overflowed (|v| >= 2^40), as the model's own gradient predicts";
    }
    const auto overflowed = std::count(state_.overflowed.begin(), state_.overflowed.end(), 1);
    if (2 * static_cast<size_t>(overflowed) > config_.nodes) {
      return "most nodes have sent updates too large to add (|v| >= 2^40 or not finite)";
    }
    return nullptr;
  }

  void LogProgress(const RoundMetrics& m) const {
    char accuracy[32] = "";
    if (std::isfinite(m.test_accuracy)) std::snprintf(accuracy, sizeof(accuracy), "  test acc %.3f", m.test_accuracy);
    EDGEFL_LOG_INFO("%s: round %u/%u  loss %.4g%s  step %.3g  up %llu B  down %llu B", config_.name.c_str(),
                    m.round + 1, config_.rounds, m.loss, accuracy, m.step_size,
                    static_cast<unsigned long long>(m.bytes_up), static_cast<unsigned long long>(m.bytes_down));
  }

  // Folds a finished round into the summary.
  void RecordInSummary(const RoundMetrics& m) {
    state_.summary.rounds = state_.round + 1;
    state_.rounds_time_s = m.time_s;
    state_.summary.bytes_up += m.bytes_up;
    state_.summary.bytes_down += m.bytes_down;
    state_.summary.final_loss = m.loss;
    state_.summary.final_test_accuracy = m.test_accuracy;
    if (!(state_.summary.best_test_accuracy >= m.test_accuracy)) state_.summary.best_test_accuracy = m.test_accuracy;
    state_.summary.final_grad_norm = m.grad_norm;
    state_.summary.best_loss = std::min(state_.summary.best_loss, m.loss);
    state_.losses.push_back(m.loss);
    state_.summary.tail_mean_loss = TailMean(state_.losses);
  }

  // Sends the model to every participant, in parts of at most
  // kRoundStartPartValues values, each encoded once.
  void StartRound() {
    const uint32_t round = state_.round;
    for (uint32_t offset = 0; offset < dimension_; offset += codec::kRoundStartPartValues) {
      const uint32_t count = std::min(codec::kRoundStartPartValues, dimension_ - offset);
      codec::EncodeRoundStartFull(fbb_, round, std::span<const float>(state_.model).subspan(offset, count), offset);
      for (uint32_t i = 0; i < nodes_.size(); ++i) {
        if (!nodes_[i].participant) continue;
        if (SendTo(i, fbb_)) {
          round_metrics_.bytes_down += fbb_.GetSize();
          nodes_[i].round.bytes_down += fbb_.GetSize();
        } else {
          nodes_[i].participant = false;
        }
      }
    }
    for (uint32_t i = 0; i < nodes_.size(); ++i) round_metrics_.participants += nodes_[i].participant ? 1 : 0;
  }

  // How a round ended.
  enum class RoundEnd {
    kStep,         // recorded, with a step
    kNoStep,       // recorded, without its quorum of updates: no step
    kTooFewNodes,  // not started: fewer live nodes than the quorum (m->participants of them)
    kCutShort,     // a signal came before every participant answered: not recorded, no step
  };

  RoundEnd RunRound(const std::atomic<bool>& stop, RoundMetrics* m) {
    const uint32_t round = state_.round;
    round_metrics_ = RoundMetrics();
    round_metrics_.round = round;
    collector_.Open(round);
    overflows_in_round_ = 0;

    // Everyone alive takes part. Too few alive: lost nodes get
    // join_timeout_ms to rejoin before the run gives up (a restarted node's
    // id frees once its old connection is found dead, transport.h).
    recorder_.audit().Begin(state_.model);
    uint32_t expected = nodes_.BeginRound(round);
    const int64_t give_up = NowMs() + config_.round.join_timeout_ms;
    while (expected < config_.QuorumCount() && !stop.load() && NowMs() < give_up) {
      PollOnce(std::min<int64_t>(give_up - NowMs(), config_.round.heartbeat_ms));
      expected = nodes_.BeginRound(round);
    }
    if (expected < config_.QuorumCount()) {
      collector_.Close();
      m->participants = expected;
      return RoundEnd::kTooFewNodes;
    }
    StartRound();

    // Collect until every live participant answered or the deadline.
    const int64_t deadline = NowMs() + config_.round.deadline_ms;
    while (!stop.load() && NowMs() < deadline && nodes_.Outstanding() > 0) {
      PollOnce(std::min<int64_t>(deadline - NowMs(), config_.round.heartbeat_ms));
      nodes_.DropSilent(NowMs(), config_.round.dead_after_ms);
    }
    collector_.Close();
    if (stop.load() && nodes_.Outstanding() > 0) return RoundEnd::kCutShort;

    round_metrics_.bytes_up = collector_.round_bytes_up();
    round_metrics_.updates = collector_.count();
    const bool stepped = collector_.count() >= config_.QuorumCount();
    if (stepped) {
      mid_round_ = true;  // the model has moved; state_.round not yet
      aggregator_->Finish(direction_);
      NoteAggregation(round);
      round_metrics_.direction_norm = EuclideanNorm(direction_);
      round_metrics_.step_size = step_.Apply(
          {round, direction_, round_metrics_.direction_norm, collector_.mean_node_grad_norm()}, state_.model);
      if (UsesNormEstimate(config_.step.rule)) round_metrics_.norm_estimate = step_.norm_estimate();
      if (UsesSmoothness(config_.step.rule) || config_.step.smoothness == SmoothnessSource::kOnline) {
        round_metrics_.l0 = step_.l0();
        round_metrics_.l1 = step_.l1();
        round_metrics_.smoothness_estimated = step_.smoothness_estimated();
      }
      round_metrics_.node_loss = collector_.mean_node_loss();
    } else {
      EDGEFL_LOG_WARN("round %u: %u updates, quorum needs %u: no step", round, collector_.count(),
                      config_.QuorumCount());
    }
    const Evaluation evaluation = evaluator_->Evaluate(state_.model);
    if (stepped) step_.ObserveGradients(gradient_before_, evaluator_->gradient());
    CopyGradient();
    round_metrics_.loss = evaluation.loss;
    round_metrics_.grad_norm = evaluation.grad_norm;
    round_metrics_.grad_max_abs = evaluation.grad_max_abs;
    round_metrics_.test_loss = evaluation.test_loss;
    round_metrics_.test_accuracy = evaluation.test_accuracy;
    round_metrics_.time_s = static_cast<double>(NowMs() - rounds_start_ms_) / 1000.0;
    recorder_.Record(round_metrics_);
    if (const Status audited = recorder_.audit().Record(round, round_metrics_.step_size,
                                                        stepped ? std::span<const double>(direction_)
                                                                : std::span<const double>(),
                                                        state_.model);
        !audited.ok()) {
      EDGEFL_LOG_WARN("round %u: %s", round, audited.message());
    }
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].round.bytes_down > 0 || nodes_[i].round.bytes_up > 0) recorder_.RecordNode(nodes_[i].round);
    }
    *m = round_metrics_;
    return stepped ? RoundEnd::kStep : RoundEnd::kNoStep;
  }

  // Keeps grad f at the model (evaluated last) for the online smoothness
  // fit's next sample.
  void CopyGradient() {
    if (config_.step.smoothness != SmoothnessSource::kOnline) return;
    const std::span<const float> gradient = evaluator_->gradient();
    std::copy(gradient.begin(), gradient.end(), gradient_before_.begin());
  }

  // Counts updates norm bounding scaled down, and says when Krum first
  // falls back to the median (once; the count follows at the end).
  void NoteAggregation(uint32_t round) {
    bounded_updates_ += aggregator_->bounded();
    if (!aggregator_->fell_back()) return;
    if (fallback_rounds_++ == 0) {
      EDGEFL_LOG_WARN("round %u: %u updates, and krum needs 2f + 3 = %u (aggregator.byzantine = %u): this round and "
                      "any other with too few take the coordinate-wise median instead",
                      round, collector_.count(), 2 * config_.aggregator.byzantine + 3, config_.aggregator.byzantine);
    }
  }

  void SayWhatAggregationDid() const {
    if (bounded_updates_ > 0) {
      EDGEFL_LOG_INFO("aggregator.max_update_norm = %g scaled down %llu updates", config_.aggregator.max_update_norm,
                      static_cast<unsigned long long>(bounded_updates_));
    }
    if (fallback_rounds_ > 0) {
      EDGEFL_LOG_INFO("krum took the coordinate-wise median in %u rounds, for want of 2f + 3 updates",
                      fallback_rounds_);
    }
  }

  // Tells every node the run is over and waits (briefly) for each to answer
  // Bye: a message sent just before a socket closes is not guaranteed to
  // leave, so the node's answer is what proves it was told.
  void SayBye(const char* reason) {
    const auto send_bye = [&] {
      codec::EncodeBye(fbb_, state_.round, kNoNode, reason);
      for (uint32_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i].joined && !SendTo(i, fbb_)) nodes_[i].joined = false;
      }
    };
    send_bye();
    saying_bye_ = true;
    const int64_t give_up = NowMs() + kByeTimeoutMs;
    int64_t resend_at = NowMs() + 100;
    while (nodes_.JoinedCount() > 0 && NowMs() < give_up) {
      PollOnce(std::min(give_up, resend_at) - NowMs());
      if (NowMs() >= resend_at) {
        send_bye();  // to those that have not answered (a lost Bye)
        resend_at = NowMs() + 100;
      }
    }
  }

  const ExperimentConfig& config_;
  RunRecorder& recorder_;
  const std::string data_dir_;
  const uint32_t dimension_;
  const size_t max_message_bytes_;
  Transport transport_;
  flatbuffers::FlatBufferBuilder fbb_{4096};
  std::unique_ptr<ModelEvaluator> evaluator_;
  std::unique_ptr<Aggregator> aggregator_;
  NodeTable nodes_;
  Admission admission_;
  UpdateCollector collector_;
  ServerStep step_;
  RunState state_;
  const std::string config_toml_;  // what checkpoints record, and a resume compares
  std::vector<double> direction_;
  // grad f at the model the round starts from (step.smoothness = "online").
  std::vector<float> gradient_before_;
  uint32_t overflows_in_round_ = 0;
  uint64_t bounded_updates_ = 0;  // scaled down to aggregator.max_update_norm
  uint64_t connections_closed_ = 0;  // keys that spoke for another node
  uint32_t fallback_rounds_ = 0;  // krum took the median
  bool resumed_ = false;          // the state came from a checkpoint
  bool mid_round_ = false;        // a step moved the model in a round not yet counted

  RoundMetrics round_metrics_;
  LogThrottle refusal_log_{10, 5000};  // 10 warnings every 5 s
  bool saying_bye_ = false;
  int64_t start_ms_ = 0;         // Run() began, less a resumed run's earlier wall time (which includes joining)
  int64_t rounds_start_ms_ = 0;  // the first round began, less a resumed run's earlier rounds (metrics time_s)
};

Coordinator::Coordinator(const ExperimentConfig& config, RunRecorder& recorder, const std::string& data_dir,
                         const TransportSecurity& security)
    : impl_(std::make_unique<Impl>(config, recorder, data_dir, security)) {}
Coordinator::~Coordinator() = default;

Status Coordinator::Bind(const std::string& endpoint, std::string* bound) { return impl_->Bind(endpoint, bound); }

Status Coordinator::Restore(const Checkpoint& checkpoint) { return impl_->Restore(checkpoint); }

std::span<const float> Coordinator::model() const { return impl_->model(); }

Status Coordinator::Run(const std::atomic<bool>& stop, RunSummary* summary, RunOutcome* outcome) {
  return impl_->Run(stop, summary, outcome);
}

}  // namespace edgefl

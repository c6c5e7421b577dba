#include "coordinator/coordinator.h"

#include <algorithm>
#include <cmath>
#include <vector>
#include <zmq.hpp>

#include "coordinator/aggregator.h"
#include "coordinator/model_evaluator.h"
#include "coordinator/node_table.h"
#include "coordinator/step_rule.h"
#include "core/clock.h"
#include "core/log.h"
#include "node/compressor.h"
#include "node/node_runtime.h"
#include "node/socket_poll.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

constexpr int kMaxFailedRounds = 3;
constexpr int64_t kByeTimeoutMs = 2000;

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
  Impl(const ExperimentConfig& config, RunRecorder& recorder, const std::string& data_dir)
      : config_(config),
        recorder_(recorder),
        data_dir_(data_dir),
        dimension_(config.objective.dimension),
        socket_(context_, zmq::socket_type::router),
        model_(dimension_),
        direction_(dimension_),
        aggregator_(config.aggregator, dimension_),
        scratch_(dimension_),
        nodes_(config.nodes) {
    socket_.set(zmq::sockopt::linger, 1000);
    socket_.set(zmq::sockopt::router_mandatory, 1);
    // A node that restarts (a crash, a board power-cycled) reconnects with
    // the same routing id while its old connection may linger, half open,
    // for minutes: the new connection takes the id over at once.
    socket_.set(zmq::sockopt::router_handover, 1);
    // Room for the largest update this run's compressor can produce. Updates
    // to a mean (all but sparse ones) are held back in their receive buffers
    // and added Aggregator::kMaxPending at a time (one pass over the exact
    // sums), so they get that many buffers when it fits
    // kReceiveBuffersBudgetBytes.
    const size_t max_message_bytes = std::max<size_t>(MaxUpdateMessageBytes(config.TaskFor(0)), 4096);
    hold_updates_ = Aggregator::CanHoldUpdates(config.aggregator, config.compressor.kind) &&
                          Aggregator::kMaxPending * max_message_bytes <= kReceiveBuffersBudgetBytes;
    receive_buffers_.resize(hold_updates_ ? Aggregator::kMaxPending : 1);
    for (auto& buffer : receive_buffers_) buffer.resize((max_message_bytes + 7) / 8);
  }

  Status Bind(const std::string& endpoint, std::string* bound) {
    try {
      socket_.bind(endpoint);
    } catch (const zmq::error_t& e) {
      return Status::Error(StatusCode::kInvalidArgument, "cannot bind %s: %s", endpoint.c_str(), e.what());
    }
    *bound = socket_.get(zmq::sockopt::last_endpoint);
    return Status::Ok();
  }

  Status Run(const std::atomic<bool>& stop, RunSummary* summary) {
    summary_ = summary;
    summary->omega = CompressorOmega(config_.compressor, dimension_);
    summary->payload_bits_per_coordinate = PayloadBitsPerCoordinate(config_.compressor, dimension_);
    start_ms_ = NowMs();
    Status status = ModelEvaluator::Create(config_, data_dir_, &evaluator_);
    if (status.ok()) {
      evaluator_->InitialModel(model_);
      const Evaluation initial = evaluator_->Evaluate(model_);
      summary->initial_loss = summary->final_loss = summary->best_loss = initial.loss;
      summary->final_test_accuracy = summary->best_test_accuracy = initial.test_accuracy;
    }
    try {
      if (status.ok()) status = JoinAll(stop);
      if (status.ok()) status = RunRounds(stop);
      SayBye(status.ok() ? "run finished" : status.message());
    } catch (const zmq::error_t& e) {
      status = Status::Error(StatusCode::kInternal, "ZeroMQ error: %s", e.what());
    }
    summary->wall_time_s = static_cast<double>(NowMs() - start_ms_) / 1000.0;
    summary->model_hash = codec::ModelHash(model_);
    if (summary->update_messages > 0) {
      summary->measured_bits_per_coordinate = 8.0 * static_cast<double>(accepted_update_bytes_) /
                                              static_cast<double>(summary->update_messages) / dimension_;
    }
    if (!status.ok()) {
      summary->ok = false;
      summary->stop_reason = status.message();
    }
    const Status written = recorder_.Finish(*summary);
    return status.ok() ? written : status;
  }

 private:
  // ------------------------------------------------------------ messages

  // Waits up to `timeout_ms` for one message and handles it. Returns false
  // on timeout.
  bool PollOnce(int64_t timeout_ms) {
    if (!WaitReadable(socket_, timeout_ms)) return false;
    char identity[256];
    const auto id_size = socket_.recv(zmq::mutable_buffer(identity, sizeof(identity)), zmq::recv_flags::dontwait);
    if (!id_size) return false;
    if (!socket_.get(zmq::sockopt::rcvmore)) return true;  // a bare identity: nothing to do
    // Never a buffer that holds an update the aggregator has held back.
    auto& receive_buffer = receive_buffers_[hold_updates_ ? aggregator_.pending() : 0];
    auto* buffer = reinterpret_cast<uint8_t*>(receive_buffer.data());
    const size_t capacity = receive_buffer.size() * 8;
    const auto size = socket_.recv(zmq::mutable_buffer(buffer, capacity), zmq::recv_flags::dontwait);
    while (socket_.get(zmq::sockopt::rcvmore)) {  // drain frames a node never sends
      zmq::message_t extra;
      (void)socket_.recv(extra, zmq::recv_flags::dontwait);
    }
    if (!size) return false;
    const std::string_view routing_id(identity, std::min(id_size->untruncated_size, sizeof(identity)));
    const uint32_t node = NodeTable::IdOf(routing_id);
    if (size->untruncated_size > capacity) {
      Reject(node, "message of %zu bytes exceeds the largest this run can produce (%zu)", size->untruncated_size, capacity);
      return true;
    }
    Handle(routing_id, node, {buffer, size->size});
    return true;
  }

  void Handle(std::string_view routing_id, uint32_t node, std::span<const uint8_t> bytes) {
    const wire::Envelope* envelope = nullptr;
    const Status status = codec::ReadEnvelope(bytes, &envelope);
    if (!status.ok()) {
      Reject(node, "%s", status.message());
      // A peer that has not joined (e.g. speaking another protocol version)
      // is told why, so it can stop with a clear message.
      if (!nodes_.Joined(node)) {
        codec::EncodeError(fbb_, round_, wire::ErrorCode::Malformed, status.message());
        SendToIdentity(routing_id, fbb_);
      }
      return;
    }
    if (envelope->body_type() == wire::Body::Hello) {
      HandleHello(routing_id, node, *envelope->body_as_Hello());
      return;
    }
    if (!nodes_.Joined(node)) {
      Reject(node, "%s from a node that has not joined", wire::EnumNameBody(envelope->body_type()));
      return;
    }
    NodeSlot& slot = nodes_[node];
    slot.last_heard_ms = NowMs();
    if (!slot.alive) {
      slot.alive = true;
      EDGEFL_LOG_INFO("node %u is back", node);
    }
    switch (envelope->body_type()) {
      case wire::Body::Update:
        HandleUpdate(node, envelope->round(), *envelope->body_as_Update(), bytes.size());
        break;
      case wire::Body::Heartbeat:
        codec::EncodeHeartbeat(fbb_, round_, node);
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
      default:
        Reject(node, "unexpected %s message", wire::EnumNameBody(envelope->body_type()));
        break;
    }
  }

  void HandleHello(std::string_view routing_id, uint32_t node, const wire::Hello& hello) {
    codec::HelloInfo info;
    Status s = codec::ReadHello(hello, &info);
    char reason[256] = {};
    if (evaluator_ == nullptr) {
      std::snprintf(reason, sizeof(reason), "the coordinator could not start its run");
    } else if (!s.ok()) {
      std::snprintf(reason, sizeof(reason), "%s", s.message());
    } else if (node == kNoNode || info.node_id != node) {
      std::snprintf(reason, sizeof(reason), "routing id does not match node id %u", info.node_id);
    } else if (node >= nodes_.size()) {
      std::snprintf(reason, sizeof(reason), "node id %u is outside 0..%u (run.nodes = %u)", node, nodes_.size() - 1,
                    nodes_.size());
    } else if (info.dimension != 0 && info.dimension != dimension_) {
      std::snprintf(reason, sizeof(reason), "node dimension %u does not match objective.dimension = %u",
                    info.dimension, dimension_);
    } else if (hello.supported() == nullptr ||
               std::find(hello.supported()->begin(), hello.supported()->end(), config_.compressor.kind) ==
                   hello.supported()->end()) {
      std::snprintf(reason, sizeof(reason), "node does not support compressor.kind = \"%s\"",
                    codec::CompressorName(config_.compressor.kind));
    }
    if (reason[0] != '\0') {
      ++summary_->rejected;
      ++round_metrics_.rejected;
      EDGEFL_LOG_WARN("refused %.*s: %s", static_cast<int>(routing_id.size()), routing_id.data(), reason);
      codec::EncodeRefusal(fbb_, reason);
      SendToIdentity(routing_id, fbb_);
      return;
    }
    NodeSlot& slot = nodes_[node];
    if (!slot.joined) EDGEFL_LOG_DEBUG("node %u joined", node);
    slot.joined = slot.alive = true;
    slot.last_heard_ms = NowMs();
    slot.routing_id = std::string(routing_id);
    // A node that (re)joins mid-round never got this round's start: it takes
    // part from the next round, and this round does not wait for it.
    if (in_round_ && !slot.answered) slot.participant = false;
    codec::EncodeWelcome(fbb_, config_.TaskFor(node), config_.round.heartbeat_ms, evaluator_->Shard(node));
    SendTo(node, fbb_);
  }

  void HandleUpdate(uint32_t node, uint32_t round, const wire::Update& update, size_t bytes) {
    round_metrics_.bytes_up += bytes;
    NodeSlot& slot = nodes_[node];
    slot.round.bytes_up += bytes;
    if (!in_round_ || round != round_) {
      Reject(node, "update for round %u while round %u is %s", round, round_, in_round_ ? "open" : "closed");
      return;
    }
    if (!slot.participant) return Reject(node, "update from a node not asked in round %u", round);
    if (slot.answered) return Reject(node, "duplicate update in round %u", round);
    if (update.node_id() != node) return Reject(node, "update claims node id %u", update.node_id());
    codec::DecodedPayload decoded;
    const Status s = codec::DecodeUpdatePayload(update, config_.compressor, dimension_, scratch_, &decoded);
    if (!s.ok()) return Reject(node, "round %u: %s", round, s.message());
    slot.answered = true;
    slot.round.accepted = true;
    accepted_update_bytes_ += bytes;
    slot.round.loss = update.loss();
    slot.round.grad_norm = update.grad_norm();
    slot.round.compute_us = update.compute_us();
    aggregator_.Add(decoded, hold_updates_);
    if (std::isfinite(update.loss())) {
      node_loss_sum_ += update.loss();
      ++node_loss_count_;
    }
    ++summary_->update_messages;
  }

  [[gnu::format(printf, 3, 4)]] void Reject(uint32_t node, const char* format, ...) {
    char text[256];
    va_list args;
    va_start(args, format);
    std::vsnprintf(text, sizeof(text), format, args);
    va_end(args);
    ++summary_->rejected;
    ++round_metrics_.rejected;
    if (node == kNoNode) {
      EDGEFL_LOG_WARN("rejected a message from an unknown peer: %s", text);
    } else {
      EDGEFL_LOG_WARN("rejected a message from node %u: %s", node, text);
    }
  }

  bool SendToIdentity(std::string_view routing_id, const flatbuffers::FlatBufferBuilder& fbb) {
    try {
      socket_.send(zmq::const_buffer(routing_id.data(), routing_id.size()), zmq::send_flags::sndmore);
      socket_.send(zmq::const_buffer(fbb.GetBufferPointer(), fbb.GetSize()), zmq::send_flags::none);
      return true;
    } catch (const zmq::error_t& e) {
      if (e.num() != EHOSTUNREACH) throw;
      return false;
    }
  }

  bool SendTo(uint32_t node, const flatbuffers::FlatBufferBuilder& fbb) {
    if (SendToIdentity(nodes_[node].routing_id, fbb)) return true;
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
    EDGEFL_LOG_INFO("%s: %u nodes joined, d = %u, %s, %u rounds", config_.name.c_str(), config_.nodes, dimension_,
                    codec::CompressorName(config_.compressor.kind), config_.rounds);
    return Status::Ok();
  }

  Status RunRounds(const std::atomic<bool>& stop) {
    rounds_start_ms_ = NowMs();
    int failed_in_a_row = 0;
    const uint32_t progress_every = std::max(1u, config_.rounds / 10);
    for (round_ = 0; round_ < config_.rounds; ++round_) {
      if (stop.load()) {
        summary_->stop_reason = "stopped by signal";
        return Status::Ok();
      }
      RoundMetrics m;
      EDGEFL_RETURN_IF_ERROR(RunRound(stop, &m));
      RecordInSummary(m);
      if (m.updates == 0 || m.step_size == 0.0) {
        if (++failed_in_a_row >= kMaxFailedRounds) {
          return Status::Error(StatusCode::kUnavailable, "quorum of %u updates not reached in %d rounds in a row",
                               config_.QuorumCount(), kMaxFailedRounds);
        }
      } else {
        failed_in_a_row = 0;
        ++summary_->steps;
      }
      if ((round_ + 1) % progress_every == 0 || round_ + 1 == config_.rounds) {
        char accuracy[32] = "";
        if (std::isfinite(m.test_accuracy)) std::snprintf(accuracy, sizeof(accuracy), "  test acc %.3f", m.test_accuracy);
        EDGEFL_LOG_INFO("%s: round %u/%u  loss %.4g%s  step %.3g  up %llu B  down %llu B", config_.name.c_str(),
                        round_ + 1, config_.rounds, m.loss, accuracy, m.step_size,
                        static_cast<unsigned long long>(m.bytes_up), static_cast<unsigned long long>(m.bytes_down));
      }
      if (!std::isfinite(m.loss) || m.loss > config_.divergence_factor * summary_->initial_loss) {
        summary_->diverged_at = round_;
        summary_->stop_reason = "diverged";
        return Status::Ok();
      }
      if (config_.target_loss > 0.0 && m.loss <= config_.target_loss) {
        summary_->stop_reason = "target loss reached";
        return Status::Ok();
      }
    }
    summary_->stop_reason = "all rounds done";
    return Status::Ok();
  }

  // Folds a finished round into the summary.
  void RecordInSummary(const RoundMetrics& m) {
    summary_->rounds = round_ + 1;
    summary_->bytes_up += m.bytes_up;
    summary_->bytes_down += m.bytes_down;
    summary_->final_loss = m.loss;
    summary_->final_test_accuracy = m.test_accuracy;
    if (!(summary_->best_test_accuracy >= m.test_accuracy)) summary_->best_test_accuracy = m.test_accuracy;
    summary_->final_grad_norm = m.grad_norm;
    summary_->best_loss = std::min(summary_->best_loss, m.loss);
    losses_.push_back(m.loss);
    summary_->tail_mean_loss = TailMean(losses_);
  }

  Status RunRound(const std::atomic<bool>& stop, RoundMetrics* m) {
    round_metrics_ = RoundMetrics();
    round_metrics_.round = round_;
    aggregator_.Reset();
    node_loss_sum_ = 0.0;
    node_loss_count_ = 0;

    // Everyone alive takes part.
    const uint32_t expected = nodes_.BeginRound(round_);
    if (expected < config_.QuorumCount()) {
      return Status::Error(StatusCode::kUnavailable, "round %u: only %u of %u nodes alive, quorum needs %u", round_,
                           expected, config_.nodes, config_.QuorumCount());
    }
    // The model goes out in parts of at most kRoundStartPartValues values,
    // each encoded once and sent to every participant.
    for (uint32_t offset = 0; offset < dimension_; offset += codec::kRoundStartPartValues) {
      const uint32_t count = std::min(codec::kRoundStartPartValues, dimension_ - offset);
      codec::EncodeRoundStartFull(fbb_, round_, std::span<const float>(model_).subspan(offset, count), offset);
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

    // Collect until every live participant answered or the deadline.
    in_round_ = true;
    const int64_t deadline = NowMs() + config_.round.deadline_ms;
    while (!stop.load() && NowMs() < deadline && nodes_.Outstanding() > 0) {
      PollOnce(std::min<int64_t>(deadline - NowMs(), config_.round.heartbeat_ms));
      nodes_.DropSilent(NowMs(), config_.round.dead_after_ms);
    }
    in_round_ = false;

    round_metrics_.updates = aggregator_.count();
    if (aggregator_.count() >= config_.QuorumCount()) {
      aggregator_.Finish(direction_);
      double norm_squared = 0.0;
      for (double v : direction_) norm_squared += v * v;
      round_metrics_.direction_norm = std::sqrt(norm_squared);
      const double eta = StepSize(config_.step, {round_, round_metrics_.direction_norm});
      for (uint32_t j = 0; j < dimension_; ++j) model_[j] = static_cast<float>(model_[j] - eta * direction_[j]);
      round_metrics_.step_size = eta;
      round_metrics_.node_loss = node_loss_count_ > 0 ? node_loss_sum_ / node_loss_count_ : NAN;
    } else {
      EDGEFL_LOG_WARN("round %u: %u updates, quorum needs %u: no step", round_, aggregator_.count(),
                      config_.QuorumCount());
    }
    const Evaluation evaluation = evaluator_->Evaluate(model_);
    round_metrics_.loss = evaluation.loss;
    round_metrics_.grad_norm = evaluation.grad_norm;
    round_metrics_.test_loss = evaluation.test_loss;
    round_metrics_.test_accuracy = evaluation.test_accuracy;
    round_metrics_.time_s = static_cast<double>(NowMs() - rounds_start_ms_) / 1000.0;
    recorder_.Record(round_metrics_);
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].round.bytes_down > 0 || nodes_[i].round.bytes_up > 0) recorder_.RecordNode(nodes_[i].round);
    }
    *m = round_metrics_;
    return Status::Ok();
  }

  // Tells every node the run is over and waits (briefly) for each to answer
  // Bye: a message sent just before a socket closes is not guaranteed to
  // leave, so the node's answer is what proves it was told.
  void SayBye(const char* reason) {
    codec::EncodeBye(fbb_, round_, kNoNode, reason);
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].joined && !SendTo(i, fbb_)) nodes_[i].joined = false;
    }
    saying_bye_ = true;
    const int64_t give_up = NowMs() + kByeTimeoutMs;
    int64_t resend_at = NowMs() + 100;
    while (nodes_.JoinedCount() > 0 && NowMs() < give_up) {
      PollOnce(std::min(give_up, resend_at) - NowMs());
      if (NowMs() >= resend_at) {
        // Resend to those that have not answered (a lost Bye).
        codec::EncodeBye(fbb_, round_, kNoNode, reason);
        for (uint32_t i = 0; i < nodes_.size(); ++i) {
          if (nodes_[i].joined && !SendTo(i, fbb_)) nodes_[i].joined = false;
        }
        resend_at = NowMs() + 100;
      }
    }
  }

  const ExperimentConfig& config_;
  RunRecorder& recorder_;
  const std::string data_dir_;
  const uint32_t dimension_;
  zmq::context_t context_;
  zmq::socket_t socket_;
  flatbuffers::FlatBufferBuilder fbb_{4096};
  std::unique_ptr<ModelEvaluator> evaluator_;
  std::vector<float> model_;
  std::vector<double> direction_;
  Aggregator aggregator_;
  codec::DecodeScratch scratch_;
  NodeTable nodes_;
  static constexpr size_t kReceiveBuffersBudgetBytes = size_t{128} << 20;
  std::vector<std::vector<uint64_t>> receive_buffers_;  // 8-byte aligned for the verifier
  bool hold_updates_ = false;

  RunSummary* summary_ = nullptr;
  RoundMetrics round_metrics_;
  double node_loss_sum_ = 0.0;
  uint32_t node_loss_count_ = 0;
  std::vector<double> losses_;  // one a round, for the tail mean
  uint64_t accepted_update_bytes_ = 0;
  uint32_t round_ = 0;
  bool in_round_ = false;
  bool saying_bye_ = false;
  int64_t start_ms_ = 0;         // Run() began (wall time includes joining)
  int64_t rounds_start_ms_ = 0;  // the first round began (metrics time_s)
};

Coordinator::Coordinator(const ExperimentConfig& config, RunRecorder& recorder, const std::string& data_dir)
    : impl_(std::make_unique<Impl>(config, recorder, data_dir)) {}
Coordinator::~Coordinator() = default;

Status Coordinator::Bind(const std::string& endpoint, std::string* bound) { return impl_->Bind(endpoint, bound); }

Status Coordinator::Run(const std::atomic<bool>& stop, RunSummary* summary) { return impl_->Run(stop, summary); }

}  // namespace edgefl

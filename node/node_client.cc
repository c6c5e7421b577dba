#include "node/node_client.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <zmq.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "core/rng.h"
#include "node/arena.h"
#include "node/memory_budget.h"
#include "node/model_replica.h"
#include "node/node_link.h"
#include "node/node_runtime.h"
#include "node/node_state_store.h"
#include "net/socket_monitor.h"
#include "net/socket_poll.h"
#include "node/zero_copy_sender.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

// Receives one message into `buffer`; an oversized one is read whole by
// ZeroMQ, dropped, and reported.
Status Receive(zmq::socket_t& socket, std::span<uint8_t> buffer, std::span<const uint8_t>* message) {
  const auto result = socket.recv(zmq::mutable_buffer(buffer.data(), buffer.size()), zmq::recv_flags::dontwait);
  if (!result) return Status::Error(StatusCode::kTimeout, "no message");
  if (result->untruncated_size > buffer.size()) {
    return Status::Error(StatusCode::kMalformed, "message of %zu bytes exceeds the %zu-byte receive buffer",
                         result->untruncated_size, buffer.size());
  }
  *message = buffer.first(result->size);
  return Status::Ok();
}

bool Send(zmq::socket_t& socket, std::span<const uint8_t> message) {
  return socket.send(zmq::const_buffer(message.data(), message.size()), zmq::send_flags::dontwait).has_value();
}

bool Send(zmq::socket_t& socket, const flatbuffers::FlatBufferBuilder& fbb) {
  return Send(socket, {fbb.GetBufferPointer(), fbb.GetSize()});
}

void PrintMemoryPlan(const MemoryPlan& plan) {
  std::printf("memory plan (bytes):\n");
  for (size_t i = 0; i < kNodeBufferCount; ++i) {
    if (plan.used[i]) std::printf("  %-22s %12zu\n", NodeBufferName(static_cast<NodeBuffer>(i)), plan.bytes[i]);
  }
  std::printf("  %-22s %12zu\n", "arena total", plan.total_bytes);
  std::fflush(stdout);
}

class Node {
 public:
  Node(const NodeOptions& options, const std::atomic<bool>& stop)
      : options_(options), stop_(stop), socket_(context_, zmq::socket_type::dealer) {
    Connect();
  }

  Status Run() {
    codec::TaskSpec task;
    std::span<const uint32_t> shard;
    EDGEFL_RETURN_IF_ERROR(Join(options_.join_timeout_ms, /*fresh_connections=*/true, &task, &shard));
    if (stop_.load()) return Status::Ok();  // interrupted before a task arrived
    EDGEFL_RETURN_IF_ERROR(Prepare(task, shard));
    const Status done = ServeAndRejoin(task, shard);
    LeaveState();
    link_.LogAchieved();
    return done;
  }

 private:
  // Serves rounds, joining the coordinator again whenever it is lost.
  Status ServeAndRejoin(codec::TaskSpec& task, std::span<const uint32_t>& shard) {
    for (;;) {
      bool lost = false;
      const Status served = Serve(&lost);
      if (!lost) return served;
      // The coordinator is gone, or a new one (e.g. resumed from a
      // checkpoint) does not know this node: join it again.
      LeaveState();  // this process may end before it rejoins
      if (options_.rejoin_timeout_ms == 0) return served;
      EDGEFL_LOG_WARN("%s; rejoining for up to %d ms", served.message(), options_.rejoin_timeout_ms);
      const Status joined = Join(options_.rejoin_timeout_ms, /*fresh_connections=*/false, &task, &shard);
      if (!joined.ok()) {
        return Status::Error(joined.code(), "%s; then %s", served.message(), joined.message());
      }
      if (stop_.load()) return Status::Ok();
      replica_->Forget();
      assembling_ = {};
      model_on_link_.reset();  // a new coordinator sends its rounds afresh
      update_on_link_.reset();
      if (task == runtime_->task()) {
        // The same run: this node's state (error feedback memory) carries
        // on, unless a resumed coordinator restarts at a round it has
        // already computed.
        EDGEFL_LOG_INFO("rejoined the coordinator at %s", options_.endpoint.c_str());
        state_.Joined(position_.first_round, position_.coordinator_instance != served_instance_);
        served_instance_ = position_.coordinator_instance;
        continue;
      }
      EDGEFL_LOG_INFO("rejoined the coordinator at %s with a new task", options_.endpoint.c_str());
      if (!update_sender_.WaitReleased(options_.lost_after_ms)) {
        return Status::Error(StatusCode::kUnavailable, "the last update is still being sent after %d ms",
                             options_.lost_after_ms);
      }
      runtime_.reset();
      arena_.reset();
      link_.LogAchieved();  // the old task's link
      EDGEFL_RETURN_IF_ERROR(Prepare(task, shard));
    }
  }

  // A fresh connection to the coordinator (closing any earlier one at once).
  void Connect() {
    monitor_.reset();  // it watches the socket about to close
    socket_.set(zmq::sockopt::linger, 0);
    socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
    socket_.set(zmq::sockopt::routing_id, "node-" + std::to_string(options_.node_id));
    socket_.set(zmq::sockopt::linger, 1000);
    // Queue nothing for a coordinator that is not connected yet: a Hello is
    // resent until answered rather than piling up.
    socket_.set(zmq::sockopt::immediate, 1);
    // Hold at most a few round-start parts in ZeroMQ's queue: past that its
    // I/O thread stops reading and TCP holds the rest, outside this process.
    socket_.set(zmq::sockopt::rcvhwm, kQueuedMessages);
    // While the coordinator is away, ZeroMQ retries the TCP connection after
    // 100 ms, doubling the wait up to 2 s, each with a random jitter of its own.
    socket_.set(zmq::sockopt::reconnect_ivl, 100);
    socket_.set(zmq::sockopt::reconnect_ivl_max, kMaxBackoffMs);
    // A coordinator whose host vanished sends no FIN: ZeroMQ's own pings
    // find the dead connection, so that a new one can reach its successor.
    socket_.set(zmq::sockopt::heartbeat_ivl, 1000);
    socket_.set(zmq::sockopt::heartbeat_timeout, options_.lost_after_ms);
    if (!options_.server_public_key.empty()) {
      socket_.set(zmq::sockopt::curve_serverkey, options_.server_public_key);
      socket_.set(zmq::sockopt::curve_publickey, options_.key.public_key);
      socket_.set(zmq::sockopt::curve_secretkey, options_.key.secret_key);
    }
    if (joining_) Monitor();
    socket_.connect(options_.endpoint);
  }

  // While joining, ZeroMQ's events about the connection tell why no
  // Welcome comes (handshake_).
  void Monitor() {
    monitor_ = std::make_unique<SocketMonitor>(context_, socket_, "edgefl.node.monitor." + std::to_string(monitors_++),
                                               ZMQ_EVENT_ALL);
  }

  // Reads the connection events so far into handshake_; warns once of a
  // failed handshake, as it happens.
  void ReadConnectionEvents() {
    if (monitor_ == nullptr) return;
    MonitorEvent e;
    while (monitor_->Next(&e)) {
      switch (e.event) {
        case ZMQ_EVENT_CONNECTED:
          handshake_state_.connected = true;
          break;
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
          handshake_state_.handshaken = true;
          break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: {
          const char* why = DescribeHandshakeFailure(e);
          // With keys, a coordinator that cannot decrypt the CURVE hello
          // (another server key) just closes the connection.
          if (e.event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            why = options_.server_public_key.empty()
                      ? "the coordinator closed the connection during the handshake: if it uses CURVE keys, give "
                        "this node --key and --server-key"
                      : "the coordinator closed the connection during the CURVE handshake: --server-key is most "
                        "likely not its public key";
          }
          if (handshake_state_.failure != why) {
            EDGEFL_LOG_WARN("handshake with the coordinator at %s failed: %s", options_.endpoint.c_str(), why);
          }
          handshake_state_.failure = why;
          break;
        }
        default:
          break;
      }
    }
  }

  // Why Join heard nothing, from the connection events.
  std::string WhyNoAnswer() const {
    if (handshake_state_.failure != nullptr) return std::string(": ") + handshake_state_.failure;
    if (!handshake_state_.connected) {
      return ": no TCP connection was accepted there (is the coordinator running, and is the address right?)";
    }
    if (handshake_state_.handshaken) {
      return " (connected, but no Welcome: another connection may hold the id node-" +
             std::to_string(options_.node_id) + ", or the coordinator is not taking nodes)";
    }
    return "";
  }

  // Sends Hello until a Welcome arrives or `timeout_ms` passes. On success
  // *shard views handshake_, which is not reused afterwards. With
  // `fresh_connections` (the first join, before any update is in flight),
  // every third unanswered Hello goes out on a new connection: while an
  // earlier connection with this id is alive (this node's previous process,
  // hung), the coordinator holds a new one unheard, and only a connection
  // made after the old one closed is heard.
  Status Join(int timeout_ms, bool fresh_connections, codec::TaskSpec* task, std::span<const uint32_t>* shard) {
    joining_ = true;
    handshake_state_ = {};
    if (monitor_ == nullptr) Monitor();
    const Status joined = TryJoin(timeout_ms, fresh_connections, task, shard);
    ReadConnectionEvents();
    joining_ = false;
    monitor_.reset();  // nothing watches the socket while rounds run
    if (joined.code() == StatusCode::kTimeout) {
      return Status::Error(StatusCode::kTimeout, "%s%s", joined.message(), WhyNoAnswer().c_str());
    }
    return joined;
  }

  Status TryJoin(int timeout_ms, bool fresh_connections, codec::TaskSpec* task, std::span<const uint32_t>* shard) {
    const uint64_t budget_bytes = options_.memory_budget_bytes != 0 ? options_.memory_budget_bytes : DefaultBudget();
    codec::EncodeHello(fbb_, {options_.node_id, options_.dimension, budget_bytes, 0});
    const int64_t give_up_ms = NowMs() + timeout_ms;
    // Resend Hello until Welcome arrives, after 100 ms, then doubling up to
    // 2 s, each wait with a random jitter of up to half of it, so that nodes
    // rejoining a restarted coordinator together spread out.
    Rng jitter(DeriveSeed(options_.node_id, static_cast<uint64_t>(NowUs())));
    int backoff_ms = 100;
    for (int attempt = 0; !stop_.load(); ++attempt) {
      if (fresh_connections && attempt > 0 && attempt % 3 == 0) Connect();
      Send(socket_, fbb_);
      const int64_t wait_until = std::min(give_up_ms, NowMs() + backoff_ms + jitter.Below(backoff_ms / 2));
      while (NowMs() < wait_until && !stop_.load()) {
        ReadConnectionEvents();
        if (!WaitReadable(socket_, std::max<int64_t>(1, std::min<int64_t>(wait_until - NowMs(), 100)))) continue;
        std::span<const uint8_t> bytes;
        Status s = Receive(socket_, handshake_, &bytes);
        const wire::Envelope* envelope = nullptr;
        if (s.ok()) s = codec::ReadEnvelope(bytes, &envelope);
        if (!s.ok()) {
          EDGEFL_LOG_WARN("ignoring message while joining: %s", s.message());
          continue;
        }
        // An UnknownNode Error answers a message this node sent before it
        // set out to join (a Heartbeat); the Hello is what counts.
        if (envelope->body_type() == wire::Body::Error &&
            envelope->body_as_Error()->code() != wire::ErrorCode::UnknownNode) {
          return Status::Error(StatusCode::kRefused, "coordinator error: %s",
                               envelope->body_as_Error()->message() ? envelope->body_as_Error()->message()->c_str() : "");
        }
        if (envelope->body_type() != wire::Body::Welcome) continue;
        EDGEFL_RETURN_IF_ERROR(
            codec::ReadWelcome(*envelope->body_as_Welcome(), task, &heartbeat_ms_, shard, &position_));
        if (options_.dimension != 0 && options_.dimension != task->objective.dimension) {
          return Status::Error(StatusCode::kRefused, "coordinator assigned dimension %u, this node has %u",
                               task->objective.dimension, options_.dimension);
        }
        last_heard_ms_ = NowMs();
        return Status::Ok();
      }
      if (NowMs() >= give_up_ms) {
        return Status::Error(StatusCode::kTimeout, "no answer from a coordinator at %s within %d ms",
                             options_.endpoint.c_str(), timeout_ms);
      }
      backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
    }
    return Status::Ok();
  }

  Status Prepare(const codec::TaskSpec& task, std::span<const uint32_t> shard) {
    // Data objectives: read the data set and keep the shard the coordinator
    // assigned (the rest is freed when Prepare returns).
    Dataset data;
    if (codec::IsDataObjective(task.objective.kind)) {
      EDGEFL_RETURN_IF_ERROR(LoadDataset(task.objective.dataset, options_.data_dir, &data));
      const uint32_t parameters = ClassifierFor(task.objective, *data.info).ParameterCount();
      if (parameters != task.objective.dimension) {
        return Status::Error(StatusCode::kRefused, "task dimension %u, but this node's %s on %s has %u parameters",
                             task.objective.dimension, codec::ObjectiveName(task.objective.kind), data.info->name,
                             parameters);
      }
      if (shard.back() >= data.info->samples) {
        return Status::Error(StatusCode::kMalformed, "assigned sample %u, but %s has %u samples", shard.back(),
                             data.info->name, data.info->samples);
      }
    }
    const MemoryPlan plan = PlanNodeMemory(task, static_cast<uint32_t>(shard.size()));
    if (options_.print_memory_plan) PrintMemoryPlan(plan);
    // The task is checked against the budget before the arena is taken.
    size_t arena_bytes = 0;
    EDGEFL_RETURN_IF_ERROR(ArenaBytesFor(task, plan.total_bytes, options_.memory_budget_bytes,
                                         DefaultBudget(), &arena_bytes, options_.nodes_in_process));
    arena_ = std::make_unique<Arena>(arena_bytes);
    runtime_ = std::make_unique<NodeRuntime>(task, *arena_, data.info != nullptr ? &data : nullptr, shard);
    replica_.emplace(runtime_->model_replica(),
                     task.local.HasControl() ? runtime_->server_control() : std::span<float>());
    link_ = NodeLink(task.link);
    link_.LogEnforced();
    if (options_.attack.kind != AttackKind::kNone) {
      EDGEFL_LOG_WARN("testing aid: this node is hostile, its gradients attacked with %s",
                      DescribeAttack(options_.attack).c_str());
      runtime_->set_attack(options_.attack);
    }
    EDGEFL_RETURN_IF_ERROR(arena_->status());
    EDGEFL_RETURN_IF_ERROR(state_.Open(options_.state_dir, options_.node_id, *runtime_, position_.checkpoint_every));
    state_.Joined(position_.first_round, /*new_coordinator=*/true);
    served_instance_ = position_.coordinator_instance;
    return Status::Ok();
  }

  // Answers rounds until the coordinator's Bye or a stop (Ok), a failure
  // (the reason), or until the coordinator is lost (*lost, and the reason):
  // silent for lost_after_ms, or saying it does not know this node. With a
  // shaped link (node_link.h) a round's model is held until it has crossed
  // the downlink, and its update until it has crossed the uplink; the loop
  // sleeps until the next of those times, a message or a heartbeat.
  Status Serve(bool* lost) {
    flatbuffers::FlatBufferBuilder& control = runtime_->control_builder();
    last_sent_ms_ = NowMs();
    while (!stop_.load()) {
      int64_t wake_us = (last_sent_ms_ + heartbeat_ms_) * 1000;
      if (model_on_link_) wake_us = std::min(wake_us, model_on_link_->crossed_us);
      if (update_on_link_) wake_us = std::min(wake_us, update_on_link_->crossed_us);
      const bool readable = WaitReadableUntilUs(socket_, wake_us);
      const int64_t now = NowMs();
      if (readable) {
        std::span<const uint8_t> bytes;
        Status s = Receive(socket_, runtime_->receive_buffer(), &bytes);
        const wire::Envelope* envelope = nullptr;
        if (s.ok()) s = codec::ReadEnvelope(bytes, &envelope);
        if (!s.ok()) {
          EDGEFL_LOG_WARN("rejected a message: %s", s.message());
          envelope = nullptr;
        } else {
          last_heard_ms_ = now;
        }
        switch (envelope != nullptr ? envelope->body_type() : wire::Body::NONE) {
          case wire::Body::RoundStart:
            TakeRoundStart(*envelope, bytes.size());
            break;
          case wire::Body::Bye:
            EDGEFL_LOG_INFO("coordinator ended the run: %s",
                            envelope->body_as_Bye()->reason() ? envelope->body_as_Bye()->reason()->c_str() : "");
            codec::EncodeBye(control, last_round_, options_.node_id, "leaving");
            Send(socket_, control);
            return Status::Ok();
          case wire::Body::Error:
            if (envelope->body_as_Error()->code() == wire::ErrorCode::UnknownNode) {
              *lost = true;
              return Status::Error(StatusCode::kUnavailable, "the coordinator at %s does not know this node",
                                   options_.endpoint.c_str());
            }
            EDGEFL_LOG_WARN("coordinator says: %s",
                            envelope->body_as_Error()->message() ? envelope->body_as_Error()->message()->c_str() : "");
            break;
          case wire::Body::Heartbeat:
          case wire::Body::Welcome:
            break;  // Heartbeat echoes and late Welcomes only prove liveness.
          case wire::Body::NONE:
            break;  // rejected above (a verified envelope always has a body)
          case wire::Body::Hello:
          case wire::Body::Update:
          case wire::Body::ModelRequest:
            EDGEFL_LOG_WARN("rejected a %s message: a coordinator never sends one",
                            wire::EnumNameBody(envelope->body_type()));
            break;
        }
      } else if (now - last_heard_ms_ > options_.lost_after_ms) {
        *lost = true;
        return Status::Error(StatusCode::kUnavailable, "lost the coordinator at %s: nothing heard for %d ms",
                             options_.endpoint.c_str(), options_.lost_after_ms);
      }
      EDGEFL_RETURN_IF_ERROR(ComputeIfCrossed());
      SendIfCrossed();
      if (NowMs() - last_sent_ms_ >= heartbeat_ms_) {
        codec::EncodeHeartbeat(control, last_round_, options_.node_id);
        Send(socket_, control);
        last_sent_ms_ = NowMs();
      }
    }
    codec::EncodeBye(control, last_round_, options_.node_id, "node stopped by signal");
    Send(socket_, control);
    return Status::Ok();
  }

  // A RoundStart (a model part, or a step part; node/model_replica.h): it
  // takes its time on the downlink (one rejected here too) and goes into
  // the replica, and once the replica holds the round's model, the model is
  // on the link, to be computed once it has crossed.
  void TakeRoundStart(const wire::Envelope& envelope, size_t bytes) {
    const int64_t received_us = NowUs();
    const int64_t crossed_us = link_.DownlinkCrossedUs(bytes, received_us);
    Status why;
    const ModelReplica::Outcome outcome = replica_->Take(envelope, &why);
    if (outcome == ModelReplica::Outcome::kRejected) {
      EDGEFL_LOG_WARN("rejected round %u's start: %s", envelope.round(), why.message());
      return;
    }
    if (model_on_link_) {
      // The replica has changed under a model still on the downlink: the
      // coordinator has moved on (its deadline passed).
      EDGEFL_LOG_WARN("round %u: dropped, round %u arrived before its model had crossed the link",
                      model_on_link_->round, envelope.round());
      model_on_link_.reset();
    }
    // The round's messages (its model's parts, or the steps to it, and a
    // model asked for) are one transfer on the downlink.
    if (envelope.round() != assembling_.round) {
      assembling_ = {.round = envelope.round(), .bytes = 0, .received_us = received_us};
    }
    assembling_.bytes += bytes;
    switch (outcome) {
      case ModelReplica::Outcome::kNeedModel:
        EDGEFL_LOG_WARN("%s: asking for the whole model", why.message());
        codec::EncodeModelRequest(runtime_->control_builder(), envelope.round(), options_.node_id);
        Send(socket_, runtime_->control_builder());
        last_sent_ms_ = NowMs();
        return;
      case ModelReplica::Outcome::kRejected:
      case ModelReplica::Outcome::kPending:
        return;
      case ModelReplica::Outcome::kComplete:
        break;
    }
    model_on_link_ = OnLink{.round = envelope.round(), .bytes = assembling_.bytes,
                            .handed_over_us = assembling_.received_us,
                            .crossed_us = link_.ModelCrossedUs(assembling_.bytes, crossed_us)};
  }

  // Computes the round's update once its model has crossed the downlink;
  // the update is then held until it has crossed the uplink.
  Status ComputeIfCrossed() {
    if (!model_on_link_ || NowUs() < model_on_link_->crossed_us) return Status::Ok();
    const OnLink model = *model_on_link_;
    model_on_link_.reset();
    link_.RecordDelivered(model.bytes, model.handed_over_us, model.crossed_us, NowUs());
    if (update_on_link_) {
      // Its buffer is about to be rewritten; the coordinator, having opened
      // a later round, would refuse it as stale anyway.
      EDGEFL_LOG_WARN("round %u: update dropped unsent, round %u began before it had crossed the link",
                      update_on_link_->round, model.round);
      update_on_link_.reset();
    }
    // The last update leaves from the arena buffer this round's encodes
    // into; ZeroMQ has long sent it unless the link stalls.
    if (!update_sender_.WaitReleased(options_.lost_after_ms)) {
      return Status::Error(StatusCode::kUnavailable, "round %u: the previous update is still being sent after %d ms",
                           model.round, options_.lost_after_ms);
    }
    if (const Status saved = state_.BeforeRound(model.round); !saved.ok()) {
      EDGEFL_LOG_WARN("round %u: %s; a resumed run would not find this node's state", model.round, saved.message());
    }
    update_bytes_ = runtime_->ComputeUpdate(model.round);
    state_.AfterRound(model.round);
    last_round_ = model.round;
    // compute_ms counts from when the model crossed, not from when this
    // thread woke, so timer lateness does not add to it.
    const int64_t ready_us = link_.ComputeDoneUs(model.crossed_us, NowUs());
    update_on_link_ = OnLink{.round = model.round, .bytes = update_bytes_.size(), .handed_over_us = ready_us,
                             .crossed_us = link_.UplinkCrossedUs(update_bytes_.size(), ready_us)};
    SendIfCrossed();
    return Status::Ok();
  }

  // Sends the update once it has crossed the uplink.
  void SendIfCrossed() {
    if (!update_on_link_ || NowUs() < update_on_link_->crossed_us) return;
    const OnLink update = *update_on_link_;
    update_on_link_.reset();
    if (!update_sender_.Send(socket_, update_bytes_)) {
      EDGEFL_LOG_WARN("round %u: update not sent (coordinator gone?)", update.round);
    }
    link_.RecordSent(update.bytes, update.handed_over_us, update.crossed_us, NowUs());
    last_sent_ms_ = NowMs();
  }

  static constexpr int kQueuedMessages = 4;
  static constexpr int kMaxBackoffMs = 2000;

  const NodeOptions& options_;
  const std::atomic<bool>& stop_;
  // Declared before the context and socket, so destroyed after them: closing
  // the context releases any update still reading from the arena.
  std::unique_ptr<Arena> arena_;
  std::unique_ptr<NodeRuntime> runtime_;
  std::optional<ModelReplica> replica_;  // over the runtime's model buffer
  ZeroCopySender update_sender_;
  zmq::context_t context_;
  zmq::socket_t socket_;
  std::unique_ptr<SocketMonitor> monitor_;  // while joining; declared after socket_, so stopped before it closes
  int monitors_ = 0;                        // for unique inproc names
  bool joining_ = true;   // the first connection is made to join
  struct {
    bool connected = false;           // a TCP connection was made
    bool handshaken = false;          // and its ZMTP handshake completed
    const char* failure = nullptr;    // why the last handshake failed
  } handshake_state_;
  alignas(8) uint8_t handshake_[codec::kHandshakeBufferBytes] = {};
  flatbuffers::FlatBufferBuilder fbb_{1024};  // Hello only: before the arena exists
  uint32_t heartbeat_ms_ = 500;
  int64_t last_heard_ms_ = 0;
  int64_t last_sent_ms_ = 0;
  uint32_t last_round_ = 0;        // the last round answered (for which an update was computed)
  // The link (node_link.h) and what is on it: a round's model on the
  // downlink, an update on the uplink, each handed over at `handed_over_us`
  // (the round's first part received, the update ready) and held until
  // `crossed_us`.
  struct OnLink {
    uint32_t round = 0;
    size_t bytes = 0;
    int64_t handed_over_us = 0;
    int64_t crossed_us = 0;
  };
  NodeLink link_;
  struct Assembling {
    uint32_t round = UINT32_MAX;
    size_t bytes = 0;         // of the round's messages so far
    int64_t received_us = 0;  // the first part
  } assembling_;
  std::optional<OnLink> model_on_link_;
  std::optional<OnLink> update_on_link_;
  std::span<const uint8_t> update_bytes_;  // the update on the uplink, in the runtime's builder
  codec::RunPosition position_;            // from the last Welcome
  uint64_t served_instance_ = 0;           // the coordinator process this node served last
  NodeStateStore state_;

  // The default memory budget, shared among the process's logical nodes.
  uint64_t DefaultBudget() const {
    return DefaultMemoryBudgetBytes(PhysicalMemoryBytes()) / std::max(options_.nodes_in_process, 1u);
  }

  void LeaveState() {
    if (const Status s = state_.Leave(); !s.ok()) EDGEFL_LOG_WARN("%s", s.message());
  }
};

}  // namespace

Status RunNode(const NodeOptions& options, const std::atomic<bool>& stop) {
  try {
    Node node(options, stop);
    return node.Run();
  } catch (const zmq::error_t& e) {
    return Status::Error(StatusCode::kUnavailable, "ZeroMQ error on %s: %s", options.endpoint.c_str(), e.what());
  }
}

}  // namespace edgefl

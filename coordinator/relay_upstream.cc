#include "coordinator/relay_upstream.h"

#include <algorithm>

#include "core/clock.h"
#include "core/log.h"
#include "schemas/codec/model_step.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

// A Hello every this long until the Welcome (docs/protocol.md 4.1).
constexpr int64_t kHelloEveryMs = 150;

Status Broken(const char* format, auto... args) {
  return Status::Error(StatusCode::kMalformed, format, args...);
}

}  // namespace

RelayUpstream::RelayUpstream(const ExperimentConfig& config, uint32_t group, uint32_t nodes_served)
    : config_(config),
      group_(group),
      nodes_served_(nodes_served),
      dimension_(config.objective.dimension),
      socket_(context_, zmq::socket_type::dealer),
      // The largest message from above: a RoundStart part, a Welcome with a shard.
      buffer_((std::max(codec::kHandshakeBufferBytes, 4 * size_t{codec::kRoundStartPartValues} + 4096) + 7) / 8),
      model_(config.objective.dimension),
      replica_(model_, {}) {}

void RelayUpstream::Connect(const std::string& endpoint, const CurveKeyPair& key,
                            const std::string& server_public_key) {
  socket_.set(zmq::sockopt::routing_id, "node-" + std::to_string(group_));
  if (!key.secret_key.empty()) {
    socket_.set(zmq::sockopt::curve_serverkey, server_public_key);
    socket_.set(zmq::sockopt::curve_publickey, key.public_key);
    socket_.set(zmq::sockopt::curve_secretkey, key.secret_key);
  }
  socket_.set(zmq::sockopt::linger, 1000);
  socket_.set(zmq::sockopt::immediate, 1);
  socket_.connect(endpoint);
}

bool RelayUpstream::Send(const flatbuffers::FlatBufferBuilder& fbb) {
  const zmq::const_buffer bytes(fbb.GetBufferPointer(), fbb.GetSize());
  try {
    return socket_.send(bytes, zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

void RelayUpstream::SayBye(const char* reason) {
  codec::EncodeBye(fbb_, round_, group_, reason);
  Send(fbb_);
}

void RelayUpstream::KeepAlive(int64_t now_ms) {
  if (now_ms < next_send_ms_) return;
  if (joined_) {
    codec::EncodeHeartbeat(fbb_, round_, group_);
  } else {
    codec::HelloInfo hello;
    hello.node_id = group_;
    hello.dimension = dimension_;
    hello.relay_nodes = nodes_served_;
    codec::EncodeHello(fbb_, hello);
  }
  Send(fbb_);
  next_send_ms_ = now_ms + (joined_ ? heartbeat_ms_ : kHelloEveryMs);
}

Status RelayUpstream::Drain(int64_t now_ms, Event* event) {
  *event = Event::kNone;
  KeepAlive(now_ms);
  const std::span<uint8_t> into(reinterpret_cast<uint8_t*>(buffer_.data()), buffer_.size() * 8);
  while (*event == Event::kNone) {
    zmq::recv_buffer_result_t size;
    try {
      size = socket_.recv(zmq::mutable_buffer(into.data(), into.size()), zmq::recv_flags::dontwait);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) return Status::Ok();
      throw;
    }
    if (!size) return Status::Ok();
    last_heard_ms_ = now_ms;
    if (size->untruncated_size > size->size) {
      return Broken("a message of %zu bytes from the coordinator above, more than a relay takes (%zu)",
                    size->untruncated_size, into.size());
    }
    EDGEFL_RETURN_IF_ERROR(Handle(into.first(size->size), event));
  }
  return Status::Ok();
}

Status RelayUpstream::Handle(std::span<const uint8_t> bytes, Event* event) {
  const wire::Envelope* envelope = nullptr;
  if (const Status s = codec::ReadEnvelope(bytes, &envelope); !s.ok()) {
    return Broken("the coordinator above sent a message that is not edgefl's: %s", s.message());
  }
  switch (envelope->body_type()) {
    case wire::Body::Welcome:
      if (joined_) return Status::Ok();  // an answer to a Hello sent before the first Welcome came
      EDGEFL_RETURN_IF_ERROR(TakeWelcome(envelope->body_as_Welcome()));
      *event = Event::kJoined;
      return Status::Ok();
    case wire::Body::RoundStart:
      if (!joined_) return Status::Ok();
      return TakeModelPart(*envelope, bytes.size(), event);
    case wire::Body::Bye: {
      const wire::Bye* bye = envelope->body_as_Bye();
      bye_reason_ = bye->reason() != nullptr ? bye->reason()->str() : "the coordinator above ended the run";
      SayBye("relay leaving");  // the answer that tells the coordinator above it was heard
      *event = Event::kBye;
      return Status::Ok();
    }
    case wire::Body::Error: {
      const wire::Error* error = envelope->body_as_Error();
      return Status::Error(StatusCode::kRefused, "the coordinator above says: %s",
                           error->message() != nullptr ? error->message()->c_str() : "(no message)");
    }
    case wire::Body::Heartbeat:
      return Status::Ok();
    case wire::Body::Hello:
    case wire::Body::Update:
    case wire::Body::ModelRequest:
    case wire::Body::NONE:
      break;
  }
  return Broken("the coordinator above sent a %s, which only nodes send", wire::EnumNameBody(envelope->body_type()));
}

Status RelayUpstream::TakeWelcome(const void* message) {
  codec::TaskSpec task;
  uint32_t heartbeat_ms = 0;
  std::span<const uint32_t> shard;
  EDGEFL_RETURN_IF_ERROR(
      codec::ReadWelcome(*static_cast<const wire::Welcome*>(message), &task, &heartbeat_ms, &shard));
  // Both ends must run one config: the relay gives its nodes the tasks of
  // its own, and the model above must be the one they are computed for.
  const codec::TaskSpec mine = config_.TaskFor(group_);
  if (task.seed != mine.seed || task.num_nodes != mine.num_nodes || task.objective.kind != mine.objective.kind ||
      task.objective.dimension != dimension_ || !(task.compressor == mine.compressor) ||
      !(task.noise == mine.noise) || task.batch_size != mine.batch_size || !(task.local == mine.local) ||
      !(task.privacy == mine.privacy)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "the coordinator above runs another config (its task: seed %llu, %u nodes, d = %u; this "
                         "relay's: seed %llu, %u nodes, d = %u, or another compressor, noise, batch or local "
                         "training): start both with the same --config and --set",
                         static_cast<unsigned long long>(task.seed), task.num_nodes, task.objective.dimension,
                         static_cast<unsigned long long>(mine.seed), mine.num_nodes, dimension_);
  }
  joined_ = true;
  heartbeat_ms_ = std::max<uint32_t>(heartbeat_ms, 1);
  next_send_ms_ = 0;
  return Status::Ok();
}

Status RelayUpstream::TakeModelPart(const wire::Envelope& envelope, size_t bytes, Event* event) {
  const wire::RoundStart& start = *envelope.body_as_RoundStart();
  const bool step = start.form() == wire::ModelForm::Step;
  Status why;
  const ModelReplica::Outcome outcome = replica_.Take(envelope, &why);
  switch (outcome) {
    case ModelReplica::Outcome::kRejected:
      EDGEFL_LOG_WARN("relay %u: a round start from above was not taken: %s", group_, why.message());
      return Status::Ok();
    case ModelReplica::Outcome::kNeedModel:
      // As a node does: the whole model of the round, once (docs/protocol.md 9).
      EDGEFL_LOG_INFO("relay %u: %s; asking for the model", group_, why.message());
      steps_.clear();
      codec::EncodeModelRequest(fbb_, envelope.round(), group_);
      Send(fbb_);
      return Status::Ok();
    case ModelReplica::Outcome::kPending:
    case ModelReplica::Outcome::kComplete:
      break;
  }
  if (step) {
    KeepStepPart(start, bytes);
  } else {
    steps_.clear();  // the whole model overwrites whatever steps came before it
  }
  if (outcome == ModelReplica::Outcome::kComplete) {
    round_ = envelope.round();
    came_whole_ = !step;
    *event = Event::kModel;
  }
  return Status::Ok();
}

void RelayUpstream::KeepStepPart(const wire::RoundStart& start, size_t bytes) {
  codec::ModelStepPart part;
  if (!codec::ReadRoundStartStep(start, dimension_, &part).ok()) return;  // the replica took it: it is well formed
  if (steps_.empty() || steps_.back().version != part.version) {
    steps_.push_back(StepRecord{.version = part.version,
                                .step_size = part.step_size,
                                .model_hash = part.model_hash,
                                .parts = {},
                                .message_bytes = 0,
                                .whole = false});
  }
  StepRecord& record = steps_.back();
  record.message_bytes += bytes;
  const codec::PayloadView& p = part.payload;
  record.parts.push_back(StepRecord::Part{.offset = part.offset,
                                          .type = p.type,
                                          .levels = p.levels,
                                          .values = {p.values.begin(), p.values.end()},
                                          .indices = {p.indices.begin(), p.indices.end()},
                                          .packed_levels = {p.packed_levels.begin(), p.packed_levels.end()},
                                          .packed_signs = {p.packed_signs.begin(), p.packed_signs.end()}});
}

}  // namespace edgefl

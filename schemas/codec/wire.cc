#include "schemas/codec/wire.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <vector>

#include "schemas/codec/bit_pack.h"
#include "schemas/codec/index_sampler.h"
#include "schemas/codec/wire_building.h"

namespace edgefl::codec {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

Status Malformed(const char* format, auto... args) {
  return Status::Error(StatusCode::kMalformed, format, args...);
}

bool AllFiniteBelow(std::span<const float> values, float limit) {
  // |v| < limit compared as bit patterns: for a positive limit, non-negative
  // floats order as their patterns do, and inf and NaN lie above every
  // finite pattern, so one test catches NaN, inf and too large. Without an
  // exit per value the loop vectorises; chunks still stop early on bad input.
  assert(limit > 0.0f);
  const uint32_t limit_bits = std::bit_cast<uint32_t>(limit);
  constexpr size_t kChunk = 4096;
  for (size_t start = 0; start < values.size(); start += kChunk) {
    const size_t end = std::min(values.size(), start + kChunk);
    uint32_t too_large = 0;
    for (size_t j = start; j < end; ++j) {
      too_large |= static_cast<uint32_t>((std::bit_cast<uint32_t>(values[j]) & 0x7FFFFFFFu) >= limit_bits);
    }
    if (too_large != 0) return false;
  }
  return true;
}

// A list of one-byte enum values, as the [ubyte] it is on the wire.
template <typename Kind>
Offset<flatbuffers::Vector<Kind>> CreateKindVector(FlatBufferBuilder& fbb, std::span<const Kind> kinds) {
  static_assert(sizeof(Kind) == 1);
  return Offset<flatbuffers::Vector<Kind>>(
      fbb.CreateVector(reinterpret_cast<const uint8_t*>(kinds.data()), kinds.size()).o);
}

template <typename Kind>
std::span<const Kind> KindSpan(const flatbuffers::Vector<Kind>* v) {
  if (v == nullptr) return {};
  return {reinterpret_cast<const Kind*>(v->Data()), v->size()};
}

// Values too large to add: kOverflow, which a coordinator tells from other
// malformed bytes (an honest run that diverges overflows on every node).
Status TooLarge() {
  return Status::Error(StatusCode::kOverflow, "update has a non-finite value or one of magnitude >= 2^40");
}

Status CheckValues(std::span<const float> values) {
  if (!AllFiniteBelow(values, kMaxUpdateMagnitude)) return TooLarge();
  return Status::Ok();
}

// CheckValues for a dense vector, recording its block magnitudes on the way
// (the coordinator's exact sum needs them, and one read serves both).
Status CheckDenseValues(std::span<const float> values, DecodeScratch& scratch, DecodedPayload* out) {
  const auto magnitudes = scratch.magnitudes().first(MagnitudeBlocks(values.size()));
  if (ScanBlockMagnitudes(values, magnitudes) >= std::bit_cast<uint32_t>(kMaxUpdateMagnitude)) return TooLarge();
  out->dense_magnitudes = magnitudes;
  return Status::Ok();
}

Status CheckPayloadType(const wire::Update& update, wire::Payload expected) {
  if (update.payload_type() != expected || update.payload() == nullptr) {
    return Malformed("payload type %s, expected %s for this run's compressor",
                     wire::EnumNamePayload(update.payload_type()), wire::EnumNamePayload(expected));
  }
  return Status::Ok();
}

Status DecodeDense(const wire::DenseF32& p, uint32_t dimension, DecodeScratch& scratch, DecodedPayload* out) {
  const auto values = AsSpan(p.values());
  if (values.size() != dimension) return Malformed("dense payload has %zu values, expected %u", values.size(), dimension);
  EDGEFL_RETURN_IF_ERROR(CheckDenseValues(values, scratch, out));
  out->form = DecodedPayload::Form::kDense;
  out->dense = values;
  return Status::Ok();
}

Status DecodeSparse(const wire::SparseF32& p, const CompressorSpec& compressor, uint32_t dimension,
                    DecodedPayload* out) {
  const auto indices = AsSpan(p.indices());
  const auto values = AsSpan(p.values());
  if (indices.size() != compressor.k || values.size() != compressor.k) {
    return Malformed("sparse payload has %zu indices and %zu values, expected k = %u", indices.size(), values.size(),
                     compressor.k);
  }
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= dimension || (i > 0 && indices[i] <= indices[i - 1])) {
      return Malformed("sparse index %u at position %zu is out of range or not increasing", indices[i], i);
    }
  }
  EDGEFL_RETURN_IF_ERROR(CheckValues(values));
  out->form = DecodedPayload::Form::kSparse;
  out->indices = indices;
  out->values = values;
  return Status::Ok();
}

Status DecodeSeededSparse(const wire::SeededSparseF32& p, const CompressorSpec& compressor, uint32_t dimension,
                          DecodeScratch& scratch, DecodedPayload* out) {
  const auto values = AsSpan(p.values());
  uint32_t count = 0;
  if (compressor.kind == wire::CompressorKind::RandK) {
    if (p.sampler() != wire::IndexSampler::RandK || values.size() != compressor.k) {
      return Malformed("rand-k payload must use the rand-k sampler with k = %u values (got %zu)", compressor.k,
                       values.size());
    }
    count = compressor.k;
    SampleRandK(p.seed(), dimension, scratch.indices().first(count), scratch.bitmap());
  } else {
    if (p.sampler() != wire::IndexSampler::Bernoulli || p.keep_probability() != compressor.p) {
      return Malformed("bernoulli payload must use the bernoulli sampler with p = %g (got %g)", compressor.p,
                       p.keep_probability());
    }
    count = SampleBernoulli(p.seed(), dimension, compressor.p, scratch.indices());
    if (values.size() != count) {
      return Malformed("bernoulli payload has %zu values, its seed keeps %u", values.size(), count);
    }
  }
  EDGEFL_RETURN_IF_ERROR(CheckValues(values));
  out->form = DecodedPayload::Form::kSparse;
  out->indices = scratch.indices().first(count);
  out->values = values;
  return Status::Ok();
}

Status DecodeQuantized(const wire::Quantized& p, const CompressorSpec& compressor, uint32_t dimension,
                       DecodeScratch& scratch, DecodedPayload* out) {
  const unsigned bits = BitsFor(compressor.levels);
  const auto levels = AsSpan(p.packed_levels());
  const auto signs = AsSpan(p.packed_signs());
  if (p.levels() != compressor.levels || p.level_bits() != bits) {
    return Malformed("quantized payload has s = %u in %u bits, expected s = %u in %u bits", p.levels(),
                     p.level_bits(), compressor.levels, bits);
  }
  if (levels.size() != PackedFieldBytes(dimension, bits) || signs.size() != PackedSignBytes(dimension)) {
    return Malformed("quantized payload has %zu level bytes and %zu sign bytes, expected %zu and %zu", levels.size(),
                     signs.size(), PackedFieldBytes(dimension, bits), PackedSignBytes(dimension));
  }
  const float norm = p.norm();
  if (norm < 0.0f) return Malformed("quantized norm %g is negative", norm);
  if (!(norm < kMaxUpdateMagnitude)) return TooLarge();
  // Fields of `bits` bits reach 2^bits - 1, above s unless s = 2^bits - 1.
  if ((uint32_t{1} << bits) - 1 > compressor.levels) {
    auto fields = scratch.fields().first(dimension);
    UnpackFields(levels, bits, fields);
    const auto bad = std::find_if(fields.begin(), fields.end(), [&](uint16_t f) { return f > compressor.levels; });
    if (bad != fields.end()) {
      return Malformed("quantized level %u at %u exceeds s = %u", *bad, static_cast<uint32_t>(bad - fields.begin()),
                       compressor.levels);
    }
  }
  // |v| <= unit * s, norm < 2^40 to a rounding: in the exact sum's range.
  out->form = DecodedPayload::Form::kCompactDense;
  out->compact.kind = CompactDense::Kind::kQuantized;
  out->compact.levels = levels;
  out->compact.level_bits = bits;
  out->compact.signs = signs;
  out->compact.unit = norm / static_cast<float>(compressor.levels);
  return Status::Ok();
}

Status DecodeNatural(const wire::Natural& p, uint32_t dimension, DecodedPayload* out) {
  const auto codes = AsSpan(p.codes());
  if (codes.size() != dimension) return Malformed("natural payload has %zu codes, expected %u", codes.size(), dimension);
  // Exponent code e stands for 2^(e - 64), below kMaxUpdateMagnitude = 2^40
  // for e < 104. Without an exit per code the loop vectorises.
  constexpr uint32_t kFirstTooLarge = 64 + 40;
  uint32_t too_large = 0;
  for (const uint8_t code : codes) too_large |= static_cast<uint32_t>((code & 0x7Fu) >= kFirstTooLarge);
  if (too_large != 0) return TooLarge();
  out->form = DecodedPayload::Form::kCompactDense;
  out->compact.kind = CompactDense::Kind::kNatural;
  out->compact.codes = codes;
  return Status::Ok();
}

Status DecodeSigns(const wire::Signs& p, const CompressorSpec& compressor, uint32_t dimension, DecodedPayload* out) {
  const auto packed = AsSpan(p.packed());
  if (packed.size() != PackedSignBytes(dimension)) {
    return Malformed("signs payload has %zu bytes, expected %zu", packed.size(), PackedSignBytes(dimension));
  }
  const float scale = p.scale();
  if (compressor.kind == wire::CompressorKind::Sign ? scale != 1.0f : scale < 0.0f) {
    return Malformed("signs payload scale %g is not allowed for %s", scale, CompressorName(compressor.kind));
  }
  if (!(scale < kMaxUpdateMagnitude)) return TooLarge();
  out->form = DecodedPayload::Form::kSigns;
  out->sign_bits = packed;
  out->sign_scale = scale;
  return Status::Ok();
}

}  // namespace

void FinishEnvelope(FlatBufferBuilder& fbb, uint32_t round, wire::Body type, Offset<void> body, uint16_t version) {
  wire::EnvelopeBuilder envelope(fbb);
  envelope.add_protocol_version(version);
  envelope.add_round(round);
  envelope.add_body_type(type);
  envelope.add_body(body);
  fbb.Finish(envelope.Finish(), wire::EnvelopeIdentifier());
}


Offset<void> EncodePayload(FlatBufferBuilder& fbb, const PayloadView& p) {
  switch (p.type) {
    case wire::Payload::DenseF32:
      return wire::CreateDenseF32(fbb, CopyVector(fbb, p.values)).Union();
    case wire::Payload::SparseF32: {
      const auto indices = CopyVector(fbb, p.indices);
      const auto values = CopyVector(fbb, p.values);
      return wire::CreateSparseF32(fbb, indices, values).Union();
    }
    case wire::Payload::SeededSparseF32: {
      const auto values = CopyVector(fbb, p.values);
      return wire::CreateSeededSparseF32(fbb, p.sampler, p.seed, p.keep_probability, values).Union();
    }
    case wire::Payload::Quantized: {
      const auto levels = CopyVector(fbb, p.packed_levels);
      const auto signs = CopyVector(fbb, p.packed_signs);
      return wire::CreateQuantized(fbb, p.norm, p.levels, static_cast<uint8_t>(BitsFor(p.levels)), levels, signs)
          .Union();
    }
    case wire::Payload::Natural:
      return wire::CreateNatural(fbb, CopyVector(fbb, p.codes)).Union();
    case wire::Payload::Signs:
      return wire::CreateSigns(fbb, CopyVector(fbb, p.packed_signs), p.scale).Union();
    case wire::Payload::ExactPartial:  // encoded by EncodeExactPartial (exact_partial.h)
    case wire::Payload::NONE:
      break;
  }
  return Offset<void>();
}

DecodeScratch::DecodeScratch(uint32_t dimension)
    : dimension_(dimension),
      bitmap_words_(RandKBitmapWords(dimension)),
      indices_(new uint32_t[dimension]),
      fields_(new uint16_t[dimension]),
      bitmap_(new uint64_t[RandKBitmapWords(dimension)]),
      magnitudes_(new BlockMagnitude[MagnitudeBlocks(dimension)]) {}

void ExpandUpdate(const DecodedPayload& update, std::span<float> out) {
  switch (update.form) {
    case DecodedPayload::Form::kDense:
      std::copy_n(update.dense.begin(), out.size(), out.begin());
      return;
    case DecodedPayload::Form::kSparse:
      std::fill(out.begin(), out.end(), 0.0f);
      for (size_t i = 0; i < update.indices.size(); ++i) out[update.indices[i]] = update.values[i];
      return;
    case DecodedPayload::Form::kSigns:
      UnpackSigns(update.sign_bits, update.sign_scale, out);
      return;
    case DecodedPayload::Form::kCompactDense:
      DecodeDense(update.compact, out);
      return;
  }
}

wire::Payload PayloadTypeOf(wire::CompressorKind kind) {
  switch (kind) {
    case wire::CompressorKind::Identity:
      return wire::Payload::DenseF32;
    case wire::CompressorKind::RandK:
    case wire::CompressorKind::Bernoulli:
      return wire::Payload::SeededSparseF32;
    case wire::CompressorKind::Qsgd:
      return wire::Payload::Quantized;
    case wire::CompressorKind::Sign:
    case wire::CompressorKind::ScaledSign:
    case wire::CompressorKind::EfSign:
      return wire::Payload::Signs;
    case wire::CompressorKind::TopK:
      return wire::Payload::SparseF32;
    case wire::CompressorKind::Natural:
      return wire::Payload::Natural;
  }
  return wire::Payload::NONE;
}

void EncodeHello(FlatBufferBuilder& fbb, const HelloInfo& hello) {
  fbb.Clear();
  const auto compressors = CreateKindVector(fbb, hello.compressors);
  const auto objectives = CreateKindVector(fbb, hello.objectives);
  const auto noises = CreateKindVector(fbb, hello.noises);
  wire::HelloBuilder b(fbb);
  b.add_node_id(hello.node_id);
  b.add_dimension(hello.dimension);
  b.add_supported(compressors);
  b.add_memory_budget_bytes(hello.memory_budget_bytes);
  b.add_uplink_bps(hello.uplink_bps);
  b.add_supported_objectives(objectives);
  b.add_supported_noises(noises);
  b.add_relay_nodes(hello.relay_nodes);
  FinishEnvelope(fbb, 0, wire::Body::Hello, b.Finish().Union());
}

void EncodeWelcome(FlatBufferBuilder& fbb, const TaskSpec& task, uint32_t heartbeat_ms,
                   std::span<const uint32_t> shard, RunPosition position) {
  fbb.Clear();
  const auto shard_vector = shard.empty() ? Offset<flatbuffers::Vector<uint32_t>>() : CopyVector(fbb, shard);
  const auto& o = task.objective;
  const auto dataset = fbb.CreateString(o.dataset);
  const auto objective = wire::CreateObjectiveSpec(fbb, o.kind, o.dimension, o.spectrum, o.lambda_min, o.lambda_max,
                                                   o.initial_value, dataset, o.hidden, o.partition, o.dirichlet_alpha,
                                                   o.test_fraction, o.cosh_scale);
  const auto noise = wire::CreateNoiseSpec(fbb, task.noise.kind, task.noise.sigma, task.noise.nu, task.noise.sigma1);
  const auto& c = task.compressor;
  const auto compressor = wire::CreateCompressorSpec(fbb, c.kind, c.k, c.p, c.levels);
  const auto& l = task.link;
  const auto link = wire::CreateLinkSpec(fbb, l.shaping, l.uplink_bps, l.downlink_bps, l.latency_ms, l.compute_ms,
                                         l.duty_cycle);
  const auto& t = task.local;
  const auto local = wire::CreateLocalSpec(fbb, t.steps, t.lr, t.optimizer, t.momentum, t.beta2, t.epsilon,
                                           t.prox_mu, t.keep_state);
  const auto privacy = wire::CreatePrivacySpec(fbb, task.privacy.clip_norm, task.privacy.noise_multiplier);
  const auto spec = wire::CreateTaskSpec(fbb, objective, noise, compressor, task.batch_size, task.seed,
                                         task.node_index, task.num_nodes, link, local, privacy);
  const auto welcome = wire::CreateWelcome(fbb, true, 0, spec, heartbeat_ms, shard_vector, position.first_round,
                                           position.checkpoint_every, position.coordinator_instance);
  FinishEnvelope(fbb, 0, wire::Body::Welcome, welcome.Union());
}

void EncodeRefusal(FlatBufferBuilder& fbb, const char* reason) {
  fbb.Clear();
  const auto text = fbb.CreateString(reason);
  FinishEnvelope(fbb, 0, wire::Body::Welcome, wire::CreateWelcome(fbb, false, text).Union());
}

void EncodeRoundStartFull(FlatBufferBuilder& fbb, uint32_t round, std::span<const float> values, uint32_t offset,
                          std::span<const float> control) {
  fbb.Clear();
  const auto model = CopyVector(fbb, values);
  const auto control_vector = control.empty() ? Offset<flatbuffers::Vector<float>>() : CopyVector(fbb, control);
  wire::RoundStartBuilder b(fbb);
  b.add_form(wire::ModelForm::Full);
  b.add_model(model);
  b.add_model_offset(offset);
  if (!control.empty()) b.add_control(control_vector);
  FinishEnvelope(fbb, round, wire::Body::RoundStart, b.Finish().Union());
}

void EncodeUpdate(FlatBufferBuilder& fbb, uint32_t round, const UpdateHeader& header, const PayloadView& payload) {
  fbb.Clear();
  // Every field is written, even at its default (round 0, node 0, a sign
  // scale of 1): an Update's size is then a function of the compressor, d
  // and the values kept (UpdateMessageBytes), which time models rely on.
  fbb.ForceDefaults(true);
  const auto body = EncodePayload(fbb, payload);
  const auto control = header.control_delta.empty() ? Offset<flatbuffers::Vector<float>>()
                                                    : CopyVector(fbb, header.control_delta);
  wire::UpdateBuilder b(fbb);
  b.add_node_id(header.node_id);
  b.add_payload_type(payload.type);
  b.add_payload(body);
  b.add_loss(header.loss);
  b.add_grad_norm(header.grad_norm);
  b.add_compute_us(header.compute_us);
  b.add_weight(header.weight);
  if (!header.control_delta.empty()) b.add_control_delta(control);
  FinishEnvelope(fbb, round, wire::Body::Update, b.Finish().Union());
  fbb.ForceDefaults(false);
}

void EncodeHeartbeat(FlatBufferBuilder& fbb, uint32_t round, uint32_t node_id) {
  fbb.Clear();
  FinishEnvelope(fbb, round, wire::Body::Heartbeat, wire::CreateHeartbeat(fbb, node_id).Union());
}

void EncodeModelRequest(FlatBufferBuilder& fbb, uint32_t round, uint32_t node_id) {
  fbb.Clear();
  FinishEnvelope(fbb, round, wire::Body::ModelRequest, wire::CreateModelRequest(fbb, node_id).Union());
}

void EncodeBye(FlatBufferBuilder& fbb, uint32_t round, uint32_t node_id, const char* reason) {
  fbb.Clear();
  const auto text = fbb.CreateString(reason);
  FinishEnvelope(fbb, round, wire::Body::Bye, wire::CreateBye(fbb, node_id, text).Union());
}

void EncodeError(FlatBufferBuilder& fbb, uint32_t round, wire::ErrorCode code, const char* message,
                 uint16_t version) {
  fbb.Clear();
  const auto text = fbb.CreateString(message);
  FinishEnvelope(fbb, round, wire::Body::Error, wire::CreateError(fbb, code, text).Union(), version);
}

uint32_t ParticipantOf(const wire::Envelope& envelope) {
  switch (envelope.body_type()) {
    case wire::Body::Hello:
      return envelope.body_as_Hello()->node_id();
    case wire::Body::Update:
      return envelope.body_as_Update()->node_id();
    case wire::Body::Heartbeat:
      return envelope.body_as_Heartbeat()->node_id();
    case wire::Body::Bye:
      return envelope.body_as_Bye()->node_id();
    case wire::Body::ModelRequest:
      return envelope.body_as_ModelRequest()->node_id();
    case wire::Body::NONE:
    case wire::Body::Welcome:
    case wire::Body::RoundStart:
    case wire::Body::Error:
      break;
  }
  return UINT32_MAX;
}

uint16_t ReplyVersion(std::span<const uint8_t> bytes) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0) return kProtocolVersion;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (!wire::VerifyEnvelopeBuffer(verifier)) return kProtocolVersion;
  // A version of 0 is no version: it is never written by any edgefl build.
  const uint16_t version = wire::GetEnvelope(bytes.data())->protocol_version();
  return version != 0 ? version : kProtocolVersion;
}

Status ReadEnvelope(std::span<const uint8_t> bytes, const wire::Envelope** envelope) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0) return Malformed("message buffer is not 8-byte aligned");
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (!wire::VerifyEnvelopeBuffer(verifier)) {
    return Malformed("message of %zu bytes is not a valid edgefl envelope", bytes.size());
  }
  const wire::Envelope* e = wire::GetEnvelope(bytes.data());
  if (e->protocol_version() != kProtocolVersion) {
    return Malformed("protocol version %u, this build speaks %u", e->protocol_version(), kProtocolVersion);
  }
  if (e->body_type() == wire::Body::NONE || e->body() == nullptr) return Malformed("message has no body");
  // The verifier passes a union type it does not know, leaving its body
  // unchecked; such a message would otherwise be ignored unseen.
  if (e->body_type() > wire::Body::MAX) {
    return Malformed("unknown message type %u", static_cast<unsigned>(e->body_type()));
  }
  *envelope = e;
  return Status::Ok();
}

Status ReadHello(const wire::Hello& hello, HelloInfo* info) {
  if (hello.dimension() > kMaxDimension) return Malformed("hello dimension %u exceeds %u", hello.dimension(), kMaxDimension);
  info->node_id = hello.node_id();
  info->dimension = hello.dimension();
  info->memory_budget_bytes = hello.memory_budget_bytes();
  info->uplink_bps = hello.uplink_bps();
  info->compressors = KindSpan(hello.supported());
  info->objectives = KindSpan(hello.supported_objectives());
  info->noises = KindSpan(hello.supported_noises());
  info->relay_nodes = hello.relay_nodes();
  return Status::Ok();
}

Status ReadWelcome(const wire::Welcome& welcome, TaskSpec* task, uint32_t* heartbeat_ms,
                   std::span<const uint32_t>* shard, RunPosition* position) {
  if (position != nullptr) {
    *position = {.first_round = welcome.first_round(),
                 .checkpoint_every = welcome.checkpoint_every(),
                 .coordinator_instance = welcome.coordinator_instance()};
  }
  if (!welcome.accepted()) {
    return Status::Error(StatusCode::kRefused, "coordinator refused this node: %s",
                         welcome.reason() != nullptr ? welcome.reason()->c_str() : "(no reason given)");
  }
  const wire::TaskSpec* spec = welcome.task();
  if (spec == nullptr || spec->objective() == nullptr || spec->noise() == nullptr || spec->compressor() == nullptr) {
    return Malformed("welcome lacks a complete task");
  }
  // Every field of the spec structs, so that none reaches a node as its
  // default (tests compare whole structs).
  const auto* o = spec->objective();
  if (o->dataset() != nullptr && o->dataset()->size() >= sizeof(ObjectiveSpec::dataset)) {
    return Malformed("welcome data set name is too long");
  }
  task->objective = {.kind = o->kind(),
                     .dimension = o->dimension(),
                     .spectrum = o->spectrum(),
                     .lambda_min = o->lambda_min(),
                     .lambda_max = o->lambda_max(),
                     .initial_value = o->initial_value(),
                     .dataset = "",
                     .hidden = o->hidden(),
                     .partition = o->partition(),
                     .dirichlet_alpha = o->dirichlet_alpha(),
                     .test_fraction = o->test_fraction(),
                     .cosh_scale = o->cosh_scale()};
  if (o->dataset() != nullptr) std::memcpy(task->objective.dataset, o->dataset()->c_str(), o->dataset()->size() + 1);
  const auto* n = spec->noise();
  task->noise = {.kind = n->kind(), .sigma = n->sigma(), .nu = n->nu(), .sigma1 = n->sigma1()};
  const auto* c = spec->compressor();
  task->compressor = {.kind = c->kind(), .k = c->k(), .p = c->p(), .levels = c->levels()};
  task->batch_size = spec->batch_size();
  task->seed = spec->seed();
  task->node_index = spec->node_index();
  task->num_nodes = spec->num_nodes();
  task->link = {};  // absent: no shaping
  if (const auto* l = spec->link()) {
    task->link = {.shaping = l->shaping(),
                  .uplink_bps = l->uplink_bps(),
                  .downlink_bps = l->downlink_bps(),
                  .latency_ms = l->latency_ms(),
                  .compute_ms = l->compute_ms(),
                  .duty_cycle = l->duty_cycle()};
  }
  task->local = {};  // absent: one plain gradient step
  if (const auto* t = spec->local()) {
    task->local = {.steps = t->steps(),
                   .lr = t->lr(),
                   .optimizer = t->optimizer(),
                   .momentum = t->momentum(),
                   .beta2 = t->beta2(),
                   .epsilon = t->epsilon(),
                   .prox_mu = t->prox_mu(),
                   .keep_state = t->keep_state()};
  }
  task->privacy = {};  // absent: no clipping, no noise
  if (const auto* p = spec->privacy()) {
    task->privacy = {.clip_norm = p->clip_norm(), .noise_multiplier = p->noise_multiplier()};
  }
  EDGEFL_RETURN_IF_ERROR(ValidateTaskSpec(*task));
  *heartbeat_ms = welcome.heartbeat_ms();
  if (*heartbeat_ms < 10 || *heartbeat_ms > 600000) return Malformed("welcome heartbeat %u ms out of range", *heartbeat_ms);
  *shard = AsSpan(welcome.shard());
  if (IsDataObjective(task->objective.kind) == shard->empty()) {
    return Malformed("welcome %s a shard for objective %s", shard->empty() ? "lacks" : "has",
                     ObjectiveName(task->objective.kind));
  }
  if (shard->size() > kMaxShardSamples) return Malformed("welcome shard of %zu samples exceeds %u", shard->size(), kMaxShardSamples);
  for (size_t i = 1; i < shard->size(); ++i) {
    if ((*shard)[i] <= (*shard)[i - 1]) return Malformed("welcome shard is not increasing at position %zu", i);
  }
  return Status::Ok();
}

Status ReadRoundStartFull(const wire::RoundStart& start, uint32_t dimension, uint32_t* offset,
                          std::span<const float>* values, bool with_control, std::span<const float>* control) {
  if (start.form() != wire::ModelForm::Full) return Malformed("round start is not in full form");
  const auto part = AsSpan(start.model());
  const uint32_t first = start.model_offset();
  if (part.empty() || part.size() > kRoundStartPartValues || first >= dimension || part.size() > dimension - first) {
    return Malformed("round start holds %zu model values at offset %u: expected 1 to %u inside the model's %u",
                     part.size(), first, kRoundStartPartValues, dimension);
  }
  for (float v : part) {
    if (!std::isfinite(v)) return Malformed("round start model has a non-finite value");
  }
  const auto control_part = AsSpan(start.control());
  if (control_part.size() != (with_control ? part.size() : 0)) {
    return Malformed("round start holds %zu control values beside %zu model values: expected %zu", control_part.size(),
                     part.size(), with_control ? part.size() : size_t{0});
  }
  for (float v : control_part) {
    if (!std::isfinite(v)) return Malformed("round start control variate has a non-finite value");
  }
  *offset = first;
  *values = part;
  if (control != nullptr) *control = control_part;
  return Status::Ok();
}

Status ReadControlDelta(const wire::Update& update, uint32_t dimension, std::span<const float>* values) {
  const auto delta = AsSpan(update.control_delta());
  if (delta.size() != dimension) {
    return Malformed("update holds %zu control values: a scaffold update carries one a coordinate, %u", delta.size(),
                     dimension);
  }
  for (float v : delta) {
    if (!(std::fabs(v) < kMaxUpdateMagnitude)) return Malformed("update control value %g is not below 2^40", v);
  }
  *values = delta;
  return Status::Ok();
}

Status DecodeUpdatePayload(const wire::Update& update, const CompressorSpec& compressor, uint32_t dimension,
                           DecodeScratch& scratch, DecodedPayload* out) {
  const wire::Payload expected = PayloadTypeOf(compressor.kind);
  EDGEFL_RETURN_IF_ERROR(CheckPayloadType(update, expected));
  *out = DecodedPayload{};
  switch (expected) {
    case wire::Payload::DenseF32:
      return DecodeDense(*update.payload_as_DenseF32(), dimension, scratch, out);
    case wire::Payload::SparseF32:
      return DecodeSparse(*update.payload_as_SparseF32(), compressor, dimension, out);
    case wire::Payload::SeededSparseF32:
      return DecodeSeededSparse(*update.payload_as_SeededSparseF32(), compressor, dimension, scratch, out);
    case wire::Payload::Quantized:
      return DecodeQuantized(*update.payload_as_Quantized(), compressor, dimension, scratch, out);
    case wire::Payload::Natural:
      return DecodeNatural(*update.payload_as_Natural(), dimension, out);
    case wire::Payload::Signs:
      return DecodeSigns(*update.payload_as_Signs(), compressor, dimension, out);
    case wire::Payload::ExactPartial:  // a relay's, read with DecodeExactPartial (exact_partial.h)
    case wire::Payload::NONE:
      break;
  }
  return Malformed("update has no payload");
}

}  // namespace edgefl::codec

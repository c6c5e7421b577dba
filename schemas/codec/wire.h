// The one codec of edgefl: every message is built and read here, by node and
// coordinator alike. Encoders write into a caller-owned FlatBufferBuilder
// that is reused (after the first round it no longer grows); decoders verify
// untrusted bytes with flatbuffers::Verifier, then check semantics
// (dimension, ranges, finite values) before anything is used, and report
// what was wrong in a Status. Nothing here throws or prints.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <span>

#include "core/block_magnitudes.h"
#include "core/status.h"
#include "flatbuffers/flatbuffers.h"
#include "schemas/codec/compact_dense.h"
#include "schemas/codec/task_spec.h"
#include "schemas/edgefl_generated.h"

namespace edgefl::codec {

// Version 8: relays (Hello.relay_nodes, the ExactPartial payload).
// Version 7: RoundStart's step form (model_step.h) and ModelRequest.
// Version 6: local steps, privacy, Scaffold. Version 5: the task carries the
// node's link (TaskSpec.link). Version 4: Hello lists the objective and noise
// kinds a node implements.
inline constexpr uint16_t kProtocolVersion = 8;

// Updates are refused when any decoded value has |v| >= kMaxUpdateMagnitude:
// such a run has diverged, and the coordinator's exact accumulator
// (coordinator/exact_sum.h) is sized for values below it.
inline constexpr float kMaxUpdateMagnitude = 0x1.0p40f;

// Under aggregator.weighting = "samples" each update counts Update.weight
// times (FedAvg's n_i) in the coordinator's exact sums, which hold a round's
// sum of weight x value exactly while the weights total at most
// kMaxRoundWeight: 2^20 x 2^104 (a value below 2^40 in units of 2^-64) is
// 2^124, within the sums' 125 bits (coordinator/exact_sum.h). A round has at
// most run.nodes updates, so one update may weigh MaxUpdateWeight(nodes);
// the coordinator refuses a heavier one, and a run whose nodes would send
// one (docs/protocol.md 3, Update).
inline constexpr uint32_t kMaxRoundWeight = uint32_t{1} << 20;
constexpr uint32_t MaxUpdateWeight(uint32_t nodes) { return nodes == 0 ? kMaxRoundWeight : kMaxRoundWeight / nodes; }

// ------------------------------------------------------------------ encoding

// Every kind of each enum that this build's node implements: what its Hello
// declares.
inline constexpr wire::CompressorKind kAllCompressors[] = {
    wire::CompressorKind::Identity, wire::CompressorKind::RandK,      wire::CompressorKind::Bernoulli,
    wire::CompressorKind::Qsgd,     wire::CompressorKind::Sign,       wire::CompressorKind::ScaledSign,
    wire::CompressorKind::EfSign,   wire::CompressorKind::TopK,       wire::CompressorKind::Natural};
inline constexpr wire::ObjectiveKind kAllObjectives[] = {
    wire::ObjectiveKind::Quadratic, wire::ObjectiveKind::Quartic, wire::ObjectiveKind::Logistic,
    wire::ObjectiveKind::Mlp, wire::ObjectiveKind::Cosh};
inline constexpr wire::NoiseKind kAllNoises[] = {wire::NoiseKind::None, wire::NoiseKind::Gaussian,
                                                 wire::NoiseKind::StudentT, wire::NoiseKind::Affine};

// A Hello's fields. Encoding, the lists default to everything this build
// implements; decoded, they view the message (empty when absent).
struct HelloInfo {
  uint32_t node_id = 0;
  uint32_t dimension = 0;  // 0: take the coordinator's
  uint64_t memory_budget_bytes = 0;
  uint64_t uplink_bps = 0;
  std::span<const wire::CompressorKind> compressors = kAllCompressors;
  std::span<const wire::ObjectiveKind> objectives = kAllObjectives;
  std::span<const wire::NoiseKind> noises = kAllNoises;
  uint32_t relay_nodes = 0;  // a relay's Hello: the nodes it serves (0: a node)
};

// A compressed vector, as views into the sender's own buffers; the encoder
// packs it into the message (one pass, no intermediate copy).
struct PayloadView {
  wire::Payload type = wire::Payload::DenseF32;
  std::span<const float> values;      // DenseF32, SparseF32, SeededSparseF32 values
  std::span<const uint32_t> indices;  // SparseF32
  wire::IndexSampler sampler = wire::IndexSampler::RandK;  // SeededSparseF32
  uint64_t seed = 0;
  double keep_probability = 1.0;
  float scale = 1.0f;                     // Signs
  float norm = 0.0f;                      // Quantized
  uint32_t levels = 1;                    // Quantized: s
  // Already packed by the compressor (a block at a time, while the block
  // is in cache): Quantized's PackFields of |level_j| in [0, s] in
  // BitsFor(s) bits; Signs' and Quantized's PackSigns of the vector.
  std::span<const uint8_t> packed_levels;
  std::span<const uint8_t> packed_signs;
  std::span<const uint8_t> codes;         // Natural
};

struct UpdateHeader {
  uint32_t node_id = 0;
  double loss = 0.0;
  double grad_norm = 0.0;
  uint32_t compute_us = 0;
  uint32_t weight = 1;  // the samples behind the update (Update.weight)
  // Scaffold: c_i+ - c_i, all d values (Update.control_delta); empty otherwise.
  std::span<const float> control_delta;
};

void EncodeHello(flatbuffers::FlatBufferBuilder& fbb, const HelloInfo& hello);
// What a Welcome says beside the task: the run's timing of rounds.
struct RunPosition {
  uint32_t first_round = 0;            // the next round the coordinator runs
  uint32_t checkpoint_every = 0;       // run.checkpoint_every
  uint64_t coordinator_instance = 0;   // drawn afresh by each coordinator process
};
void EncodeWelcome(flatbuffers::FlatBufferBuilder& fbb, const TaskSpec& task, uint32_t heartbeat_ms,
                   std::span<const uint32_t> shard = {}, RunPosition position = {});
void EncodeRefusal(flatbuffers::FlatBufferBuilder& fbb, const char* reason);
// A RoundStart carries at most this many model values (64 KiB); a longer
// model is sent as consecutive parts, so that a node never holds more than a
// part in ZeroMQ's buffers or in its receive buffer.
inline constexpr uint32_t kRoundStartPartValues = 16384;

// The Full RoundStart part holding model coordinates [offset, offset +
// values.size()), and for Scaffold the control variate's same coordinates
// (`control`, as long as `values`; empty otherwise).
void EncodeRoundStartFull(flatbuffers::FlatBufferBuilder& fbb, uint32_t round, std::span<const float> values,
                          uint32_t offset = 0, std::span<const float> control = {});
void EncodeUpdate(flatbuffers::FlatBufferBuilder& fbb, uint32_t round, const UpdateHeader& header,
                  const PayloadView& payload);
// The exact size of every Update that EncodeUpdate writes for `compressor`
// at dimension d, whatever its round, node and values (it writes fields at
// their defaults too). `kept`: the values a sparse update carries (k for
// rand-k and top-k, the sampled count for bernoulli); others ignore it.
// `control_delta`: the update carries Scaffold's d control values.
size_t UpdateMessageBytes(const CompressorSpec& compressor, uint32_t dimension, uint32_t kept,
                          bool control_delta = false);
// The largest payload an Update for `compressor` may carry at dimension d,
// in bytes (docs/protocol.md 1): 4d for identity and bernoulli, 4k for
// rand-k, 8k for top-k, ceil(d(b + 1)/8) + 8 for qsgd (b = BitsFor(levels)),
// d for natural and ceil(d/8) for the three sign kinds.
size_t MaxPayloadBytes(const CompressorSpec& compressor, uint32_t dimension);
// The largest Update a coordinator accepts: max(4096, roundup8(P + 256))
// with P = MaxPayloadBytes. The 256 bytes are room for the tables around the
// payload as any FlatBuffers builder lays them out, not only this codec's
// (which needs about 120); every Update EncodeUpdate writes fits. Scaffold's
// control values add 4d + 8 to P (`control_delta`).
size_t UpdateSizeLimit(const CompressorSpec& compressor, uint32_t dimension, bool control_delta = false);
// The bytes of the RoundStart parts that carry a model of dimension d in
// round `round`, as the coordinator sends them to each node (with Scaffold's
// control variate beside it: `control`).
size_t RoundStartBytes(uint32_t dimension, uint32_t round, bool control = false);
void EncodeHeartbeat(flatbuffers::FlatBufferBuilder& fbb, uint32_t round, uint32_t node_id);
// A node's request for the full model of `round` (its replica cannot take
// the round's step).
void EncodeModelRequest(flatbuffers::FlatBufferBuilder& fbb, uint32_t round, uint32_t node_id);
void EncodeBye(flatbuffers::FlatBufferBuilder& fbb, uint32_t round, uint32_t node_id, const char* reason);
// `version`: the envelope's protocol_version. An Error answering a peer of
// another version carries that peer's (ReplyVersion), so the peer can read
// why it was refused: Envelope and Error are the same in every version.
void EncodeError(flatbuffers::FlatBufferBuilder& fbb, uint32_t round, wire::ErrorCode code, const char* message,
                 uint16_t version = kProtocolVersion);

// ------------------------------------------------------------------ decoding

// Verifies the buffer (structure, identifier, protocol version, a body) and
// points *envelope into it. The bytes must outlive *envelope and be 8-byte
// aligned, as ZeroMQ's message buffers are.
Status ReadEnvelope(std::span<const uint8_t> bytes, const wire::Envelope** envelope);

// The protocol_version to answer `bytes` with: the one they declare when
// they are a verified edgefl envelope (of any version), else ours.
uint16_t ReplyVersion(std::span<const uint8_t> bytes);

// The node a message speaks for: the node_id of a Hello, Update, Heartbeat,
// ModelRequest or Bye; UINT32_MAX for the coordinator's messages, which name none.
uint32_t ParticipantOf(const wire::Envelope& envelope);

// Hello: dimension 0 or <= kMaxDimension. The lists view the message.
Status ReadHello(const wire::Hello& hello, HelloInfo* info);

// Largest shard a Welcome may carry (it must fit a node's handshake buffer).
inline constexpr uint32_t kMaxShardSamples = 15000;
// A node's handshake buffer: room for a Welcome with the largest shard.
inline constexpr size_t kHandshakeBufferBytes = 4 * kMaxShardSamples + 4096;

// Welcome: accepted with a valid task, or refused (Status kRefused carrying
// the coordinator's reason). *shard views the message: increasing sample
// indices, at most kMaxShardSamples, empty unless the objective is a data
// objective (which must have one).
Status ReadWelcome(const wire::Welcome& welcome, TaskSpec* task, uint32_t* heartbeat_ms,
                   std::span<const uint32_t>* shard, RunPosition* position = nullptr);

// A Full RoundStart part: 1 to kRoundStartPartValues finite values at
// *offset, inside [0, dimension), and its control values: as many, finite,
// when `with_control` (Scaffold), none otherwise.
Status ReadRoundStartFull(const wire::RoundStart& start, uint32_t dimension, uint32_t* offset,
                          std::span<const float>* values, bool with_control = false,
                          std::span<const float>* control = nullptr);
// Scaffold's Update.control_delta: d finite values below kMaxUpdateMagnitude.
Status ReadControlDelta(const wire::Update& update, uint32_t dimension, std::span<const float>* values);

// An update's payload after checking. Dense f32 and sparse values point into
// the message (sampled indices into the DecodeScratch); signs stay packed;
// QSGD and natural updates stay compact, views into the message.
struct DecodedPayload {
  enum class Form : uint8_t { kDense, kSparse, kSigns, kCompactDense };
  Form form = Form::kDense;
  std::span<const float> dense;
  // ScanBlockMagnitudes of `dense`, found while checking it (in the
  // DecodeScratch).
  std::span<const BlockMagnitude> dense_magnitudes;
  CompactDense compact;
  std::span<const uint32_t> indices;
  std::span<const float> values;
  std::span<const uint8_t> sign_bits;
  float sign_scale = 1.0f;
};

// Working memory for decoding, sized once for a dimension.
class DecodeScratch {
 public:
  explicit DecodeScratch(uint32_t dimension);
  std::span<uint32_t> indices() { return {indices_.get(), dimension_}; }
  std::span<uint16_t> fields() { return {fields_.get(), dimension_}; }
  // SampleRandK's scratch: RandKBitmapWords(dimension) words.
  std::span<uint64_t> bitmap() { return {bitmap_.get(), bitmap_words_}; }
  std::span<BlockMagnitude> magnitudes() { return {magnitudes_.get(), MagnitudeBlocks(dimension_)}; }

 private:
  uint32_t dimension_;
  size_t bitmap_words_;
  std::unique_ptr<uint32_t[]> indices_;
  std::unique_ptr<uint16_t[]> fields_;
  std::unique_ptr<uint64_t[]> bitmap_;
  std::unique_ptr<BlockMagnitude[]> magnitudes_;
};

// Checks that the payload is the form `compressor` produces for `dimension`
// (sizes, index ranges and order, levels, finite values below
// kMaxUpdateMagnitude) and decodes it.
Status DecodeUpdatePayload(const wire::Update& update, const CompressorSpec& compressor, uint32_t dimension,
                           DecodeScratch& scratch, DecodedPayload* out);

// The weight an Update declares: Update.weight, with 0 (absent, as from a
// node that does not send it) read as 1.
inline uint32_t UpdateWeight(const wire::Update& update) { return update.weight() == 0 ? 1 : update.weight(); }

// Writes a decoded update as out.size() (= its dimension) dense values, zero
// where a sparse update has none: for tools and tests, as the coordinator
// adds updates without expanding them.
void ExpandUpdate(const DecodedPayload& update, std::span<float> out);

// The payload type a compressor's updates travel in.
wire::Payload PayloadTypeOf(wire::CompressorKind kind);

// FNV-1a (64-bit) over the model's float bits: the model_hash of RoundStart
// and the fingerprint a run's summary records to show two runs ended on the
// same model, bit for bit.
inline uint64_t ModelHash(std::span<const float> model) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (float v : model) {
    uint32_t bits = std::bit_cast<uint32_t>(v);
    for (int i = 0; i < 4; ++i) {
      hash = (hash ^ (bits & 0xFFu)) * 0x100000001b3ull;
      bits >>= 8;
    }
  }
  return hash;
}
}  // namespace edgefl::codec

#include "schemas/codec/wire.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "schemas/codec/bit_pack.h"
#include "schemas/codec/index_sampler.h"

namespace edgefl::codec {
namespace {

// An 8-byte aligned copy of a finished builder, as a receiver holds it.
struct Message {
  explicit Message(const flatbuffers::FlatBufferBuilder& fbb) : words((fbb.GetSize() + 7) / 8), size(fbb.GetSize()) {
    std::memcpy(words.data(), fbb.GetBufferPointer(), size);
  }
  std::span<const uint8_t> bytes() const { return {reinterpret_cast<const uint8_t*>(words.data()), size}; }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words.data()); }
  std::vector<uint64_t> words;
  size_t size;
};

const wire::Envelope* Read(const Message& m) {
  const wire::Envelope* envelope = nullptr;
  const Status s = ReadEnvelope(m.bytes(), &envelope);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(envelope->protocol_version() == kProtocolVersion);
  return envelope;
}

// A task with every field away from its default, so a field that a
// Welcome drops reads back as its default and the comparison fails.
TaskSpec SampleTask() {
  TaskSpec t;
  t.objective = {.kind = wire::ObjectiveKind::Quartic,
                 .dimension = 1000,
                 .spectrum = wire::SpectrumKind::Geometric,
                 .lambda_min = 0.25,
                 .lambda_max = 4.0,
                 .initial_value = -0.5,
                 .dataset = "digits",
                 .hidden = 7,
                 .partition = wire::PartitionKind::Dirichlet,
                 .dirichlet_alpha = 0.125,
                 .test_fraction = 0.375,
                 .cosh_scale = 2.5};
  t.noise = {wire::NoiseKind::StudentT, 2.5, 1.5, 0.75};
  t.compressor = {wire::CompressorKind::Qsgd, 9, 0.5, 15};
  t.batch_size = 32;
  t.seed = 0xDEADBEEFCAFEull;
  t.node_index = 3;
  t.num_nodes = 8;
  t.link = {.shaping = wire::LinkShaping::TokenBucket,
            .uplink_bps = 250000.5,
            .downlink_bps = 1e6,
            .latency_ms = 20.25,
            .compute_ms = 7.5,
            .duty_cycle = 0.01};
  return t;
}

TEST_CASE("hello round-trips") {
  flatbuffers::FlatBufferBuilder fbb;
  EncodeHello(fbb, {7, 1000, 4u << 20, 1000000});
  const Message m(fbb);
  const auto* e = Read(m);
  REQUIRE(e->body_type() == wire::Body::Hello);
  HelloInfo info;
  REQUIRE(ReadHello(*e->body_as_Hello(), &info).ok());
  CHECK(info.node_id == 7);
  CHECK(info.dimension == 1000);
  CHECK(info.memory_budget_bytes == 4u << 20);
  CHECK(info.uplink_bps == 1000000);
  // By default a Hello declares every kind this build implements.
  CHECK(std::ranges::equal(info.compressors, kAllCompressors));
  CHECK(std::ranges::equal(info.objectives, kAllObjectives));
  CHECK(std::ranges::equal(info.noises, kAllNoises));
  CHECK(info.compressors.size() == 9);
  CHECK(info.objectives.size() == 5);
  CHECK(info.noises.size() == 4);
  // Every kind of the schema: a kind added to it fails here until the node
  // implements it and lists it, so that the list never claims or omits one.
  CHECK(std::ranges::equal(kAllCompressors, wire::EnumValuesCompressorKind()));
  CHECK(std::ranges::equal(kAllObjectives, wire::EnumValuesObjectiveKind()));
  CHECK(std::ranges::equal(kAllNoises, wire::EnumValuesNoiseKind()));
}

TEST_CASE("a hello declares the lists it is given; absent lists read as empty") {
  flatbuffers::FlatBufferBuilder fbb;
  static constexpr wire::ObjectiveKind kObjectives[] = {wire::ObjectiveKind::Quartic};
  static constexpr wire::NoiseKind kNoises[] = {wire::NoiseKind::None, wire::NoiseKind::StudentT};
  EncodeHello(fbb, {.node_id = 2, .compressors = {}, .objectives = kObjectives, .noises = kNoises});
  const Message m(fbb);
  HelloInfo info;
  REQUIRE(ReadHello(*Read(m)->body_as_Hello(), &info).ok());
  CHECK(info.compressors.empty());
  CHECK(std::ranges::equal(info.objectives, kObjectives));
  CHECK(std::ranges::equal(info.noises, kNoises));

  // A version 3 Hello has no objective or noise lists at all.
  fbb.Clear();
  const auto supported = fbb.CreateVector(std::vector<uint8_t>{0, 4});
  wire::HelloBuilder b(fbb);
  b.add_node_id(2);
  b.add_supported(flatbuffers::Offset<flatbuffers::Vector<wire::CompressorKind>>(supported.o));
  const auto hello = b.Finish();
  wire::EnvelopeBuilder envelope(fbb);
  envelope.add_protocol_version(kProtocolVersion);
  envelope.add_body_type(wire::Body::Hello);
  envelope.add_body(hello.Union());
  fbb.Finish(envelope.Finish(), wire::EnvelopeIdentifier());
  const Message older(fbb);
  REQUIRE(ReadHello(*Read(older)->body_as_Hello(), &info).ok());
  CHECK(info.compressors.size() == 2);
  CHECK(info.objectives.empty());
  CHECK(info.noises.empty());
}

TEST_CASE("welcome carries the whole task; a refusal carries its reason") {
  flatbuffers::FlatBufferBuilder fbb;
  const TaskSpec sent = SampleTask();
  EncodeWelcome(fbb, sent, 250);
  const Message m(fbb);
  TaskSpec got;
  uint32_t heartbeat_ms = 0;
  std::span<const uint32_t> shard;
  const Status s = ReadWelcome(*Read(m)->body_as_Welcome(), &got, &heartbeat_ms, &shard);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(shard.empty());
  CHECK(heartbeat_ms == 250);
  CHECK(got == sent);

  EncodeRefusal(fbb, "node dimension 5 does not match objective.dimension = 1000");
  const Message refusal(fbb);
  const Status r = ReadWelcome(*Read(refusal)->body_as_Welcome(), &got, &heartbeat_ms, &shard);
  CHECK(r.code() == StatusCode::kRefused);
  CHECK(std::string(r.message()).find("does not match objective.dimension") != std::string::npos);
}

TEST_CASE("a welcome with an invalid task is refused by the node") {
  flatbuffers::FlatBufferBuilder fbb;
  TaskSpec bad = SampleTask();
  bad.compressor = {wire::CompressorKind::RandK, 5000, 1.0, 1};  // k > d
  EncodeWelcome(fbb, bad, 250);
  const Message m(fbb);
  TaskSpec got;
  uint32_t heartbeat_ms = 0;
  std::span<const uint32_t> shard;
  const Status s = ReadWelcome(*Read(m)->body_as_Welcome(), &got, &heartbeat_ms, &shard);
  CHECK_FALSE(s.ok());
  CHECK(std::string(s.message()).find("compressor.k") != std::string::npos);
}

TEST_CASE("a welcome carries the link in every shaping, and a task without one reads as unshaped") {
  flatbuffers::FlatBufferBuilder fbb;
  TaskSpec got;
  uint32_t heartbeat_ms = 0;
  std::span<const uint32_t> shard;
  for (const auto& [shaping, name] : LinkShapingNames()) {
    CAPTURE(std::string(name));
    TaskSpec sent = SampleTask();
    sent.link.shaping = shaping;
    EncodeWelcome(fbb, sent, 250);
    const Message m(fbb);
    const Status s = ReadWelcome(*Read(m)->body_as_Welcome(), &got, &heartbeat_ms, &shard);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(got.link == sent.link);
    CHECK(got == sent);
  }
  CHECK(std::string(LinkShapingName(wire::LinkShaping::TokenBucket)) == "token-bucket");

  // Built as a version 4 coordinator would, with no link: read as none.
  TaskSpec sent = SampleTask();
  fbb.Clear();
  const auto objective = wire::CreateObjectiveSpec(fbb, wire::ObjectiveKind::Quadratic, 100);
  const auto noise = wire::CreateNoiseSpec(fbb);
  const auto compressor = wire::CreateCompressorSpec(fbb);
  const auto spec = wire::CreateTaskSpec(fbb, objective, noise, compressor, 1, 5, 0, 2);
  const auto welcome = wire::CreateWelcome(fbb, true, 0, spec, 250);
  wire::EnvelopeBuilder envelope(fbb);
  envelope.add_protocol_version(kProtocolVersion);
  envelope.add_body_type(wire::Body::Welcome);
  envelope.add_body(welcome.Union());
  fbb.Finish(envelope.Finish(), wire::EnvelopeIdentifier());
  const Message bare(fbb);
  got.link = sent.link;  // a node's earlier task must not leak into this one
  const Status s = ReadWelcome(*Read(bare)->body_as_Welcome(), &got, &heartbeat_ms, &shard);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(got.link == LinkSpec{});
  CHECK(got.link.shaping == wire::LinkShaping::None);
}

TEST_CASE("a welcome whose link is out of range is refused, naming the figure") {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  struct Case {
    const char* what;
    void (*change)(LinkSpec&);
    const char* says;
  };
  const Case cases[] = {
      {"negative uplink", [](LinkSpec& l) { l.uplink_bps = -1.0; }, "link.uplink_bps = -1"},
      {"NaN uplink", [](LinkSpec& l) { l.uplink_bps = kNaN; }, "link.uplink_bps = nan"},
      {"infinite uplink", [](LinkSpec& l) { l.uplink_bps = kInf; }, "link.uplink_bps = inf"},
      {"absurd uplink", [](LinkSpec& l) { l.uplink_bps = 1e13; }, "must be in [1, 1e+12]"},
      {"shaped, too slow", [](LinkSpec& l) { l.uplink_bps = 0.5; }, "link.uplink_bps = 0.5"},
      {"shaped, no downlink", [](LinkSpec& l) { l.downlink_bps = 0.0; }, "needs a rate each way"},
      {"absurd downlink", [](LinkSpec& l) { l.downlink_bps = 1e300; }, "link.downlink_bps = 1e+300"},
      {"negative latency", [](LinkSpec& l) { l.latency_ms = -3.0; }, "link.latency_ms = -3"},
      {"NaN latency", [](LinkSpec& l) { l.latency_ms = kNaN; }, "link.latency_ms = nan"},
      {"latency over an hour", [](LinkSpec& l) { l.latency_ms = 4e6; }, "link.latency_ms = 4e+06"},
      {"negative compute", [](LinkSpec& l) { l.compute_ms = -1.0; }, "link.compute_ms = -1"},
      {"no duty", [](LinkSpec& l) { l.duty_cycle = 0.0; }, "duty cycle = 0"},
      {"duty over 1", [](LinkSpec& l) { l.duty_cycle = 1.5; }, "duty cycle = 1.5"},
      {"NaN duty", [](LinkSpec& l) { l.duty_cycle = kNaN; }, "duty cycle = nan"},
      {"unknown shaping", [](LinkSpec& l) { l.shaping = static_cast<wire::LinkShaping>(7); }, "link.shaping"},
  };
  flatbuffers::FlatBufferBuilder fbb;
  for (const Case& c : cases) {
    CAPTURE(std::string(c.what));
    TaskSpec bad = SampleTask();
    c.change(bad.link);
    CHECK_FALSE(ValidateTaskSpec(bad).ok());
    EncodeWelcome(fbb, bad, 250);
    const Message m(fbb);
    TaskSpec got;
    uint32_t heartbeat_ms = 0;
    std::span<const uint32_t> shard;
    const Status s = ReadWelcome(*Read(m)->body_as_Welcome(), &got, &heartbeat_ms, &shard);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(std::string(s.message()).find(c.says) != std::string::npos, s.message());
  }
  // An unshaped link may leave its rates at 0 (no preset: only forecasts
  // read them), but not out of range.
  TaskSpec unshaped = SampleTask();
  unshaped.link = {};
  CHECK(ValidateTaskSpec(unshaped).ok());
  unshaped.link.uplink_bps = -1.0;
  CHECK_FALSE(ValidateTaskSpec(unshaped).ok());
}

TEST_CASE("a data objective's welcome carries the node's shard, increasing") {
  flatbuffers::FlatBufferBuilder fbb;
  TaskSpec task = SampleTask();
  task.objective.kind = wire::ObjectiveKind::Mlp;
  std::snprintf(task.objective.dataset, sizeof(task.objective.dataset), "digits");
  task.objective.hidden = 8;
  TaskSpec got;
  uint32_t heartbeat_ms = 0;
  std::span<const uint32_t> shard;

  const std::vector<uint32_t> rows = {3, 8, 1000};
  EncodeWelcome(fbb, task, 100, rows);
  const Message good(fbb);
  REQUIRE(ReadWelcome(*Read(good)->body_as_Welcome(), &got, &heartbeat_ms, &shard).ok());
  CHECK(std::vector<uint32_t>(shard.begin(), shard.end()) == rows);
  CHECK(std::string(got.objective.dataset) == "digits");
  CHECK(got.objective.hidden == 8);

  EncodeWelcome(fbb, task, 100);  // no shard
  const Message missing(fbb);
  CHECK_FALSE(ReadWelcome(*Read(missing)->body_as_Welcome(), &got, &heartbeat_ms, &shard).ok());

  const std::vector<uint32_t> unsorted = {3, 3, 9};
  EncodeWelcome(fbb, task, 100, unsorted);
  const Message bad(fbb);
  CHECK_FALSE(ReadWelcome(*Read(bad)->body_as_Welcome(), &got, &heartbeat_ms, &shard).ok());
}

TEST_CASE("round start, heartbeat, bye and error round-trip") {
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<float> model = {1.0f, -2.0f, 3.5f};
  EncodeRoundStartFull(fbb, 12, model);
  const Message start(fbb);
  const auto* e = Read(start);
  CHECK(e->round() == 12);
  std::span<const float> got;
  uint32_t offset = 99;
  REQUIRE(ReadRoundStartFull(*e->body_as_RoundStart(), 3, &offset, &got).ok());
  CHECK(offset == 0);
  CHECK(std::vector<float>(got.begin(), got.end()) == model);
  // A part of a longer model: 3 values at offset 0 of 4 is fine; not past the end.
  CHECK(ReadRoundStartFull(*e->body_as_RoundStart(), 4, &offset, &got).ok());
  CHECK_FALSE(ReadRoundStartFull(*e->body_as_RoundStart(), 2, &offset, &got).ok());

  EncodeHeartbeat(fbb, 5, 2);
  const Message heartbeat(fbb);
  CHECK(Read(heartbeat)->body_as_Heartbeat()->node_id() == 2);
  CHECK(Read(heartbeat)->round() == 5);

  EncodeBye(fbb, 9, 4, "done");
  const Message bye(fbb);
  CHECK(std::string(Read(bye)->body_as_Bye()->reason()->c_str()) == "done");

  EncodeError(fbb, 1, wire::ErrorCode::WrongRound, "late");
  const Message error(fbb);
  CHECK(Read(error)->body_as_Error()->code() == wire::ErrorCode::WrongRound);
}

TEST_CASE("a round start with a non-finite model value is rejected") {
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<float> model = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  EncodeRoundStartFull(fbb, 0, model);
  const Message m(fbb);
  std::span<const float> got;
  uint32_t offset = 0;
  CHECK_FALSE(ReadRoundStartFull(*Read(m)->body_as_RoundStart(), 2, &offset, &got).ok());
}

TEST_CASE("round start parts: offsets inside the model, at most kRoundStartPartValues values, never empty") {
  flatbuffers::FlatBufferBuilder fbb;
  std::span<const float> got;
  uint32_t offset = 0;
  const std::vector<float> part(100, 0.5f);
  EncodeRoundStartFull(fbb, 3, part, 900);
  const Message last(fbb);
  REQUIRE(ReadRoundStartFull(*Read(last)->body_as_RoundStart(), 1000, &offset, &got).ok());
  CHECK(offset == 900);
  CHECK(got.size() == 100);
  CHECK_FALSE(ReadRoundStartFull(*Read(last)->body_as_RoundStart(), 999, &offset, &got).ok());  // past the end
  CHECK_FALSE(ReadRoundStartFull(*Read(last)->body_as_RoundStart(), 900, &offset, &got).ok());  // offset outside

  EncodeRoundStartFull(fbb, 3, {}, 0);
  const Message empty(fbb);
  CHECK_FALSE(ReadRoundStartFull(*Read(empty)->body_as_RoundStart(), 1000, &offset, &got).ok());

  const std::vector<float> too_long(kRoundStartPartValues + 1, 1.0f);
  EncodeRoundStartFull(fbb, 3, too_long, 0);
  const Message oversized(fbb);
  CHECK_FALSE(ReadRoundStartFull(*Read(oversized)->body_as_RoundStart(), 100000, &offset, &got).ok());
}

// Encodes `payload` as an update and decodes it back for `spec`.
Status RoundTrip(const PayloadView& payload, const CompressorSpec& spec, uint32_t d, std::vector<float>* dense,
                 flatbuffers::FlatBufferBuilder& fbb) {
  EncodeUpdate(fbb, 3, {1, 0.5, 2.0, 10, 1, {}}, payload);
  const Message m(fbb);
  const auto* e = Read(m);
  REQUIRE(e->body_type() == wire::Body::Update);
  CHECK(e->body_as_Update()->node_id() == 1);
  CHECK(e->body_as_Update()->loss() == 0.5);
  DecodeScratch scratch(d);
  DecodedPayload decoded;
  EDGEFL_RETURN_IF_ERROR(DecodeUpdatePayload(*e->body_as_Update(), spec, d, scratch, &decoded));
  dense->assign(d, 0.0f);
  ExpandUpdate(decoded, *dense);
  if (spec.kind == wire::CompressorKind::Identity) {
    // Dense f32 carries the block magnitudes found while checking the values.
    std::vector<BlockMagnitude> expected(MagnitudeBlocks(d));
    ScanBlockMagnitudes(*dense, expected);
    REQUIRE(decoded.dense_magnitudes.size() == expected.size());
    for (size_t b = 0; b < expected.size(); ++b) {
      CHECK(decoded.dense_magnitudes[b].largest_bits == expected[b].largest_bits);
      CHECK(decoded.dense_magnitudes[b].smallest_nonzero_bits == expected[b].smallest_nonzero_bits);
    }
  }
  return Status::Ok();
}

// Quantized payloads travel packed, as the compressor packs them: storage
// for the packed levels and signs of a view.
struct PackedQuantized {
  std::vector<uint8_t> levels, signs;
};

PayloadView QuantizedView(float norm, uint32_t s, const std::vector<uint16_t>& fields, std::span<const float> signs,
                          PackedQuantized* storage) {
  const unsigned bits = BitsFor(s);
  storage->levels.assign(PackedFieldBytes(fields.size(), bits), 0);
  PackFields(fields, bits, storage->levels);
  storage->signs.assign(PackedSignBytes(signs.size()), 0);
  PackSigns(signs, storage->signs);
  PayloadView p;
  p.type = wire::Payload::Quantized;
  p.norm = norm;
  p.levels = s;
  p.packed_levels = storage->levels;
  p.packed_signs = storage->signs;
  return p;
}

TEST_CASE("every payload round-trips exactly") {
  flatbuffers::FlatBufferBuilder fbb;
  constexpr uint32_t d = 13;
  const std::vector<float> v = {0.5f, -1.25f, 3.0f, 0.0f, -0.0f, 7.5f, -2.0f, 1e-3f, -1e3f, 4.0f, 0.25f, -8.0f, 9.0f};
  std::vector<float> out;

  SUBCASE("dense") {
    PayloadView p;
    p.type = wire::Payload::DenseF32;
    p.values = v;
    REQUIRE(RoundTrip(p, {wire::CompressorKind::Identity}, d, &out, fbb).ok());
    CHECK(out == v);
  }
  SUBCASE("sparse with explicit indices (top-k)") {
    const std::vector<uint32_t> idx = {1, 5, 12};
    const std::vector<float> vals = {-1.25f, 7.5f, 9.0f};
    PayloadView p;
    p.type = wire::Payload::SparseF32;
    p.indices = idx;
    p.values = vals;
    REQUIRE(RoundTrip(p, {wire::CompressorKind::TopK, 3}, d, &out, fbb).ok());
    std::vector<float> expected(d, 0.0f);
    expected[1] = -1.25f;
    expected[5] = 7.5f;
    expected[12] = 9.0f;
    CHECK(out == expected);
  }
  SUBCASE("seeded rand-k regenerates the sender's indices") {
    std::vector<uint32_t> idx(4);
    std::vector<uint64_t> bitmap(RandKBitmapWords(d));
    SampleRandK(99, d, idx, bitmap);
    const std::vector<float> vals = {1.0f, 2.0f, 3.0f, 4.0f};
    PayloadView p;
    p.type = wire::Payload::SeededSparseF32;
    p.sampler = wire::IndexSampler::RandK;
    p.seed = 99;
    p.values = vals;
    REQUIRE(RoundTrip(p, {wire::CompressorKind::RandK, 4}, d, &out, fbb).ok());
    std::vector<float> expected(d, 0.0f);
    for (size_t i = 0; i < idx.size(); ++i) expected[idx[i]] = vals[i];
    CHECK(out == expected);
  }
  SUBCASE("seeded bernoulli regenerates the sender's indices") {
    std::vector<uint32_t> idx(d);
    const uint32_t kept = SampleBernoulli(5, d, 0.5, idx);
    std::vector<float> vals(kept);
    for (uint32_t i = 0; i < kept; ++i) vals[i] = static_cast<float>(i + 1);
    PayloadView p;
    p.type = wire::Payload::SeededSparseF32;
    p.sampler = wire::IndexSampler::Bernoulli;
    p.seed = 5;
    p.keep_probability = 0.5;
    p.values = vals;
    REQUIRE(RoundTrip(p, {wire::CompressorKind::Bernoulli, 0, 0.5}, d, &out, fbb).ok());
    std::vector<float> expected(d, 0.0f);
    for (uint32_t i = 0; i < kept; ++i) expected[idx[i]] = vals[i];
    CHECK(out == expected);
  }
  SUBCASE("quantized levels and signs") {
    const std::vector<uint16_t> levels = {0, 1, 2, 3, 0, 3, 1, 0, 2, 1, 0, 3, 3};
    PackedQuantized storage;
    const PayloadView p = QuantizedView(6.0f, 3, levels, v, &storage);
    REQUIRE(RoundTrip(p, {wire::CompressorKind::Qsgd, 0, 1.0, 3}, d, &out, fbb).ok());
    for (uint32_t j = 0; j < d; ++j) {
      const float magnitude = 2.0f * levels[j];  // norm / s = 2
      CHECK(out[j] == (std::signbit(v[j]) ? -magnitude : magnitude));
    }
  }
  SUBCASE("natural codes") {
    const std::vector<uint8_t> codes = {0, 64, 64 | 0x80, 65, 63, 1, 94, 0x80 | 60, 0, 0, 0, 0, 0};
    PayloadView p;
    p.type = wire::Payload::Natural;
    p.codes = codes;
    REQUIRE(RoundTrip(p, {wire::CompressorKind::Natural}, d, &out, fbb).ok());
    CHECK(out[0] == 0.0f);
    CHECK(out[1] == 1.0f);
    CHECK(out[2] == -1.0f);
    CHECK(out[3] == 2.0f);
    CHECK(out[4] == 0.5f);
    CHECK(out[5] == std::ldexp(1.0f, -63));
    CHECK(out[6] == std::ldexp(1.0f, 30));
    CHECK(out[7] == -0.0625f);
  }
  SUBCASE("signs, plain and scaled") {
    std::vector<uint8_t> packed(PackedSignBytes(d));
    PackSigns(v, packed);
    PayloadView p;
    p.type = wire::Payload::Signs;
    p.packed_signs = packed;
    REQUIRE(RoundTrip(p, {wire::CompressorKind::Sign}, d, &out, fbb).ok());
    for (uint32_t j = 0; j < d; ++j) CHECK(out[j] == (std::signbit(v[j]) ? -1.0f : 1.0f));
    p.scale = 0.75f;
    REQUIRE(RoundTrip(p, {wire::CompressorKind::ScaledSign}, d, &out, fbb).ok());
    for (uint32_t j = 0; j < d; ++j) CHECK(out[j] == (std::signbit(v[j]) ? -0.75f : 0.75f));
    // A plain-sign run accepts scale 1 only.
    CHECK_FALSE(RoundTrip(p, {wire::CompressorKind::Sign}, d, &out, fbb).ok());
  }
}

TEST_CASE("UpdateMessageBytes is the exact size of every update, whatever its round, node and values") {
  using Kind = wire::CompressorKind;
  Rng rng(3);
  for (const uint32_t d : {1u, 7u, 8u, 15u, 16u, 17u, 1000u, 40001u}) {
    const uint32_t k = std::max(1u, d / 3);
    for (const CompressorSpec spec : {CompressorSpec{Kind::Identity}, CompressorSpec{Kind::RandK, k},
                                      CompressorSpec{Kind::Bernoulli, 0, 0.3}, CompressorSpec{Kind::Qsgd, 0, 1.0, 1},
                                      CompressorSpec{Kind::Qsgd, 0, 1.0, 300}, CompressorSpec{Kind::Natural},
                                      CompressorSpec{Kind::Sign}, CompressorSpec{Kind::ScaledSign},
                                      CompressorSpec{Kind::EfSign}, CompressorSpec{Kind::TopK, k}}) {
      const uint32_t kept = spec.kind == Kind::Bernoulli ? rng.Below(d + 1) : k;
      CAPTURE(d);
      CAPTURE(CompressorName(spec.kind));
      CAPTURE(kept);
      // The whole arrays, at default and non-default header values alike.
      std::vector<float> values(spec.kind == Kind::Identity ? d : kept, 0.5f);
      std::vector<uint32_t> indices(kept);
      std::vector<uint8_t> levels(PackedFieldBytes(d, BitsFor(spec.levels))), signs(PackedSignBytes(d)), codes(d);
      PayloadView p;
      p.type = PayloadTypeOf(spec.kind);
      p.values = values;
      if (spec.kind == Kind::TopK) p.indices = indices;
      p.levels = spec.levels;
      if (spec.kind == Kind::Qsgd) p.packed_levels = levels;
      if (p.type == wire::Payload::Quantized || p.type == wire::Payload::Signs) p.packed_signs = signs;
      if (spec.kind == Kind::Natural) p.codes = codes;
      flatbuffers::FlatBufferBuilder fbb;
      for (const auto& [round, header] : {std::pair<uint32_t, UpdateHeader>{0, {}},
                                          std::pair<uint32_t, UpdateHeader>{77, {5, 1.5, 2.5, 300, 1437, {}}}}) {
        EncodeUpdate(fbb, round, header, p);
        CHECK(fbb.GetSize() == UpdateMessageBytes(spec, d, kept));
      }
    }
  }
}

// docs/protocol.md 8, "Reproducing the C++ node's bytes", as a builder in
// another language follows it: FlatBuffers' generic builder calls (field
// number i in slot 4 + 2i, no generated code) in the documented order.
std::vector<uint8_t> DocumentedUpdate(uint32_t round, const UpdateHeader& h, const PayloadView& p) {
  using flatbuffers::Offset;
  const auto field = [](int i) { return static_cast<flatbuffers::voffset_t>(4 + 2 * i); };
  flatbuffers::FlatBufferBuilder fbb;
  fbb.ForceDefaults(true);
  flatbuffers::uoffset_t payload = 0;
  switch (p.type) {
    case wire::Payload::DenseF32: {
      const auto values = fbb.CreateVector(p.values.data(), p.values.size());
      const auto start = fbb.StartTable();
      fbb.AddOffset(field(0), values);
      payload = fbb.EndTable(start);
      break;
    }
    case wire::Payload::SparseF32: {
      const auto indices = fbb.CreateVector(p.indices.data(), p.indices.size());
      const auto values = fbb.CreateVector(p.values.data(), p.values.size());
      const auto start = fbb.StartTable();
      fbb.AddOffset(field(1), values);
      fbb.AddOffset(field(0), indices);
      payload = fbb.EndTable(start);
      break;
    }
    case wire::Payload::SeededSparseF32: {
      const auto values = fbb.CreateVector(p.values.data(), p.values.size());
      const auto start = fbb.StartTable();
      fbb.AddElement<double>(field(2), p.keep_probability, 0.0);
      fbb.AddElement<uint64_t>(field(1), p.seed, 0);
      fbb.AddOffset(field(3), values);
      fbb.AddElement<uint8_t>(field(0), static_cast<uint8_t>(p.sampler), 0);
      payload = fbb.EndTable(start);
      break;
    }
    case wire::Payload::Quantized: {
      const auto levels = fbb.CreateVector(p.packed_levels.data(), p.packed_levels.size());
      const auto signs = fbb.CreateVector(p.packed_signs.data(), p.packed_signs.size());
      const auto start = fbb.StartTable();
      fbb.AddOffset(field(4), signs);
      fbb.AddOffset(field(3), levels);
      fbb.AddElement<uint32_t>(field(1), p.levels, 0);
      fbb.AddElement<float>(field(0), p.norm, 0.0f);
      fbb.AddElement<uint8_t>(field(2), static_cast<uint8_t>(BitsFor(p.levels)), 0);
      payload = fbb.EndTable(start);
      break;
    }
    case wire::Payload::Natural: {
      const auto codes = fbb.CreateVector(p.codes.data(), p.codes.size());
      const auto start = fbb.StartTable();
      fbb.AddOffset(field(0), codes);
      payload = fbb.EndTable(start);
      break;
    }
    case wire::Payload::Signs: {
      const auto packed = fbb.CreateVector(p.packed_signs.data(), p.packed_signs.size());
      const auto start = fbb.StartTable();
      fbb.AddElement<float>(field(1), p.scale, 1.0f);
      fbb.AddOffset(field(0), packed);
      payload = fbb.EndTable(start);
      break;
    }
    case wire::Payload::ExactPartial:  // a relay's (exact_partial_test.cc)
    case wire::Payload::NONE:
      break;
  }
  auto start = fbb.StartTable();
  fbb.AddElement<uint32_t>(field(0), h.node_id, 0);
  fbb.AddElement<uint8_t>(field(1), static_cast<uint8_t>(p.type), 0);
  fbb.AddOffset(field(2), Offset<void>(payload));
  fbb.AddElement<double>(field(3), h.loss, 0.0);
  fbb.AddElement<double>(field(4), h.grad_norm, 0.0);
  fbb.AddElement<uint32_t>(field(5), h.compute_us, 0);
  fbb.AddElement<uint32_t>(field(6), h.weight, 0);
  const flatbuffers::uoffset_t update = fbb.EndTable(start);
  start = fbb.StartTable();
  fbb.AddElement<uint16_t>(field(0), kProtocolVersion, 0);
  fbb.AddElement<uint32_t>(field(1), round, 0);
  fbb.AddElement<uint8_t>(field(2), static_cast<uint8_t>(wire::Body::Update), 0);
  fbb.AddOffset(field(3), Offset<void>(update));
  fbb.Finish(Offset<void>(fbb.EndTable(start)), "EDFL");
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

TEST_CASE("the documented builder calls reproduce EncodeUpdate's bytes for every payload") {
  using Kind = wire::CompressorKind;
  Rng rng(21);
  for (const uint32_t d : {1u, 7u, 37u, 64u, 1000u}) {
    const uint32_t k = std::max(1u, d / 3);
    std::vector<float> dense(d), kept(k);
    for (auto& v : dense) v = static_cast<float>(rng.Normal());
    for (auto& v : kept) v = static_cast<float>(rng.Normal());
    std::vector<uint32_t> indices(k);
    for (uint32_t i = 0; i < k; ++i) indices[i] = i * (d / k);
    std::vector<uint8_t> levels(PackedFieldBytes(d, BitsFor(5))), signs(PackedSignBytes(d)), codes(d);
    for (auto& b : levels) b = static_cast<uint8_t>(rng.Below(256));
    for (auto& b : signs) b = static_cast<uint8_t>(rng.Below(256));
    for (auto& b : codes) b = static_cast<uint8_t>(rng.Below(256));
    for (const Kind kind : {Kind::Identity, Kind::RandK, Kind::Bernoulli, Kind::Qsgd, Kind::Natural, Kind::Sign,
                            Kind::ScaledSign, Kind::TopK}) {
      PayloadView p;
      p.type = PayloadTypeOf(kind);
      p.values = kind == Kind::Identity ? std::span<const float>(dense) : std::span<const float>(kept);
      p.indices = indices;
      p.sampler = kind == Kind::Bernoulli ? wire::IndexSampler::Bernoulli : wire::IndexSampler::RandK;
      p.seed = kind == Kind::Bernoulli ? 0x0123456789ABCDEFull : 0;
      p.keep_probability = kind == Kind::Bernoulli ? 0.3 : 1.0;
      p.scale = kind == Kind::ScaledSign ? 0.25f : 1.0f;
      p.norm = 2.5f;
      p.levels = 5;
      p.packed_levels = levels;
      p.packed_signs = signs;
      p.codes = codes;
      // Defaults (round 0, node 0, a scale of 1) are written too.
      for (const auto& [round, header] : {std::pair<uint32_t, UpdateHeader>{0, {}},
                                          std::pair<uint32_t, UpdateHeader>{77, {5, 1.5, -2.5, 300, 1437, {}}}}) {
        CAPTURE(d);
        CAPTURE(CompressorName(kind));
        CAPTURE(round);
        flatbuffers::FlatBufferBuilder fbb;
        EncodeUpdate(fbb, round, header, p);
        const std::vector<uint8_t> encoded(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
        CHECK(DocumentedUpdate(round, header, p) == encoded);
      }
    }
  }
}

TEST_CASE("an update carries its weight; 0, or a builder that leaves the field out, reads as 1") {
  const std::vector<float> values = {1.0f, -2.0f};
  PayloadView p;
  p.type = wire::Payload::DenseF32;
  p.values = values;
  flatbuffers::FlatBufferBuilder fbb;
  for (const auto& [sent, read] : {std::pair<uint32_t, uint32_t>{1437, 1437}, {1, 1}, {0, 1}, {UINT32_MAX, UINT32_MAX}}) {
    CAPTURE(sent);
    UpdateHeader header;
    header.weight = sent;
    EncodeUpdate(fbb, 3, header, p);
    const Message m(fbb);
    const wire::Update* update = Read(m)->body_as_Update();
    REQUIRE(update != nullptr);
    CHECK(update->weight() == sent);
    CHECK(UpdateWeight(*update) == read);
  }
  // A node that does not know the field (the generated builder without
  // ForceDefaults writes no default scalar; here the field is simply absent).
  fbb.Clear();
  const auto body = fbb.CreateVector(values.data(), values.size());
  const auto dense = wire::CreateDenseF32(fbb, body);
  wire::UpdateBuilder b(fbb);
  b.add_node_id(2);
  b.add_payload_type(wire::Payload::DenseF32);
  b.add_payload(dense.Union());
  const auto update_offset = b.Finish();
  fbb.Finish(wire::CreateEnvelope(fbb, kProtocolVersion, 3, wire::Body::Update, update_offset.Union()),
             wire::EnvelopeIdentifier());
  const Message m(fbb);
  const wire::Update* update = Read(m)->body_as_Update();
  REQUIRE(update != nullptr);
  CHECK(update->weight() == 0);
  CHECK(UpdateWeight(*update) == 1);
}

TEST_CASE("UpdateSizeLimit is docs/protocol.md's max(4096, roundup8(P + 256)), and every update fits it") {
  using Kind = wire::CompressorKind;
  // The documented figure at d = 1000: P = 4000 for identity.
  CHECK(UpdateSizeLimit(CompressorSpec{Kind::Identity}, 1000) == 4256);
  CHECK(UpdateSizeLimit(CompressorSpec{Kind::Sign}, 1000) == 4096);
  CHECK(UpdateSizeLimit(CompressorSpec{Kind::Natural}, 4000) == 4256);
  CHECK(UpdateSizeLimit(CompressorSpec{Kind::TopK, 1000}, 4000) == 8256);
  CHECK(UpdateSizeLimit(CompressorSpec{Kind::Qsgd, 0, 1.0, 1}, 80000) == 80000 * 2 / 8 + 8 + 256);
  for (uint32_t d = 1; d < 70000; d = d < 64 ? d + 1 : d * 5 / 4 + 1) {
    const uint32_t k = std::max(1u, d / 2);
    for (const CompressorSpec spec :
         {CompressorSpec{Kind::Identity}, CompressorSpec{Kind::RandK, k}, CompressorSpec{Kind::Bernoulli, 0, 0.3},
          CompressorSpec{Kind::Qsgd, 0, 1.0, 1}, CompressorSpec{Kind::Qsgd, 0, 1.0, 300}, CompressorSpec{Kind::Natural},
          CompressorSpec{Kind::Sign}, CompressorSpec{Kind::ScaledSign}, CompressorSpec{Kind::EfSign},
          CompressorSpec{Kind::TopK, k}}) {
      CAPTURE(d);
      CAPTURE(CompressorName(spec.kind));
      // The largest update of that shape: bernoulli may keep every coordinate.
      const uint32_t kept = spec.kind == Kind::Bernoulli ? d : k;
      const size_t limit = UpdateSizeLimit(spec, d);
      CHECK(UpdateMessageBytes(spec, d, kept) <= limit);
      CHECK(limit % 8 == 0);
      CHECK(limit >= MaxPayloadBytes(spec, d) + 256);
    }
  }
}

TEST_CASE("RoundStartBytes is the sum of the parts the coordinator sends") {
  for (const uint32_t d : {1u, 1000u, 16384u, 16385u, 40000u, 100000u}) {
    for (const uint32_t round : {0u, 5u}) {
      CAPTURE(d);
      CAPTURE(round);
      const std::vector<float> model(d, 0.5f);
      flatbuffers::FlatBufferBuilder fbb;
      size_t total = 0;
      for (uint32_t offset = 0; offset < d; offset += kRoundStartPartValues) {
        const uint32_t count = std::min(kRoundStartPartValues, d - offset);
        EncodeRoundStartFull(fbb, round, std::span<const float>(model).subspan(offset, count), offset);
        total += fbb.GetSize();
      }
      CHECK(RoundStartBytes(d, round) == total);
    }
  }
  CHECK(RoundStartBytes(1000, 5) == 4060);  // docs/protocol.md 8
}

TEST_CASE("compact payloads expand to the same values in every block") {
  // QSGD and natural updates stay compact after decoding and are expanded
  // a block at a time; across several blocks and a partial last one, every
  // value must be the one the formula gives.
  constexpr uint32_t d = 1500, kLevels = 5;
  Rng rng(41);
  std::vector<uint16_t> levels(d);
  std::vector<float> source(d);
  std::vector<uint8_t> codes(d);
  for (uint32_t j = 0; j < d; ++j) {
    levels[j] = static_cast<uint16_t>(rng.Below(kLevels + 1));
    source[j] = rng.Below(2) ? -1.0f : 1.0f;
    codes[j] = static_cast<uint8_t>((rng.Below(2) << 7) | rng.Below(104));
  }
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<float> out;
  PackedQuantized storage;
  const PayloadView p = QuantizedView(3.7f, kLevels, levels, source, &storage);
  REQUIRE(RoundTrip(p, {wire::CompressorKind::Qsgd, 0, 1.0, kLevels}, d, &out, fbb).ok());
  const float unit = 3.7f / kLevels;
  for (uint32_t j = 0; j < d; ++j) {
    CAPTURE(j);
    CHECK(out[j] == std::copysign(unit * static_cast<float>(levels[j]), source[j]));
  }
  PayloadView natural;
  natural.type = wire::Payload::Natural;
  natural.codes = codes;
  REQUIRE(RoundTrip(natural, {wire::CompressorKind::Natural}, d, &out, fbb).ok());
  for (uint32_t j = 0; j < d; ++j) {
    CAPTURE(j);
    CHECK(std::bit_cast<uint32_t>(out[j]) == std::bit_cast<uint32_t>(NaturalCodeValue(codes[j])));
  }
}

TEST_CASE("semantic checks reject what a well-formed buffer may still carry") {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<float> out;
  std::vector<float> v(8, 1.0f);
  PayloadView dense;
  dense.type = wire::Payload::DenseF32;
  dense.values = v;

  SUBCASE("wrong dimension") { CHECK_FALSE(RoundTrip(dense, {wire::CompressorKind::Identity}, 9, &out, fbb).ok()); }
  SUBCASE("payload type of another compressor") {
    CHECK_FALSE(RoundTrip(dense, {wire::CompressorKind::Sign}, 8, &out, fbb).ok());
  }
  SUBCASE("non-finite and huge values are an overflow, which a coordinator tells from malformed bytes") {
    for (const float bad : {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(), 0x1.0p40f,
                            -0x1.0p41f}) {
      v[3] = bad;
      CHECK(RoundTrip(dense, {wire::CompressorKind::Identity}, 8, &out, fbb).code() == StatusCode::kOverflow);
    }
    v[3] = 0x1.fffffep39f;  // the largest value below 2^40 is accepted
    CHECK(RoundTrip(dense, {wire::CompressorKind::Identity}, 8, &out, fbb).ok());
  }
  SUBCASE("sparse indices out of order or out of range") {
    const std::vector<float> vals = {1.0f, 2.0f};
    std::vector<uint32_t> idx = {4, 2};
    PayloadView p;
    p.type = wire::Payload::SparseF32;
    p.indices = idx;
    p.values = vals;
    CHECK_FALSE(RoundTrip(p, {wire::CompressorKind::TopK, 2}, 8, &out, fbb).ok());
    idx = {2, 8};
    CHECK_FALSE(RoundTrip(p, {wire::CompressorKind::TopK, 2}, 8, &out, fbb).ok());
    idx = {2, 2};
    CHECK_FALSE(RoundTrip(p, {wire::CompressorKind::TopK, 2}, 8, &out, fbb).ok());
    idx = {2, 7};
    CHECK(RoundTrip(p, {wire::CompressorKind::TopK, 2}, 8, &out, fbb).ok());
    CHECK_FALSE(RoundTrip(p, {wire::CompressorKind::TopK, 3}, 8, &out, fbb).ok());
  }
  SUBCASE("quantized level above s") {
    const std::vector<uint16_t> levels = {0, 1, 2, 3, 4, 0, 0, 0};
    PackedQuantized storage;
    // Encoded with s = 4 (3 bits), decoded by a run with s = 3 (2 bits): refused.
    const PayloadView p = QuantizedView(1.0f, 4, levels, std::span<const float>(v).first(8), &storage);
    CHECK_FALSE(RoundTrip(p, {wire::CompressorKind::Qsgd, 0, 1.0, 3}, 8, &out, fbb).ok());
    CHECK(RoundTrip(p, {wire::CompressorKind::Qsgd, 0, 1.0, 4}, 8, &out, fbb).ok());
    // s = 5 in 3 bits: fields 6 and 7 fit the width but are not levels.
    const std::vector<uint16_t> too_high = {0, 1, 2, 3, 4, 5, 6, 0};
    const PayloadView high = QuantizedView(1.0f, 5, too_high, std::span<const float>(v).first(8), &storage);
    CHECK_FALSE(RoundTrip(high, {wire::CompressorKind::Qsgd, 0, 1.0, 5}, 8, &out, fbb).ok());
  }
  SUBCASE("natural code beyond the accumulator's range") {
    std::vector<uint8_t> codes(8, 64);
    codes[2] = 127;  // 2^63
    PayloadView p;
    p.type = wire::Payload::Natural;
    p.codes = codes;
    CHECK_FALSE(RoundTrip(p, {wire::CompressorKind::Natural}, 8, &out, fbb).ok());
    codes[2] = 0x80 | 104;  // -2^40
    CHECK_FALSE(RoundTrip(p, {wire::CompressorKind::Natural}, 8, &out, fbb).ok());
    codes[2] = 0x80 | 103;  // -2^39, the largest allowed
    CHECK(RoundTrip(p, {wire::CompressorKind::Natural}, 8, &out, fbb).ok());
    CHECK(out[2] == -0x1.0p39f);
  }
  SUBCASE("bernoulli payload whose value count disagrees with its seed") {
    std::vector<uint32_t> idx(8);
    const uint32_t kept = SampleBernoulli(11, 8, 0.5, idx);
    std::vector<float> vals(kept + 1, 1.0f);
    PayloadView p;
    p.type = wire::Payload::SeededSparseF32;
    p.sampler = wire::IndexSampler::Bernoulli;
    p.seed = 11;
    p.keep_probability = 0.5;
    p.values = vals;
    CHECK_FALSE(RoundTrip(p, {wire::CompressorKind::Bernoulli, 0, 0.5}, 8, &out, fbb).ok());
    // A different p than the run's is refused too.
    vals.resize(kept);
    CHECK_FALSE(RoundTrip(p, {wire::CompressorKind::Bernoulli, 0, 0.25}, 8, &out, fbb).ok());
  }
}

TEST_CASE("truncated buffers are rejected") {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<float> v(100, 1.0f);
  PayloadView p;
  p.type = wire::Payload::DenseF32;
  p.values = v;
  EncodeUpdate(fbb, 1, {0, 0.0, 0.0, 0, 1, {}}, p);
  const Message full(fbb);
  for (size_t cut = 0; cut < full.size; cut += 7) {
    Message m = full;
    m.size = cut;
    const wire::Envelope* e = nullptr;
    CHECK_MESSAGE(!ReadEnvelope(m.bytes(), &e).ok(), "accepted a buffer cut to " << cut << " bytes");
  }
}

TEST_CASE("a message type this build does not know is rejected, not ignored") {
  // An envelope whose body is a Heartbeat table but whose union type is 42.
  flatbuffers::FlatBufferBuilder fbb;
  const auto body = wire::CreateHeartbeat(fbb, 3);
  wire::EnvelopeBuilder b(fbb);
  b.add_protocol_version(kProtocolVersion);
  b.add_round(1);
  b.add_body_type(static_cast<wire::Body>(42));
  b.add_body(body.Union());
  fbb.Finish(b.Finish(), wire::EnvelopeIdentifier());
  const Message m(fbb);
  const wire::Envelope* e = nullptr;
  const Status s = ReadEnvelope(m.bytes(), &e);
  CHECK(s.code() == StatusCode::kMalformed);
  CHECK(std::string(s.message()).find("unknown message type 42") != std::string::npos);
}

TEST_CASE("a wrong protocol version or identifier is rejected") {
  flatbuffers::FlatBufferBuilder fbb;
  EncodeHeartbeat(fbb, 0, 0);
  Message m(fbb);
  m.data()[4] = 'X';  // file identifier
  const wire::Envelope* e = nullptr;
  CHECK_FALSE(ReadEnvelope(m.bytes(), &e).ok());

  fbb.Clear();
  wire::EnvelopeBuilder b(fbb);
  b.add_protocol_version(kProtocolVersion + 1);
  fbb.Finish(b.Finish(), wire::EnvelopeIdentifier());
  const Message future(fbb);
  const Status s = ReadEnvelope(future.bytes(), &e);
  CHECK_FALSE(s.ok());
  CHECK(std::string(s.message()).find("protocol version") != std::string::npos);

  // Older peers drew rand-k (version 1) or Bernoulli (version 2) indices
  // with other samplers, (version 3) did not declare their objectives and
  // noises, (version 4) would ignore the task's link, or (version 5) its
  // local training and privacy, or (version 6) would not answer a step-form
  // round start, or (version 7) would not know a relay's Hello or partial:
  // refused.
  static_assert(kProtocolVersion == 8);
  for (const uint16_t version :
       {uint16_t{1}, uint16_t{2}, uint16_t{3}, uint16_t{4}, uint16_t{5}, uint16_t{6}, uint16_t{7}}) {
    fbb.Clear();
    wire::EnvelopeBuilder old(fbb);
    old.add_protocol_version(version);
    fbb.Finish(old.Finish(), wire::EnvelopeIdentifier());
    const Message older(fbb);
    const Status s_old = ReadEnvelope(older.bytes(), &e);
    CHECK_FALSE(s_old.ok());
    const std::string expected = "protocol version " + std::to_string(version) + ", this build speaks 8";
    CHECK(std::string(s_old.message()).find(expected) != std::string::npos);
    CHECK(ReplyVersion(older.bytes()) == version);
  }
}

TEST_CASE("an error answers a peer of another version in that version, which the peer reads") {
  // The coordinator answers a version 3 Hello with an Error of version 3:
  // Envelope and Error are the same in every version, so a version 3 node
  // reads it and stops with its message.
  flatbuffers::FlatBufferBuilder fbb;
  const auto hello = wire::CreateHello(fbb, 1);
  wire::EnvelopeBuilder b(fbb);
  b.add_protocol_version(3);
  b.add_body_type(wire::Body::Hello);
  b.add_body(hello.Union());
  fbb.Finish(b.Finish(), wire::EnvelopeIdentifier());
  const Message old_hello(fbb);
  const wire::Envelope* e = nullptr;
  const Status refused = ReadEnvelope(old_hello.bytes(), &e);
  REQUIRE_FALSE(refused.ok());
  CHECK(std::string(refused.message()) == "protocol version 3, this build speaks 8");
  REQUIRE(ReplyVersion(old_hello.bytes()) == 3);

  EncodeError(fbb, 0, wire::ErrorCode::Malformed, refused.message(), ReplyVersion(old_hello.bytes()));
  const Message reply(fbb);
  flatbuffers::Verifier verifier(reply.bytes().data(), reply.bytes().size());
  REQUIRE(wire::VerifyEnvelopeBuffer(verifier));
  const wire::Envelope* error = wire::GetEnvelope(reply.bytes().data());
  CHECK(error->protocol_version() == 3);
  REQUIRE(error->body_type() == wire::Body::Error);
  CHECK(error->body_as_Error()->code() == wire::ErrorCode::Malformed);
  CHECK(std::string(error->body_as_Error()->message()->c_str()) == "protocol version 3, this build speaks 8");

  // Bytes that are no envelope are answered in this build's version.
  const std::vector<uint64_t> junk = {0x0123456789abcdefull, 42};
  CHECK(ReplyVersion({reinterpret_cast<const uint8_t*>(junk.data()), 16}) == kProtocolVersion);
  EncodeHeartbeat(fbb, 0, 0);
  CHECK(ReplyVersion(Message(fbb).bytes()) == kProtocolVersion);
}

TEST_CASE("random corruption never crashes the reader") {
  // Flip bytes of valid updates at random; whatever the verifier lets
  // through must still pass or fail the semantic checks cleanly.
  flatbuffers::FlatBufferBuilder fbb;
  Rng rng(2024);
  constexpr uint32_t d = 64;
  std::vector<float> v(d);
  for (auto& x : v) x = static_cast<float>(rng.Normal());
  std::vector<uint16_t> levels(d, 2);
  PackedQuantized storage;
  const PayloadView quantized = QuantizedView(3.0f, 4, levels, v, &storage);
  EncodeUpdate(fbb, 2, {0, 1.0, 1.0, 0, 1, {}}, quantized);
  const Message original(fbb);
  DecodeScratch scratch(d);
  int accepted = 0, rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    Message m = original;
    const int flips = 1 + static_cast<int>(rng.Below(4));
    for (int f = 0; f < flips; ++f) m.data()[rng.Below(static_cast<uint32_t>(m.size))] ^= static_cast<uint8_t>(1 + rng.Below(255));
    const wire::Envelope* e = nullptr;
    if (!ReadEnvelope(m.bytes(), &e).ok() || e->body_type() != wire::Body::Update) {
      ++rejected;
      continue;
    }
    DecodedPayload decoded;
    const Status s = DecodeUpdatePayload(*e->body_as_Update(), {wire::CompressorKind::Qsgd, 0, 1.0, 4}, d, scratch, &decoded);
    if (s.ok()) {
      ++accepted;
      std::vector<float> values(d);
      ExpandUpdate(decoded, values);
      for (float x : values) CHECK(std::fabs(x) < kMaxUpdateMagnitude);
    } else {
      ++rejected;
    }
  }
  CHECK(rejected > 0);
  CHECK(accepted > 0);  // flips inside the data are legal updates
}

}  // namespace
}  // namespace edgefl::codec

// The step form of RoundStart: each payload form survives encoding and is
// applied as docs/protocol.md 9 computes it; malformed parts are refused
// with the reason.
#include "schemas/codec/model_step.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "schemas/codec/bit_pack.h"

namespace edgefl::codec {
namespace {

// Builds a part, reads it back (the message must outlive the view).
struct Read {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<uint64_t> storage;
  ModelStepPart part;
  Status status;

  Read(uint32_t dimension, const ModelStepPart& written) {
    EncodeRoundStartStep(fbb, 7, written);
    storage.assign((fbb.GetSize() + 7) / 8, 0);
    std::memcpy(storage.data(), fbb.GetBufferPointer(), fbb.GetSize());
    const wire::Envelope* e = nullptr;
    status = ReadEnvelope({reinterpret_cast<const uint8_t*>(storage.data()), fbb.GetSize()}, &e);
    if (status.ok()) status = ReadRoundStartStep(*e->body_as_RoundStart(), dimension, &part);
  }
};

ModelStepPart Part(uint32_t offset, uint32_t length) {
  ModelStepPart p;
  p.version = 3;
  p.offset = offset;
  p.length = length;
  p.step_size = 0.25;
  p.model_hash = 0x1234;
  return p;
}

TEST_CASE("a dense step part moves every coordinate of its part by f32(x - s u) in double") {
  const uint32_t d = kRoundStartPartValues + 10;
  std::vector<float> u(10);
  for (size_t j = 0; j < u.size(); ++j) u[j] = 0.1f * static_cast<float>(j) - 0.3f;
  ModelStepPart written = Part(kRoundStartPartValues, 10);
  written.payload.type = wire::Payload::DenseF32;
  written.payload.values = u;
  const Read r(d, written);
  REQUIRE(r.status.ok());
  CHECK(r.part.version == 3);
  CHECK(r.part.offset == kRoundStartPartValues);
  CHECK(r.part.length == 10);
  CHECK(r.part.model_hash == 0x1234);
  std::vector<float> model(d, 1.0f), expected(d, 1.0f);
  for (size_t j = 0; j < 10; ++j) {
    expected[kRoundStartPartValues + j] = static_cast<float>(1.0 - 0.25 * static_cast<double>(u[j]));
  }
  ApplyModelStep(r.part, model);
  CHECK(model == expected);
}

TEST_CASE("a sparse step part moves only its indices") {
  const std::vector<uint32_t> indices = {0, 5, 9};
  const std::vector<float> values = {1.0f, -2.0f, 4.0f};
  ModelStepPart written = Part(0, 10);
  written.payload.type = wire::Payload::SparseF32;
  written.payload.indices = indices;
  written.payload.values = values;
  const Read r(10, written);
  REQUIRE(r.status.ok());
  std::vector<float> model(10, 1.0f);
  ApplyModelStep(r.part, model);
  CHECK(model == std::vector<float>{0.75f, 1, 1, 1, 1, 1.5f, 1, 1, 1, 0.0f});
}

TEST_CASE("a quantized step part carries a sign vote's counts exactly: level x (1 / levels)") {
  // Counts of 5 voters: u_j = c_j / 5 as the sign vote computes it, c_j * (1.0 / 5).
  const std::vector<int> counts = {5, -3, 0, 1, -5, 3, -1, 0, 2};
  std::vector<uint16_t> fields;
  std::vector<float> signs;
  for (const int c : counts) {
    fields.push_back(static_cast<uint16_t>(std::abs(c)));
    signs.push_back(c < 0 ? -1.0f : 1.0f);
  }
  std::vector<uint8_t> packed_levels(PackedFieldBytes(counts.size(), BitsFor(5)));
  std::vector<uint8_t> packed_signs(PackedSignBytes(counts.size()));
  PackFields(fields, BitsFor(5), packed_levels);
  PackSigns(signs, packed_signs);
  ModelStepPart written = Part(0, static_cast<uint32_t>(counts.size()));
  written.step_size = 0.01;
  written.payload.type = wire::Payload::Quantized;
  written.payload.norm = 1.0f;
  written.payload.levels = 5;
  written.payload.packed_levels = packed_levels;
  written.payload.packed_signs = packed_signs;
  const Read r(static_cast<uint32_t>(counts.size()), written);
  REQUIRE(r.status.ok());
  std::vector<float> model(counts.size(), 0.5f), expected(counts.size());
  for (size_t j = 0; j < counts.size(); ++j) {
    const double direction = counts[j] * (1.0 / 5.0);
    expected[j] = static_cast<float>(0.5f + -0.01 * direction);
  }
  ApplyModelStep(r.part, model);
  CHECK(model == expected);
}

TEST_CASE("ReplicaHash is docs/protocol.md 9's: eight FNV lanes over 32-bit words, then FNV-1a over the lanes") {
  // The text's definition, written out plainly.
  const auto reference = [](const std::vector<float>& model) {
    const uint64_t basis = 0xcbf29ce484222325ull, prime = 0x100000001b3ull;
    std::vector<uint64_t> lanes(8, basis);
    for (size_t j = 0; j < model.size(); ++j) {
      uint32_t word = 0;
      std::memcpy(&word, &model[j], 4);
      lanes[j % 8] = (lanes[j % 8] ^ word) * prime;
    }
    uint64_t hash = basis;
    for (const uint64_t lane : lanes) {
      for (int b = 0; b < 8; ++b) hash = (hash ^ ((lane >> (8 * b)) & 0xFF)) * prime;
    }
    return hash;
  };
  for (const size_t d : {size_t{1}, size_t{7}, size_t{8}, size_t{1000}, size_t{1003}}) {
    CAPTURE(d);
    std::vector<float> model(d);
    for (size_t j = 0; j < d; ++j) model[j] = 0.001f * static_cast<float>(j * j) - 3.0f;
    CHECK(ReplicaHash(model) == reference(model));
    model[d / 2] = std::nextafter(model[d / 2], 10.0f);  // one bit
    CHECK(ReplicaHash(model) == reference(model));
  }
  // One ulp anywhere changes it.
  std::vector<float> model(1000, 0.5f);
  const uint64_t before = ReplicaHash(model);
  model[999] = std::nextafter(0.5f, 1.0f);
  CHECK(ReplicaHash(model) != before);
}

TEST_CASE("StepPartBytes is the size EncodeRoundStartStep writes, for every form, length and offset") {
  for (const uint32_t d : {1u, 7u, 100u, 16384u + 1003u, 3u * 16384u}) {
    for (uint32_t offset = 0; offset < d; offset += kRoundStartPartValues) {
      const uint32_t length = PartLength(d, offset);
      CAPTURE(d);
      CAPTURE(offset);
      ModelStepPart part = Part(offset, length);
      part.version = 9;
      part.step_size = 0.125;
      part.model_hash = 0xABCDEF;
      const std::vector<float> values(length, 0.5f);
      std::vector<uint32_t> indices(length / 3);
      for (size_t k = 0; k < indices.size(); ++k) indices[k] = static_cast<uint32_t>(3 * k);
      std::vector<uint8_t> levels(PackedFieldBytes(length, BitsFor(9))), signs(PackedSignBytes(length));
      flatbuffers::FlatBufferBuilder fbb;
      part.payload.type = wire::Payload::DenseF32;
      part.payload.values = values;
      EncodeRoundStartStep(fbb, 12, part);
      CHECK(StepPartBytes(d, offset, wire::Payload::DenseF32, 1) == fbb.GetSize());
      part.payload.type = wire::Payload::SparseF32;
      part.payload.values = std::span<const float>(values).first(indices.size());
      part.payload.indices = indices;
      EncodeRoundStartStep(fbb, 12, part);
      CHECK(StepPartBytes(d, offset, wire::Payload::SparseF32, 1, static_cast<uint32_t>(indices.size())) ==
            fbb.GetSize());
      part.payload = PayloadView{};
      part.payload.type = wire::Payload::Quantized;
      part.payload.norm = 1.0f;
      part.payload.levels = 9;
      part.payload.packed_levels = levels;
      part.payload.packed_signs = signs;
      EncodeRoundStartStep(fbb, 12, part);
      CHECK(StepPartBytes(d, offset, wire::Payload::Quantized, 9) == fbb.GetSize());
    }
  }
}

TEST_CASE("malformed step parts are refused, naming what is wrong") {
  const std::vector<float> values(10, 1.0f);
  ModelStepPart dense = Part(0, 10);
  dense.payload.type = wire::Payload::DenseF32;
  dense.payload.values = values;
  const auto refused = [](const Read& r, const char* what) {
    CAPTURE(what);
    REQUIRE_FALSE(r.status.ok());
    CHECK(std::string(r.status.message()).find(what) != std::string::npos);
  };
  refused(Read(11, dense), "holds 10 values for 11 coordinates");
  ModelStepPart off_grid = dense;
  off_grid.offset = 5;
  refused(Read(100, off_grid), "expected a multiple of 16384");
  refused(Read(0x20000, [&] {
            ModelStepPart p = dense;
            p.offset = 0x40000;
            return p;
          }()),
          "inside the model's");
  ModelStepPart version0 = dense;
  version0.version = 0;
  refused(Read(10, version0), "model version 0");
  ModelStepPart nan_size = dense;
  nan_size.step_size = NAN;
  refused(Read(10, nan_size), "non-finite step size");
  const std::vector<float> bad = {1.0f, INFINITY};
  ModelStepPart bad_values = Part(0, 2);
  bad_values.payload.type = wire::Payload::DenseF32;
  bad_values.payload.values = bad;
  refused(Read(2, bad_values), "non-finite value");
  const std::vector<uint32_t> unordered = {3, 2};
  ModelStepPart sparse = Part(0, 10);
  sparse.payload.type = wire::Payload::SparseF32;
  sparse.payload.indices = unordered;
  sparse.payload.values = std::span<const float>(values).first(2);
  refused(Read(10, sparse), "is not increasing");
  const std::vector<uint32_t> outside = {2, 10};
  sparse.payload.indices = outside;
  refused(Read(10, sparse), "is not increasing inside the part's 10");
  // Levels above s, and a payload form no step takes.
  std::vector<uint8_t> levels(PackedFieldBytes(4, BitsFor(2))), signs(1);
  PackFields(std::vector<uint16_t>{1, 3, 0, 2}, BitsFor(2), levels);
  ModelStepPart quantized = Part(0, 4);
  quantized.payload.type = wire::Payload::Quantized;
  quantized.payload.norm = 1.0f;
  quantized.payload.levels = 2;
  quantized.payload.packed_levels = levels;
  quantized.payload.packed_signs = signs;
  refused(Read(4, quantized), "level above 2");
  quantized.payload.norm = 2.0f;
  refused(Read(4, quantized), "norm 1");
  ModelStepPart signs_form = Part(0, 8);
  signs_form.payload.type = wire::Payload::Signs;
  signs_form.payload.packed_signs = signs;
  refused(Read(8, signs_form), "is not dense, sparse or quantized");
  // A union whose type is set and whose table is absent (found by the wire
  // fuzzer: it read the absent table).
  for (const wire::Payload type : {wire::Payload::DenseF32, wire::Payload::SparseF32, wire::Payload::Quantized}) {
    CAPTURE(static_cast<int>(type));
    flatbuffers::FlatBufferBuilder fbb;
    wire::RoundStartBuilder start(fbb);
    start.add_form(wire::ModelForm::Step);
    start.add_step_type(type);
    start.add_step_size(1.0);
    start.add_model_version(3);
    const auto body = start.Finish();
    fbb.Finish(wire::CreateEnvelope(fbb, kProtocolVersion, 7, wire::Body::RoundStart, body.Union()),
               wire::EnvelopeIdentifier());
    std::vector<uint64_t> storage((fbb.GetSize() + 7) / 8);
    std::memcpy(storage.data(), fbb.GetBufferPointer(), fbb.GetSize());
    const wire::Envelope* e = nullptr;
    REQUIRE(ReadEnvelope({reinterpret_cast<const uint8_t*>(storage.data()), fbb.GetSize()}, &e).ok());
    ModelStepPart part;
    const Status status = ReadRoundStartStep(*e->body_as_RoundStart(), 10, &part);
    REQUIRE_FALSE(status.ok());
    CHECK(std::string(status.message()).find("has no payload") != std::string::npos);
  }
}

}  // namespace
}  // namespace edgefl::codec

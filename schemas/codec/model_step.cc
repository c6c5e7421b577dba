#include "schemas/codec/model_step.h"

#include <cmath>

#include "schemas/codec/bit_pack.h"
#include "schemas/codec/wire_building.h"

namespace edgefl::codec {
namespace {

Status Malformed(const char* format, auto... args) {
  return Status::Error(StatusCode::kMalformed, format, args...);
}

bool AllFinite(std::span<const float> values) {
  bool finite = true;
  for (float v : values) finite &= std::isfinite(v);
  return finite;
}

// Field j of `bits` bits, packed LSB first (PackFields' layout).
uint32_t FieldAt(std::span<const uint8_t> packed, unsigned bits, size_t j) {
  const size_t first_bit = j * bits;
  const size_t byte = first_bit / 8;
  uint32_t window = 0;
  for (size_t b = 0; b < 3 && byte + b < packed.size(); ++b) window |= uint32_t{packed[byte + b]} << (8 * b);
  return (window >> (first_bit % 8)) & ((uint32_t{1} << bits) - 1);
}

constexpr uint32_t kMaxStepLevels = 0xFFFF;  // Quantized's fields are 16 bits at most

Status ReadPayload(const wire::RoundStart& start, uint32_t length, PayloadView* out) {
  switch (start.step_type()) {
    case wire::Payload::DenseF32: {
      const auto values = AsSpan(start.step_as_DenseF32()->values());
      if (values.size() != length) {
        return Malformed("dense step part holds %zu values for %u coordinates", values.size(), length);
      }
      if (!AllFinite(values)) return Malformed("dense step part has a non-finite value");
      *out = PayloadView{};
      out->type = wire::Payload::DenseF32;
      out->values = values;
      return Status::Ok();
    }
    case wire::Payload::SparseF32: {
      const auto* sparse = start.step_as_SparseF32();
      const auto indices = AsSpan(sparse->indices());
      const auto values = AsSpan(sparse->values());
      if (indices.size() != values.size() || indices.size() > length) {
        return Malformed("sparse step part holds %zu indices and %zu values for %u coordinates", indices.size(),
                         values.size(), length);
      }
      for (size_t k = 0; k < indices.size(); ++k) {
        if (indices[k] >= length || (k > 0 && indices[k] <= indices[k - 1])) {
          return Malformed("sparse step part index %u at %zu is not increasing inside the part's %u", indices[k], k,
                           length);
        }
      }
      if (!AllFinite(values)) return Malformed("sparse step part has a non-finite value");
      *out = PayloadView{};
      out->type = wire::Payload::SparseF32;
      out->values = values;
      out->indices = indices;
      return Status::Ok();
    }
    case wire::Payload::Quantized: {
      const auto* q = start.step_as_Quantized();
      const uint32_t levels = q->levels();
      if (levels < 1 || levels > kMaxStepLevels || q->level_bits() != BitsFor(levels) || q->norm() != 1.0f) {
        return Malformed("quantized step part has %u levels in %u bits and norm %g: expected 1 to %u levels in "
                         "BitsFor(levels) bits, norm 1", levels, q->level_bits(), q->norm(), kMaxStepLevels);
      }
      const auto packed_levels = AsSpan(q->packed_levels());
      const auto packed_signs = AsSpan(q->packed_signs());
      const unsigned bits = q->level_bits();
      if (packed_levels.size() != PackedFieldBytes(length, bits) || packed_signs.size() != PackedSignBytes(length)) {
        return Malformed("quantized step part has %zu level bytes and %zu sign bytes for %u coordinates",
                         packed_levels.size(), packed_signs.size(), length);
      }
      for (uint32_t j = 0; j < length; ++j) {
        if (FieldAt(packed_levels, bits, j) > levels) return Malformed("quantized step part level above %u", levels);
      }
      *out = PayloadView{};
      out->type = wire::Payload::Quantized;
      out->norm = 1.0f;
      out->levels = levels;
      out->packed_levels = packed_levels;
      out->packed_signs = packed_signs;
      return Status::Ok();
    }
    case wire::Payload::NONE:
    case wire::Payload::SeededSparseF32:
    case wire::Payload::Natural:
    case wire::Payload::Signs:
      break;
  }
  return Malformed("step part payload type %u is not dense, sparse or quantized",
                   static_cast<unsigned>(start.step_type()));
}

}  // namespace

void EncodeRoundStartStep(flatbuffers::FlatBufferBuilder& fbb, uint32_t round, const ModelStepPart& part) {
  fbb.Clear();
  const auto step = EncodePayload(fbb, part.payload);
  wire::RoundStartBuilder b(fbb);
  b.add_form(wire::ModelForm::Step);
  b.add_step_type(part.payload.type);
  b.add_step(step);
  b.add_step_size(part.step_size);
  b.add_model_hash(part.model_hash);
  b.add_model_offset(part.offset);
  b.add_model_version(part.version);
  FinishEnvelope(fbb, round, wire::Body::RoundStart, b.Finish().Union());
}

Status ReadRoundStartStep(const wire::RoundStart& start, uint32_t dimension, ModelStepPart* part) {
  if (start.form() != wire::ModelForm::Step) return Malformed("round start is not in step form");
  const uint32_t offset = start.model_offset();
  if (offset >= dimension || offset % kRoundStartPartValues != 0) {
    return Malformed("step part at offset %u: expected a multiple of %u inside the model's %u", offset,
                     kRoundStartPartValues, dimension);
  }
  if (start.model_version() == 0) return Malformed("step part names model version 0, which no step makes");
  if (!std::isfinite(start.step_size())) return Malformed("step part has a non-finite step size");
  if (start.model() != nullptr || start.control() != nullptr) {
    return Malformed("step part also carries model or control values");
  }
  ModelStepPart read;
  read.version = start.model_version();
  read.offset = offset;
  read.length = PartLength(dimension, offset);
  read.step_size = start.step_size();
  read.model_hash = start.model_hash();
  EDGEFL_RETURN_IF_ERROR(ReadPayload(start, read.length, &read.payload));
  *part = read;
  return Status::Ok();
}

void ApplyModelStep(const ModelStepPart& part, std::span<float> model) {
  const double s = part.step_size;
  float* x = model.data() + part.offset;
  const auto move = [&](uint32_t j, double u) { x[j] = static_cast<float>(static_cast<double>(x[j]) - s * u); };
  const PayloadView& p = part.payload;
  switch (p.type) {
    case wire::Payload::DenseF32:
      for (uint32_t j = 0; j < part.length; ++j) move(j, p.values[j]);
      return;
    case wire::Payload::SparseF32:
      for (size_t k = 0; k < p.indices.size(); ++k) move(p.indices[k], p.values[k]);
      return;
    case wire::Payload::Quantized: {
      // As the sign vote computes its mean: count times the inverse of the
      // total (coordinator/sign_vote_aggregator.cc).
      const double inverse = 1.0 / static_cast<double>(p.levels);
      const unsigned bits = BitsFor(p.levels);
      for (uint32_t j = 0; j < part.length; ++j) {
        const uint32_t level = FieldAt(p.packed_levels, bits, j);
        if (level == 0) continue;
        const double u = static_cast<double>(level) * inverse;
        move(j, SignBit(p.packed_signs, j) ? -u : u);
      }
      return;
    }
    case wire::Payload::NONE:
    case wire::Payload::SeededSparseF32:
    case wire::Payload::Natural:
    case wire::Payload::Signs:
      return;  // not a step's form (ReadRoundStartStep refuses them)
  }
}

}  // namespace edgefl::codec

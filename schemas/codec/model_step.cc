#include "schemas/codec/model_step.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

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

constexpr uint32_t kBlock = 512;  // levels unpacked at a time; a multiple of 8, so blocks start on whole bytes

// Whether every one of `count` fields of `bits` bits is at most `most`.
bool LevelsAtMost(std::span<const uint8_t> packed, unsigned bits, uint32_t count, uint32_t most) {
  uint16_t levels[kBlock];
  for (uint32_t start = 0; start < count; start += kBlock) {
    const uint32_t n = std::min(kBlock, count - start);
    UnpackFields(packed.subspan(size_t{start} * bits / 8, PackedFieldBytes(n, bits)), bits, std::span<uint16_t>(levels, n));
    uint16_t largest = 0;
    for (uint32_t i = 0; i < n; ++i) largest = std::max(largest, levels[i]);
    if (largest > most) return false;
  }
  return true;
}

constexpr uint32_t kMaxStepLevels = 0xFFFF;  // Quantized's fields are 16 bits at most

Status ReadPayload(const wire::RoundStart& start, uint32_t length, PayloadView* out) {
  // A union's type may be set with its table absent: nothing to read then.
  if (start.step() == nullptr) {
    return Malformed("step part of payload type %u has no payload", static_cast<unsigned>(start.step_type()));
  }
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
      if ((uint32_t{1} << bits) - 1 > levels && !LevelsAtMost(packed_levels, bits, length, levels)) {
        return Malformed("quantized step part level above %u", levels);
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
    case wire::Payload::ExactPartial:
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

size_t StepPartBytes(uint32_t dimension, uint32_t offset, wire::Payload type, uint32_t levels, uint32_t kept) {
  const uint32_t length = PartLength(dimension, offset);
  // As UpdateMessageBytes: each array cut to at most 15 elements of the same
  // residue mod 8 (the largest alignment here is 8, so the cut elements
  // shift nothing's padding), their bytes added back.
  size_t cut_bytes = 0;
  const auto cut = [&cut_bytes](size_t n, size_t element_bytes) {
    const size_t kept_n = n < 16 ? n : 8 + n % 8;
    cut_bytes += (n - kept_n) * element_bytes;
    return kept_n;
  };
  std::vector<float> values;
  std::vector<uint32_t> indices;
  std::vector<uint8_t> packed_levels, packed_signs;
  ModelStepPart part;
  part.version = 1;
  part.offset = offset;
  part.length = length;
  part.step_size = 1.0;  // fields away from their defaults, as a real step's are
  part.model_hash = 1;
  part.payload.type = type;
  switch (type) {
    case wire::Payload::DenseF32:
      values.resize(cut(length, sizeof(float)));
      break;
    case wire::Payload::SparseF32:
      values.resize(cut(std::min(kept, length), sizeof(float)));
      indices.resize(cut(std::min(kept, length), sizeof(uint32_t)));
      break;
    case wire::Payload::Quantized:
      packed_levels.resize(cut(PackedFieldBytes(length, BitsFor(levels)), 1));
      packed_signs.resize(cut(PackedSignBytes(length), 1));
      part.payload.norm = 1.0f;
      part.payload.levels = levels;
      break;
    case wire::Payload::NONE:
    case wire::Payload::ExactPartial:
    case wire::Payload::SeededSparseF32:
    case wire::Payload::Natural:
    case wire::Payload::Signs:
      return 0;
  }
  part.payload.values = values;
  part.payload.indices = indices;
  part.payload.packed_levels = packed_levels;
  part.payload.packed_signs = packed_signs;
  flatbuffers::FlatBufferBuilder fbb(1024);
  EncodeRoundStartStep(fbb, 1, part);
  return fbb.GetSize() + cut_bytes;
}

uint64_t ReplicaHash(std::span<const float> model) {
  constexpr uint64_t kBasis = 0xcbf29ce484222325ull, kPrime = 0x100000001b3ull;
  uint64_t lanes[8] = {kBasis, kBasis, kBasis, kBasis, kBasis, kBasis, kBasis, kBasis};
  const size_t whole = model.size() / 8 * 8;
  for (size_t j = 0; j < whole; j += 8) {
    for (size_t k = 0; k < 8; ++k) lanes[k] = (lanes[k] ^ std::bit_cast<uint32_t>(model[j + k])) * kPrime;
  }
  for (size_t j = whole; j < model.size(); ++j) {
    lanes[j - whole] = (lanes[j - whole] ^ std::bit_cast<uint32_t>(model[j])) * kPrime;
  }
  uint64_t hash = kBasis;
  for (uint64_t lane : lanes) {
    for (int b = 0; b < 8; ++b) {
      hash = (hash ^ (lane & 0xFFu)) * kPrime;
      lane >>= 8;
    }
  }
  return hash;
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
      // total (coordinator/sign_vote_aggregator.cc). A level of 0 is +0,
      // whatever its sign bit, so x - s u leaves x as it is (-0 too).
      // Levels are unpacked a block at a time into the stack.
      const double inverse = 1.0 / static_cast<double>(p.levels);
      const unsigned bits = BitsFor(p.levels);
      uint16_t levels[kBlock];
      for (uint32_t start = 0; start < part.length; start += kBlock) {
        const uint32_t count = std::min(kBlock, part.length - start);
        UnpackFields(p.packed_levels.subspan(size_t{start} * bits / 8, PackedFieldBytes(count, bits)), bits,
                     std::span<uint16_t>(levels, count));
        const uint8_t* signs = p.packed_signs.data() + start / 8;
        for (uint32_t i = 0; i < count; ++i) {
          const double magnitude = static_cast<double>(levels[i]) * inverse;
          const bool negative = ((signs[i >> 3] >> (i & 7)) & 1u) != 0 && levels[i] != 0;
          move(start + i, negative ? -magnitude : magnitude);
        }
      }
      return;
    }
    case wire::Payload::NONE:
    case wire::Payload::ExactPartial:
    case wire::Payload::SeededSparseF32:
    case wire::Payload::Natural:
    case wire::Payload::Signs:
      return;  // not a step's form (ReadRoundStartStep refuses them)
  }
}

}  // namespace edgefl::codec

// Message sizes (wire.h): the exact size of every Update and RoundStart the
// encoders write, and the largest a receiver accepts, for a compressor and a
// dimension; the byte accounting of docs/protocol.md 1 and 8.
#include <algorithm>
#include <vector>

#include "schemas/codec/bit_pack.h"
#include "schemas/codec/wire.h"

namespace edgefl::codec {

using flatbuffers::FlatBufferBuilder;

size_t UpdateMessageBytes(const CompressorSpec& compressor, uint32_t dimension, uint32_t kept, bool control_delta) {
  // Encodes one update of that shape, with each array cut to a length of
  // the same residue mod 8 (at most 15 elements): the largest alignment in
  // an Update is 8, so 8 more elements of an array shift everything after
  // them by a multiple of 8 and change no padding, and the cut elements add
  // back exactly their bytes. So a d = 1e8 size costs no memory.
  size_t cut_bytes = 0;
  const auto cut = [&cut_bytes](size_t length, size_t element_bytes) {
    const size_t kept_length = length < 16 ? length : 8 + length % 8;
    cut_bytes += (length - kept_length) * element_bytes;
    return kept_length;
  };
  const size_t d = dimension;
  std::vector<float> values;
  std::vector<uint32_t> indices;
  std::vector<uint8_t> packed_levels, packed_signs, codes;
  PayloadView p;
  p.type = PayloadTypeOf(compressor.kind);
  switch (compressor.kind) {
    case wire::CompressorKind::Identity:
      values.resize(cut(d, sizeof(float)));
      break;
    case wire::CompressorKind::RandK:
    case wire::CompressorKind::Bernoulli:
      values.resize(cut(kept, sizeof(float)));
      break;
    case wire::CompressorKind::TopK:
      values.resize(cut(kept, sizeof(float)));
      indices.resize(cut(kept, sizeof(uint32_t)));
      break;
    case wire::CompressorKind::Qsgd:
      p.levels = compressor.levels;
      packed_levels.resize(cut(PackedFieldBytes(d, BitsFor(compressor.levels)), 1));
      packed_signs.resize(cut(PackedSignBytes(d), 1));
      break;
    case wire::CompressorKind::Natural:
      codes.resize(cut(d, 1));
      break;
    case wire::CompressorKind::Sign:
    case wire::CompressorKind::ScaledSign:
    case wire::CompressorKind::EfSign:
      packed_signs.resize(cut(PackedSignBytes(d), 1));
      break;
  }
  p.values = values;
  p.indices = indices;
  p.packed_levels = packed_levels;
  p.packed_signs = packed_signs;
  p.codes = codes;
  const std::vector<float> control(control_delta ? cut(d, sizeof(float)) : 0);
  FlatBufferBuilder fbb(512);
  EncodeUpdate(fbb, 1, {.control_delta = control}, p);
  return fbb.GetSize() + cut_bytes;
}

size_t MaxPayloadBytes(const CompressorSpec& compressor, uint32_t dimension) {
  const size_t d = dimension;
  switch (compressor.kind) {
    case wire::CompressorKind::Identity:
    case wire::CompressorKind::Bernoulli:  // at worst every coordinate is kept
      return 4 * d;
    case wire::CompressorKind::RandK:
      return 4 * size_t{compressor.k};
    case wire::CompressorKind::TopK:
      return 8 * size_t{compressor.k};
    case wire::CompressorKind::Qsgd:
      return (d * (BitsFor(compressor.levels) + 1) + 7) / 8 + 8;
    case wire::CompressorKind::Natural:
      return d;
    case wire::CompressorKind::Sign:
    case wire::CompressorKind::ScaledSign:
    case wire::CompressorKind::EfSign:
      return (d + 7) / 8;
  }
  return 4 * d;
}

size_t UpdateSizeLimit(const CompressorSpec& compressor, uint32_t dimension, bool control_delta) {
  const size_t control = control_delta ? 4 * size_t{dimension} + 8 : 0;
  return std::max<size_t>(4096, (MaxPayloadBytes(compressor, dimension) + control + 256 + 7) / 8 * 8);
}

size_t RoundStartBytes(uint32_t dimension, uint32_t round, bool control) {
  // Parts of equal length and offsets of one kind (0, or not) have one size:
  // encode the first part, one later full part and the last part.
  const uint32_t parts = (dimension + kRoundStartPartValues - 1) / kRoundStartPartValues;
  const std::vector<float> values(std::min(dimension, kRoundStartPartValues));
  FlatBufferBuilder fbb(1024);
  const auto part_bytes = [&](uint32_t offset) {
    const uint32_t count = std::min(kRoundStartPartValues, dimension - offset);
    const std::span<const float> part = std::span<const float>(values).first(count);
    EncodeRoundStartFull(fbb, round, part, offset, control ? part : std::span<const float>());
    return size_t{fbb.GetSize()};
  };
  if (parts == 1) return part_bytes(0);
  const uint32_t last = (parts - 1) * kRoundStartPartValues;
  return part_bytes(0) + size_t{parts - 2} * part_bytes(kRoundStartPartValues) + part_bytes(last);
}

}  // namespace edgefl::codec
